/**
 * A NetworkPolicy the agent cannot read fails closed (issue 14, item 4; docs/semantics.md#agent-fail-closed):
 * the pods it selects are isolated, in every direction it has, with no allow rule. Skipping it (as before)
 * lifted their isolation.
 */
import { describe, expect, it } from 'vitest'
import { type InvalidObject, ObjectStore } from '../../src/agent/object-store.js'
import { defaultPipeline } from '../../src/agent/pipeline.js'
import { compileNode } from '../../src/backends/index.js'
import type { JsonObject, LabelSelector, PolicyType } from '../../src/model/index.js'
import { namespace, pod } from './fixtures.js'

const policy = (spec: JsonObject, metadata: JsonObject = {}): JsonObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: 'shop', name: 'p', ...metadata },
  spec,
})
const webOnly = [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }]
const sel = (
  matchLabels: Record<string, string> = {},
  matchExpressions: LabelSelector['matchExpressions'] = [],
) => ({
  matchLabels,
  matchExpressions,
})

interface Case {
  readonly name: string
  readonly spec: JsonObject
  readonly metadata?: JsonObject
  /** What is enforced: its podSelector and types, with no rule; or 'as written' (the rules kept). */
  readonly want:
    | {
        readonly podSelector: LabelSelector
        readonly policyTypes: readonly PolicyType[]
        readonly exact: boolean
      }
    | 'as written'
}

const cases: Case[] = [
  {
    name: 'an invalid ipBlock in a rule: the selected pods are isolated for its policyTypes',
    spec: {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }],
    },
    want: { podSelector: sel({ app: 'db' }), policyTypes: ['Ingress'], exact: true },
  },
  {
    name: 'a peer field newer than our schema (after an API upgrade) may change what the rule admits',
    spec: {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: {}, serviceAccountSelector: { matchLabels: { sa: 'x' } } }] }],
    },
    want: { podSelector: sel({ app: 'db' }), policyTypes: ['Ingress', 'Egress'], exact: true },
  },
  {
    name: 'a spec field newer than our schema, egress only',
    spec: { podSelector: {}, policyTypes: ['Egress'], egressRules: [{}] },
    want: { podSelector: sel(), policyTypes: ['Egress'], exact: true },
  },
  {
    name: "policyTypes absent: the API server's defaulting (unreadable egress still counts as egress)",
    spec: { podSelector: {}, ingress: webOnly, egress: 'everything' },
    want: { podSelector: sel(), policyTypes: ['Ingress', 'Egress'], exact: true },
  },
  {
    name: 'policyTypes absent and no egress: ingress only, as defaulting says',
    spec: { podSelector: {}, ingress: [{ ports: [{ protocol: 'tcp', port: 80 }] }] },
    want: { podSelector: sel(), policyTypes: ['Ingress'], exact: true },
  },
  {
    name: 'policyTypes unreadable: both directions',
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Sideways'], ingress: webOnly },
    want: { podSelector: sel(), policyTypes: ['Ingress', 'Egress'], exact: true },
  },
  {
    name: 'a selector requirement it cannot read is dropped: the others select a superset',
    spec: {
      podSelector: {
        matchLabels: { app: 'db' },
        matchExpressions: [
          { key: 'tier', operator: 'Near', values: ['x'] },
          { key: 'env', operator: 'In', values: ['prod'] },
        ],
      },
      policyTypes: ['Ingress'],
      ingress: webOnly,
    },
    want: {
      podSelector: sel({ app: 'db' }, [{ key: 'env', operator: 'In', values: ['prod'] }]),
      policyTypes: ['Ingress'],
      exact: false,
    },
  },
  {
    name: 'an invalid label value in matchLabels drops that label only',
    spec: { podSelector: { matchLabels: { app: 'db', tier: 'not valid!' } }, policyTypes: ['Ingress'] },
    want: { podSelector: sel({ app: 'db' }), policyTypes: ['Ingress'], exact: false },
  },
  {
    name: 'a selector field newer than our schema is dropped (requirements only narrow)',
    spec: {
      podSelector: { matchLabels: { app: 'db' }, matchFields: [{ key: 'x' }] },
      policyTypes: ['Ingress'],
      ingress: webOnly,
    },
    want: { podSelector: sel({ app: 'db' }), policyTypes: ['Ingress'], exact: false },
  },
  {
    name: 'a podSelector that is not an object: every pod of the namespace',
    spec: { podSelector: 'app=db', policyTypes: ['Ingress'], ingress: webOnly },
    want: { podSelector: sel(), policyTypes: ['Ingress'], exact: false },
  },
  {
    name: 'metadata our validator rejects does not change what the rules mean: enforced as written',
    spec: { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'], ingress: webOnly },
    metadata: { labels: { 'bad key!': 'x' } },
    want: 'as written',
  },
]

