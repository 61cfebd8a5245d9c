/**
 * Peer matchers: what one element of `from`/`to` matches (or, for a rule without peers, `all`), as a
 * typed value with a canonical key. Two matchers with the same key match the same endpoints, so every
 * consumer may share work by key: the engine's class bitsets, the compiler's address sets.
 *
 * - `all`: a rule without from/to: every pod and every address.
 * - `ipBlock`: the address a connection uses, pod or not, inside `cidr` and no `except`
 *   (docs/semantics.md, "ipBlock matches pod addresses too").
 * - `pods`: policy endpoints of a namespace scope whose labels match podSelector; podSelector alone
 *   scopes to the policy's namespace, namespaceSelector to every namespace it matches, both mean AND.
 *
 * Extending it (ClusterNetworkPolicy, issue 13): a CNP `pods` peer is a `pods` matcher with a
 * namespaceSelector scope; a `namespaces` peer is the same with podSelector {}; `networks` is one
 * `ipBlock` matcher per CIDR (no except). Only `nodes` is new: add `{ kind: 'nodes'; nodeSelector; key }`
 * to PeerMatcher, its key in its constructor, and a case in matchPeer and matchPeerPod (switches the
 * type checker holds exhaustive); the compiler then fails to build until its own switch on `kind`
 * handles it too. A CNP subject (namespaces, or pods of namespaces) reads like a `pods` matcher, as
 * policySelectsPod reads a NetworkPolicy's podSelector in its namespace. Actions (Accept, Deny, Pass)
 * and priorities belong to rules, not peers: every NetworkPolicy rule is an Accept.
 */
import {
  canonicalCIDR,
  cidrContainsIP,
  type IPBlock,
  type LabelSelector,
  type ParsedCIDR,
  type ParsedIP,
  type Pod,
  type PolicyPeer,
  parseCIDR,
  parseIP,
} from '../model/index.js'
import { isPolicyEndpoint } from './endpoints.js'
import { canonicalSelector, EVERYTHING, matchSelector } from './label-selector.js'
import { matchNamespaceScope, type NamespaceIndex, type NamespaceScope } from './namespaces.js'

/** Every peer: a rule whose from/to is absent or empty. */
export interface AllPeers {
  readonly kind: 'all'
  readonly key: 'all'
}

/** An ipBlock peer, parsed once. */
export interface IPBlockPeer {
  readonly kind: 'ipBlock'
  /** 'ipBlock|<canonical cidr>|<canonical excepts of its family, sorted, comma-separated>'. */
  readonly key: string
  readonly block: IPBlock
  /** undefined when spec.cidr is not a CIDR: the peer matches nothing. */
  readonly cidr: ParsedCIDR | undefined
  /** The valid except ranges of the cidr's family (the others can never hold a matching address). */
  readonly except: readonly ParsedCIDR[]
  /** canonicalCIDR of each of `except`, deduplicated and sorted. */
  readonly exceptKeys: readonly string[]
}

/** A podSelector and/or namespaceSelector peer. */
export interface PodsPeer {
  readonly kind: 'pods'
  /** 'pods|<scope key>|pod=<canonical podSelector>'. */
  readonly key: string
  readonly namespaces: NamespaceScope
  /** spec podSelector; {} when the peer has only a namespaceSelector. */
  readonly podSelector: LabelSelector
  /** canonicalSelector(podSelector). */
  readonly podSelectorKey: string
}

export type PeerMatcher = AllPeers | IPBlockPeer | PodsPeer

/** The matcher of a rule without peers. */
export const ALL_PEERS: AllPeers = Object.freeze({ kind: 'all', key: 'all' })

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

// Memos keyed by the (immutable) model objects: referentially transparent, collected with them.
const blockMatchers = new WeakMap<IPBlock, IPBlockPeer>()
const peerMatchers = new WeakMap<PolicyPeer, PeerMatcher>()

/** Returns the matcher of an ipBlock. */
export function ipBlockMatcher(block: IPBlock): IPBlockPeer {
  let m = blockMatchers.get(block)
  if (m) return m
  const cidr = parseCIDR(block.cidr)
  const except = cidr
    ? block.except.map(parseCIDR).filter((e): e is ParsedCIDR => e !== undefined && e.family === cidr.family)
    : []
  const exceptKeys = [...new Set(except.map(canonicalCIDR))].sort(byString)
  const key = cidr ? `ipBlock|${canonicalCIDR(cidr)}|${exceptKeys.join(',')}` : `ipBlock!${block.cidr}`
  m = { kind: 'ipBlock', key, block, cidr, except, exceptKeys }
  blockMatchers.set(block, m)
  return m
}

