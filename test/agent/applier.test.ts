import { describe, expect, it } from 'vitest'
import { RulesetApplier } from '../../src/agent/applier.js'
import {
  type BackendName,
  compileNode,
  type Dataplane,
  getBackend,
  type Ruleset,
} from '../../src/backends/index.js'
import type { NftChain, NftTable } from '../../src/backends/nftables/index.js'
import { normalizeObjects } from '../../src/load/index.js'
import { type JsonObject, rawFromValue } from '../../src/model/index.js'
import { allowFromJson, denyAllJson, namespaceJson, podJson } from '../fixtures.js'

const compile = (objects: readonly JsonObject[], backend: BackendName = 'nftables'): Ruleset =>
  compileNode(
    normalizeObjects(objects.map((o, i) => rawFromValue(o, { file: `o${i}` }))).value,
    'n1',
    backend,
  ).value

const base: JsonObject[] = [
  namespaceJson('shop'),
  podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }),
  podJson('shop', 'web', '10.0.2.3', 'n2', { role: 'web' }),
  allowFromJson('shop', 'web-to-db', 'db', 'web', 5432),
]
const withPod = [...base, podJson('shop', 'web2', '10.0.2.4', 'n2', { role: 'web' })]

/** An applier whose kernel is a recorder: full applies by ruleset, deltas by their printed script. */
function rig(o: { deltaFails?: boolean; fullFails?: boolean; backend?: BackendName } = {}) {
  const backend = getBackend(o.backend ?? 'nftables')
  const full: Ruleset[] = []
  const scripts: string[] = []
  const dataplane: Dataplane = {
    apply: async (rs) => {
      if (o.fullFails) throw new Error('nft: syntax error')
      full.push(rs)
      return { changed: true, warnings: [] }
    },
    applyDelta: async (d) => {
      scripts.push(backend.printDelta(d))
      if (o.deltaFails) throw new Error('Error: interval overlaps with an existing one')
    },
    drift: async () => ({ kind: 'drifted', reason: 'chains differ' }),
    cleanup: async () => ({ left: [] }),
  }
  return { applier: new RulesetApplier(backend, dataplane), full, scripts }
}

