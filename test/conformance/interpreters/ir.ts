/**
 * A deliberately naive interpreter of the node IR: decides one packet the way the rendered ruleset is
 * meant to (egress on the source's node, then ingress on the destination's).
 */
import type { IRRule, IRSet, NodeIR } from '../../../src/compile/index.js'
import { inAddress, type Packet } from './packet.js'

export type { Packet } from './packet.js'

function inAddressSet(set: IRSet, address: string): boolean {
  if (set.kind !== 'addresses') return false
  return set.elements.some((e) => (set.interval ? inAddress(e, address) : e === address))
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
