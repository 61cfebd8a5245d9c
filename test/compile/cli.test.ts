/** `palisade compile`, `apply` and `cleanup` end to end on the examples (apply inside a throwaway netns). */
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execCommand } from '../../src/backends/index.js'
import { runCli as run } from '../cli/run.js'
import { createNetns, deleteNetns, kernelSkipReason } from './netns.js'

const EXAMPLE = new URL('../../examples/seed-001-testing', import.meta.url).pathname
const BIN = new URL('../../bin/palisade.js', import.meta.url).pathname
const built = existsSync(new URL('../../dist/src/cli/main.js', import.meta.url))

describe('palisade compile', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pz-compile-'))
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('prints the nftables ruleset of one node', async () => {
    const r = await run(['compile', EXAMPLE, '--node', 'node-1'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('table inet palisade {')
    expect(r.stdout).toContain('hook forward priority filter;')
  })

  it('refuses an unknown backend with exit 2', async () => {
    const r = await run(['compile', EXAMPLE, '--node', 'node-1', '--backend', 'ebpf'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--backend must be')
  })

  it.each([
    {
      args: ['--pod-cidr', '10.240.1.0/24'],
      code: 0,
      out: /ip saddr @pod_ranges_v4 ip saddr != @local_pods_v4 counter drop/,
    },
    {
      args: ['--pod-cidr', '10.240.1.0/24', '--unknown-pods', 'allow'],
      code: 0,
      out: /Unknown pods: allowed/,
    },
    {
      args: ['--pod-cidr', '10.240.1.0/24', '--pod-cidr', '10.9.0.0/16'],
      code: 2,
      err: /no more than one CIDR for each IP family/,
    },
    { args: ['--pod-cidr', '10.240.1.0'], code: 2, err: /--pod-cidr: .*must be valid CIDR/ },
    { args: ['--unknown-pods', 'maybe'], code: 2, err: /--unknown-pods must be drop or allow/ },
  ])('--pod-cidr / --unknown-pods $args', async ({ args, code, out, err }) => {
    const r = await run(['compile', EXAMPLE, '--node', 'node-1', ...args])
    expect(r.code).toBe(code)
    if (out) expect(r.stdout).toMatch(out)
    if (err) expect(r.stderr).toMatch(err)
  })

  it('refuses --pod-cidr with --all-nodes (one node has those ranges)', async () => {
    const r = await run(['compile', EXAMPLE, '--all-nodes', join(dir, 'x'), '--pod-cidr', '10.0.0.0/16'])
    expect(r.code).toBe(2)
  })

  it('needs --node or --all-nodes', async () => {
    const r = await run(['compile', EXAMPLE])
    expect(r.code).toBe(2)
  })

  it('rejects a malformed --pod-interface', async () => {
    const r = await run(['compile', EXAMPLE, '--node', 'node-1', '--pod-interface', 'db=v-db'])
    expect(r.code).toBe(2)
  })

  it('writes one folder per node with --all-nodes', async () => {
    const r = await run(['compile', EXAMPLE, '--all-nodes', join(dir, 'all')])
    expect(r.code).toBe(0)
    const nodes = (await readdir(join(dir, 'all'))).sort()
    expect(nodes.length).toBeGreaterThanOrEqual(2)
    for (const n of nodes) {
      expect(await readFile(join(dir, 'all', n, 'palisade.nft'), 'utf8')).toContain(`for node ${n}`)
    }
  })

  it('writes DIR/palisade.nft with -o', async () => {
    const r = await run(['compile', EXAMPLE, '--node', 'node-2', '-o', join(dir, 'one')])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/node-2: \d+ rules/)
    expect(await readFile(join(dir, 'one', 'palisade.nft'), 'utf8')).toContain('table inet palisade {')
  })
})

const skip = await kernelSkipReason()

describe.skipIf(skip !== undefined)(`palisade apply and cleanup${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let ns = ''
  let state = ''
  beforeAll(async () => {
    ns = await createNetns('cli')
    state = await mkdtemp(join(tmpdir(), 'pz-state-'))
  })
  afterAll(async () => {
    if (ns) await deleteNetns(ns)
    if (state) await rm(state, { recursive: true, force: true })
  })

  it('applies, skips an unchanged ruleset, and cleans up', async () => {
    const args = ['apply', EXAMPLE, '--node', 'node-1', '--netns', ns, '--state-dir', state]
    const first = await run(args)
    expect(first.stderr).not.toContain('error')
    expect(first.code).toBe(0)
    expect(first.stdout).toMatch(/^applied nftables ruleset for node-1/)
    const second = await run(args)
    expect(second.stdout).toMatch(/^unchanged/)
    const listed = await execCommand('nft', ['list', 'tables'], { netns: ns })
    expect(listed.stdout).toContain('table inet palisade')
    const clean = await run(['cleanup', '--netns', ns, '--backend', 'nftables', '--state-dir', state])
    expect(clean.code).toBe(0)
    expect((await execCommand('nft', ['list', 'tables'], { netns: ns })).stdout).not.toContain('palisade')
  })

  it('apply --revoke-established deletes the established flows the loaded rules refuse, and only those', async () => {
    // seed-001-testing on node-1: myapp (10.244.1.10) admits nginx on 80/TCP and coredns, not debug.
    const flows = [
      ['10.244.2.20', 80], // debug -> myapp: refused
      ['10.244.2.10', 81], // nginx -> myapp on 81: refused
      ['10.244.2.10', 80], // nginx -> myapp on 80: admitted
      ['10.244.1.2', 53], // coredns -> myapp on 53: admitted
    ] as const
    for (const [src, port] of flows) {
      const r = await execCommand(
        'conntrack',
        [
          '-I',
          '-p',
          'tcp',
          '-s',
          src,
          '-d',
          '10.244.1.10',
          '--sport',
          '40000',
          '--dport',
          String(port),
        ].concat(['--state', 'ESTABLISHED', '-t', '600', '-u', 'ASSURED']),
        { netns: ns },
      )
      expect(r.code, r.stderr).toBe(0)
    }
    const applied = await run([
      'apply',
      EXAMPLE,
      '--node',
      'node-1',
      '--netns',
      ns,
      '--state-dir',
      state,
      '--revoke-established',
    ])
    expect(applied.stderr).toBe('')
    expect(applied.code).toBe(0)
    expect(applied.stdout).toMatch(/\nrevoked 2 established flows the rules refuse \(of 4 tracked\)\n$/)
    const left = (await execCommand('conntrack', ['-L'], { netns: ns })).stdout
    expect(left).toContain('src=10.244.2.10 dst=10.244.1.10 sport=40000 dport=80 ')
    expect(left).toContain('src=10.244.1.2 dst=10.244.1.10 sport=40000 dport=53 ')
    expect(left).not.toContain('src=10.244.2.20')
    expect(left).not.toContain('dport=81 ')
    const table = (await execCommand('nft', ['list', 'chain', 'inet', 'palisade', 'egress'], { netns: ns }))
      .stdout
    expect(table).toContain('picked up mid-stream')
    await execCommand('conntrack', ['-F'], { netns: ns })
    expect((await run(['cleanup', '--netns', ns, '--backend', 'nftables', '--state-dir', state])).code).toBe(
      0,
    )
  })

  it('cleanup with the iptables backend removes what apply recorded and names what it leaves', async () => {
    expect((await execCommand('iptables-nft', ['-N', 'PAL-FOO'], { netns: ns })).code).toBe(0)
    const applied = await run([
      'apply',
      EXAMPLE,
      '--node',
      'node-1',
      '--backend',
      'iptables',
      '--netns',
      ns,
      '--state-dir',
      state,
    ])
    expect(applied.code).toBe(0)
    const clean = await run(['cleanup', '--netns', ns, '--backend', 'iptables', '--state-dir', state])
    expect(clean.code).toBe(0)
    expect(clean.stderr).toMatch(
      /left in place \(named like ours, but no palisade record lists them\): PAL-FOO\n/,
    )
    const saved = (await execCommand('iptables-nft-save', ['-t', 'filter'], { netns: ns })).stdout
    expect(saved).toContain(':PAL-FOO ')
    expect(saved).not.toContain('PAL-FORWARD')
  })

  it.skipIf(!built)(
    'cleanup --netns finds the record of an apply that ran inside the namespace (ip netns exec)',
    async () => {
      const inside = await execCommand(
        'node',
        [BIN, 'apply', EXAMPLE, '--node', 'node-1', '--backend', 'iptables', '--state-dir', state],
        { netns: ns, timeoutMs: 30_000 },
      )
      expect(inside.stderr).toBe('')
      expect(inside.code).toBe(0)
      const clean = await run(['cleanup', '--netns', ns, '--backend', 'iptables', '--state-dir', state])
      expect(clean.code).toBe(0)
      const saved = (await execCommand('iptables-nft-save', ['-t', 'filter'], { netns: ns })).stdout
      expect(saved).not.toContain('PAL-FORWARD')
    },
  )

  it('refuses an invalid netns name', async () => {
    const r = await run(['cleanup', '--netns', '../etc', '--backend', 'nftables'])
    expect(r.code).toBe(2)
  })
})
