/**
 * Addresses: which addresses a pod has, and which one a connection uses (docs/semantics.md#connection-addresses). ipBlock membership is a peer matcher (peers.ts).
 */
import { canonicalIP, type Family, parseIP } from '../model/index.js'

/** Returns the families of a list of addresses, primary first (e.g. [4, 6]); unparsable ones are ignored. */
export function familiesOf(ips: readonly string[]): Family[] {
  const out: Family[] = []
  for (const ip of ips) {
    const p = parseIP(ip)
    if (p && !out.includes(p.family)) out.push(p.family)
  }
  return out
}

/**
 * Returns the address family a connection from src to dst uses: the destination's primary family when the
 * source has it, else the destination's other family when the source has that; undefined when they share
 * none. A side with no known address (a pending pod, a workload template) takes the other side's primary
 * family: the connection to an outside address still has that address, while no ipBlock can match the
 * side that has none.
 */
export function pairFamily(src: readonly Family[], dst: readonly Family[]): Family | undefined {
  if (src.length === 0) return dst[0]
  if (dst.length === 0) return src[0]
  for (const f of dst) if (src.includes(f)) return f
  return undefined
}

/** Returns the first address of the given family. */
export function addressOfFamily(ips: readonly string[], family: Family | undefined): string | undefined {
  if (family === undefined) return undefined
  for (const ip of ips) if (parseIP(ip)?.family === family) return ip
  return undefined
}

/** A pod address in canonical form, with its value for sorting (IPv4 in `num`, IPv6 in `big`). */
export interface PodAddress {
  readonly family: Family
  readonly address: string
  readonly num: number
  readonly big: bigint
}

/** Returns a pod's valid addresses, canonical, deduplicated, primary first (unparsable ones are ignored). */
export function podAddresses(ips: readonly string[]): PodAddress[] {
  const out: PodAddress[] = []
  for (const text of ips) {
    let a: PodAddress
    const v4 = parseIPv4Number(text)
    if (v4 !== undefined) a = { family: 4, address: text, num: v4, big: 0n }
    else {
      const ip = parseIP(text)
      if (!ip) continue
      a =
        ip.family === 4
          ? { family: 4, address: canonicalIP(ip), num: Number(ip.value), big: 0n }
          : { family: 6, address: canonicalIP(ip), num: 0, big: ip.value }
    }
    if (out.some((o) => o.address === a.address)) continue
    out.push(a)
  }
  // a list built by push holds room for 17 items; the compiler keeps one list per pod of the cluster
  return out.slice()
}

/**
 * Parses a dotted-quad IPv4 address into a number, exactly as model parseIP does (decimal octets,
 * leading zeros rejected, as Go's netip does) but without regex or BigInt: the compiler parses every
 * pod address of the cluster on each build. A text it accepts is already canonical.
 */
export function parseIPv4Number(text: string): number | undefined {
  const n = text.length
  if (n < 7 || n > 15) return undefined
  let value = 0
  let part = 0
  let digits = 0
  let dots = 0
  let leadingZero = false
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined
      value = value * 256 + part
      dots++
      part = 0
      digits = 0
      leadingZero = false
      continue
    }
    if (c < 48 || c > 57 || leadingZero) return undefined
    if (digits === 0) leadingZero = c === 48
    part = part * 10 + (c - 48)
    digits++
    if (part > 255) return undefined
  }
  if (dots !== 3 || digits === 0) return undefined
  return value * 256 + part
}
