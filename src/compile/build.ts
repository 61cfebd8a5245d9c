/**
 * ClusterState + node name -> NodeIR (see ir.ts for the shape and its guarantees). Which pods a policy
 * or a peer selects is src/semantics' answer; this compiler only shapes it for a node.
 *
 * A build has three phases:
 * 1. pod facts (pod-facts.ts): every pod is reduced once to what the compiler needs (endpoint or not,
 *    canonical addresses, on the node or not);
 * 2. structure (ir-structure.ts, set-specs.ts): chains, pod chains, set declarations and names, from
 *    the policies and the local pods;
 * 3. set elements (set-elements.ts): the pods (or CIDRs) behind every declared set, cluster-wide,
 *    through the pod index of src/semantics.
 * A BuildMemo (used by src/compile/incremental.ts) carries the facts, the structure, the pod index and
 * the set elements from one build to the next and reuses each when its inputs did not change. Only the
 * structure and the named-port sets of local pods depend on the node: a memo carried from node to node
 * (`compile --all-nodes`, createAllNodesIRBuilder) computes facts, pod index, sorted policies and the
 * elements of every cluster-wide set once for the cluster.
 */
import {
  type ClusterState,
  canonicalCIDR,
  cidrContainsIP,
  type Diagnostic,
  type Namespace,
  type Node,
  type Pod,
  parseCIDR,
  parseIP,
} from '../model/index.js'
import {
  addToPodIndex,
  buildNamespaceIndex,
  buildPodIndex,
  type NamespaceIndex,
  type PodIndex,
  removeFromPodIndex,
} from '../semantics/index.js'
import type { CompileOptions, IRLocalPod, IRPodRange, IRSet, NodeIR } from './ir.js'
import {
  buildStructure,
  createStructureMemo,
  type SortedPolicies,
  type Structure,
  type StructureMemo,
  updateSortedPolicies,
} from './ir-structure.js'
import { byString, sameItems } from './order.js'
import {
  type AddressIndex,
  type BuildPods,
  collectPodFacts,
  type FactsMemo,
  indexAddresses,
  type PodFacts,
  podsOfNode,
  updateAddresses,
} from './pod-facts.js'
import { elementsOf, type FillContext, hitsOf, patchElements, sameSet, setOf } from './set-elements.js'

/**
 * What one build leaves for the next (src/compile/incremental.ts). Mutable, owned by one compiler;
 * every part is checked against the new input before it is reused.
 */
export interface BuildMemo extends FactsMemo {
  /** The node of the last build (its structure and local named-port sets depend on it). */
  node: string | undefined
  /**
   * True when the memo serves the builds of many nodes of one cluster in turn: the sets of every node
   * are kept (a set used by several nodes is filled once), not only those of the last build.
   */
  readonly allNodes: boolean
  /** The last build's policies sorted by key (the same for every node). */
  sortedPolicies: SortedPolicies | undefined
  /** Number of builds so far. */
  epoch: number
  /** Fingerprint of the namespaces (names and labels) of the last build. */
  namespaces: string | undefined
  /** The Namespace objects that fingerprint was computed from (the same objects give the same one). */
  namespaceObjects: readonly Namespace[]
  /** The namespace index of namespaceObjects (with its memo of scope matches). */
  namespaceIndex: NamespaceIndex | undefined
  structure: Structure | undefined
  /** What the structure builds reuse from one another (per policy, per local pod). */
  readonly structureMemo: StructureMemo
  /** Finished sets of the last build, by set key. */
  sets: Map<string, IRSet>
  /** Address -> programmable pods holding it, kept up to date from build to build once needed. */
  addresses: AddressIndex | undefined
  /** The pod index of the programmable pods, kept up to date from build to build once needed. */
  podIndex: PodIndex<PodFacts> | undefined
  /** Counters for tests and benchmarks: how much was reused by the last build. */
  stats: BuildMemoStats
}

/** How much the last memoized build reused. */
export interface BuildMemoStats {
  readonly structureReused: boolean
  /** Sets no changed pod can be in: kept as they were. */
  readonly setsReused: number
  /** Sets updated from the changed pods only (element inserts and removals). */
  readonly setsPatched: number
  /** Sets filled from scratch. */
  readonly setsComputed: number
  readonly changedPods: number | 'all'
}

