import { describe, expect, it } from 'vitest'
import { type InvalidObject, ObjectStore, trimNode } from '../../src/agent/object-store.js'
import { defaultPipeline } from '../../src/agent/pipeline.js'
import type { JsonObject } from '../../src/model/index.js'
import { allowFromJson, badPolicyJson, namespaceJson, podJson } from '../fixtures.js'

function store() {
  const invalid: InvalidObject[] = []
  return { s: new ObjectStore(defaultPipeline, (i) => invalid.push(i)), invalid }
}

/** As list items come: no kind or apiVersion. */
const bare = (o: JsonObject): JsonObject => {
  const { kind: _k, apiVersion: _a, ...rest } = o
  return rest
}

describe('object store', () => {
  it('accepts list items without kind and apiVersion', () => {
    const { s } = store()
    expect(s.upsert('Pod', bare(podJson('a', 'p', '10.0.0.1', 'n1')))).toBe(true)
    expect(s.snapshot().value.pods.map((p) => p.name)).toEqual(['p'])
  })

  it('skips a bad pod, reports it, and still enforces the rest', () => {
    const { s, invalid } = store()
    s.upsert('Namespace', namespaceJson('a'))
    s.upsert('Pod', podJson('a', 'good', '10.0.0.1', 'n1'))
    expect(s.upsert('Pod', podJson('a', 'bad', '10.0.0.2', 'n1', { app: 'not a label value!' }))).toBe(false)
    expect(
      invalid.map((i) => [i.action, i.diagnostics.some((d) => d.code === 'validate.invalid-label')]),
    ).toEqual([['skipped', true]])
    expect(s.snapshot().value.pods.map((p) => p.name)).toEqual(['good'])
    expect(s.invalidCount()).toBe(1)
  })

  it('a policy it cannot read fails closed: the pods it selects are isolated with no allow rule', () => {
    const { s, invalid } = store()
    s.upsert('NetworkPolicy', allowFromJson('a', 'good', 'db', 'web'))
    expect(s.upsert('NetworkPolicy', badPolicyJson('a', 'bad'))).toBe(true)
    expect(
      invalid.map((i) => [i.action, i.diagnostics.some((d) => d.code === 'validate.invalid-cidr')]),
    ).toEqual([['fail-closed', true]])
    const bad = s.snapshot().value.policies.find((p) => p.name === 'bad')
    expect(bad).toMatchObject({ policyTypes: ['Ingress'], ingress: [], egress: [] })
    expect(bad?.podSelector).toEqual({ matchLabels: {}, matchExpressions: [] })
    expect(s.invalidCount()).toBe(1)
    expect(s.failClosedPolicies()).toBe(1)
    expect(s.remove('NetworkPolicy', badPolicyJson('a', 'bad'))).toBe(true)
    expect(s.failClosedPolicies()).toBe(0)
    expect(s.invalidCount()).toBe(0)
  })

  it('keeps the last valid version when an enforced pod turns invalid', () => {
    const { s, invalid } = store()
    s.upsert('Pod', podJson('a', 'p', '10.0.0.1', 'n1', { app: 'db' }))
    expect(s.upsert('Pod', podJson('a', 'p', '10.0.0.1', 'n1', { app: 'not a label value!' }))).toBe(false)
    expect(invalid.map((i) => i.action)).toEqual(['kept-last-valid'])
    expect(s.snapshot().value.pods.map((p) => p.labels)).toEqual([{ app: 'db' }])
    expect(s.invalidCount()).toBe(0)
  })

  it('an enforced policy that turns unreadable fails closed instead of keeping its old allow rules', () => {
    const { s } = store()
    s.upsert('NetworkPolicy', allowFromJson('a', 'p', 'db', 'web'))
    expect(s.upsert('NetworkPolicy', badPolicyJson('a', 'p'))).toBe(true)
    expect(s.snapshot().value.policies).toMatchObject([{ name: 'p', policyTypes: ['Ingress'], ingress: [] }])
    // fixed again: enforced as written
    expect(s.upsert('NetworkPolicy', allowFromJson('a', 'p', 'db', 'web'))).toBe(true)
    expect(s.snapshot().value.policies[0]?.ingress).toHaveLength(1)
    expect(s.failClosedPolicies()).toBe(0)
  })

  it('does not count a status-only pod update as a change', () => {
    const { s } = store()
    const p = podJson('a', 'p', '10.0.0.1', 'n1', { app: 'x' })
    s.upsert('Pod', p)
    const g = s.generation
    const withConditions = {
      ...p,
      status: { ...(p.status as JsonObject), conditions: [{ type: 'Ready', status: 'True' }] },
    }
    expect(s.upsert('Pod', withConditions)).toBe(false)
    expect(s.generation).toBe(g)
  })

  it.each([
    {
      name: 'a label change is a change',
      edit: (p: JsonObject) => ({ ...p, metadata: { ...(p.metadata as JsonObject), labels: { app: 'y' } } }),
    },
    {
      name: 'an IP change is a change',
      edit: (p: JsonObject) => ({
        ...p,
        status: { phase: 'Running', podIP: '10.0.0.2', podIPs: [{ ip: '10.0.0.2' }] },
      }),
    },
    {
      name: 'a phase change to Succeeded is a change',
      edit: (p: JsonObject) => ({ ...p, status: { ...(p.status as JsonObject), phase: 'Succeeded' } }),
    },
  ])('$name', ({ edit }) => {
    const { s } = store()
    const p = podJson('a', 'p', '10.0.0.1', 'n1', { app: 'x' })
    s.upsert('Pod', p)
    expect(s.upsert('Pod', edit(p))).toBe(true)
  })

  it('accepts a pod with a field newer than our schema (version skew is not an error)', () => {
    const { s, invalid } = store()
    const p = podJson('a', 'p', '10.0.0.1', 'n1')
    const newer = { ...p, spec: { ...(p.spec as JsonObject), someFutureField: true } }
    expect(s.upsert('Pod', newer)).toBe(true)
    expect(invalid).toHaveLength(0)
  })

  it('removes objects and caches snapshots per generation', () => {
    const { s } = store()
    s.upsert('Pod', podJson('a', 'p', '10.0.0.1', 'n1'))
    const snap = s.snapshot()
    expect(s.snapshot()).toBe(snap)
    expect(s.remove('Pod', podJson('a', 'p', undefined, 'n1'))).toBe(true)
    expect(s.snapshot().value.pods).toEqual([])
    expect(s.remove('Pod', podJson('a', 'p', undefined, 'n1'))).toBe(false)
  })
})

