/**
 * ClusterState + node name -> NodeIR (see ir.ts for the shape and its guarantees).
 * Semantics follow docs/semantics.md; the numbers in comments refer to its rules.
 *
 * A build has three phases:
 * 1. pod facts: every pod is reduced once to what the compiler needs (parsed addresses, a label
 *    signature); pods of one namespace with equal labels form a group, matched once per selector, and
 *    groups are indexed by namespace and by label pair so a peer only looks at its candidates;
 * 2. structure: chains, pod chains, set declarations and names, from the policies and the local pods;
 * 3. set elements: the pods (or CIDRs) behind every declared set, cluster-wide.
 * A BuildMemo (used by src/compile/incremental.ts) carries the facts, the structure and the set
 * elements from one build to the next and reuses each when its inputs did not change.
 */
import {
  type ClusterState,
  canonicalCIDR,
  canonicalIP,
  DEFAULT_DENY_ANNOTATION_POLICY,
  type Diagnostic,
  type Family,
  type LabelSelector,
  type Labels,
  type Namespace,
  type NetworkPolicy,
  type ParsedCIDR,
  type Pod,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
  PROTOCOLS,
  type Protocol,
  parseCIDR,
  parseIP,
  podKey,
  policyKey,
} from '../model/index.js'
import { canonicalSelector, isEmptySelector, matchSelector, renderSelector } from '../semantics/index.js'
import type {
  CompileOptions,
  IRAddress,
  IRAddressSet,
  IRChain,
  IRLocalPod,
  IRNamedPortSet,
  IRPodDirection,
  IRPortMatch,
  IRPortRange,
  IRRule,
  IRSet,
  IRSetOrigin,
  NodeIR,
} from './ir.js'
import { createNameRegistry, type NameRegistry } from './names.js'
import { isWholeFamily, mergePortRanges, parseIPv4Number, subtractCIDRs } from './ranges.js'

const FAMILIES: readonly Family[] = [4, 6]

/** A canonical pod address with its numeric value (IPv4 in `num`, IPv6 in `big`) for sorting. */
interface Address extends IRAddress {
  readonly num: number
  readonly big: bigint
}

/** What the compiler needs of one pod, derived once per Pod object. */
interface PodFacts {
  readonly pod: Pod
  /** 'namespace/name', computed when first needed (only local pods need it). */
  key?: string
  /** A NetworkPolicy endpoint now (rules 7 and 8). */
  readonly endpoint: boolean
  /** Valid addresses, canonical, deduplicated, primary first (empty when not an endpoint). */
  readonly ips: readonly Address[]
  /** An endpoint with an address: the dataplane can program it and sets can hold it. */
  readonly programmable: boolean
  /** An endpoint on the compiled node. */
  readonly local: boolean
  readonly has4: boolean
  readonly has6: boolean
  /** Number of the last build that saw the pod (a BuildMemo's epoch). */
  seen: number
  /** Position of the pod in the last build's cluster.pods. */
  at: number
}

/** Pods of one namespace that share their labels: selectors are matched once per group. */
interface LabelGroup {
  readonly namespace: string
  readonly labels: Labels
  readonly pods: PodFacts[]
}

/** Programmable pods grouped and indexed for selector matching. */
interface PodIndex {
  /** namespace -> its groups. */
  readonly byNamespace: ReadonlyMap<string, readonly LabelGroup[]>
  /** 'key\u0000value' -> groups (every namespace) whose labels have that pair: candidates for matchLabels. */
  readonly byLabel: ReadonlyMap<string, readonly LabelGroup[]>
  readonly all: readonly LabelGroup[]
}

/** Returns true for pods that are NetworkPolicy endpoints now (rules 7 and 8). */
function isEndpoint(p: Pod): boolean {
  return !p.hostNetwork && p.phase !== 'Succeeded' && p.phase !== 'Failed'
}

