/**
 * sourceAt: an offset's line and column. The search may start from the document's first line (a hint:
 * galloping instead of a search of every line of a big input); with any hint, right or wrong, the answer
 * is the one found without it.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type DocContext, sourceAt } from '../../src/load/tree.js'

describe('sourceAt', () => {
  it.each([
    // text 'ab\ncd\n\nef': lines start at 0, 3, 6, 7
    [0, undefined, 1, 1],
    [1, 0, 1, 2],
    [3, 0, 2, 1],
    [4, 1, 2, 2],
    [6, 1, 3, 1],
    [7, 3, 4, 1],
    [9, 2, 4, 3],
    [9, 3, 4, 3],
  ])('offset %i (first line %s) is line %i, column %i', (offset, firstLine, line, column) => {
    const ctx: DocContext = {
      file: 'f',
      doc: 0,
      base: 0,
      lineStarts: [0, 3, 6, 7],
      ...(firstLine === undefined ? {} : { firstLine }),
    }
    expect(sourceAt(ctx, offset)).toEqual({ file: 'f', line, column, doc: 0 })
  })

  it('gives with any first line what it gives without one, the line a linear scan finds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (lengths, base, at, hint) => {
          const lineStarts = [0]
          for (const n of lengths) lineStarts.push((lineStarts.at(-1) as number) + n)
          const end = lineStarts.at(-1) as number
          const b = base % (end + 1)
          const offset = at % (end - b + 1)
          const plain: DocContext = { file: 'f', doc: 0, base: b, lineStarts }
          const hinted: DocContext = { ...plain, firstLine: hint % (lineStarts.length + 2) }
          expect(sourceAt(hinted, offset)).toEqual(sourceAt(plain, offset))
          // And both are the line a linear scan finds.
          const abs = b + offset
          const line = lineStarts.filter((start) => start <= abs).length
          expect(sourceAt(plain, offset)).toEqual({
            file: 'f',
            line,
            column: abs - (lineStarts[line - 1] as number) + 1,
            doc: 0,
          })
        },
      ),
      { numRuns: 2000 },
    )
  })
})
