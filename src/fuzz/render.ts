/**
 * Writes mutated documents as a manifest file: block YAML (kubectl's style), flow YAML or JSON, with the
 * chosen line endings, byte order mark and encoding. Strings are quoted whenever YAML 1.1 could read them
 * as something else, so what kubectl reads is exactly the tree (plus the verbatim tokens and decorations
 * the recipe asked for); the line range of every document is kept so diagnostics and objects can be
 * traced back to the document they came from. Text mutations then work on the encoded bytes.
 */
import {
  Deep,
  type Doc,
  Huge,
  isMapping,
  Marker,
  type Node,
  numberText,
  type Path,
  pathKey,
  Raw,
} from './mutate.js'
import type { RenderChoice, TextOp } from './recipe.js'
import { INSERT_TOKENS, RAW_TOKENS } from './tables.js'

export interface WrittenDoc {
  /** 1-based lines of the document's first and last line. */
  readonly firstLine: number
  readonly lastLine: number
  readonly undefinedAliases: ReadonlySet<string>
}

export interface Written {
  readonly text: string
  readonly bytes: Uint8Array
  readonly docs: readonly WrittenDoc[]
  readonly ext: 'yaml' | 'json'
}

const YAML11_WORDS = /^(y|n|yes|no|on|off|true|false|null)$/i
const PLAIN_SAFE = /^[A-Za-z][A-Za-z0-9._/-]*$/
/**
 * Also plain in block context, as kubectl prints them: images (nginx:1.12), dotted addresses. Never in
 * flow context, where libyaml refuses ':' inside a plain scalar. (Two dots or more is never a YAML 1.1
 * number; a colon after a letter is never sexagesimal.)
 */
const BLOCK_PLAIN = /^(?:[A-Za-z][A-Za-z0-9._/-]*(?::[A-Za-z0-9._/-]+)*|\d+(?:\.\d+){2,})$/

/** Characters YAML lets stand in a document (go-yaml's is_printable), minus line breaks of YAML 1.1. */
function printable(c: number): boolean {
  return (
    (c >= 0x20 && c <= 0x7e) ||
    (c >= 0xa0 && c <= 0xd7ff && c !== 0x2028 && c !== 0x2029) ||
    (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff) ||
    (c >= 0x10000 && c <= 0x10ffff)
  )
}

/** A double-quoted scalar that YAML 1.1 and JSON both read back as `s` exactly. */
export function quote(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0) as number
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (c === 0x0a) out += '\\n'
    else if (c === 0x0d) out += '\\r'
    else if (c === 0x09) out += '\\t'
    else if (printable(c)) out += ch
    else out += `\\u${c.toString(16).padStart(4, '0')}`
  }
  return `${out}"`
}

function stringText(s: string, quoteAll: boolean, flow = true): string {
  return !quoteAll && (flow ? PLAIN_SAFE : BLOCK_PLAIN).test(s) && !YAML11_WORDS.test(s) ? s : quote(s)
}

function deepText(d: Deep, json: boolean): string {
  if (d.style === 'seq' || d.style === 'block') return `${'['.repeat(d.depth)}${']'.repeat(d.depth)}`
  const open = json ? '{"a":' : '{a: '
  return `${open.repeat(d.depth)}1${'}'.repeat(d.depth)}`
}

/** A huge string, written as stringText would write it, without scanning megabytes character by character. */
function hugeText(h: Huge, quoteAll: boolean): string {
  const sample = h.char.repeat(3)
  const plain = stringText(sample, quoteAll)
  if (plain === sample) return h.char.repeat(h.size)
  return `"${quote(h.char).slice(1, -1).repeat(h.size)}"`
}

/** True when a document needs YAML-only syntax (verbatim scalars or decorations): it is written in block style. */
function needsBlock(doc: Doc): boolean {
  if (doc.deco.size > 0) return true
  const stack: Node[] = [doc.value]
  while (stack.length > 0) {
    const n = stack.pop() as Node
    if (n instanceof Raw) return true
    if (Array.isArray(n)) stack.push(...n)
    else if (isMapping(n)) for (const k of Object.keys(n)) stack.push(n[k] as Node)
  }
  return false
}

class Writer {
  readonly defined = new Set<string>()
  readonly undefinedAliases = new Set<string>()
  constructor(
    readonly doc: Doc,
    readonly opts: RenderChoice,
  ) {}

  decos(path: Path) {
    return this.doc.deco.get(pathKey(path)) ?? []
  }

  /** Anchor and tag of a node ('' or 'text ' with a trailing space). */
  props(path: Path): string {
    let out = ''
    for (const d of this.decos(path)) {
      if ('anchor' in d) {
        out += `&${d.anchor} `
        this.defined.add(d.anchor)
      } else if ('tag' in d) out += `${d.tag} `
    }
    return out
  }

