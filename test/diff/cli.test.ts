/** `palisade diff`: outputs (golden), exit codes, and the three kinds of old side (paths, git, cluster). */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeApiServer } from '../../harness/fake-apiserver.js'
import { readGitInputs } from '../../src/cli/git-inputs.js'
import { readClusterInputs } from '../../src/cli/kube-inputs.js'
import { diffClusters, hasChanges } from '../../src/diff/index.js'
import { loadCluster } from '../../src/load/index.js'
import { runCli } from '../cli/run.js'
import { allowFromJson, namespaceJson, podJson } from '../fixtures.js'
import { expectGolden } from '../golden.js'

const root = new URL('../../', import.meta.url).pathname
// Paths relative to the repository root, so goldens do not depend on where the checkout lives.
const ex = (p: string) => relative(process.cwd(), join(root, 'examples', p)) || '.'
const kr = (p: string) => ex(`seed-002-kube-router/${p}`)

describe('palisade diff outputs (seed 002: case 1 -> case 2, case 5 added)', () => {
  const args = [
    '--old',
    kr('cluster.yaml'),
    '--old',
    kr('case-1-nsa-internal'),
    '--new',
    kr('cluster.yaml'),
    '--new',
    kr('case-2-nsa-deny'),
    '--new',
    kr('case-5-ingress-cidr'),
  ]
  it.each(['text', 'md', 'json', 'csv', 'sarif'])('-o %s', async (format) => {
    const r = await runCli(['diff', ...args, '-o', format])
    expect(r.code, r.stderr).toBe(1)
    await expectGolden(`diff/seed-002-case1-to-case2-case5.${format}`, r.stdout)
  })
})

describe('palisade diff exit codes', () => {
  it.each([
    { name: 'unchanged exits 0', args: [kr('cluster.yaml'), kr('cluster.yaml')], code: 0 },
    {
      name: 'changed exits 1',
      args: ['--old', kr('cluster.yaml'), '--new', kr('cluster.yaml'), '--new', kr('case-3-nsb-to-6379')],
      code: 1,
    },
    { name: 'a missing path exits 2', args: [kr('cluster.yaml'), 'no/such/dir'], code: 2 },
    { name: 'one side only exits 2', args: [kr('cluster.yaml')], code: 2 },
    {
      name: 'three paths are ambiguous: exit 2',
      args: [kr('cluster.yaml'), kr('cluster.yaml'), kr('cluster.yaml')],
      code: 2,
    },
    { name: 'a bad format exits 2', args: [kr('cluster.yaml'), kr('cluster.yaml'), '-o', 'xml'], code: 2 },
    {
      name: 'a bad port exits 2',
      args: [kr('cluster.yaml'), kr('cluster.yaml'), '--ports', '80/ICMP'],
      code: 2,
    },
  ])('$name', async ({ args, code }) => {
    const r = await runCli(['diff', ...args])
    expect(r.code, r.stderr).toBe(code)
  })

  it('reads the new side from stdin', async () => {
    const text = readFileSync(kr('cluster.yaml'), 'utf8')
    const r = await runCli(['diff', kr('cluster.yaml'), '-'], text)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('reachability unchanged')
  })

  it('--ports limits the comparison to those ports', async () => {
    const r = await runCli([
      'diff',
      '--old',
      kr('cluster.yaml'),
      '--new',
      kr('cluster.yaml'),
      '--new',
      kr('case-3-nsb-to-6379'),
      '--ports',
      '6379/TCP',
      '-o',
      'json',
    ])
    const j = JSON.parse(r.stdout)
    expect(j.connections.length).toBeGreaterThan(0)
    for (const c of j.connections) expect(c.ports).toBe('6379/TCP')
  })
})