/** Returns an empty memo (one per incremental compiler; `allNodes` for one shared by every node). */
export function createBuildMemo(allNodes = false): BuildMemo {
  return {
    node: undefined,
    allNodes,
    sortedPolicies: undefined,
    pods: [],
    podFacts: [],
    facts: new Map(),
    lastPods: undefined,
    count4: 0,
    count6: 0,
    duplicates: false,
    local: undefined,
    epoch: 0,
    namespaces: undefined,
    namespaceObjects: [],
    namespaceIndex: undefined,
    structure: undefined,
    structureMemo: createStructureMemo(),
    sets: new Map(),
    addresses: undefined,
    podIndex: undefined,
    stats: { structureReused: false, setsReused: 0, setsPatched: 0, setsComputed: 0, changedPods: 'all' },
  }
}

/** Above this many changed pods, every set is recomputed instead of checking each change against each set. */
const CHANGED_PODS_LIMIT = 512

/** Builds everything `node` must enforce from the whole cluster (pure, deterministic). */
export function buildNodeIR(cluster: ClusterState, node: string, opts: CompileOptions = {}): NodeIR {
  return buildNodeIRWithMemo(undefined, cluster, node, opts)
}

/**
 * Builds the IR like buildNodeIR, reusing from `memo` what the previous build computed from equal
 * inputs, and updating the memo. The result is identical to buildNodeIR's for every input.
 */
export function buildNodeIRWithMemo(
  memo: BuildMemo | undefined,
  cluster: ClusterState,
  node: string,
  opts: CompileOptions,
): NodeIR {
  // Phase 1: pod facts, reused per Pod object (they do not depend on the node).
  const nodeChanged = memo !== undefined && memo.node !== undefined && memo.node !== node
  if (memo) memo.node = node
  // The very pods array of the last build: the same pods, only the node's endpoints to look up.
  const lastPods = memo?.pods === cluster.pods ? memo.lastPods : undefined
  const epoch = memo ? (lastPods ? memo.epoch : ++memo.epoch) : 1
  const changes = memo?.structure !== undefined
  const pods =
    memo && lastPods
      ? podsOfNode(memo, lastPods, node, changes)
      : collectPodFacts(memo, cluster.pods, node, epoch, changes)
  let changed = pods.changed
  if (changed && changed.length > CHANGED_PODS_LIMIT) changed = undefined
  if (memo) followChanges(memo, changed, epoch)

  // Phase 2: structure (reused when policies, local pods, families, node and options are the same).
  const old = memo?.structure
  const reuse =
    old !== undefined &&
    old.node === node &&
    old.opts === opts &&
    sameItems(old.families, pods.families) &&
    sameItems(old.policies, cluster.policies) &&
    sameItems(old.clusterPolicies, cluster.clusterPolicies ?? []) &&
    (old.clusterPolicies.length === 0 || sameItems(old.namespaces, cluster.namespaces)) &&
    sameItems(old.onNode, pods.onNode)
  let sorted: SortedPolicies | undefined
  if (!reuse) {
    sorted = updateSortedPolicies(memo?.sortedPolicies, cluster.policies)
    if (memo) memo.sortedPolicies = sorted
  }
  const structure = reuse
    ? old
    : buildStructure(
        cluster,
        node,
        opts,
        pods.families,
        pods.onNode,
        pods.onNodeFacts,
        sorted,
        // per policy and per pod memos pay off from build to build of one node (the agent); for every
        // node in turn (`compile --all-nodes`) they would hold what each policy compiled for the whole run
        memo?.allNodes ? undefined : memo?.structureMemo,
        // the last build's index while the namespaces are the same objects (fillSets keeps it)
        memo?.namespaceIndex !== undefined && sameItems(memo.namespaceObjects, cluster.namespaces)
          ? memo.namespaceIndex
          : undefined,
      )

  // Phase 3: set elements (a memoized set is reused unless a changed pod or namespace can affect it).
  const sets = fillSets(
    memo,
    cluster.namespaces,
    cluster.nodes ?? [],
    structure,
    pods,
    changed,
    epoch,
    nodeChanged,
  )
  if (memo) memo.stats = { structureReused: reuse, ...sets.stats }
  const unknownPods = opts.unknownPods ?? 'drop'
  const ranges = podRangesOf(cluster, node, opts)
  const rangeNotes = podRangeDiagnostics(node, ranges, unknownPods, structure.pods)
  return {
    node,
    families: pods.families,
    sets: sets.sets,
    chains: structure.chains,
    ...(structure.clusterChains ? { clusterChains: structure.clusterChains } : {}),
    pods: structure.pods,
    antiSpoofing: opts.podInterfaces !== undefined,
    podRanges: ranges,
    unknownPods,
    ...(opts.revokeEstablished === true ? { tcpNewNeedsSyn: true } : {}),
    ...(opts.logDrops !== undefined ? { logDrops: opts.logDrops } : {}),
    diagnostics: rangeNotes.length > 0 ? [...structure.diagnostics, ...rangeNotes] : structure.diagnostics,
  }
}

