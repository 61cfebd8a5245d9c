/**
 * A ClusterNetworkPolicy the agent cannot read (issue 13; docs/semantics.md#agent-cnp-fail-closed): one read
 * before keeps its last valid version; one never read is enforced as a Deny of everything for its subject
 * (widened when it does not read) at its tier and priority. Skipping it would lift an Admin Deny.
 */
import { describe, expect, it } from 'vitest'
import { buildFailClosedClusterPolicy, FAIL_CLOSED_RULE } from '../../src/agent/fail-closed-cnp.js'
import { type InvalidObject, ObjectStore } from '../../src/agent/object-store.js'
import { defaultPipeline, validateApiObject } from '../../src/agent/pipeline.js'
import { compileNode } from '../../src/backends/index.js'
import { type JsonObject, type PolicyType, rawFromValue } from '../../src/model/index.js'
import { namespaceJson, podJson } from '../fixtures.js'

const cnp = (spec: JsonObject | string, metadata: JsonObject = {}, apiVersion = 'v1beta1'): JsonObject => ({
  apiVersion: `policy.networking.k8s.io/${apiVersion}`,
  kind: 'ClusterNetworkPolicy',
  metadata: { name: 'guard', ...metadata },
  spec,
})
const denyFromAll = [{ action: 'Deny', from: [{ namespaces: {} }] }]
const acceptToAll = [{ action: 'Accept', to: [{ namespaces: {} }] }]
const prod = { matchLabels: { env: 'prod' } }

interface Case {
  readonly name: string
  readonly value: JsonObject
  readonly want:
    | 'as written'
    | {
        readonly tier: 'Admin' | 'Baseline'
        readonly priority: number
        readonly directions: readonly PolicyType[]
        readonly subject: JsonObject
        readonly exact: boolean
      }
}

const cases: Case[] = [
  {
    name: 'priority out of range: Deny for the subject at priority 0 of its tier',
    value: cnp({ tier: 'Admin', priority: 5000, subject: { namespaces: prod }, ingress: denyFromAll }),
    want: { tier: 'Admin', priority: 0, directions: ['Ingress'], subject: { namespaces: prod }, exact: true },
  },
  {
    name: 'a rule with an unknown action: both given directions denied, tier and priority kept',
    value: cnp({
      tier: 'Baseline',
      priority: 7,
      subject: { namespaces: prod },
      ingress: [{ action: 'Maybe', from: [{ namespaces: {} }] }],
      egress: acceptToAll,
    }),
    want: {
      tier: 'Baseline',
      priority: 7,
      directions: ['Ingress', 'Egress'],
      subject: { namespaces: prod },
      exact: true,
    },
  },
  {
    name: 'a spec field newer than our schema is not read past: Deny, egress only',
    value: cnp({
      tier: 'Admin',
      priority: 3,
      subject: { namespaces: prod },
      egress: acceptToAll,
      bandwidth: 1,
    }),
    want: { tier: 'Admin', priority: 3, directions: ['Egress'], subject: { namespaces: prod }, exact: true },
  },
  {
    name: 'unreadable tier: Admin, the first tier (denies the most)',
    value: cnp({ tier: 'Middle', priority: 3, subject: { namespaces: prod }, ingress: denyFromAll }),
    want: { tier: 'Admin', priority: 3, directions: ['Ingress'], subject: { namespaces: prod }, exact: true },
  },
  {
    name: 'a pods subject whose podSelector does not read: widened to every pod of its namespaces',
    value: cnp({
      tier: 'Admin',
      priority: 9,
      subject: {
        pods: {
          namespaceSelector: prod,
          podSelector: { matchExpressions: [{ key: 'app', values: ['x'] }] },
        },
      },
      ingress: denyFromAll,
    }),
    want: {
      tier: 'Admin',
      priority: 9,
      directions: ['Ingress'],
      subject: { pods: { namespaceSelector: prod, podSelector: {} } },
      exact: false,
    },
  },
  {
    name: 'a subject with a field we do not know: every pod of the cluster',
    value: cnp({ tier: 'Admin', priority: 1, subject: { serviceAccounts: {} }, ingress: denyFromAll }),
    want: { tier: 'Admin', priority: 1, directions: ['Ingress'], subject: { namespaces: {} }, exact: false },
  },
  {
    name: 'a subject with two fields: every pod of the cluster',
    value: cnp({
      tier: 'Baseline',
      priority: 1,
      subject: { namespaces: prod, pods: { namespaceSelector: {}, podSelector: {} } },
      egress: acceptToAll,
    }),
    want: {
      tier: 'Baseline',
      priority: 1,
      directions: ['Egress'],
      subject: { namespaces: {} },
      exact: false,
    },
  },
  {
    name: 'spec not an object: every pod, both directions, Admin priority 0',
    value: cnp('deny everything'),
    want: {
      tier: 'Admin',
      priority: 0,
      directions: ['Ingress', 'Egress'],
      subject: { namespaces: {} },
      exact: false,
    },
  },
  {
    name: 'no rules at all (only the priority is wrong): the stand-in decides nothing either',
    value: cnp({ tier: 'Admin', priority: -1, subject: { namespaces: prod } }),
    want: { tier: 'Admin', priority: 0, directions: [], subject: { namespaces: prod }, exact: true },
  },
  {
    name: 'only metadata is unreadable: enforced as written',
    value: cnp(
      { tier: 'Admin', priority: 2, subject: { namespaces: prod }, ingress: denyFromAll },
      { labels: { 'bad key!': 'x' } },
    ),
    want: 'as written',
  },
]

