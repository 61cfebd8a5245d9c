/** Fixed-size bitsets over class indices (the fast matrix works on sets of classes, not pods). */
export type Bitset = Uint32Array

/** Returns an empty bitset for n elements. */
export function emptyBits(n: number): Bitset {
  return new Uint32Array((n + 31) >>> 5)
}

/** Returns a bitset with the first n elements set. */
export function fullBits(n: number): Bitset {
  const b = emptyBits(n)
  b.fill(0xffffffff)
  const rest = n & 31
  if (rest !== 0 && b.length > 0) b[b.length - 1] = (1 << rest) - 1
  return b
}

/** Sets element i. */
export function setBit(b: Bitset, i: number): void {
  b[i >>> 5] = (b[i >>> 5] as number) | (1 << (i & 31))
}

/** Returns true when element i is set. */
export function hasBit(b: Bitset, i: number): boolean {
  return ((b[i >>> 5] as number) & (1 << (i & 31))) !== 0
}

/** ORs src into dst in place. */
export function orInto(dst: Bitset, src: Bitset): void {
  for (let k = 0; k < dst.length; k++) dst[k] = (dst[k] as number) | (src[k] as number)
}

/** ORs (a AND b) into dst in place. */
export function orAndInto(dst: Bitset, a: Bitset, b: Bitset): void {
  for (let k = 0; k < dst.length; k++) dst[k] = (dst[k] as number) | ((a[k] as number) & (b[k] as number))
}

/** Returns a AND b AND NOT c, as a new bitset. */
export function andAndNot(a: Bitset, b: Bitset, c: Bitset): Bitset {
  const out = new Uint32Array(a.length)
  for (let k = 0; k < a.length; k++) out[k] = (a[k] as number) & (b[k] as number) & ~(c[k] as number)
  return out
}

/** Returns true when no element is set. */
export function isEmptyBits(b: Bitset): boolean {
  for (let k = 0; k < b.length; k++) if (b[k] !== 0) return false
  return true
}
