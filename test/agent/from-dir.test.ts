import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { watchDir } from '../../src/agent/from-dir.js'
import { ObjectStore } from '../../src/agent/object-store.js'
import { defaultPipeline } from '../../src/agent/pipeline.js'
import { allowFrom, badPolicy, namespace, pod, waitFor } from './fixtures.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('--from-dir', () => {
  it('reads the folder, follows file changes, skips bad objects and other kinds', async () => {
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
      expect(store.snapshot().value.policies).toEqual([])
      expect(signals).toBe(1)
      writeFileSync(join(dir, 'pol.json'), JSON.stringify(allowFrom('a', 'good', 'db', 'web')))
      await waitFor(() => store.snapshot().value.policies.length === 1, 5000, 'new file')
      unlinkSync(join(dir, 'pol.json'))
      await waitFor(() => store.snapshot().value.policies.length === 0, 5000, 'removed file')
    } finally {
      src.stop()
    }
  })
})
