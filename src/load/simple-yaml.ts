/**
 * The first and cheapest YAML reader: one pass over the lines of the plainest block YAML, the kind
 * `kubectl get -o yaml`, yaml.stringify and most hand-written manifests produce, building the data
 * directly (no library loaded). It takes only documents whose reading is unambiguous:
 * - a block mapping at column 0; block mappings and sequences (also a sequence at its key's column);
 * - keys of letters, digits and `._/:-`, starting with a letter, digit or `_`, each key once;
 * - values on one line: plain scalars of printable ASCII (no ` #`, no `: `), quoted scalars without
 *   escapes, `{}` and `[]`, or nothing (null);
 * - plain scalars resolved as kubectl's go-yaml v2 resolves them (strings, null, booleans, numbers).
 * Anything else (a comment, any character outside printable ASCII, a lone CR, a multi-line scalar,
 * a block scalar, a flow collection with content, an anchor, tag, alias, a duplicate key, an odd
 * indentation, a line over 1000 characters...) returns undefined and the next reader takes the text.
 * Positions are found by running the same reader again, when something first asks for one.
 * test/load/fast-path.test.ts compares it with the exact path on real, generated and damaged documents.
 */
import type { JsonObject, JsonValue } from '../model/index.js'
import { GoFloat, resolveGoScalar, resolvePlainKey } from './go-yaml-resolve.js'
import { type DocData, type PosNode, posTree, type Tree } from './tree.js'

/** Characters this reader does not take: anything outside printable ASCII but LF, and a CR not before LF. */
const OUTSIDE = /[^\n\r\x20-\x7e]|\r(?!\n)/

/** Lines longer than this are left to the other readers (the yaml library limits implicit keys). */
const MAX_LINE = 1000

/**
 * A plain key: letters, digits and `._/:-`, starting with a letter, digit or `_`, up to the colon that
 * ends it (followed by a space or the end of the line); a colon inside the key is followed by another
 * key character.
 */
const KEY = /[A-Za-z0-9_](?:[A-Za-z0-9._/-]|:(?=[A-Za-z0-9._/:-]))*:(?= |$)/my
/**
 * The text of a plain scalar on one line, from its (checked) first character: it stops before trailing
 * spaces, before ` #` (a comment), and before a colon followed by a space or the end of the line.
 */