/**
 * The node's pod ranges: CompileOptions.podRanges when given (the flag wins), else the Node object's
 * spec.podCIDRs as the loader read them; canonical, deduplicated, IPv4 first. Texts that are no CIDR
 * are skipped (the edges check them first).
 */
export function podRangesOf(cluster: ClusterState, node: string, opts: CompileOptions): IRPodRange[] {
  const texts = opts.podRanges ?? cluster.nodes?.find((n) => n.name === node)?.podCIDRs ?? []
  const out: IRPodRange[] = []
  const seen = new Set<string>()
  for (const t of texts) {
    const c = parseCIDR(t)
    const cidr = c ? canonicalCIDR(c) : undefined
    if (!c || cidr === undefined || seen.has(cidr)) continue
    seen.add(cidr)
    out.push({ family: c.family, cidr })
  }
  return out.sort((a, b) => a.family - b.family || byString(a.cidr, b.cidr))
}

/** Notes on the pod ranges: unknown ranges, and local pod addresses outside them (a plugin with its own IPAM). */
function podRangeDiagnostics(
  node: string,
  ranges: readonly IRPodRange[],
  mode: 'drop' | 'allow',
  pods: readonly IRLocalPod[],
): Diagnostic[] {
  if (mode === 'allow') return []
  if (ranges.length === 0)
    return [
      {
        code: 'compile.pod-ranges-unknown',
        severity: 'info',
        message: `the pod ranges of node ${node} are unknown (no Node spec.podCIDRs, no --pod-cidr): a pod address not programmed yet is forwarded unfiltered`,
        object: `Node ${node}`,
        path: [],
      },
    ]
  const parsed = ranges.map((r) => parseCIDR(r.cidr)).filter((c) => c !== undefined)
  const out: Diagnostic[] = []
  for (const p of pods) {
    for (const ip of p.ips) {
      const a = parseIP(ip.address)
      const hasFamily = parsed.some((c) => c.family === ip.family)
      if (!a || !hasFamily || parsed.some((c) => cidrContainsIP(c, a))) continue
      out.push({
        code: 'compile.pod-outside-ranges',
        severity: 'warning',
        message: `pod ${p.namespace}/${p.name} has address ${ip.address}, outside the pod ranges of node ${node} (${ranges.map((r) => r.cidr).join(', ')}): the network plugin does not allocate from them; pass its ranges with --pod-cidr, or use --unknown-pods allow`,
        object: `Pod ${p.namespace}/${p.name}`,
        path: [],
      })
    }
  }
  return out
}

/** Brings the memo's address index and pod index up to date with the changed pods (or drops them). */
function followChanges(memo: BuildMemo, changed: readonly PodFacts[] | undefined, epoch: number): void {
  if (changed === undefined) {
    memo.addresses = undefined
    memo.podIndex = undefined
    return
  }
  for (const f of changed) {
    const present = f.seen === epoch
    if (memo.addresses) updateAddresses(memo.addresses, f, present)
    if (memo.podIndex) {
      if (present) addToPodIndex(memo.podIndex, f)
      else removeFromPodIndex(memo.podIndex, f)
    }
  }
}

