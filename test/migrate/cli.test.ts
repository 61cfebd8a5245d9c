/**
 * `palisade migrate` end to end: it proves before it writes, writes atomically, never throws on bad input,
 * and gives back JSON for JSON.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../cli/run.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-migrate-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Every file under a folder (relative paths, sorted) with its bytes. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`
      if (e.isDirectory()) await walk(p)
      else out[p] = (await readFile(join(root, p))).toString('base64')
    }
  }
  await walk('')
  return out
}

async function put(files: Record<string, string>, root = dir): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(root, name, '..'), { recursive: true })
    await writeFile(join(root, name), text)
  }
}

const LEGACY_POLICY = `apiVersion: extensions/v1beta1
kind: NetworkPolicy
metadata:
  name: allow-http
  namespace: x
spec:
  podSelector: {}
  ingress:
  - ports:
    - port: http
  policyTypes:
  - Ingress
`

interface BadInput {
  readonly name: string
  readonly text: string | Uint8Array
  readonly code: string
}

const deepYaml = (): string => {
  let s =
    'apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec:\n  podSelector: {}\n  x:\n'
  for (let i = 0; i < 3000; i++) s += `${' '.repeat(i + 2)}- \n`
  return s
}

const badInputs: BadInput[] = [
  {
    // (whichever code the loader gives it: yaml.alias-limit so far)
    name: 'an undefined alias',
    text: LEGACY_POLICY.replace('port: http', 'port: *a'),
    code: '',
  },
  {
    name: 'YAML that does not parse',
    text: `${LEGACY_POLICY}---\nkind: Pod\nmetadata: {name: [b\n`,
    code: 'yaml.syntax',
  },
  {
    name: 'an alias bomb',
    text: `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n---\n${LEGACY_POLICY}`,
    code: 'yaml.alias-limit',
  },
  { name: 'YAML nested deeper than the depth limit', text: deepYaml(), code: 'load.too-deep' },
  { name: 'binary junk', text: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1]), code: 'load.binary' },
]

describe('palisade migrate on input it cannot read', () => {
  it.each(badInputs)('$name: a diagnostic, exit 2, nothing printed or written', async ({ text, code }) => {
    await put({ 'in/p.yaml': '' })
    await writeFile(join(dir, 'in/p.yaml'), text)
    const before = await snapshot(dir)
    const printed = await runCli(['migrate', join(dir, 'in/p.yaml')])
    expect(printed.code).toBe(2)
    expect(printed.stdout).toBe('')
    expect(printed.stderr).toMatch(/: error: .*\[(yaml|load)\.[a-z-]+\]/)
    expect(printed.stderr).toContain(`[${code}`)
    expect(printed.stderr).not.toContain('internal error')
    const written = await runCli(['migrate', join(dir, 'in'), '-o', join(dir, 'in')])
    expect(written.code).toBe(2)
    expect(await snapshot(dir)).toEqual(before)
  })

  it('a document that is read but is no object (no kind) is not an error: it stays as it is', async () => {
    const text = `${LEGACY_POLICY}---\nreplicas: 3 # a values file, not a manifest\n`
    await put({ 'p.yaml': text })
    const r = await runCli(['migrate', join(dir, 'p.yaml')])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(text.replace('extensions/v1beta1', 'networking.k8s.io/v1'))
  })

  it('a legacy policy in JSON nested 190 deep (inside the depth limit) is migrated (as JSON)', async () => {
    const deep = `${'['.repeat(190)}${']'.repeat(190)}`
    const text = `{"apiVersion":"extensions/v1beta1","kind":"NetworkPolicy","metadata":{"name":"p","namespace":"x","annotations":{"deep":${deep}}},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}`
    await put({ 'p.json': text })
    const r = await runCli(['migrate', join(dir, 'p.json'), '-o', join(dir, 'out')])
    expect(r.stderr).not.toContain('internal error')
    expect(r.code).toBe(0)
    expect(await readFile(join(dir, 'out/p.json'), 'utf8')).toBe(
      text.replace('extensions/v1beta1', 'networking.k8s.io/v1'),
    )
  })
})

describe('palisade migrate proves before it writes', () => {
  it('a failed proof with -o on the input folder leaves every file as it was, and prints nothing', async () => {
    await put({
      // An invalid namespace name: the generated policy in it would be rejected, a new error.
      'ns.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Bad_NS\n  annotations:\n    net.beta.kubernetes.io/network-policy: '{"ingress":{"isolation":"DefaultDeny"}}'\n`,
      'np.yaml': LEGACY_POLICY,
    })
    const before = await snapshot(dir)
    const r = await runCli(['migrate', dir, '-o', dir])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/matrix CHANGED|new error/)
    expect(r.stderr).toContain('nothing written')
    expect(await snapshot(dir)).toEqual(before)
    const printed = await runCli(['migrate', dir])
    expect(printed.code).toBe(1)
    expect(printed.stdout).toBe('')
  })

  it('containerPort 0120 (80 for kubectl) stays 0120: only the policy file is rewritten, the proof holds', async () => {
    const pod = `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: x
  labels: {app: web}
spec:
  containers:
  - name: web
    image: nginx
    ports:
    - name: http
      containerPort: 0120
status:
  podIP: 10.0.0.2
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: x}
spec: {containers: [{name: c, image: busybox}]}
status: {podIP: 10.0.0.3}
`
    await put({ 'pod.yaml': pod, 'np.yaml': LEGACY_POLICY })
    const podBefore = await stat(join(dir, 'pod.yaml'))
    const r = await runCli(['migrate', dir, '-o', dir])
    expect(r.stderr).toMatch(/matrix unchanged \(2 pods x \d+ ports\)/)
    expect(r.code).toBe(0)
    expect(await readFile(join(dir, 'pod.yaml'), 'utf8')).toBe(pod)
    expect((await stat(join(dir, 'pod.yaml'))).mtimeMs).toBe(podBefore.mtimeMs)
    expect(await readFile(join(dir, 'np.yaml'), 'utf8')).toBe(
      LEGACY_POLICY.replace('extensions/v1beta1', 'networking.k8s.io/v1'),
    )
    expect(Object.keys(await snapshot(dir)).sort()).toEqual(['np.yaml', 'pod.yaml'])
  })
})

describe('palisade migrate -o DIR', () => {
  it('keeps the folder layout, copies unchanged files byte for byte, puts a new JSON file next to its origin', async () => {
    const namespace = JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'x',
          annotations: { 'net.beta.kubernetes.io/network-policy': '{"ingress":{"isolation":"DefaultDeny"}}' },
        },
      },
      null,
      4,
    )
    const unchanged = '# not a policy\napiVersion: v1\nkind: Namespace\nmetadata: {name: y}\n'
    await put({ 'sub/np.yaml': LEGACY_POLICY, 'ns.json': `${namespace}\n`, 'y.yaml': unchanged })
    const r = await runCli(['migrate', join(dir, 'missing.yaml'), '-f', dir, '-o', join(dir, 'out')])
    expect(r.code).toBe(2) // a missing input is an error: nothing is written
    expect((await snapshot(dir))['out/y.yaml']).toBeUndefined()
    const ok = await runCli(['migrate', dir, '-o', join(dir, 'out')])
    expect(ok.code).toBe(0)
    const out = await snapshot(join(dir, 'out'))
    expect(Object.keys(out).sort()).toEqual([
      'ns.default-deny-ingress.json',
      'ns.json',
      'sub/np.yaml',
      'y.yaml',
    ])
    expect(await readFile(join(dir, 'out/y.yaml'), 'utf8')).toBe(unchanged)
    const ns = JSON.parse(await readFile(join(dir, 'out/ns.json'), 'utf8')) as { metadata: unknown }
    expect(ns.metadata).toEqual({ name: 'x' })
    const deny = await readFile(join(dir, 'out/ns.default-deny-ingress.json'), 'utf8')
    expect(JSON.parse(deny)).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny-ingress', namespace: 'x' },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    })
    expect(deny).toContain('\n    "kind"') // the input's four-space indentation
  })

  it('a target it cannot write: exit 2, no temporary file left, no file written', async () => {
    await put({ 'in/a.yaml': LEGACY_POLICY, 'in/b.yaml': LEGACY_POLICY.replace('allow-http', 'other') })
    await mkdir(join(dir, 'out/b.yaml'), { recursive: true }) // a folder where a file must go
    const r = await runCli(['migrate', join(dir, 'in'), '-o', join(dir, 'out')])
    expect(r.code).toBe(2)
    expect(r.stderr).not.toContain('internal error')
    expect(await readdir(join(dir, 'out'))).toEqual(['b.yaml'])
  })
})