  aliasOf(path: Path): { alias: string; merge: boolean } | undefined {
    return this.decos(path).find((d): d is { alias: string; merge: boolean } => 'alias' in d)
  }

  useAlias(name: string): string {
    if (!this.defined.has(name)) this.undefinedAliases.add(name)
    return `*${name}`
  }

  scalar(n: Node, path: Path, flow = true): string {
    const tag = this.decos(path).find((d): d is { tag: string } => 'tag' in d)
    if (tag?.tag === '!!binary' && typeof n === 'string') {
      const b64 = Buffer.from(n, 'utf8').toString('base64')
      return b64 === '' ? '""' : b64
    }
    if (n === null) return 'null'
    if (typeof n === 'boolean') return n ? 'true' : 'false'
    if (typeof n === 'number') return numberText(n)
    if (typeof n === 'string') return stringText(n, this.opts.quoteAll, flow)
    if (n instanceof Raw) return RAW_TOKENS[n.token]!.text
    if (n instanceof Huge) return hugeText(n, this.opts.quoteAll)
    if (n instanceof Deep) return deepText(n, false)
    if (Array.isArray(n)) return '[]'
    return '{}'
  }

  isBlockCollection(n: Node): boolean {
    return (Array.isArray(n) && n.length > 0) || (isMapping(n) && Object.keys(n).length > 0)
  }

  /** The node as block lines, indentation relative to the node. */
  block(n: Node, path: Path): string[] {
    const pad = ' '.repeat(this.opts.indent)
    if (isMapping(n)) {
      const lines: string[] = []
      // A comment alone would turn an empty mapping into an empty document: comments only go before keys.
      if (this.opts.comments && Object.keys(n).length > 0) lines.push('# fuzz')
      const alias = this.aliasOf(path)
      if (alias?.merge) lines.push(`<<: ${this.useAlias(alias.alias)}`)
      for (const d of this.decos(path))
        if ('dupKey' in d)
          lines.push(`${stringText(d.dupKey, true)}: ${this.flow(d.decoy, [...path, '\u0000decoy'])}`)
      for (const k of Object.keys(n)) {
        const child = n[k] as Node
        const cp = [...path, k]
        const key = stringText(k, this.opts.quoteAll)
        const ca = this.aliasOf(cp)
        if (ca && !ca.merge) {
          lines.push(`${key}: ${this.useAlias(ca.alias)}`)
          continue
        }
        const props = this.props(cp)
        if (child instanceof Deep && child.style === 'block') {
          lines.push(
            `${key}:${props === '' ? '' : ` ${props.trimEnd()}`}`,
            `${pad}${'- '.repeat(child.depth)}1`,
          )
        } else if (this.isBlockCollection(child) || (isMapping(child) && ca?.merge)) {
          lines.push(`${key}:${props === '' ? '' : ` ${props.trimEnd()}`}`)
          for (const l of this.block(child, cp)) lines.push(pad + l)
        } else lines.push(`${key}: ${props}${this.scalar(child, cp, false)}`)
      }
      return lines.length === 0 ? ['{}'] : lines
    }
    if (Array.isArray(n)) {
      const lines: string[] = []
      n.forEach((item, i) => {
        const cp = [...path, i]
        const ca = this.aliasOf(cp)
        if (ca && !ca.merge) {
          lines.push(`- ${this.useAlias(ca.alias)}`)
          return
        }
        const props = this.props(cp)
        if (item instanceof Deep && item.style === 'block') {
          lines.push(`- ${props}${'- '.repeat(item.depth)}1`)
        } else if (this.isBlockCollection(item) || (isMapping(item) && ca?.merge)) {
          const sub = this.block(item, cp)
          if (props === '' && !this.opts.comments) {
            lines.push(`- ${sub[0]}`)
            for (const l of sub.slice(1)) lines.push(`  ${l}`)
          } else {
            lines.push(`-${props === '' ? '' : ` ${props.trimEnd()}`}`)
            for (const l of sub) lines.push(`  ${l}`)
          }
        } else lines.push(`- ${props}${this.scalar(item, cp, false)}`)
      })
      return lines
    }
    return [`${this.props(path)}${this.scalar(n, path, false)}`]
  }

  /** The node as one flow line (no decorations are used in flow documents, except decoys). */
  flow(n: Node, path: Path): string {
    if (isMapping(n)) {
      const entries = Object.keys(n).map(
        (k) => `${stringText(k, this.opts.quoteAll)}: ${this.flow(n[k] as Node, [...path, k])}`,
      )
      return `{${entries.join(', ')}}`
    }
    if (Array.isArray(n)) return `[${n.map((item, i) => this.flow(item, [...path, i])).join(', ')}]`
    return this.scalar(n, path)
  }
}

