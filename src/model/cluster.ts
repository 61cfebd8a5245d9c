/**
 * The cluster as Palisade analyses it: validated, defaulted, normalised objects.
 * Raw manifests become these values in src/load (parse) + src/validate (check) + src/load/normalize.
 * Everything here is plain readonly data: the engine, compiler, lab and agent all consume it.
 */
import type { SourceRef } from './diagnostic.js'

export type Protocol = 'TCP' | 'UDP' | 'SCTP'
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP']

export type Labels = Readonly<Record<string, string>>

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'

export interface LabelSelectorRequirement {
  readonly key: string
  readonly operator: SelectorOperator
  readonly values: readonly string[]
}

/** A metav1.LabelSelector. Both fields empty = matches everything. */
export interface LabelSelector {
  readonly matchLabels: Labels
  readonly matchExpressions: readonly LabelSelectorRequirement[]
}

export interface Namespace {
  readonly name: string
  /** Includes kubernetes.io/metadata.name=<name>, as the API server sets it. */
  readonly labels: Labels
  /** True when declared in the input; false when implied by an object that lives in it. */
  readonly declared: boolean
  /**
   * Legacy annotation net.beta.kubernetes.io/network-policy: {"ingress":{"isolation":"DefaultDeny"}}.
   * Normalisation turns it into a synthetic policy (see NetworkPolicy.origin); kept here for explain/migrate.
   */
  readonly defaultDenyIngress: boolean
  readonly source?: SourceRef
}

export interface ContainerPort {
  readonly name?: string
  readonly containerPort: number
  readonly protocol: Protocol
}

export interface PodOwner {
  readonly kind: string
  readonly name: string
}

/**
 * A node as the analysis knows it: its name and the addresses that are its own (Node objects'
 * status.addresses InternalIP/ExternalIP, pods' status.hostIPs, hostNetwork pods' addresses).
 */
export interface Node {
  readonly name: string
  /** Canonical addresses, sorted, no duplicates. */
  readonly addresses: readonly string[]
  /** True when a Node object was read; false when only pods told of the node. */
  readonly declared: boolean
  /**
   * spec.podCIDRs (or spec.podCIDR) in canonical form, IPv4 first; absent when the Node gives none or
   * gives ones the API server would refuse (load.invalid-pod-cidrs).
   */
  readonly podCIDRs?: readonly string[]
  /** metadata.labels of the Node object (ClusterNetworkPolicy `nodes` peers select by them); absent when none. */
  readonly labels?: Labels
  readonly source?: SourceRef
}

export interface Pod {
  readonly namespace: string
  readonly name: string
  readonly labels: Labels
  /** status.podIPs (or status.podIP), primary first. Empty when not known. */
  readonly ips: readonly string[]
  readonly ports: readonly ContainerPort[]
  readonly nodeName?: string
  /** spec.hostNetwork: the pod uses its node's addresses and is not a NetworkPolicy endpoint. */
  readonly hostNetwork: boolean
  /** status.phase when given. */
  readonly phase?: string
  /** Set when this pod is a representative pod made from a workload template. */
  readonly workload?: PodOwner
  /**
   * The controllers of a real pod, its direct owner first and the top-level workload last (ReplicaSet,
   * then Deployment; Job, then CronJob), from metadata.ownerReferences, the owners' own ownerReferences
   * and the pod-template-hash label (docs/semantics.md#workload-names). Absent for a pod without owner.
   */
  readonly controllers?: readonly PodOwner[]
  /** status.hostIPs (or status.hostIP): the addresses of the node the pod runs on. */
  readonly hostIPs?: readonly string[]
  readonly source?: SourceRef
}

export type PolicyType = 'Ingress' | 'Egress'

export interface IPBlock {
  /** Canonical CIDR text as written (validated). */
  readonly cidr: string
  readonly except: readonly string[]
}

/**
 * One element of from/to. Exactly the fields given in the manifest:
 * podSelector only = pods in the policy namespace; namespaceSelector only = all pods of matching
 * namespaces; both = AND; ipBlock alone.
 */
