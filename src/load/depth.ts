/**
 * The nesting guard. Every reader (JSON.parse's positions, our YAML readers, js-yaml, the yaml library)
 * and every later pass (validation, normalisation, lint, explain) recurses once per level of nesting;
 * past a few hundred levels the yaml library exhausts Node's stack, and a stack overflow there may abort
 * the process (a RangeError cannot always be caught: V8 aborts when the stack runs out while it compiles
 * a regular expression). kubectl's go-yaml refuses documents nested deeper than 10000 levels, and Go's
 * encoding/json the same; Palisade refuses those deeper than MAX_DEPTH (docs/semantics.md#nesting-depth)
 * before any reader recurses:
 * - isShallow: twice the count of the indicators every level needs (`-`, `?`, `:`, `[`, `{`) bounds the
 *   depth in any reader, broken text included; most documents stop here.
 * - findTooDeep: one linear pass over a document's text counting how collections open (an indentation
 *   stack of block collections, `- ` and `? ` entries and keys, `[` and `{` outside comments, quoted and
 *   block scalars). On the text the fast readers take (plain block YAML, one-line flow collections, JSON)
 *   it is the depth of the data, and they recurse no deeper than it counts on the text they read before
 *   declining. On other text it may count more (keys inside a flow collection over lines: then it says it
 *   is not exact) or less (text the yaml library only reads by recovering from errors): the tree check
 *   below decides for every text the yaml library reads.
 * - findTooDeepTree: the depth of the yaml library's concrete syntax tree, which its parser builds
 *   without recursion: exact, for every document the yaml library composes (it recurses on that tree).
 * - findAliasProblem: an alias to an anchor that is not defined before it (go-yaml: `unknown anchor 'a'
 *   referenced`), and the depth after aliases are expanded (anchors may nest each other).
 * test/load/depth.test.ts checks them on generated and damaged documents.
 */
import { createRequire } from 'node:module'
import type * as YamlLib from 'yaml'
import type { Document } from 'yaml'

/** The deepest nesting of mappings and sequences a document may have (the top-level mapping is level 1). */
export const MAX_DEPTH = 200

/** The first place where a text nests deeper than a limit. */
export interface TooDeep {
  /** Offset in the text where the limit was passed. */
  readonly offset: number
  readonly limit: number
  /**
   * False when the count may exceed the depth of the data: block entries or keys were counted inside a
   * flow collection that goes over lines (findTooDeepTree then decides).
   */
  readonly exact: boolean
}

/** 1 for the characters every level of nesting needs one of: `-`, `?`, `:`, `[`, `{`. */
const OPENERS = new Uint8Array(128)
for (const c of '-?:[{') OPENERS[c.charCodeAt(0)] = 1

/**
 * Returns true when the text cannot nest deeper than limit whatever a reader makes of it: every
 * collection, in any reader, broken text included, starts at an indicator of its own (`- `, `? `, a
 * key's `:`, `[`, `{`), except the mapping the yaml library makes of a pair in a flow sequence, which
 * may have none when it recovers from a missing `:` (`[a [b]]`) but then holds a collection that has
 * one: twice the count of those characters bounds the depth. Most documents have fewer than half a
 * limit's worth; this is cheaper than the scans below.
 */
export function isShallow(text: string, limit: number = MAX_DEPTH): boolean {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 128 && OPENERS[c] === 1 && 2 * ++n > limit) return false
  }
  return true
}

/** Returns where the text first nests deeper than `limit`, or undefined when it never does. */
export function findTooDeep(text: string, limit: number = MAX_DEPTH): TooDeep | undefined {
  const scanner = new DepthScanner(text, limit)
  const offset = scanner.run()
  return offset === undefined ? undefined : { offset, limit, exact: !scanner.uncertain }
}

/** Returns the deepest nesting the scan counts in the text (the bound findTooDeep compares with a limit). */
export function estimateDepth(text: string): number {
  const scanner = new DepthScanner(text, Number.POSITIVE_INFINITY)
  scanner.run()
  return scanner.deepest
}

const SPACE = 32
const TAB = 9
const LF = 10
const CR = 13

