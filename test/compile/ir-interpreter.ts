/**
 * A deliberately naive interpreter of the node IR, for property tests: decides one packet the way
 * the rendered ruleset is meant to (egress on the source's node, then ingress on the destination's).
 */
import type { IRRule, IRSet, NodeIR } from '../../src/compile/index.js'
import { type Family, type Protocol, parseCIDR, parseIP } from '../../src/model/index.js'

export interface Packet {
  readonly family: Family
  readonly src: string
  readonly dst: string
  readonly protocol: Protocol
  readonly port: number
}

function inAddressSet(set: IRSet, address: string): boolean {
  if (set.kind !== 'addresses') return false
  const ip = parseIP(address)
  if (!ip) return false
  return set.elements.some((e) => {
    if (!set.interval) return e === address
    const c = parseCIDR(e)
    if (!c || c.family !== ip.family) return false
    const last = c.base | ((1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix)) - 1n)
    return ip.value >= c.base && ip.value <= last
  })
}

function ruleMatches(ir: NodeIR, r: IRRule, remote: string, p: Packet): boolean {
  if (r.family !== undefined && r.family !== p.family) return false
  const sets = new Map(ir.sets.map((s) => [s.id, s]))
  if (r.peerSet !== undefined) {
    const s = sets.get(r.peerSet)
    if (!s || !inAddressSet(s, remote)) return false
  }
  if (!r.port) return true
  if (r.port.protocol !== p.protocol) return false
  if (r.port.kind === 'ports') {
    return r.port.ranges.length === 0 || r.port.ranges.some((x) => p.port >= x.from && p.port <= x.to)
  }
  const s = sets.get(r.port.set)
  return s?.kind === 'named-port' && s.elements.some((e) => e.address === p.dst && e.port === p.port)
}

/** Returns whether the node with this IR lets the packet through in the given direction. */
export function allowsDirection(ir: NodeIR, direction: 'Ingress' | 'Egress', p: Packet): boolean {
  const local = direction === 'Egress' ? p.src : p.dst
  const remote = direction === 'Egress' ? p.dst : p.src
  const pod = ir.pods.find((x) => x.ips.some((ip) => ip.address === local))
  const d = direction === 'Egress' ? pod?.egress : pod?.ingress
  if (!d) return true
  const chains = new Map(ir.chains.map((c) => [c.id, c]))
  return d.policies.some((id) => (chains.get(id)?.rules ?? []).some((r) => ruleMatches(ir, r, remote, p)))
}
