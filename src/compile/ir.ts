/**
 * The node IR: everything one node must enforce, computed from the whole cluster, independent of the
 * backend (nftables, iptables+ipset). Backends only render it; they never read the ClusterState.
 *
 * Shape (docs/semantics.md#from-the-api, docs/semantics.md#plugin-choices):
 * - `sets`: address sets (one per distinct peer, cluster-wide, deduplicated across policies) and
 *   named-port sets (destination address . port of pods declaring a port name/protocol), one per family.
 * - `chains`: one per (policy, direction) that selects at least one local pod. Its rules are an OR;
 *   a rule that matches means "this policy allows the packet"; no rule matching = "no opinion".
 * - `pods`: the local pods (nodeName === node, not hostNetwork, with at least one IP). A pod isolated in a
 *   direction lists the chains to try; when none matches, the packet is dropped.
 *
 * Size: chains and rules grow with policies + local pods; set elements grow with matching pods.
 * Never pods x pods. Everything is sorted: the same cluster always gives the same IR (and bytes).
 *
 * Ids (`IRSet.id`, `IRChain.id`, `IRLocalPod.*.chain`) are unique in the IR, deterministic, match
 * /^[a-z][a-z0-9_-]*$/ and are at most IR_NAME_MAX characters: valid nftables identifiers as they are.
 * Backends with shorter limits (ipset: 31, iptables chains: 28) derive their own names from them.
 */
import type { ClusterPolicyAction, ClusterPolicyTier, Diagnostic, Family, Protocol } from '../model/index.js'

/** Longest id the IR produces (nftables allows 255 on current kernels; we stay well below). */
export const IR_NAME_MAX = 64

/** What the node compiler can be told about the node beyond the cluster objects. */
export interface CompileOptions {
  /**
   * Pod key ('namespace/name') -> host-side interface name of the pod (veth peer on the node).
   * When given, packets entering from that interface must carry one of the pod's addresses
   * (anti-spoofing). Pods missing from the map are not checked; when the map is absent entirely the
   * ruleset relies on strict rp_filter (documented in the rendered output).
   */
  readonly podInterfaces?: Readonly<Record<string, string>>
  /**
   * The node's pod ranges as canonical CIDRs (`--pod-cidr`). When given they win over the Node object's
   * spec.podCIDRs (ClusterState.nodes); when absent, those are used; when neither is known, unknown pod
   * addresses are not recognised (behaviour of before: forwarded unfiltered).
   */
  readonly podRanges?: readonly string[]
  /**
   * What happens to a packet from or to an address in the pod ranges that is no programmed local pod
   * (a pod the agent does not know yet): 'drop' (default, docs/semantics.md#unknown-local-pods) or
   * 'allow' (forwarded unfiltered, for plugins whose IPAM does not follow the ranges).
   */
  readonly unknownPods?: UnknownPodsMode
  /**
   * `--revoke-established`: a forwarded TCP packet that conntrack sees as NEW must be a SYN (sets
   * NodeIR.tcpNewNeedsSyn). Without it, a packet of a revoked flow could be picked up mid-stream
   * (nf_conntrack_tcp_loose) in the direction the policies allow (docs/semantics.md#established-connections).
   */
  readonly revokeEstablished?: boolean
  /**
   * Log the first packet of every connection attempt a pod chain drops (`--log-drops`): through NFLOG
   * group `group`, rate-limited per node to `rate` packets per second (burst `burst`). Absent: no log
   * statement is rendered (the ruleset is byte for byte what it is without the option).
   */
  readonly logDrops?: IRLogDrops
}

/** What the dataplane does with addresses of the node's pod ranges that it has not programmed. */
export type UnknownPodsMode = 'drop' | 'allow'

/** One of the node's pod ranges. */
export interface IRPodRange {
  readonly family: Family
  /** Canonical CIDR (host bits cleared). */
  readonly cidr: string
}

/** Drop logging: NFLOG group and the node's rate limit (docs/dataplane.md#drop-counters-and-drop-logs). */
export interface IRLogDrops {
  /** NFLOG group (0-65535) the agent reads. */
  readonly group: number
  /** Logged packets per second, per node (and, for iptables, per address family). */
  readonly rate: number
  /** Packets the limit lets through at once after a quiet period. */
  readonly burst: number
}

/**
 * The NFLOG prefix of a pod chain's drop log: this + the backend's name of the chain. The agent maps
 * the chain back to the pod, its direction and the policies isolating it.
 */
export const DROP_LOG_PREFIX = 'pal-drop:'

/**
 * Bytes of each dropped packet the kernel copies to NFLOG: the IP header (IPv6: 40, with extension
 * headers more) and the ports. The reader's buffer then holds a whole batch of records (libpcap sizes
 * its receive buffer from its snapshot length: a short snapshot truncated the kernel's batches, and
 * lost 16 of every 20 records in our measurement).
 */
export const DROP_LOG_SNAPLEN = 128

