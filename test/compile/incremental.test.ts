/**
 * The incremental node compiler must equal compileNode byte for byte after every change the agent
 * sees (pods added, deleted, relabelled, readdressed, moved, finished; policies and namespaces
 * edited), and must actually reuse work when only a few pods changed.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type BackendName as Backend,
  compileNode,
  createClusterCompiler,
  createNodeCompiler,
  type NodeCompiler,
  printRuleset,
} from '../../src/backends/index.js'
import { buildNodeIR, type CompileOptions, createAllNodesIRBuilder } from '../../src/compile/index.js'
import { randomCluster } from '../../src/gen/random-cluster.js'
import {
  type ClusterNetworkPolicy,
  type ClusterState,
  compareClusterPolicies,
  type Labels,
  type Namespace,
  type NetworkPolicy,
  type Pod,
} from '../../src/model/index.js'

/** One change to a cluster; integers are taken modulo whatever they index. */
type Op =
  | { readonly kind: 'add-pod'; readonly seed: number; readonly ns: number; readonly node: number }
  | { readonly kind: 'delete-pod'; readonly at: number }
  | { readonly kind: 'relabel-pod'; readonly at: number; readonly seed: number }
  | { readonly kind: 'readdress-pod'; readonly at: number; readonly seed: number }
  | { readonly kind: 'move-pod'; readonly at: number; readonly node: number }
  | { readonly kind: 'finish-pod'; readonly at: number }
  | { readonly kind: 'host-network-pod'; readonly at: number }
  | { readonly kind: 'touch-pod'; readonly at: number }
  | { readonly kind: 'duplicate-pod'; readonly at: number }
  | { readonly kind: 'reverse-pods' }
  | { readonly kind: 'insert-pod'; readonly at: number; readonly seed: number; readonly node: number }
  | { readonly kind: 'delete-run'; readonly at: number; readonly count: number }
  | { readonly kind: 'rotate-pods'; readonly by: number }
  | { readonly kind: 'add-policy'; readonly seed: number; readonly pick: number }
  | { readonly kind: 'replace-policy'; readonly at: number; readonly seed: number; readonly pick: number }
  | { readonly kind: 'delete-policy'; readonly at: number }
  | { readonly kind: 'relabel-namespace'; readonly at: number; readonly seed: number }
  | { readonly kind: 'drop-namespace'; readonly at: number }
  | { readonly kind: 'duplicate-policy'; readonly at: number }
  | { readonly kind: 'copy-policy'; readonly at: number }
  | { readonly kind: 'rotate-policies'; readonly by: number }
  | { readonly kind: 'touch-policy'; readonly at: number }
  | { readonly kind: 'add-cnp'; readonly seed: number; readonly pick: number }
  | { readonly kind: 'replace-cnp'; readonly at: number; readonly seed: number; readonly pick: number }
  | { readonly kind: 'delete-cnp'; readonly at: number }

const NODES = ['node-1', 'node-2', 'node-3']
const APPS = ['a', 'b', 'c']

const int = fc.integer({ min: 0, max: 1_000_000 })
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('add-pod' as const), seed: int, ns: int, node: int }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete-pod' as const), at: int }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('relabel-pod' as const), at: int, seed: int }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('readdress-pod' as const), at: int, seed: int }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('move-pod' as const), at: int, node: int }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('finish-pod' as const), at: int }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('host-network-pod' as const), at: int }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('touch-pod' as const), at: int }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate-pod' as const), at: int }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reverse-pods' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('insert-pod' as const), at: int, seed: int, node: int }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('delete-run' as const),
      at: int,
      count: fc.integer({ min: 2, max: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rotate-pods' as const), by: int }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add-policy' as const), seed: int, pick: int }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('replace-policy' as const), at: int, seed: int, pick: int }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete-policy' as const), at: int }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('relabel-namespace' as const), at: int, seed: int }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop-namespace' as const), at: int }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate-policy' as const), at: int }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('copy-policy' as const), at: int }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rotate-policies' as const), by: int }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('touch-policy' as const), at: int }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add-cnp' as const), seed: int, pick: int }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('replace-cnp' as const), at: int, seed: int, pick: int }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete-cnp' as const), at: int }) },
)