/** Whether a character code ends a token: a space, a tab, a line break or the end of the text (NaN). */
function isBreak(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR || Number.isNaN(c)
}

class DepthScanner {
  /** The deepest nesting seen. */
  deepest = 0
  /** Whether a block collection was counted inside a flow collection (the count may exceed the data's). */
  uncertain = false
  /**
   * Indentation of the open block collections, innermost last, as the yaml library's lexer counts it: the
   * line's indentation plus the width of the `- `, `? ` and `: ` indicators before the collection's first
   * entry (a key does not count: in `a: b: c` both mappings have the line's indentation).
   */
  private readonly inds: number[] = []
  /** Whether each open block collection is a sequence. */
  private readonly seqs: boolean[] = []
  /** Open flow collections. */
  private flow = 0
  /** True while the open flow collections started where no block collection was open (JSON). */
  private topFlow = false
  /** A block scalar being skipped: the column of its parent collection and its content indentation. */
  private scalarParent = -2
  private scalarIndent = -1
  /** The current line: its start and its end (before any CR). */
  private lineStart = 0
  private lineEnd = 0

  constructor(
    private readonly text: string,
    private readonly limit: number,
  ) {}

  /** Scans the text; the offset where the limit was passed, or undefined. */
  run(): number | undefined {
    const text = this.text
    let start = 0
    while (start <= text.length) {
      const nl = text.indexOf('\n', start)
      const stop = nl < 0 ? text.length : nl
      this.setLine(start, stop)
      const found = this.scanLine()
      if (found !== undefined) return found
      // A quoted scalar or flow collection may have moved the scan to a later line.
      const next = text.indexOf('\n', Math.max(this.lineEnd, start))
      if (next < 0) break
      start = next + 1
    }
    return undefined
  }

  private setLine(start: number, stop: number): void {
    this.lineStart = start
    this.lineEnd = stop > start && this.text.charCodeAt(stop - 1) === CR ? stop - 1 : stop
  }

  private code(i: number): number {
    return i < this.lineEnd ? this.text.charCodeAt(i) : Number.NaN
  }

  /** The indentation of the innermost open block collection, -1 when none is open. */
  private top(): number {
    return this.inds.length === 0 ? -1 : (this.inds[this.inds.length - 1] as number)
  }

  /** Whether the current line is a document marker (`---` or `...` at column 0, then a break). */
  private isMarker(): boolean {
    const t = this.text
    const s = this.lineStart
    const c = t.charCodeAt(s)
    return (
      (c === 45 || c === 46) &&
      t.charCodeAt(s + 1) === c &&
      t.charCodeAt(s + 2) === c &&
      (s + 3 >= this.lineEnd || isBreak(t.charCodeAt(s + 3)))
    )
  }

  /** Records a depth; the offset when it passes the limit. */
  private reach(depth: number, at: number): number | undefined {
    if (depth > this.deepest) this.deepest = depth
    return depth > this.limit ? at : undefined
  }

  /**
   * Opens a block collection whose entries are indented ind. For the first entry of a line (attach), an
   * open collection of the same kind and indentation takes it as its next entry instead.
   */
  private open(ind: number, seq: boolean, attach: boolean, at: number): number | undefined {
    const n = this.inds.length
    if (attach && n > 0 && this.inds[n - 1] === ind && this.seqs[n - 1] === seq) return undefined
    if (this.flow > 0) this.uncertain = true
    this.inds.push(ind)
    this.seqs.push(seq)
    return this.reach(this.inds.length + this.flow, at)
  }