function run(c: Case) {
  const invalid: InvalidObject[] = []
  const s = new ObjectStore(defaultPipeline, (i) => invalid.push(i))
  s.upsert('Namespace', namespace('shop'))
  s.upsert('Pod', pod('shop', 'db', '10.0.1.3', 'n1', { app: 'db', tier: 'x', env: 'prod' }))
  s.upsert('Pod', pod('shop', 'cache', '10.0.1.4', 'n1', { app: 'cache' }))
  s.upsert('NetworkPolicy', policy(c.spec, c.metadata))
  return { s, invalid }
}

describe('a NetworkPolicy the agent cannot read', () => {
  it.each(cases)('$name', (c) => {
    const { s, invalid } = run(c)
    expect(invalid.map((i) => i.action)).toEqual(['fail-closed'])
    const [p] = s.snapshot().value.policies
    expect(p).toBeDefined()
    if (c.want === 'as written') {
      expect(invalid[0]?.failClosed?.mode).toBe('as-written')
      expect(p?.ingress).toHaveLength(1)
      return
    }
    expect(invalid[0]?.failClosed).toMatchObject({ mode: 'isolate', selectorExact: c.want.exact })
    expect(p).toMatchObject({
      podSelector: c.want.podSelector,
      policyTypes: c.want.policyTypes,
      ingress: [],
      egress: [],
    })
    expect(s.failClosedPolicies()).toBe(1)
  })

  it('isolates the selected pods in the compiled ruleset with no rule that admits anything', () => {
    const { s } = run(cases[0] as Case)
    const text = compileNode(s.snapshot().value, 'n1', 'nftables').value.files['palisade.nft'] ?? ''
    expect(text).toContain('chain pod_in_shop_db {')
    expect(text).toContain('chain pol_shop_p_in {')
    expect(text).not.toMatch(/comment "shop\/p ingress\[/)
    expect(text).not.toContain('chain pod_in_shop_cache {')
  })

  it('stays fail-closed until a readable version arrives, then enforces that one', () => {
    const { s } = run(cases[1] as Case)
    expect(s.snapshot().value.policies[0]?.ingress).toEqual([])
    s.upsert('NetworkPolicy', policy({ podSelector: { matchLabels: { app: 'db' } }, ingress: webOnly }))
    expect(s.snapshot().value.policies[0]?.ingress).toHaveLength(1)
    expect(s.failClosedPolicies()).toBe(0)
  })
})

describe('unknown fields elsewhere stay warnings (version skew)', () => {
  it.each<{ name: string; kind: 'NetworkPolicy' | 'Pod' | 'Namespace'; value: JsonObject }>([
    {
      name: 'in a NetworkPolicy metadata',
      kind: 'NetworkPolicy' as const,
      value: policy({ podSelector: {} }, { newMetaField: 1 }),
    },
    {
      name: "in a Pod's spec",
      kind: 'Pod' as const,
      value: {
        ...pod('shop', 'x', '10.0.1.9', 'n1'),
        spec: { ...(pod('shop', 'x', '10.0.1.9', 'n1').spec as JsonObject), newPodField: true },
      },
    },
    {
      name: 'in a Namespace',
      kind: 'Namespace' as const,
      value: { ...namespace('x'), spec: { newNsField: 1 } },
    },
  ])('$name', ({ kind, value }) => {
    const invalid: InvalidObject[] = []
    const s = new ObjectStore(defaultPipeline, (i) => invalid.push(i))
    expect(s.upsert(kind, value)).toBe(true)
    expect(invalid).toEqual([])
  })
})
