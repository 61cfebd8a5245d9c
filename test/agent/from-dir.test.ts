import { mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type DirSource, watchDir } from '../../src/agent/from-dir.js'
import { ObjectStore } from '../../src/agent/object-store.js'
import { defaultPipeline } from '../../src/agent/pipeline.js'
import type { JsonObject } from '../../src/model/index.js'
import { allowFromJson, badPolicyJson, denyAllJson, namespaceJson, podJson } from '../fixtures.js'
import { waitFor } from './fixtures.js'

const dirs: string[] = []
const sources: DirSource[] = []
afterEach(() => {
  for (const s of sources.splice(0)) s.stop()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('--from-dir', () => {
  it('reads the folder, follows file changes, fails closed on a bad policy, skips other kinds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-fromdir-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'ns.json'), JSON.stringify(namespaceJson('a')))
    writeFileSync(
      join(dir, 'pods.yaml'),
      `${JSON.stringify(podJson('a', 'p1', '10.0.0.1', 'n1'))}\n---\n${JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'a' } })}\n`,
    )
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(badPolicyJson('a', 'bad')))
    const store = new ObjectStore(defaultPipeline)
    let signals = 0
    const src = watchDir(dir, store, { signal: () => signals++, rescanMs: 60_000, settleMs: 20 })
    try {
      await src.ready
      expect(store.counts()).toEqual({
        Namespace: 1,
        Pod: 1,
        NetworkPolicy: 1,
        ClusterNetworkPolicy: 0,
        Node: 0,
      })
      expect(store.snapshot().value.policies).toMatchObject([{ name: 'bad', ingress: [] }])
      expect(signals).toBe(1)
      writeFileSync(join(dir, 'pol.json'), JSON.stringify(allowFromJson('a', 'good', 'db', 'web')))
      await waitFor(() => store.snapshot().value.policies.length === 2, 5000, 'new file')
      unlinkSync(join(dir, 'pol.json'))
      await waitFor(() => store.snapshot().value.policies.length === 1, 5000, 'removed file')
    } finally {
      src.stop()
    }
  })
})

describe('--from-dir and ClusterNetworkPolicies (issue 13)', () => {
  it('reads ClusterNetworkPolicies and Nodes (trimmed, without pod ranges) like the other kinds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-fromdir-'))
    dirs.push(dir)
    const cnp = {
      apiVersion: 'policy.networking.k8s.io/v1beta1',
      kind: 'ClusterNetworkPolicy',
      metadata: { name: 'no-infra' },
      spec: {
        tier: 'Admin',
        priority: 1,
        subject: { namespaces: {} },
        egress: [{ action: 'Deny', to: [{ nodes: { matchLabels: { role: 'infra' } } }] }],
      },
    }
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n2', labels: { role: 'infra' } },
      spec: { podCIDRs: ['10.0.2.0/24'] },
      status: { addresses: [{ type: 'InternalIP', address: '192.168.7.2' }], images: [{ names: ['x'] }] },
    }
    writeFileSync(join(dir, 'cnp.yaml'), `${JSON.stringify(cnp)}\n---\n${JSON.stringify(node)}\n`)
    const store = new ObjectStore(defaultPipeline)
    const src = watchDir(dir, store, { signal: () => undefined, rescanMs: 60_000, settleMs: 20 })
    try {
      await src.ready
      const c = store.snapshot().value
      expect(c.clusterPolicies?.map((p) => p.name)).toEqual(['no-infra'])
      expect(c.nodes?.map(({ source: _, ...n }) => n)).toEqual([
        { name: 'n2', addresses: ['192.168.7.2'], declared: true, labels: { role: 'infra' } },
      ])
    } finally {
      src.stop()
    }
  })
})

