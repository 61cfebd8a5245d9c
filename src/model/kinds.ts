/**
 * The one table of the Kubernetes kinds Palisade reads: in which API versions each is accepted, in which
 * one it is listed from a live API server, and its role. The loader, the validator, the live-cluster
 * reader and the agent derive their views from it; nobody keeps a list of their own.
 */

export type WorkloadKind =
  | 'Deployment'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'ReplicaSet'
  | 'ReplicationController'
  | 'Job'
  | 'CronJob'

export type ReadKind = 'Namespace' | 'Pod' | 'NetworkPolicy' | 'Node' | 'ClusterNetworkPolicy' | WorkloadKind

/** The kinds the node agent always watches. */
export type CoreWatchedKind = 'Pod' | 'Namespace' | 'NetworkPolicy'

/**
 * The kinds the node agent watches: what the compiler reads. ClusterNetworkPolicies and Nodes (their
 * labels and addresses, for `nodes` peers) only while the API server serves ClusterNetworkPolicies
 * (docs/semantics.md#agent-cnp-discovery).
 */
export type WatchedKind = CoreWatchedKind | 'ClusterNetworkPolicy' | 'Node'

export interface KindInfo {
  readonly kind: ReadKind
  /** API versions in which the kind is accepted (validated and read), newest first. */
  readonly versions: readonly string[]
  /** The version it is listed and watched in from a live API server. */
  readonly served: string
  /** Lower-case plural of the REST path (`/api/v1/pods`). */
  readonly plural: string
  /** A workload: pods come from its template. */
  readonly workload: boolean
  /** Cluster-scoped (no metadata.namespace): Namespace, Node, ClusterNetworkPolicy. */
  readonly clusterScoped?: true
  /**
   * False for a kind read for facts only, not validated (Node: its addresses name the node; the API
   * server's many Node rules decide no verdict). Absent: validated in every version.
   */
  readonly validated?: false
}

/** Every kind we read, in the order a live cluster is listed (namespaces first, workloads last). */
export const KINDS: readonly KindInfo[] = [
  {
    kind: 'Namespace',
    versions: ['v1'],
    served: 'v1',
    plural: 'namespaces',
    workload: false,
    clusterScoped: true,
  },
  {
    kind: 'Node',
    versions: ['v1'],
    served: 'v1',
    plural: 'nodes',
    workload: false,
    validated: false,
    clusterScoped: true,
  },
  { kind: 'Pod', versions: ['v1'], served: 'v1', plural: 'pods', workload: false },
  {
    kind: 'NetworkPolicy',
    versions: ['networking.k8s.io/v1', 'extensions/v1beta1'],
    served: 'networking.k8s.io/v1',
    plural: 'networkpolicies',
    workload: false,
  },
  {
    // A CRD (kubernetes-sigs/network-policy-api): served only where it is installed.
    kind: 'ClusterNetworkPolicy',
    versions: ['policy.networking.k8s.io/v1beta1', 'policy.networking.k8s.io/v1alpha2'],
    served: 'policy.networking.k8s.io/v1beta1',
    plural: 'clusternetworkpolicies',
    workload: false,
    clusterScoped: true,
  },
  {
    kind: 'Deployment',
    versions: ['apps/v1', 'apps/v1beta1', 'apps/v1beta2', 'extensions/v1beta1'],
    served: 'apps/v1',
    plural: 'deployments',
    workload: true,
  },
  {
    kind: 'ReplicaSet',
    versions: ['apps/v1', 'apps/v1beta2', 'extensions/v1beta1'],
    served: 'apps/v1',
    plural: 'replicasets',
    workload: true,
  },
  {
    kind: 'StatefulSet',
    versions: ['apps/v1', 'apps/v1beta1', 'apps/v1beta2'],
    served: 'apps/v1',
    plural: 'statefulsets',
    workload: true,
  },
  {
    kind: 'DaemonSet',
    versions: ['apps/v1', 'apps/v1beta2', 'extensions/v1beta1'],
    served: 'apps/v1',
    plural: 'daemonsets',
    workload: true,
  },
  { kind: 'Job', versions: ['batch/v1'], served: 'batch/v1', plural: 'jobs', workload: true },
  {
    kind: 'CronJob',
    versions: ['batch/v1', 'batch/v1beta1'],
    served: 'batch/v1',
    plural: 'cronjobs',
    workload: true,
  },
  {
    kind: 'ReplicationController',
    versions: ['v1'],
    served: 'v1',
    plural: 'replicationcontrollers',
    workload: true,
  },
]

/** API versions in which each kind we read is accepted. */
export const READ_KINDS: Readonly<Record<ReadKind, readonly string[]>> = Object.fromEntries(
  KINDS.map((k) => [k.kind, k.versions]),
) as Record<ReadKind, readonly string[]>

/** The workload kinds, in table order. */
export const WORKLOAD_KINDS: readonly WorkloadKind[] = KINDS.filter((k) => k.workload).map(
  (k) => k.kind as WorkloadKind,
)

/** The kinds the agent always watches, in the order its informers start. */
export const CORE_WATCHED_KINDS: readonly CoreWatchedKind[] = ['Namespace', 'Pod', 'NetworkPolicy']

/** Every kind the agent may watch (and reads from --from-dir): the core kinds, then the CRD's. */
export const WATCHED_KINDS: readonly WatchedKind[] = [...CORE_WATCHED_KINDS, 'ClusterNetworkPolicy', 'Node']

/** Returns a kind's row (every ReadKind has one). */
export function kindInfo(kind: ReadKind): KindInfo {
  return KINDS.find((k) => k.kind === kind) as KindInfo
}

/** Returns the cluster-wide REST path of a kind in its served version (`/apis/apps/v1/deployments`). */
export function kindPath(kind: ReadKind): string {
  const k = kindInfo(kind)
  return `${k.served.includes('/') ? '/apis' : '/api'}/${k.served}/${k.plural}`
}
