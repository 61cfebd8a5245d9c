/**
 * Phase 1 of a node build: every pod reduced once to what the compiler needs (is it a policy endpoint,
 * its canonical addresses), reused per Pod object from build to build, and from node to node: nothing
 * in a pod's facts depends on the node compiled (`compile --all-nodes` derives them once per cluster).
 */
import type { Family, Pod } from '../model/index.js'
import { podKey } from '../model/index.js'
import { isPolicyEndpoint, type PodAddress, podAddresses } from '../semantics/index.js'
import { identityDiff, keptPosition } from './order.js'

/** What the compiler needs of one pod, derived once per Pod object. */
export interface PodFacts {
  readonly pod: Pod
  /** 'namespace/name', computed when first needed (only local pods need it). */
  key?: string
  /** A NetworkPolicy endpoint now (src/semantics: not hostNetwork, not finished). */
  readonly endpoint: boolean
  /** Valid addresses, canonical, deduplicated, primary first (empty when not an endpoint). */
  readonly ips: readonly PodAddress[]
  /** An endpoint with an address: the dataplane can program it and sets can hold it. */
  readonly programmable: boolean
  readonly has4: boolean
  readonly has6: boolean
  /** Number of the last build that saw the pod (a BuildMemo's epoch). */
  seen: number
  /** Position of the pod in the last build's cluster.pods. */
  at: number
}

/** What a build remembers of the previous build's pods (part of a BuildMemo). */
export interface FactsMemo {
  /** cluster.pods of the last build. */
  pods: readonly Pod[]
  /** Their facts, position by position; undefined after a build that only looked at the changes. */
  podFacts: readonly PodFacts[] | undefined
  /** Facts of the pods of the last build, by Pod object (updated in place). */
  readonly facts: Map<Pod, PodFacts>
  /** What the last build derived from `pods` for every node (reused while `pods` is the same array). */
  lastPods: LastPods | undefined
  /** Programmable pods of the last build with an IPv4 / IPv6 address (each Pod object once). */
  count4: number
  count6: number
  /** True when the last build's pods held a Pod object more than once. */
  duplicates: boolean
  /** The endpoints on the node of the last build, in `pods` order (their `at` is their position). */
  local: { readonly node: string; readonly onNode: Pod[]; readonly facts: PodFacts[] } | undefined
}

/** The node-independent part of a build's pods, and the endpoints of each node once asked. */
export interface LastPods {
  /** Programmable pods, each Pod object once (listed on first use). */
  readonly programmable: () => readonly PodFacts[]
  readonly families: readonly Family[]
  /** nodeName -> its endpoint pods in `pods` order, computed on the first build of another node. */
  byNode: Map<string, { readonly onNode: Pod[]; readonly facts: PodFacts[] }> | undefined
}

/** The pods of one build, as the later phases read them. */
export interface BuildPods {
  /** Programmable pods, each Pod object once (listed on first use: most builds never need them all). */
  readonly programmable: () => readonly PodFacts[]
  /** Endpoint pods on the node as given (compared by reference) and their facts. */
  readonly onNode: readonly Pod[]
  readonly onNodeFacts: readonly PodFacts[]
  /** Address families with at least one programmable pod, sorted. */
  readonly families: readonly Family[]
  /**
   * Programmable pods added or removed since the last build (removed ones have `seen` below the epoch);
   * undefined when the last build is unknown: everything is new.
   */
  readonly changed: PodFacts[] | undefined
}

const FAMILIES: readonly Family[] = [4, 6]

/** Returns the pod key ('namespace/name') of a pod's facts. */
export function keyOf(f: PodFacts): string {
  f.key ??= podKey(f.pod)
  return f.key
}

/** Derives a pod's facts (the same for every node). */
function factsOf(pod: Pod): PodFacts {
  const endpoint = isPolicyEndpoint(pod)
  const ips = endpoint ? podAddresses(pod.ips) : []
  return {
    pod,
    endpoint,
    ips,
    programmable: ips.length > 0,
    has4: ips.some((ip) => ip.family === 4),
    has6: ips.some((ip) => ip.family === 6),
    seen: 0,
    at: -1,
  }
}

/**
 * Returns the facts of this build's pods, reused per Pod object from `memo`, and updates the memo.
 * The new pods are aligned with the last build's by reference, position by position (the agent's
 * store keeps unchanged objects, in order), so an unchanged pod costs a pointer comparison; the map
 * is only asked around changes. `seen` marks the pods of this build. `changes` asks for the list of
 * changed pods (only meaningful when the memo knows the last build).
 */