  private scanLine(): number | undefined {
    const t = this.text
    let p = this.lineStart
    while (p < this.lineEnd && t.charCodeAt(p) === SPACE) p++
    const indent = p - this.lineStart
    while (p < this.lineEnd && (t.charCodeAt(p) === SPACE || t.charCodeAt(p) === TAB)) p++
    const blank = p >= this.lineEnd
    const marker = this.isMarker()
    if (this.scalarParent > -2) {
      // Block scalar content: blank lines, and lines indented at least as its first content line.
      if (blank) return undefined
      if (!marker) {
        if (this.scalarIndent < 0 && indent > this.scalarParent) this.scalarIndent = indent
        if (this.scalarIndent >= 0 && indent >= this.scalarIndent) return undefined
      }
      this.scalarParent = -2
    }
    if (blank || t.charCodeAt(p) === 35) return undefined // # a comment line
    if (marker) {
      // A new document for the yaml library (which also ends open flow collections there): the block
      // stack starts again at column 0; flow collections are still counted until they close.
      this.topFlow = false
      this.popTo(0, false)
      p += 3
      while (p < this.lineEnd && (t.charCodeAt(p) === SPACE || t.charCodeAt(p) === TAB)) p++
      return p < this.lineEnd ? this.scanNodes(p, 0) : undefined
    }
    if (indent === 0 && t.charCodeAt(p) === 37 && this.flow === 0) return undefined // %directive
    if (this.flow > 0 && this.topFlow) return this.scanFlow(p) // JSON: flow content only
    this.popTo(indent, this.isEntry(p, 45))
    return this.scanNodes(p, indent)
  }

  /** Whether p holds the indicator character c (`-`, `?`, `:`) followed by a break. */
  private isEntry(p: number, c: number): boolean {
    return this.code(p) === c && isBreak(this.code(p + 1))
  }

  /** Closes the block collections a line at this indentation ends. */
  private popTo(indent: number, dash: boolean): void {
    while (this.inds.length > 0 && this.top() > indent) {
      this.inds.pop()
      this.seqs.pop()
    }
    // A sequence at its key's indentation ends at the next line that is not an entry.
    if (this.inds.length > 0 && this.top() === indent && this.seqs[this.seqs.length - 1] === true && !dash) {
      this.inds.pop()
      this.seqs.pop()
    }
  }

  private skipSpaces(p: number): number {
    const t = this.text
    let i = p
    while (i < this.lineEnd && (t.charCodeAt(i) === SPACE || t.charCodeAt(i) === TAB)) i++
    return i
  }

  /** Whether a key's `:` (followed by a break) comes at p after optional spaces. */
  private colonAt(p: number): number {
    const i = this.skipSpaces(p)
    return this.isEntry(i, 58) ? i : -1
  }

  /**
   * Nodes from p on the current line: entry indicators, properties, then a key (which opens a mapping
   * and is followed by its value) or a value. ind is the lexer's indentation at p; the first entry of a
   * line may continue a collection already open (attach), later ones open new collections.
   */
  private scanNodes(from: number, indent: number): number | undefined {
    const t = this.text
    let p = from
    let ind = indent
    let attach = true
    for (;;) {
      if (p >= this.lineEnd) return undefined
      const c = t.charCodeAt(p)
      if ((c === 45 || c === 63 || c === 58) && this.isEntry(p, c)) {
        // `- ` opens a sequence, `? ` a mapping (an explicit key), `: ` is the value of an explicit key
        if (c !== 58) {
          const found = this.open(ind, c === 45, attach, p)
          if (found !== undefined) return found
        }
        p = this.skipSpaces(p + 1)
        ind = p - this.lineStart
        attach = false
        continue
      }
      if (c === 38 || c === 33) {
        // &anchor or !tag: a property of the node that follows
        while (p < this.lineEnd && !isBreak(t.charCodeAt(p))) p++
        p = this.skipSpaces(p)
        continue
      }
      if (c === 35 && (p === this.lineStart || isBreak(t.charCodeAt(p - 1)))) return undefined // a comment
      if (c === 91 || c === 123) {
        const line = this.lineStart
        const before = this.inds.length
        const found = this.scanFlow(p)
        if (found !== undefined) return found
        if (this.lineStart !== line || this.flow > 0) return undefined
        // `[a]: b`: the flow collection was a key
        const colon = this.colonAt(this.scanEnd)
        if (colon < 0) return this.scanFlow(this.scanEnd)
        const deeper = this.open(ind, false, attach, p)
        if (deeper !== undefined) return deeper
        const keyed = this.reach(before + 1 + this.lastFlowDepth, p)
        if (keyed !== undefined) return keyed
        p = this.skipSpaces(colon + 1)
        attach = false
        continue
      }
      if (c === 34 || c === 39) {
        const line = this.lineStart
        const end = this.skipQuoted(p)
        if (end === undefined) return undefined // ended on a later line, which scanLine takes
        if (this.lineStart !== line) return this.scanValueRest(end)
        const colon = this.colonAt(end)
        if (colon < 0) return this.scanValueRest(end)
        const found = this.open(ind, false, attach, p)
        if (found !== undefined) return found
        p = this.skipSpaces(colon + 1)
        attach = false
        continue
      }
      if ((c === 124 || c === 62) && this.flow === 0) {
        // | or >: a block scalar; its content lines are skipped. With an indentation indicator the content
        // is indented exactly that much past its parent; else as much as its first line.
        this.scalarParent = this.top()
        this.scalarIndent = -1
        for (let i = p + 1; i < Math.min(p + 3, this.lineEnd); i++) {
          const d = t.charCodeAt(i) - 48
          if (d >= 1 && d <= 9) this.scalarIndent = Math.max(this.scalarParent, 0) + d
        }
        return undefined
      }
      // A plain scalar or an alias: a key when a `: ` follows before any comment.
      const colon = this.plainKeyEnd(p)
      if (colon < 0) return this.flow > 0 ? this.scanFlow(p) : undefined
      const found = this.open(ind, false, attach, p)
      if (found !== undefined) return found
      p = this.skipSpaces(colon + 1)
      attach = false
    }
  }

