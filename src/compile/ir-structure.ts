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
import { type NamespaceIndex, policyHasType, policySelectsPod, rulesOf } from '../semantics/index.js'
import { clusterChains, type PodTiers, tiersOf } from './cluster-chains.js'
import type {
  CompileOptions,
  IRChain,
  IRClusterChain,
  IRLocalPod,
  IRPodDirection,
  IRPodTiers,
  IRRule,
} from './ir.js'
import { createNameRegistry, type NameRegistry } from './names.js'
import { byString, identityDiff, sameItems } from './order.js'
import { keyOf, type PodFacts } from './pod-facts.js'
import {
  type Builder,
  type BuildOp,
  crossMatches,
  nameOf,
  type PeerMatch,
  type PortPart,
  peerMatches,
  portPartsOf,
  replayBuild,
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

/**
 * What one structure build leaves for the next (part of a BuildMemo), each piece checked before reuse:
 * - per policy and direction, its compiled chain and the steps the compilation took on the shared
 *   state (names, set declarations: replayBuild repeats them in order, so the names and the first user
 *   of every set are those of a build from scratch), reused while the ids come out the same;
 * - per policy, the local pods it selects, while its namespace's local pods are the same;
 * - per local pod, its IR, kept as the same object while it is equal (renderers reuse by identity).
 */
export interface StructureMemo {
  readonly chains: WeakMap<NetworkPolicy, CompiledPolicy>
  readonly selected: WeakMap<NetworkPolicy, { readonly of: readonly PodFacts[]; readonly pods: PodFacts[] }>
  /** Local pods by namespace of the last build (kept as the same arrays while their pods are the same). */
  localByNamespace: Map<string, PodFacts[]>
  readonly pods: WeakMap<Pod, IRLocalPod>
  /** The name registry of the last build (the next one reuses how each id was formed). */
  names: NameRegistry | undefined
}

/** A policy's chains as compiled for a list of families. */
interface CompiledPolicy {
  readonly families: readonly Family[]
  readonly chains: Partial<Record<Direction, RecordedChain>>
}

/** A chain, the steps its compilation took on the shared state, and the diagnostics it gave. */
interface RecordedChain {
  readonly chain: IRChain
  readonly ops: readonly BuildOp[]
  readonly diagnostics: readonly Diagnostic[]
}

/** Returns an empty structure memo. */
export function createStructureMemo(): StructureMemo {
  return {
    chains: new WeakMap(),
    selected: new WeakMap(),
    localByNamespace: new Map(),
    pods: new WeakMap(),
    names: undefined,
  }
}

/** Computes chains, pod chains, set declarations, names and diagnostics. */
export function buildStructure(
  cluster: ClusterState,
  node: string,
  opts: CompileOptions,
  families: readonly Family[],
  onNode: readonly Pod[],
  onNodeFacts: readonly PodFacts[],
  sorted: SortedPolicies = sortPolicies(cluster.policies),
  memo?: StructureMemo,
  /** The namespace index of cluster.namespaces, when the caller has it (ClusterNetworkPolicy subjects). */
  namespaceIndex?: NamespaceIndex,
): Structure {
  const diagnostics: Diagnostic[] = []
  const b: Builder = { names: createNameRegistry(memo?.names), families, sets: new Map(), diagnostics }
  if (memo) memo.names = b.names
  const local = programmableLocalPods(node, onNodeFacts, diagnostics)
  const { chains, podDirs } = policyChains(b, sorted, local, memo)
  const clusterPolicies = cluster.clusterPolicies ?? []
  const cnp = clusterChains(b, clusterPolicies, cluster.namespaces, local, namespaceIndex)
  const pods = local.map((p) => {
    const made = localPod(b, p, podDirs.get(keyOf(p)), opts, cnp.podTiers)
    if (!memo) return made
    const old = memo.pods.get(p.pod)
    if (old !== undefined && sameLocalPod(old, made)) return old
    memo.pods.set(p.pod, made)
    return made
  })
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
  /** Positions in `sorted` of a policy given again (same key as the one before it). */
  readonly again: readonly number[]
}

/** Sorts the policies by key (stable: a policy given twice keeps its order, the first one is compiled). */
export function sortPolicies(policies: readonly NetworkPolicy[]): SortedPolicies {
  const sorted = policies
    .map((policy) => ({ key: policyKey(policy), policy }))
    .sort((x, y) => byString(x.key, y.key))
  return { policies, sorted, again: againOf(sorted) }
}

/**
 * Position of the very policy `p` in `sorted`, or -1 (found by binary search on its key: no map from
 * policy to key is kept for the 75k policies of a large cluster).
 */
function positionOf(sorted: SortedPolicies['sorted'], p: NetworkPolicy): number {
  const key = policyKey(p)
  for (let i = lowerBoundKey(sorted, key); i < sorted.length && sorted[i]?.key === key; i++)
    if (sorted[i]?.policy === p) return i
  return -1
}

/** Positions of the entries whose key is the one before theirs. */
function againOf(sorted: SortedPolicies['sorted']): number[] {
  const again: number[] = []
  for (let i = 1; i < sorted.length; i++) if (sorted[i - 1]?.key === sorted[i]?.key) again.push(i)
  return again
}

/** Above this many added and removed policies, updateSortedPolicies sorts them all again. */
const POLICY_CHANGES_LIMIT = 64

/**
 * Returns sortPolicies(policies), computed from `prev` (the previous list sorted) when the list differs
 * from prev's by a few policies added and removed: each goes in or out by binary search. A change that
 * touches a key given twice (whose order among equals is the input's) sorts everything again.
 */
export function updateSortedPolicies(
  prev: SortedPolicies | undefined,
  policies: readonly NetworkPolicy[],
): SortedPolicies {
  if (prev === undefined) return sortPolicies(policies)
  if (prev.policies === policies) return prev
  if (prev.again.length > 0) return sortPolicies(policies)
  const d = identityDiff(
    prev.policies,
    policies,
    (p) => positionOf(prev.sorted, p) >= 0,
    POLICY_CHANGES_LIMIT,
  )
  if (d === undefined) return sortPolicies(policies)
  const sorted = prev.sorted.slice()
  for (const p of d.removed) {
    const i = positionOf(sorted, p)
    if (i < 0) return sortPolicies(policies)
    sorted.splice(i, 1)
  }
  for (const p of d.added) {
    const key = policyKey(p)
    const i = lowerBoundKey(sorted, key)
    // an equal key: the order among equals is the input's, not known here
    if (sorted[i]?.key === key) return sortPolicies(policies)
    sorted.splice(i, 0, { key, policy: p })
  }
  return { policies, sorted, again: [] }
}

/** First position of `sorted` whose key is not below `key`. */
function lowerBoundKey(sorted: SortedPolicies['sorted'], key: string): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((sorted[mid] as SortedPolicies['sorted'][number]).key < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Returns the positions in `sorted` a node must read, ascending: the policies of the namespaces of its
 * local pods (a namespace's keys are the run from `namespace/` to `namespace0`, '0' following '/'), and
 * every policy given again (noted whatever its namespace).
 */
function positionsOf(sorted: SortedPolicies, local: readonly PodFacts[]): number[] {
  const out = [...sorted.again]
  const namespaces = new Set<string>()
  for (const p of local) namespaces.add(p.pod.namespace)
  for (const ns of namespaces) {
    const from = lowerBoundKey(sorted.sorted, `${ns}/`)
    const to = lowerBoundKey(sorted.sorted, `${ns}0`)
    for (let i = from; i < to; i++) out.push(i)
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
  memo: StructureMemo | undefined,
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
  if (memo) {
    // the same pods as last time: the same array, so what each policy selects there is reused
    for (const [ns, list] of localByNamespace) {
      const old = memo.localByNamespace.get(ns)
      if (old !== undefined && sameItems(old, list)) localByNamespace.set(ns, old)
    }
    memo.localByNamespace = localByNamespace
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
    const selected = selectedBy(memo, pol, localByNamespace.get(pol.namespace) ?? [])
    if (selected.length === 0) continue
    for (const direction of ['Ingress', 'Egress'] as const) {
      if (!policyHasType(pol, direction)) continue
      const chain = memo ? memoChain(b, memo, pol, direction) : policyChain(b, pol, direction)
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

/** Returns the pods of `of` (local pods of the policy's namespace) that the policy selects. */
function selectedBy(
  memo: StructureMemo | undefined,
  pol: NetworkPolicy,
  of: readonly PodFacts[],
): PodFacts[] {
  const hit = memo?.selected.get(pol)
  if (hit !== undefined && hit.of === of) return hit.pods
  const pods = of.filter((p) => policySelectsPod(pol, p.pod))
  memo?.selected.set(pol, { of, pods })
  return pods
}

/**
 * Returns policyChain(b, pol, direction), and leaves b as it would: a chain compiled before for the
 * same families is replayed (its names and sets asked for again, in order) and reused when every id
 * comes out the same; otherwise it is compiled again, recording its steps.
 */
function memoChain(b: Builder, memo: StructureMemo, pol: NetworkPolicy, direction: Direction): IRChain {
  let compiled = memo.chains.get(pol)
  if (compiled !== undefined && !sameItems(compiled.families, b.families)) compiled = undefined
  const rec = compiled?.chains[direction]
  if (rec !== undefined && replayBuild(b, rec.ops)) {
    for (const d of rec.diagnostics) b.diagnostics.push(d)
    return rec.chain
  }
  // (after a replay whose ids differ, compiling again asks for the same names and sets: no-ops)
  const ops: BuildOp[] = []
  const before = b.diagnostics.length
  const chain = policyChain({ ...b, record: ops }, pol, direction)
  const made: RecordedChain = { chain, ops, diagnostics: b.diagnostics.slice(before) }
  if (compiled === undefined) {
    compiled = { families: b.families, chains: {} }
    memo.chains.set(pol, compiled)
  }
  compiled.chains[direction] = made
  return chain
}

/** True when two local pods' IR are equal. */
function sameLocalPod(a: IRLocalPod, b: IRLocalPod): boolean {
  return (
    a.namespace === b.namespace &&
    a.name === b.name &&
    a.interface === b.interface &&
    a.ips.length === b.ips.length &&
    a.ips.every((x, i) => x.family === b.ips[i]?.family && x.address === b.ips[i]?.address) &&
    sameDirection(a.ingress, b.ingress) &&
    sameDirection(a.egress, b.egress) &&
    sameTiers(a.ingressTiers, b.ingressTiers) &&
    sameTiers(a.egressTiers, b.egressTiers)
  )
}

function sameDirection(a: IRPodDirection | undefined, b: IRPodDirection | undefined): boolean {
  return (
    a === b ||
    (a !== undefined && b !== undefined && a.chain === b.chain && sameItems(a.policies, b.policies))
  )
}

function sameTiers(a: IRPodTiers | undefined, b: IRPodTiers | undefined): boolean {
  return (
    a === b ||
    (a !== undefined &&
      b !== undefined &&
      a.chain === b.chain &&
      a.baselineChain === b.baselineChain &&
      sameItems(a.admin, b.admin) &&
      sameItems(a.baseline, b.baseline))
  )
}

/** Returns the chain of one policy and direction. */
function policyChain(b: Builder, pol: NetworkPolicy, direction: Direction): IRChain {
  const id = nameOf(
    b,
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