describe('per-object normalisation', () => {
  it('merges to the same cluster as normalising every object at once', async () => {
    const { normalizeObjects } = await import('../../src/load/index.js')
    const { rawFromValue } = await import('../../src/model/index.js')
    const legacy: JsonObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'old',
        annotations: { 'net.beta.kubernetes.io/network-policy': '{"ingress":{"isolation":"DefaultDeny"}}' },
      },
    }
    const objects: JsonObject[] = [
      namespaceJson('a', { team: 'x' }),
      legacy,
      podJson('a', 'p1', '10.0.0.1', 'n1', { app: 'db' }),
      podJson('implied', 'p2', '10.0.0.2', 'n2', { app: 'web' }),
      { ...podJson('a', 'done', '10.0.0.3', 'n1'), status: { phase: 'Succeeded' } },
      allowFromJson('a', 'pol', 'db', 'web'),
      allowFromJson('elsewhere', 'pol2', 'db', 'web'),
    ]
    const { s } = store()
    for (const o of objects) s.upsert(o.kind as 'Pod', o)
    // Sources differ by design (api:<kind>/<ns>/<name> vs the file name): compare everything else.
    const strip = (xs: readonly unknown[]) =>
      xs.map((x) => JSON.stringify(x, (k, v) => (k === 'source' ? undefined : v))).sort()
    const whole = normalizeObjects(objects.map((o, i) => rawFromValue(o, { file: `o${i}` }))).value
    const merged = s.snapshot().value
    expect(strip(merged.pods)).toEqual(strip(whole.pods))
    expect(strip(merged.policies)).toEqual(strip(whole.policies))
    expect(strip(merged.namespaces)).toEqual(strip(whole.namespaces))
  })
})