/** Who a chain, set or rule traces back to in the YAML. */
export interface IRPolicyRef {
  readonly namespace: string
  readonly name: string
  /** True for the synthetic policy made from the legacy DefaultDeny namespace annotation. */
  readonly defaultDenyAnnotation: boolean
}

/** An inclusive port range; from === to for a single port. */
export interface IRPortRange {
  readonly from: number
  readonly to: number
}

/** Where an address set's content comes from. */
export type IRSetOrigin =
  /**
   * Pods matched by a peer. `namespace` set = podSelector only (pods of that namespace);
   * `namespaceSelector` set = pods of namespaces matching it; both selectors = AND.
   * Selectors are given rendered (kubectl style) for comments.
   */
  | {
      readonly kind: 'pods'
      readonly namespace?: string
      readonly namespaceSelector?: string
      readonly podSelector?: string
    }
  /** An ipBlock: the elements are cidr minus every except, as disjoint CIDRs. */
  | { readonly kind: 'ipBlock'; readonly cidr: string; readonly except: readonly string[] }
  /** A ClusterNetworkPolicy `nodes` peer: the addresses of the Node objects whose labels match (rendered). */
  | { readonly kind: 'nodes'; readonly nodeSelector: string }

/** A named set of addresses of one family. */
export interface IRAddressSet {
  readonly kind: 'addresses'
  readonly id: string
  readonly family: Family
  readonly origin: IRSetOrigin
  /**
   * Canonical addresses (pods) or canonical CIDRs (ipBlock), sorted, deduplicated, non-overlapping.
   * May be empty (the rules referring to it then match nothing, and stay for traceability).
   */
  readonly elements: readonly string[]
  /** True when elements are CIDRs (needs an interval set / ipset hash:net). */
  readonly interval: boolean
  /** Policies using the set, 'namespace/name', sorted. */
  readonly usedBy: readonly string[]
}

/** A named port resolved on destination pods: (pod address, port) for every pod declaring name/protocol. */
export interface IRNamedPortSet {
  readonly kind: 'named-port'
  readonly id: string
  readonly family: Family
  readonly protocol: Protocol
  /** The container port name (IANA_SVC_NAME). */
  readonly portName: string
  /**
   * 'local': only pods of this node (enough for Ingress rules, whose destination is a local pod);
   * 'cluster': every pod of the cluster (Egress rules). Added after the first IR draft (optional).
   */
  readonly scope?: 'local' | 'cluster'
  /** Sorted by address, then port. */
  readonly elements: readonly { readonly address: string; readonly port: number }[]
  readonly usedBy: readonly string[]
}

export type IRSet = IRAddressSet | IRNamedPortSet

/** The port part of a rule: absent = every port and protocol. */
export type IRPortMatch =
  /** A protocol with optional port ranges (absent or empty = every port of the protocol). Ranges merged, sorted. */
  | { readonly kind: 'ports'; readonly protocol: Protocol; readonly ranges: readonly IRPortRange[] }
  /** destination address . destination port must be in the named-port set (of the rule's family). */
  | { readonly kind: 'named'; readonly protocol: Protocol; readonly portName: string; readonly set: string }

/**
 * One match of a policy chain: "remote address in peerSet (if any) AND port matches (if any) -> allowed".
 * The remote side is the source for Ingress chains and the destination for Egress chains.
 */
export interface IRRule {
  /** Index in spec.ingress / spec.egress. */
  readonly rule: number
  /** Index in from/to; undefined when the rule has no peers (every peer). */
  readonly peer?: number
  /** Indices in ports that this match covers; undefined when the rule has no ports (every port). */
  readonly ports?: readonly number[]
  /** Address family the match is limited to; undefined = both families (no address check at all). */
  readonly family?: Family
  /** Id of an IRAddressSet (same family) the remote address must be in; undefined = any address of `family`. */
  readonly peerSet?: string
  /** undefined = every port and protocol. */
  readonly port?: IRPortMatch
}

/** One chain per (policy, direction) that selects at least one local pod. */
export interface IRChain {
  readonly id: string
  readonly policy: IRPolicyRef
  readonly direction: 'Ingress' | 'Egress'
  /** May be empty: the policy isolates and allows nothing (e.g. default deny). */
  readonly rules: readonly IRRule[]
}

/**
 * One rule of a ClusterNetworkPolicy (docs/semantics.md#cnp-tiers) as the node enforces it: when one of
 * `matches` matches (an OR; same reading as IRRule), `action` decides. A rule that fails closed
 * (docs/semantics.md#cnp-fail-closed) is a Deny with one match of everything; an Accept that fails
 * closed, or whose every peer matches nothing (domainNames), has no matches (kept for traceability).
 */
