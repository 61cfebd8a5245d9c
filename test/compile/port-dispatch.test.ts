/**
 * Port dispatch of ordered chain lists (src/compile/port-dispatch.ts, docs/dataplane.md#port-dispatch):
 * the slices keep the list's order and skip only chains that cannot match a port; and on random tier
 * rule lists with overlapping ports (Admin and Baseline, Accept/Deny/Pass, a few rules for every port
 * or a named port) plus NetworkPolicies naming overlapping ports, the nftables and iptables rulesets
 * (whose dispatches they exercise: checked) decide every connection like the engine.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileNode } from '../../src/backends/index.js'
import { type DispatchItem, dispatchPays, portDispatch } from '../../src/compile/index.js'
import type {
  ClusterNetworkPolicy,
  ClusterPolicyPort,
  ClusterPolicyRule,
  ClusterState,
  LabelSelector,
  NetworkPolicy,
  Pod,
  Protocol,
} from '../../src/model/index.js'
import { compareClusterPolicies } from '../../src/model/index.js'
import { IMPLEMENTATIONS } from '../conformance/implementations.js'

const tcp = (from: number, to = from) => ({ protocol: 'TCP' as const, range: { from, to } })
const udp = (from: number, to = from) => ({ protocol: 'UDP' as const, range: { from, to } })

describe('portDispatch', () => {
  it.each<{
    name: string
    items: DispatchItem[]
    always: string[]
    slices: [string, number, number, string[]][]
  }>([
    {
      name: 'disjoint ports: one chain per slice',
      items: [
        { id: 'a', ports: [tcp(80)] },
        { id: 'b', ports: [tcp(81)] },
      ],
      always: [],
      slices: [
        ['TCP', 80, 80, ['a']],
        ['TCP', 81, 81, ['b']],
      ],
    },
    {
      name: 'overlapping ranges keep the list order, not the order of the ranges',
      items: [
        { id: 'late-wide', ports: [tcp(80, 90)] },
        { id: 'early-narrow', ports: [tcp(85)] },
      ],
      always: [],
      slices: [
        ['TCP', 80, 84, ['late-wide']],
        ['TCP', 85, 85, ['late-wide', 'early-narrow']],
        ['TCP', 86, 90, ['late-wide']],
      ],
    },
    {
      name: 'a chain for every port is in every slice, at its place in the list',
      items: [{ id: 'a', ports: [tcp(80)] }, { id: 'all' }, { id: 'b', ports: [tcp(80), udp(53)] }],
      always: ['all'],
      slices: [
        ['TCP', 80, 80, ['a', 'all', 'b']],
        ['UDP', 53, 53, ['all', 'b']],
      ],
    },
    {
      name: 'two overlapping ranges of one chain count once; adjacent equal slices merge',
      items: [
        { id: 'a', ports: [tcp(80, 8080), tcp(80), tcp(8081)] },
        { id: 'b', ports: [udp(1)] },
      ],
      always: [],
      slices: [
        ['TCP', 80, 8081, ['a']],
        ['UDP', 1, 1, ['b']],
      ],
    },
    {
      name: 'a chain that matches nothing is never visited',
      items: [
        { id: 'none', ports: [] },
        { id: 'a', ports: [tcp(1, 65535)] },
      ],
      always: [],
      slices: [['TCP', 1, 65535, ['a']]],
    },
  ])('$name', ({ items, always, slices }) => {
    const d = portDispatch(items)
    expect(d.always).toEqual(always)
    expect(d.slices.map((s) => [s.protocol, s.from, s.to, s.ids])).toEqual(slices)
  })

  it('a dispatch pays when at least two chains can be skipped by port', () => {
    const d = portDispatch([{ id: 'x' }, { id: 'a', ports: [tcp(80)] }, { id: 'b', ports: [tcp(0, 10)] }])
    expect(dispatchPays(d)).toBe(true)
    expect(dispatchPays(portDispatch([{ id: 'a', ports: [tcp(80)] }, { id: 'x' }]))).toBe(false)
    expect(
      dispatchPays(
        portDispatch([
          { id: 'a', ports: [] },
          { id: 'b', ports: [] },
        ]),
      ),
    ).toBe(false)
  })

  it('a slice holds exactly the chains that see every packet and those with a port in it, in list order', () => {
    const item = fc.oneof(
      { weight: 1, arbitrary: fc.constant(undefined) },
      {
        weight: 4,
        arbitrary: fc.array(
          fc
            .tuple(fc.constantFrom<Protocol>('TCP', 'UDP'), fc.integer({ min: 0, max: 20 }), fc.nat(5))
            .map(([protocol, from, len]) => ({ protocol, range: { from, to: from + len } })),
          { maxLength: 3 },
        ),
      },
    )
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), (specs) => {
        const items: DispatchItem[] = specs.map((ports, i) =>
          ports === undefined ? { id: `c${i}` } : { id: `c${i}`, ports },
        )
        const d = portDispatch(items)
        for (const protocol of ['TCP', 'UDP'] as const)
          for (let port = 0; port <= 30; port++) {
            const expected = items
              .filter(
                (it) =>
                  it.ports === undefined ||
                  it.ports.some((p) => p.protocol === protocol && p.range.from <= port && port <= p.range.to),
              )
              .map((it) => it.id)
            const slice = d.slices.find((s) => s.protocol === protocol && s.from <= port && port <= s.to)
            expect(slice?.ids ?? d.always).toEqual(expected)
          }
      }),
      { numRuns: 300 },
    )
  })
})

const sel = (matchLabels: Record<string, string>): LabelSelector => ({ matchLabels, matchExpressions: [] })
const PORTS = [80, 81, 82, 443, 8080]
const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP']

/** A random cluster whose server pod is selected by many tier policies and NetworkPolicies with overlapping ports. */
function tieredCluster(seed: number): ClusterState {
  let x = seed >>> 0 || 1
  const rnd = () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
  const int = (n: number) => Math.floor(rnd() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T
  const pod = (name: string, node: string, ip: string, labels: Record<string, string>): Pod => ({
    namespace: 'ns',
    name,
    labels,
    ips: [ip],
    ports: [
      { name: 'http', containerPort: 81, protocol: 'TCP' },
      { name: 'dns', containerPort: 82, protocol: 'UDP' },
    ],
    nodeName: node,
    hostNetwork: false,
  })
  const pods = [
    pod('server', 'node-1', '10.0.1.10', { app: 'server', role: 'a' }),
    pod('c0', 'node-1', '10.0.1.11', { role: 'a' }),
    pod('c1', 'node-1', '10.0.1.12', { role: 'b' }),
    pod('c2', 'node-2', '10.0.2.11', { role: 'a' }),
    pod('c3', 'node-2', '10.0.2.12', { role: 'b', app: 'server' }),
  ]
  const port = (): ClusterPolicyPort => {
    const r = rnd()
    if (r < 0.05) return { kind: 'named', name: pick(['http', 'dns']) }
    const from = pick(PORTS)
    return r < 0.7
      ? { kind: 'port', protocol: pick(PROTOCOLS), port: from }
      : { kind: 'port', protocol: pick(PROTOCOLS), port: from, endPort: from + pick([1, 2, 400, 8000]) }
  }
  const rule = (): ClusterPolicyRule => ({
    action: pick(['Accept', 'Deny', 'Pass'] as const),
    peers: [
      rnd() < 0.3
        ? { kind: 'namespaces', namespaceSelector: sel({}) }
        : { kind: 'pods', namespaceSelector: sel({}), podSelector: sel({ role: pick(['a', 'b']) }) },
    ],
    ...(rnd() < 0.1 ? {} : { ports: Array.from({ length: 1 + int(2) }, port) }),
  })
  const clusterPolicies: ClusterNetworkPolicy[] = Array.from({ length: 2 + int(7) }, (_, i) => ({
    name: `cnp${i}`,
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    tier: rnd() < 0.7 ? 'Admin' : 'Baseline',
    priority: pick([0, 10, 20]),
    subject: {
      kind: 'pods',
      namespaceSelector: sel({}),
      podSelector: sel(rnd() < 0.8 ? { app: 'server' } : { role: 'b' }),
    },
    ingress: Array.from({ length: int(3) }, rule),
    egress: Array.from({ length: int(3) }, rule),
  }))
  const npPort = () => {
    const from = pick(PORTS)
    return rnd() < 0.1
      ? { protocol: pick(PROTOCOLS), port: 'http' }
      : { protocol: pick(PROTOCOLS), port: from, ...(rnd() < 0.3 ? { endPort: from + pick([1, 400]) } : {}) }
  }
  const policies: NetworkPolicy[] = Array.from({ length: int(5) }, (_, i) => {
    const types = pick([['Ingress'], ['Egress'], ['Ingress', 'Egress']] as const)
    const rules = () =>
      Array.from({ length: 1 + int(2) }, () => ({
        peers: [{ podSelector: sel({ role: pick(['a', 'b']) }) }],
        ...(rnd() < 0.1 ? {} : { ports: Array.from({ length: 1 + int(2) }, npPort) }),
      }))
    return {
      namespace: 'ns',
      name: `np${i}`,
      origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
      podSelector: sel({ app: 'server' }),
      policyTypes: types,
      ingress: types.includes('Ingress' as never) ? rules() : [],
      egress: types.includes('Egress' as never) ? rules() : [],
    }
  })
  return {
    namespaces: [
      {
        name: 'ns',
        labels: { 'kubernetes.io/metadata.name': 'ns' },
        declared: true,
        defaultDenyIngress: false,
      },
    ],
    pods,
    policies,
    nodes: [],
    clusterPolicies: clusterPolicies.sort(compareClusterPolicies),
  }
}

describe('port dispatch in the rulesets', () => {
  it('nftables and iptables decide like the engine on random tier lists with overlapping ports', () => {
    const [engine, ...dataplanes] = IMPLEMENTATIONS
    const rulesets = IMPLEMENTATIONS.filter((i) => i.name.endsWith('ruleset'))
    expect(rulesets.map((r) => r.name).sort()).toEqual(['iptables ruleset', 'nftables ruleset'])
    const ports = [
      ...new Set([0, 1, 79, 80, 81, 82, 83, 84, 442, 443, 444, 480, 481, 482, 483, 8080, 8081, 8082, 8480]),
    ]
    let tierDispatches = 0
    let npDispatches = 0
    let iptTierDispatches = 0
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (s) => {
        const cluster = tieredCluster(s)
        if (JSON.stringify(compileNode(cluster, 'node-1', 'nftables').value).includes('tdisp_'))
          tierDispatches++
        if (
          JSON.stringify(compileNode(cluster, 'node-1', 'iptables').value).includes('NetworkPolicy dispatch')
        )
          npDispatches++
        if (JSON.stringify(compileNode(cluster, 'node-1', 'iptables').value).includes('Admin tier dispatch'))
          iptTierDispatches++
        const decide = [engine, ...dataplanes].map((i) => ({ name: i?.name, d: i?.prepare(cluster) }))
        const wrong: string[] = []
        for (const a of cluster.pods)
          for (const b of cluster.pods) {
            if (a === b) continue
            for (const protocol of PROTOCOLS)
              for (const port of ports) {
                const q = { port, protocol }
                const [expected, ...got] = decide.map((x) => x.d?.(a, b, q))
                got.forEach((g, i) => {
                  if (g !== expected)
                    wrong.push(
                      `${a.name} -> ${b.name} ${port}/${protocol}: engine ${expected}, ${decide[i + 1]?.name} ${g}`,
                    )
                })
              }
          }
        expect(wrong).toEqual([])
      }),
      { numRuns: 50 },
    )
    // the dispatches were exercised, not bypassed
    expect(tierDispatches).toBeGreaterThan(15)
    expect(npDispatches).toBeGreaterThan(5)
    expect(iptTierDispatches).toBeGreaterThan(10)
  })
})
