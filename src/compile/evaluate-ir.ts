/**
 * The node IR as a decision: does this node's ruleset let a new connection's first packet through?
 * One reading of the IR, used by the conformance suite (against the engine and the nftables and iptables
 * interpreters) and by the agent's `--revoke-established` (which established flows the rules just
 * committed would refuse). Pure: the IR and a packet in, a boolean out.
 *
 * It decides as the rendered ruleset does on the FORWARD hook: the source's egress when the source is a
 * local pod, then the destination's ingress when the destination is a local pod; each direction tier by
 * tier (docs/semantics.md#cnp-tiers): the Admin ClusterNetworkPolicy chains (Accept/Deny final, Pass
 * goes on), the NetworkPolicy chains when some isolate the pod (final), else the Baseline chains (Deny
 * drops; Accept, Pass and no match allow). A remote side is the other node's business. Anti-spoofing (the interface a packet
 * came from) is not part of the decision: conntrack does not record it.
 */
import { canonicalIP, type Family, type Protocol, parseCIDR, parseIP } from '../model/index.js'
import type { IRChain, IRClusterChain, IRLocalPod, IRRule, IRSet, NodeIR } from './ir.js'

/** The first packet of a connection as the IR sees it. */
export interface IRPacket {
  readonly family: Family
  readonly src: string
  readonly dst: string
  readonly protocol: Protocol
  /** Destination port. */
  readonly port: number
}

/** A connection conntrack holds, as the FORWARD hook saw its first packet (after DNAT, before SNAT). */
export interface IRFlow {
  readonly family: Family
  readonly protocol: Protocol
  readonly src: string
  readonly sport: number
  readonly dst: string
  readonly dport: number
}

/**
 * What the rules in force say of an established flow:
 * - `allowed`: a new connection with this tuple would pass this node's chains;
 * - `denied`: it would be dropped here;
 * - `not-ours`: no endpoint is a local pod, or one is the node itself (INPUT/OUTPUT, hostNetwork): the
 *   node's policy chains never see it, whatever the policies say.
 */
export type FlowVerdict = 'allowed' | 'denied' | 'not-ours'

export interface IREvaluator {
  /** The local pod with this address (any textual form of it), if any. */
  localPod(address: string): IRLocalPod | undefined
  /** Whether the node lets the packet through in one direction (true when the local side is not isolated). */
  allowsDirection(direction: 'Ingress' | 'Egress', p: IRPacket): boolean
  /** Whether the node lets the packet through: the source's egress, then the destination's ingress. */
  allows(p: IRPacket): boolean
}

/** A set as lookups: exact addresses, sorted disjoint intervals, or `address|port` pairs. */
type PreparedSet =
  | { readonly kind: 'exact'; readonly family: Family; readonly members: ReadonlySet<string> }
  | {
      readonly kind: 'interval'
      readonly family: Family
      readonly from: readonly bigint[]
      readonly to: readonly bigint[]
    }
  | { readonly kind: 'named-port'; readonly members: ReadonlySet<string> }

/** The canonical text of an address; undefined when it is not one. */
function canonical(address: string): string | undefined {
  const ip = parseIP(address)
  return ip ? canonicalIP(ip) : undefined
}

function prepareSet(s: IRSet): PreparedSet {
  if (s.kind === 'named-port') {
    return {
      kind: 'named-port',
      members: new Set(s.elements.map((e) => `${canonical(e.address) ?? e.address}|${e.port}`)),
    }
  }
  if (!s.interval) {
    return {
      kind: 'exact',
      family: s.family,
      members: new Set(s.elements.map((e) => canonical(e) ?? e)),
    }
  }
  const ranges: [bigint, bigint][] = []
  for (const e of s.elements) {
    const c = e.includes('/') ? parseCIDR(e) : undefined
    if (c) {
      const bits = c.family === 4 ? 32 : 128
      ranges.push([c.base, c.base | ((1n << BigInt(bits - c.prefix)) - 1n)])
    } else {
      const ip = parseIP(e)
      if (ip) ranges.push([ip.value, ip.value])
    }
  }
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  return { kind: 'interval', family: s.family, from: ranges.map((r) => r[0]), to: ranges.map((r) => r[1]) }
}

