/**
 * The reading of ClusterNetworkPolicy (policy.networking.k8s.io; docs/semantics.md#cnp-tiers): which pods
 * a subject selects, what a peer matches, which ports a rule's protocols admit, and what a rule does
 * once fail-closed is applied. Pods and namespaces peers ARE NetworkPolicy selector peers (a `pods`
 * matcher with a namespaceSelector scope); a networks entry IS an ipBlock without except; only `nodes`
 * (a node label selector, matched on the connection's address) and the peers we cannot analyse are new.
 * The engine, lint and explain ask here; the compiler will too.
 */
import type {
  ClusterNetworkPolicy,
  ClusterPolicyAction,
  ClusterPolicyPeer,
  ClusterPolicyPort,
  ClusterPolicyRule,
  ClusterPolicyTier,
  IPBlock,
  LabelSelector,
  Node,
  Pod,
  PolicyType,
} from '../model/index.js'
import { canonicalIP, parseIP } from '../model/index.js'
import { isPolicyEndpoint } from './endpoints.js'
import { canonicalSelector, EVERYTHING, matchSelector } from './label-selector.js'
import { matchNamespaceScope, type NamespaceIndex, type NamespaceScope } from './namespaces.js'
import {
  type IPBlockPeer,
  ipBlockMatcher,
  matchPeer,
  matchPeerPod,
  type PodsPeer,
  peerMatcher,
} from './peers.js'
import { declaresNamedPort, type PortQuery } from './ports.js'

/** Node labels by address, to match `nodes` peers (one per analysis or build). */
export interface NodeIndex {
  /** Canonical address -> the nodes that own it (normally one). */
  readonly byAddress: ReadonlyMap<string, readonly Node[]>
}

/** Builds the node index of a cluster's nodes. */
export function buildNodeIndex(nodes: readonly Node[] | undefined): NodeIndex {
  const byAddress = new Map<string, Node[]>()
  for (const n of nodes ?? [])
    for (const a of n.addresses) {
      const list = byAddress.get(a) ?? []
      list.push(n)
      byAddress.set(a, list)
    }
  return { byAddress }
}

/** What ClusterNetworkPolicy matching needs of the cluster. */
export interface ClusterPolicyContext {
  readonly namespaces: NamespaceIndex
  readonly nodes: NodeIndex
}

/** A `nodes` peer: the connection's address is an address of a Node whose labels match. */
export interface NodesPeer {
  readonly kind: 'nodes'
  /** 'nodes|<canonical selector>'. */
  readonly key: string
  readonly selector: LabelSelector
}

/** A peer that matches nothing (domainNames: not analysed, docs/semantics.md#cnp-domain-names). */
export interface NoPeer {
  readonly kind: 'none'
  readonly key: 'none'
}

/** What one element of a ClusterNetworkPolicy rule's from/to matches: one or more matchers (any of them). */
export type ClusterPeerMatcher = PodsPeer | IPBlockPeer | NodesPeer | NoPeer

const NO_PEER: NoPeer = Object.freeze({ kind: 'none', key: 'none' })
const peerMemo = new WeakMap<ClusterPolicyPeer, readonly ClusterPeerMatcher[]>()

/** Returns the matchers of a peer (a networks peer has one per CIDR; an unknown peer none). */
export function clusterPeerMatchers(peer: ClusterPolicyPeer): readonly ClusterPeerMatcher[] {
  let m = peerMemo.get(peer)
  if (m) return m
  switch (peer.kind) {
    case 'namespaces':
      // A namespaceSelector peer of NetworkPolicy: every endpoint of the matching namespaces.
      m = [peerMatcher({ namespaceSelector: peer.namespaceSelector }, '') as PodsPeer]
      break
    case 'pods':
      m = [
        peerMatcher(
          { namespaceSelector: peer.namespaceSelector, podSelector: peer.podSelector },
          '',
        ) as PodsPeer,
      ]
      break
    case 'networks':
      m = peer.networks.map((cidr) => ipBlockMatcher({ cidr, except: [] } satisfies IPBlock))
      break
    case 'nodes':
      m = [
        { kind: 'nodes', key: `nodes|${canonicalSelector(peer.nodeSelector)}`, selector: peer.nodeSelector },
      ]
      break
    case 'domainNames':
    case 'unknown':
      m = [NO_PEER]
      break
  }
  peerMemo.set(peer, m)
  return m
}

/** Returns true when a Node's labels match a `nodes` peer (its addresses are then the peer's). */
export function matchNodeLabels(m: NodesPeer, node: Node): boolean {
  return matchSelector(m.selector, node.labels ?? {})
}

/** Returns true when the address belongs to a node whose labels match the selector. */
export function matchNodesAddress(nodes: NodeIndex, m: NodesPeer, address: string | undefined): boolean {
  if (address === undefined) return false
  const ip = parseIP(address)
  if (!ip) return false
  const owners = nodes.byAddress.get(canonicalIP(ip))
  return owners?.some((n) => matchNodeLabels(m, n)) === true
}

/**
 * Returns true when a matcher matches the remote side of a connection: `pod` when it is a pod of the
 * cluster, `address` the address the connection uses there (docs/semantics.md#connection-addresses).
 */
