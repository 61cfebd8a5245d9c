/**
 * Text -> RawObject[]: multi-document YAML (and JSON, which is YAML), `kind: List` flattening,
 * positions for every field path. Pure: the text arrives as a parameter.
 */
import {
  type Diagnostic,
  type DiagnosticCode,
  describeObject,
  type FieldPath,
  type JsonObject,
  type JsonValue,
  type RawObject,
  type Result,
  type SourceRef,
} from '../model/index.js'
import {
  type AliasProblem,
  findAliasProblem,
  findTooDeep,
  findTooDeepTree,
  isShallow,
  MAX_DEPTH,
} from './depth.js'
import { parseFastDocument } from './fast-yaml.js'
import { findJsonSyntaxError, parseJsonDocument } from './json-tree.js'
import { findListLayout, itemOffsetToWhole, itemText, type ListLayout } from './list-items.js'
import { parseSimpleDocument } from './simple-yaml.js'
import { type DocContext, type DocData, type DuplicateKey, docLabel, sourceAt, type Tree } from './tree.js'
import { parseYamlChunk, readYamlDocument } from './yaml-tree.js'

/** One input file as text or bytes, named as the user named it. */
export interface InputText {
  readonly file: string
  readonly text: string | Uint8Array
}

export interface ParseOptions {
  /** Inputs larger than this many bytes are refused with load.too-large (default 128 MiB; docs/semantics.md#input-size). */
  readonly maxBytes?: number
  /** Reads every YAML document with the exact (slow) parser: the reference the fast path is tested against. */
  readonly exact?: boolean
  /**
   * Reads every List as one document, never item by item (docs/semantics.md#list-items): the reference the
   * item-by-item reading is tested against.
   */
  readonly wholeLists?: boolean
  /** Documents nested deeper than this are refused with load.too-deep (default MAX_DEPTH). */
  readonly maxDepth?: number
  /**
   * Told after each document chunk: how many characters of the input's text are read, of how many. The
   * edge turns it into a progress line (src/cli/options.ts); it changes nothing in what is read.
   */
  readonly onProgress?: (file: string, done: number, total: number) => void
}

export const DEFAULT_MAX_BYTES = 128 * 1024 * 1024

/** An object with the diagnostics that belong to it (duplicate keys): the pipeline decides by mode. */
export interface ParsedObject {
  readonly object: RawObject
  readonly diagnostics: readonly Diagnostic[]
}

/** A parsed file: its objects, and diagnostics about the file or about documents that gave no object. */
export interface ParsedInput {
  readonly objects: readonly ParsedObject[]
  readonly diagnostics: readonly Diagnostic[]
}

/** Parses one input into raw objects; every problem becomes a diagnostic, never an exception. */
export function parseDocuments(input: InputText, opts: ParseOptions = {}): Result<RawObject[]> {
  const parsed = parseInput(input, opts)
  return {
    value: parsed.objects.map((o) => o.object),
    diagnostics: [...parsed.diagnostics, ...parsed.objects.flatMap((o) => o.diagnostics)],
  }
}

/** Parses one input, keeping each object's own diagnostics next to it. */
export function parseInput(input: InputText, opts: ParseOptions = {}): ParsedInput {
  const objects: ParsedObject[] = []
  const diagnostics = parseInputEach(input, opts, (o) => objects.push(o))
  return { objects, diagnostics }
}

/**
 * Parses one input and hands each object to `each` as soon as it is read (the pipeline streams them, so
 * an object's data need not outlive its reading); returns the diagnostics about the file and about
 * documents that gave no object.
 */
export function parseInputEach(
  input: InputText,
  opts: ParseOptions,
  each: (object: ParsedObject) => void,
): Diagnostic[] {
  const decoded = decodeInput(input, opts)
  return typeof decoded.text === 'string'
    ? parseDecoded(decoded as DecodedInput, opts, each)
    : decoded.problems
}

/** An input decoded to text (or why it cannot be: too large, binary). */
export type DecodedInput = { readonly file: string; readonly text: string; readonly problems?: undefined }
type Undecodable = { readonly file: string; readonly text?: undefined; readonly problems: Diagnostic[] }