/** Returns the matcher of one peer of a policy of `policyNamespace`. */
export function peerMatcher(peer: PolicyPeer, policyNamespace: string): PeerMatcher {
  const known = peerMatchers.get(peer)
  // A podSelector-only peer depends on the policy's namespace: one peer object shared by policies of
  // two namespaces (possible in hand-built clusters) gets a fresh matcher for the other namespace.
  const stale =
    known?.kind === 'pods' &&
    known.namespaces.kind === 'namespace' &&
    known.namespaces.namespace !== policyNamespace
  if (known && !stale) return known
  const m = peer.ipBlock ? ipBlockMatcher(peer.ipBlock) : podsMatcher(peer, policyNamespace)
  if (!known) peerMatchers.set(peer, m)
  return m
}

/** Builds the matcher of a selector peer. */
function podsMatcher(peer: PolicyPeer, policyNamespace: string): PodsPeer {
  const namespaces: NamespaceScope = peer.namespaceSelector
    ? {
        kind: 'namespaceSelector',
        selector: peer.namespaceSelector,
        key: `nss=${canonicalSelector(peer.namespaceSelector)}`,
      }
    : { kind: 'namespace', namespace: policyNamespace, key: `ns=${policyNamespace}` }
  const podSelector = peer.podSelector ?? EVERYTHING
  const podSelectorKey = canonicalSelector(podSelector)
  return {
    kind: 'pods',
    key: `pods|${namespaces.key}|pod=${podSelectorKey}`,
    namespaces,
    podSelector,
    podSelectorKey,
  }
}

/** Returns true when a parsed address lies in the block's cidr and in none of its except ranges. */
export function matchIPBlockAddress(m: IPBlockPeer, addr: ParsedIP): boolean {
  if (!m.cidr || !cidrContainsIP(m.cidr, addr)) return false
  return !m.except.some((e) => cidrContainsIP(e, addr))
}

/** Returns true when the address lies in the block's cidr and in none of its except ranges. */
export function matchIPBlock(block: IPBlock, ip: string | undefined): boolean {
  if (ip === undefined) return false
  const addr = parseIP(ip)
  return addr !== undefined && matchIPBlockAddress(ipBlockMatcher(block), addr)
}

/** Returns true when a selector peer matches the pod: an endpoint in scope whose labels match. */
export function matchPodsPeer(namespaces: NamespaceIndex, m: PodsPeer, pod: Pod): boolean {
  return (
    isPolicyEndpoint(pod) &&
    matchNamespaceScope(namespaces, m.namespaces, pod.namespace) &&
    matchSelector(m.podSelector, pod.labels)
  )
}

/**
 * Returns true when the peer matches the remote side of a connection: `pod` when the remote side is a
 * pod of the cluster, `address` the address the connection uses there (docs/semantics.md, "Addresses").
 */
export function matchPeer(
  namespaces: NamespaceIndex,
  m: PeerMatcher,
  pod: Pod | undefined,
  address: string | undefined,
): boolean {
  switch (m.kind) {
    case 'all':
      return true
    case 'ipBlock': {
      if (address === undefined) return false
      const addr = parseIP(address)
      return addr !== undefined && matchIPBlockAddress(m, addr)
    }
    case 'pods':
      return pod !== undefined && matchPodsPeer(namespaces, m, pod)
  }
}

/**
 * Returns true when the peer matches a pod by what the pod is, whatever connection it makes: a selector
 * peer by its labels, an ipBlock by any of its addresses (lint and explain list "pods a peer matches").
 */
export function matchPeerPod(namespaces: NamespaceIndex, m: PeerMatcher, pod: Pod): boolean {
  switch (m.kind) {
    case 'all':
      return true
    case 'ipBlock':
      return pod.ips.some((ip) => {
        const addr = parseIP(ip)
        return addr !== undefined && matchIPBlockAddress(m, addr)
      })
    case 'pods':
      return matchPodsPeer(namespaces, m, pod)
  }
}
