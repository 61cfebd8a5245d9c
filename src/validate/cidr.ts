/**
 * CIDR parsing as the API server does it for ipBlock (IsValidCIDRForLegacyField with the
 * StrictIPCIDRValidation gate off, its default: alpha since 1.33): netutils.ParseCIDRSloppy accepts
 * IPv4 octets and prefix lengths with leading zeros (read as decimal) and host bits set after the
 * prefix. See docs/semantics.md#ipblock-cidr-forms.
 */
import type { ParsedCIDR } from '../model/ip.js'
import { parseCIDR } from '../model/ip.js'

/** Rewrites a dotted quad with leading zeros ('010.0.0.1') to plain decimal; undefined if not one. */
function normalizeDottedQuad(text: string): string | undefined {
  const parts = text.split('.')
  if (parts.length !== 4 || !parts.every((p) => /^\d+$/.test(p))) return undefined
  const nums = parts.map((p) => Number(p))
  return nums.every((n) => n <= 255) ? nums.join('.') : undefined
}

/** Parses a CIDR the way netutils.ParseCIDRSloppy does; undefined when the API server rejects it. */
export function parseCIDRSloppy(text: string): ParsedCIDR | undefined {
  const slash = text.indexOf('/')
  if (slash < 0 || text.indexOf('/', slash + 1) >= 0) return undefined
  let addr = text.slice(0, slash)
  const prefix = text.slice(slash + 1)
  if (!/^\d+$/.test(prefix)) return undefined
  if (addr.includes(':')) {
    const lastColon = addr.lastIndexOf(':')
    const tail = addr.slice(lastColon + 1)
    if (tail.includes('.')) {
      const quad = normalizeDottedQuad(tail)
      if (quad === undefined) return undefined
      addr = `${addr.slice(0, lastColon + 1)}${quad}`
    }
  } else {
    const quad = normalizeDottedQuad(addr)
    if (quad === undefined) return undefined
    addr = quad
  }
  const len = Number(prefix)
  if (len > 128) return undefined
  return parseCIDR(`${addr}/${len}`)
}
