/**
 * Text as migrate edits it: decoded the way the loader decodes it (so that the loader's positions are
 * offsets into it), split into documents the way kubectl splits them, edited by splicing, and encoded back
 * exactly as it came (UTF-8 or UTF-16, with or without a byte order mark).
 */

/** How an input's text was stored, to write it back the same way. */
export interface Encoding {
  readonly kind: 'string' | 'utf-8' | 'utf-16le' | 'utf-16be'
  /** Byte order marks the loader skipped before the text (normally 0 or 1). */
  readonly boms: number
}

/** An input decoded: its text (no byte order mark) and how to encode it back. */
export interface Decoded {
  readonly text: string
  readonly encoding: Encoding
}

/**
 * Decodes as src/load does (UTF-8, or UTF-16 after its byte order mark, then one more mark dropped), so
 * that the loader's positions are offsets into the text; undefined when it is not text.
 */
export function decodeInput(input: string | Uint8Array): Decoded | undefined {
  let kind: Encoding['kind'] = 'string'
  let text: string
  let boms = 0
  if (typeof input === 'string') {
    text = input
  } else {
    const b = input
    kind = 'utf-8'
    let start = 0
    if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) start = 3
    else if (b[0] === 0xff && b[1] === 0xfe) [kind, start] = ['utf-16le', 2]
    else if (b[0] === 0xfe && b[1] === 0xff) [kind, start] = ['utf-16be', 2]
    if (start > 0) boms = 1
    try {
      text = new TextDecoder(kind, { fatal: true, ignoreBOM: true }).decode(b.subarray(start))
    } catch {
      return undefined
    }
    // The loader's TextDecoder drops a second mark itself.
    if (text.charCodeAt(0) === 0xfeff) [text, boms] = [text.slice(1), boms + 1]
  }
  if (text.charCodeAt(0) === 0xfeff) [text, boms] = [text.slice(1), boms + 1]
  return { text, encoding: { kind, boms } }
}

/** Encodes edited text back the way the input was stored. */
export function encodeOutput(text: string, encoding: Encoding): string | Uint8Array {
  const full = '\ufeff'.repeat(encoding.boms) + text
  if (encoding.kind === 'string') return full
  if (encoding.kind === 'utf-8') return new TextEncoder().encode(full)
  const le = encoding.kind === 'utf-16le'
  const out = new Uint8Array(full.length * 2)
  for (let i = 0; i < full.length; i++) {
    const c = full.charCodeAt(i)
    out[i * 2] = le ? c & 0xff : c >> 8
    out[i * 2 + 1] = le ? c >> 8 : c & 0xff
  }
  return out
}

/** Reads any migrate output as text for people (stdout): UTF-16 decoded, no byte order mark. */
export function readableText(text: string | Uint8Array): string {
  return decodeInput(text)?.text ?? new TextDecoder('utf-8').decode(text as Uint8Array)
}

/** A document chunk of a file: [start, end) offsets into the decoded text. */
export interface Chunk {
  readonly start: number
  readonly end: number
}

/** A document separator line as kubectl's YAMLReader splits on it: `---`, then only spaces or a comment. */
const SEPARATOR = /^---[ \t]*(#.*)?\r?$/

/** Splits text into document chunks exactly as src/load does (kubectl's rule), and lists line starts. */
export function splitChunks(text: string): { chunks: Chunk[]; lineStarts: number[] } {
  const lineStarts: number[] = [0]
  const chunks: Chunk[] = []
  let chunkStart = 0
  let lineStart = 0
  for (;;) {
    const nl = text.indexOf('\n', lineStart)
    const end = nl < 0 ? text.length : nl
    if (text.startsWith('---', lineStart) && SEPARATOR.test(text.slice(lineStart, end))) {
      chunks.push({ start: chunkStart, end: lineStart })
      chunkStart = nl < 0 ? text.length : nl + 1
    }
    if (nl < 0) break
    lineStart = nl + 1
    lineStarts.push(lineStart)
  }
  chunks.push({ start: chunkStart, end: text.length })
  return { chunks, lineStarts }
}

/** The line ending a text uses (CRLF when its first line ends so). */
export function lineEnding(text: string): string {
  const nl = text.indexOf('\n')
  return nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n'
}

/** Offset of the start of the line holding `offset`. */
export function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1
}

/** The whitespace that starts the line holding `offset`. */
export function indentOf(text: string, offset: number): string {
  const start = lineStartOf(text, offset)
  let i = start
  while (text[i] === ' ' || text[i] === '\t') i++
  return text.slice(start, i)
}

/** Whether only spaces come before `offset` on its line. */
export function startsItsLine(text: string, offset: number): boolean {
  for (let i = offset - 1; i >= 0 && text[i] !== '\n'; i--)
    if (text[i] !== ' ' && text[i] !== '\t') return false
  return true
}

/**
 * Where a line inserted after a value ending at `end` goes: `end` itself when the value ends its line
 * (block collections and block scalars end after their newline), else after the end of that line (past
 * a trailing comment). `atEof` says a line ending must be added first.
 */
export function afterLine(text: string, end: number): { readonly at: number; readonly atEof: boolean } {
  if (end > 0 && text[end - 1] === '\n') return { at: end, atEof: false }
  const nl = text.indexOf('\n', end)
  return nl < 0 ? { at: text.length, atEof: true } : { at: nl + 1, atEof: false }
}

/** A splice: replace [start, end) with text. Insertions have start === end. */
export interface Edit {
  readonly start: number
  readonly end: number
  readonly text: string
}

/** Applies non-overlapping edits (insertions at one offset keep their order); undefined when two overlap. */
export function applyEdits(text: string, edits: readonly Edit[]): string | undefined {
  const sorted = edits
    .map((e, order) => ({ e, order }))
    .sort((a, b) => a.e.start - b.e.start || a.order - b.order)
  let out = ''
  let at = 0
  for (const { e } of sorted) {
    if (e.start < at || e.end < e.start) return undefined
    out += text.slice(at, e.start) + e.text
    at = e.end
  }
  return out + text.slice(at)
}
