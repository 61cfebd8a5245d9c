/**
 * The agent and ClusterNetworkPolicies (issue 13, the agent part; docs/semantics.md#agent-cnp-discovery):
 * discovery decides whether they are watched (pure steps first), then the agent against the fake API
 * server with a recorded kernel: served at start (the first ruleset already has them), not served (runs,
 * says so once, keeps asking), served later, added/changed/deleted, unreadable (fail closed), 410 Gone,
 * the CRD removed (kept, then dropped once confirmed), discovery failing (no answer is not "not served").
 */
import { KubeConfig } from '@kubernetes/client-node'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeApiServer } from '../../harness/fake-apiserver.js'
import {
  type Agent,
  type AgentOptions,
  type CnpState,
  type CnpTiming,
  type DiscoveryAnswer,
  INITIAL_CNP_STATE,
  nextCnpStep,
  startAgent,
} from '../../src/agent/index.js'
import { printRuleset, type Ruleset } from '../../src/backends/index.js'
import type { JsonObject } from '../../src/model/index.js'
import { allowFromJson, namespaceJson, podJson } from '../fixtures.js'
import { recordingKernel, waitFor } from './fixtures.js'

const T: CnpTiming = { retryMs: 30_000, maxMs: 300_000, failedMs: 1000, confirmMs: 30_000 }
const served = (version: 'v1beta1' | 'v1alpha2' = 'v1beta1'): DiscoveryAnswer => ({ kind: 'served', version })
const notServed: DiscoveryAnswer = { kind: 'not-served' }
const failed: DiscoveryAnswer = { kind: 'failed', error: 'connect ECONNREFUSED' }
const held: CnpState = { held: true, streak: 0, known: 'served' }

describe('discovery steps (pure)', () => {
  const cases: {
    name: string
    state: CnpState
    answer: DiscoveryAnswer
    now?: number
    want: {
      start?: string
      drop: boolean
      nextInMs?: number
      say?: string
      informing?: string
      held?: boolean
    }
  }[] = [
    {
      name: 'served at start: start the informers in that version, no timer (404 tells)',
      state: INITIAL_CNP_STATE,
      answer: served(),
      want: { start: 'v1beta1', drop: false, say: 'served', informing: 'v1beta1', held: false },
    },
    {
      name: 'only v1alpha2 served: that version',
      state: INITIAL_CNP_STATE,
      answer: served('v1alpha2'),
      want: { start: 'v1alpha2', drop: false, say: 'served', informing: 'v1alpha2', held: false },
    },
    {
      name: 'not served at start: said once, asked again in 30 s',
      state: INITIAL_CNP_STATE,
      answer: notServed,
      want: { drop: false, nextInMs: 30_000, say: 'not-served', held: false },
    },
    {
      name: 'not served again: not said again, the wait doubles',
      state: { held: false, streak: 1, known: 'not-served' },
      answer: notServed,
      want: { drop: false, nextInMs: 60_000, held: false },
    },
    {
      name: 'not served for long: the wait stops at 5 min',
      state: { held: false, streak: 9, known: 'not-served' },
      answer: notServed,
      want: { drop: false, nextInMs: 300_000, held: false },
    },
    {
      name: 'served later: the informers start',
      state: { held: false, streak: 4, known: 'not-served' },
      answer: served(),
      want: { start: 'v1beta1', drop: false, say: 'served', informing: 'v1beta1', held: false },
    },
    {
      name: 'discovery fails at start: no answer, asked again soon, readiness keeps waiting',
      state: INITIAL_CNP_STATE,
      answer: failed,
      want: { drop: false, nextInMs: 1000, say: 'failed', held: false },
    },
    {
      name: 'discovery fails while watching: nothing changes (the informer tells of a 404)',
      state: { informing: 'v1beta1', known: 'served', held: false, streak: 0 },
      answer: failed,
      want: { drop: false, say: 'failed', informing: 'v1beta1', held: false },
    },
    {
      name: 'after a 404, served again (transient): the informers start again, nothing dropped',
      state: held,
      answer: served(),
      want: { start: 'v1beta1', drop: false, say: 'served', informing: 'v1beta1', held: false },
    },
    {
      name: 'after a 404, first "not served": kept, confirmed 30 s later',
      state: held,
      answer: notServed,
      now: 1000,
      want: { drop: false, nextInMs: 30_000, say: 'held', held: true },
    },
    {
      name: 'after a 404, "not served" again too early: still kept',
      state: { ...held, notServedSince: 1000 },
      answer: notServed,
      now: 21_000,
      want: { drop: false, nextInMs: 10_000, held: true },
    },
    {
      name: 'after a 404, "not served" confirmed: dropped (deleting the CRD deleted them)',
      state: { ...held, notServedSince: 1000 },
      answer: notServed,
      now: 31_000,
      want: { drop: true, nextInMs: 30_000, say: 'removed', held: false },
    },
    {
      name: 'after a 404, discovery fails: kept, asked again',
      state: { ...held, notServedSince: 1000 },
      answer: failed,
      now: 31_000,
      want: { drop: false, nextInMs: 1000, say: 'failed', held: true },
    },
  ]
  it.each(cases)('$name', ({ state, answer, now, want }) => {
    const step = nextCnpStep(state, answer, now ?? 0, T)
    expect({
      start: step.start,
      drop: step.drop,
      nextInMs: step.nextInMs,
      say: step.say,
      informing: step.state.informing,
      held: step.state.held,
    }).toEqual({
      start: undefined,
      nextInMs: undefined,
      say: undefined,
      informing: undefined,
      held: undefined,
      ...want,
    })
  })
})