const PLAIN = /(?:[^ \r\n:#]|:(?=[^ \r\n])|#| +(?=[^ \r\n#]))*/y

/** The first characters of plain scalars that are not plainly strings (indicators and typed scalars). */
const NOT_PLAIN_START = new Uint8Array(128)
for (const ch of '-?:,[]{}#&*!|>\'"%@`') NOT_PLAIN_START[ch.charCodeAt(0)] = 1

/** The words of the YAML 1.1 null and boolean tags (`~`, null, yes, off, y, N...). */
const WORDS: ReadonlyMap<string, null | boolean> = new Map<string, null | boolean>([
  ...['~', 'null', 'Null', 'NULL'].map((w) => [w, null] as const),
  ...['Y', 'y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map((w) => [w, true] as const),
  ...['N', 'n', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map(
    (w) => [w, false] as const,
  ),
])
/**
 * By first character: 1 where a scalar may be one of the words above, 2 where go-yaml may read a
 * number (a digit, a sign, a dot), 0 where it is a string whatever follows.
 */
const TYPED_FIRST = new Uint8Array(128)
for (const w of WORDS.keys()) TYPED_FIRST[w.charCodeAt(0)] = 1
for (const ch of '0123456789+-.') TYPED_FIRST[ch.charCodeAt(0)] = 2

/** Returned by resolveCommonPlain when this reader leaves the scalar to another (.nan, .inf). */
export const UNSURE: unique symbol = Symbol('unsure')

/**
 * Resolves a non-empty plain scalar of printable ASCII as kubectl would (go-yaml v2, go-yaml-resolve.ts):
 * a string, null, a boolean or a number; small decimal integers without the general path. UNSURE for
 * the values kubectl cannot turn into JSON (NaN, infinities), which the exact path reports.
 */
export function resolveCommonPlain(s: string): JsonValue | typeof UNSURE {
  const c = s.charCodeAt(0)
  const typed = c < 128 ? TYPED_FIRST[c] : 0 // NaN (an empty scalar) is not < 128
  if (typed === 0) return s.length === 0 ? UNSURE : s
  if (typed === 1) {
    if (s.length > 5) return s
    const word = WORDS.get(s)
    return word === undefined ? s : word
  }
  // A small decimal integer: 0, or up to 15 digits without a leading zero (exact as a double).
  if (s.length <= 15 && (c !== 48 || s.length === 1)) {
    let digits = true
    for (let i = 0; i < s.length && digits; i++) {
      const d = s.charCodeAt(i)
      digits = d >= 48 && d <= 57
    }
    if (digits) return Number(s)
  }
  // No number has two dots (an IP address, a version).
  const dot = s.indexOf('.')
  if (dot >= 0 && s.indexOf('.', dot + 1) >= 0) return s
  const v = resolveGoScalar(s)
  if (v instanceof GoFloat) return Number.isFinite(v.value) ? v.value : UNSURE
  return v
}

/**
 * A copy of a string that shares nothing with the text it was sliced from. V8 keeps a slice of 13
 * characters or more as a view of its parent, so a name kept in the cluster would keep the text of a List
 * item it came from alive (list-items.ts builds each item's text); shorter slices are copies already.
 */
export function detachString(s: string): string {
  return s.length < 13 ? s : ` ${s}`.slice(1)
}

/** The same for every string of a value (what another reader built from an item's text). */
export function detachStrings(v: JsonValue): JsonValue {
  if (typeof v === 'string') return detachString(v)
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = detachStrings(v[i] as JsonValue)
    return v
  }
  if (typeof v === 'object' && v !== null) {
    for (const k of Object.keys(v)) v[k] = detachStrings(v[k] as JsonValue)
    return v
  }
  return v
}

/** Thrown when the text is not of the plain kind this reader takes. */
const GIVE_UP: unique symbol = Symbol('give up')

/**
 * Reads one document chunk; undefined when another reader must take it. `retext` gives the text again
 * when positions are first asked for (a List item's text is built, not a slice: its tree need not keep it).
 */
export function parseSimpleDocument(text: string, retext?: () => string): DocData | undefined {
  if (OUTSIDE.test(text)) return undefined
  const value = new SimpleReader(text, false, retext !== undefined).readDocument()
  if (!value) return undefined
  return { ok: true, value, tree: new LazyTree(retext ?? text, firstContent(text)), duplicates: [] }
}

/** Positions of a document the simple reader took: found by reading it again, on first use. */
class LazyTree implements Tree {
  private tree: Tree | undefined

  constructor(
    private readonly text: string | (() => string),
    readonly offset: number,
  ) {}

  child(seg: string | number): ReturnType<Tree['child']> {
    if (!this.tree) {
      const reader = new SimpleReader(typeof this.text === 'string' ? this.text : this.text(), true)
      // The same reader on the same text: it cannot give up the second time.
      if (!reader.readDocument() || !reader.pos)
        throw new Error('simple YAML reader: the second pass disagrees')
      this.tree = posTree(reader.pos)
    }
    return this.tree.child(seg)
  }
}

/** Offset of the first line that is not blank (the reader takes no comments). */
function firstContent(text: string): number {
  let i = 0
  let line = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 10) line = i + 1
    else if (c !== 32 && c !== 13) return line
    i++
  }
  return line
}

/**
 * One pass over a document's lines. The cursor is always on a content line (not blank): each read
 * leaves it on the first line after what it read; ind is -1 at the end of the text.
 */
class SimpleReader {
  /** Positions of the last node read (with build only). */
  pos: PosNode | undefined
  /** The current line: its start, its end (before any CR), its indentation; and where the next starts. */
  private start = 0
  private end = 0
  private ind = -1
  private next = 0
  /** The last key read by readKey: its name and the offset after its colon. */
  private key = ''
  private keyAfter = 0

  constructor(
    private readonly text: string,
    private readonly build: boolean,
    /** Whether values are copied out of the text (a built text: see detachString). */
    private readonly detach = false,
  ) {}

  /** The whole document: a block mapping at column 0 and nothing after it. */
  readDocument(): JsonObject | undefined {
    try {
      this.advance()
      if (this.ind !== 0 || !this.readKey(this.start)) return undefined
      const value = this.readMap(0)
      return this.ind < 0 ? value : undefined
    } catch (e) {
      if (e === GIVE_UP || e instanceof RangeError) return undefined // RangeError: nested deeper than the stack
      throw e
    }
  }

  /** Moves to the next content line; gives up on a comment line or a very long line. */
  private advance(): void {
    const text = this.text
    for (;;) {
      const start = this.next
      if (start > text.length || (start === text.length && start > 0)) {
        this.ind = -1
        return
      }
      const nl = text.indexOf('\n', start)
      const stop = nl < 0 ? text.length : nl
      this.next = stop + 1
      const end = stop > start && text.charCodeAt(stop - 1) === 13 ? stop - 1 : stop
      if (end - start > MAX_LINE) throw GIVE_UP
      let i = start
      while (i < end && text.charCodeAt(i) === 32) i++
      if (i === end) continue
      if (text.charCodeAt(i) === 35) throw GIVE_UP // a comment line
      this.start = start
      this.end = end
      this.ind = i - start
      return
    }
  }

  /** Whether the current line holds a `-` item indicator at col. */
  private isDash(col: number): boolean {
    const p = this.start + col
    return this.text.charCodeAt(p) === 45 && (p + 1 >= this.end || this.text.charCodeAt(p + 1) === 32)
  }

  /** A plain key at p followed by `: ` or `:` at the end of the line; false when there is none. */
  private readKey(p: number): boolean {
    KEY.lastIndex = p
    if (!KEY.test(this.text)) return false
    const i = KEY.lastIndex - 1 // the colon
    const key = resolvePlainKey(this.text.slice(p, i))
    if (key === undefined || key === '__proto__') throw GIVE_UP // a null key: kubectl refuses it
    this.key = key
    this.keyAfter = i + 1
    return true
  }

  /** A node starting on the current line at col: a sequence or a mapping. */
  private readNode(col: number): JsonValue {
    if (this.isDash(col)) return this.readSeq(col)
    if (!this.readKey(this.start + col)) throw GIVE_UP
    return this.readMap(col)
  }

  /** A value on the current line from p: a scalar, `{}` or `[]`. Does not advance. */
  private readLeaf(p: number): JsonValue {
    const text = this.text
    const end = this.end
    const c = text.charCodeAt(p)
    let value: JsonValue
    let after = end
    if (this.build) this.pos = { offset: p }
    if (c === 34 || c === 39) {
      const close = text.indexOf(c === 34 ? '"' : "'", p + 1)
      if (close < 0 || close >= end) throw GIVE_UP // a multi-line scalar
      value = text.slice(p + 1, close)
      if (this.detach) value = detachString(value)
      if (c === 34 && value.includes('\\')) throw GIVE_UP
      if (c === 39 && text.charCodeAt(close + 1) === 39) throw GIVE_UP
      after = close + 1
    } else if (c === 123 || c === 91) {
      if (text.charCodeAt(p + 1) !== c + 2) throw GIVE_UP // only {} and []
      if (c === 123) {
        value = {}
        if (this.build) this.pos = { offset: p, keys: new Map() }
      } else {
        value = []
        if (this.build) this.pos = { offset: p, items: [] }
      }
      after = p + 2
    } else {
      if (NOT_PLAIN_START[c] === 1) throw GIVE_UP
      PLAIN.lastIndex = p
      PLAIN.test(text)
      const stop = PLAIN.lastIndex
      const plain = text.slice(p, stop)
      const resolved = resolveCommonPlain(this.detach ? detachString(plain) : plain)
      if (resolved === UNSURE) throw GIVE_UP
      value = resolved
      after = stop
    }
    // Only spaces may follow (not a comment, nor a nested mapping's `: ` after a plain scalar).
    for (let i = after; i < end; i++) if (text.charCodeAt(i) !== 32) throw GIVE_UP
    return value
  }

  /** A block sequence whose first `-` is on the current line at col. */
  private readSeq(col: number): JsonValue[] {
    const text = this.text
    const value: JsonValue[] = []
    const items: PosNode[] | undefined = this.build ? [] : undefined
    const offset = this.start + col
    for (;;) {
      let q = this.start + col + 1
      while (q < this.end && text.charCodeAt(q) === 32) q++
      if (q >= this.end || this.isDash(q - this.start)) throw GIVE_UP // an empty item, or a sequence in one
      if (this.readKey(q)) value.push(this.readMap(q - this.start))
      else {
        value.push(this.readLeaf(q))
        this.advance()
      }
      if (items) items.push(this.pos as PosNode)
      if (this.ind < col) break
      if (this.ind > col) throw GIVE_UP
      if (!this.isDash(col)) break
    }
    if (items) this.pos = { offset, items }
    return value
  }

  /** A block mapping at col whose first key, on the current line, readKey has just read. */
  private readMap(col: number): JsonObject {
    const value: JsonObject = {}
    const keys = this.build ? new Map<string, { at: number; node: PosNode }>() : undefined
    const offset = this.start + col
    for (;;) {
      const keyAt = this.start + col
      const key = this.key
      if (Object.hasOwn(value, key)) throw GIVE_UP // a duplicate key: the exact path reports it
      let q = this.keyAfter
      while (q < this.end && this.text.charCodeAt(q) === 32) q++
      let child: JsonValue
      if (q < this.end) {
        child = this.readLeaf(q)
        this.advance()
      } else {
        this.advance()
        if (this.ind > col) child = this.readNode(this.ind)
        else if (this.ind === col && this.isDash(col)) child = this.readSeq(col)
        else {
          child = null
          if (keys) this.pos = { offset: undefined }
        }
      }
      value[key] = child
      if (keys) keys.set(key, { at: keyAt, node: this.pos as PosNode })
      if (this.ind < col) break
      if (this.ind > col || this.isDash(col) || !this.readKey(this.start + col)) throw GIVE_UP
    }
    if (keys) this.pos = { offset, keys }
    return value
  }
}
