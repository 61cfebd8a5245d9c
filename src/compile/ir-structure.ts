/**
 * Phase 2 of a node build: everything of the IR except set elements (chains, pod chains, set
 * declarations, names, diagnostics). A function of the policies, the local pods, the families, the
 * node and the options, so the incremental compiler reuses it whenever those are the same objects.
 */
import {
  type ClusterNetworkPolicy,
  type ClusterState,
  DEFAULT_DENY_ANNOTATION_POLICY,
  type Diagnostic,
  type Family,
  type Namespace,
  type NetworkPolicy,
  type Pod,
  type PolicyRule,
  policyKey,
} from '../model/index.js'
import { policyHasType, policySelectsPod, rulesOf } from '../semantics/index.js'
import { clusterChains, type PodTiers, tiersOf } from './cluster-chains.js'
import type { CompileOptions, IRChain, IRClusterChain, IRLocalPod, IRPodDirection, IRRule } from './ir.js'
import { createNameRegistry } from './names.js'
import { byString } from './order.js'
import { keyOf, type PodFacts } from './pod-facts.js'
import {
  type Builder,
  crossMatches,
  type PeerMatch,
  type PortPart,
  peerMatches,
  portPartsOf,
  type SetSpec,
} from './set-specs.js'

/** Everything of the IR except set elements: a function of the policies, the local pods and the families. */
export interface Structure {
  readonly node: string
  readonly opts: CompileOptions
  readonly families: readonly Family[]
  /** cluster.policies as given (compared by reference). */
  readonly policies: readonly NetworkPolicy[]
  /** cluster.clusterPolicies as given (compared by reference; [] when absent). */
  readonly clusterPolicies: readonly ClusterNetworkPolicy[]
  /** cluster.namespaces as given when ClusterNetworkPolicies are compiled (their subjects read labels). */
  readonly namespaces: readonly Namespace[]
  /** Endpoint pods on the node as given (compared by reference). */
  readonly onNode: readonly Pod[]
  readonly local: readonly PodFacts[]
  readonly specs: readonly SetSpec[]
  readonly chains: readonly IRChain[]
  /** Absent when no ClusterNetworkPolicy selects a local pod. */
  readonly clusterChains?: readonly IRClusterChain[]
  readonly pods: readonly IRLocalPod[]
  readonly diagnostics: readonly Diagnostic[]
}

type Direction = 'Ingress' | 'Egress'

/** Computes chains, pod chains, set declarations, names and diagnostics. */
export function buildStructure(
  cluster: ClusterState,
  node: string,
  opts: CompileOptions,
  families: readonly Family[],
  onNode: readonly Pod[],
  onNodeFacts: readonly PodFacts[],
  sorted: SortedPolicies = sortPolicies(cluster.policies),
): Structure {
  const diagnostics: Diagnostic[] = []
  const b: Builder = { names: createNameRegistry(), families, sets: new Map(), diagnostics }
  const local = programmableLocalPods(node, onNodeFacts, diagnostics)
  const { chains, podDirs } = policyChains(b, sorted, local)
  const clusterPolicies = cluster.clusterPolicies ?? []
  const cnp = clusterChains(b, clusterPolicies, cluster.namespaces, local)
  const pods = local.map((p) => localPod(b, p, podDirs.get(keyOf(p)), opts, cnp.podTiers))
  return {
    node,
    opts,
    families,
    policies: cluster.policies,
    clusterPolicies,
    namespaces: clusterPolicies.length > 0 ? cluster.namespaces : [],
    onNode,
    local,
    specs: [...b.sets.values()],
    chains,
    ...(cnp.chains.length > 0 ? { clusterChains: cnp.chains } : {}),
    pods,
    diagnostics,
  }
}

/** Returns the local pods the dataplane can program, sorted; notes those without an address. */
function programmableLocalPods(
  node: string,
  onNodeFacts: readonly PodFacts[],
  diagnostics: Diagnostic[],
): PodFacts[] {
  // docs/semantics.md#finished-pods: pods without an IP cannot be programmed yet.
  const local: PodFacts[] = []
  const sortedOnNode = [...onNodeFacts].sort((x, y) => byString(keyOf(x), keyOf(y)))
  for (const f of sortedOnNode) {
    if (f.ips.length > 0) local.push(f)
    else
      diagnostics.push({
        code: 'compile.pod-without-ip',
        severity: 'info',
        message: `pod ${keyOf(f)} on node ${node} has no IP address yet: the dataplane cannot program it`,
        object: `Pod ${keyOf(f)}`,
        path: ['status', 'podIPs'],
        ...(f.pod.source ? { source: f.pod.source } : {}),
      })
  }
  return local
}

