/** Address and port interval arithmetic for the node compiler (pure). */
import { type Family, formatIP, type ParsedCIDR } from '../model/index.js'
import type { IRPortRange } from './ir.js'

const BITS: Readonly<Record<Family, number>> = { 4: 32, 6: 128 }

/** An inclusive address range. */
interface AddressRange {
  readonly lo: bigint
  readonly hi: bigint
}

/** Returns the inclusive range a CIDR covers. */
function rangeOf(c: ParsedCIDR): AddressRange {
  const bits = BITS[c.family]
  return { lo: c.base, hi: c.base | ((1n << BigInt(bits - c.prefix)) - 1n) }
}

/** Returns the ranges of `whole` minus every range in `holes`, sorted and disjoint. */
function subtract(whole: AddressRange, holes: readonly AddressRange[]): AddressRange[] {
  const sorted = [...holes].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0))
  const out: AddressRange[] = []
  let cur = whole.lo
  for (const h of sorted) {
    if (h.hi < cur || h.lo > whole.hi) continue
    if (h.lo > cur) out.push({ lo: cur, hi: h.lo - 1n })
    if (h.hi >= whole.hi) return out
    if (h.hi + 1n > cur) cur = h.hi + 1n
  }
  out.push({ lo: cur, hi: whole.hi })
  return out
}

/** Splits an inclusive range into the minimal list of CIDRs covering exactly it. */
function rangeToCIDRs(family: Family, r: AddressRange): string[] {
  const bits = BITS[family]
  const out: string[] = []
  let lo = r.lo
  while (lo <= r.hi) {
    // largest block aligned at lo that fits in [lo, hi]
    let size = 0
    while (size < bits) {
      const next = size + 1
      const mask = (1n << BigInt(next)) - 1n
      if ((lo & mask) !== 0n || lo + mask > r.hi) break
      size = next
    }
    out.push(`${formatIP(family, lo)}/${bits - size}`)
    lo += 1n << BigInt(size)
  }
  return out
}

/**
 * Returns cidr minus every except as a sorted list of disjoint canonical CIDRs (empty when the excepts
 * cover it all). Excepts of another family are ignored.
 */
export function subtractCIDRs(cidr: ParsedCIDR, except: readonly ParsedCIDR[]): string[] {
  const holes = except.filter((e) => e.family === cidr.family).map(rangeOf)
  return subtract(rangeOf(cidr), holes).flatMap((r) => rangeToCIDRs(cidr.family, r))
}

/** Returns true when the CIDR covers its whole address family (0.0.0.0/0, ::/0). */
export function isWholeFamily(c: ParsedCIDR): boolean {
  return c.prefix === 0
}

/** Merges port ranges: sorted by start, overlapping and adjacent ranges joined. */
export function mergePortRanges(ranges: readonly IRPortRange[]): IRPortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to)
  const out: { from: number; to: number }[] = []
  for (const r of sorted) {
    const last = out[out.length - 1]
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to)
    else out.push({ from: r.from, to: r.to })
  }
  return out
}