export interface IRClusterRule {
  /** Index in spec.ingress / spec.egress. */
  readonly rule: number
  /** spec.ingress[rule].name, when given. */
  readonly name?: string
  readonly action: ClusterPolicyAction
  /** True when the rule is read fail-closed (a peer of no known field): a Deny of everything. */
  readonly failClosed?: boolean
  /** IRRule.rule is `rule` in each. */
  readonly matches: readonly IRRule[]
}

/** One chain per (ClusterNetworkPolicy, direction) whose subject selects at least one local pod. */
export interface IRClusterChain {
  readonly id: string
  readonly tier: ClusterPolicyTier
  /** metadata.name (cluster-scoped). */
  readonly policy: string
  readonly priority: number
  readonly direction: 'Ingress' | 'Egress'
  /** In spec order: the first rule that matches decides (Pass hands over to the next stage). */
  readonly rules: readonly IRClusterRule[]
}

/**
 * The ClusterNetworkPolicy tiers of a local pod in one direction: ids of IRClusterChain, in evaluation
 * order (priority, then name: docs/semantics.md#cnp-same-priority). The first rule that matches across
 * the Admin chains decides (Accept/Deny final, Pass -> the NetworkPolicy stage); the Baseline chains are
 * only read when no NetworkPolicy isolates the pod in that direction (Pass -> allowed).
 */
export interface IRPodTiers {
  /** Id of the pod's tier chain (the dispatch target: Admin chains, then the next stage). */
  readonly chain: string
  /**
   * Id of the pod's Baseline stage chain (Baseline chains, then allowed), used when no NetworkPolicy
   * isolates the pod in this direction and `baseline` is not empty.
   */
  readonly baselineChain: string
  readonly admin: readonly string[]
  readonly baseline: readonly string[]
}

/** A local pod's isolation in one direction: try chains in order, drop when none accepts. */
export interface IRPodDirection {
  /** Id of the per-pod chain (jumps to `policies`, then counter + drop). */
  readonly chain: string
  /** Ids of IRChain of that direction, sorted by policy namespace/name. Never empty. */
  readonly policies: readonly string[]
}

export interface IRAddress {
  readonly family: Family
  readonly address: string
}

/** A pod on this node that the dataplane can program. */
export interface IRLocalPod {
  readonly namespace: string
  readonly name: string
  /** Canonical addresses, primary first, deduplicated. */
  readonly ips: readonly IRAddress[]
  /** Host-side interface name when CompileOptions.podInterfaces knows it (anti-spoofing). */
  readonly interface?: string
  /** undefined = not isolated for ingress (all ingress allowed). */
  readonly ingress?: IRPodDirection
  /** undefined = not isolated for egress (all egress allowed). */
  readonly egress?: IRPodDirection
  /** ClusterNetworkPolicy tiers for ingress; undefined when no ClusterNetworkPolicy selects the pod for it. */
  readonly ingressTiers?: IRPodTiers
  /** ClusterNetworkPolicy tiers for egress; undefined when no ClusterNetworkPolicy selects the pod for it. */
  readonly egressTiers?: IRPodTiers
}

/** All a node enforces. */
export interface NodeIR {
  readonly node: string
  /** Address families with at least one programmable pod in the cluster, sorted (4 before 6). */
  readonly families: readonly Family[]
  /** Sorted by id. Only sets referenced by some chain rule. */
  readonly sets: readonly IRSet[]
  /** Sorted by policy namespace, name, then Ingress before Egress. */
  readonly chains: readonly IRChain[]
  /**
   * ClusterNetworkPolicy chains (tier, priority, name, Ingress before Egress); absent when no
   * ClusterNetworkPolicy selects a local pod (the IR is then what it was before them).
   */
  readonly clusterChains?: readonly IRClusterChain[]
  /** Local pods sorted by namespace/name (isolated or not). */
  readonly pods: readonly IRLocalPod[]
  /** True when CompileOptions.podInterfaces was given (anti-spoofing rules rendered). */
  readonly antiSpoofing: boolean
  /**
   * The node's pod ranges (CompileOptions.podRanges, else the Node's spec.podCIDRs), IPv4 first; empty
   * when unknown (then nothing about unknown pods is rendered: the ruleset is what it was before).
   * Absent (hand-built IRs) = empty. buildNodeIR always sets it.
   */
  readonly podRanges?: readonly IRPodRange[]
  /**
   * 'drop': traffic from (egress) or to (ingress) an address in `podRanges` that is no address of `pods`
   * is dropped after the dispatch. 'allow': it is forwarded as before. Absent = 'drop'.
   */
  readonly unknownPods?: UnknownPodsMode
  /** True when CompileOptions.revokeEstablished was given: forwarded TCP in state NEW without SYN is dropped. */
  readonly tcpNewNeedsSyn?: boolean
  /** CompileOptions.logDrops, when given (log statements rendered before each pod chain's drop). */
  readonly logDrops?: IRLogDrops
  /** Notes about what could not be programmed (pods without IP on this node, unknown interfaces...). */
  readonly diagnostics: readonly Diagnostic[]
}