export interface PolicyPeer {
  readonly podSelector?: LabelSelector
  readonly namespaceSelector?: LabelSelector
  readonly ipBlock?: IPBlock
}

export interface PolicyPort {
  /** Defaulted to TCP when absent, as the API server does. */
  readonly protocol: Protocol
  /** Absent = every port of the protocol. A string is an IANA_SVC_NAME resolved on the destination pod. */
  readonly port?: number | string
  readonly endPort?: number
}

export interface PolicyRule {
  /** undefined = from/to absent or empty: every peer (all pods in all namespaces and every IP). */
  readonly peers?: readonly PolicyPeer[]
  /** undefined = ports absent or empty: every port and protocol. */
  readonly ports?: readonly PolicyPort[]
  readonly source?: SourceRef
}

/** Where a policy comes from: a real NetworkPolicy object or the legacy DefaultDeny namespace annotation. */
export type PolicyOrigin =
  | { readonly kind: 'NetworkPolicy'; readonly apiVersion: 'networking.k8s.io/v1' | 'extensions/v1beta1' }
  | { readonly kind: 'DefaultDenyAnnotation' }

export interface NetworkPolicy {
  readonly namespace: string
  readonly name: string
  readonly origin: PolicyOrigin
  readonly podSelector: LabelSelector
  /** After defaulting (Ingress always; Egress when egress rules exist), as the API server does. */
  readonly policyTypes: readonly PolicyType[]
  readonly ingress: readonly PolicyRule[]
  readonly egress: readonly PolicyRule[]
  readonly source?: SourceRef
}

export interface ClusterState {
  readonly namespaces: readonly Namespace[]
  readonly pods: readonly Pod[]
  readonly policies: readonly NetworkPolicy[]
  /**
   * ClusterNetworkPolicies (policy.networking.k8s.io), in evaluation order: Admin tier first, then
   * Baseline; by priority, then by name (docs/semantics.md#cnp-same-priority). Absent when there is none.
   */
  readonly clusterPolicies?: readonly ClusterNetworkPolicy[]
  /** Nodes with the addresses known to be theirs (sorted by name); absent when none is known. */
  readonly nodes?: readonly Node[]
  /** The workload objects of the input (Deployments, Jobs...), sorted; absent when there is none. */
  readonly workloads?: readonly WorkloadObjectInfo[]
}

/** A workload object that was read, and why it runs no pod when it runs none (docs/semantics.md#phantom-pods). */
export interface WorkloadObjectInfo {
  readonly namespace: string
  readonly kind: string
  readonly name: string
  /** 'replicas: 0', 'finished (Complete)', 'suspended'... */
  readonly idle?: string
  readonly source?: SourceRef
}

/** Returns the workload a pod belongs to: its top-level controller, or the workload it represents. */
export function podWorkload(pod: Pod): PodOwner | undefined {
  return pod.controllers?.[pod.controllers.length - 1] ?? pod.workload
}

/** Returns 'namespace/name'. */
export function podKey(p: { readonly namespace: string; readonly name: string }): string {
  return `${p.namespace}/${p.name}`
}

/** Returns 'namespace/name' for a policy. */
export function policyKey(p: { readonly namespace: string; readonly name: string }): string {
  return `${p.namespace}/${p.name}`
}

/** Name of the synthetic policy made from the DefaultDeny annotation (not a valid object name on purpose). */
export const DEFAULT_DENY_ANNOTATION_POLICY = '~default-deny-annotation'
export const LEGACY_ISOLATION_ANNOTATION = 'net.beta.kubernetes.io/network-policy'

/**
 * Returns the synthetic policy the legacy DefaultDeny annotation stands for (docs/semantics.md#legacy-default-deny): every pod
 * of the namespace isolated for ingress, nothing admitted.
 */
export function defaultDenyAnnotationPolicy(namespace: string, source?: SourceRef): NetworkPolicy {
  return {
    namespace,
    name: DEFAULT_DENY_ANNOTATION_POLICY,
    origin: { kind: 'DefaultDenyAnnotation' },
    podSelector: { matchLabels: {}, matchExpressions: [] },
    policyTypes: ['Ingress'],
    ingress: [],
    egress: [],
    ...(source ? { source } : {}),
  }
}

