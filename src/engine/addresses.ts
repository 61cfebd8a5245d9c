/** Which address a connection uses, and ipBlock membership (docs/semantics.md, "Addresses"). */
import type { IPBlock } from '../model/index.js'
import {
  cidrContainsIP,
  type Family,
  type ParsedCIDR,
  type ParsedIP,
  parseCIDR,
  parseIP,
} from '../model/index.js'

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

interface ParsedBlock {
  readonly cidr: ParsedCIDR | undefined
  readonly except: readonly (ParsedCIDR | undefined)[]
}
const blockCache = new WeakMap<IPBlock, ParsedBlock>()

/** Returns true when the address lies in the block's cidr and in none of its except ranges. */
export function matchIPBlock(block: IPBlock, ip: string | undefined): boolean {
  if (ip === undefined) return false
  const addr = parseIP(ip)
  return addr !== undefined && matchIPBlockParsed(block, addr)
}

/** Same as matchIPBlock for an address parsed once by the caller (the class builder's hot loop). */
export function matchIPBlockParsed(block: IPBlock, addr: ParsedIP): boolean {
  let parsed = blockCache.get(block)
  if (!parsed) {
    parsed = { cidr: parseCIDR(block.cidr), except: block.except.map((e) => parseCIDR(e)) }
    blockCache.set(block, parsed)
  }
  if (!parsed.cidr || !cidrContainsIP(parsed.cidr, addr)) return false
  return !parsed.except.some((e) => e !== undefined && cidrContainsIP(e, addr))
}
