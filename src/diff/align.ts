/**
 * Lines up a workload's representative pod (made from a Deployment's template in manifests) with the real
 * pods that workload runs (read from a live cluster), so that `diff --kubeconfig CLUSTER deploy/` compares
 * the same pods instead of reporting every pod removed and every template added.
 */
import type { ClusterState, Pod } from '../model/index.js'
import { podKey } from '../model/index.js'

/** Whether the pod carries every label of the template (its pods add pod-template-hash and the like). */
function carries(pod: Pod, template: Pod): boolean {
  return Object.entries(template.labels).every(([k, v]) => pod.labels[k] === v)
}

/**
 * Returns both clusters with each unmatched representative pod of one side replaced by copies named after
 * the real pods of the other side that it stands for: same namespace, no workload of their own, not
 * present on the first side, carrying all of the template's labels, and claimed by no other template (a
 * pod two templates could own stays unmatched). The copies keep the template's labels, ports and owner,
 * and have no address (a template has none). Pods matched by name are left alone.
 */
export function alignWorkloads(a: ClusterState, b: ClusterState): { a: ClusterState; b: ClusterState } {
  const [a1, b1] = alignOneWay(a, b)
  const [b2, a2] = alignOneWay(b1, a1)
  return { a: a2, b: b2 }
}

/** Replaces representative pods of `x` by copies named after real pods of `y`. */
function alignOneWay(x: ClusterState, y: ClusterState): [ClusterState, ClusterState] {
  const xKeys = new Set(x.pods.map(podKey))
  const yKeys = new Set(y.pods.map(podKey))
  const templates = x.pods.filter(
    (p) => p.workload && !yKeys.has(podKey(p)) && Object.keys(p.labels).length > 0,
  )
  if (templates.length === 0) return [x, y]
  const candidates = y.pods.filter((p) => !p.workload && !xKeys.has(podKey(p)))
  const owners = new Map<string, Pod[]>()
  for (const pod of candidates) {
    const mine = templates.filter((t) => t.namespace === pod.namespace && carries(pod, t))
    owners.set(podKey(pod), mine)
  }
  const replaced = new Set<string>()
  const copies: Pod[] = []
  for (const t of templates) {
    const mine = candidates.filter(
      (p) => owners.get(podKey(p))?.length === 1 && owners.get(podKey(p))?.[0] === t,
    )
    if (mine.length === 0) continue
    replaced.add(podKey(t))
    for (const p of mine) {
      const { source, ...rest } = t
      copies.push({ ...rest, name: p.name, ips: [], ...(source ? { source } : {}) })
    }
  }
  if (copies.length === 0) return [x, y]
  const pods = [...x.pods.filter((p) => !replaced.has(podKey(p))), ...copies].sort((p, q) =>
    p.namespace < q.namespace
      ? -1
      : p.namespace > q.namespace
        ? 1
        : p.name < q.name
          ? -1
          : p.name > q.name
            ? 1
            : 0,
  )
  return [{ ...x, pods }, y]
}