describe('incremental snapshots (identity)', () => {
  const seeded = () => {
    const { s } = store()
    s.upsert('Namespace', namespaceJson('a'))
    s.upsert('Pod', podJson('a', 'p1', '10.0.0.1', 'n1', { app: 'db' }))
    s.upsert('Pod', podJson('b', 'p3', '10.0.0.3', 'n1', { app: 'db' }))
    s.upsert('NetworkPolicy', allowFromJson('a', 'pol', 'db', 'web'))
    return s
  }
  it.each([
    {
      name: 'a pod added in the middle keeps the other pods, the policies and the namespaces',
      edit: (s: ObjectStore) => s.upsert('Pod', podJson('a', 'p2', '10.0.0.2', 'n1')),
      pods: ['a/p1', 'a/p2', 'b/p3'],
      same: { pods: false, policies: true, namespaces: true },
    },
    {
      name: 'a pod removed keeps the others and drops its implied namespace',
      edit: (s: ObjectStore) => s.remove('Pod', podJson('b', 'p3', undefined, 'n1')),
      pods: ['a/p1'],
      same: { pods: false, policies: true, namespaces: false },
    },
    {
      name: 'a policy change keeps the pods and the namespaces',
      edit: (s: ObjectStore) => s.upsert('NetworkPolicy', allowFromJson('a', 'pol', 'db', 'api')),
      pods: ['a/p1', 'b/p3'],
      same: { pods: true, policies: false, namespaces: true },
    },
    {
      name: 'a namespace relabelled keeps the pods and the policies',
      edit: (s: ObjectStore) => s.upsert('Namespace', namespaceJson('a', { team: 'x' })),
      pods: ['a/p1', 'b/p3'],
      same: { pods: true, policies: true, namespaces: false },
    },
  ])('$name', ({ edit, pods, same }) => {
    const s = seeded()
    const before = s.snapshot().value
    expect(edit(s)).toBe(true)
    const after = s.snapshot().value
    expect(after.pods.map((p) => `${p.namespace}/${p.name}`)).toEqual(pods)
    expect({
      pods: after.pods === before.pods,
      policies: after.policies === before.policies,
      namespaces: after.namespaces === before.namespaces,
    }).toEqual(same)
    for (const p of after.pods) {
      const old = before.pods.find((o) => o.namespace === p.namespace && o.name === p.name)
      if (old && old.labels === p.labels) expect(p).toBe(old)
    }
  })

  it('returns the very same snapshot after an update that changes nothing the compiler reads', () => {
    const s = seeded()
    const snap = s.snapshot()
    const p = podJson('a', 'p1', '10.0.0.1', 'n1', { app: 'db' })
    s.upsert('Pod', { ...p, status: { ...(p.status as JsonObject), conditions: [{ type: 'Ready' }] } })
    // an invalid update of an enforced pod keeps its last valid version: nothing changes either
    s.upsert('Pod', podJson('a', 'p1', '10.0.0.1', 'n1', { app: 'not a label value!' }))
    expect(s.snapshot()).toBe(snap)
  })

  it('keeps a Node as its name, labels and addresses only; a heartbeat or a pod range change is no change', () => {
    const { s } = store()
    const big = (heartbeat: string, labels: Record<string, string>, podCIDR = '10.0.2.0/24'): JsonObject => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n2', labels, resourceVersion: heartbeat, annotations: { a: 'x'.repeat(4000) } },
      spec: { podCIDR, podCIDRs: [podCIDR] },
      status: {
        addresses: [{ type: 'InternalIP', address: '192.168.7.2' }],
        conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: heartbeat }],
        images: Array.from({ length: 50 }, (_, i) => ({ names: [`registry/image-${i}:v1`], sizeBytes: i })),
      },
    })
    const value = big('1', { role: 'infra' })
    const kept = trimNode(value)
    expect(kept).toEqual({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n2', labels: { role: 'infra' }, resourceVersion: '1' },
      status: { addresses: [{ type: 'InternalIP', address: '192.168.7.2' }] },
    })
    expect(JSON.stringify(kept).length * 20).toBeLessThan(JSON.stringify(value).length)
    expect(s.upsert('Node', value)).toBe(true)
    expect(s.upsert('Node', big('2', { role: 'infra' }, '10.0.9.0/24'))).toBe(false)
    expect(s.snapshot().value.nodes?.map((n) => [n.name, n.labels, n.addresses, n.podCIDRs])).toEqual([
      ['n2', { role: 'infra' }, ['192.168.7.2'], undefined],
    ])
    expect(s.upsert('Node', big('3', { role: 'edge' }))).toBe(true)
    expect(s.snapshot().value.nodes?.[0]?.labels).toEqual({ role: 'edge' })
    expect(s.remove('Node', value)).toBe(true)
    expect(s.snapshot().value.nodes).toBeUndefined()
  })
})