// --- the agent against the fake API server ---------------------------------------------------------

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const cnp = (name: string, spec: JsonObject): JsonObject => ({
  apiVersion: 'policy.networking.k8s.io/v1beta1',
  kind: 'ClusterNetworkPolicy',
  metadata: { name },
  spec,
})
/** Admin: no pod of a team=shop namespace takes connections from app=web pods. */
const guard = (action = 'Deny', priority = 4) =>
  cnp('guard', {
    tier: 'Admin',
    priority,
    subject: { namespaces: { matchLabels: { team: 'shop' } } },
    ingress: [
      {
        name: 'no-web',
        action,
        from: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { role: 'web' } } } }],
      },
    ],
  })
/** Admin: nothing reaches role=infra nodes. */
const noInfra = cnp('no-infra', {
  tier: 'Admin',
  priority: 2,
  subject: { namespaces: {} },
  egress: [{ action: 'Deny', to: [{ nodes: { matchLabels: { role: 'infra' } } }] }],
})
const node = (name: string, address: string, labels: Record<string, string>): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels },
  spec: { podCIDR: '10.0.1.0/24', podCIDRs: ['10.0.1.0/24'] },
  status: {
    addresses: [
      { type: 'InternalIP', address },
      { type: 'Hostname', address: name },
    ],
    images: [{ names: ['registry/big-image:1'], sizeBytes: 1 }],
  },
})

async function rig(o: {
  crd?: 'v1beta1' | 'v1alpha2'
  failDiscovery?: number
  extra?: Partial<AgentOptions>
}) {
  const api = new FakeApiServer()
  await api.start()
  cleanups.push(() => api.stop())
  api.crdVersion = o.crd
  if (o.failDiscovery !== undefined) api.failDiscovery = o.failDiscovery
  api.apply('Namespace', namespaceJson('shop', { team: 'shop' }))
  api.apply('Pod', podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }))
  api.apply('Pod', podJson('shop', 'web', '10.0.2.3', 'n2', { role: 'web' }))
  api.apply('NetworkPolicy', allowFromJson('shop', 'web-to-db', 'db', 'web', 5432))
  api.apply('Node', node('n1', '192.168.7.1', { role: 'worker' }))
  api.apply('Node', node('n2', '192.168.7.2', { role: 'infra' }))
  if (o.crd) api.apply('ClusterNetworkPolicy', guard())
  const kc = new KubeConfig()
  kc.loadFromString(api.kubeconfig())
  const k = recordingKernel()
  const logs: Record<string, unknown>[] = []
  const logger = pino({ level: 'info' }, { write: (s: string) => logs.push(JSON.parse(s)) })
  const agent: Agent = await startAgent(
    {
      nodeName: 'n1',
      kubeConfig: kc,
      backend: 'nftables',
      syncPeriodMs: 60_000,
      cacheSyncTimeoutMs: 10_000,
      debounceMs: 10,
      cleanupOnExit: false,
      logger,
      watchBackoffInitialMs: 20,
      retryInitialMs: 50,
      retryMaxMs: 200,
      cnpDiscovery: { retryMs: 50, maxMs: 200, failedMs: 20, confirmMs: 300 },
      ...o.extra,
    },
    { dataplane: k.dataplane },
  )
  cleanups.push(() => agent.stop())
  const said = (msg: RegExp) => logs.filter((l) => typeof l.msg === 'string' && msg.test(l.msg)).length
  const discoveries = () =>
    api.requests.filter(
      (r) => r.path.startsWith('/apis/policy.networking.k8s.io/v1beta1') && r.path.split('/').length === 4,
    ).length
  return { api, agent, k, logs, said, discoveries }
}

