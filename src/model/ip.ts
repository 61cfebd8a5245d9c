/** IPv4/IPv6 addresses and CIDRs as numbers, for containment checks (pure, no node:net). */

export type Family = 4 | 6

export interface ParsedIP {
  readonly family: Family
  readonly value: bigint
}

export interface ParsedCIDR {
  readonly family: Family
  /** Network address (host bits cleared). */
  readonly base: bigint
  readonly prefix: number
  /** True when the text had host bits set (10.0.0.1/24): the API server accepts it for ipBlock. */
  readonly hostBitsSet: boolean
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** Parses a dotted-quad IPv4 address; leading zeros are rejected, as Go's netip does. */
function parseV4(text: string): bigint | undefined {
  const m = V4.exec(text)
  if (!m) return undefined
  let v = 0n
  for (let i = 1; i <= 4; i++) {
    const part = m[i] as string
    if (part.length > 1 && part.startsWith('0')) return undefined
    const n = Number(part)
    if (n > 255) return undefined
    v = (v << 8n) | BigInt(n)
  }
  return v
}

/** Parses an IPv6 address (with :: and an optional trailing dotted quad). */
function parseV6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return undefined
  const dbl = text.split('::')
  if (dbl.length > 2) return undefined
  const toGroups = (s: string): number[] | undefined => {
    if (s === '') return []
    const out: number[] = []
    const parts = s.split(':')
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseV4(p)
        if (v4 === undefined) return undefined
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn))
        continue
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined
      out.push(Number.parseInt(p, 16))
    }
    return out
  }
  const head = toGroups(dbl[0] as string)
  const tail = dbl.length === 2 ? toGroups(dbl[1] as string) : []
  if (!head || !tail) return undefined
  let groups: number[]
  if (dbl.length === 2) {
    const missing = 8 - head.length - tail.length
    if (missing < 1) return undefined
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail]
  } else {
    groups = head
  }
  if (groups.length !== 8) return undefined
  let v = 0n
  for (const g of groups) v = (v << 16n) | BigInt(g)
  return v
}

/** Parses an IP address; undefined when it is not one. */
export function parseIP(text: string): ParsedIP | undefined {
  const v4 = parseV4(text)
  if (v4 !== undefined) return { family: 4, value: v4 }
  const v6 = parseV6(text)
  if (v6 !== undefined) return { family: 6, value: v6 }
  return undefined
}

/** Parses a CIDR (a.b.c.d/n or v6/n); undefined when it is not one. */
export function parseCIDR(text: string): ParsedCIDR | undefined {
  const slash = text.indexOf('/')
  if (slash < 0) return undefined
  const ip = parseIP(text.slice(0, slash))
  const ptext = text.slice(slash + 1)
  if (!ip || !/^\d{1,3}$/.test(ptext) || (ptext.length > 1 && ptext.startsWith('0'))) return undefined
  const prefix = Number(ptext)
  const bits = ip.family === 4 ? 32 : 128
  if (prefix > bits) return undefined
  const hostMask = (1n << BigInt(bits - prefix)) - 1n
  const base = ip.value & ~hostMask & ((1n << BigInt(bits)) - 1n)
  return { family: ip.family, base, prefix, hostBitsSet: (ip.value & hostMask) !== 0n }
}

/** Returns the last address of a CIDR. */
export function cidrLast(c: ParsedCIDR): bigint {
  const bits = c.family === 4 ? 32 : 128
  return c.base | ((1n << BigInt(bits - c.prefix)) - 1n)
}

/** Returns true when the address lies inside the CIDR (same family only). */
export function cidrContainsIP(c: ParsedCIDR, ip: ParsedIP): boolean {
  return c.family === ip.family && ip.value >= c.base && ip.value <= cidrLast(c)
}

/** Returns true when inner lies completely inside outer (same family only). */
export function cidrContainsCIDR(outer: ParsedCIDR, inner: ParsedCIDR): boolean {
  return (
    outer.family === inner.family &&
    inner.prefix >= outer.prefix &&
    inner.base >= outer.base &&
    cidrLast(inner) <= cidrLast(outer)
  )
}

/** Formats an address value. IPv6 is printed in RFC 5952 form. */
export function formatIP(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.')
  }
  const groups: number[] = []
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn))
  // longest run of zero groups (length >= 2) becomes ::
  let best = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}

/** Returns the canonical network form of a CIDR text (host bits cleared), e.g. 10.0.0.1/8 -> 10.0.0.0/8. */
export function canonicalCIDR(c: ParsedCIDR): string {
  return `${formatIP(c.family, c.base)}/${c.prefix}`
}

/** Returns the canonical text of an address (RFC 5952 for IPv6). */
export function canonicalIP(ip: ParsedIP): string {
  return formatIP(ip.family, ip.value)
}
