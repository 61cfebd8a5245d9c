/**
 * Outside addresses, exactly: the address space split into ranges on which no ipBlock of either cluster
 * can tell two addresses apart, each evaluated once through its first address; and ranges back to CIDRs.
 */
import type { ClusterState, Family } from '../model/index.js'
import { cidrLast, formatIP, parseCIDR, parseIP } from '../model/index.js'

export interface AddressRange {
  readonly family: Family
  readonly first: bigint
  readonly last: bigint
}

const bitsOf = (f: Family): number => (f === 4 ? 32 : 128)

/**
 * Returns the elementary address ranges of the families in use: IPv4 always, IPv6 when a pod address or an
 * ipBlock of either cluster is IPv6. Bounds are every ipBlock cidr and except, every ClusterNetworkPolicy
 * networks entry and, when a `nodes` peer exists, every node address.
 */
export function addressRanges(clusters: readonly ClusterState[]): AddressRange[] {
  const cuts: Record<Family, Set<bigint>> = { 4: new Set([0n, 1n << 32n]), 6: new Set([0n, 1n << 128n]) }
  let v6 = false
  const cut = (text: string) => {
    const cidr = parseCIDR(text) ?? parseCIDR(`${text}/${text.includes(':') ? 128 : 32}`)
    if (!cidr) return
    if (cidr.family === 6) v6 = true
    cuts[cidr.family].add(cidr.base)
    cuts[cidr.family].add(cidrLast(cidr) + 1n)
  }
  for (const c of clusters) {
    // ClusterNetworkPolicy networks are ipBlocks; a nodes peer tells node addresses apart.
    let nodesPeer = false
    for (const pol of c.clusterPolicies ?? [])
      for (const rule of [...pol.ingress, ...pol.egress])
        for (const peer of rule.peers) {
          if (peer.kind === 'networks') for (const n of peer.networks) cut(n)
          if (peer.kind === 'nodes') nodesPeer = true
        }
    if (nodesPeer) for (const n of c.nodes ?? []) for (const a of n.addresses) cut(a)
    for (const pod of c.pods) if (pod.ips.some((ip) => parseIP(ip)?.family === 6)) v6 = true
    for (const pol of c.policies) {
      for (const rule of [...pol.ingress, ...pol.egress]) {
        for (const peer of rule.peers ?? []) {
          if (!peer.ipBlock) continue
          for (const text of [peer.ipBlock.cidr, ...peer.ipBlock.except]) {
            const cidr = parseCIDR(text)
            if (!cidr) continue
            if (cidr.family === 6) v6 = true
            cuts[cidr.family].add(cidr.base)
            cuts[cidr.family].add(cidrLast(cidr) + 1n)
          }
        }
      }
    }
  }
  const out: AddressRange[] = []
  for (const family of v6 ? ([4, 6] as const) : ([4] as const)) {
    const sorted = [...cuts[family]].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    for (let i = 0; i + 1 < sorted.length; i++)
      out.push({ family, first: sorted[i] as bigint, last: (sorted[i + 1] as bigint) - 1n })
  }
  return out
}

/** Returns the first address of a range as text (the address evaluated for the whole range). */
export function rangeAddress(r: AddressRange): string {
  return formatIP(r.family, r.first)
}

/** Joins adjacent ranges of one family (input in any order). */
export function mergeAddressRanges(ranges: readonly AddressRange[]): AddressRange[] {
  const sorted = [...ranges].sort(
    (a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0),
  )
  const out: AddressRange[] = []
  for (const r of sorted) {
    const last = out[out.length - 1]
    if (last && last.family === r.family && r.first <= last.last + 1n) {
      // biome-ignore lint/complexity/useMathMinMax: bigints (Math.max takes numbers)
      out[out.length - 1] = { ...last, last: r.last > last.last ? r.last : last.last }
    } else out.push(r)
  }
  return out
}

/** Returns the fewest CIDRs that cover exactly the given ranges, sorted (IPv4 first). */
export function rangesToCIDRs(ranges: readonly AddressRange[]): string[] {
  const out: string[] = []
  for (const r of mergeAddressRanges(ranges)) {
    const bits = bitsOf(r.family)
    let start = r.first
    while (start <= r.last) {
      // the largest block aligned at start that stays inside the range
      let size = bits
      while (size > 0) {
        const block = 1n << BigInt(bits - size + 1)
        if (start % block !== 0n || start + block - 1n > r.last) break
        size--
      }
      out.push(`${formatIP(r.family, start)}/${size}`)
      start += 1n << BigInt(bits - size)
    }
  }
  return out
}

/**
 * Formats a set of CIDRs for people: the list itself, or 'every IPv4 address except ...' when the set
 * covers more than half of a family's space (an allow-list with holes reads better as its holes).
 */
export function formatAddresses(cidrs: readonly string[]): string {
  const parts: string[] = []
  for (const family of [4, 6] as const) {
    const ranges: AddressRange[] = []
    for (const text of cidrs) {
      const c = parseCIDR(text)
      if (c && c.family === family) ranges.push({ family, first: c.base, last: cidrLast(c) })
    }
    if (ranges.length === 0) continue
    const merged = mergeAddressRanges(ranges)
    const size = merged.reduce((n, r) => n + r.last - r.first + 1n, 0n)
    const space = 1n << BigInt(bitsOf(family))
    const name = family === 4 ? 'IPv4' : 'IPv6'
    if (size === space) parts.push(`every ${name} address`)
    else if (size * 2n > space) {
      const holes: AddressRange[] = []
      let next = 0n
      for (const r of merged) {
        if (r.first > next) holes.push({ family, first: next, last: r.first - 1n })
        next = r.last + 1n
      }
      if (next < space) holes.push({ family, first: next, last: space - 1n })
      parts.push(`every ${name} address except ${rangesToCIDRs(holes).join(', ')}`)
    } else parts.push(rangesToCIDRs(merged).join(', '))
  }
  return parts.join(', ')
}