export function collectPodFacts(
  memo: FactsMemo | undefined,
  pods: readonly Pod[],
  node: string,
  epoch: number,
  changes: boolean,
): BuildPods {
  if (memo && changes && memo.local?.node === node) {
    const fast = followPods(memo, pods, node, epoch)
    if (fast) return fast
  }
  const factsMap = memo?.facts
  const changed: PodFacts[] | undefined = changes ? [] : undefined
  const prevPods = memo?.pods ?? []
  const prevFacts = memo?.podFacts
  const factsAt = (k: number): PodFacts | undefined =>
    prevFacts ? prevFacts[k] : factsMap?.get(prevPods[k] as Pod)
  const podFacts: PodFacts[] = new Array(pods.length)
  const skipped: PodFacts[] = []
  const programmable: PodFacts[] = []
  const onNode: Pod[] = []
  const onNodeFacts: PodFacts[] = []
  let count4 = 0
  let count6 = 0
  let duplicates = false
  let i = 0
  for (let j = 0; j < pods.length; j++) {
    const pod = pods[j] as Pod
    let f: PodFacts | undefined
    if (i < prevPods.length && prevPods[i] === pod) f = factsAt(i++)
    if (!f) {
      f = factsMap?.get(pod)
      if (!f) {
        f = factsOf(pod)
        factsMap?.set(pod, f)
        if (changed && f.programmable) changed.push(f)
      } else if (f.at >= i && prevPods[f.at] === pod) {
        // realign after removed pods; the ones jumped over are checked once the walk is done
        for (let k = i; k < f.at; k++) {
          const s = factsAt(k)
          if (s) skipped.push(s)
        }
        i = f.at + 1
      }
    }
    podFacts[j] = f
    f.at = j
    // The same Pod object given twice adds nothing to any set (it stays twice on the node, as given).
    const again = f.seen === epoch
    if (again) duplicates = true
    f.seen = epoch
    if (f.endpoint && pod.nodeName === node) {
      onNode.push(pod)
      onNodeFacts.push(f)
    }
    if (!f.programmable || again) continue
    programmable.push(f)
    if (f.has4) count4++
    if (f.has6) count6++
  }
  // Pods of the last build that are gone: forgotten, and changed when they were in sets.
  if (memo && factsMap) {
    for (let k = i; k < prevPods.length; k++) {
      const s = factsAt(k)
      if (s) skipped.push(s)
    }
    for (const f of skipped) {
      if (f.seen === epoch || factsMap.get(f.pod) !== f) continue
      factsMap.delete(f.pod)
      if (changed && f.programmable) changed.push(f)
    }
    memo.pods = pods
    memo.podFacts = podFacts
    memo.count4 = count4
    memo.count6 = count6
    memo.duplicates = duplicates
    memo.local = { node, onNode, facts: onNodeFacts }
  }
  const families = familiesOf(count4, count6)
  const list = () => programmable
  if (memo) memo.lastPods = { programmable: list, families, byNode: undefined }
  return { programmable: list, onNode, onNodeFacts, families, changed }
}

const familiesOf = (count4: number, count6: number): Family[] =>
  FAMILIES.filter((f) => (f === 4 ? count4 > 0 : count6 > 0))

/** Above this many pods added and removed, collectPodFacts walks every pod again. */
const PODS_FOLLOWED_LIMIT = 256

/**
 * collectPodFacts from the pods added and removed since the last build of the same node alone, when
 * the pods differ from the last build's by a few insertions and removals (identityDiff): no pod
 * that stayed is read, so a change costs a walk over the pointers of the list plus the changed pods.
 * Undefined when it cannot (the caller walks every pod).
 */
