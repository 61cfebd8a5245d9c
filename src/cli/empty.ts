/** Says what is really empty when an analysis has nothing to show (no pod, only hostNetwork pods, no such namespace). */
import type { LeftOut } from '../load/index.js'
import type { ClusterState, Pod } from '../model/index.js'

const quote = (names: readonly string[]): string => names.map((n) => `"${n}"`).join(', ')

/**
 * Returns why there is nothing to show for these pods (the endpoints kept after -n), or undefined when
 * there is something. `namespaces` are the -n values, when given; `leftOut` what a scoped load left out
 * of the cluster (the counts are those of the whole input).
 */
export function emptyReason(
  cluster: ClusterState,
  shown: readonly Pod[],
  namespaces: readonly string[] = [],
  leftOut: LeftOut = { pods: 0, hostNetworkPods: 0, policies: 0 },
): string | undefined {
  if (shown.length > 0) return undefined
  const known = new Set(cluster.namespaces.map((n) => n.name))
  const missing = namespaces.filter((n) => !known.has(n))
  if (namespaces.length > 0 && missing.length === namespaces.length) {
    const all = [...known].sort()
    const list = all.length > 12 ? `${all.slice(0, 12).join(', ')}, ...` : all.join(', ')
    return `no namespace ${quote(missing)} in the input (namespaces: ${list || 'none'})`
  }
  const pods = cluster.pods.length + leftOut.pods
  if (pods === 0) {
    const policies = cluster.policies.length + leftOut.policies
    return `no pod in the input (${policies} ${policies === 1 ? 'policy' : 'policies'} read): nothing to show`
  }
  const hostNetwork = cluster.pods.filter((p) => p.hostNetwork).length + leftOut.hostNetworkPods
  if (hostNetwork === pods)
    return `every pod of the input (${pods}) uses hostNetwork: such pods are their node, not NetworkPolicy endpoints, so there is nothing to show`
  return `no pod in namespace ${quote(namespaces.filter((n) => known.has(n)))} (hostNetwork pods are their node and not shown)`
}