// ---------------------------------------------------------------------------------------------
// ClusterNetworkPolicy (policy.networking.k8s.io v1beta1 / v1alpha2): docs/semantics.md#cnp-tiers

/** spec.tier: Admin is evaluated before NetworkPolicy, Baseline after it. */
export type ClusterPolicyTier = 'Admin' | 'Baseline'
export const CLUSTER_POLICY_TIERS: readonly ClusterPolicyTier[] = ['Admin', 'Baseline']

/** A rule's action. */
export type ClusterPolicyAction = 'Accept' | 'Deny' | 'Pass'
export const CLUSTER_POLICY_ACTIONS: readonly ClusterPolicyAction[] = ['Accept', 'Deny', 'Pass']

/** The API versions a ClusterNetworkPolicy is read in (same fields in both). */
export type ClusterPolicyAPIVersion = 'policy.networking.k8s.io/v1beta1' | 'policy.networking.k8s.io/v1alpha2'

/** spec.subject (exactly one field): every pod of the namespaces, or pods of namespaces. */
export type ClusterPolicySubject =
  | { readonly kind: 'namespaces'; readonly namespaceSelector: LabelSelector }
  | {
      readonly kind: 'pods'
      readonly namespaceSelector: LabelSelector
      readonly podSelector: LabelSelector
    }

/**
 * One element of from/to: exactly one field in a valid object. `domainNames` is read but not analysed
 * (docs/semantics.md#cnp-domain-names); `unknown` is a peer with none of the fields we know (a newer API
 * version's peer type), which makes its rule fail closed (docs/semantics.md#cnp-fail-closed).
 */
export type ClusterPolicyPeer =
  | { readonly kind: 'namespaces'; readonly namespaceSelector: LabelSelector }
  | {
      readonly kind: 'pods'
      readonly namespaceSelector: LabelSelector
      readonly podSelector: LabelSelector
    }
  /** Canonical CIDRs (each an ipBlock without except). */
  | { readonly kind: 'networks'; readonly networks: readonly string[] }
  | { readonly kind: 'nodes'; readonly nodeSelector: LabelSelector }
  | { readonly kind: 'domainNames'; readonly domainNames: readonly string[] }
  | { readonly kind: 'unknown'; readonly fields: readonly string[] }

/** One entry of protocols: a port or range of a protocol, or a named port (any protocol). */
export type ClusterPolicyPort =
  | {
      readonly kind: 'port'
      readonly protocol: Protocol
      readonly port: number
      /** destinationPort.range.end; port is then range.start. */
      readonly endPort?: number
    }
  | { readonly kind: 'named'; readonly name: string }

export interface ClusterPolicyRule {
  /** The rule's optional name. */
  readonly name?: string
  readonly action: ClusterPolicyAction
  readonly peers: readonly ClusterPolicyPeer[]
  /** undefined = protocols absent: every port of every protocol. */
  readonly ports?: readonly ClusterPolicyPort[]
  readonly source?: SourceRef
}

export interface ClusterNetworkPolicy {
  readonly name: string
  readonly apiVersion: ClusterPolicyAPIVersion
  readonly tier: ClusterPolicyTier
  /** 0..1000, lower first. */
  readonly priority: number
  readonly subject: ClusterPolicySubject
  readonly ingress: readonly ClusterPolicyRule[]
  readonly egress: readonly ClusterPolicyRule[]
  readonly source?: SourceRef
}

/**
 * Orders ClusterNetworkPolicies as they are evaluated: Admin before Baseline, lower priority first, then by
 * name (the API leaves equal priorities to the implementation: docs/semantics.md#cnp-same-priority).
 */
export function compareClusterPolicies(a: ClusterNetworkPolicy, b: ClusterNetworkPolicy): number {
  const tier = (t: ClusterPolicyTier) => (t === 'Admin' ? 0 : 1)
  return (
    tier(a.tier) - tier(b.tier) || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  )
}
