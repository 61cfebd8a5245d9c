/**
 * Kernel object names for the iptables backend: deterministic, readable, within kernel limits.
 * iptables chain names hold at most 28 characters (XT_EXTENSION_MAXNAMELEN - 1 = 28 with the NUL),
 * ipset names at most 31 (IPSET_MAXNAMELEN 32 with the NUL).
 */

/** Every chain we own starts with this; cleanup finds ours by it. */
export const IPTABLES_CHAIN_PREFIX = 'PAL-'
/** Every set we own starts with this (ipset names are case-sensitive, so our sets never collide with chains). */
export const IPSET_PREFIX = 'pal-'
export const MAX_CHAIN_NAME = 28
export const MAX_SET_NAME = 31

/** Returns a 53-bit string hash (cyrb53) as 8 base-36 characters: deterministic, no crypto needed. */
export function shortHash(text: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  const n = 4294967296 * (2097151 & h2) + (h1 >>> 0)
  return n.toString(36).padStart(8, '0').slice(-8)
}

/**
 * Returns prefix + body when it is clean and fits in max characters; otherwise prefix + the cleaned body
 * cut short + '-' + a hash of the original body, so that distinct bodies keep distinct names.
 */
export function boundedName(prefix: string, body: string, max: number): string {
  const clean = body.replace(/[^A-Za-z0-9_.-]/g, '_')
  if (clean === body && prefix.length + body.length <= max) return prefix + body
  const hash = shortHash(body)
  const room = max - prefix.length - hash.length - 1
  if (room < 1) throw new Error(`name prefix ${prefix} leaves no room within ${max} characters`)
  return `${prefix}${clean.slice(0, room).replace(/[-.]+$/, '')}-${hash}`
}
