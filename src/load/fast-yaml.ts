/**
 * Fast path for plain YAML documents (some 10 times faster than the yaml library), tried when the
 * simplest reader (simple-yaml.ts) declines a document. Two independent readings must agree before a
 * document is taken:
 * - js-yaml builds the data, every plain scalar resolved as go-yaml v2 resolves it (resolvePlainScalar,
 *   go-yaml-resolve.ts), so yes/on are booleans, 0777 is octal, timestamps stay strings;
 * - a line scanner checks the text is the plain kind of YAML it knows (block mappings and sequences,
 *   single-line or well indented scalars, block scalars, one-line flow collections of scalars) with
 *   exactly the keys, items and scalars js-yaml found; later it gives the positions, as the yaml
 *   library would, when something asks for one (validation diagnostics, policy rules), so clean pods
 *   never pay for them.
 * Anything else (anchors, aliases, tags, merge keys, directives, complex or null keys, duplicate keys,
 * tabs, odd characters, lines over 1000 characters, multi-line flow collections, a js-yaml error or
 * warning) is left to the exact path (yaml-tree.ts). test/load/fast-path.test.ts compares the two
 * paths on real, generated and randomly damaged documents: values, positions and diagnostics.
 */
import { createRequire } from 'node:module'
import type * as JsYaml from 'js-yaml'
import type { JsonValue } from '../model/index.js'
import { resolvePlainKey } from './go-yaml-resolve.js'
import { type DocData, leafTree, type PosNode, posTree, type Tree } from './tree.js'
import { resolvePlainScalar } from './yaml-tree.js'

/**
 * Text the fast path does not take: tabs, control and special line-break characters, a BOM; `<<`
 * (merge keys); an anchor, alias, tag or `?` after a space or flow character. The line scanner refuses
 * the rest of what it does not know (directives, markers, flow collections, null or complex keys).
 * Matches inside quoted or block scalars only cost a fallback.
 */
const RISKY = /[\t\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufeff\u2028\u2029]|<<|[\s[{,][&*!?]/
const LONE_CR = /\r(?!\n)/

/** Lines longer than this are left to the exact path (the yaml library limits implicit keys to 1024). */
const MAX_LINE = 1000

/** js-yaml and the schema above, loaded on first use (simple-yaml.ts reads most documents without it). */
const requireModule = createRequire(import.meta.url)
let jsYaml: { readonly load: typeof JsYaml.load; readonly schema: JsYaml.Schema } | undefined
function loadJsYaml(): { readonly load: typeof JsYaml.load; readonly schema: JsYaml.Schema } {
  if (!jsYaml) {
    const lib = requireModule('js-yaml') as typeof JsYaml
    const plainScalar = new lib.Type('tag:palisade,2025:plain', {
      kind: 'scalar',
      resolve: () => true,
      construct: (data: string): JsonValue => {
        if (data === '<<') throw new Error('merge key')
        return resolvePlainScalar(data)
      },
    })
    jsYaml = { load: lib.load, schema: lib.FAILSAFE_SCHEMA.extend({ implicit: [plainScalar] }) }
  }
  return jsYaml
}

/** Whether js-yaml has been loaded (tests check that the plainest manifests never need it). */
export function isJsYamlLoaded(): boolean {
  return jsYaml !== undefined
}

/** Parses a chunk holding one plain YAML mapping; undefined when the exact path must take it. */
export function parseFastDocument(text: string): DocData | undefined {
  if (RISKY.test(text) || (text.includes('\r') && LONE_CR.test(text))) return undefined
  let value: JsonValue
  try {
    // A js-yaml warning (deficient indentation...) may be an error for the yaml library: fall back.
    const { load, schema } = loadJsYaml()
    value = load(text, {
      schema,
      onWarning: (w) => {
        throw w
      },
    }) as JsonValue
  } catch {
    return undefined
  }
  if (!isObject(value)) return undefined
  // The scanner proves the document is plain block YAML of the value's shape; positions come on first use.
  if (!scanPositions(text, value, false)) return undefined
  const offset = firstContent(text)
  let tree: Tree | undefined
  const resolve = (): Tree | undefined => {
    if (!tree) {
      const positions = scanPositions(text, value)
      tree = positions ? posTree(positions) : leafTree(offset)
    }
    return tree
  }
  return { ok: true, value, tree: { offset, child: (seg) => resolve()?.child(seg) }, duplicates: [] }
}

/** Offset of the first character that is neither space nor part of a comment or blank line. */
function firstContent(text: string): number | undefined {
  let i = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 32 || c === 10 || c === 13) i++
    else if (c === 35) {
      const nl = text.indexOf('\n', i)
      if (nl < 0) return undefined
      i = nl + 1
    } else return i
  }
  return undefined
}

