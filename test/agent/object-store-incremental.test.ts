import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ObjectStore, objectKey, type WatchedKind } from '../../src/agent/object-store.js'
import { defaultPipeline } from '../../src/agent/pipeline.js'
import { normalizeObjects } from '../../src/load/index.js'
import type { ClusterState, JsonObject } from '../../src/model/index.js'
import { rawFromValue } from '../../src/model/index.js'
import { allowFromJson, badPolicyJson, namespaceJson, podJson } from '../fixtures.js'

/** One informer event: an upsert of an object (valid or not, by construction) or a removal. */
type Op =
  | { readonly op: 'upsert'; readonly kind: WatchedKind; readonly value: JsonObject; readonly valid: boolean }
  | { readonly op: 'remove'; readonly kind: WatchedKind; readonly value: JsonObject }

const NAMESPACES = ['a', 'b', 'c']
const nsName = fc.constantFrom(...NAMESPACES)
const app = fc.constantFrom('x', 'y')

const podValue = fc
  .record({
    ns: nsName,
    name: fc.integer({ min: 1, max: 30 }).map((i) => `p${i}`),
    ip: fc.constantFrom(undefined, '10.0.0.1', '10.0.0.2'),
    app,
    terminal: fc.boolean(),
    conditions: fc.boolean(),
    valid: fc.boolean(),
  })
  .map(({ ns, name, ip, app, terminal, conditions, valid }): Op => {
    const p = podJson(ns, name, ip, 'n1', { app: valid ? app : 'not a label value!' })
    const status = { ...(p.status as JsonObject) }
    if (terminal) status.phase = 'Succeeded'
    if (conditions) status.conditions = [{ type: 'Ready', status: 'True' }]
    return { op: 'upsert', kind: 'Pod', value: { ...p, status }, valid }
  })

const namespaceValue = fc
  .record({ name: nsName, team: app, legacy: fc.boolean(), valid: fc.boolean() })
  .map(({ name, team, legacy, valid }): Op => {
    const n = namespaceJson(name, { team: valid ? team : 'not a label value!' })
    const meta = n.metadata as JsonObject
    const annotations: JsonObject = legacy
      ? { 'net.beta.kubernetes.io/network-policy': '{"ingress":{"isolation":"DefaultDeny"}}' }
      : {}
    return { op: 'upsert', kind: 'Namespace', value: { ...n, metadata: { ...meta, annotations } }, valid }
  })

const policyValue = fc
  .record({ ns: nsName, name: fc.constantFrom('pol1', 'pol2'), app, from: app, valid: fc.boolean() })
  .map(
    ({ ns, name, app, from, valid }): Op => ({
      op: 'upsert',
      kind: 'NetworkPolicy',
      value: valid ? allowFromJson(ns, name, app, from) : badPolicyJson(ns, name),
      valid,
    }),
  )

const removal = fc
  .oneof(podValue, namespaceValue, policyValue)
  .map((o): Op => ({ op: 'remove', kind: o.kind, value: o.value }))

const event = fc.oneof(podValue, namespaceValue, policyValue, removal)

/** Events in batches, a snapshot after each: mostly one event, sometimes a few. */
const batches = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: event.map((e) => [e]) },
    { weight: 1, arbitrary: fc.array(event, { maxLength: 8 }) },
  ),
  { minLength: 1, maxLength: 40 },
)

/** A valid running pod (a new object each time: its IP and labels vary). */
const validPod = fc
  .record({
    ns: nsName,
    name: fc.integer({ min: 1, max: 40 }).map((i) => `p${i}`),
    ip: fc.integer({ min: 1, max: 250 }),
    app,
  })
  .map(
    ({ ns, name, ip, app }): Op => ({
      op: 'upsert',
      kind: 'Pod',
      value: podJson(ns, name, `10.0.1.${ip}`, 'n1', { app }),
      valid: true,
    }),
  )

/** Bursts of many pod changes (as the initial list or a reconnect), which are merged in one pass. */
const bursts = fc.array(
  fc.array(
    fc.oneof(
      validPod,
      validPod,
      validPod.map((o): Op => ({ op: 'remove', kind: o.kind, value: o.value })),
      event,
    ),
    {
      minLength: 40,
      maxLength: 120,
    },
  ),
  { minLength: 2, maxLength: 5 },
)

/** What the agent enforces for badPolicy (readable podSelector {} and policyTypes, unreadable rules). */
function failClosedOf(value: JsonObject): JsonObject {
  const meta = value.metadata as JsonObject
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: meta.namespace as string, name: meta.name as string },
    spec: { podSelector: {}, policyTypes: ['Ingress'] },
  }
}