/** A ClusterNetworkPolicy from a random cluster (these clusters' namespaces and labels are alike). */
const someClusterPolicy = (seed: number, pick: number): ClusterNetworkPolicy | undefined =>
  at(
    randomCluster(seed, { maxPolicies: 2, maxPods: 3, nodes: 3, ipv6: true, clusterPolicies: 3 })
      .clusterPolicies ?? [],
    pick,
  )

/** The ClusterNetworkPolicies in evaluation order (as the agent's store lists them). */
const withClusterPolicies = (c: ClusterState, cnps: readonly ClusterNetworkPolicy[]): ClusterState => {
  const { clusterPolicies: _, ...rest } = c
  return cnps.length > 0 ? { ...rest, clusterPolicies: [...cnps].sort(compareClusterPolicies) } : rest
}

const labelsOf = (seed: number): Labels => ({
  app: APPS[seed % 3] as string,
  ...(seed % 2 === 0 ? { tier: seed % 4 === 0 ? 'web' : 'db' } : {}),
})

/** Addresses drawn from a small pool, so pods sometimes share one (sets deduplicate them). */
const ipsOf = (seed: number): string[] => {
  const v4 = `10.240.${1 + (seed % 3)}.${10 + (seed % 23)}`
  const v6 = `fd00:240:${1 + (seed % 3)}::${(10 + (seed % 23)).toString(16)}`
  return [[v4], [v4, v6], [v6], [], [v6, v4]][seed % 5] as string[]
}

const at = <T>(xs: readonly T[], i: number): T | undefined =>
  xs.length === 0 ? undefined : xs[i % xs.length]

const replaceAt = <T>(xs: readonly T[], i: number, f: (x: T) => T | undefined): T[] => {
  const out = [...xs]
  if (out.length === 0) return out
  const k = i % out.length
  const v = f(out[k] as T)
  if (v === undefined) out.splice(k, 1)
  else out[k] = v
  return out
}

let added = 0

/** A new pod object (never seen before), in namespace ns on one of the nodes. */
function newPod(ns: string, seed: number, node: number): Pod {
  return {
    namespace: ns,
    name: `new${added++}`,
    labels: labelsOf(seed),
    ips: ipsOf(seed),
    ports: [
      { name: 'http', containerPort: 80, protocol: 'TCP' },
      ...(seed % 3 === 0 ? [{ name: 'alt', containerPort: 81, protocol: 'UDP' as const }] : []),
    ],
    nodeName: NODES[node % NODES.length] as string,
    hostNetwork: false,
    ...(seed % 7 === 0 ? { phase: 'Running' } : {}),
  }
}