  /** The `:` that ends a plain key starting at p, or -1 (a comment, a flow indicator or the end first). */
  private plainKeyEnd(p: number): number {
    const t = this.text
    if (this.flow === 0) {
      // Block context: the first `:` followed by a break, unless a comment starts before it.
      let colon = t.indexOf(':', p)
      while (colon >= 0 && colon < this.lineEnd && !isBreak(this.code(colon + 1)))
        colon = t.indexOf(':', colon + 1)
      if (colon < 0 || colon >= this.lineEnd) return -1
      const hash = t.indexOf('#', p + 1)
      if (hash < 0 || hash > colon) return colon
    }
    for (let i = p; i < this.lineEnd; i++) {
      const c = t.charCodeAt(i)
      if (c === 58 && isBreak(this.code(i + 1))) return i
      if (c === 35 && i > p && isBreak(t.charCodeAt(i - 1))) return -1
      if (this.flow > 0 && (c === 44 || c === 91 || c === 93 || c === 123 || c === 125)) return -1
    }
    return -1
  }

  /** After a value on this line: only flow collections (in flow) matter. */
  private scanValueRest(p: number): number | undefined {
    return this.flow > 0 ? this.scanFlow(p) : undefined
  }

  /** Where the last scanFlow stopped, and the deepest flow level it reached from where it started. */
  private scanEnd = 0
  private lastFlowDepth = 0

  /**
   * Counts flow collections from p to the end of the line (scanLine goes on with the next ones): `[` and
   * `{` open, `]` and `}` close; quoted scalars (also over lines) and comments are skipped.
   */
  private scanFlow(from: number): number | undefined {
    const t = this.text
    const base = this.inds.length
    const startFlow = this.flow
    this.lastFlowDepth = 0
    if (this.flow === 0) this.topFlow = base === 0
    let p = from
    while (p < this.lineEnd) {
      const c = t.charCodeAt(p)
      if (c === 91 || c === 123) {
        this.flow++
        if (this.flow - startFlow > this.lastFlowDepth) this.lastFlowDepth = this.flow - startFlow
        const found = this.reach(base + this.flow, p)
        if (found !== undefined) return found
        p++
      } else if (c === 93 || c === 125) {
        if (this.flow > 0) this.flow--
        p++
        if (this.flow === 0) {
          this.topFlow = false
          this.scanEnd = p
          return undefined
        }
      } else if (c === 34 || c === 39) {
        // A quote starts a scalar only where a token starts (after space or an indicator).
        const prev = p === this.lineStart ? SPACE : t.charCodeAt(p - 1)
        if (isBreak(prev) || prev === 44 || prev === 91 || prev === 123 || prev === 58 || prev === 63) {
          const end = this.skipQuoted(p)
          if (end === undefined) return undefined
          p = end
        } else p++
      } else if (c === 35 && (p === this.lineStart || isBreak(t.charCodeAt(p - 1)))) {
        break // a comment
      } else p++
    }
    this.scanEnd = this.lineEnd
    return undefined
  }