describe('palisade diff --git REV:PATH', () => {
  let repo: string
  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'palisade-diff-git-'))
    const git = (...a: string[]) => execFileSync('git', ['-C', repo, ...a], { stdio: 'pipe' })
    git('init', '-q', '-b', 'main')
    git('config', 'user.email', 't@example.invalid')
    git('config', 'user.name', 't')
    mkdirSync(join(repo, 'deploy'))
    writeFileSync(join(repo, 'deploy', 'cluster.yaml'), readFileSync(kr('cluster.yaml')))
    writeFileSync(join(repo, 'deploy', 'policy.yaml'), readFileSync(kr('case-1-nsa-internal/policy.yaml')))
    git('add', '.')
    git('commit', '-q', '-m', 'base')
    writeFileSync(join(repo, 'deploy', 'policy.yaml'), readFileSync(kr('case-2-nsa-deny/policy.yaml')))
  })
  afterAll(() => rmSync(repo, { recursive: true, force: true }))

  it('reads the folder as committed, files named REV:PATH', async () => {
    const read = await readGitInputs('main:deploy/', repo)
    expect(read.diagnostics).toEqual([])
    expect(read.inputs.map((i) => i.file)).toEqual(['main:deploy/cluster.yaml', 'main:deploy/policy.yaml'])
  })

  it('diffs the committed folder against the working tree (the README recipe)', async () => {
    const old = loadCluster((await readGitInputs('main:deploy', repo)).inputs, { validate: 'strict' })
    const now = loadCluster(
      ['cluster.yaml', 'policy.yaml'].map((f) => ({ file: f, text: readFileSync(join(repo, 'deploy', f)) })),
      { validate: 'strict' },
    )
    const d = diffClusters(old.cluster, now.cluster)
    expect(d.connections.map((c) => `${c.change} ${c.from} -> ${c.to}`)).toEqual([
      'removed nsa/redis -> nsa/web',
      'removed nsa/web -> nsa/redis',
    ])
    expect(d.connections[0]?.reasons[0]?.before.allowedBy[0]?.ruleSource?.file).toBe(
      'main:deploy/policy.yaml',
    )
  })

  it('names a bad revision or path as an input error', async () => {
    for (const spec of ['nope:deploy', 'main:missing/', 'no-colon']) {
      const read = await readGitInputs(spec, repo)
      expect(read.inputs).toEqual([])
      expect(read.diagnostics[0]?.severity).toBe('error')
    }
  })

  it('the CLI diffs HEAD of this repository against its checkout: unchanged', async () => {
    const r = await runCli(['diff', '--git', 'HEAD:examples/seed-001-testing', ex('seed-001-testing')])
    expect(r.code, r.stderr).toBe(0)
  })
})

