import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type DirSource, watchDir } from '../../src/agent/from-dir.js'
import { ObjectStore } from '../../src/agent/object-store.js'
import { defaultPipeline } from '../../src/agent/pipeline.js'
import type { JsonObject } from '../../src/model/index.js'
import { allowFrom, badPolicy, denyAll, namespace, pod, waitFor } from './fixtures.js'

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
    writeFileSync(join(dir, 'ns.json'), JSON.stringify(namespace('a')))
    writeFileSync(
      join(dir, 'pods.yaml'),
      `${JSON.stringify(pod('a', 'p1', '10.0.0.1', 'n1'))}\n---\n${JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'a' } })}\n`,
    )
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(badPolicy('a', 'bad')))
    const store = new ObjectStore(defaultPipeline)
    let signals = 0
    const src = watchDir(dir, store, { signal: () => signals++, rescanMs: 60_000, settleMs: 20 })
    try {
      await src.ready
      expect(store.counts()).toEqual({ Namespace: 1, Pod: 1, NetworkPolicy: 1 })
      expect(store.snapshot().value.policies).toMatchObject([{ name: 'bad', ingress: [] }])
      expect(signals).toBe(1)
      writeFileSync(join(dir, 'pol.json'), JSON.stringify(allowFrom('a', 'good', 'db', 'web')))
      await waitFor(() => store.snapshot().value.policies.length === 2, 5000, 'new file')
      unlinkSync(join(dir, 'pol.json'))
      await waitFor(() => store.snapshot().value.policies.length === 1, 5000, 'removed file')
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

  const good = yamlDocs(namespace('a'), allowFrom('a', 'p1', 'db', 'web'), denyAll('a', 'deny'))

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
    writeFileSync(join(r.dir, 'cluster.yaml'), yamlDocs(namespace('a'), denyAll('a', 'deny')))
    await r.src.rescan()
    expect(policies(r.store)).toEqual(['deny:0'])
    expect(r.held).toEqual([])
  })

  it('a file that has never parsed gives the documents it could read', async () => {
    const r = await rig({
      'cluster.yaml': `${yamlDocs(namespace('a'), denyAll('a', 'deny'))}\n---\n{"kind": `,
    })
    expect(policies(r.store)).toEqual(['deny:0'])
    expect(r.held).toEqual([])
  })

  it('a document without a name makes the file unreadable too (its identity is unknown)', async () => {
    const r = await rig({ 'cluster.yaml': good })
    const nameless = { ...denyAll('a', 'x'), metadata: { namespace: 'a' } }
    writeFileSync(join(r.dir, 'cluster.yaml'), yamlDocs(namespace('a'), nameless))
    await r.src.rescan()
    expect(policies(r.store)).toEqual(['deny:0', 'p1:1'])
  })

  it('a deleted file takes its objects with it', async () => {
    const r = await rig({ 'cluster.yaml': good, 'other.yaml': yamlDocs(denyAll('b', 'deny-b')) })
    unlinkSync(join(r.dir, 'cluster.yaml'))
    await r.src.rescan()
    expect(policies(r.store)).toEqual(['deny-b:0'])
  })
})