/** Returns every declared set with its elements: reused, patched for the changed pods, or filled. */
function fillSets(
  memo: BuildMemo | undefined,
  namespaces: readonly Namespace[],
  nodes: readonly Node[],
  structure: Structure,
  pods: BuildPods,
  changed: readonly PodFacts[] | undefined,
  epoch: number,
  nodeChanged: boolean,
): { sets: IRSet[]; stats: Omit<BuildMemoStats, 'structureReused'> } {
  const sameNamespaces =
    memo !== undefined && memo.namespaces !== undefined && sameItems(memo.namespaceObjects, namespaces)
  const nsPrint = !memo ? undefined : sameNamespaces ? memo.namespaces : namespaceFingerprint(namespaces)
  const nsIndex = (sameNamespaces ? memo?.namespaceIndex : undefined) ?? buildNamespaceIndex(namespaces)
  const namespacesChanged = memo?.namespaces !== nsPrint
  const { programmable } = pods
  let index: PodIndex<PodFacts> | undefined
  const ctx: FillContext = {
    node: structure.node,
    local: structure.local,
    programmable,
    podIndex: () => {
      if (!memo) {
        index ??= buildPodIndex(programmable(), podOf)
        return index
      }
      memo.podIndex ??= buildPodIndex(programmable(), podOf)
      return memo.podIndex
    },
    namespaces: nsIndex,
    nodes,
  }
  const addressIndex = (): AddressIndex => {
    if (!memo) return indexAddresses(programmable())
    memo.addresses ??= indexAddresses(programmable())
    return memo.addresses
  }
  const oldSets = memo?.sets
  // A memo of every node keeps the sets of the other nodes (the next node may use them) while the
  // cluster stays the same: a kept set is not patched by the builds that do not use it.
  const keep = memo?.allNodes === true && changed !== undefined && changed.length === 0 && !namespacesChanged
  const nextSets = keep && oldSets ? oldSets : new Map<string, IRSet>()
  let setsReused = 0
  let setsPatched = 0
  let setsComputed = 0
  const sets = structure.specs
    .map((s) => {
      const usedBy = [...s.usedBy].sort(byString)
      const prev = oldSets?.get(s.key)
      let set: IRSet
      // A namespace relabel can move whole namespaces in or out of a namespaceSelector set: refill it.
      const byNamespaceSelector = s.kind === 'pods' && s.matcher.namespaces.kind === 'namespaceSelector'
      // Node sets are few and small: always refilled (Node objects change without pods changing).
      // Named-port sets of local pods hold another node's pods when the node changed: refilled.
      const ofNode = s.kind === 'named' && s.scope === 'local'
      if (
        prev &&
        changed !== undefined &&
        s.kind !== 'nodes' &&
        !(nodeChanged && ofNode) &&
        !(namespacesChanged && byNamespaceSelector)
      ) {
        const hits = hitsOf(ctx, s, changed)
        const elements =
          hits.length === 0
            ? prev.elements
            : patchElements(ctx, s, prev.elements, hits, epoch, addressIndex())
        // Only the elements are carried over; the rest is rebuilt from the spec (two selectors with
        // one canonical key may render differently) and the old object kept when nothing differs.
        const fresh = setOf(s, usedBy, elements)
        set = sameSet(prev, fresh) ? prev : fresh
        if (hits.length === 0) setsReused++
        else setsPatched++
      } else {
        set = setOf(s, usedBy, elementsOf(ctx, s))
        setsComputed++
      }
      nextSets.set(s.key, set)
      return set
    })
    .sort((x, y) => byString(x.id, y.id))
  if (memo) {
    memo.namespaces = nsPrint
    memo.namespaceObjects = namespaces
    memo.namespaceIndex = nsIndex
    memo.structure = structure
    memo.sets = nextSets
  }
  const stats = {
    setsReused,
    setsPatched,
    setsComputed,
    changedPods: changed === undefined ? ('all' as const) : changed.length,
  }
  return { sets, stats }
}

const podOf = (f: PodFacts): Pod => f.pod

/** Returns a string that changes whenever a namespace's name or labels change (injective). */
function namespaceFingerprint(namespaces: readonly Namespace[]): string {
  let s = ''
  for (const ns of namespaces) {
    s += `#${ns.name.length}:${ns.name}`
    for (const [k, v] of Object.entries(ns.labels)) s += `|${k.length}:${k}${v.length}:${v}`
  }
  return s
}
