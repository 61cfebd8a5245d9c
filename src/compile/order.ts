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

/** The objects added to and removed from a list, found by identity. */
export interface IdentityDiff<T> {
  readonly added: readonly T[]
  /** Position of each added object in the new list (ascending). */
  readonly addedAt: readonly number[]
  readonly removed: readonly T[]
  /** Position of each removed object in the old list (ascending). */
  readonly removedAt: readonly number[]
}

/**
 * Returns what was added to and removed from `prev` to give `next`, comparing objects by identity, or
 * undefined when the lists do not differ by a few insertions and removals alone (more than `limit`
 * changes, an object moved, or given twice): the caller then starts over. `known(x)` tells whether x is
 * an object of `prev`, which must hold each object once. An unchanged run costs a pointer comparison
 * per item: no item is read, so a list of 100k objects is walked in well under a millisecond.
 */
export function identityDiff<T>(
  prev: readonly T[],
  next: readonly T[],
  known: (x: T) => boolean,
  limit: number,
): IdentityDiff<T> | undefined {
  const added: T[] = []
  const addedAt: number[] = []
  const removed: T[] = []
  const removedAt: number[] = []
  let fresh: Set<T> | undefined
  let i = 0
  let j = 0
  while (j < next.length) {
    const x = next[j] as T
    if (i < prev.length && prev[i] === x) {
      i++
      j++
      continue
    }
    if (!known(x)) {
      // a new object (twice in `next`: not a list of insertions)
      fresh ??= new Set()
      if (fresh.has(x)) return undefined
      fresh.add(x)
      added.push(x)
      addedAt.push(j)
      j++
    } else if (i < prev.length) {
      // an object of prev further on: the one here was removed (or x moved: found below)
      removed.push(prev[i] as T)
      removedAt.push(i)
      i++
    } else return undefined // x is in prev before this point: it moved, or is given twice
    if (added.length + removed.length > limit) return undefined
  }
  while (i < prev.length) {
    removedAt.push(i)
    removed.push(prev[i++] as T)
    if (added.length + removed.length > limit) return undefined
  }
  return { added, addedAt, removed, removedAt }
}

/**
 * Returns the position in the new list of the object at position `i` of the old one, which the diff
 * kept: the kept objects keep their order, so it is its rank among them plus the added objects before it.
 */
export function keptPosition(d: IdentityDiff<unknown>, i: number): number {
  const rank = i - countBelow(d.removedAt, i)
  // the k-th added object (0-based) has addedAt[k] - k kept objects before it (nondecreasing in k)
  let lo = 0
  let hi = d.addedAt.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((d.addedAt[mid] as number) - mid <= rank) lo = mid + 1
    else hi = mid
  }
  return rank + lo
}

/** Number of items of an ascending list below `x`. */
function countBelow(xs: readonly number[], x: number): number {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((xs[mid] as number) < x) lo = mid + 1
    else hi = mid
  }
  return lo
}