export function matchClusterPeer(
  ctx: ClusterPolicyContext,
  m: ClusterPeerMatcher,
  pod: Pod | undefined,
  address: string | undefined,
): boolean {
  switch (m.kind) {
    case 'pods':
    case 'ipBlock':
      return matchPeer(ctx.namespaces, m, pod, address)
    case 'nodes':
      return matchNodesAddress(ctx.nodes, m, address)
    case 'none':
      return false
  }
}

/** Returns true when a matcher matches a pod by what it is, whatever connection it makes (lint, explain). */
export function matchClusterPeerPod(ctx: ClusterPolicyContext, m: ClusterPeerMatcher, pod: Pod): boolean {
  switch (m.kind) {
    case 'pods':
    case 'ipBlock':
      return matchPeerPod(ctx.namespaces, m, pod)
    case 'nodes':
      return pod.ips.some((ip) => matchNodesAddress(ctx.nodes, m, ip))
    case 'none':
      return false
  }
}

/**
 * Returns true when the subject selects the pod: a policy endpoint (never hostNetwork: the API says so)
 * of a matching namespace whose labels match the pod selector.
 */
export function clusterPolicySelectsPod(
  namespaces: NamespaceIndex,
  policy: ClusterNetworkPolicy,
  pod: Pod,
): boolean {
  if (!isPolicyEndpoint(pod)) return false
  const s = policy.subject
  if (!matchNamespaceScope(namespaces, subjectScope(policy), pod.namespace)) return false
  return matchSelector(s.kind === 'pods' ? s.podSelector : EVERYTHING, pod.labels)
}

const scopeMemo = new WeakMap<ClusterNetworkPolicy, NamespaceScope>()

/** The namespace scope of a policy's subject, built once per policy (its key is a canonical selector). */
function subjectScope(policy: ClusterNetworkPolicy): NamespaceScope {
  let scope = scopeMemo.get(policy)
  if (!scope) {
    const sel = policy.subject.namespaceSelector
    scope = { kind: 'namespaceSelector', selector: sel, key: `nss=${canonicalSelector(sel)}` }
    scopeMemo.set(policy, scope)
  }
  return scope
}

/** Returns spec.ingress or spec.egress of a ClusterNetworkPolicy. */
export function clusterRulesOf(
  policy: ClusterNetworkPolicy,
  direction: PolicyType,
): readonly ClusterPolicyRule[] {
  return direction === 'Ingress' ? policy.ingress : policy.egress
}

/**
 * Returns true when one protocols entry admits the query: a port or range of its protocol, or a named
 * port the destination pod declares (with any protocol) for that number (docs/semantics.md#cnp-named-ports).
 */
export function matchClusterPort(p: ClusterPolicyPort, q: PortQuery, destination: Pod | undefined): boolean {
  if (p.kind === 'port') {
    if (p.protocol !== q.protocol) return false
    return p.endPort === undefined ? q.port === p.port : q.port >= p.port && q.port <= p.endPort
  }
  return (
    destination !== undefined &&
    isPolicyEndpoint(destination) &&
    declaresNamedPort(destination, p.name, q.protocol, q.port)
  )
}

/** Returns true when a rule's protocols admit the query (absent = every port of every protocol). */
export function matchClusterPorts(
  ports: readonly ClusterPolicyPort[] | undefined,
  q: PortQuery,
  destination: Pod | undefined,
): boolean {
  return ports === undefined || ports.some((p) => matchClusterPort(p, q, destination))
}

/**
 * What a rule does once fail-closed is applied (docs/semantics.md#cnp-fail-closed): a rule with a peer of
 * no known field matches nothing when it is an Accept, and denies everything (any peer, any port) when
 * it is a Deny or a Pass. Every other rule is as written.
 */
export type EffectiveRule =
  | { readonly kind: 'as-written'; readonly action: ClusterPolicyAction }
  | { readonly kind: 'matches-nothing' }
  | { readonly kind: 'deny-all' }

/** Returns the effective reading of a rule. */
export function effectiveRule(rule: ClusterPolicyRule): EffectiveRule {
  if (!rule.peers.some((p) => p.kind === 'unknown')) return { kind: 'as-written', action: rule.action }
  return rule.action === 'Accept' ? { kind: 'matches-nothing' } : { kind: 'deny-all' }
}

/**
 * Returns the action of a rule on a connection, or undefined when the rule does not match it: the remote
 * side (pod and address) matches one of its peers, and its protocols admit the port.
 */
export function matchClusterRule(
  ctx: ClusterPolicyContext,
  rule: ClusterPolicyRule,
  remotePod: Pod | undefined,
  remoteAddress: string | undefined,
  port: PortQuery,
  destination: Pod | undefined,
): ClusterPolicyAction | undefined {
  const eff = effectiveRule(rule)
  if (eff.kind === 'matches-nothing') return undefined
  if (eff.kind === 'deny-all') return 'Deny'
  if (!matchClusterPorts(rule.ports, port, destination)) return undefined
  for (const peer of rule.peers)
    for (const m of clusterPeerMatchers(peer))
      if (matchClusterPeer(ctx, m, remotePod, remoteAddress)) return rule.action
  return undefined
}

/** Returns the ClusterNetworkPolicies of a tier, in evaluation order (the cluster keeps them sorted). */
export function clusterPoliciesOfTier(
  policies: readonly ClusterNetworkPolicy[] | undefined,
  tier: ClusterPolicyTier,
): readonly ClusterNetworkPolicy[] {
  return (policies ?? []).filter((p) => p.tier === tier)
}