// Line scanner

/** Thrown when the scanner meets something it does not handle; the yaml library takes over. */
const GIVE_UP: unique symbol = Symbol('give up')

/** 1 for the ASCII characters a plain key may start with (not space, not an indicator). */
const KEY_START = new Uint8Array(128)
for (let c = 33; c < 127; c++) KEY_START[c] = '-?:,[]{}#&*!|>\'"%@`'.includes(String.fromCharCode(c)) ? 0 : 1
const BLOCK_HEADER = /[|>][1-9+-]{0,2}(?: +#.*| *)\r?$/my
/** A continuation line of a plain scalar that could mean something else. */
const CONTINUATION_RISK = /^[-?:,[\]{}#&*!|>'"%@`]|: | #|:\r?$/

function isObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Returns the parsed value's own entry for key; gives up when there is none (inherited ones are functions, or __proto__). */
function ownChild(v: { [key: string]: JsonValue }, key: string): JsonValue {
  const child = v[key]
  if (child === undefined || ((typeof child === 'function' || key === '__proto__') && !Object.hasOwn(v, key)))
    throw GIVE_UP
  return child
}

/**
 * Scans a block-style document line by line, checking it has the shape of the parsed value (the same
 * keys, items, and scalars where it has scalars) and that it holds nothing the scanner does not know.
 * With build, returns the offsets of keys and items as the yaml library gives them; without, only
 * whether the scan succeeded (an empty PosNode). Undefined when unsure.
 */
export function scanPositions(text: string, value: JsonValue, build = true): PosNode | undefined {
  const starts: number[] = []
  const ends: number[] = []
  const indents: number[] = []
  /** 1 when the line holds only spaces, 2 when a comment, 0 otherwise. */
  const blanks: number[] = []
  for (let start = 0; ; ) {
    const nl = text.indexOf('\n', start)
    const stop = nl < 0 ? text.length : nl
    const end = stop > start && text.charCodeAt(stop - 1) === 13 ? stop - 1 : stop
    if (end - start > MAX_LINE) return undefined
    let i = start
    while (i < end && text.charCodeAt(i) === 32) i++
    starts.push(start)
    ends.push(end)
    indents.push(i - start)
    blanks.push(i === end ? 1 : text.charCodeAt(i) === 35 ? 2 : 0)
    if (nl < 0) break
    start = nl + 1
  }
  const count = starts.length
  const indent = (li: number): number => indents[li] as number
  const endOf = (li: number): number => ends[li] as number
  const at = (li: number, col: number): number => (starts[li] as number) + col
  const nextContent = (from: number): number => {
    let li = from
    while (li < count && blanks[li] !== 0) li++
    return li
  }
  const isDash = (li: number, col: number): boolean => {
    const p = at(li, col)
    return text.charCodeAt(p) === 45 && (p + 1 >= endOf(li) || text.charCodeAt(p + 1) === 32)
  }
  /** Where a sticky pattern matching at p ends (patterns stop at the end of the line), or -1. */
  const matchAt = (re: RegExp, p: number): number => {
    re.lastIndex = p
    return re.test(text) ? re.lastIndex : -1
  }
  /** The line the scan has reached (the functions below leave it after what they read). */
  let cur = 0

  /** The last key read by readKey: its text, and the offset after its colon. */
  let keyText = ''
  let keyAfter = 0
  /** Reads a key at p (a plain word, or quoted without escapes) followed by `: ` or `:` at the end of the line. */
  const readKey = (p: number, end: number): boolean => {
    const c = text.charCodeAt(p)
    let close: number
    if (c === 34 || c === 39) {
      close = text.indexOf(c === 34 ? '"' : "'", p + 1)
      if (close < 0 || close >= end) return false
      close++
    } else {
      // A plain key: no indicator first; it ends at `: ` or a final `:` (a ` #` would start a comment).
      if (c < 128 && KEY_START[c] !== 1) return false
      let colon = p + 1
      for (;;) {
        colon = text.indexOf(':', colon)
        if (colon < 0 || colon >= end) return false
        if (colon + 1 === end || text.charCodeAt(colon + 1) === 32) break
        colon++
      }
      for (let h = p + 1; h < colon; h++)
        if (text.charCodeAt(h) === 35 && text.charCodeAt(h - 1) === 32) return false
      close = colon
      while (text.charCodeAt(close - 1) === 32) close--
    }
    let i = close
    while (i < end && text.charCodeAt(i) === 32) i++
    if (i >= end || text.charCodeAt(i) !== 58 || (i + 1 < end && text.charCodeAt(i + 1) !== 32)) return false
    keyAfter = i + 1
    if (c === 34 || c === 39) {
      keyText = text.slice(p + 1, close - 1)
      if ((c === 34 && keyText.includes('\\')) || (c === 39 && text.charCodeAt(close) === 39)) throw GIVE_UP
    } else {
      const resolved = resolvePlainKey(text.slice(p, close))
      if (resolved === undefined) throw GIVE_UP // a null key: kubectl refuses the document
      keyText = resolved
    }
    return true
  }

  /** A scalar or empty collection at p (line li) inside a collection indented n, standing for v. */
  const readLeaf = (li: number, p: number, n: number, v: JsonValue | undefined): PosNode | undefined => {
    const end0 = endOf(li)
    const c = text[p]
    let next = li + 1
    let node: PosNode | undefined
    if (c === '[' || c === '{') {
      let i = c === '[' ? readFlowSeq(p, end0, v) : readFlowMap(p, end0, v)
      node = flowNode
      while (i < end0 && text.charCodeAt(i) === 32) i++
      if (i < end0 && !(text.charCodeAt(i) === 35 && text.charCodeAt(i - 1) === 32)) throw GIVE_UP
    } else if (typeof v === 'object' && v !== null) {
      throw GIVE_UP // a scalar in the text, a collection in the value
    } else if (c === '|' || c === '>') {
      if (matchAt(BLOCK_HEADER, p) < 0) throw GIVE_UP
      // Lines of spaces only are where block scalar readers disagree (too many spaces, chomping).
      if (/[1-9]/.test(text.slice(p + 1, Math.min(p + 3, end0)))) throw GIVE_UP // an indentation indicator
      while (next < count && (blanks[next] === 1 || indent(next) > n)) {
        if (blanks[next] === 1 && endOf(next) > (starts[next] as number)) throw GIVE_UP
        next++
      }
      cur = next
      return build ? { offset: p } : undefined
    } else if (c === '"' || c === "'") {
      // The closing quote, possibly some lines below: those lines must be indented inside the collection.
      let i = p + 1
      let end = end0
      for (;;) {
        const q = text.indexOf(c, i)
        if (q < 0) throw GIVE_UP
        while (q > end) {
          if (next >= count || !(blanks[next] === 1 || indent(next) > n)) throw GIVE_UP
          end = endOf(next)
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
    } else if (c === undefined || '&*!%@`?#,]}:'.includes(c)) {
      throw GIVE_UP
    } else {
      // Up to a comment; a `: ` inside would be a nested mapping the yaml library refuses.
      let comment = p
      for (; comment < end0; comment++) {
        const ch = text.charCodeAt(comment)
        if (ch === 35 && text.charCodeAt(comment - 1) === 32) break
        if (ch === 58 && (comment + 1 === end0 || text.charCodeAt(comment + 1) === 32)) throw GIVE_UP
      }
      if (comment >= end0) {
        // A plain scalar may go on over more indented lines that hold no indicator.
        for (let j = next; j < count; j++) {
          if (blanks[j] === 1) continue
          if (blanks[j] === 2 || indent(j) <= n) break
          if (CONTINUATION_RISK.test(text.slice(at(j, indent(j)), endOf(j)))) throw GIVE_UP
          next = j + 1
        }
      }
    }
    const after = nextContent(next)
    if (after < count && indent(after) > n) throw GIVE_UP
    cur = next
    return node ?? (build ? { offset: p } : undefined)
  }

  /** The node the last flow collection read gave (positions of its items or keys). */
  let flowNode: PosNode | undefined
  /** A flow scalar or collection at p on one line, standing for v; returns the offset after it. */
  const readFlowNode = (p: number, end: number, v: JsonValue | undefined): number => {
    const c = text.charCodeAt(p)
    if (c === 91) return readFlowSeq(p, end, v)
    if (c === 123) return readFlowMap(p, end, v)
    if (typeof v === 'object' && v !== null) throw GIVE_UP
    flowNode = build ? { offset: p } : undefined
    if (c === 34 || c === 39) {
      const q = text.indexOf(c === 34 ? '"' : "'", p + 1)
      if (q < 0 || q >= end || text.charCodeAt(q + 1) === c) throw GIVE_UP
      if (c === 34 && text.slice(p + 1, q).includes('\\')) throw GIVE_UP
      return q + 1
    }
    if (c >= 128 ? false : KEY_START[c] !== 1) throw GIVE_UP
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
  const skipSpaces = (i: number, end: number): number => {
    let j = i
    while (j < end && text.charCodeAt(j) === 32) j++
    return j
  }
  /** `[a, b]` on one line: items are scalars or flow collections, no empty ones, no pairs. */
  const readFlowSeq = (p: number, end: number, v: JsonValue | undefined): number => {
    if (!Array.isArray(v)) throw GIVE_UP
    const items: PosNode[] | undefined = build ? [] : undefined
    let i = skipSpaces(p + 1, end)
    let n = 0
    if (text.charCodeAt(i) !== 93) {
      for (; ; n++) {
        if (n >= v.length) throw GIVE_UP
        i = skipSpaces(readFlowNode(i, end, v[n]), end)
        if (items && flowNode) items.push(flowNode)
        const ch = text.charCodeAt(i)
        if (ch === 93) break
        if (ch !== 44) throw GIVE_UP
        i = skipSpaces(i + 1, end)
        if (i >= end || text.charCodeAt(i) === 93) throw GIVE_UP // a trailing comma
      }
      n++
    }
    if (i >= end || n !== v.length) throw GIVE_UP
    flowNode = items ? { offset: p, items } : undefined
    return i + 1
  }
  /** `{a: 1, b: [c]}` on one line: keys are plain or quoted scalars followed by `: `. */
  const readFlowMap = (p: number, end: number, v: JsonValue | undefined): number => {
    if (!isObject(v)) throw GIVE_UP
    const keys = build ? new Map<string, { at: number; node: PosNode }>() : undefined
    const seen = new KeySet()
    let i = skipSpaces(p + 1, end)
    if (text.charCodeAt(i) !== 125) {
      for (;;) {
        const at = i
        const c = text.charCodeAt(i)
        let key: string
        if (c === 34 || c === 39) {
          const q = text.indexOf(c === 34 ? '"' : "'", i + 1)
          if (q < 0 || q >= end || text.charCodeAt(q + 1) === c) throw GIVE_UP
          key = text.slice(i + 1, q)
          if (c === 34 && key.includes('\\')) throw GIVE_UP
          i = skipSpaces(q + 1, end)
        } else {
          if (c >= 128 ? false : KEY_START[c] !== 1) throw GIVE_UP
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
          key = resolved
          i = k
        }
        if (text.charCodeAt(i) !== 58 || text.charCodeAt(i + 1) !== 32) throw GIVE_UP
        const child = ownChild(v, key)
        if (!seen.add(key)) throw GIVE_UP
        i = skipSpaces(i + 2, end)
        if (i >= end || text.charCodeAt(i) === 44 || text.charCodeAt(i) === 125) throw GIVE_UP // no value
        i = skipSpaces(readFlowNode(i, end, child), end)
        if (keys && flowNode) keys.set(key, { at, node: flowNode })
        const ch = text.charCodeAt(i)
        if (ch === 125) break
        if (ch !== 44) throw GIVE_UP
        i = skipSpaces(i + 1, end)
        if (i >= end || text.charCodeAt(i) === 125) throw GIVE_UP // a trailing comma
      }
    }
    if (i >= end || seen.size !== Object.keys(v).length) throw GIVE_UP
    flowNode = keys ? { offset: p, keys } : undefined
    return i + 1
  }

  const readNode = (li: number, col: number, n: number, v: JsonValue | undefined): PosNode | undefined => {
    if (isDash(li, col)) return readSeq(li, col, v)
    const p = at(li, col)
    if (readKey(p, endOf(li))) return readMap(li, col, v, true)
    return readLeaf(li, p, n, v)
  }

  const readSeq = (first: number, col: number, v: JsonValue | undefined): PosNode | undefined => {
    if (!Array.isArray(v)) throw GIVE_UP
    const items: PosNode[] | undefined = build ? [] : undefined
    let li = first
    let n = 0
    for (; ; n++) {
      const end = endOf(li)
      let q = at(li, col) + 1
      while (q < end && text.charCodeAt(q) === 32) q++
      let item: PosNode | undefined
      if (q >= end || text.charCodeAt(q) === 35) {
        const nl = nextContent(li + 1)
        if (nl >= count || indent(nl) <= col) throw GIVE_UP // an empty item
        item = readNode(nl, indent(nl), col, v[n])
      } else {
        item = readNode(li, q - (starts[li] as number), col, v[n])
      }
      if (items && item) items.push(item)
      li = nextContent(cur)
      if (li >= count || indent(li) < col) break
      if (indent(li) > col) throw GIVE_UP
      if (!isDash(li, col)) break
    }
    if (n + 1 !== v.length) throw GIVE_UP
    cur = li
    return items ? { offset: at(first, col), items } : undefined
  }

  /** A block mapping at col; known: its first key was just read (readKey's result stands). */
  const readMap = (
    first: number,
    col: number,
    v: JsonValue | undefined,
    known = false,
  ): PosNode | undefined => {
    if (!isObject(v)) throw GIVE_UP
    const keys = build ? new Map<string, { at: number; node: PosNode }>() : undefined
    const seen = new KeySet()
    let li = first
    for (;;) {
      const end = endOf(li)
      const p = at(li, col)
      if (!(li === first && known) && !readKey(p, end)) throw GIVE_UP
      const key = keyText
      const child = ownChild(v, key)
      if (!seen.add(key)) throw GIVE_UP
      let q = keyAfter
      while (q < end && text.charCodeAt(q) === 32) q++
      let node: PosNode | undefined
      if (q >= end || text.charCodeAt(q) === 35) {
        const nl = nextContent(li + 1)
        if (nl < count && indent(nl) > col) node = readNode(nl, indent(nl), col, child)
        else if (nl < count && indent(nl) === col && isDash(nl, col)) node = readSeq(nl, col, child)
        else {
          if (child !== null) throw GIVE_UP
          node = build ? { offset: undefined } : undefined
          cur = li + 1
        }
      } else {
        if (text.charCodeAt(q) === 45 && (q + 1 >= end || text.charCodeAt(q + 1) === 32)) throw GIVE_UP
        node = readLeaf(li, q, col, child)
      }
      if (keys && node) keys.set(key, { at: p, node })
      li = nextContent(cur)
      if (li >= count || indent(li) < col) break
      if (indent(li) > col || isDash(li, col)) throw GIVE_UP
    }
    if (seen.size !== Object.keys(v).length) throw GIVE_UP
    cur = li
    return keys ? { offset: at(first, col), keys } : undefined
  }

  try {
    const first = nextContent(0)
    if (first >= count) return undefined
    const root = readNode(first, indent(first), -1, value)
    if (nextContent(cur) < count) return undefined
    return root ?? { offset: undefined }
  } catch (e) {
    if (e === GIVE_UP || e instanceof RangeError) return undefined // RangeError: nested deeper than the stack
    throw e
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
