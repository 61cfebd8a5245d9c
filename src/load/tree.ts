/** Positions inside one document, whatever its syntax (YAML or JSON), and the helpers built on them. */
import type { FieldPath, JsonValue, SourceRef } from '../model/index.js'

/** A node's position and a way to reach its children. */
export interface Tree {
  /** Offset of the node in its chunk; undefined when unknown. */
  readonly offset: number | undefined
  /** A child by key (at = the key's position) or by index (at = the item's position). */
  child(seg: string | number): { readonly at: number | undefined; readonly tree: Tree } | undefined
}

/** A tree that knows no positions below its root. */
export function leafTree(offset: number | undefined): Tree {
  return { offset, child: () => undefined }
}

/** Where a document is: its file, index, and the offsets needed to turn chunk offsets into lines. */
export interface DocContext {
  readonly file: string
  readonly doc: number
  /** Offset of the document's chunk in the whole text (tree offsets are relative to the chunk). */
  readonly base: number
  /** Offsets at which the lines of the whole text start. */
  readonly lineStarts: ArrayLike<number>
  /**
   * The index in lineStarts of a line at or before the chunk's start (where a search for a line of the
   * document begins: an object's positions are near it, and a big input has millions of lines).
   */
  readonly firstLine?: number
  /** For an item of a List read on its own (list-items.ts): its index, and its offsets' place in the text. */
  readonly item?: { readonly index: number; readonly toWhole: (offset: number) => number }
}

/** How messages name the document (or List item) a problem made them skip. */
export function docLabel(ctx: DocContext): string {
  return ctx.item ? `items[${ctx.item.index}] of document ${ctx.doc + 1}` : `document ${ctx.doc + 1}`
}

/** Turns an offset in the document's chunk into file, line and column (1-based). */
export function sourceAt(ctx: DocContext, offset: number | undefined): SourceRef {
  if (offset === undefined) return { file: ctx.file, doc: ctx.doc }
  const abs = ctx.item ? ctx.item.toWhole(offset) : ctx.base + offset
  const starts = ctx.lineStarts
  const hint = ctx.firstLine
  const from = hint !== undefined && hint < starts.length && (starts[hint] ?? 0) <= abs ? hint : 0
  const line = lineIndexAt(starts, abs, from)
  return { file: ctx.file, line: line + 1, column: abs - (starts[line] ?? 0) + 1, doc: ctx.doc }
}

/**
 * The index of the last line starting at or before the absolute offset `abs`, searched from line `from`
 * (one that starts at or before it): galloping from there, then halving, so a search near its start takes a
 * few steps whatever the number of lines.
 */
export function lineIndexAt(lineStarts: ArrayLike<number>, abs: number, from = 0): number {
  let lo = from
  let hi = lineStarts.length - 1
  let step = 1
  while (lo + step <= hi && (lineStarts[lo + step] ?? 0) <= abs) {
    lo += step
    step *= 2
  }
  hi = Math.min(hi, lo + step - 1)
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if ((lineStarts[mid] ?? 0) <= abs) lo = mid
    else hi = mid - 1
  }
  return lo
}

/** A key defined twice in one mapping. */
export interface DuplicateKey {
  readonly path: FieldPath
  readonly key: string
  readonly firstLine: number
  readonly source: SourceRef
}

/** One document as data plus positions. */
export interface DocData {
  readonly ok: true
  readonly value: JsonValue
  readonly tree: Tree
  readonly duplicates: readonly DuplicateKey[]
}

/** A document read, or not (empty, or a problem already reported as a diagnostic). */
export type DocParse = DocData | { readonly ok: false; readonly empty: boolean }

/** Positions found by a scanner: a mapping's keys (at = the key) or a sequence's items (at = the item). */
export interface PosNode {
  readonly offset: number | undefined
  readonly keys?: ReadonlyMap<string, { readonly at: number; readonly node: PosNode }>
  readonly items?: readonly PosNode[]
}

/** A Tree over scanned positions (a sequence item is found at its own offset). */
export function posTree(p: PosNode): Tree {
  return {
    offset: p.offset,
    child(seg) {
      if (p.keys) {
        const entry = p.keys.get(String(seg))
        return entry ? { at: entry.at, tree: posTree(entry.node) } : undefined
      }
      if (p.items && typeof seg === 'number') {
        const item = p.items[seg]
        return item ? { at: item.offset, tree: posTree(item) } : undefined
      }
      return undefined
    },
  }
}