/** Applies one change, building new objects for whatever changed and keeping the others (as the agent's store does). */
function apply(c: ClusterState, o: Op): ClusterState {
  const pods = (f: (p: Pod) => Pod | undefined, i: number) => ({ ...c, pods: replaceAt(c.pods, i, f) })
  switch (o.kind) {
    case 'add-pod':
      return { ...c, pods: [...c.pods, newPod(at(c.namespaces, o.ns)?.name ?? 'x', o.seed, o.node)] }
    case 'insert-pod': {
      const k = c.pods.length === 0 ? 0 : o.at % c.pods.length
      const pod = newPod(at(c.namespaces, o.seed)?.name ?? 'y', o.seed, o.node)
      return { ...c, pods: [...c.pods.slice(0, k), pod, ...c.pods.slice(k)] }
    }
    case 'delete-run': {
      const k = c.pods.length === 0 ? 0 : o.at % c.pods.length
      return { ...c, pods: [...c.pods.slice(0, k), ...c.pods.slice(k + o.count)] }
    }
    case 'rotate-pods': {
      const k = c.pods.length === 0 ? 0 : o.by % c.pods.length
      return { ...c, pods: [...c.pods.slice(k), ...c.pods.slice(0, k)] }
    }
    case 'delete-pod':
      return pods(() => undefined, o.at)
    case 'relabel-pod':
      return pods((p) => ({ ...p, labels: labelsOf(o.seed) }), o.at)
    case 'readdress-pod':
      return pods((p) => ({ ...p, ips: ipsOf(o.seed) }), o.at)
    case 'move-pod':
      return pods((p) => ({ ...p, nodeName: NODES[o.node % NODES.length] as string }), o.at)
    case 'finish-pod':
      return pods((p) => ({ ...p, phase: 'Succeeded' }), o.at)
    case 'host-network-pod':
      return pods((p) => ({ ...p, hostNetwork: true }), o.at)
    case 'touch-pod':
      return pods((p) => ({ ...p }), o.at)
    case 'duplicate-pod': {
      const p = at(c.pods, o.at)
      return p ? { ...c, pods: [...c.pods, p] } : c
    }
    case 'reverse-pods':
      return { ...c, pods: [...c.pods].reverse() }
    case 'add-policy': {
      const p = at(randomCluster(o.seed, { maxPolicies: 4, nodes: 3, ipv6: true }).policies, o.pick)
      return p ? { ...c, policies: [...c.policies, { ...p, name: `extra${o.pick % 3}` }] } : c
    }
    case 'replace-policy': {
      const q = at(randomCluster(o.seed, { maxPolicies: 4, nodes: 3, ipv6: true }).policies, o.pick)
      if (!q) return c
      const policies = replaceAt(
        c.policies,
        o.at,
        (p): NetworkPolicy => ({ ...q, namespace: p.namespace, name: p.name, origin: p.origin }),
      )
      return { ...c, policies }
    }
    case 'delete-policy':
      return { ...c, policies: replaceAt(c.policies, o.at, () => undefined) }
    case 'relabel-namespace': {
      const namespaces = replaceAt(
        c.namespaces,
        o.at,
        (n): Namespace => ({
          ...n,
          labels: {
            'kubernetes.io/metadata.name': n.name,
            ns: o.seed % 4 === 0 ? 'renamed' : n.name,
            ...(o.seed % 2 === 0 ? { env: o.seed % 3 === 0 ? 'prod' : 'dev' } : {}),
          },
        }),
      )
      return { ...c, namespaces }
    }
    case 'drop-namespace':
      return { ...c, namespaces: replaceAt(c.namespaces, o.at, () => undefined) }
    case 'duplicate-policy': {
      // the same object twice (a list given twice): the first is compiled, the second noted
      const p = at(c.policies, o.at)
      return p ? { ...c, policies: [...c.policies, p] } : c
    }
    case 'copy-policy': {
      // another object with the same key, right after the original (input order decides)
      const k = c.policies.length === 0 ? 0 : o.at % c.policies.length
      const p = c.policies[k]
      return p ? { ...c, policies: [...c.policies.slice(0, k + 1), { ...p }, ...c.policies.slice(k + 1)] } : c
    }
    case 'rotate-policies': {
      const k = c.policies.length === 0 ? 0 : o.by % c.policies.length
      return { ...c, policies: [...c.policies.slice(k), ...c.policies.slice(0, k)] }
    }
    case 'touch-policy':
      return { ...c, policies: replaceAt(c.policies, o.at, (p) => ({ ...p })) }
    case 'add-cnp': {
      const q = someClusterPolicy(o.seed, o.pick)
      return q
        ? withClusterPolicies(c, [...(c.clusterPolicies ?? []), { ...q, name: `extra${o.pick % 3}` }])
        : c
    }
    case 'replace-cnp': {
      const q = someClusterPolicy(o.seed, o.pick)
      if (!q || !c.clusterPolicies?.length) return c
      return withClusterPolicies(
        c,
        replaceAt(c.clusterPolicies, o.at, (p): ClusterNetworkPolicy => ({ ...q, name: p.name })),
      )
    }
    case 'delete-cnp':
      return withClusterPolicies(
        c,
        replaceAt(c.clusterPolicies ?? [], o.at, () => undefined),
      )
  }
}