describe('--from-dir with half-written files (issue 14, item 4)', () => {
  const yamlDocs = (...objs: JsonObject[]) => objs.map((o) => JSON.stringify(o, null, 2)).join('\n---\n')
  const policies = (store: ObjectStore) =>
    store
      .snapshot()
      .value.policies.map((p) => `${p.name}:${p.ingress.length}`)
      .sort()

  async function rig(files: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-fromdir-'))
    dirs.push(dir)
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text)
    const store = new ObjectStore(defaultPipeline)
    const held: string[] = []
    const src = watchDir(dir, store, {
      signal: () => undefined,
      rescanMs: 60_000,
      settleMs: 20,
      onHeld: (files) => held.splice(0, held.length, ...files),
    })
    sources.push(src)
    await src.ready
    return { dir, store, src, held }
  }

  const good = yamlDocs(namespaceJson('a'), allowFromJson('a', 'p1', 'db', 'web'), denyAllJson('a', 'deny'))

  it.each([
    { name: 'cut in the middle of a document', cut: (t: string) => t.slice(0, Math.floor(t.length * 0.75)) },
    { name: 'cut in the middle of a string', cut: (t: string) => t.slice(0, t.indexOf('"deny"') + 3) },
    {
      name: 'cut right after a document separator',
      cut: (t: string) => `${t.slice(0, t.lastIndexOf('---'))}---\n{`,
    },
    { name: 'binary garbage', cut: () => '\u0000\u0001\u0002' },
  ])('a file $name keeps its last good objects until it parses again', async ({ cut }) => {
    const r = await rig({ 'cluster.yaml': good })
    expect(policies(r.store)).toEqual(['deny:0', 'p1:1'])
    writeFileSync(join(r.dir, 'cluster.yaml'), cut(good))
    await r.src.rescan()
    expect(policies(r.store)).toEqual(['deny:0', 'p1:1'])
    expect(r.held).toEqual([join(r.dir, 'cluster.yaml')])
    // written in full again, with a change: applied
    writeFileSync(join(r.dir, 'cluster.yaml'), yamlDocs(namespaceJson('a'), denyAllJson('a', 'deny')))
    await r.src.rescan()
    expect(policies(r.store)).toEqual(['deny:0'])
    expect(r.held).toEqual([])
  })

  it('a file that has never parsed gives the documents it could read', async () => {
    const r = await rig({
      'cluster.yaml': `${yamlDocs(namespaceJson('a'), denyAllJson('a', 'deny'))}\n---\n{"kind": `,
    })
    expect(policies(r.store)).toEqual(['deny:0'])
    expect(r.held).toEqual([])
  })

  it('a document without a name makes the file unreadable too (its identity is unknown)', async () => {
    const r = await rig({ 'cluster.yaml': good })
    const nameless = { ...denyAllJson('a', 'x'), metadata: { namespace: 'a' } }
    writeFileSync(join(r.dir, 'cluster.yaml'), yamlDocs(namespaceJson('a'), nameless))
    await r.src.rescan()
    expect(policies(r.store)).toEqual(['deny:0', 'p1:1'])
  })

  it('a deleted file takes its objects with it', async () => {
    const r = await rig({ 'cluster.yaml': good, 'other.yaml': yamlDocs(denyAllJson('b', 'deny-b')) })
    unlinkSync(join(r.dir, 'cluster.yaml'))
    await r.src.rescan()
    expect(policies(r.store)).toEqual(['deny-b:0'])
  })

  it('reads the files the CLI reads: linked folders followed, a dangling link skipped like a removed file', async () => {
    const r = await rig({ 'cluster.yaml': yamlDocs(namespaceJson('a')) })
    const shared = mkdtempSync(join(tmpdir(), 'palisade-fromdir-shared-'))
    dirs.push(shared)
    writeFileSync(join(shared, 'deny.yaml'), yamlDocs(denyAllJson('a', 'deny')))
    symlinkSync(shared, join(r.dir, 'linked'))
    symlinkSync(join(r.dir, 'nowhere.yaml'), join(r.dir, 'dangling.yaml'))
    await r.src.rescan()
    expect(policies(r.store)).toEqual(['deny:0'])
    expect(r.held).toEqual([])
  })
})