  /**
   * Skips a quoted scalar starting at p; returns the offset after its closing quote (on the current line,
   * which may have moved), or undefined when a line the yaml library would not take as its continuation
   * (a document marker, or a line not indented past the enclosing block collection) comes first: the
   * scan then goes on at that line.
   */
  private skipQuoted(p: number): number | undefined {
    const t = this.text
    const q = t.charCodeAt(p)
    let i = p + 1
    for (;;) {
      if (i >= this.lineEnd) {
        // The scalar goes on over the next line, if the yaml library would read it so.
        const nl = t.indexOf('\n', this.lineEnd)
        if (nl < 0) {
          this.lineStart = this.lineEnd = t.length
          return undefined
        }
        const next = t.indexOf('\n', nl + 1)
        this.setLine(nl + 1, next < 0 ? t.length : next)
        let s = this.lineStart
        while (s < this.lineEnd && t.charCodeAt(s) === SPACE) s++
        const blank = s >= this.lineEnd
        if (!blank && (this.isMarker() || s - this.lineStart <= this.top())) {
          // Not a continuation: hand the line back to scanLine, as the next line to read.
          const before = this.lineStart - 1
          this.lineStart = this.lineEnd = before
          return undefined
        }
        i = this.lineStart
        continue
      }
      const c = t.charCodeAt(i)
      if (q === 34 && c === 92) {
        i += 2 // an escape (an escaped line break goes to the next line)
      } else if (c === q) {
        if (q === 39 && t.charCodeAt(i + 1) === 39 && i + 1 < this.lineEnd) i += 2
        else return i + 1
      } else i++
    }
  }
}

// The yaml library's own view: its parser is iterative, its composer recurses on the tree the parser builds.

/** The yaml library, loaded on first use (only documents the fast readers decline, or too deep ones, need it). */
const requireModule = createRequire(import.meta.url)
let yamlLib: typeof YamlLib | undefined
function yaml(): typeof YamlLib {
  yamlLib ??= requireModule('yaml') as typeof YamlLib
  return yamlLib
}

/** A node of the yaml library's concrete syntax tree, as far as the walk below reads it. */
interface CstNode {
  readonly type?: string
  readonly offset?: number
  readonly value?: unknown
  readonly start?: { readonly source?: string }
  readonly items?: readonly {
    readonly start?: readonly { readonly type?: string }[]
    readonly key?: unknown
    readonly sep?: readonly { readonly type?: string }[]
    readonly value?: unknown
  }[]
}

/** Whether an item of a flow collection is a pair: a key, a `?` or a `:`. */
function isPair(item: NonNullable<CstNode['items']>[number]): boolean {
  return (
    item.key != null ||
    item.start?.some((t) => t.type === 'explicit-key-ind') === true ||
    item.sep?.some((t) => t.type === 'map-value-ind') === true
  )
}

const CST_COLLECTIONS: ReadonlySet<string> = new Set(['block-map', 'block-seq', 'flow-collection'])

/**
 * Returns where the yaml library's syntax tree of the text first nests deeper than limit, or undefined.
 * A pair in a flow sequence (`[a: b]`) counts as the mapping the composer makes of it.
 */