/** Returns the pod's valid addresses, canonical, deduplicated, primary first. */
function addressesOf(p: Pod): Address[] {
  const out: Address[] = []
  for (const text of p.ips) {
    let a: Address
    const v4 = parseIPv4Number(text)
    if (v4 !== undefined) a = { family: 4, address: text, num: v4, big: 0n }
    else {
      const ip = parseIP(text)
      if (!ip) continue
      a =
        ip.family === 4
          ? { family: 4, address: canonicalIP(ip), num: Number(ip.value), big: 0n }
          : { family: 6, address: canonicalIP(ip), num: 0, big: ip.value }
    }
    if (out.some((o) => o.address === a.address)) continue
    out.push(a)
  }
  return out
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const byAddress = (a: { num: number; big: bigint }, b: { num: number; big: bigint }): number =>
  a.num - b.num || (a.big < b.big ? -1 : a.big > b.big ? 1 : 0)

/** Returns the pod key ('namespace/name') of a pod's facts. */
function keyOf(f: PodFacts): string {
  f.key ??= podKey(f.pod)
  return f.key
}

/** Derives a pod's facts for a build of `node`. */
function factsOf(pod: Pod, node: string): PodFacts {
  const endpoint = isEndpoint(pod)
  const ips = endpoint ? addressesOf(pod) : []
  return {
    pod,
    endpoint,
    ips,
    programmable: ips.length > 0,
    local: endpoint && pod.nodeName === node,
    has4: ips.some((ip) => ip.family === 4),
    has6: ips.some((ip) => ip.family === 6),
    seen: 0,
    at: -1,
  }
}

/** A level of the label trie: label key -> value level, or value -> next key level. */
interface LabelTrie {
  next?: Map<string, LabelTrie>
  group?: LabelGroup
}

/** Returns the child of a trie level, creating it on first use. */
function child(t: LabelTrie, step: string): LabelTrie {
  t.next ??= new Map()
  let c = t.next.get(step)
  if (!c) {
    c = {}
    t.next.set(step, c)
  }
  return c
}

/**
 * Groups programmable pods by namespace and labels and indexes the groups. Pods are walked down a
 * trie of their label keys and values in the labels' own order, so no signature string is built:
 * pods with equal labels listed in another key order only end up in a second group, which costs a
 * selector match and changes no result.
 */
function indexPods(programmable: readonly PodFacts[]): PodIndex {
  const roots = new Map<string, LabelTrie>()
  const byNamespace = new Map<string, LabelGroup[]>()
  const byLabel = new Map<string, LabelGroup[]>()
  const all: LabelGroup[] = []
  for (const p of programmable) {
    const { namespace, labels } = p.pod
    let t = roots.get(namespace)
    if (!t) {
      t = {}
      roots.set(namespace, t)
    }
    const keys = Object.keys(labels)
    for (const k of keys) t = child(child(t, k), labels[k] as string)
    if (t.group) {
      t.group.pods.push(p)
      continue
    }
    const g: LabelGroup = { namespace, labels, pods: [p] }
    t.group = g
    all.push(g)
    const list = byNamespace.get(namespace)
    if (list) list.push(g)
    else byNamespace.set(namespace, [g])
    for (const k of keys) {
      const pair = `${k}\u0000${labels[k]}`
      const l = byLabel.get(pair)
      if (l) l.push(g)
      else byLabel.set(pair, [g])
    }
  }
  return { byNamespace, byLabel, all }
}

/** Pending set: its key, id and what fills it, computed once every rule is known. */
type SetSpec =
  | {
      readonly kind: 'pods'
      readonly key: string
      readonly id: string
      readonly family: Family
      readonly namespace?: string
      readonly namespaceSelector?: LabelSelector
      /** canonicalSelector(namespaceSelector), when given. */
      readonly namespaceKey?: string
      readonly podSelector: LabelSelector
      readonly usedBy: Set<string>
    }
  | {
      readonly kind: 'ipBlock'
      readonly key: string
      readonly id: string
      readonly family: Family
      readonly cidr: string
      readonly except: readonly string[]
      readonly elements: readonly string[]
      readonly usedBy: Set<string>
    }
  | {
      readonly kind: 'named'
      readonly key: string
      readonly id: string
      readonly family: Family
      readonly protocol: Protocol
      readonly portName: string
      readonly scope: 'local' | 'cluster'
      readonly usedBy: Set<string>
    }

/** The remote side of a rule: which family and which address set, if any. */
interface PeerMatch {
  readonly peer?: number
  readonly family?: Family
  readonly set?: string
}

/** A rule's port part before the family is known (named ports need one set per family). */
type PortPart =
  | { readonly ports?: undefined; readonly match?: undefined }
  | {
      readonly ports: readonly number[]
      readonly match: { kind: 'ports'; protocol: Protocol; ranges: IRPortRange[] }
    }
  | {
      readonly ports: readonly number[]
      readonly match: { kind: 'named'; protocol: Protocol; portName: string }
    }

/** Mutable state of the structure phase. */
interface Builder {
  readonly names: NameRegistry
  readonly families: readonly Family[]
  readonly sets: Map<string, SetSpec>
  readonly diagnostics: Diagnostic[]
}

/** Everything of the IR except set elements: a function of the policies, the local pods and the families. */
interface Structure {
  readonly node: string
  readonly opts: CompileOptions
  readonly families: readonly Family[]
  /** cluster.policies as given (compared by reference). */
  readonly policies: readonly NetworkPolicy[]
  /** Endpoint pods on the node as given (compared by reference). */
  readonly onNode: readonly Pod[]
  readonly local: readonly PodFacts[]
  readonly specs: readonly SetSpec[]
  readonly chains: readonly IRChain[]
  readonly pods: readonly IRLocalPod[]
  readonly diagnostics: readonly Diagnostic[]
}

/**
 * What one build leaves for the next (src/compile/incremental.ts). Mutable, owned by one compiler;
 * every part is checked against the new input before it is reused.
 */
export interface BuildMemo {
  /** The node of the last build (facts depend on it). */
  node: string | undefined
  /** cluster.pods of the last build and their facts, position by position. */
  pods: readonly Pod[]
  podFacts: readonly PodFacts[]
  /** Facts of the pods of the last build, by Pod object (updated in place). */
  readonly facts: Map<Pod, PodFacts>
  /** Number of builds so far. */
  epoch: number
  /** Fingerprint of the namespaces (names and labels) of the last build. */
  namespaces: string | undefined
  structure: Structure | undefined
  /** Finished sets of the last build, by set key. */
  sets: Map<string, IRSet>
  /** Address -> programmable pods holding it, kept up to date from build to build once needed. */
  addresses: Map<string, PodFacts[]> | undefined
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

/** Returns an empty memo (one per incremental compiler). */
export function createBuildMemo(): BuildMemo {
  return {
    node: undefined,
    pods: [],
    podFacts: [],
    facts: new Map(),
    epoch: 0,
    namespaces: undefined,
    structure: undefined,
    sets: new Map(),
    addresses: undefined,
    stats: { structureReused: false, setsReused: 0, setsPatched: 0, setsComputed: 0, changedPods: 'all' },
  }
}

/** Forgets everything a memo knows (its facts were derived for another node). */
function resetMemo(memo: BuildMemo, node: string): void {
  memo.node = node
  memo.pods = []
  memo.podFacts = []
  memo.facts.clear()
  memo.structure = undefined
  memo.sets = new Map()
  memo.addresses = undefined
  memo.namespaces = undefined
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
  // Phase 1: pod facts, reused per Pod object. The new pods are aligned with the last build's by
  // reference, position by position (the agent's store keeps unchanged objects, in order), so an
  // unchanged pod costs a pointer comparison; the map is only asked around changes. `seen` marks
  // the pods of this build.
  if (memo && memo.node !== node) resetMemo(memo, node)
  const epoch = memo ? ++memo.epoch : 1
  const factsMap = memo?.facts
  let changed: PodFacts[] | undefined = memo?.structure !== undefined ? [] : undefined
  const prevPods = memo?.pods ?? []
  const prevFacts = memo?.podFacts ?? []
  const pods = cluster.pods
  const podFacts: PodFacts[] = new Array(pods.length)
  const skipped: PodFacts[] = []
  const programmable: PodFacts[] = []
  const onNode: Pod[] = []
  const onNodeFacts: PodFacts[] = []
  let has4 = false
  let has6 = false
  let i = 0
  for (let j = 0; j < pods.length; j++) {
    const pod = pods[j] as Pod
    let f: PodFacts | undefined
    if (i < prevPods.length && prevPods[i] === pod) f = prevFacts[i++] as PodFacts
    else {
      f = factsMap?.get(pod)
      if (!f) {
        f = factsOf(pod, node)
        factsMap?.set(pod, f)
        if (changed && f.programmable) changed.push(f)
      } else if (f.at >= i && prevPods[f.at] === pod) {
        // realign after removed pods; the ones jumped over are checked once the walk is done
        for (let k = i; k < f.at; k++) skipped.push(prevFacts[k] as PodFacts)
        i = f.at + 1
      }
    }
    podFacts[j] = f
    f.at = j
    // The same Pod object given twice adds nothing to any set (it stays twice on the node, as given).
    const again = f.seen === epoch
    f.seen = epoch
    if (f.local) {
      onNode.push(pod)
      onNodeFacts.push(f)
    }
    if (!f.programmable || again) continue
    programmable.push(f)
    if (f.has4) has4 = true
    if (f.has6) has6 = true
  }
  const families = FAMILIES.filter((f) => (f === 4 ? has4 : has6))
  // Pods of the last build that are gone: forgotten, and changed when they were in sets.
  if (memo && factsMap) {
    for (let k = i; k < prevFacts.length; k++) skipped.push(prevFacts[k] as PodFacts)
    for (const f of skipped) {
      if (f.seen === epoch || factsMap.get(f.pod) !== f) continue
      factsMap.delete(f.pod)
      if (changed && f.programmable) changed.push(f)
    }
    memo.pods = pods
    memo.podFacts = podFacts
  }
  if (changed && changed.length > CHANGED_PODS_LIMIT) changed = undefined
  if (memo) {
    const addresses = memo.addresses
    if (changed === undefined) memo.addresses = undefined
    else if (addresses) for (const f of changed) updateAddresses(addresses, f, f.seen === epoch)
  }
  const addressIndex = (): ReadonlyMap<string, readonly PodFacts[]> => {
    if (!memo) return indexAddresses(programmable)
    memo.addresses ??= indexAddresses(programmable)
    return memo.addresses
  }

  const namespaceLabels = new Map<string, Labels>()
  for (const ns of cluster.namespaces) namespaceLabels.set(ns.name, ns.labels)
  const nsPrint = memo ? namespaceFingerprint(cluster.namespaces) : undefined
  const namespacesChanged = memo?.namespaces !== nsPrint

  // Phase 2: structure (reused when policies, local pods, families, node and options are the same).
  const old = memo?.structure
  const reuse =
    old !== undefined &&
    old.node === node &&
    old.opts === opts &&
    sameItems(old.families, families) &&
    sameItems(old.policies, cluster.policies) &&
    sameItems(old.onNode, onNode)
  const structure = reuse ? old : buildStructure(cluster, node, opts, families, onNode, onNodeFacts)

  // Phase 3: set elements (a memoized set is reused unless a changed pod or namespace can affect it).
  let index: PodIndex | undefined
  const podIndex = (): PodIndex => {
    index ??= indexPods(programmable)
    return index
  }
  const nsMatches = new Map<string, Map<string, boolean>>()
  const ctx: FillContext = {
    node,
    local: structure.local,
    programmable,
    podIndex,
    namespaceLabels,
    nsMatches,
  }
  const oldSets = memo?.sets
  const nextSets = new Map<string, IRSet>()
  let setsReused = 0
  let setsPatched = 0
  let setsComputed = 0
  const sets = structure.specs
    .map((s) => {
      const usedBy = [...s.usedBy].sort(byString)
      const prev = oldSets?.get(s.key)
      let set: IRSet
      // A namespace relabel can move whole namespaces in or out of a namespaceSelector set: refill it.
      if (prev && changed !== undefined && !(s.kind === 'pods' && namespacesChanged && s.namespaceSelector)) {
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
        set = finishSet(ctx, s, usedBy)
        setsComputed++
      }
      nextSets.set(s.key, set)
      return set
    })
    .sort((x, y) => byString(x.id, y.id))

  if (memo) {
    memo.namespaces = nsPrint
    memo.structure = structure
    memo.sets = nextSets
    memo.stats = {
      structureReused: reuse,
      setsReused,
      setsPatched,
      setsComputed,
      changedPods: changed === undefined ? 'all' : changed.length,
    }
  }
  return {
    node,
    families,
    sets,
    chains: structure.chains,
    pods: structure.pods,
    antiSpoofing: opts.podInterfaces !== undefined,
    diagnostics: structure.diagnostics,
  }
}

/** Returns true when both lists hold the same items (by reference) in the same order. */
function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Returns a string that changes whenever a namespace's name or labels change (injective). */
function namespaceFingerprint(namespaces: readonly Namespace[]): string {
  let s = ''
  for (const ns of namespaces) {
    s += `#${ns.name.length}:${ns.name}`
    for (const [k, v] of Object.entries(ns.labels)) s += `|${k.length}:${k}${v.length}:${v}`
  }
  return s
}

/** Computes chains, pod chains, set declarations, names and diagnostics. */
function buildStructure(
  cluster: ClusterState,
  node: string,
  opts: CompileOptions,
  families: readonly Family[],
  onNode: readonly Pod[],
  onNodeFacts: readonly PodFacts[],
): Structure {
  const diagnostics: Diagnostic[] = []
  const b: Builder = { names: createNameRegistry(), families, sets: new Map(), diagnostics }

  // Local pods (docs/semantics.md rule 8: pods without IP cannot be programmed).
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

  // One chain per (policy, direction) selecting at least one local pod.
  const policies = [...cluster.policies].sort((x, y) => byString(policyKey(x), policyKey(y)))
  const chains: IRChain[] = []
  const podDirs = new Map<string, { Ingress: string[]; Egress: string[] }>()
  const seenPolicies = new Set<string>()
  const localByNamespace = new Map<string, PodFacts[]>()
  for (const p of local) {
    const list = localByNamespace.get(p.pod.namespace)
    if (list) list.push(p)
    else localByNamespace.set(p.pod.namespace, [p])
  }
  for (const pol of policies) {
    const key = policyKey(pol)
    if (seenPolicies.has(key)) {
      diagnostics.push({
        code: 'compile.duplicate-policy',
        severity: 'warning',
        message: `policy ${key} is given more than once; only the first is compiled`,
        object: `NetworkPolicy ${key}`,
        path: [],
        ...(pol.source ? { source: pol.source } : {}),
      })
      continue
    }
    seenPolicies.add(key)
    const inNamespace = localByNamespace.get(pol.namespace)
    if (!inNamespace) continue
    const selected = inNamespace.filter((p) => matchSelector(pol.podSelector, p.pod.labels))
    if (selected.length === 0) continue
    for (const direction of ['Ingress', 'Egress'] as const) {
      if (!pol.policyTypes.includes(direction)) continue
      const id = b.names.name(
        `chain|${key}|${direction}`,
        'pol_',
        `${pol.namespace}_${pol.name}`,
        direction === 'Ingress' ? '_in' : '_eg',
      )
      const rules = direction === 'Ingress' ? pol.ingress : pol.egress
      chains.push({
        id,
        policy: {
          namespace: pol.namespace,
          name: pol.name,
          defaultDenyAnnotation:
            pol.origin.kind === 'DefaultDenyAnnotation' || pol.name === DEFAULT_DENY_ANNOTATION_POLICY,
        },
        direction,
        rules: rules.flatMap((r, i) => compileRule(b, pol, direction, r, i)),
      })
      for (const p of selected) {
        let d = podDirs.get(keyOf(p))
        if (!d) {
          d = { Ingress: [], Egress: [] }
          podDirs.set(keyOf(p), d)
        }
        d[direction].push(id)
      }
    }
  }

  const pods: IRLocalPod[] = local.map((p) => {
    const d = podDirs.get(keyOf(p))
    const dir = (direction: 'Ingress' | 'Egress'): IRPodDirection | undefined => {
      const ids = d?.[direction] ?? []
      if (ids.length === 0) return undefined
      const chain = b.names.name(
        `pod|${keyOf(p)}|${direction}`,
        direction === 'Ingress' ? 'pod_in_' : 'pod_eg_',
        `${p.pod.namespace}_${p.pod.name}`,
      )
      return { chain, policies: ids }
    }
    const iface = interfaceOf(p, opts, diagnostics)
    const ingress = dir('Ingress')
    const egress = dir('Egress')
    return {
      namespace: p.pod.namespace,
      name: p.pod.name,
      ips: p.ips.map(({ family, address }) => ({ family, address })),
      ...(iface !== undefined ? { interface: iface } : {}),
      ...(ingress ? { ingress } : {}),
      ...(egress ? { egress } : {}),
    }
  })

  return {
    node,
    opts,
    families,
    policies: cluster.policies,
    onNode,
    local,
    specs: [...b.sets.values()],
    chains,
    pods,
    diagnostics,
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
  direction: 'Ingress' | 'Egress',
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
  const out: IRRule[] = []
  for (const pm of peers) {
    for (const pp of portParts) {
      const base = {
        rule: index,
        ...(pm.peer !== undefined ? { peer: pm.peer } : {}),
        ...(pp.ports ? { ports: pp.ports } : {}),
      }
      if (pp.match?.kind === 'named') {
        // Rule 4: resolved on the destination pod, per family (a pod address . port set).
        const fams = pm.family !== undefined ? [pm.family] : b.families
        for (const f of fams) {
          // Ingress: the destination is a local pod, so only local pods need elements.
          const scope = direction === 'Ingress' ? 'local' : 'cluster'
          const set = namedSet(b, f, pp.match.protocol, pp.match.portName, owner, scope)
          const port: IRPortMatch = {
            kind: 'named',
            protocol: pp.match.protocol,
            portName: pp.match.portName,
            set,
          }
          out.push({ ...base, family: f, ...(pm.set ? { peerSet: pm.set } : {}), port })
        }
        continue
      }
      out.push({
        ...base,
        ...(pm.family !== undefined ? { family: pm.family } : {}),
        ...(pm.set ? { peerSet: pm.set } : {}),
        ...(pp.match ? { port: pp.match } : {}),
      })
    }
  }
  return out
}

/** Returns the matches of one peer: one per family for pod peers, one for an ipBlock. */
function peerMatches(
  b: Builder,
  pol: NetworkPolicy,
  peer: PolicyPeer,
  j: number,
  path: readonly (string | number)[],
): PeerMatch[] {
  const owner = policyKey(pol)
  if (peer.ipBlock) {
    const cidr = parseCIDR(peer.ipBlock.cidr)
    if (!cidr) {
      b.diagnostics.push({
        code: 'compile.invalid-cidr',
        severity: 'error',
        message: `invalid CIDR address: ${peer.ipBlock.cidr} (peer left out: it matches nothing)`,
        object: `NetworkPolicy ${owner}`,
        path: [...path, 'ipBlock', 'cidr'],
        ...(pol.source ? { source: pol.source } : {}),
      })
      return []
    }
    const except = peer.ipBlock.except
      .map(parseCIDR)
      .filter((e): e is ParsedCIDR => e !== undefined && e.family === cidr.family)
    if (isWholeFamily(cidr) && except.length === 0) return [{ peer: j, family: cidr.family }]
    const canon = canonicalCIDR(cidr)
    const exceptCanon = [...new Set(except.map(canonicalCIDR))].sort(byString)
    const key = `cidr|${cidr.family}|${canon}|${exceptCanon.join(',')}`
    let spec = b.sets.get(key)
    if (!spec) {
      const readable = exceptCanon.length > 0 ? `${canon}_x${exceptCanon.length}` : canon
      spec = {
        kind: 'ipBlock',
        key,
        id: b.names.name(key, 'cidr_', readable, `_v${cidr.family}`, key.replace(/^cidr\|\d\|/, '')),
        family: cidr.family,
        cidr: canon,
        except: exceptCanon,
        elements: subtractCIDRs(cidr, except),
        usedBy: new Set(),
      }
      b.sets.set(key, spec)
    }
    spec.usedBy.add(owner)
    return [{ peer: j, family: cidr.family, set: spec.id }]
  }
  // Rule 2: podSelector only = the policy's namespace; namespaceSelector only = pods {} in matching namespaces.
  const podSelector = peer.podSelector ?? { matchLabels: {}, matchExpressions: [] }
  const namespaceKey = peer.namespaceSelector ? canonicalSelector(peer.namespaceSelector) : undefined
  const scope = namespaceKey !== undefined ? `nss=${namespaceKey}` : `ns=${pol.namespace}`
  const podKeyPart = `pod=${canonicalSelector(podSelector)}`
  let readable: string | undefined
  return b.families.map((f) => {
    const key = `pods|${f}|${scope}|${podKeyPart}`
    let spec = b.sets.get(key)
    if (!spec) {
      if (readable === undefined) {
        const podPart = isEmptySelector(podSelector) ? 'all' : renderSelector(podSelector)
        readable = peer.namespaceSelector
          ? `ns_${isEmptySelector(peer.namespaceSelector) ? 'all' : renderSelector(peer.namespaceSelector)}_${podPart}`
          : `${pol.namespace}_${podPart}`
      }
      spec = {
        kind: 'pods',
        key,
        id: b.names.name(key, 'pods_', readable, `_v${f}`, `${scope}|${podKeyPart}`),
        family: f,
        ...(peer.namespaceSelector
          ? { namespaceSelector: peer.namespaceSelector, namespaceKey }
          : { namespace: pol.namespace }),
        podSelector,
        usedBy: new Set(),
      }
      b.sets.set(key, spec)
    }
    spec.usedBy.add(owner)
    return { peer: j, family: f, set: spec.id }
  })
}

/** Groups a rule's ports: numeric ports and bare protocols per protocol, named ports per (protocol, name). */
function portPartsOf(ports: readonly PolicyPort[]): PortPart[] {
  const numeric = new Map<Protocol, { idx: number[]; ranges: IRPortRange[]; all: boolean }>()
  const named = new Map<string, { idx: number[]; protocol: Protocol; portName: string }>()
  ports.forEach((p, i) => {
    if (typeof p.port === 'string') {
      const k = `${p.protocol}|${p.port}`
      const e = named.get(k) ?? { idx: [], protocol: p.protocol, portName: p.port }
      e.idx.push(i)
      named.set(k, e)
      return
    }
    const e = numeric.get(p.protocol) ?? { idx: [], ranges: [], all: false }
    e.idx.push(i)
    if (p.port === undefined) e.all = true
    else
      e.ranges.push({ from: p.port, to: p.endPort !== undefined && p.endPort >= p.port ? p.endPort : p.port })
    numeric.set(p.protocol, e)
  })
  const out: (PortPart & { readonly ports: readonly number[] })[] = []
  for (const protocol of PROTOCOLS) {
    const e = numeric.get(protocol)
    if (!e) continue
    out.push({
      ports: e.idx,
      match: { kind: 'ports', protocol, ranges: e.all ? [] : mergePortRanges(e.ranges) },
    })
  }
  for (const k of [...named.keys()].sort(byString)) {
    const e = named.get(k)!
    out.push({ ports: e.idx, match: { kind: 'named', protocol: e.protocol, portName: e.portName } })
  }
  // in the order the manifest lists them (first port index), so comments read top-down
  return out.sort((x, y) => (x.ports[0] ?? 0) - (y.ports[0] ?? 0))
}

/** Returns the id of the named-port set of (family, protocol, name), creating it on first use. */
function namedSet(
  b: Builder,
  f: Family,
  protocol: Protocol,
  portName: string,
  owner: string,
  scope: 'local' | 'cluster',
): string {
  const key = `named|${scope}|${f}|${protocol}|${portName}`
  let spec = b.sets.get(key)
  if (!spec) {
    spec = {
      kind: 'named',
      key,
      id: b.names.name(
        key,
        'np_',
        `${scope === 'local' ? 'local_' : ''}${protocol.toLowerCase()}_${portName}`,
        `_v${f}`,
      ),
      family: f,
      protocol,
      portName,
      scope,
      usedBy: new Set(),
    }
    b.sets.set(key, spec)
  }
  spec.usedBy.add(owner)
  return spec.id
}

/** What filling sets reads. */
interface FillContext {
  readonly node: string
  readonly local: readonly PodFacts[]
  readonly programmable: readonly PodFacts[]
  readonly podIndex: () => PodIndex
  readonly namespaceLabels: ReadonlyMap<string, Labels>
  /** canonical namespaceSelector -> namespace -> matches (memo of one build). */
  readonly nsMatches: Map<string, Map<string, boolean>>
}

/** Returns true when pods of namespace `ns` can be in the set (rule 2). */
function namespaceMatches(ctx: FillContext, s: SetSpec & { kind: 'pods' }, ns: string): boolean {
  if (s.namespace !== undefined) return ns === s.namespace
  const sel = s.namespaceSelector
  if (!sel || s.namespaceKey === undefined) return true
  let memo = ctx.nsMatches.get(s.namespaceKey)
  if (!memo) {
    memo = new Map()
    ctx.nsMatches.set(s.namespaceKey, memo)
  }
  let m = memo.get(ns)
  if (m === undefined) {
    m = matchSelector(sel, ctx.namespaceLabels.get(ns) ?? { 'kubernetes.io/metadata.name': ns })
    memo.set(ns, m)
  }
  return m
}

/** Returns true when a pod declares the named port of a named-port set. */
function declaresPort(p: PodFacts, s: SetSpec & { kind: 'named' }): boolean {
  return p.pod.ports.some((cp) => cp.name === s.portName && cp.protocol === s.protocol)
}

/** Returns true when the pod is in the pods set (its namespace and labels match the peer, rule 2). */
function inPodsSet(ctx: FillContext, s: SetSpec & { kind: 'pods' }, p: PodFacts): boolean {
  return namespaceMatches(ctx, s, p.pod.namespace) && matchSelector(s.podSelector, p.pod.labels)
}

/** Returns true when the pod contributes (its address, port) to the named-port set. */
function inNamedSet(ctx: FillContext, s: SetSpec & { kind: 'named' }, p: PodFacts, port: number): boolean {
  return (
    (s.scope === 'cluster' || p.pod.nodeName === ctx.node) &&
    p.pod.ports.some(
      (cp) => cp.name === s.portName && cp.protocol === s.protocol && cp.containerPort === port,
    )
  )
}

/** Returns the changed pods (added or removed since the last build) that are or were in the set. */
function hitsOf(ctx: FillContext, s: SetSpec, changed: readonly PodFacts[]): PodFacts[] {
  if (s.kind === 'ipBlock') return []
  const hits: PodFacts[] = []
  for (const p of changed) {
    if (!p.ips.some((ip) => ip.family === s.family)) continue
    if (s.kind === 'named') {
      if ((s.scope === 'cluster' || p.pod.nodeName === ctx.node) && declaresPort(p, s)) hits.push(p)
    } else if (inPodsSet(ctx, s, p)) hits.push(p)
  }
  return hits
}

/** Returns the programmable pods by address. */
function indexAddresses(programmable: readonly PodFacts[]): Map<string, PodFacts[]> {
  const out = new Map<string, PodFacts[]>()
  for (const p of programmable) updateAddresses(out, p, true)
  return out
}

/** Adds a pod to (or removes it from) the address index. */
function updateAddresses(index: Map<string, PodFacts[]>, p: PodFacts, present: boolean): void {
  for (const ip of p.ips) {
    const list = index.get(ip.address)
    if (present) {
      if (list) list.push(p)
      else index.set(ip.address, [p])
    } else if (list) {
      const i = list.indexOf(p)
      if (i >= 0) list.splice(i, 1)
      if (list.length === 0) index.delete(ip.address)
    }
  }
}

/** Returns the numeric value of a canonical address of `family` (elements of one set share it). */
function addressValue(family: Family, text: string): { num: number; big: bigint } {
  if (family === 4) return { num: parseIPv4Number(text) ?? 0, big: 0n }
  return { num: 0, big: parseIP(text)?.value ?? 0n }
}

/** Returns the first index of sorted elements whose (address, port) is not below (ip, port). */
function lowerBound<E>(
  elements: readonly E[],
  family: Family,
  ip: Address,
  port: number,
  parts: (e: E) => { readonly address: string; readonly port: number },
): number {
  let lo = 0
  let hi = elements.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const e = parts(elements[mid] as E)
    const below = byAddress(addressValue(family, e.address), ip) || e.port - port
    if (below < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Returns the set's elements updated for the changed pods that are or were in it: addresses of
 * pods still present are inserted, addresses of pods gone are removed unless another current pod
 * of the set holds them. Sorted as a refill would sort them.
 */
function patchElements(
  ctx: FillContext,
  s: SetSpec,
  prev: SetElements,
  hits: readonly PodFacts[],
  epoch: number,
  byAddress: ReadonlyMap<string, readonly PodFacts[]>,
): SetElements {
  if (s.kind === 'ipBlock') return prev
  if (s.kind === 'named') {
    const out = [...(prev as IRNamedPortSet['elements'])]
    for (const p of hits) {
      const present = p.seen === epoch
      for (const cp of p.pod.ports) {
        if (cp.name !== s.portName || cp.protocol !== s.protocol) continue
        const port = cp.containerPort
        for (const ip of p.ips) {
          if (ip.family !== s.family) continue
          const i = lowerBound(out, s.family, ip, port, (e) => e)
          const e = out[i]
          const found = e !== undefined && e.address === ip.address && e.port === port
          if (present) {
            if (!found) out.splice(i, 0, { address: ip.address, port })
          } else if (found && !(byAddress.get(ip.address) ?? []).some((q) => inNamedSet(ctx, s, q, port))) {
            out.splice(i, 1)
          }
        }
      }
    }
    return out
  }
  const out = [...(prev as IRAddressSet['elements'])]
  for (const p of hits) {
    const present = p.seen === epoch
    for (const ip of p.ips) {
      if (ip.family !== s.family) continue
      const i = lowerBound(out, s.family, ip, 0, (address) => ({ address, port: 0 }))
      const found = out[i] === ip.address
      if (present) {
        if (!found) out.splice(i, 0, ip.address)
      } else if (found && !(byAddress.get(ip.address) ?? []).some((q) => inPodsSet(ctx, s, q))) {
        out.splice(i, 1)
      }
    }
  }
  return out
}

/** Returns the groups that can match: the shortest of the matchLabels posting lists and the namespaces' groups. */
function candidateGroups(ctx: FillContext, s: SetSpec & { kind: 'pods' }): readonly LabelGroup[] {
  const index = ctx.podIndex()
  let best: readonly LabelGroup[] | undefined
  for (const [k, v] of Object.entries(s.podSelector.matchLabels)) {
    const list = index.byLabel.get(`${k}\u0000${v}`) ?? []
    if (!best || list.length < best.length) best = list
  }
  if (s.namespace !== undefined) {
    const inNs = index.byNamespace.get(s.namespace) ?? []
    if (!best || inNs.length < best.length) best = inNs
  } else if (s.namespaceSelector && !isEmptySelector(s.namespaceSelector)) {
    let count = 0
    const lists: (readonly LabelGroup[])[] = []
    for (const [ns, groups] of index.byNamespace) {
      if (!namespaceMatches(ctx, s, ns)) continue
      lists.push(groups)
      count += groups.length
    }
    if (!best || count < best.length) best = lists.flat()
  }
  return best ?? index.all
}

type SetElements = IRAddressSet['elements'] | IRNamedPortSet['elements']

/** Returns the IR set of a spec with the given elements (of the spec's kind: set keys start with it). */
function setOf(s: SetSpec, usedBy: readonly string[], elements: SetElements): IRSet {
  if (s.kind === 'named') {
    const set: IRNamedPortSet = {
      kind: 'named-port',
      id: s.id,
      family: s.family,
      protocol: s.protocol,
      portName: s.portName,
      scope: s.scope,
      elements: elements as IRNamedPortSet['elements'],
      usedBy,
    }
    return set
  }
  const origin: IRSetOrigin =
    s.kind === 'ipBlock'
      ? { kind: 'ipBlock', cidr: s.cidr, except: s.except }
      : {
          kind: 'pods',
          ...(s.namespace !== undefined ? { namespace: s.namespace } : {}),
          ...(s.namespaceSelector ? { namespaceSelector: renderSelector(s.namespaceSelector) } : {}),
          podSelector: renderSelector(s.podSelector),
        }
  const set: IRAddressSet = {
    kind: 'addresses',
    id: s.id,
    family: s.family,
    origin,
    elements: elements as IRAddressSet['elements'],
    interval: s.kind === 'ipBlock',
    usedBy,
  }
  return set
}

/** Returns true when two sets are equal field by field (elements by reference). */
function sameSet(a: IRSet, b: IRSet): boolean {
  if (a.id !== b.id || a.family !== b.family || a.elements !== b.elements || !sameItems(a.usedBy, b.usedBy))
    return false
  if (a.kind === 'named-port')
    return (
      b.kind === 'named-port' && a.protocol === b.protocol && a.portName === b.portName && a.scope === b.scope
    )
  if (b.kind !== 'addresses' || a.interval !== b.interval) return false
  const x = a.origin
  const y = b.origin
  if (x.kind === 'ipBlock') return y.kind === 'ipBlock' && x.cidr === y.cidr && sameItems(x.except, y.except)
  return (
    y.kind === 'pods' &&
    x.namespace === y.namespace &&
    x.namespaceSelector === y.namespaceSelector &&
    x.podSelector === y.podSelector
  )
}

/** Fills a set with its elements (cluster-wide). */
function finishSet(ctx: FillContext, s: SetSpec, usedBy: readonly string[]): IRSet {
  return setOf(s, usedBy, elementsOf(ctx, s))
}

/** Returns the elements of a set: CIDRs, pod addresses or (address, port) pairs, sorted. */
function elementsOf(ctx: FillContext, s: SetSpec): SetElements {
  if (s.kind === 'ipBlock') return s.elements
  if (s.kind === 'named') {
    const seen = new Set<string>()
    const elements: { address: string; port: number; num: number; big: bigint }[] = []
    for (const p of s.scope === 'local' ? ctx.local : ctx.programmable) {
      for (const cp of p.pod.ports) {
        if (cp.name !== s.portName || cp.protocol !== s.protocol) continue
        for (const ip of p.ips) {
          if (ip.family !== s.family) continue
          const k = `${ip.address}|${cp.containerPort}`
          if (seen.has(k)) continue
          seen.add(k)
          elements.push({ address: ip.address, port: cp.containerPort, num: ip.num, big: ip.big })
        }
      }
    }
    elements.sort((x, y) => byAddress(x, y) || x.port - y.port)
    return elements.map(({ address, port }) => ({ address, port }))
  }
  const found: Address[] = []
  const seen = new Set<string>()
  const everyPod = isEmptySelector(s.podSelector)
  for (const g of candidateGroups(ctx, s)) {
    if (!namespaceMatches(ctx, s, g.namespace) || (!everyPod && !matchSelector(s.podSelector, g.labels)))
      continue
    for (const p of g.pods) {
      for (const ip of p.ips) {
        if (ip.family !== s.family || seen.has(ip.address)) continue
        seen.add(ip.address)
        found.push(ip)
      }
    }
  }
  found.sort(byAddress)
  return found.map((x) => x.address)
}