interface Checked {
  readonly node: string
  readonly backend: Backend
  readonly opts?: CompileOptions
}

const compilers: readonly Checked[] = [
  { node: 'node-1', backend: 'nftables' },
  { node: 'node-2', backend: 'nftables' },
  { node: 'node-3', backend: 'iptables' },
  // anti-spoofing: some pods have an interface, one an invalid name, the others none (diagnostics)
  { node: 'node-1', backend: 'nftables', opts: { podInterfaces: { 'x/p0': 'veth0', 'x/p1': 'bad name' } } },
]

/** Returns the result of f, or the message it threw (iptables refuses a Pod object given twice on its node). */
function outcome<T>(f: () => T): T | { readonly threw: string } {
  try {
    return f()
  } catch (err) {
    return { threw: err instanceof Error ? err.message : String(err) }
  }
}

/** Compiles with every checked compiler and expects compileNode's output exactly. */
function expectSame(inc: readonly NodeCompiler[], c: ClusterState): void {
  compilers.forEach((k, i) => {
    const got = outcome(() => {
      const r = (inc[i] as NodeCompiler).compile(c)
      return { value: printRuleset(r.value), diagnostics: r.diagnostics }
    })
    const want = outcome(() => compileNode(c, k.node, k.backend, k.opts))
    expect(got).toEqual(want)
    // the IR itself, not only what the backend prints of it
    const ir = (inc[i] as NodeCompiler).ir()
    if (!('threw' in got)) expect(ir).toEqual(buildNodeIR(c, k.node, k.opts))
  })
}

describe('incremental node compiler', () => {
  it('equals compileNode after every change of a random sequence', () => {
    fc.assert(
      fc.property(int, fc.array(op, { maxLength: 25 }), (seed, ops) => {
        let c = randomCluster(seed, {
          maxPods: 12,
          maxPolicies: 6,
          nodes: 3,
          ipv6: seed % 2 === 0,
          sctp: true,
          ...(seed % 3 === 0 ? { clusterPolicies: 3 } : {}),
        })
        const inc = compilers.map((k) => createNodeCompiler(k.node, k.backend, k.opts))
        expectSame(inc, c)
        for (const o of ops) {
          c = apply(c, o)
          expectSame(inc, c)
        }
      }),
      { numRuns: 150 },
    )
  })

  it('equals compileNode when changes come in batches (several per sync)', () => {
    fc.assert(
      fc.property(
        int,
        fc.array(fc.array(op, { minLength: 2, maxLength: 6 }), { maxLength: 8 }),
        (seed, batches) => {
          let c = randomCluster(seed, {
            maxPods: 14,
            maxPolicies: 6,
            nodes: 3,
            ipv6: true,
            ...(seed % 3 === 0 ? { clusterPolicies: 3 } : {}),
          })
          const inc = compilers.map((k) => createNodeCompiler(k.node, k.backend, k.opts))
          expectSame(inc, c)
          for (const batch of batches) {
            for (const o of batch) c = apply(c, o)
            expectSame(inc, c)
          }
        },
      ),
      { numRuns: 100 },
    )
  })
})