/** JSON text of a node (markers: Deep as brackets, Huge as a string). */
function json(n: Node, pretty: boolean, indent = ''): string {
  const inner = pretty ? `${indent}  ` : ''
  const nl = pretty ? '\n' : ''
  const sep = pretty ? ': ' : ':'
  if (isMapping(n)) {
    const keys = Object.keys(n)
    if (keys.length === 0) return '{}'
    return `{${nl}${keys.map((k) => `${inner}${quote(k)}${sep}${json(n[k] as Node, pretty, inner)}`).join(`,${nl}`)}${nl}${indent}}`
  }
  if (Array.isArray(n)) {
    if (n.length === 0) return '[]'
    return `[${nl}${n.map((item) => `${inner}${json(item, pretty, inner)}`).join(`,${nl}`)}${nl}${indent}]`
  }
  if (n === null) return 'null'
  if (typeof n === 'boolean') return n ? 'true' : 'false'
  if (typeof n === 'number') return numberText(n)
  if (typeof n === 'string') return quote(n)
  if (n instanceof Huge) return `"${quote(n.char).slice(1, -1).repeat(n.size)}"`
  if (n instanceof Deep) return deepText(n, true)
  if (n instanceof Marker) return 'null'
  return 'null'
}

/** Writes the documents; returns the text, its bytes and each document's line range. */
export function writeDocs(docs: readonly Doc[], opts: RenderChoice): Written {
  const parts: string[] = []
  const written: WrittenDoc[] = []
  let line = 1
  let allJson = docs.length > 0
  if (opts.leadingSeparator) {
    parts.push('---\n')
    line++
  }
  docs.forEach((doc, i) => {
    if (i > 0) {
      parts.push('---\n')
      line++
    }
    const style =
      needsBlock(doc) || opts.format === 'block'
        ? 'block'
        : opts.format === 'mixed'
          ? (['block', 'flow', 'json'] as const)[i % 3]!
          : opts.format
    if (style !== 'json') allJson = false
    const w = new Writer(doc, opts)
    let text: string
    if (style === 'json') text = json(doc.value, opts.indent === 4)
    else if (style === 'flow') text = w.flow(doc.value, [])
    else text = w.block(doc.value, []).join('\n')
    const lines = text.split('\n').length
    written.push({ firstLine: line, lastLine: line + lines - 1, undefinedAliases: w.undefinedAliases })
    parts.push(`${text}\n`)
    line += lines
  })
  let text = parts.join('')
  if (!opts.finalNewline) text = text.replace(/\n$/, '')
  if (opts.crlf) text = text.replace(/\n/g, '\r\n')
  return { text, bytes: encode(text, opts.bom), docs: written, ext: allJson ? 'json' : 'yaml' }
}

/** Encodes text as UTF-8 or UTF-16, with the chosen byte order mark. */
export function encode(text: string, bom: RenderChoice['bom']): Uint8Array {
  if (bom === 'none') return new TextEncoder().encode(text)
  if (bom === 'utf8') return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')])
  const le = Buffer.from(text, 'utf16le')
  if (bom === 'utf16le') return Buffer.concat([Buffer.from([0xff, 0xfe]), le])
  const be = Buffer.from(le)
  be.swap16()
  return Buffer.concat([Buffer.from([0xfe, 0xff]), be])
}

/** Applies text mutations to the written bytes (positions are taken modulo the current length). */
export function mutateBytes(bytes: Uint8Array, ops: readonly TextOp[]): Uint8Array {
  let b = Buffer.from(bytes)
  for (const op of ops) {
    const at = b.length === 0 ? 0 : ((op.at % (b.length + 1)) + (b.length + 1)) % (b.length + 1)
    switch (op.t) {
      case 'flip':
        if (b.length > 0) b[Math.min(at, b.length - 1)] = op.byte & 0xff
        break
      case 'truncate':
        b = b.subarray(0, at)
        break
      case 'insert': {
        const what =
          INSERT_TOKENS[((op.what % INSERT_TOKENS.length) + INSERT_TOKENS.length) % INSERT_TOKENS.length]!
        b = Buffer.concat([b.subarray(0, at), Buffer.from(what, 'utf8'), b.subarray(at)])
        break
      }
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + Math.max(1, op.len))])
        break
      case 'dupLine': {
        const start = b.lastIndexOf(0x0a, Math.max(0, at - 1)) + 1
        let end = b.indexOf(0x0a, at)
        end = end < 0 ? b.length : end + 1
        b = Buffer.concat([b.subarray(0, end), b.subarray(start, end), b.subarray(end)])
        break
      }
    }
  }
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}