/** A cluster's policies sorted by key ('namespace/name'): the same for every node, so computed once. */
export interface SortedPolicies {
  /** cluster.policies as given (compared by reference). */
  readonly policies: readonly NetworkPolicy[]
  readonly sorted: readonly { readonly key: string; readonly policy: NetworkPolicy }[]
  /** Namespace -> its policies' positions in `sorted` (contiguous: every key starts with `namespace/`). */
  readonly byNamespace: ReadonlyMap<string, { readonly from: number; readonly to: number }>
  /** Positions in `sorted` of a policy given again (same key as the one before it). */
  readonly again: readonly number[]
}

/** Sorts the policies by key (stable: a policy given twice keeps its order, the first one is compiled). */
export function sortPolicies(policies: readonly NetworkPolicy[]): SortedPolicies {
  const sorted = policies
    .map((policy) => ({ key: policyKey(policy), policy }))
    .sort((x, y) => byString(x.key, y.key))
  const byNamespace = new Map<string, { from: number; to: number }>()
  const again: number[] = []
  sorted.forEach(({ key, policy }, i) => {
    if (i > 0 && sorted[i - 1]?.key === key) again.push(i)
    const r = byNamespace.get(policy.namespace)
    if (r) r.to = i + 1
    else byNamespace.set(policy.namespace, { from: i, to: i + 1 })
  })
  return { policies, sorted, byNamespace, again }
}

/**
 * Returns the positions in `sorted` a node must read, ascending: the policies of the namespaces of its
 * local pods, and every policy given again (noted whatever its namespace).
 */
function positionsOf(sorted: SortedPolicies, local: readonly PodFacts[]): number[] {
  const out = [...sorted.again]
  const namespaces = new Set<string>()
  for (const p of local) namespaces.add(p.pod.namespace)
  for (const ns of namespaces) {
    const r = sorted.byNamespace.get(ns)
    if (r) for (let i = r.from; i < r.to; i++) out.push(i)
  }
  return out.sort((x, y) => x - y)
}

/**
 * Returns one chain per (policy, direction) that selects at least one local pod, sorted by policy, and
 * per local pod key the chains that isolate it in each direction.
 */
function policyChains(
  b: Builder,
  policies: SortedPolicies,
  local: readonly PodFacts[],
): { chains: IRChain[]; podDirs: Map<string, Record<Direction, string[]>> } {
  const chains: IRChain[] = []
  const podDirs = new Map<string, Record<Direction, string[]>>()
  const { sorted } = policies
  const localByNamespace = new Map<string, PodFacts[]>()
  for (const p of local) {
    const list = localByNamespace.get(p.pod.namespace)
    if (list) list.push(p)
    else localByNamespace.set(p.pod.namespace, [p])
  }
  for (const i of positionsOf(policies, local)) {
    const { key, policy: pol } = sorted[i] as SortedPolicies['sorted'][number]
    if (i > 0 && sorted[i - 1]?.key === key) {
      b.diagnostics.push({
        code: 'compile.duplicate-policy',
        severity: 'warning',
        message: `policy ${key} is given more than once; only the first is compiled`,
        object: `NetworkPolicy ${key}`,
        path: [],
        ...(pol.source ? { source: pol.source } : {}),
      })
      continue
    }
    const selected = (localByNamespace.get(pol.namespace) ?? []).filter((p) => policySelectsPod(pol, p.pod))
    if (selected.length === 0) continue
    for (const direction of ['Ingress', 'Egress'] as const) {
      if (!policyHasType(pol, direction)) continue
      const chain = policyChain(b, pol, direction)
      chains.push(chain)
      for (const p of selected) {
        let d = podDirs.get(keyOf(p))
        if (!d) {
          d = { Ingress: [], Egress: [] }
          podDirs.set(keyOf(p), d)
        }
        d[direction].push(chain.id)
      }
    }
  }
  return { chains, podDirs }
}

