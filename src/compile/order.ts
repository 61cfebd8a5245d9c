/** Orders and comparisons the node compiler sorts and reuses by (deterministic output, identity reuse). */

/** Compares strings by UTF-16 code units (never by locale). */
export const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Compares addresses by value: IPv4 in `num`, IPv6 in `big` (elements of one set share a family). */
export const byAddress = (a: { num: number; big: bigint }, b: { num: number; big: bigint }): number =>
  a.num - b.num || (a.big < b.big ? -1 : a.big > b.big ? 1 : 0)

/** Returns true when both lists hold the same items (by reference) in the same order. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