describe('what the store keeps of an object', () => {
  it('equal label maps, port lists and selectors are one object; peers and rules are not shared', () => {
    const { s } = store()
    s.upsert('Pod', podJson('shop', 'db-1', '10.0.1.3', 'n1', { app: 'db', tier: 'back' }))
    s.upsert('Pod', podJson('shop', 'db-2', '10.0.1.4', 'n2', { app: 'db', tier: 'back' }))
    s.upsert('Pod', podJson('shop', 'web', '10.0.1.5', 'n2', { app: 'web' }))
    s.upsert('NetworkPolicy', allowFromJson('shop', 'p1', 'db', 'web'))
    s.upsert('NetworkPolicy', allowFromJson('other', 'p2', 'db', 'web'))
    const { pods, policies } = s.snapshot().value
    const [db1, db2, web] = pods
    expect([db1?.name, db2?.name, web?.name]).toEqual(['db-1', 'db-2', 'web'])
    expect(db1?.labels).toEqual({ app: 'db', tier: 'back' })
    expect(db1?.labels).toBe(db2?.labels)
    expect(web?.labels).not.toBe(db1?.labels)
    expect(db1?.ports).toBe(web?.ports)
    const [p1, p2] = policies
    expect(p1?.podSelector).toBe(p2?.podSelector)
    expect(p1?.ingress[0]?.peers?.[0]?.podSelector).toBe(p2?.ingress[0]?.peers?.[0]?.podSelector)
    expect(p1?.ingress[0]?.ports).toBe(p2?.ingress[0]?.ports)
    // a podSelector peer means pods of its own policy's namespace: peers and rules stay per policy
    expect(p1?.ingress[0]?.peers?.[0]).not.toBe(p2?.ingress[0]?.peers?.[0])
    expect(p1?.ingress[0]).not.toBe(p2?.ingress[0])
    expect(s.shared()).toBeGreaterThan(0)
  })

  it('lets a shared value go when no object refers to it any more', () => {
    const { s } = store()
    s.upsert('Pod', podJson('shop', 'db-1', '10.0.1.3', 'n1', { app: 'db', hash: 'a1' }))
    s.upsert('NetworkPolicy', allowFromJson('shop', 'p1', 'db', 'web'))
    const one = s.shared()
    // a rollout: the pod's labels change; the old map is not kept
    s.upsert('Pod', podJson('shop', 'db-1', '10.0.1.3', 'n1', { app: 'db', hash: 'b2' }))
    expect(s.shared()).toBe(one)
    s.upsert('NetworkPolicy', allowFromJson('shop', 'p1', 'db', 'api', 81))
    expect(s.shared()).toBe(one)
    s.remove('Pod', podJson('shop', 'db-1', undefined, 'n1'))
    s.remove('NetworkPolicy', allowFromJson('shop', 'p1', 'db', 'web'))
    expect(s.shared()).toBe(0)
  })

  it('a slim entry is still removed by a complete list that no longer shows it', () => {
    const store = new ObjectStore(defaultPipeline)
    store.upsert('Pod', podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }))
    store.upsert('Pod', podJson('shop', 'web', '10.0.1.4', 'n1', { app: 'web' }))
    expect(store.relist('Pod', [podJson('shop', 'web', '10.0.1.4', 'n1', { app: 'web' })], true)).toBe(true)
    expect(store.snapshot().value.pods.map((p) => p.name)).toEqual(['web'])
  })
})
