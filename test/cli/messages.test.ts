/**
 * Messages a new user meets (issue 11, defect 6): each says what is really wrong, in one line, naming the
 * input; none is a raw exception or the answer to another question.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { runCli } from './run.js'

const fx = (p: string) => `test/cli/fixtures/messages/${p}`
const seed = (p: string) => `examples/${p}`
let emptyDir = ''

beforeAll(async () => {
  emptyDir = await mkdtemp(join(tmpdir(), 'palisade-empty-'))
})
afterAll(async () => {
  await rm(emptyDir, { recursive: true, force: true })
})

describe('what is empty is named', () => {
  it('matrix -n with a namespace the input does not have', async () => {
    const r = await runCli(['matrix', seed('seed-001-testing'), '-n', 'nonexistent'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('no namespace "nonexistent" in the input')
    expect(r.stderr).not.toContain('container port')
  })
  it('an input without any pod', async () => {
    const r = await runCli(['matrix', fx('empty.yaml')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('no pod in the input')
    expect(r.stderr).not.toContain('container port')
  })
  it('an input whose pods are all hostNetwork', async () => {
    const r = await runCli(['matrix', fx('hostnet.yaml')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('every pod of the input (1) uses hostNetwork')
    expect(r.stderr).not.toContain('container port')
  })
  it('matrix -n counts the pods of the whole input, though it keeps only the namespace shown', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-scope-'))
    try {
      const quiet = join(dir, 'quiet.yaml')
      await writeFile(
        quiet,
        `${await readFile(fx('hostnet.yaml'), 'utf8')}---\napiVersion: v1\nkind: Namespace\nmetadata: { name: quiet }\n`,
      )
      const hostOnly = await runCli(['matrix', quiet, '-n', 'quiet'])
      expect(hostOnly.code).toBe(2)
      expect(hostOnly.stderr).toContain('every pod of the input (1) uses hostNetwork')
      const others = join(dir, 'others.yaml')
      await writeFile(
        others,
        [
          'apiVersion: v1\nkind: Namespace\nmetadata: { name: quiet }',
          'apiVersion: v1\nkind: Pod\nmetadata: { name: web, namespace: busy }\nspec: { containers: [{ name: c, image: i, ports: [{ containerPort: 80 }] }] }\nstatus: { phase: Running, podIP: 10.0.0.1 }',
        ].join('\n---\n'),
      )
      const elsewhere = await runCli(['matrix', others, '-n', 'quiet'])
      expect(elsewhere.code).toBe(2)
      expect(elsewhere.stderr).toContain('no pod in namespace "quiet"')
      expect(elsewhere.stderr).not.toContain('no pod in the input')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
  it('an empty folder exits 2 with a message naming it', async () => {
    for (const cmd of ['matrix', 'check', 'lint', 'explain', 'connlist']) {
      const extra = cmd === 'check' ? ['--from', 'a/b', '--to', 'a/c', '--port', '80'] : []
      const r = await runCli([cmd, emptyDir, ...extra])
      expect(r.code, cmd).toBe(2)
      expect(r.stderr, cmd).toContain(`${emptyDir}: error: no manifest (.yaml, .yml, .json) in this folder`)
    }
  })
})

describe('check accepts what users type', () => {
  const check = (from: string, to: string, port: string, ...more: string[]) =>
    runCli(['check', fx('cluster.yaml'), '--from', from, '--to', to, '--port', port, ...more])

  it('--to 8.8.8.8/32 is the address 8.8.8.8', async () => {
    const a = await check('app/client', '8.8.8.8/32', '443')
    const b = await check('app/client', '8.8.8.8', '443')
    expect(a.stderr).toBe('')
    expect(a.code).toBe(b.code)
    expect(a.code).toBe(0)
    expect(a.stdout).toContain('app/client -> 8.8.8.8/32 on 443/TCP: ALLOWED')
  })
  it('a CIDR wider than one address is refused with a clear message', async () => {
    const r = await check('app/client', '10.0.0.0/8', '443')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--to: 10.0.0.0/8 is a range of addresses: give one address')
  })
  it('[2001:db8::1] is an IPv6 address', async () => {
    const r = await check('[2001:db8::1]', 'app/client', '443')
    expect(r.stderr).toBe('')
    // read as 2001:db8::1: app/client has IPv4 only, so no such connection (exit 1), not a bad endpoint (2)
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('no such connection: app/client has no IPv6 address')
  })
  it('an IPv6 address from a pod without IPv6 is no connection, not ALLOWED', async () => {
    const r = await check('app/client', '2001:db8::1', '443')
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('no such connection: app/client has no IPv6 address')
    expect(r.stdout).not.toContain('ALLOWED')
  })
  it('--port http resolves the named port on the destination pod', async () => {
    const web = await check('app/client', 'app/web', 'http')
    expect(web.stderr).toBe('')
    expect(web.code).toBe(0)
    expect(web.stdout).toContain('on 8080/TCP (http)')
    const api = await check('app/client', 'app/api', 'http', '-o', 'json')
    expect(JSON.parse(api.stdout).port).toBe('9090/TCP')
  })
  it('--port with a name the destination does not declare says so', async () => {
    const r = await check('app/client', 'app/web', 'metrics')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(
      'app/web declares no container port named "metrics" (it declares: http 8080/TCP)',
    )
  })
})

describe('options', () => {
  it('a typo in an option is named, with the option meant', async () => {
    const r = await runCli([
      'check',
      seed('seed-001-testing'),
      '--form',
      'a/b',
      '--to',
      'a/c',
      '--port',
      '80',
    ])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("unknown option '--form' (did you mean --from?)")
    expect(r.stderr).not.toContain('required option')
    const apply = await runCli(['apply', seed('seed-001-testing'), '--nod', 'node-1'])
    expect(apply.code).toBe(2)
    expect(apply.stderr).toContain("unknown option '--nod' (did you mean --node?)")
  })
  it('a missing file is one line naming it', async () => {
    const r = await runCli(['matrix', 'examples/nope.yaml'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('examples/nope.yaml: error: no such file or directory [input.not-found]')
    expect(r.stderr).not.toContain('ENOENT')
  })
  it('--validate=bogus is reported by the command that got it', async () => {
    const r = await runCli([
      'check',
      seed('seed-001-testing'),
      '--from',
      'a/b',
      '--to',
      'a/c',
      '--port',
      '80',
      '--validate=bogus',
    ])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^palisade check: --validate must be/)
  })
  it('compile --node X --all-nodes DIR is refused as conflicting', async () => {
    const r = await runCli(['compile', seed('seed-001-testing'), '--node', 'x', '--all-nodes', emptyDir])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--node and --all-nodes cannot be used together')
  })
})

describe('-o yaml wherever -o json is', () => {
  it.each([
    ['check', [seed('seed-001-testing'), '--from', 'testing/nginx', '--to', 'testing/myapp', '--port', '80']],
    ['matrix', [seed('seed-001-testing')]],
    ['explain', [seed('seed-001-testing')]],
    ['lint', [seed('seed-001-testing')]],
    ['connlist', [seed('seed-001-testing')]],
    ['diff', [seed('seed-001-testing'), seed('seed-001-testing')]],
  ])('%s', async (cmd, args) => {
    const json = await runCli([cmd, ...args, '-o', 'json'])
    const yaml = await runCli([cmd, ...args, '-o', 'yaml'])
    expect(yaml.code).toBe(json.code)
    expect(parseYaml(yaml.stdout)).toEqual(JSON.parse(json.stdout))
  })
})

describe('lint', () => {
  it('the summary counts what it printed and says how many are hidden', async () => {
    const r = await runCli(['lint', fx('defaulted-protocol.yaml')])
    const printed = r.stdout.split('\n').filter((l) => / (error|warning|info): /.test(l)).length
    const summary = r.stdout.trimEnd().split('\n').at(-1) ?? ''
    const counted = [...summary.matchAll(/(\d+) (error|warning|info)/g)].reduce((n, m) => n + Number(m[1]), 0)
    expect(counted).toBe(printed)
    const v = await runCli(['lint', fx('defaulted-protocol.yaml'), '-v'])
    expect(v.stdout).toContain('lint.port-protocol-defaulted')
  })
  it('lint.port-protocol-defaulted is a -v note on hand-written policies, shown where UDP is plausible', async () => {
    const r = await runCli(['lint', fx('defaulted-protocol.yaml')])
    expect(r.stdout).not.toContain('lint.port-protocol-defaulted')
    expect(r.stdout).toMatch(/1 hidden \(-v shows it\)/)
    const dns = await runCli(['lint', fx('defaulted-dns.yaml')])
    // Port 53 without protocol: DNS runs over UDP, so the finding is a warning, shown without -v.
    expect(dns.stdout).toMatch(/warning: .*53 .*DNS usually runs over UDP.*\[lint.port-protocol-defaulted\]/)
  })
  it('a rejected object counts once and its "left out" line follows its cause', async () => {
    const r = await runCli(['lint', seed('seed-001-typos')])
    const lines = r.stdout.trimEnd().split('\n')
    const leftOut = lines.findIndex((l) => l.includes('testing/deny-all-traffic was left out'))
    const cause = lines.findIndex((l) => l.includes('unknown field "spec.Ingress"'))
    expect(cause).toBeGreaterThanOrEqual(0)
    expect(leftOut).toBeGreaterThan(cause)
    const errors = lines.filter((l) => / error: /.test(l) && !l.includes('[load.rejected]')).length
    const rejected = lines.filter((l) => l.includes('[load.rejected]')).length
    expect(lines.at(-1)).toContain(`${errors} errors (${rejected} objects left out)`)
  })
  it('a JSON document with a trailing comma is refused, as kubectl refuses it', async () => {
    const r = await runCli(['lint', fx('trailing-comma.json')])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(
      "trailing-comma.json:6:3: error: invalid character '}' looking for beginning of object key string",
    )
  })
})
