/**
 * Phase 1 of a node build: every pod reduced once to what the compiler needs (is it a policy endpoint,
 * its canonical addresses), reused per Pod object from build to build, and from node to node: nothing
 * in a pod's facts depends on the node compiled (`compile --all-nodes` derives them once per cluster).
 */
import type { Family, Pod } from '../model/index.js'
import { podKey } from '../model/index.js'
import { isPolicyEndpoint, type PodAddress, podAddresses } from '../semantics/index.js'

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
  /** cluster.pods of the last build and their facts, position by position. */
  pods: readonly Pod[]
  podFacts: readonly PodFacts[]
  /** Facts of the pods of the last build, by Pod object (updated in place). */
  readonly facts: Map<Pod, PodFacts>
  /** What the last build derived from `pods` for every node (reused while `pods` is the same array). */
  lastPods: LastPods | undefined
}

/** The node-independent part of a build's pods, and the endpoints of each node once asked. */
export interface LastPods {
  readonly programmable: readonly PodFacts[]
  readonly families: readonly Family[]
  /** nodeName -> its endpoint pods in `pods` order, computed on the first build of another node. */
  byNode: Map<string, { readonly onNode: Pod[]; readonly facts: PodFacts[] }> | undefined
}

/** The pods of one build, as the later phases read them. */
export interface BuildPods {
  /** Programmable pods, each Pod object once. */
  readonly programmable: readonly PodFacts[]
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
  const factsMap = memo?.facts
  const changed: PodFacts[] | undefined = changes ? [] : undefined
  const prevPods = memo?.pods ?? []
  const prevFacts = memo?.podFacts ?? []
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
        f = factsOf(pod)
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
    if (f.endpoint && pod.nodeName === node) {
      onNode.push(pod)
      onNodeFacts.push(f)
    }
    if (!f.programmable || again) continue
    programmable.push(f)
    if (f.has4) has4 = true
    if (f.has6) has6 = true
  }
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
  const families = FAMILIES.filter((f) => (f === 4 ? has4 : has6))
  if (memo) memo.lastPods = { programmable, families, byNode: undefined }
  return { programmable, onNode, onNodeFacts, families, changed }
}

/**
 * Returns the pods of a build of `node` when the cluster's pods are the very array of the memo's last
 * build (its facts `podFacts` and `last`): nothing changed, only the node's endpoints are looked up (grouped by node
 * once). Equal to what collectPodFacts would return, without walking every pod again.
 */
export function podsOfNode(
  podFacts: readonly PodFacts[],
  last: LastPods,
  node: string,
  changes: boolean,
): BuildPods {
  if (!last.byNode) {
    const byNode = new Map<string, { onNode: Pod[]; facts: PodFacts[] }>()
    for (const f of podFacts) {
      const name = f.pod.nodeName
      if (!f.endpoint || name === undefined) continue
      const e = byNode.get(name)
      if (e) {
        e.onNode.push(f.pod)
        e.facts.push(f)
      } else byNode.set(name, { onNode: [f.pod], facts: [f] })
    }
    last.byNode = byNode
  }
  const on = last.byNode.get(node)
  return {
    programmable: last.programmable,
    onNode: on?.onNode ?? [],
    onNodeFacts: on?.facts ?? [],
    families: last.families,
    changed: changes ? [] : undefined,
  }
}

/** Returns the programmable pods by address. */
export function indexAddresses(programmable: readonly PodFacts[]): Map<string, PodFacts[]> {
  const out = new Map<string, PodFacts[]>()
  for (const p of programmable) updateAddresses(out, p, true)
  return out
}

/** Adds a pod to (or removes it from) the address index. */
export function updateAddresses(index: Map<string, PodFacts[]>, p: PodFacts, present: boolean): void {
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