/** Returns the chain of one policy and direction. */
function policyChain(b: Builder, pol: NetworkPolicy, direction: Direction): IRChain {
  const id = b.names.name(
    `chain|${policyKey(pol)}|${direction}`,
    'pol_',
    `${pol.namespace}_${pol.name}`,
    direction === 'Ingress' ? '_in' : '_eg',
  )
  return {
    id,
    policy: {
      namespace: pol.namespace,
      name: pol.name,
      defaultDenyAnnotation:
        pol.origin.kind === 'DefaultDenyAnnotation' || pol.name === DEFAULT_DENY_ANNOTATION_POLICY,
    },
    direction,
    rules: rulesOf(pol, direction).flatMap((r, i) => compileRule(b, pol, direction, r, i)),
  }
}

/** Returns the IR of a local pod: its addresses, interface and the chains isolating it. */
function localPod(
  b: Builder,
  p: PodFacts,
  d: Record<Direction, string[]> | undefined,
  opts: CompileOptions,
  podTiers: PodTiers,
): IRLocalPod {
  const dir = (direction: Direction): IRPodDirection | undefined => {
    const ids = d?.[direction] ?? []
    if (ids.length === 0) return undefined
    const chain = b.names.name(
      `pod|${keyOf(p)}|${direction}`,
      direction === 'Ingress' ? 'pod_in_' : 'pod_eg_',
      `${p.pod.namespace}_${p.pod.name}`,
    )
    return { chain, policies: ids }
  }
  const iface = interfaceOf(p, opts, b.diagnostics)
  const ingress = dir('Ingress')
  const egress = dir('Egress')
  const ingressTiers = tiersOf(b, podTiers, p, 'Ingress')
  const egressTiers = tiersOf(b, podTiers, p, 'Egress')
  return {
    namespace: p.pod.namespace,
    name: p.pod.name,
    ips: p.ips.map(({ family, address }) => ({ family, address })),
    ...(iface !== undefined ? { interface: iface } : {}),
    ...(ingress ? { ingress } : {}),
    ...(egress ? { egress } : {}),
    ...(ingressTiers ? { ingressTiers } : {}),
    ...(egressTiers ? { egressTiers } : {}),
  }
}

/** Returns the pod's host-side interface when known and valid (Linux IFNAMSIZ 16 incl. NUL). */
function interfaceOf(p: PodFacts, opts: CompileOptions, diagnostics: Diagnostic[]): string | undefined {
  if (!opts.podInterfaces) return undefined
  const name = opts.podInterfaces[keyOf(p)]
  if (name === undefined) {
    diagnostics.push({
      code: 'compile.unknown-pod-interface',
      severity: 'warning',
      message: `no host interface known for pod ${keyOf(p)}: its source address is not checked (anti-spoofing)`,
      object: `Pod ${keyOf(p)}`,
      path: [],
    })
    return undefined
  }
  if (!/^[A-Za-z0-9_.@-]{1,15}$/.test(name)) {
    diagnostics.push({
      code: 'compile.invalid-pod-interface',
      severity: 'warning',
      message: `interface name "${name}" of pod ${keyOf(p)} is not a valid Linux interface name: ignored`,
      object: `Pod ${keyOf(p)}`,
      path: [],
    })
    return undefined
  }
  return name
}

/** Compiles one spec.ingress[i] / spec.egress[i] into matches (peers x port groups x families). */
function compileRule(
  b: Builder,
  pol: NetworkPolicy,
  direction: Direction,
  rule: PolicyRule,
  index: number,
): IRRule[] {
  const field = direction === 'Ingress' ? 'ingress' : 'egress'
  const peerField = direction === 'Ingress' ? 'from' : 'to'
  const owner = policyKey(pol)
  const peers: PeerMatch[] =
    rule.peers === undefined
      ? [{}]
      : rule.peers.flatMap((peer, j) => peerMatches(b, pol, peer, j, [`spec`, field, index, peerField, j]))
  const portParts: PortPart[] = rule.ports === undefined ? [{}] : portPartsOf(rule.ports)
  return crossMatches(b, owner, direction, index, peers, portParts)
}