function followPods(
  memo: FactsMemo,
  pods: readonly Pod[],
  node: string,
  epoch: number,
): BuildPods | undefined {
  const local = memo.local
  if (memo.duplicates || local === undefined) return undefined
  const factsMap = memo.facts
  const d = identityDiff(memo.pods, pods, (p) => factsMap.has(p), PODS_FOLLOWED_LIMIT)
  if (d === undefined) return undefined
  const changed: PodFacts[] = []
  let count4 = memo.count4
  let count6 = memo.count6
  let localChange = false
  const isLocal = (f: PodFacts) => f.endpoint && f.pod.nodeName === node
  const gone = new Set<PodFacts>()
  for (const pod of d.removed) {
    const f = factsMap.get(pod) as PodFacts
    factsMap.delete(pod)
    gone.add(f)
    if (isLocal(f)) localChange = true
    if (!f.programmable) continue
    changed.push(f)
    if (f.has4) count4--
    if (f.has6) count6--
  }
  const added: PodFacts[] = []
  d.added.forEach((pod, k) => {
    const f = factsOf(pod)
    f.seen = epoch
    f.at = d.addedAt[k] as number
    factsMap.set(pod, f)
    added.push(f)
    if (isLocal(f)) localChange = true
    if (!f.programmable) return
    changed.push(f)
    if (f.has4) count4++
    if (f.has6) count6++
  })
  // the local pods keep `at` as their position in the new list; the list changes when one came or went
  let onNode = local.onNode
  let onNodeFacts = local.facts
  if (localChange) {
    const kept = local.facts.filter((f) => !gone.has(f))
    for (const f of kept) f.at = keptPosition(d, f.at)
    const all = [...kept, ...added.filter(isLocal)].sort((x, y) => x.at - y.at)
    onNodeFacts = all
    onNode = all.map((f) => f.pod)
  } else for (const f of local.facts) f.at = keptPosition(d, f.at)
  memo.pods = pods
  memo.podFacts = undefined
  memo.count4 = count4
  memo.count6 = count6
  memo.local = { node, onNode, facts: onNodeFacts }
  let listed: PodFacts[] | undefined
  const programmable = () => {
    if (listed === undefined) {
      listed = []
      for (const f of factsMap.values()) if (f.programmable) listed.push(f)
    }
    return listed
  }
  const families = familiesOf(count4, count6)
  memo.lastPods = { programmable, families, byNode: undefined }
  return { programmable, onNode, onNodeFacts, families, changed }
}

/**
 * Returns the pods of a build of `node` when the cluster's pods are the very array of the memo's last
 * build (its facts `podFacts` and `last`): nothing changed, only the node's endpoints are looked up (grouped by node
 * once). Equal to what collectPodFacts would return, without walking every pod again.
 */
export function podsOfNode(memo: FactsMemo, last: LastPods, node: string, changes: boolean): BuildPods {
  const same = memo.local?.node === node ? memo.local : undefined
  if (!same && !last.byNode) {
    const byNode = new Map<string, { onNode: Pod[]; facts: PodFacts[] }>()
    memo.pods.forEach((pod, i) => {
      const f = memo.podFacts?.[i] ?? (memo.facts.get(pod) as PodFacts)
      const name = f.pod.nodeName
      if (!f.endpoint || name === undefined) return
      const e = byNode.get(name)
      if (e) {
        e.onNode.push(f.pod)
        e.facts.push(f)
      } else byNode.set(name, { onNode: [f.pod], facts: [f] })
    })
    last.byNode = byNode
  }
  const on = same ?? last.byNode?.get(node)
  return {
    programmable: last.programmable,
    onNode: on?.onNode ?? [],
    onNodeFacts: on?.facts ?? [],
    families: last.families,
    changed: changes ? [] : undefined,
  }
}

/**
 * Address -> the programmable pods holding it: the pod itself when it is the only one (as nearly every
 * address is: no list per pod of the cluster is kept), else the list of them.
 */
export type AddressIndex = Map<string, PodFacts | PodFacts[]>

const NO_HOLDERS: readonly PodFacts[] = []

/** Returns the pods of the address index holding an address. */
export function holdersOf(
  index: ReadonlyMap<string, PodFacts | readonly PodFacts[]>,
  address: string,
): readonly PodFacts[] {
  const h = index.get(address)
  return h === undefined ? NO_HOLDERS : Array.isArray(h) ? h : [h as PodFacts]
}

/** Returns the programmable pods by address. */
export function indexAddresses(programmable: readonly PodFacts[]): AddressIndex {
  const out: AddressIndex = new Map()
  for (const p of programmable) updateAddresses(out, p, true)
  return out
}

/** Adds a pod to (or removes it from) the address index. */
export function updateAddresses(index: AddressIndex, p: PodFacts, present: boolean): void {
  for (const ip of p.ips) {
    const h = index.get(ip.address)
    if (present) {
      if (h === undefined) index.set(ip.address, p)
      else if (Array.isArray(h)) h.push(p)
      else index.set(ip.address, [h, p])
    } else if (h === p) index.delete(ip.address)
    else if (Array.isArray(h)) {
      const i = h.indexOf(p)
      if (i >= 0) h.splice(i, 1)
      if (h.length === 1) index.set(ip.address, h[0] as PodFacts)
      else if (h.length === 0) index.delete(ip.address)
    }
  }
}