/** Checks an input's size and decodes it as kubectl does (the bytes are not needed after this). */
export function decodeInput(input: InputText, opts: ParseOptions): DecodedInput | Undecodable {
  const file = input.file
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES
  const size = byteLength(input.text, maxBytes)
  if (size > maxBytes) {
    return {
      file,
      problems: fileProblem(
        file,
        'load.too-large',
        `input is ${formatBytes(size)}, over the limit of ${formatBytes(maxBytes)}: not read`,
      ),
    }
  }
  const decoded = decodeText(input.text)
  if (typeof decoded !== 'string')
    return { file, problems: fileProblem(file, 'load.binary', decoded.problem) }
  return { file, text: decoded }
}

/** parseInputEach on an input already decoded. */
export function parseDecoded(
  input: DecodedInput,
  opts: ParseOptions,
  each: (object: ParsedObject) => void,
): Diagnostic[] {
  return parseText(input.file, input.text, opts, each)
}

function fileProblem(file: string, code: DiagnosticCode, message: string): Diagnostic[] {
  return [{ code, severity: 'error', message, path: [], source: { file } }]
}

/** Counts UTF-8 bytes, stopping early once past the limit (a huge string is not walked twice). */
function byteLength(text: string | Uint8Array, limit: number): number {
  if (typeof text !== 'string') return text.byteLength
  if (text.length > limit) return text.length
  if (text.length * 3 <= limit) return text.length * 3 // an upper bound is enough: under the limit anyway
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`
  if (n >= 1024) return `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`
  return `${n} bytes`
}

/**
 * Decodes bytes as kubectl does: UTF-8, or UTF-16 when a byte order mark says so (kubectl reads
 * files through unicode.BOMOverride). NUL bytes or invalid UTF-8 mean the input is not a manifest.
 */
function decodeText(text: string | Uint8Array): string | { readonly problem: string } {
  let out: string
  if (typeof text === 'string') {
    out = text
  } else {
    const b = text
    let encoding = 'utf-8'
    let start = 0
    if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) start = 3
    else if (b[0] === 0xff && b[1] === 0xfe) [encoding, start] = ['utf-16le', 2]
    else if (b[0] === 0xfe && b[1] === 0xff) [encoding, start] = ['utf-16be', 2]
    if (encoding === 'utf-8') {
      const nul = b.indexOf(0)
      if (nul >= 0) return { problem: `binary data (a NUL byte at offset ${nul}): not YAML or JSON text` }
    }
    try {
      out = new TextDecoder(encoding, { fatal: true }).decode(b.subarray(start))
    } catch {
      return { problem: `invalid ${encoding.toUpperCase()}: not YAML or JSON text` }
    }
  }
  if (out.charCodeAt(0) === 0xfeff) out = out.slice(1)
  const nul = out.indexOf('\u0000')
  if (nul >= 0) return { problem: `binary data (a NUL character at offset ${nul}): not YAML or JSON text` }
  return out
}

/** A document separator line as kubectl's YAMLReader splits on it: `---`, then only spaces or a comment. */
const SEPARATOR = /^---[ \t]*(#.*)?\r?$/

/**
 * Splits the text into document chunks the way kubectl does before decoding, so that a broken
 * document cannot swallow the next one (and each document is parsed on its own, in linear time).
 */
function splitDocuments(text: string): {
  chunks: { start: number; text: string }[]
  lineStarts: ArrayLike<number>
} {
  // Offsets of line starts in a typed array grown by doubling (millions of lines in a big dump; an input
  // is under 512 MiB, the longest string, so offsets fit 32 bits).
  let lineStarts = new Uint32Array(1024)
  let lines = 1
  const chunks: { start: number; text: string }[] = []
  let chunkStart = 0
  let lineStart = 0
  for (;;) {
    const nl = text.indexOf('\n', lineStart)
    const end = nl < 0 ? text.length : nl
    if (text.startsWith('---', lineStart) && SEPARATOR.test(text.slice(lineStart, end))) {
      chunks.push({ start: chunkStart, text: text.slice(chunkStart, lineStart) })
      chunkStart = nl < 0 ? text.length : nl + 1
    }
    if (nl < 0) break
    lineStart = nl + 1
    if (lines === lineStarts.length) {
      const grown = new Uint32Array(lines * 2)
      grown.set(lineStarts)
      lineStarts = grown
    }
    lineStarts[lines++] = lineStart
  }
  chunks.push({ start: chunkStart, text: text.slice(chunkStart) })
  return { chunks, lineStarts: lineStarts.subarray(0, lines) }
}

/** Text that is only spaces and line ends (LF or CRLF). */
const BLANK = /^(?:[ \n]|\r\n)*$/

function parseText(
  file: string,
  text: string,
  opts: ParseOptions,
  each: (object: ParsedObject) => void,
): Diagnostic[] {
  const exact = opts.exact === true
  const maxDepth = opts.maxDepth ?? MAX_DEPTH
  const onProgress = opts.onProgress
  const { chunks, lineStarts } = splitDocuments(text)
  const diagnostics: Diagnostic[] = []
  const emit = (objects: readonly ParsedObject[]): void => {
    for (const o of objects) each(o)
  }
  let index = 0
  let firstLine = 0
  for (const chunk of chunks) {
    onProgress?.(file, chunk.start, text.length)
    while (firstLine + 1 < lineStarts.length && (lineStarts[firstLine + 1] as number) <= chunk.start)
      firstLine++
    // A blank chunk (before a leading `---`, after a trailing one) holds no document: the yaml library
    // finds none in it (no document index is used), and no reader needs loading to say so.
    if (BLANK.test(chunk.text)) continue
    const line = firstLine
    const at = (doc: number): DocContext => ({ file, doc, base: chunk.start, lineStarts, firstLine: line })
    // A List as kubectl prints it: its items are read one by one (list-items.ts).
    const layout = opts.wholeLists
      ? undefined
      : findListLayout(chunk.text, chunk.start, lineStarts, firstLine)
    if (layout && readListItems(text, chunk, layout, at(index), exact, maxDepth, diagnostics, each)) {
      index++
      continue
    }
    const read = readChunk(chunk.text, at, index, {
      exact,
      maxDepth,
      jsonStream: chunk.start === 0,
      diagnostics,
    })
    index += read.documents
    for (const doc of read.docs)
      emit(buildObjects(doc.data.value, doc.data.tree, doc.data.duplicates, doc.ctx, diagnostics))
  }
  onProgress?.(file, text.length, text.length)
  return diagnostics
}

interface ChunkOptions {
  readonly exact: boolean
  readonly maxDepth: number
  /** Whether the chunk starts the input (a `{` there makes the input a JSON stream). */
  readonly jsonStream: boolean
  readonly diagnostics: Diagnostic[]
  /** Gives the text again (positions of a List item are found from it on first use, see readListItems). */
  readonly retext?: () => string
}

/**
 * Reads one chunk of text: one document, or more when the exact path finds markers kubectl would refuse;
 * returns the documents read, with their contexts, and how many document indexes the chunk used. Problems
 * go to the diagnostics.
 */
function readChunk(
  text: string,
  at: (doc: number) => DocContext,
  index: number,
  o: ChunkOptions,
): { readonly docs: { readonly data: DocData; readonly ctx: DocContext }[]; readonly documents: number } {
  const { diagnostics, maxDepth } = o
  const ctx = at(index)
  const none = { docs: [], documents: 1 }
  // Nesting is bounded before any reader recurses (depth.ts). Most documents have too few indicators
  // to nest deeply (shallow). For the others the count on the text is exact for what the fast readers
  // take, and the yaml library's own syntax tree decides when that count passes the limit (the text is
  // then unusual: the exact path reads it) or when the text goes to the yaml library.
  let bound: 'shallow' | 'text' | 'tree' = 'shallow'
  if (!isShallow(text, maxDepth)) {
    const counted = findTooDeep(text, maxDepth)
    const deep = counted && (counted.exact ? counted : findTooDeepTree(text, maxDepth))
    if (deep) {
      diagnostics.push(tooDeep(ctx, deep.offset, maxDepth, ''))
      return none
    }
    bound = counted ? 'tree' : 'text'
  }
  // JSON, then the plainest YAML (one pass), then plain YAML that js-yaml reads as the yaml library
  // would; the rest takes the exact path.
  const json = parseJsonDocument(text, ctx)
  // A file that begins with `{` is a JSON stream for kubectl (apimachinery's YAMLOrJSONDecoder guesses once
  // per stream): invalid JSON there is refused in encoding/json's words, never read again as YAML.
  if (!json && o.jsonStream && text.trimStart().startsWith('{')) {
    const problem = findJsonSyntaxError(text)
    if (problem) {
      diagnostics.push({
        code: 'json.syntax',
        severity: 'error',
        message: `${problem.message} (${docLabel(ctx)} skipped)`,
        path: [],
        source: sourceAt(ctx, problem.offset),
      })
      return none
    }
  }
  const fast =
    json ??
    (o.exact || bound === 'tree'
      ? undefined
      : (parseSimpleDocument(text, o.retext) ?? parseFastDocument(text, o.retext)))
  if (fast) return { docs: [{ data: fast, ctx }], documents: 1 }
  const deep = bound === 'text' ? findTooDeepTree(text, maxDepth) : undefined
  if (deep) {
    diagnostics.push(tooDeep(ctx, deep.offset, maxDepth, ''))
    return none
  }
  // A chunk is normally one document; `--- !tag` style markers kubectl would refuse may add more.
  const docs: { data: DocData; ctx: DocContext }[] = []
  let documents = 0
  for (const doc of parseYamlChunk(text)) {
    const ctx = at(index + documents++)
    const problem = doc.errors.length === 0 ? findAliasProblem(doc, maxDepth) : undefined
    if (problem) {
      diagnostics.push(aliasDiagnostic(ctx, problem))
      continue
    }
    const read = readYamlDocument(doc, ctx, diagnostics)
    if (read.ok) docs.push({ data: read, ctx })
  }
  return { docs, documents }
}

/**
 * Reads a List item by item (docs/semantics.md#list-items): the envelope (the document with `items: []`
 * in place of its items) must be a plain List the simplest reader takes, else false and the document is
 * read whole. Each item is read as its own document, objects handed out as they are read; an item that
 * cannot be read is left out with its problem, its neighbours are read. Items that are Lists themselves
 * are flattened after the others, as flattenList does.
 */
function readListItems(
  whole: string,
  chunk: { readonly start: number; readonly text: string },
  layout: ListLayout,
  ctx: DocContext,
  exact: boolean,
  maxDepth: number,
  diagnostics: Diagnostic[],
  each: (object: ParsedObject) => void,
): boolean {
  const head = chunk.text.slice(0, layout.keyEnd)
  const envelopeText = `${head} []\n${chunk.text.slice(layout.blockEnd)}`
  const envelope = parseSimpleDocument(envelopeText)
  if (!envelope || !isJsonObject(envelope.value) || !isList(envelope.value)) return false
  const list = envelope.value
  const { lineStarts } = ctx
  const nested: NestedList[] = []
  const items = layout.itemLines
  for (let i = 0; i + 1 < items.length; i++) {
    const firstLine = items[i] as number
    const start = lineStarts[firstLine] as number
    const end =
      i + 2 < items.length ? (lineStarts[items[i + 1] as number] as number) : chunk.start + layout.blockEnd
    // The item's text is built again when a position is asked for: what is read keeps only offsets.
    const retext = (): string => itemText(whole, start, end)
    const itemCtx: DocContext = {
      ...ctx,
      item: {
        index: i,
        toWhole: (offset) => itemOffsetToWhole(whole, lineStarts, firstLine, retext(), offset),
      },
    }
    // An item is nested two levels below the document's root (the List, its items).
    const read = readChunk(retext(), () => itemCtx, ctx.doc, {
      exact,
      maxDepth: maxDepth - 2,
      jsonStream: false,
      diagnostics,
      retext,
    })
    const doc = read.docs[0]
    if (!doc) continue
    const path: FieldPath = ['items', i]
    let value = doc.data.value
    if (!isJsonObject(value)) {
      diagnostics.push(notAnObject(itemCtx, doc.data.tree.offset, value, path))
      continue
    }
    value = typedItem(value, list)
    if (isList(value)) {
      nested.push({ value, tree: doc.data.tree, path, ctx: itemCtx, duplicates: doc.data.duplicates })
      continue
    }
    const missing = missingTypeMeta(value)
    if (missing) {
      diagnostics.push({ ...notAnObject(itemCtx, doc.data.tree.offset, value, path), message: missing })
      continue
    }
    const own =
      doc.data.duplicates.length === 0
        ? NO_DIAGNOSTICS
        : doc.data.duplicates.map((d) => duplicateDiagnostic(d, d.path, describeObject(value as JsonObject)))
    each({ object: makeRawObject(value, doc.data.tree, itemCtx), diagnostics: own })
  }
  for (const d of envelope.duplicates) diagnostics.push(duplicateDiagnostic(d, d.path))
  // Lists among the items: their items next, each list's duplicate keys shared among its own objects.
  for (const item of nested) {
    const objects = flattenList(item.value, item.tree, item.ctx, item.duplicates, diagnostics, item.path)
    for (const o of objects) each(o)
  }
  return true
}

/** load.too-deep, in go-yaml's words (`exceeded max depth of 10000`), at the place the limit is passed. */
function tooDeep(ctx: DocContext, offset: number | undefined, limit: number, how: string): Diagnostic {
  return {
    code: 'load.too-deep',
    severity: 'error',
    message: `exceeded max depth of ${limit}: mappings and sequences nest more than ${limit} levels deep${how} (${docLabel(ctx)} skipped)`,
    path: [],
    source: sourceAt(ctx, offset),
  }
}

/** An alias whose anchor is not defined before it (go-yaml's words), or aliases that nest too deep. */
function aliasDiagnostic(ctx: DocContext, problem: AliasProblem): Diagnostic {
  if (problem.kind === 'too-deep')
    return tooDeep(ctx, problem.offset, problem.limit, ' once aliases are expanded')
  return {
    code: 'yaml.unknown-anchor',
    severity: 'error',
    message: `unknown anchor '${problem.anchor}' referenced (${docLabel(ctx)} skipped)`,
    path: [],
    source: sourceAt(ctx, problem.offset),
  }
}

/** The diagnostics of an object that has none of its own (shared: most objects). */
const NO_DIAGNOSTICS: readonly Diagnostic[] = Object.freeze([])

/** Turns one document's data into objects: a Kubernetes object, or the items of a List. */
function buildObjects(
  value: JsonValue,
  tree: Tree,
  duplicates: readonly DuplicateKey[],
  ctx: DocContext,
  diagnostics: Diagnostic[],
): ParsedObject[] {
  if (!isJsonObject(value)) {
    diagnostics.push(notAnObject(ctx, tree.offset, value))
    return []
  }
  if (isList(value)) return flattenList(value, tree, ctx, duplicates, diagnostics)
  const missing = missingTypeMeta(value)
  if (missing) {
    diagnostics.push({ ...notAnObject(ctx, tree.offset, value), message: missing })
    return []
  }
  const own =
    duplicates.length === 0
      ? NO_DIAGNOSTICS
      : duplicates.map((d) => duplicateDiagnostic(d, d.path, describeObject(value)))
  return [{ object: makeRawObject(value, tree, ctx), diagnostics: own }]
}

/** `kind: List` and typed lists (`PodList`...): a kind ending in List, with items. */
function isList(value: JsonObject): value is JsonObject & { kind: string; items: JsonValue[] } {
  return typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)
}

/** An item waiting to be read: its value, positions, path from the document root and enclosing list. */
interface ListItem {
  readonly value: JsonValue
  readonly tree: Tree
  readonly path: FieldPath
  readonly list: JsonObject & { kind: string }
}

/** A List among the items of a List read item by item, with its own context and duplicate keys. */
interface NestedList {
  readonly value: JsonObject & { kind: string; items: JsonValue[] }
  readonly tree: Tree
  readonly path: FieldPath
  readonly ctx: DocContext
  readonly duplicates: readonly DuplicateKey[]
}

/** Items of typed lists (NetworkPolicyList from the API) may omit their type: it is the list's. */
function typedItem(value: JsonObject, list: JsonObject & { kind: string }): JsonObject {
  if (list.kind !== 'List' && value.kind === undefined && value.apiVersion === undefined)
    return { apiVersion: list.apiVersion ?? null, kind: list.kind.slice(0, -'List'.length), ...value }
  return value
}

/**
 * Flattens `kind: List` and typed lists (`PodList`...) into objects with their own positions. Lists inside
 * lists are flattened too, in kubectl's order (resource.FlattenListVisitor): a list's own items first, then
 * the items of the lists among them. Nesting is bounded by the document's depth limit. `at` is the list's
 * path in its document (paths of duplicate keys and objects are relative to the list).
 */
function flattenList(
  list: JsonObject & { kind: string; items: JsonValue[] },
  tree: Tree,
  ctx: DocContext,
  duplicates: readonly DuplicateKey[],
  diagnostics: Diagnostic[],
  at: FieldPath = [],
): ParsedObject[] {
  const queue: ListItem[] = []
  const enqueue = (l: JsonObject & { kind: string; items: JsonValue[] }, t: Tree, path: FieldPath): void => {
    const itemsTree = t.child('items')?.tree
    l.items.forEach((value, i) => {
      queue.push({ value, tree: itemsTree?.child(i)?.tree ?? t, path: [...path, 'items', i], list: l })
    })
  }
  enqueue(list, tree, [])
  const read: { readonly value: JsonObject; readonly tree: Tree; readonly path: FieldPath }[] = []
  for (let q = 0; q < queue.length; q++) {
    const item = queue[q] as ListItem
    if (!isJsonObject(item.value)) {
      diagnostics.push(notAnObject(ctx, item.tree.offset, item.value, [...at, ...item.path]))
      continue
    }
    const value = typedItem(item.value, item.list)
    if (isList(value)) {
      enqueue(value, item.tree, item.path)
      continue
    }
    const missing = missingTypeMeta(value)
    if (missing) {
      diagnostics.push({
        ...notAnObject(ctx, item.tree.offset, value, [...at, ...item.path]),
        message: missing,
      })
      continue
    }
    read.push({ value, tree: item.tree, path: item.path })
  }
  // A duplicate key belongs to the object it is in; the others (in a list itself) to the document.
  const owner = (d: DuplicateKey): number =>
    read.findIndex((o) => o.path.length <= d.path.length && o.path.every((seg, i) => d.path[i] === seg))
  const own = read.map((): Diagnostic[] => [])
  for (const d of duplicates) {
    const i = owner(d)
    const o = read[i]
    if (o) own[i]?.push(duplicateDiagnostic(d, d.path.slice(o.path.length), describeObject(o.value)))
    else diagnostics.push(duplicateDiagnostic(d, [...at, ...d.path]))
  }
  return read.map((o, i) => ({ object: makeRawObject(o.value, o.tree, ctx), diagnostics: own[i] ?? [] }))
}

function notAnObject(
  ctx: DocContext,
  offset: number | undefined,
  value: JsonValue,
  path: FieldPath = [],
): Diagnostic {
  const what =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'a list'
        : typeof value === 'object'
          ? 'a mapping'
          : `a ${typeof value}`
  return {
    code: 'load.not-an-object',
    severity: 'error',
    message: `document is ${what}, not a Kubernetes object (a mapping with apiVersion and kind)`,
    path,
    source: sourceAt(ctx, offset),
  }
}

/** Returns kubectl's decoding error when apiVersion or kind is missing (runtime.NewMissingKindErr). */
function missingTypeMeta(value: JsonObject): string | undefined {
  const data = (): string => truncate(JSON.stringify(value), 200)
  if (typeof value.kind !== 'string' || value.kind === '') return `Object 'Kind' is missing in '${data()}'`
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '')
    return `Object 'apiVersion' is missing in '${data()}'`
  return undefined
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}...` : s
}

function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Builds a RawObject whose locate() walks the positions from the object's own root. When the root has a
 * position, every path has one (the walk only ever moves to a known offset), so the walk is deferred
 * until line or column is read (lazySource): normalisation asks for the place of every policy rule, and
 * most are never printed, while finding one may mean reading the document a second time (simple-yaml.ts).
 */
function makeRawObject(value: JsonObject, root: Tree, ctx: DocContext): RawObject {
  const offsetOf = (path: FieldPath): number | undefined => {
    let tree = root
    let offset = root.offset
    for (const seg of path) {
      const next = tree.child(seg)
      if (!next) break
      offset = next.at ?? offset
      tree = next.tree
    }
    return offset
  }
  const locate =
    root.offset === undefined
      ? (path: FieldPath): SourceRef => sourceAt(ctx, offsetOf(path))
      : (path: FieldPath): SourceRef => (path.length === 0 ? source : lazySource(ctx, () => offsetOf(path)))
  const source = sourceAt(ctx, root.offset)
  return { value, source, locate }
}

/**
 * The SourceRef sourceAt(ctx, find()) gives, with line and column worked out on first read (find must
 * return an offset). Same keys in the same order, so it prints, compares and serialises the same.
 */
export function lazySource(ctx: DocContext, find: () => number | undefined): SourceRef {
  let found: SourceRef | undefined
  const resolve = (): SourceRef => {
    found ??= sourceAt(ctx, find())
    return found
  }
  return {
    file: ctx.file,
    get line() {
      return resolve().line
    },
    get column() {
      return resolve().column
    },
    doc: ctx.doc,
  }
}

function duplicateDiagnostic(d: DuplicateKey, path: FieldPath, object?: string): Diagnostic {
  return {
    code: 'schema.duplicate-key',
    severity: 'error',
    message: `mapping key "${d.key}" already defined at line ${d.firstLine}`,
    ...(object === undefined ? {} : { object }),
    path,
    source: d.source,
  }
}