export function findTooDeepTree(text: string, limit: number = MAX_DEPTH): TooDeep | undefined {
  const stack: [unknown, number][] = []
  for (const token of new (yaml().Parser)().parse(text)) {
    stack.push([token, 0])
    while (stack.length > 0) {
      const [node, depth] = stack.pop() as [CstNode | null | undefined, number]
      if (!node || typeof node !== 'object') continue
      const d = node.type !== undefined && CST_COLLECTIONS.has(node.type) ? depth + 1 : depth
      if (d > limit) return { offset: node.offset ?? 0, limit, exact: true }
      if (node.value && typeof node.value === 'object') stack.push([node.value, d])
      if (!Array.isArray(node.items)) continue
      const flowSeq = node.type === 'flow-collection' && node.start?.source === '['
      for (const item of node.items) {
        const pair = flowSeq && isPair(item)
        if (pair && d + 1 > limit) return { offset: node.offset ?? 0, limit, exact: true }
        stack.push([item.key, pair ? d + 1 : d])
        stack.push([item.value, pair ? d + 1 : d])
      }
    }
  }
  return undefined
}

/** A problem with the aliases of a composed document. */
export type AliasProblem =
  | { readonly kind: 'unknown-anchor'; readonly anchor: string; readonly offset: number | undefined }
  | { readonly kind: 'too-deep'; readonly offset: number | undefined; readonly limit: number }

/**
 * Checks the aliases of a document the yaml library composed: each must name an anchor defined before it
 * (in document order, the last one of that name wins, as in go-yaml), and the data, aliases expanded, must
 * nest at most limit deep. Walks the tree without recursion; each anchored node's depth is computed once.
 */
export function findAliasProblem(doc: Document.Parsed, limit: number = MAX_DEPTH): AliasProblem | undefined {
  const y = yaml()
  const children = (node: unknown): unknown[] => {
    if (y.isMap(node)) return node.items.flatMap((pair) => [pair.key, pair.value])
    if (y.isSeq(node)) return node.items
    return []
  }
  // Document order: an alias refers to the last anchor of its name before it.
  const anchors = new Map<string, unknown>()
  const target = new Map<unknown, unknown>()
  let aliases = 0
  const order: unknown[] = [doc.contents]
  while (order.length > 0) {
    const node = order.pop()
    if (y.isAlias(node)) {
      const found = anchors.get(node.source)
      if (found === undefined) {
        return { kind: 'unknown-anchor', anchor: node.source, offset: node.range?.[0] }
      }
      target.set(node, found)
      aliases++
      continue
    }
    const anchor = (node as { anchor?: string } | null)?.anchor
    if (node && anchor) anchors.set(anchor, node)
    const kids = children(node)
    for (let i = kids.length - 1; i >= 0; i--) order.push(kids[i])
  }
  if (aliases === 0) return undefined // the tree check already bounded the depth
  // Depth with aliases expanded, post-order with a memo (an anchor inside itself counts once: the cycle is
  // refused when the value is built).
  const isCollection = (node: unknown): boolean => y.isMap(node) || y.isSeq(node)
  const depthOf = new Map<unknown, number>()
  const visiting = new Set<unknown>()
  const stack: [unknown, boolean][] = [[doc.contents, false]]
  while (stack.length > 0) {
    const [node, done] = stack.pop() as [unknown, boolean]
    if (depthOf.has(node)) continue
    const next = y.isAlias(node) ? [target.get(node)] : children(node)
    if (!done) {
      if (visiting.has(node)) continue
      visiting.add(node)
      stack.push([node, true])
      for (const child of next) if (!depthOf.has(child) && !visiting.has(child)) stack.push([child, false])
      continue
    }
    let deepest = 0
    for (const child of next) deepest = Math.max(deepest, depthOf.get(child) ?? 0)
    depthOf.set(node, isCollection(node) ? deepest + 1 : deepest)
    visiting.delete(node)
  }
  if ((depthOf.get(doc.contents) ?? 0) <= limit) return undefined
  // Too deep: name the first alias (in document order) whose expansion passes the limit.
  let node: unknown = doc.contents
  let level = 0
  while (!y.isAlias(node)) {
    const below = level + (isCollection(node) ? 1 : 0)
    const next = children(node).find((c) => below + (depthOf.get(c) ?? 0) > limit)
    if (next === undefined) break
    node = next
    level = below
  }
  const range = (node as { range?: readonly number[] | null } | null)?.range
  return { kind: 'too-deep', offset: range?.[0], limit }
}