const admChains = (text: string) => [...text.matchAll(/chain (adm_\w+|bl_\w+) \{/g)].map((m) => m[1])
/** The ruleset in force, as nft text. */
const current = (r: { agent: Agent }) => {
  const rs = r.agent.current()
  return rs ? (printRuleset(rs).files['palisade.nft'] ?? '') : ''
}

describe('agent and ClusterNetworkPolicies (fake API server, recorded kernel)', () => {
  it('CRD served at start: the first ruleset already enforces the Admin Deny', async () => {
    const r = await rig({ crd: 'v1beta1' })
    await r.agent.ready
    expect(r.k.full).toHaveLength(1)
    const first = r.k.full[0] ? (printRuleset(r.k.full[0]).files['palisade.nft'] ?? '') : ''
    expect(admChains(first)).toEqual(['adm_guard_in'])
    expect(first).toContain('Admin guard priority 4 ingress[0] no-web: Deny')
    expect(r.agent.store.counts()).toMatchObject({ ClusterNetworkPolicy: 1, Node: 2 })
    expect(r.agent.health().details).toContain(
      'ClusterNetworkPolicies: served (policy.networking.k8s.io/v1beta1)',
    )
    expect(r.said(/are served: watching them and the Nodes/)).toBe(1)
  })

  it('CRD served in v1alpha2 only: listed and enforced in that version', async () => {
    const r = await rig({ crd: 'v1alpha2' })
    await r.agent.ready
    expect(admChains(r.k.text)).toEqual(['adm_guard_in'])
    expect(
      r.api.requests.some((q) => q.path === '/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies'),
    ).toBe(true)
  })

  it('not served: the agent enforces NetworkPolicies, says so once, keeps asking, and takes the CRD when it comes', async () => {
    const r = await rig({})
    await r.agent.ready
    expect(admChains(r.k.text)).toEqual([])
    expect(r.k.text).toContain('chain pod_in_shop_db')
    // Nodes are not watched without the CRD.
    expect(
      r.api.requests.some((q) => q.path === '/api/v1/nodes' && q.query.fieldSelector === undefined),
    ).toBe(false)
    await waitFor(() => r.discoveries() >= 4, 10_000, 'discovery asked again (backoff)')
    expect(r.said(/not served/)).toBe(1)
    // The CRD is installed and a policy created: picked up at the next discovery, no restart.
    r.api.crdVersion = 'v1beta1'
    r.api.apply('ClusterNetworkPolicy', guard())
    await waitFor(() => admChains(current(r)).includes('adm_guard_in'), 10_000, 'the Admin Deny enforced')
    expect(r.agent.store.counts().Node).toBe(2)
  })

  it('a ClusterNetworkPolicy added, changed and deleted reaches the ruleset; nodes peers take the Nodes addresses', async () => {
    const r = await rig({ crd: 'v1beta1' })
    await r.agent.ready
    r.api.apply('ClusterNetworkPolicy', noInfra)
    await waitFor(() => current(r).includes('192.168.7.2'), 10_000, 'the infra node address in a set')
    expect(current(r)).not.toMatch(/elements = \{[^}]*192\.168\.7\.1/)
    // A Node relabelled into the selector joins the set.
    r.api.apply('Node', node('n1', '192.168.7.1', { role: 'infra' }))
    await waitFor(() => /192\.168\.7\.1/.test(current(r)), 10_000, 'the relabelled node joins')
    // Changed: Deny becomes Pass.
    r.api.apply('ClusterNetworkPolicy', guard('Pass'))
    await waitFor(() => current(r).includes('no-web: Pass'), 10_000, 'the rule became a Pass')
    // Deleted.
    r.api.delete('ClusterNetworkPolicy', '', 'guard')
    await waitFor(() => r.agent.store.counts().ClusterNetworkPolicy === 1, 10_000, 'guard deleted')
    await waitFor(() => !/jump adm_guard_in/.test(current(r)), 10_000, 'guard gone from the rules')
  })

  it('an unreadable ClusterNetworkPolicy fails closed: a Deny for its subject, an Event, the metric', async () => {
    const r = await rig({ crd: 'v1beta1' })
    await r.agent.ready
    r.api.apply(
      'ClusterNetworkPolicy',
      cnp('broken', {
        tier: 'Baseline',
        priority: 5000,
        subject: { namespaces: { matchLabels: { team: 'shop' } } },
        ingress: [{ action: 'Accept', from: [{ namespaces: {} }] }],
      }),
    )
    await waitFor(() => current(r).includes('palisade-fail-closed'), 10_000, 'the stand-in enforced')
    expect(current(r)).toContain('chain bl_broken_in')
    await waitFor(() => r.api.events.some((e) => e.reason === 'PalisadeFailClosed'), 10_000, 'the Event')
    const ev = r.api.events.find((e) => e.reason === 'PalisadeFailClosed') as JsonObject
    expect(ev.involvedObject).toMatchObject({ kind: 'ClusterNetworkPolicy', name: 'broken' })
    expect(String(ev.message)).toContain('in the Baseline tier at priority 0')
    const metrics = await r.agent.metrics.registry.metrics()
    expect(metrics).toMatch(/palisade_fail_closed_policies 1/)
    expect(metrics).toMatch(/palisade_objects_watched\{kind="ClusterNetworkPolicy"\} 2/)
  })

  it('410 Gone: relists ClusterNetworkPolicies and forgets one deleted while away', async () => {
    const r = await rig({ crd: 'v1beta1' })
    await r.agent.ready
    r.api.apply('ClusterNetworkPolicy', noInfra)
    await waitFor(() => r.agent.store.counts().ClusterNetworkPolicy === 2, 10_000, 'two policies')
    const lists = () =>
      r.api.requests.filter((q) => q.path.endsWith('/clusternetworkpolicies') && q.query.watch === undefined)
        .length
    const before = lists()
    await r.api.stop()
    r.api.delete('ClusterNetworkPolicy', '', 'guard')
    r.api.compact()
    await r.api.start()
    await waitFor(
      () => r.agent.store.counts().ClusterNetworkPolicy === 1,
      15_000,
      'guard forgotten after the relist',
    )
    expect(lists()).toBeGreaterThan(before)
    await waitFor(() => !/jump adm_guard_in/.test(current(r)), 10_000, 'guard gone from the rules')
  })

  it('a ClusterNetworkPolicy list with an item it cannot decode deletes nothing until a complete one', async () => {
    const r = await rig({ crd: 'v1beta1', extra: { relistInitialMs: 20 } })
    await r.agent.ready
    // A line it cannot decode makes the informer list again (it may have carried a change).
    const relist = () =>
      waitFor(
        () => r.api.injectWatchLine('ClusterNetworkPolicy', 'not json') > 0,
        10_000,
        'a watch to write to',
      )
    // guard is gone without a word, and the next list holds an item without metadata.
    r.api.forget('ClusterNetworkPolicy', '', 'guard')
    r.api.listExtras.ClusterNetworkPolicy = [{ spec: { tier: 'Admin' } }]
    await relist()
    await waitFor(
      () => r.agent.health().details.some((d) => d.includes('deletions held back): ClusterNetworkPolicy')),
      10_000,
      'the partial list reported',
    )
    expect(r.agent.store.counts().ClusterNetworkPolicy).toBe(1)
    expect(admChains(current(r))).toEqual(['adm_guard_in'])
    // A complete list: guard goes.
    r.api.listExtras.ClusterNetworkPolicy = []
    await relist()
    await waitFor(() => r.agent.store.counts().ClusterNetworkPolicy === 0, 10_000, 'guard gone')
    await waitFor(() => !/jump adm_guard_in/.test(current(r)), 10_000, 'guard gone from the rules')
  })

  it('the CRD removed: its policies stay until discovery confirms, then go', async () => {
    const r = await rig({ crd: 'v1beta1' })
    await r.agent.ready
    const t0 = Date.now()
    r.api.removeCrd()
    await waitFor(() => r.said(/until a second answer confirms/) === 1, 10_000, 'held')
    // Still enforced while held.
    expect(r.agent.store.counts().ClusterNetworkPolicy).toBe(1)
    expect(r.agent.store.snapshot().value.clusterPolicies?.map((p) => p.name)).toEqual(['guard'])
    await waitFor(() => r.said(/CRD removed/) === 1, 10_000, 'dropped')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300)
    expect(r.agent.store.counts()).toMatchObject({ ClusterNetworkPolicy: 0, Node: 0 })
    await waitFor(() => !/jump adm_guard_in/.test(current(r)), 10_000, 'guard gone from the rules')
    // Installed again: watched again.
    r.api.crdVersion = 'v1beta1'
    r.api.apply('ClusterNetworkPolicy', guard())
    await waitFor(() => r.agent.store.counts().ClusterNetworkPolicy === 1, 10_000, 'watched again')
  })

  it('discovery failing is no answer: not ready until it answers, then enforcing with the Admin Deny', async () => {
    const r = await rig({ crd: 'v1beta1', failDiscovery: 503 })
    let ready = false
    void r.agent.ready.then(() => {
      ready = true
    })
    await waitFor(() => r.discoveries() >= 3, 10_000, 'discovery retried')
    expect(ready).toBe(false)
    expect(r.k.full).toHaveLength(0)
    expect(r.said(/discovery failed/)).toBe(1)
    r.api.failDiscovery = undefined
    await r.agent.ready
    expect(r.k.full).toHaveLength(1)
    expect(admChains(printRuleset(r.k.full[0] as Ruleset).files['palisade.nft'] ?? '')).toEqual([
      'adm_guard_in',
    ])
  })
})