describe('all-nodes compiler (compile --all-nodes)', () => {
  const NODE_NAMES = [...NODES, 'node-without-pods']
  /** Compiles every node in turn with one cluster compiler and expects compileNode's output for each. */
  const expectEveryNode = (
    compile: (node: string) => ReturnType<typeof compileNode>,
    c: ClusterState,
    backend: Backend,
  ) => {
    for (const node of NODE_NAMES)
      expect(outcome(() => compile(node))).toEqual(outcome(() => compileNode(c, node, backend)))
  }

  it('equals compileNode for every node, node after node, on random clusters', () => {
    fc.assert(
      fc.property(int, fc.boolean(), (seed, v6) => {
        const c = randomCluster(seed, { maxPods: 16, maxPolicies: 8, nodes: 3, ipv6: v6, sctp: true })
        for (const backend of ['nftables', 'iptables'] as const)
          expectEveryNode(createClusterCompiler(c, backend), c, backend)
      }),
      { numRuns: 150 },
    )
  })

  it('equals buildNodeIR when the cluster changes between nodes (sets of other nodes not reused stale)', () => {
    fc.assert(
      fc.property(int, fc.array(op, { maxLength: 12 }), fc.array(int, { maxLength: 12 }), (seed, ops, at) => {
        let c = randomCluster(seed, { maxPods: 12, maxPolicies: 6, nodes: 3, ipv6: seed % 2 === 0 })
        const builder = createAllNodesIRBuilder()
        ops.forEach((o, i) => {
          for (const node of NODE_NAMES) expect(builder.build(c, node)).toEqual(buildNodeIR(c, node))
          c = apply(c, o)
          // sometimes build a node twice in a row on the new cluster, sometimes another one first
          const node = NODE_NAMES[(at[i] ?? 0) % NODE_NAMES.length] as string
          expect(builder.build(c, node)).toEqual(buildNodeIR(c, node))
        })
      }),
      { numRuns: 100 },
    )
  })
})

/** A cluster where reuse is easy to predict: node-1 runs one web pod isolated by one policy. */
function fixture(): ClusterState {
  const sel = (labels: Labels) => ({ matchLabels: labels, matchExpressions: [] })
  const ns = (name: string, labels: Labels = {}): Namespace => ({
    name,
    labels: { 'kubernetes.io/metadata.name': name, ...labels },
    declared: true,
    defaultDenyIngress: false,
  })
  const pod = (namespace: string, name: string, app: string, ip: string, nodeName: string): Pod => ({
    namespace,
    name,
    labels: { app },
    ips: [ip],
    ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
    nodeName,
    hostNetwork: false,
  })
  return {
    namespaces: [ns('shop', { team: 'a' }), ns('ops', { team: 'b' })],
    pods: [
      pod('shop', 'web', 'web', '10.0.1.1', 'node-1'),
      pod('shop', 'api', 'api', '10.0.2.1', 'node-2'),
      pod('ops', 'mon', 'mon', '10.0.2.2', 'node-2'),
    ],
    policies: [
      {
        namespace: 'shop',
        name: 'web',
        origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
        podSelector: sel({ app: 'web' }),
        policyTypes: ['Ingress'],
        ingress: [
          { peers: [{ podSelector: sel({ app: 'api' }) }], ports: [{ protocol: 'TCP', port: 80 }] },
          { peers: [{ namespaceSelector: sel({ team: 'b' }) }] },
        ],
        egress: [],
      },
    ],
  }
}