describe('buildFailClosedClusterPolicy (pure)', () => {
  it.each(cases)('$name', ({ value, want }) => {
    const fc = buildFailClosedClusterPolicy(value, validateApiObject)
    expect(fc).toBeDefined()
    if (!fc) return
    // The stand-in is a valid policy of the same name and version.
    expect(validateApiObject(fc.raw).filter((d) => d.severity === 'error')).toEqual([])
    expect((fc.raw.value.metadata as JsonObject).name).toBe('guard')
    expect(fc.raw.value.apiVersion).toBe(value.apiVersion)
    if (want === 'as written') {
      expect(fc.mode).toBe('as-written')
      expect(fc.raw.value.spec).toEqual(value.spec)
      return
    }
    expect(fc.mode).toBe('deny')
    expect({
      tier: fc.tier,
      priority: fc.priority,
      directions: fc.directions,
      subject: fc.subject,
      exact: fc.subjectExact,
    }).toEqual(want)
    const spec = fc.raw.value.spec as JsonObject
    expect(spec.tier).toBe(want.tier)
    expect(spec.priority).toBe(want.priority)
    expect(spec.subject).toEqual(want.subject)
    const rules = [...((spec.ingress as JsonObject[]) ?? []), ...((spec.egress as JsonObject[]) ?? [])]
    expect(rules).toHaveLength(want.directions.length)
    for (const r of rules) expect(r).toMatchObject({ name: FAIL_CLOSED_RULE, action: 'Deny' })
  })

  it('gives up only when the name cannot be read', () => {
    expect(buildFailClosedClusterPolicy(cnp({}, { name: '' }), validateApiObject)).toBeUndefined()
  })

  it('an unknown peer is not a reason: the API says its rule fails closed, the policy is read', () => {
    const value = cnp({
      tier: 'Admin',
      priority: 1,
      subject: { namespaces: prod },
      ingress: [{ action: 'Deny', from: [{ futurePeer: {} }] }],
    })
    expect(
      validateApiObject(rawFromValue(value, { file: 'x' })).filter((d) => d.severity === 'error'),
    ).toEqual([])
  })
})

function store() {
  const invalid: InvalidObject[] = []
  return { s: new ObjectStore(defaultPipeline, (i) => invalid.push(i)), invalid }
}

const validGuard = cnp({ tier: 'Admin', priority: 4, subject: { namespaces: prod }, ingress: denyFromAll })
const invalidGuard = cnp({
  tier: 'Admin',
  priority: 4000,
  subject: { namespaces: prod },
  ingress: denyFromAll,
})
const acceptAll = cnp({
  tier: 'Admin',
  priority: 4,
  subject: { namespaces: prod },
  ingress: [{ action: 'Accept', from: [{ namespaces: {} }] }],
})

describe('the object store and invalid ClusterNetworkPolicies', () => {
  it('one never valid fails closed: a Deny for its subject, reported, counted, removed with it', () => {
    const { s, invalid } = store()
    expect(s.upsert('ClusterNetworkPolicy', invalidGuard)).toBe(true)
    expect(invalid.map((i) => [i.kind, i.action, i.failClosedCluster?.mode])).toEqual([
      ['ClusterNetworkPolicy', 'fail-closed', 'deny'],
    ])
    const cps = s.snapshot().value.clusterPolicies ?? []
    expect(cps.map((p) => [p.name, p.tier, p.priority, p.ingress.map((r) => r.action)])).toEqual([
      ['guard', 'Admin', 0, ['Deny']],
    ])
    expect(s.failClosedPolicies()).toBe(1)
    expect(s.invalidCount()).toBe(1)
    expect(s.remove('ClusterNetworkPolicy', invalidGuard)).toBe(true)
    expect(s.snapshot().value.clusterPolicies).toBeUndefined()
    expect(s.failClosedPolicies()).toBe(0)
  })

  it('one read before keeps its last valid version (an Accept stays an Accept, as it was enforced)', () => {
    const { s, invalid } = store()
    s.upsert('ClusterNetworkPolicy', acceptAll)
    expect(s.upsert('ClusterNetworkPolicy', invalidGuard)).toBe(false)
    expect(invalid.map((i) => i.action)).toEqual(['kept-last-valid'])
    expect(s.snapshot().value.clusterPolicies?.map((p) => p.ingress[0]?.action)).toEqual(['Accept'])
    // A readable version replaces it.
    expect(s.upsert('ClusterNetworkPolicy', validGuard)).toBe(true)
    expect(s.snapshot().value.clusterPolicies?.map((p) => p.ingress[0]?.action)).toEqual(['Deny'])
  })

  it('a fail-closed stand-in is replaced by the first readable version', () => {
    const { s } = store()
    s.upsert('ClusterNetworkPolicy', invalidGuard)
    s.upsert('ClusterNetworkPolicy', acceptAll)
    expect(s.snapshot().value.clusterPolicies?.map((p) => [p.priority, p.ingress[0]?.action])).toEqual([
      [4, 'Accept'],
    ])
    expect(s.failClosedPolicies()).toBe(0)
    expect(s.invalidCount()).toBe(0)
  })

  it('the stand-in reaches the kernel: the subject pod gets the Admin Deny', () => {
    const { s } = store()
    s.upsert('Namespace', namespaceJson('shop', { env: 'prod' }))
    s.upsert('Pod', podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }))
    s.upsert('Pod', podJson('shop', 'web', '10.0.2.3', 'n2', { app: 'web' }))
    const before = compileNode(s.snapshot().value, 'n1', 'nftables').value.files['palisade.nft'] ?? ''
    s.upsert('ClusterNetworkPolicy', invalidGuard)
    const after = compileNode(s.snapshot().value, 'n1', 'nftables').value.files['palisade.nft'] ?? ''
    expect(before).not.toContain('adm_')
    expect(after).toContain('adm_')
    expect(after).not.toBe(before)
  })
})
