/**
 * What the ruleset interpreters decide on: one new connection's first packet, and the address matching
 * they share. Deliberately naive (a linear scan, no kernel code): a second reading to check the
 * compiler and the renderers against, not a fast path.
 */
import { type Family, type Protocol, parseCIDR, parseIP } from '../../../src/model/index.js'

export interface Packet {
  readonly family: Family
  readonly src: string
  readonly dst: string
  readonly protocol: Protocol
  readonly port: number
  /** Interface the packet entered the node from (anti-spoofing); absent = not from a known pod interface. */
  readonly iif?: string
}

/** True when `address` is the address or inside the CIDR `element` (same family). */
export function inAddress(element: string, address: string): boolean {
  const ip = parseIP(address)
  if (!ip) return false
  if (!element.includes('/')) {
    const e = parseIP(element)
    return e !== undefined && e.family === ip.family && e.value === ip.value
  }
  const c = parseCIDR(element)
  if (!c || c.family !== ip.family) return false
  const last = c.base | ((1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix)) - 1n)
  return ip.value >= c.base && ip.value <= last
}

/** True when `port` is `80` or inside `80-90` (nft) / `80:90` (iptables). */
export function inPortRange(element: string, port: number): boolean {
  const [from, to] = element.split(/[-:]/).map(Number) as [number, number | undefined]
  return port >= from && port <= (to ?? from)
}