describe('incremental node compiler reuses work', () => {
  const rows: {
    readonly name: string
    readonly change: (c: ClusterState) => ClusterState
    readonly structureReused: boolean
    readonly setsComputed: number
    readonly setsPatched: number
    readonly setsReused: number
  }[] = [
    {
      name: 'a pod on another node that no peer selects changes no set and no chain',
      change: (c) => ({
        ...c,
        pods: [...c.pods, { ...(c.pods[1] as Pod), name: 'db', labels: { app: 'db' }, ips: ['10.0.2.9'] }],
      }),
      structureReused: true,
      setsComputed: 0,
      setsPatched: 0,
      setsReused: 2,
    },
    {
      name: 'a pod added on another node that a podSelector peer selects patches that set only',
      change: (c) => ({
        ...c,
        pods: [...c.pods, { ...(c.pods[1] as Pod), name: 'api-2', ips: ['10.0.2.3'] }],
      }),
      structureReused: true,
      setsComputed: 0,
      setsPatched: 1,
      setsReused: 1,
    },
    {
      name: 'a pod relabelled inside a namespaceSelector peer patches that set only',
      change: (c) => ({
        ...c,
        pods: c.pods.map((p) => (p.name === 'mon' ? { ...p, labels: { app: 'x' } } : p)),
      }),
      structureReused: true,
      setsComputed: 0,
      setsPatched: 1,
      setsReused: 1,
    },
    {
      name: 'a port edit of a policy rebuilds the chains but keeps every set',
      change: (c) => ({
        ...c,
        policies: c.policies.map((p) => ({
          ...p,
          ingress: p.ingress.map((r, i) =>
            i === 0 ? { ...r, ports: [{ protocol: 'TCP' as const, port: 8080 }] } : r,
          ),
        })),
      }),
      structureReused: false,
      setsComputed: 0,
      setsPatched: 0,
      setsReused: 2,
    },
    {
      name: 'a namespace relabel refills the namespaceSelector set only',
      change: (c) => ({
        ...c,
        namespaces: c.namespaces.map((n) =>
          n.name === 'ops' ? { ...n, labels: { ...n.labels, team: 'c' } } : n,
        ),
      }),
      structureReused: true,
      setsComputed: 1,
      setsPatched: 0,
      setsReused: 1,
    },
    {
      name: 'a pod added on the compiled node rebuilds the structure but keeps the sets it is not in',
      change: (c) => ({
        ...c,
        pods: [...c.pods, { ...(c.pods[0] as Pod), name: 'web-2', ips: ['10.0.1.2'] }],
      }),
      structureReused: false,
      setsComputed: 0,
      setsPatched: 0,
      setsReused: 2,
    },
  ]
  it.each(rows)('$name', ({ change, structureReused, setsComputed, setsPatched, setsReused }) => {
    const c0 = fixture()
    const inc = createNodeCompiler('node-1', 'nftables')
    inc.compile(c0)
    expect(inc.stats()).toMatchObject({ structureReused: false, setsReused: 0, changedPods: 'all' })
    const c1 = change(c0)
    const got = inc.compile(c1)
    expect(printRuleset(got.value)).toEqual(compileNode(c1, 'node-1', 'nftables').value)
    expect(inc.stats()).toMatchObject({ structureReused, setsComputed, setsPatched, setsReused })
  })

  it('returns the previous result when handed the same cluster object again (resync)', () => {
    const c = fixture()
    const inc = createNodeCompiler('node-1', 'nftables')
    const first = inc.compile(c)
    expect(inc.compile(c)).toBe(first)
    expect(inc.stats().sameCluster).toBe(true)
    expect(inc.compile({ ...c })).toEqual(first)
    expect(inc.stats()).toMatchObject({ sameCluster: false, structureReused: true, setsComputed: 0 })
  })

  it('keeps its memo to itself: two compilers of different clusters do not interfere', () => {
    const a = fixture()
    const b: ClusterState = {
      ...a,
      pods: a.pods.map((p) => ({ ...p, ips: [p.ips[0]?.replace('10.0', '10.9') ?? ''] })),
    }
    const ia = createNodeCompiler('node-1', 'nftables')
    const ib = createNodeCompiler('node-1', 'nftables')
    for (let i = 0; i < 3; i++) {
      expect(printRuleset(ia.compile(i % 2 === 0 ? a : b).value)).toEqual(
        compileNode(i % 2 === 0 ? a : b, 'node-1', 'nftables').value,
      )
      expect(printRuleset(ib.compile(i % 2 === 0 ? b : a).value)).toEqual(
        compileNode(i % 2 === 0 ? b : a, 'node-1', 'nftables').value,
      )
    }
  })
})