describe('palisade diff --kubeconfig (a live cluster against a folder)', () => {
  const api = new FakeApiServer()
  let dir: string
  beforeAll(async () => {
    await api.start()
    dir = mkdtempSync(join(tmpdir(), 'palisade-diff-kube-'))
    const objects = [
      namespaceJson('shop', { team: 'a' }),
      podJson('shop', 'web', '10.0.0.2', 'node-1', { app: 'web' }),
      podJson('shop', 'db', '10.0.0.3', 'node-1', { app: 'db' }),
      allowFromJson('shop', 'db-from-web', 'db', 'web', 8080),
    ]
    api.apply('Namespace', objects[0] as Record<string, unknown>)
    api.apply('Pod', objects[1] as Record<string, unknown>)
    api.apply('Pod', objects[2] as Record<string, unknown>)
    api.apply('NetworkPolicy', objects[3] as Record<string, unknown>)
    writeFileSync(join(dir, 'kubeconfig'), api.kubeconfig())
    mkdirSync(join(dir, 'deploy'))
    writeFileSync(
      join(dir, 'deploy', 'all.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    )
  })
  afterAll(async () => {
    await api.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('reads the same cluster from the API server as from the files', async () => {
    const kc = new KubeConfig()
    kc.loadFromString(api.kubeconfig())
    const read = await readClusterInputs({ kubeconfig: kc })
    expect(read.diagnostics).toEqual([])
    expect(read.inputs.map((i) => i.file)).toEqual([
      'cluster/namespace/shop.json',
      'cluster/networkpolicy/shop/db-from-web.json',
      'cluster/pod/shop/db.json',
      'cluster/pod/shop/web.json',
    ])
    const live = loadCluster(read.inputs, { validate: 'strict' })
    const files = loadCluster([{ file: 'all.json', text: readFileSync(join(dir, 'deploy', 'all.json')) }], {
      validate: 'strict',
    })
    expect(live.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    const strip = <T extends { source?: unknown }>(xs: readonly T[]) =>
      xs.map(({ source: _, ...rest }) => rest)
    expect(strip(live.cluster.pods)).toEqual(strip(files.cluster.pods))
    expect(
      live.cluster.policies.map((p) =>
        JSON.stringify({
          ...p,
          source: undefined,
          ingress: p.ingress.map((r) => ({ ...r, source: undefined })),
        }),
      ),
    ).toEqual(
      files.cluster.policies.map((p) =>
        JSON.stringify({
          ...p,
          source: undefined,
          ingress: p.ingress.map((r) => ({ ...r, source: undefined })),
        }),
      ),
    )
    expect(hasChanges(diffClusters(live.cluster, files.cluster))).toBe(false)
  })

  it('the CLI: unchanged exits 0; a policy the folder drops exits 1 and names the cluster object', async () => {
    const same = await runCli(['diff', '--kubeconfig', join(dir, 'kubeconfig'), join(dir, 'deploy')])
    expect(same.code, same.stderr).toBe(0)
    writeFileSync(
      join(dir, 'deploy', 'all.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          namespaceJson('shop', { team: 'a' }),
          podJson('shop', 'web', '10.0.0.2', 'node-1', { app: 'web' }),
          podJson('shop', 'db', '10.0.0.3', 'node-1', { app: 'db' }),
        ],
      }),
    )
    const changed = await runCli(['diff', '--kubeconfig', join(dir, 'kubeconfig'), join(dir, 'deploy')])
    expect(changed.code, changed.stderr).toBe(1)
    expect(changed.stdout).toContain('shop/db is no longer isolated for ingress')
    expect(changed.stdout).toContain('cluster/networkpolicy/shop/db-from-web.json:')
  })

  it('a Deployment in the folder lines up with the pods it runs in the cluster: unchanged', async () => {
    const labels = { app: 'api', 'pod-template-hash': '7c9f' }
    api.apply('Pod', podJson('shop', 'api-7c9f-a1', '10.0.0.4', 'node-1', labels) as Record<string, unknown>)
    api.apply('Pod', podJson('shop', 'api-7c9f-b2', '10.0.0.5', 'node-1', labels) as Record<string, unknown>)
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { namespace: 'shop', name: 'api' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'api' } },
        template: {
          metadata: { labels: { app: 'api' } },
          spec: {
            containers: [
              { name: 'c', image: 'registry.example/app:1', ports: [{ name: 'http', containerPort: 8080 }] },
            ],
          },
        },
      },
    }
    writeFileSync(
      join(dir, 'deploy', 'all.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          namespaceJson('shop', { team: 'a' }),
          podJson('shop', 'web', '10.0.0.2', 'node-1', { app: 'web' }),
          podJson('shop', 'db', '10.0.0.3', 'node-1', { app: 'db' }),
          allowFromJson('shop', 'db-from-web', 'db', 'web', 8080),
          deployment,
        ],
      }),
    )
    const r = await runCli([
      'diff',
      '--kubeconfig',
      join(dir, 'kubeconfig'),
      join(dir, 'deploy'),
      '-o',
      'json',
    ])
    expect(r.code, r.stdout).toBe(0)
    expect(JSON.parse(r.stdout).workloads).toEqual([])
    api.delete('Pod', 'shop', 'api-7c9f-a1')
    api.delete('Pod', 'shop', 'api-7c9f-b2')
  })

  it('an unreachable API server is an error (exit 2)', async () => {
    const bad = join(dir, 'bad-kubeconfig')
    writeFileSync(bad, api.kubeconfig().replace(/server: .*/, 'server: https://127.0.0.1:1'))
    const r = await runCli(['diff', '--kubeconfig', bad, join(dir, 'deploy')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/listing (Namespace|Pod|NetworkPolicy) objects failed/)
  })
})
