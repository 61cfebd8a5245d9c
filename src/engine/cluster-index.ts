/** Lookup structures over a ClusterState, built once and shared by every evaluation. */
import type {
  ClusterNetworkPolicy,
  ClusterPolicyTier,
  ClusterState,
  Labels,
  NetworkPolicy,
  Pod,
  PolicyType,
} from '../model/index.js'
import { podKey } from '../model/index.js'
import {
  buildNamespaceIndex,
  buildNodeIndex,
  clusterPoliciesOfTier,
  clusterPolicySelectsPod,
  type NamespaceIndex,
  type NodeIndex,
} from '../semantics/index.js'

export interface ClusterIndex {
  readonly cluster: ClusterState
  /** Namespace labels and scope matches, as src/semantics reads them. */
  readonly namespaces: NamespaceIndex
  /** Node labels by address (ClusterNetworkPolicy `nodes` peers). */
  readonly nodes: NodeIndex
  /** ClusterNetworkPolicies per tier, in evaluation order (priority, then name). */
  readonly tiers: {
    readonly Admin: readonly ClusterNetworkPolicy[]
    readonly Baseline: readonly ClusterNetworkPolicy[]
  }
  /** Memo: pod -> the ClusterNetworkPolicies of each tier that select it (filled by tierPoliciesOf). */
  readonly tierSelecting: Map<
    Pod,
    { readonly Admin: readonly ClusterNetworkPolicy[]; readonly Baseline: readonly ClusterNetworkPolicy[] }
  >
  /** Namespace name -> labels (implied namespaces included). */
  readonly namespaceLabels: ReadonlyMap<string, Labels>
  /** 'ns/name' -> pod. */
  readonly podsByKey: ReadonlyMap<string, Pod>
  /** Namespace -> policies of that namespace whose policyTypes include the direction. */
  readonly policiesByNamespace: ReadonlyMap<
    string,
    { readonly Ingress: readonly NetworkPolicy[]; readonly Egress: readonly NetworkPolicy[] }
  >
}

const NO_POLICIES = { Ingress: [] as NetworkPolicy[], Egress: [] as NetworkPolicy[] }

/** Builds the lookup index of a cluster. */
export function buildIndex(cluster: ClusterState): ClusterIndex {
  const namespaces = buildNamespaceIndex(cluster.namespaces)
  const podsByKey = new Map<string, Pod>()
  for (const p of cluster.pods) podsByKey.set(podKey(p), p)
  const policiesByNamespace = new Map<string, { Ingress: NetworkPolicy[]; Egress: NetworkPolicy[] }>()
  for (const pol of cluster.policies) {
    let entry = policiesByNamespace.get(pol.namespace)
    if (!entry) {
      entry = { Ingress: [], Egress: [] }
      policiesByNamespace.set(pol.namespace, entry)
    }
    for (const t of pol.policyTypes) entry[t].push(pol)
  }
  const tiers = {
    Admin: clusterPoliciesOfTier(cluster.clusterPolicies, 'Admin'),
    Baseline: clusterPoliciesOfTier(cluster.clusterPolicies, 'Baseline'),
  }
  return {
    cluster,
    namespaces,
    nodes: buildNodeIndex(cluster.nodes),
    tiers,
    tierSelecting: new Map(),
    namespaceLabels: namespaces.labels,
    podsByKey,
    policiesByNamespace,
  }
}

/** Returns the policies of a namespace that have the given policy type. */
export function policiesOf(index: ClusterIndex, ns: string, direction: PolicyType): readonly NetworkPolicy[] {
  return (index.policiesByNamespace.get(ns) ?? NO_POLICIES)[direction]
}

/** Returns the ClusterNetworkPolicies of a tier that select the pod, in evaluation order (memoised per pod). */
export function tierPoliciesOf(
  index: ClusterIndex,
  tier: ClusterPolicyTier,
  pod: Pod,
): readonly ClusterNetworkPolicy[] {
  if (index.tiers.Admin.length === 0 && index.tiers.Baseline.length === 0) return []
  let entry = index.tierSelecting.get(pod)
  if (!entry) {
    const pick = (t: ClusterPolicyTier) =>
      index.tiers[t].filter((p) => clusterPolicySelectsPod(index.namespaces, p, pod))
    entry = { Admin: pick('Admin'), Baseline: pick('Baseline') }
    index.tierSelecting.set(pod, entry)
  }
  return entry[tier]
}