/** namespace/name (or name) of every item of a snapshot, per array, to find unchanged objects. */
function byKey(state: ClusterState): Map<string, unknown> {
  const m = new Map<string, unknown>()
  for (const n of state.namespaces) m.set(`Namespace ${n.name}`, n)
  for (const p of state.pods) m.set(`Pod ${p.namespace}/${p.name}`, p)
  for (const p of state.policies) m.set(`Policy ${p.namespace}/${p.name}`, p)
  return m
}

/** Which snapshot keys an event may change (a namespace's legacy policy is in its namespace). */
function touched(o: Op): (key: string) => boolean {
  const meta = o.value.metadata as JsonObject
  const name = String(meta.name)
  const ns = String(meta.namespace ?? '')
  if (o.kind === 'Namespace') return (k) => k === `Namespace ${name}` || k.startsWith(`Policy ${name}/`)
  if (o.kind === 'Pod') return (k) => k === `Pod ${ns}/${name}` || k === `Namespace ${ns}`
  return (k) => k === `Policy ${ns}/${name}` || k === `Namespace ${ns}`
}

describe('incremental snapshots', () => {
  it.each([
    { name: 'single events and small batches are patched in', arbitrary: batches, numRuns: 300 },
    { name: 'bursts of many changes are merged in', arbitrary: bursts, numRuns: 60 },
  ])('$name: equal to normalising every object at once, unchanged objects kept', ({ arbitrary, numRuns }) => {
    fc.assert(
      fc.property(arbitrary, (groups) => {
        let rejected = 0
        const s = new ObjectStore(defaultPipeline, () => rejected++)
        /** The objects the store enforces: the last valid version of each (fail-static), a policy's fail-closed stand-in. */
        const model = new Map<string, { readonly kind: WatchedKind; readonly value: JsonObject }>()
        /** Keys the store holds, and those of them it holds only as a rejected object. */
        const held = new Set<string>()
        /** The last object given for each key held (to remove them all at the end). */
        const last = new Map<string, { readonly kind: WatchedKind; readonly value: JsonObject }>()
        const invalid = new Set<string>()
        let prev = s.snapshot()
        for (const group of groups) {
          let changed = false
          for (const e of group) {
            const key = `${e.kind} ${objectKey(e.value)}`
            if (e.op === 'upsert') {
              const before = rejected
              const c = s.upsert(e.kind, e.value)
              changed ||= c
              if (e.valid) {
                model.set(key, { kind: e.kind, value: e.value })
                invalid.delete(key)
              } else if (e.kind === 'NetworkPolicy') {
                // A policy that cannot be read fails closed: its pods isolated, no allow rule.
                model.set(key, { kind: e.kind, value: failClosedOf(e.value) })
                invalid.add(key)
                if (!held.has(key)) expect(rejected).toBe(before + 1)
              } else {
                expect(c).toBe(false)
                // A new object is validated (an update of a held one only if it changes what we read).
                if (!held.has(key)) expect(rejected).toBe(before + 1)
                if (!model.has(key)) invalid.add(key)
              }
              held.add(key)
              last.set(key, { kind: e.kind, value: e.value })
            } else {
              const c = s.remove(e.kind, e.value)
              changed ||= c
              expect(c).toBe(model.has(key))
              model.delete(key)
              held.delete(key)
              invalid.delete(key)
            }
            expect(s.invalidCount()).toBe(invalid.size)
          }
          const next = s.snapshot()
          const reference = normalizeObjects(
            [...model.values()].map(({ kind, value }) => {
              const k = objectKey(value)
              return rawFromValue(value, { file: `api:${kind}/${k.startsWith('/') ? k.slice(1) : k}` })
            }),
          ).value
          expect(next.value).toEqual(reference)
          expect(next.diagnostics).toEqual([])
          if (!changed) expect(next).toBe(prev)
          if (group.every((e) => e.kind !== 'Pod')) expect(next.value.pods).toBe(prev.value.pods)
          if (group.every((e) => e.kind === 'Pod')) expect(next.value.policies).toBe(prev.value.policies)
          const was = byKey(prev.value)
          const touches = group.map(touched)
          for (const [k, obj] of byKey(next.value)) {
            if (was.has(k) && !touches.some((t) => t(k))) {
              expect({ k, same: was.get(k) === obj }).toEqual({ k, same: true })
            }
          }
          expect(s.snapshot()).toBe(next)
          prev = next
        }
        // every shared value (label maps, selectors...) is let go once no object refers to it
        for (const [key, { kind, value }] of last) if (held.has(key)) s.remove(kind, value)
        expect(s.snapshot().value).toEqual({ namespaces: [], pods: [], policies: [] })
        expect(s.shared()).toBe(0)
      }),
      { numRuns },
    )
  })
})
