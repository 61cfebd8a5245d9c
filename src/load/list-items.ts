/**
 * Finds the items of a `kind: List` printed as kubectl prints it (`kubectl get -o yaml`): a top-level
 * `items:` key whose sequence starts at column 0, each item a `- ` line followed by lines indented by two
 * spaces. parse.ts then reads the envelope (the document without its items) and each item on its own, so a
 * dump of hundreds of MiB never becomes one tree (docs/semantics.md#list-items). Any other layout (an
 * indented sequence, comments or tabs at the start of a line, anchors or aliases, document markers inside
 * the items) returns undefined and the document is read whole. Pure: offsets in, offsets out.
 */

import { lineIndexAt } from './tree.js'

/** Where a List's items are in a document's chunk (offsets relative to the chunk). */
export interface ListLayout {
  /** Offset just after `items:` (the envelope puts ` []` there). */
  readonly keyEnd: number
  /** Offset of the line after the `items:` line, and of the first line after the items. */
  readonly blockStart: number
  readonly blockEnd: number
  /** Line index (in the whole text's line starts) of each item's first line, then of blockEnd's line. */
  readonly itemLines: readonly number[]
}

/** An anchor or an alias (or what looks like one: the document is then read whole). */
const ANCHOR_OR_ALIAS = /[\s[{,][&*][^\s]/

/**
 * The layout of the List in `text` (a document chunk starting at `base` in the whole text whose line
 * starts are `lineStarts`, the chunk's first line being `firstLine`); undefined when it is not one.
 */
export function findListLayout(
  text: string,
  base: number,
  lineStarts: ArrayLike<number>,
  firstLine: number,
): ListLayout | undefined {
  const key = text.startsWith('items:') ? 0 : text.indexOf('\nitems:') + 1
  if (key === 0 && !text.startsWith('items:')) return undefined
  const keyEnd = key + 'items:'.length
  // The rest of the `items:` line: spaces only; the items start on the next line.
  const nl = text.indexOf('\n', keyEnd)
  if (nl < 0 || !/^ *\r?$/.test(text.slice(keyEnd, nl)) || nl + 1 >= text.length) return undefined
  let line = lineIndexAt(lineStarts, base + nl + 1, firstLine)
  const blockStart = (lineStarts[line] as number) - base
  const itemLines: number[] = []
  let blockEnd = text.length
  for (; line < lineStarts.length; line++) {
    const at = (lineStarts[line] as number) - base
    if (at >= text.length) break
    const c = text.charCodeAt(at)
    const c1 = text.charCodeAt(at + 1)
    if (c === 45 /* - */) {
      if (c1 !== 32) return undefined
      itemLines.push(line)
    } else if (c === 32) {
      if (itemLines.length === 0) return undefined
      if (c1 === 32) {
        // Markers would be read as document markers once the item is unindented.
        const c2 = text.charCodeAt(at + 2)
        if ((c2 === 45 || c2 === 46) && /^(?:---|\.\.\.)(?:[ \r\n]|$)/.test(text.slice(at + 2, at + 6)))
          return undefined
        if (c2 === 9) return undefined
      } else if (c1 === 9 || (c1 !== 10 && c1 !== 13 && !Number.isNaN(c1))) return undefined
    } else if (c === 10 || c === 13) {
      // a blank line
    } else if (c === 35 /* # */ || c === 9) {
      return undefined
    } else {
      blockEnd = at
      break
    }
  }
  if (itemLines.length === 0) return undefined
  if (ANCHOR_OR_ALIAS.test(text.slice(blockStart, blockEnd))) return undefined
  itemLines.push(line)
  return { keyEnd, blockStart, blockEnd, itemLines }
}

/** An item's text as its own document: `- ` and the two spaces of every other line taken off. */
export function itemText(whole: string, start: number, end: number): string {
  return whole.slice(start + 2, end).replace(/\n {1,2}/g, '\n')
}

/**
 * Turns an offset in an item's text (itemText) into an offset in the whole text: the item's first line
 * lost `- `, each other line up to two spaces.
 */
export function itemOffsetToWhole(
  whole: string,
  lineStarts: ArrayLike<number>,
  firstLine: number,
  text: string,
  offset: number,
): number {
  let k = 0
  let lineStart = 0
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    k++
    lineStart = i + 1
  }
  const origin = lineStarts[firstLine + k] as number
  let removed = 2
  if (k > 0) {
    removed = 0
    while (removed < 2 && whole.charCodeAt(origin + removed) === 32) removed++
  }
  return origin + removed + (offset - lineStart)
}
