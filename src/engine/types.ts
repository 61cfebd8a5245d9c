/** Engine values: endpoints, port queries, verdicts with their reasons, matrices. */
import type {
  ClusterPolicyAction,
  ClusterPolicyTier,
  NetworkPolicy,
  Pod,
  PolicyType,
  SourceRef,
} from '../model/index.js'
import type { PortQuery } from '../semantics/index.js'

/** A port to evaluate (src/semantics' PortQuery; part of the engine's API). */
export type { PortQuery } from '../semantics/index.js'

/** One side of a connection: a pod of the cluster or an address outside it. */
export type Endpoint =
  | { readonly kind: 'pod'; readonly pod: Pod }
  | { readonly kind: 'ip'; readonly ip: string }
  /** A node itself (kubelet probes, host processes): always allowed to and from its own pods. */
  | { readonly kind: 'node'; readonly node: string; readonly ip?: string }

/** Names a policy (and, for rules, the rule) that took part in a verdict. */
export interface PolicyRef {
  /** 'namespace/name' */
  readonly policy: string
  readonly namespace: string
  readonly name: string
  readonly origin: NetworkPolicy['origin']
  readonly source?: SourceRef
}

export interface RuleRef extends PolicyRef {
  readonly direction: PolicyType
  /** Index in spec.ingress or spec.egress. */
  readonly rule: number
  readonly ruleSource?: SourceRef
}

/** Names a ClusterNetworkPolicy rule that took part in a verdict (docs/semantics.md#cnp-tiers). */
export interface ClusterRuleRef {
  /** metadata.name of the ClusterNetworkPolicy. */
  readonly policy: string
  readonly tier: ClusterPolicyTier
  readonly priority: number
  readonly direction: PolicyType
  /** Index in spec.ingress or spec.egress. */
  readonly rule: number
  /** The rule's name, when it has one. */
  readonly ruleName?: string
  /** The action taken: the rule's, or Deny for a rule that fails closed (docs/semantics.md#cnp-fail-closed). */
  readonly action: ClusterPolicyAction
  /** True when the rule fails closed (a peer of no known field). */
  readonly failClosed?: true
  readonly source?: SourceRef
  readonly ruleSource?: SourceRef
}

/**
 * The tier that decided a direction (docs/semantics.md#cnp-tiers): a ClusterNetworkPolicy of the Admin or
 * Baseline tier, NetworkPolicy (the pod is isolated), or none ('default': allowed).
 */
export type DecidingTier = 'Admin' | 'NetworkPolicy' | 'Baseline' | 'default'

/** Why a direction was decided the way it was, beyond the rules. */
export type DirectionNote =
  | 'not-a-pod' // the endpoint is outside the cluster: no policy applies on its side
  | 'host-network' // hostNetwork pods are not selected by NetworkPolicy (docs/semantics.md#hostnetwork-pods)
  | 'not-isolated' // no policy of this type selects the pod
  | 'allowed-by-rule'
  | 'no-rule-matched'
  /**
   * Isolated and no rule admits it, but the other side is this pod's own node (or a hostNetwork pod on
   * it), which always reaches its pods (docs/semantics.md#node-and-local-pods): selectedBy keeps the true facts.
   */
  | 'same-node-host'
  /** A ClusterNetworkPolicy rule (decidedBy) accepted or denied it. */
  | 'cluster-policy-accept'
  | 'cluster-policy-deny'

export interface DirectionVerdict {
  /** The direction applies to a pod that at least one policy of this type selects. */
  readonly isolated: boolean
  readonly allowed: boolean
  /** Policies of this type that select the pod (they isolate it). */
  readonly selectedBy: readonly PolicyRef[]
  /** Rules that admit this connection (all of them, not only the first). */
  readonly allowedBy: readonly RuleRef[]
  readonly note: DirectionNote
  /** The tier that decided (absent where no policy can apply: not-a-pod, host-network). */
  readonly tier?: DecidingTier
  /** The ClusterNetworkPolicy rule whose Accept or Deny decided (notes cluster-policy-*). */
  readonly decidedBy?: ClusterRuleRef
  /** The Pass rules that sent the connection on to the next tier, in order (Admin, then Baseline). */
  readonly passedBy?: readonly ClusterRuleRef[]
}

/**
/**
 * Special cases decided before any policy is read (docs/semantics.md#pod-reaches-itself,
 * docs/semantics.md#node-and-local-pods, docs/semantics.md#no-common-family). 'no-common-family': a pod and an
 * outside address of a family the pod has no address of (an IPv4-only pod and 2001:db8::1): there is no
 * such connection, whatever the policies say.
 */
export type VerdictNote = 'loopback' | 'same-node-host' | 'no-common-family' | undefined

export interface Verdict {
  /** Egress of the source AND ingress of the destination. */
  readonly allowed: boolean
  readonly egress: DirectionVerdict
  readonly ingress: DirectionVerdict
  readonly note?: VerdictNote
  /** With 'no-common-family': the outside address's family, which the pod lacks. */
  readonly family?: 4 | 6
}

/** Formats a port query as '80/TCP'. */
export function formatPort(p: PortQuery): string {
  return `${p.port}/${p.protocol}`
}

/**
 * A reachability matrix over pods and ports. cells[k][i * pods.length + j] is the verdict for
 * pods[i] -> pods[j] on ports[k]: 1 allowed, 0 denied, 2 not evaluated/probed (e.g. SCTP in the lab).
 */
export interface Matrix {
  readonly pods: readonly string[]
  readonly ports: readonly string[]
  readonly cells: readonly Uint8Array[]
}

export const CELL_DENIED = 0
export const CELL_ALLOWED = 1
export const CELL_UNKNOWN = 2
