/**
 * The line scanner of the fast path: reads a block-style document line by line, checking it has the
 * shape of the value js-yaml parsed (the same keys, items, and scalars where it has scalars) and that it
 * holds nothing it does not know; with `build`, it also gives the offsets of keys and items as the yaml
 * library gives them. One method per construct: keys, block collections, the scalar forms, and the
 * one-line flow collections. Anything unsure throws GIVE_UP and the exact path takes the document.
 */
import type { JsonValue } from '../model/index.js'
import { resolvePlainKey } from './go-yaml-resolve.js'
import type { PosNode } from './tree.js'

/** Lines longer than this are left to the exact path (the yaml library limits implicit keys to 1024). */
const MAX_LINE = 1000

/** Thrown when the scanner meets something it does not handle; the yaml library takes over. */
const GIVE_UP: unique symbol = Symbol('give up')

/** 1 for the ASCII characters a plain key may start with (not space, not an indicator). */
const KEY_START = new Uint8Array(128)
for (let c = 33; c < 127; c++) KEY_START[c] = '-?:,[]{}#&*!|>\'"%@`'.includes(String.fromCharCode(c)) ? 0 : 1
const BLOCK_HEADER = /[|>][1-9+-]{0,2}(?: +#.*| *)\r?$/my
/** A continuation line of a plain scalar that could mean something else. */
const CONTINUATION_RISK = /^[-?:,[\]{}#&*!|>'"%@`]|: | #|:\r?$/

/** Line kinds in `blanks`: content, spaces only, a comment. */
const CONTENT = 0
const SPACES = 1
const COMMENT = 2

export function isObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Returns the parsed value's own entry for key; gives up when there is none (inherited ones are functions, or __proto__). */
function ownChild(v: { [key: string]: JsonValue }, key: string): JsonValue {
  const child = v[key]
  if (child === undefined || ((typeof child === 'function' || key === '__proto__') && !Object.hasOwn(v, key)))
    throw GIVE_UP
  return child
}

/** True for a character a plain scalar or key may start with (any non-ASCII one, or KEY_START). */
function isKeyStart(c: number): boolean {
  return c >= 128 || KEY_START[c] === 1
}

/** The lines of a text: where each starts and ends (before `\r\n`), its indentation and its kind. */
interface Lines {
  readonly starts: number[]
  readonly ends: number[]
  readonly indents: number[]
  /** SPACES when the line holds only spaces, COMMENT when a comment, CONTENT otherwise. */
  readonly blanks: number[]
}

/** Splits the text into lines; undefined when one is longer than MAX_LINE. */
function splitLines(text: string): Lines | undefined {
  const lines: Lines = { starts: [], ends: [], indents: [], blanks: [] }
  for (let start = 0; ; ) {
    const nl = text.indexOf('\n', start)
    const stop = nl < 0 ? text.length : nl
    const end = stop > start && text.charCodeAt(stop - 1) === 13 ? stop - 1 : stop
    if (end - start > MAX_LINE) return undefined
    let i = start
    while (i < end && text.charCodeAt(i) === 32) i++
    lines.starts.push(start)
    lines.ends.push(end)
    lines.indents.push(i - start)
    lines.blanks.push(i === end ? SPACES : text.charCodeAt(i) === 35 ? COMMENT : CONTENT)
    if (nl < 0) break
    start = nl + 1
  }
  return lines
}

/**
 * Scans a block-style document, checking it has the shape of the parsed value. With build, returns the
 * offsets of keys and items as the yaml library gives them; without, only whether the scan succeeded
 * (an empty PosNode). Undefined when unsure.
 */
export function scanPositions(text: string, value: JsonValue, build = true): PosNode | undefined {
  const lines = splitLines(text)
  if (!lines) return undefined
  try {
    return new LineScanner(text, lines, build).scanDocument(value)
  } catch (e) {
    if (e === GIVE_UP || e instanceof RangeError) return undefined // RangeError: nested deeper than the stack
    throw e
  }
}

class LineScanner {
  private readonly count: number
  /** The line the scan has reached (the read methods leave it after what they read). */
  private cur = 0
  /** The last key read by readKey: its text, and the offset after its colon. */
  private keyText = ''
  private keyAfter = 0
  /** The node the last flow collection read gave (positions of its items or keys). */
  private flowNode: PosNode | undefined

  constructor(
    private readonly text: string,
    private readonly lines: Lines,
    private readonly build: boolean,
  ) {
    this.count = lines.starts.length
  }

  /** The whole document: one node from the first content line, and nothing after it. */
  scanDocument(value: JsonValue): PosNode | undefined {
    const first = this.nextContent(0)
    if (first >= this.count) return undefined
    const root = this.readNode(first, this.indent(first), -1, value)
    if (this.nextContent(this.cur) < this.count) return undefined
    return root ?? { offset: undefined }
  }

  // Lines

  private indent(li: number): number {
    return this.lines.indents[li] as number
  }

  private endOf(li: number): number {
    return this.lines.ends[li] as number
  }

  private at(li: number, col: number): number {
    return (this.lines.starts[li] as number) + col
  }

  /** The first line from `from` on that is neither blank nor a comment (count when none). */
  private nextContent(from: number): number {
    let li = from
    while (li < this.count && this.lines.blanks[li] !== CONTENT) li++
    return li
  }

  /** True when a `- ` (or a lone `-`) starts at this column of the line. */
  private isDash(li: number, col: number): boolean {
    const p = this.at(li, col)
    return this.text.charCodeAt(p) === 45 && (p + 1 >= this.endOf(li) || this.text.charCodeAt(p + 1) === 32)
  }

  private skipSpaces(i: number, end: number): number {
    let j = i
    while (j < end && this.text.charCodeAt(j) === 32) j++
    return j
  }

  /** Where a sticky pattern matching at p ends (patterns stop at the end of the line), or -1. */
  private matchAt(re: RegExp, p: number): number {
    re.lastIndex = p
    return re.test(this.text) ? re.lastIndex : -1
  }

  // Block collections

  private readNode(li: number, col: number, n: number, v: JsonValue | undefined): PosNode | undefined {
    if (this.isDash(li, col)) return this.readSeq(li, col, v)
    const p = this.at(li, col)
    if (this.readKey(p, this.endOf(li))) return this.readMap(li, col, v, true)
    return this.readLeaf(li, p, n, v)
  }

  private readSeq(first: number, col: number, v: JsonValue | undefined): PosNode | undefined {
    if (!Array.isArray(v)) throw GIVE_UP
    const items: PosNode[] | undefined = this.build ? [] : undefined
    let li = first
    let n = 0
    for (; ; n++) {
      const item = this.readSeqItem(li, col, v[n])
      if (items && item) items.push(item)
      li = this.nextContent(this.cur)
      if (li >= this.count || this.indent(li) < col) break
      if (this.indent(li) > col) throw GIVE_UP
      if (!this.isDash(li, col)) break
    }
    if (n + 1 !== v.length) throw GIVE_UP
    this.cur = li
    return items ? { offset: this.at(first, col), items } : undefined
  }

  /** One `- item` of a sequence at col: the item on the dash's line, or on the next content line. */
  private readSeqItem(li: number, col: number, v: JsonValue | undefined): PosNode | undefined {
    const end = this.endOf(li)
    const q = this.skipSpaces(this.at(li, col) + 1, end)
    if (q >= end || this.text.charCodeAt(q) === 35) {
      const nl = this.nextContent(li + 1)
      if (nl >= this.count || this.indent(nl) <= col) throw GIVE_UP // an empty item
      return this.readNode(nl, this.indent(nl), col, v)
    }
    return this.readNode(li, q - (this.lines.starts[li] as number), col, v)
  }

  /** A block mapping at col; known: its first key was just read (readKey's result stands). */
  private readMap(first: number, col: number, v: JsonValue | undefined, known = false): PosNode | undefined {
    if (!isObject(v)) throw GIVE_UP
    const keys = this.build ? new Map<string, { at: number; node: PosNode }>() : undefined
    const seen = new KeySet()
    let li = first
    for (;;) {
      const p = this.at(li, col)
      if (!(li === first && known) && !this.readKey(p, this.endOf(li))) throw GIVE_UP
      const key = this.keyText
      const child = ownChild(v, key)
      if (!seen.add(key)) throw GIVE_UP
      const node = this.readMapValue(li, col, child)
      if (keys && node) keys.set(key, { at: p, node })
      li = this.nextContent(this.cur)
      if (li >= this.count || this.indent(li) < col) break
      if (this.indent(li) > col || this.isDash(li, col)) throw GIVE_UP
    }
    if (seen.size !== Object.keys(v).length) throw GIVE_UP
    this.cur = li
    return keys ? { offset: this.at(first, col), keys } : undefined
  }

  /**
   * The value of the key just read on line li of a mapping at col: on the same line, or below it (more
   * indented, or a sequence at the key's own column), or nothing at all (null).
   */
  private readMapValue(li: number, col: number, child: JsonValue): PosNode | undefined {
    const text = this.text
    const end = this.endOf(li)
    const q = this.skipSpaces(this.keyAfter, end)
    if (q < end && text.charCodeAt(q) !== 35) {
      if (text.charCodeAt(q) === 45 && (q + 1 >= end || text.charCodeAt(q + 1) === 32)) throw GIVE_UP
      return this.readLeaf(li, q, col, child)
    }
    const nl = this.nextContent(li + 1)
    if (nl < this.count && this.indent(nl) > col) return this.readNode(nl, this.indent(nl), col, child)
    if (nl < this.count && this.indent(nl) === col && this.isDash(nl, col))
      return this.readSeq(nl, col, child)
    if (child !== null) throw GIVE_UP
    this.cur = li + 1
    return this.build ? { offset: undefined } : undefined
  }

  /** Reads a key at p (a plain word, or quoted without escapes) followed by `: ` or `:` at the end of the line. */
  private readKey(p: number, end: number): boolean {
    const text = this.text
    const c = text.charCodeAt(p)
    const quoted = c === 34 || c === 39
    const close = quoted ? this.quotedKeyEnd(p, end) : this.plainKeyEnd(p, end)
    if (close < 0) return false
    const i = this.skipSpaces(close, end)
    if (i >= end || text.charCodeAt(i) !== 58 || (i + 1 < end && text.charCodeAt(i + 1) !== 32)) return false
    this.keyAfter = i + 1
    if (quoted) {
      this.keyText = text.slice(p + 1, close - 1)
      if ((c === 34 && this.keyText.includes('\\')) || (c === 39 && text.charCodeAt(close) === 39))
        throw GIVE_UP
    } else {
      const resolved = resolvePlainKey(text.slice(p, close))
      if (resolved === undefined) throw GIVE_UP // a null key: kubectl refuses the document
      this.keyText = resolved
    }
    return true
  }

  /** The offset after the closing quote of a quoted key at p on this line, or -1. */
  private quotedKeyEnd(p: number, end: number): number {
    const close = this.text.indexOf(this.text.charCodeAt(p) === 34 ? '"' : "'", p + 1)
    return close < 0 || close >= end ? -1 : close + 1
  }

  /** The end of a plain key at p (before the spaces ahead of its `: ` or final `:`), or -1. */
  private plainKeyEnd(p: number, end: number): number {
    const text = this.text
    // A plain key: no indicator first; it ends at `: ` or a final `:` (a ` #` would start a comment).
    const c = text.charCodeAt(p)
    if (c < 128 && KEY_START[c] !== 1) return -1
    let colon = p + 1
    for (;;) {
      colon = text.indexOf(':', colon)
      if (colon < 0 || colon >= end) return -1
      if (colon + 1 === end || text.charCodeAt(colon + 1) === 32) break
      colon++
    }
    for (let h = p + 1; h < colon; h++)
      if (text.charCodeAt(h) === 35 && text.charCodeAt(h - 1) === 32) return -1
    let close = colon
    while (text.charCodeAt(close - 1) === 32) close--
    return close
  }

  // Scalars (and flow collections) in a block collection

  /** A scalar or empty collection at p (line li) inside a collection indented n, standing for v. */
  private readLeaf(li: number, p: number, n: number, v: JsonValue | undefined): PosNode | undefined {
    const c = this.text[p]
    let node: PosNode | undefined
    let next: number
    if (c === '[' || c === '{') {
      node = this.readFlowLeaf(li, p, v)
      next = li + 1
    } else if (typeof v === 'object' && v !== null) {
      throw GIVE_UP // a scalar in the text, a collection in the value
    } else if (c === '|' || c === '>') {
      this.cur = this.blockScalarEnd(li, p, n)
      return this.build ? { offset: p } : undefined
    } else if (c === '"' || c === "'") {
      next = this.quotedScalarEnd(li, p, n)
    } else if (c === undefined || '&*!%@`?#,]}:'.includes(c)) {
      throw GIVE_UP
    } else {
      next = this.plainScalarEnd(li, p, n)
    }
    const after = this.nextContent(next)
    if (after < this.count && this.indent(after) > n) throw GIVE_UP
    this.cur = next
    return node ?? (this.build ? { offset: p } : undefined)
  }

  /** A one-line flow collection as a value, with nothing but a comment after it on its line. */
  private readFlowLeaf(li: number, p: number, v: JsonValue | undefined): PosNode | undefined {
    const text = this.text
    const end = this.endOf(li)
    let i = text[p] === '[' ? this.readFlowSeq(p, end, v) : this.readFlowMap(p, end, v)
    const node = this.flowNode
    while (i < end && text.charCodeAt(i) === 32) i++
    if (i < end && !(text.charCodeAt(i) === 35 && text.charCodeAt(i - 1) === 32)) throw GIVE_UP
    return node
  }

  /** A block scalar (`|`, `>`) at p: returns the line after its last line. */
  private blockScalarEnd(li: number, p: number, n: number): number {
    const { blanks, starts } = this.lines
    if (this.matchAt(BLOCK_HEADER, p) < 0) throw GIVE_UP
    // Lines of spaces only are where block scalar readers disagree (too many spaces, chomping).
    if (/[1-9]/.test(this.text.slice(p + 1, Math.min(p + 3, this.endOf(li))))) throw GIVE_UP // an indentation indicator
    let next = li + 1
    while (next < this.count && (blanks[next] === SPACES || this.indent(next) > n)) {
      if (blanks[next] === SPACES && this.endOf(next) > (starts[next] as number)) throw GIVE_UP
      next++
    }
    return next
  }

  /** A quoted scalar at p, its closing quote possibly some lines below: returns the line after it. */
  private quotedScalarEnd(li: number, p: number, n: number): number {
    const text = this.text
    const c = text[p] as string
    const end0 = this.endOf(li)
    // The closing quote, possibly some lines below: those lines must be indented inside the collection.
    let next = li + 1
    let i = p + 1
    let end = end0
    for (;;) {
      const q = text.indexOf(c, i)
      if (q < 0) throw GIVE_UP
      while (q > end) {
        if (next >= this.count || !(this.lines.blanks[next] === SPACES || this.indent(next) > n))
          throw GIVE_UP
        end = this.endOf(next)
        next++
      }
      if (c === '"' && isEscaped(text, q, p)) i = q + 1
      else if (c === "'" && text.charCodeAt(q + 1) === 39) i = q + 2
      else {
        i = q + 1
        break
      }
    }
    const close = i
    // An escaped line break: go-yaml keeps the empty lines after it, js-yaml does not.
    if (c === '"' && end !== end0 && /\\\r?\n/.test(text.slice(p, close))) throw GIVE_UP
    while (i < end && text.charCodeAt(i) === 32) i++
    if (i < end && !(text.charCodeAt(i) === 35 && i > close)) throw GIVE_UP // a comment needs a space
    return next
  }

  /** A plain scalar at p, possibly going on over more indented lines: returns the line after it. */
  private plainScalarEnd(li: number, p: number, n: number): number {
    const text = this.text
    const end0 = this.endOf(li)
    let next = li + 1
    // Up to a comment; a `: ` inside would be a nested mapping the yaml library refuses.
    let comment = p
    for (; comment < end0; comment++) {
      const ch = text.charCodeAt(comment)
      if (ch === 35 && text.charCodeAt(comment - 1) === 32) break
      if (ch === 58 && (comment + 1 === end0 || text.charCodeAt(comment + 1) === 32)) throw GIVE_UP
    }
    if (comment < end0) return next
    // A plain scalar may go on over more indented lines that hold no indicator.
    const blanks = this.lines.blanks
    for (let j = next; j < this.count; j++) {
      if (blanks[j] === SPACES) continue
      if (blanks[j] === COMMENT || this.indent(j) <= n) break
      if (CONTINUATION_RISK.test(text.slice(this.at(j, this.indent(j)), this.endOf(j)))) throw GIVE_UP
      next = j + 1
    }
    return next
  }

  // One-line flow collections

  /** A flow scalar or collection at p on one line, standing for v; returns the offset after it. */
  private readFlowNode(p: number, end: number, v: JsonValue | undefined): number {
    const text = this.text
    const c = text.charCodeAt(p)
    if (c === 91) return this.readFlowSeq(p, end, v)
    if (c === 123) return this.readFlowMap(p, end, v)
    if (typeof v === 'object' && v !== null) throw GIVE_UP
    this.flowNode = this.build ? { offset: p } : undefined
    if (c === 34 || c === 39) {
      const q = text.indexOf(c === 34 ? '"' : "'", p + 1)
      if (q < 0 || q >= end || text.charCodeAt(q + 1) === c) throw GIVE_UP
      if (c === 34 && text.slice(p + 1, q).includes('\\')) throw GIVE_UP
      return q + 1
    }
    if (!isKeyStart(c)) throw GIVE_UP
    let i = p + 1
    for (; i < end; i++) {
      const ch = text.charCodeAt(i)
      if (ch === 44 || ch === 93 || ch === 125) break // , ] }
      // [ { start a collection; ? ends a plain scalar in go-yaml's flow context (then an error).
      if (ch === 91 || ch === 123 || ch === 63) throw GIVE_UP
      if (ch === 35 && text.charCodeAt(i - 1) === 32) throw GIVE_UP
      if (ch === 58) {
        const after = text.charCodeAt(i + 1)
        if (i + 1 >= end || after === 32 || after === 44 || after === 93 || after === 125) throw GIVE_UP
      }
    }
    return i
  }

  /** After a flow item at i: true at the closing bracket; past a `,` (and not a trailing one) otherwise. */
  private flowSeparator(
    i: number,
    end: number,
    close: number,
  ): { readonly done: boolean; readonly next: number } {
    const ch = this.text.charCodeAt(i)
    if (ch === close) return { done: true, next: i }
    if (ch !== 44) throw GIVE_UP
    const next = this.skipSpaces(i + 1, end)
    if (next >= end || this.text.charCodeAt(next) === close) throw GIVE_UP // a trailing comma
    return { done: false, next }
  }

  /** `[a, b]` on one line: items are scalars or flow collections, no empty ones, no pairs. */
  private readFlowSeq(p: number, end: number, v: JsonValue | undefined): number {
    if (!Array.isArray(v)) throw GIVE_UP
    const items: PosNode[] | undefined = this.build ? [] : undefined
    let i = this.skipSpaces(p + 1, end)
    let n = 0
    if (this.text.charCodeAt(i) !== 93) {
      for (; ; n++) {
        if (n >= v.length) throw GIVE_UP
        i = this.skipSpaces(this.readFlowNode(i, end, v[n]), end)
        if (items && this.flowNode) items.push(this.flowNode)
        const sep = this.flowSeparator(i, end, 93)
        i = sep.next
        if (sep.done) break
      }
      n++
    }
    if (i >= end || n !== v.length) throw GIVE_UP
    this.flowNode = items ? { offset: p, items } : undefined
    return i + 1
  }

  /** `{a: 1, b: [c]}` on one line: keys are plain or quoted scalars followed by `: `. */
  private readFlowMap(p: number, end: number, v: JsonValue | undefined): number {
    if (!isObject(v)) throw GIVE_UP
    const text = this.text
    const keys = this.build ? new Map<string, { at: number; node: PosNode }>() : undefined
    const seen = new KeySet()
    let i = this.skipSpaces(p + 1, end)
    if (text.charCodeAt(i) !== 125) {
      for (;;) {
        const at = i
        i = this.readFlowKey(i, end)
        const key = this.keyText
        if (text.charCodeAt(i) !== 58 || text.charCodeAt(i + 1) !== 32) throw GIVE_UP
        const child = ownChild(v, key)
        if (!seen.add(key)) throw GIVE_UP
        i = this.skipSpaces(i + 2, end)
        if (i >= end || text.charCodeAt(i) === 44 || text.charCodeAt(i) === 125) throw GIVE_UP // no value
        i = this.skipSpaces(this.readFlowNode(i, end, child), end)
        if (keys && this.flowNode) keys.set(key, { at, node: this.flowNode })
        const sep = this.flowSeparator(i, end, 125)
        i = sep.next
        if (sep.done) break
      }
    }
    if (i >= end || seen.size !== Object.keys(v).length) throw GIVE_UP
    this.flowNode = keys ? { offset: p, keys } : undefined
    return i + 1
  }

  /** A key of a flow mapping at i (into keyText): returns the offset of what follows it. */
  private readFlowKey(i: number, end: number): number {
    const text = this.text
    const c = text.charCodeAt(i)
    if (c === 34 || c === 39) {
      const q = text.indexOf(c === 34 ? '"' : "'", i + 1)
      if (q < 0 || q >= end || text.charCodeAt(q + 1) === c) throw GIVE_UP
      this.keyText = text.slice(i + 1, q)
      if (c === 34 && this.keyText.includes('\\')) throw GIVE_UP
      return this.skipSpaces(q + 1, end)
    }
    if (!isKeyStart(c)) throw GIVE_UP
    let k = i + 1
    while (k < end && !(text.charCodeAt(k) === 58 && text.charCodeAt(k + 1) === 32)) {
      const ch = text.charCodeAt(k)
      // , [ ] { } # and ? (go-yaml ends a flow plain scalar at ?, then refuses the document)
      if (ch === 44 || ch === 91 || ch === 93 || ch === 123 || ch === 125 || ch === 35 || ch === 63)
        throw GIVE_UP
      k++
    }
    let close = k
    while (text.charCodeAt(close - 1) === 32) close--
    const resolved = resolvePlainKey(text.slice(i, close))
    if (resolved === undefined) throw GIVE_UP
    this.keyText = resolved
    return k
  }
}

/** The keys of one mapping: a list while small (cheaper than a Set), a Set once large. */
class KeySet {
  private list: string[] | undefined = []
  private set: Set<string> | undefined
  size = 0
  /** Adds a key; false when it was there already. */
  add(key: string): boolean {
    if (this.list) {
      if (this.list.includes(key)) return false
      this.list.push(key)
      if (this.list.length > 16) {
        this.set = new Set(this.list)
        this.list = undefined
      }
    } else if (this.set) {
      if (this.set.has(key)) return false
      this.set.add(key)
    }
    this.size++
    return true
  }
}

/** A double quote preceded by an odd number of backslashes (after the opening quote at open). */
function isEscaped(text: string, q: number, open: number): boolean {
  let n = 0
  for (let i = q - 1; i > open && text.charCodeAt(i) === 92; i--) n++
  return n % 2 === 1
}
