/**
 * identityDiff / keptPosition (src/compile/order.ts): the fast path the incremental compiler follows pod
 * and policy lists by must equal a diff computed the slow way, and must give up (undefined) rather than
 * answer wrongly when the lists are not a few insertions and removals apart.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { identityDiff, keptPosition } from '../../src/compile/order.js'

interface Item {
  readonly n: number
}

/** One edit of a list: insert a new object, remove one, move one, or repeat one. */
type Edit =
  | { readonly kind: 'insert'; readonly at: number }
  | { readonly kind: 'remove'; readonly at: number }
  | { readonly kind: 'move'; readonly from: number; readonly to: number }
  | { readonly kind: 'repeat'; readonly at: number }

const nat = fc.nat({ max: 1000 })
const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: nat }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('remove' as const), at: nat }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('move' as const), from: nat, to: nat }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeat' as const), at: nat }) },
)

let made = 0
const item = (): Item => ({ n: made++ })

function applyEdit(xs: Item[], e: Edit): void {
  if (e.kind === 'insert') xs.splice(e.at % (xs.length + 1), 0, item())
  else if (xs.length === 0) return
  else if (e.kind === 'remove') xs.splice(e.at % xs.length, 1)
  else if (e.kind === 'repeat') xs.splice(e.at % (xs.length + 1), 0, xs[e.at % xs.length] as Item)
  else {
    const [x] = xs.splice(e.from % xs.length, 1)
    xs.splice(e.to % (xs.length + 1), 0, x as Item)
  }
}

describe('identityDiff', () => {
  it('equals the slow diff, positions included, or gives up', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 40 }),
        fc.array(edit, { maxLength: 8 }),
        fc.nat({ max: 10 }),
        (n, edits, limit) => {
          const prev = Array.from({ length: n }, item)
          const next = [...prev]
          for (const e of edits) applyEdit(next, e)
          const inPrev = new Set(prev)
          const d = identityDiff(prev, next, (x) => inPrev.has(x), limit)
          const inNext = new Set(next)
          const added = next.filter((x) => !inPrev.has(x))
          const removed = prev.filter((x) => !inNext.has(x))
          const simple = edits.every((e) => e.kind === 'insert' || e.kind === 'remove')
          // a list of insertions and removals alone within the limit is always followed
          if (simple && added.length + removed.length <= limit) expect(d).toBeDefined()
          if (d === undefined) return
          expect(d.added).toEqual(added)
          expect(d.removed).toEqual(removed)
          expect(d.added.length + d.removed.length).toBeLessThanOrEqual(limit)
          expect(d.addedAt.map((i) => next[i])).toEqual(d.added)
          expect(d.removedAt.map((i) => prev[i])).toEqual(d.removed)
          // the objects kept are in the same order, and keptPosition finds each one
          prev.forEach((x, i) => {
            if (inNext.has(x)) expect(next[keptPosition(d, i)]).toBe(x)
          })
        },
      ),
      { numRuns: 500 },
    )
  })

  it('gives up on a moved object and on an object given twice', () => {
    const [a, b, c] = [item(), item(), item()]
    const known = (x: Item) => x === a || x === b || x === c
    expect(identityDiff([a, b, c], [b, a, c], known, 10)).toBeUndefined()
    expect(identityDiff([a, b, c], [a, b, c, a], known, 10)).toBeUndefined()
    const d = item()
    expect(identityDiff([a, b, c], [a, d, c, d], known, 10)).toBeUndefined()
    expect(identityDiff([a, b, c], [a, d, c], known, 10)).toEqual({
      added: [d],
      addedAt: [1],
      removed: [b],
      removedAt: [1],
    })
  })
})
