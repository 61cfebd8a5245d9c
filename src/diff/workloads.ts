/**
 * Workloads: pods folded so that a report speaks of `shop/web (3 pods)` rather than of each replica.
 * The one place that decides which pods are one workload (issue 11 will resolve owners better).
 */
import type { Pod } from '../model/index.js'
import { podKey } from '../model/index.js'

export interface Workload {
  /** 'namespace/name' (name is the owner's, the pod's, or a common prefix with '*'). */
  readonly key: string
  readonly namespace: string
  readonly name: string
  /** The owner kind when the pods stand for a workload object (Deployment...), else 'Pod'. */
  readonly kind: string
  /** Keys of the folded pods, sorted. */
  readonly pods: readonly string[]
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Returns the longest common prefix of names. */
function commonPrefix(names: readonly string[]): string {
  let prefix = names[0] ?? ''
  for (const n of names) {
    let i = 0
    while (i < prefix.length && i < n.length && prefix[i] === n[i]) i++
    prefix = prefix.slice(0, i)
  }
  return prefix
}

/** Names a group of pods with identical labels: `web-5d4f7-*` from their common prefix, else the names. */
function groupName(names: readonly string[]): string {
  if (names.length === 1) return names[0] as string
  const prefix = commonPrefix(names).replace(/[-.]+$/, '')
  return prefix.length >= 2 ? `${prefix}-*` : names.join('+')
}

/**
 * Folds pods into workloads: by owner (the `workload` normalisation sets) and, for pods without one, by
 * namespace and identical labels (replicas of one ReplicaSet or StatefulSet carry the same labels). A pod
 * whose labels no other pod shares is its own workload. Sorted by key; every pod is in exactly one.
 */
export function foldWorkloads(pods: readonly Pod[]): Workload[] {
  const groups = new Map<string, { namespace: string; kind: string; owner?: string; pods: Pod[] }>()
  for (const pod of pods) {
    const id = pod.workload
      ? `o|${pod.namespace}|${pod.workload.kind}|${pod.workload.name}`
      : `l|${pod.namespace}|${JSON.stringify(Object.entries(pod.labels).sort(([a], [b]) => compare(a, b)))}`
    let g = groups.get(id)
    if (!g) {
      g = {
        namespace: pod.namespace,
        kind: pod.workload?.kind ?? 'Pod',
        ...(pod.workload ? { owner: pod.workload.name } : {}),
        pods: [],
      }
      groups.set(id, g)
    }
    g.pods.push(pod)
  }
  const out: Workload[] = []
  const taken = new Set<string>()
  for (const g of groups.values()) {
    const names = g.pods.map((p) => p.name).sort(compare)
    let name = g.owner ?? groupName(names)
    // Two groups may fold to one name (a Deployment and a Pod called alike): keep keys unique.
    while (taken.has(`${g.namespace}/${name}`)) name = `${name}~`
    taken.add(`${g.namespace}/${name}`)
    out.push({
      key: `${g.namespace}/${name}`,
      namespace: g.namespace,
      name,
      kind: g.kind,
      pods: g.pods.map(podKey).sort(compare),
    })
  }
  return out.sort((a, b) => compare(a.key, b.key))
}