/** True when the (canonical) address is in the set. */
function inSet(set: PreparedSet, family: Family, address: string, value: bigint): boolean {
  if (set.kind === 'named-port' || set.family !== family) return false
  if (set.kind === 'exact') return set.members.has(address)
  // last interval starting at or below value
  let lo = 0
  let hi = set.from.length - 1
  let at = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if ((set.from[mid] as bigint) <= value) {
      at = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return at >= 0 && value <= (set.to[at] as bigint)
}

/** Prepares the IR once for many decisions (sets as lookups, pods by address). */
export function createIREvaluator(ir: NodeIR): IREvaluator {
  const sets = new Map(ir.sets.map((s) => [s.id, prepareSet(s)]))
  const chains = new Map<string, IRChain>(ir.chains.map((c) => [c.id, c]))
  const clusterChains = new Map<string, IRClusterChain>((ir.clusterChains ?? []).map((c) => [c.id, c]))
  const pods = new Map<string, IRLocalPod>()
  for (const p of ir.pods) for (const a of p.ips) pods.set(canonical(a.address) ?? a.address, p)

  const ruleMatches = (r: IRRule, remote: string, remoteValue: bigint, dst: string, p: IRPacket): boolean => {
    if (r.family !== undefined && r.family !== p.family) return false
    if (r.peerSet !== undefined) {
      const s = sets.get(r.peerSet)
      if (!s || !inSet(s, p.family, remote, remoteValue)) return false
    }
    if (!r.port) return true
    if (r.port.protocol !== p.protocol) return false
    if (r.port.kind === 'ports') {
      return r.port.ranges.length === 0 || r.port.ranges.some((x) => p.port >= x.from && p.port <= x.to)
    }
    const s = sets.get(r.port.set)
    return s?.kind === 'named-port' && s.members.has(`${dst}|${p.port}`)
  }

  const allowsDirection = (direction: 'Ingress' | 'Egress', p: IRPacket): boolean => {
    const src = parseIP(p.src)
    const dst = parseIP(p.dst)
    // Not an address of the packet's family: no rule can match it (the kernel never sees such a packet).
    if (!src || !dst || src.family !== p.family || dst.family !== p.family) return false
    const srcText = canonicalIP(src)
    const dstText = canonicalIP(dst)
    const local = direction === 'Egress' ? srcText : dstText
    const pod = pods.get(local)
    const d = direction === 'Egress' ? pod?.egress : pod?.ingress
    const tiers = direction === 'Egress' ? pod?.egressTiers : pod?.ingressTiers
    if (!d && !tiers) return true
    const remote = direction === 'Egress' ? dstText : srcText
    const remoteValue = direction === 'Egress' ? dst.value : src.value
    // The first rule of a tier's chains (in order) with a matching match decides (docs/semantics.md#cnp-tiers).
    const tierAction = (ids: readonly string[]) => {
      for (const id of ids)
        for (const r of clusterChains.get(id)?.rules ?? [])
          if (r.matches.some((m) => ruleMatches(m, remote, remoteValue, dstText, p))) return r.action
      return undefined
    }
    const admin = tiers ? tierAction(tiers.admin) : undefined
    if (admin === 'Accept') return true
    if (admin === 'Deny') return false
    if (d)
      return d.policies.some((id) =>
        (chains.get(id)?.rules ?? []).some((r) => ruleMatches(r, remote, remoteValue, dstText, p)),
      )
    return (tiers ? tierAction(tiers.baseline) : undefined) !== 'Deny'
  }

  return {
    localPod: (address) => {
      const c = canonical(address)
      return c === undefined ? undefined : pods.get(c)
    },
    allowsDirection,
    allows: (p) => allowsDirection('Egress', p) && allowsDirection('Ingress', p),
  }
}

/** Whether the node with this IR lets the packet through in the given direction (one-off; prepare for many). */
export function allowsDirection(ir: NodeIR, direction: 'Ingress' | 'Egress', p: IRPacket): boolean {
  return createIREvaluator(ir).allowsDirection(direction, p)
}

/**
 * What the rules in force say of an established flow (docs/semantics.md#established-connections).
 * `nodeAddresses`: the node's own addresses (any textual form); a flow from or to one of them is the
 * node's (INPUT/OUTPUT: kubelet probes, hostNetwork pods) and never ours to judge.
 */
export function judgeFlow(ev: IREvaluator, nodeAddresses: ReadonlySet<string>, f: IRFlow): FlowVerdict {
  const src = canonical(f.src)
  const dst = canonical(f.dst)
  if (src === undefined || dst === undefined) return 'not-ours'
  if (nodeAddresses.has(src) || nodeAddresses.has(dst)) return 'not-ours'
  if (!ev.localPod(src) && !ev.localPod(dst)) return 'not-ours'
  return ev.allows({ family: f.family, src, dst, protocol: f.protocol, port: f.dport }) ? 'allowed' : 'denied'
}

/** The node's addresses in canonical form (for judgeFlow). */
export function canonicalAddressSet(addresses: Iterable<string>): ReadonlySet<string> {
  const out = new Set<string>()
  for (const a of addresses) {
    const c = canonical(a)
    if (c !== undefined) out.add(c)
  }
  return out
}