describe('apply path', () => {
  it('the first apply is full', async () => {
    const r = rig()
    expect((await r.applier.apply(compile(base))).path).toBe('full')
    expect(r.full).toHaveLength(1)
  })

  it('the same ruleset again is unchanged and touches nothing', async () => {
    const r = rig()
    await r.applier.apply(compile(base))
    expect(await r.applier.apply(compile(base))).toEqual({ path: 'unchanged', changed: false })
    expect(r.full).toHaveLength(1)
    expect(r.scripts).toHaveLength(0)
  })

  it('a pod joining a peer set is applied as one element batch', async () => {
    const r = rig()
    await r.applier.apply(compile(base))
    const out = await r.applier.apply(compile(withPod))
    expect(out).toMatchObject({ path: 'incremental', added: 1, deleted: 0, sets: 1, chains: 0 })
    expect(r.full).toHaveLength(1)
    expect(r.scripts).toEqual([
      expect.stringMatching(/^add element inet palisade pods_[\w-]+_v4 \{ 10\.0\.2\.4 \}\n$/),
    ])
  })

  it('a new policy is applied as one chain-level batch', async () => {
    const r = rig()
    await r.applier.apply(compile(base))
    const out = await r.applier.apply(compile([...base, denyAllJson('shop')]))
    expect(out.path).toBe('incremental')
    expect(r.full).toHaveLength(1)
    expect(r.scripts).toHaveLength(1)
    expect(r.scripts[0]).toMatch(/^\tchain pol_shop_deny-all_in \{$/m)
  })

  it('a changed base chain declaration is applied in full', async () => {
    const r = rig()
    const first = compile(base) as Ruleset<NftTable>
    await r.applier.apply(first)
    const objects = first.structure.objects.map((o) =>
      o.kind === 'chain' && o.name === 'ingress'
        ? { ...o, hook: { ...(o.hook as NonNullable<NftChain['hook']>), priority: 'filter + 20' } }
        : o,
    )
    const out = await r.applier.apply({ ...first, structure: { ...first.structure, objects } })
    expect(out).toMatchObject({ path: 'full', note: 'table or base chain changed' })
    expect(r.full).toHaveLength(2)
    expect(r.scripts).toHaveLength(0)
  })

  it('a failed delta falls back to a full reload', async () => {
    const r = rig({ deltaFails: true })
    await r.applier.apply(compile(base))
    const out = await r.applier.apply(compile(withPod))
    expect(out.path).toBe('full')
    expect(out.note).toMatch(/incremental update failed, reloading in full: Error: interval overlaps/)
    expect(r.full).toHaveLength(2)
  })

  it('a failed full apply throws and keeps the previous ruleset as current', async () => {
    const r = rig()
    const first = compile(base)
    await r.applier.apply(first)
    const failing = rig({ fullFails: true })
    await expect(failing.applier.apply(first)).rejects.toThrow(/syntax error/)
    expect(failing.applier.current).toBeUndefined()
    expect(r.applier.current).toBe(first)
  })

  it('force reloads in full even when nothing changed', async () => {
    const r = rig()
    const rs = compile(base)
    await r.applier.apply(rs)
    expect((await r.applier.apply(rs, true)).path).toBe('full')
    expect(r.full).toHaveLength(2)
  })

  it('the iptables backend goes full for every change, and skips an unchanged ruleset', async () => {
    const r = rig({ backend: 'iptables' })
    await r.applier.apply(compile(base, 'iptables'))
    expect((await r.applier.apply(compile(base, 'iptables'))).path).toBe('unchanged')
    const out = await r.applier.apply(compile(withPod, 'iptables'))
    expect(out.path).toBe('full')
    expect(out.note).toBeUndefined()
    expect(r.scripts).toHaveLength(0)
  })

  it('drift is clean before anything was applied, then what the dataplane finds', async () => {
    const r = rig()
    expect(await r.applier.drift()).toEqual({ kind: 'clean' })
    await r.applier.apply(compile(base))
    expect(await r.applier.drift()).toEqual({ kind: 'drifted', reason: 'chains differ' })
  })
})

describe('drop counters are read before rules are re-created', () => {
  /** The rig's kernel, recording when the hook ran relative to the applies. */
  function hooked() {
    const backend = getBackend('nftables')
    const events: string[] = []
    const dataplane: Dataplane = {
      apply: async () => {
        events.push('full')
        return { changed: true, warnings: [] }
      },
      applyDelta: async () => {
        events.push('delta')
      },
      drift: async () => ({ kind: 'clean' }),
      cleanup: async () => ({ left: [] }),
    }
    const applier = new RulesetApplier(backend, dataplane, async () => {
      events.push('read')
      throw new Error('a failed reading never stops an apply')
    })
    return { applier, events }
  }

  it('before a full apply and before a delta that flushes chains; not before a delta that only adds', async () => {
    const r = hooked()
    await r.applier.apply(compile(base))
    expect(r.events).toEqual(['read', 'full'])
    // a new local pod: its chains are created and elements added, nothing flushed
    r.events.length = 0
    const withLocal = [...base, podJson('shop', 'db2', '10.0.1.5', 'n1', { app: 'db' })]
    await r.applier.apply(compile(withLocal))
    expect(r.events).toEqual(['delta'])
    // a policy isolating pods that were isolated already: their pod chains are flushed and refilled
    r.events.length = 0
    await r.applier.apply(compile([...withLocal, denyAllJson('shop', 'deny-all')]))
    expect(r.events).toEqual(['read', 'delta'])
  })

  it('not before a delta that flushes only chains without a counter (a policy port edit)', async () => {
    const r = hooked()
    const edited = (port: number) => [
      ...base.slice(0, 3),
      allowFromJson('shop', 'web-to-db', 'db', 'web', port),
      denyAllJson('shop', 'deny-all'),
    ]
    await r.applier.apply(compile(edited(5432)))
    r.events.length = 0
    const next = compile(edited(5433))
    const change = getBackend('nftables').diff(r.applier.current as Ruleset, next)
    expect(change.kind === 'delta' && [change.stats.flushed, change.stats.counted]).toEqual([1, 0])
    await r.applier.apply(next)
    expect(r.events).toEqual(['delta'])
  })
})
