/**
 * Rewrites legacy network policy manifests to networking.k8s.io/v1 by editing their text in place
 * (docs/semantics.md#migrate): an extensions/v1beta1 NetworkPolicy gets the new apiVersion (and its
 * defaulted policyTypes written out), a namespace's net.beta.kubernetes.io/network-policy DefaultDeny
 * annotation is removed and a default-deny-ingress policy added next to the namespace. Every other byte
 * stays as it was: comments, quoting, `0120`, key order, document separators, encoding. Objects are found
 * by the loader (the same reading as the analysis, `kind: List` included), their text by spans.ts; each
 * rewritten file is read back and must give exactly the intended objects. Pure: texts in, texts out.
 */
import { type InputText, type ParsedInput, parseInput } from '../load/index.js'
import {
  type Diagnostic,
  describeObject,
  type JsonObject,
  type JsonValue,
  LEGACY_ISOLATION_ANNOTATION,
  type SourceRef,
} from '../model/index.js'
import { jsonStyle, renderJson, type YamlStyle, yamlBlockLines, yamlFlow, yamlStyle } from './render.js'
import {
  type ChunkSpans,
  ownPair,
  ownPairs,
  readChunkSpans,
  type SpanMap,
  type SpanNode,
  type SpanPair,
  type SpanSeq,
  type Syntax,
  stringValue,
} from './spans.js'
import {
  afterLine,
  applyEdits,
  type Chunk,
  type Decoded,
  decodeInput,
  type Edit,
  encodeOutput,
  indentOf,
  lineEnding,
  lineStartOf,
  splitChunks,
  startsItsLine,
} from './text.js'
import { sameValue } from './verify.js'

/** One rewrite made, for the report. */
export interface MigrationChange {
  readonly object: string
  readonly message: string
  readonly source: SourceRef
}

export interface MigratedFile {
  /** The input's name, or for a file migrate creates, its name next to the input it comes from. */
  readonly file: string
  /** The output, stored as the input was (same encoding and byte order mark); the input itself when unchanged. */
  readonly text: string | Uint8Array
  readonly changed: boolean
  /** For a file migrate creates: the input it belongs next to. */
  readonly createdFrom?: string
}

export interface MigrationResult {
  /** Every input (changed or not), each followed by the files created next to it. */
  readonly files: readonly MigratedFile[]
  readonly changes: readonly MigrationChange[]
  /** Errors mean the migration cannot be trusted: nothing may be written. */
  readonly diagnostics: readonly Diagnostic[]
}

const V1 = 'networking.k8s.io/v1'
const LEGACY = 'extensions/v1beta1'
const DENY_NAME = 'default-deny-ingress'

/**
 * Parse problems after which a file's content is unknown (a legacy object may hide in it): every parse
 * error but two. A document that is read but is no object (a list, a scalar, no kind) holds no legacy
 * object, and a duplicate key in a List's own fields loses nothing migrate reads: both stay as they are.
 */
function isUnreadable(d: Diagnostic): boolean {
  return d.severity === 'error' && d.code !== 'load.not-an-object' && !d.code.startsWith('schema.')
}

/** Reads the legacy annotation value; true when it asks for ingress DefaultDeny (as src/load reads it). */
function isDefaultDeny(value: JsonValue | undefined): boolean {
  if (typeof value !== 'string') return false
  try {
    const parsed: unknown = JSON.parse(value)
    if (!parsed || typeof parsed !== 'object') return false
    const ingress = (parsed as Record<string, unknown>).ingress
    return (
      !!ingress &&
      typeof ingress === 'object' &&
      (ingress as Record<string, unknown>).isolation === 'DefaultDeny'
    )
  } catch {
    return false
  }
}

const asObject = (v: JsonValue | undefined): JsonObject | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined

/** The policyTypes the API server defaults, when the policy leaves them out (or empty). */
function defaultedTypes(value: JsonObject): string[] | undefined {
  const spec = asObject(value.spec)
  if (!spec) return undefined
  const types = spec.policyTypes
  if (types !== undefined && types !== null && !(Array.isArray(types) && types.length === 0)) return undefined
  const egress = spec.egress
  return Array.isArray(egress) && egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress']
}

function denyPolicy(namespace: string, name: string): JsonObject {
  return {
    apiVersion: V1,
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec: { podSelector: {}, policyTypes: ['Ingress'] },
  }
}

function denyComment(namespace: string): string[] {
  return [
    `# Migrated by palisade from the ${LEGACY_ISOLATION_ANNOTATION} DefaultDeny annotation of namespace ${namespace}:`,
    `# every pod of ${namespace} is isolated for ingress.`,
  ]
}

/** The object with the annotation gone (and `annotations`, when that leaves it empty). */
function withoutAnnotation(value: JsonObject): JsonObject {
  const metadata = { ...(asObject(value.metadata) ?? {}) }
  const annotations = { ...(asObject(metadata.annotations) ?? {}) }
  delete annotations[LEGACY_ISOLATION_ANNOTATION]
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations
  else if (Object.keys(metadata).length > 1) delete metadata.annotations
  else metadata.annotations = {}
  return { ...value, metadata }
}

/** A list an object sits in: the list's mapping, its `items` sequence, and the object's index there. */
interface Enclosing {
  readonly list: SpanMap
  readonly items: SpanSeq
  readonly index: number
}

/** Finds the mapping that starts at `offset` in a chunk: a document, or an item of a (nested) List. */
function findObject(spans: ChunkSpans, offset: number): { node: SpanMap; enclosing?: Enclosing } | undefined {
  const contains = (n: SpanNode): boolean => offset >= n.start && offset < Math.max(n.end, n.start + 1)
  let node = spans.roots.find(contains)
  let enclosing: Enclosing | undefined
  while (node?.kind === 'map') {
    if (node.start === offset) return enclosing ? { node, enclosing } : { node }
    const items = ownPair(node, 'items')?.value
    if (items?.kind !== 'seq') return undefined
    // Items are in text order: the last one starting at or before the offset is the only candidate.
    const list = items.items()
    let lo = 0
    let hi = list.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if ((list[mid] as SpanNode).start <= offset) lo = mid
      else hi = mid - 1
    }
    const item = list[lo]
    if (!item || !contains(item)) return undefined
    enclosing = { list: node, items, index: lo }
    node = item
  }
  return undefined
}

/** Why an edit could not be made in place. */
class CannotEdit {
  constructor(
    readonly reason: string,
    readonly path: readonly (string | number)[],
  ) {}
}

/** Everything known about one file while it is rewritten. */
interface FileWork {
  readonly file: string
  readonly decoded: Decoded
  readonly chunks: readonly Chunk[]
  /** Where each object the loader read starts in the text. */
  readonly offsets: readonly number[]
  readonly spans: Map<number, ChunkSpans | undefined>
  readonly styles: Map<number, YamlStyle>
  readonly edits: Edit[]
  /** Offsets already edited (an apiVersion shared by the items of a typed list is edited once). */
  readonly edited: Set<number>
  /** What each object must read back as once rewritten. */
  readonly expected: JsonObject[]
  /** Objects added, by the index of the object they follow. */
  readonly extra: Map<number, JsonObject[]>
  readonly created: { name: string; value: JsonObject; style: ReturnType<typeof jsonStyle>; eol: string }[]
}

function chunkIndexOf(chunks: readonly Chunk[], offset: number): number {
  let lo = 0
  let hi = chunks.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if ((chunks[mid] as Chunk).start <= offset) lo = mid
    else hi = mid - 1
  }
  return lo
}

function chunkStyle(w: FileWork, chunk: number): YamlStyle {
  let style = w.styles.get(chunk)
  if (!style) {
    const c = w.chunks[chunk] as Chunk
    style = yamlStyle(w.decoded.text.slice(c.start, c.end))
    w.styles.set(chunk, style)
  }
  return style
}

function spansOf(w: FileWork, chunk: number): ChunkSpans | undefined {
  if (!w.spans.has(chunk)) {
    const c = w.chunks[chunk] as Chunk
    let spans: ChunkSpans | undefined
    try {
      spans = readChunkSpans(w.decoded.text, c.start, c.end)
    } catch {
      spans = undefined // nesting deeper than the yaml library's stack: not editable in place
    }
    w.spans.set(chunk, spans)
  }
  return w.spans.get(chunk)
}

/** A mapping value of a pair, or why it cannot be edited. */
function mapValue(pair: SpanPair | undefined, path: readonly (string | number)[]): SpanMap {
  const v = pair?.value
  if (v?.kind === 'map') return v
  throw new CannotEdit(
    v?.kind === 'alias'
      ? 'it is written as an alias'
      : pair
        ? 'it is not written as a mapping'
        : 'it comes from a merge key (<<) or an anchor',
    path,
  )
}

/** A scalar replaced by another string, keeping its quoting. */
function replaceScalar(node: SpanNode | undefined, to: string, path: readonly (string | number)[]): Edit {
  if (node?.kind !== 'scalar' || node.style === 'block' || node.anchored)
    throw new CannotEdit(
      node?.kind === 'alias'
        ? 'it is written as an alias'
        : node?.kind === 'scalar' && node.anchored
          ? 'it carries an anchor other fields may alias'
          : 'it is not written as a plain or quoted value',
      path,
    )
  const text = node.style === 'single' ? `'${to}'` : node.style === 'double' ? JSON.stringify(to) : to
  return { start: node.start, end: node.end, text }
}

/** Removes a pair from a mapping, with the comment lines right above it in block style. */
function removePair(text: string, map: SpanMap, pair: SpanPair, path: readonly (string | number)[]): Edit {
  const valueEnd = pairEnd(pair)
  if (!map.flow) {
    if (!startsItsLine(text, pair.keyStart)) throw new CannotEdit('it does not start its own line', path)
    const indent = indentOf(text, pair.keyStart)
    let start = lineStartOf(text, pair.keyStart)
    while (start > 0) {
      const prev = lineStartOf(text, start - 1)
      const line = text.slice(prev, start - 1).replace(/\r$/, '')
      if (!line.startsWith(`${indent}#`)) break
      start = prev
    }
    const { at } = afterLine(text, valueEnd)
    return { start, end: at, text: '' }
  }
  const pairs = map.pairs()
  const i = pairs.findIndex((p) => p.keyStart === pair.keyStart)
  const next = pairs[i + 1]
  if (next) return { start: pair.keyStart, end: next.keyStart, text: '' }
  const prev = pairs[i - 1]
  if (prev) return { start: pairEnd(prev), end: valueEnd, text: '' }
  return { start: pair.keyStart, end: valueEnd, text: '' }
}

/** The end of a pair: its value's, or its key's when the value is empty. */
function pairEnd(p: SpanPair): number {
  return p.value && p.value.end > p.keyEnd ? p.value.end : p.keyEnd
}

/** Adds `key: value` as the last pair of a mapping, in the mapping's own style. */
function addPair(
  text: string,
  syntax: Syntax,
  style: YamlStyle,
  map: SpanMap,
  key: string,
  value: JsonValue,
  path: readonly (string | number)[],
): Edit {
  const pairs = map.pairs()
  const last = pairs[pairs.length - 1]
  const eol = lineEnding(text)
  if (syntax === 'json') {
    const own = jsonStyle(text.slice(map.start, map.end))
    if (!last) {
      const compact = { unit: undefined, colon: own.colon, comma: own.comma }
      return { start: map.start, end: map.end, text: renderJson({ [key]: value }, compact) }
    }
    const between = text.slice(last.keyEnd, last.value?.start ?? last.keyEnd)
    const colon = /^[ \t]*:[ \t]*$/.test(between) ? between.trimStart() : ': '
    const end = pairEnd(last)
    if (startsItsLine(text, last.keyStart)) {
      const indent = indentOf(text, last.keyStart)
      const outer = indentOf(text, map.start)
      const unit =
        indent.startsWith(outer) && indent.length > outer.length ? indent.slice(outer.length) : '  '
      const rendered = renderJson(value, { unit, colon, comma: ',' }, indent, eol)
      return { start: end, end, text: `,${eol}${indent}${JSON.stringify(key)}${colon}${rendered}` }
    }
    const prev = pairs[pairs.length - 2]
    const comma = prev ? text.slice(pairEnd(prev), last.keyStart) : colon === ':' ? ',' : ', '
    const inline = { unit: undefined, colon, comma: comma.endsWith(' ') ? ', ' : ',' }
    return { start: end, end, text: `${comma}${JSON.stringify(key)}${colon}${renderJson(value, inline)}` }
  }
  if (map.flow) {
    if (!last) {
      if (text[map.end - 1] !== '}' || text.slice(map.start + 1, map.end - 1).trim() !== '')
        throw new CannotEdit('its end is not found', path)
      return { start: map.start, end: map.end, text: `{${key}: ${yamlFlow(value)}}` }
    }
    const end = pairEnd(last)
    return { start: end, end, text: `, ${key}: ${yamlFlow(value)}` }
  }
  const first = pairs[0]
  if (!first || !last || !startsItsLine(text, last.keyStart))
    throw new CannotEdit('its keys do not start their lines', path)
  const indent = ' '.repeat(first.keyStart - lineStartOf(text, first.keyStart))
  const { at, atEof } = afterLine(text, pairEnd(last))
  const lines = yamlBlockLines({ [key]: value }, indent, style)
  return { start: at, end: at, text: (atEof ? eol : '') + lines.map((l) => l + eol).join('') }
}

/** Rewrites one extensions/v1beta1 NetworkPolicy in place. */
function editPolicy(
  w: FileWork,
  syntax: Syntax,
  style: YamlStyle,
  node: SpanMap,
  enclosing: Enclosing | undefined,
  value: JsonObject,
): { expected: JsonObject; note: string } {
  const text = w.decoded.text
  const own = ownPair(node, 'apiVersion')
  if (own) {
    if (own.value?.kind === 'scalar' && stringValue(own.value) !== LEGACY)
      throw new CannotEdit('its text is not extensions/v1beta1', ['apiVersion'])
    w.edits.push(replaceScalar(own.value, V1, ['apiVersion']))
  } else {
    // An item of a typed list (NetworkPolicyList) takes its apiVersion from the list: the list's is edited.
    const listVersion = enclosing ? ownPair(enclosing.list, 'apiVersion') : undefined
    if (!listVersion || stringValue(listVersion.value) !== LEGACY || node.pairs().some((p) => p.merge))
      throw new CannotEdit('it comes from a merge key (<<) or an anchor', ['apiVersion'])
    const at = listVersion.value?.start ?? -1
    if (!w.edited.has(at)) {
      w.edited.add(at)
      w.edits.push(replaceScalar(listVersion.value, V1, ['apiVersion']))
    }
  }
  const expected: JsonObject = { ...value, apiVersion: V1 }
  const types = defaultedTypes(value)
  if (!types) return { expected, note: '' }
  const spec = mapValue(ownPair(node, 'spec'), ['spec'])
  const existing = ownPair(spec, 'policyTypes')
  if (existing) {
    const v = existing.value
    const rendered = syntax === 'json' ? JSON.stringify(types) : yamlFlow(types)
    if (
      v &&
      v.end > v.start &&
      (v.kind === 'seq' || v.kind === 'scalar') &&
      !(v.kind === 'scalar' && v.anchored)
    )
      w.edits.push({ start: v.start, end: v.end, text: rendered })
    else if (!v || v.end === v.start) {
      const colon = text.indexOf(':', existing.keyEnd)
      if (colon < 0) throw new CannotEdit('its value is not found', ['spec', 'policyTypes'])
      w.edits.push({ start: colon + 1, end: colon + 1, text: ` ${rendered}` })
    } else throw new CannotEdit('it is written as an alias', ['spec', 'policyTypes'])
  } else {
    w.edits.push(addPair(text, syntax, style, spec, 'policyTypes', types, ['spec']))
  }
  const spec0 = asObject(value.spec) ?? {}
  return {
    expected: { ...expected, spec: { ...spec0, policyTypes: types } },
    note: `; policyTypes [${types.join(', ')}] made explicit (the defaults)`,
  }
}

/** Removes the DefaultDeny annotation of one namespace in place. */
function editNamespace(w: FileWork, node: SpanMap): void {
  const text = w.decoded.text
  const metadata = mapValue(ownPair(node, 'metadata'), ['metadata'])
  const annotationsPair = ownPair(metadata, 'annotations')
  const annotations = mapValue(annotationsPair, ['metadata', 'annotations'])
  const path = ['metadata', 'annotations', LEGACY_ISOLATION_ANNOTATION]
  const targets = ownPairs(annotations, LEGACY_ISOLATION_ANNOTATION)
  if (targets.length === 0) throw new CannotEdit('it comes from a merge key (<<) or an anchor', path)
  const others = annotations.pairs().filter((p) => p.key !== LEGACY_ISOLATION_ANNOTATION)
  if (others.length > 0) {
    for (const t of targets) w.edits.push(removePair(text, annotations, t, path))
    return
  }
  const pair = annotationsPair as SpanPair
  if (metadata.pairs().some((p) => p.key !== 'annotations'))
    w.edits.push(removePair(text, metadata, pair, ['metadata', 'annotations']))
  else w.edits.push({ start: annotations.start, end: annotations.end, text: '{}' })
}

/**
 * Adds the default-deny-ingress policy next to its namespace: as the next item when the namespace is an
 * item of a `kind: List`, else as the next document, or in a new file next to a file of one JSON document
 * (a JSON file holds one value). Returns where it went, for the report.
 */
function addDenyPolicy(
  w: FileWork,
  syntax: Syntax,
  chunk: number,
  objectIndex: number,
  enclosing: Enclosing | undefined,
  policy: JsonObject,
  createdNames: Set<string>,
): string | undefined {
  const text = w.decoded.text
  const eol = lineEnding(text)
  const namespace = String((policy.metadata as JsonObject).namespace)
  const listKind = enclosing ? stringValue(ownPair(enclosing.list, 'kind')?.value) : undefined
  if (enclosing && listKind === 'List') {
    addAfter(w.extra, objectIndex, policy)
    const item = enclosing.items.items()[enclosing.index] as SpanNode
    if (syntax === 'json') {
      if (startsItsLine(text, item.start)) {
        const indent = indentOf(text, item.start)
        const outer = indentOf(text, enclosing.items.start)
        const unit =
          indent.startsWith(outer) && indent.length > outer.length ? indent.slice(outer.length) : '  '
        const style = { ...jsonStyle(text.slice(item.start, item.end)), unit }
        w.edits.push({
          start: item.end,
          end: item.end,
          text: `,${eol}${indent}${renderJson(policy, style, indent, eol)}`,
        })
      } else {
        const style = { ...jsonStyle(text.slice(item.start, item.end)), unit: undefined }
        w.edits.push({ start: item.end, end: item.end, text: `${style.comma}${renderJson(policy, style)}` })
      }
      return undefined
    }
    if (enclosing.items.flow) {
      w.edits.push({ start: item.end, end: item.end, text: `, ${yamlFlow(policy)}` })
      return undefined
    }
    const dash = ' '.repeat(enclosing.items.start - lineStartOf(text, enclosing.items.start))
    const content = item.start - lineStartOf(text, item.start)
    const lead = `-${' '.repeat(Math.max(1, content - dash.length - 1))}`
    const style = chunkStyle(w, chunk)
    const body = yamlBlockLines(policy, '', style).map((l, i) =>
      i === 0 ? `${dash}${lead}${l}` : `${dash}${' '.repeat(lead.length)}${l}`,
    )
    const { at, atEof } = afterLine(text, item.end)
    const lines = [...denyComment(namespace).map((c) => dash + c), ...body]
    w.edits.push({ start: at, end: at, text: (atEof ? eol : '') + lines.map((l) => l + eol).join('') })
    return undefined
  }
  const c = w.chunks[chunk] as Chunk
  const lastInChunk = lastObjectInChunk(w, chunk, objectIndex)
  const single = w.chunks.length === 1
  if (syntax === 'json' && single) {
    const base = w.file.replace(/\.json$/i, '')
    let name = `${base}.${policyName(policy)}.json`
    for (let n = 2; createdNames.has(name); n++) name = `${base}.${policyName(policy)}-${n}.json`
    createdNames.add(name)
    const style = jsonStyle(text)
    w.created.push({ name, value: policy, style, eol: text.endsWith('\n') ? eol : '' })
    return name
  }
  addAfter(w.extra, lastInChunk, policy)
  const chunkText = text.slice(c.start, c.end)
  const rendered =
    syntax === 'json'
      ? renderJson(policy, jsonStyle(chunkText), '', eol)
      : [...denyComment(namespace), ...yamlBlockLines(policy, '', chunkStyle(w, chunk))].join(eol)
  const needsEol = c.end > 0 && text[c.end - 1] !== '\n'
  w.edits.push({ start: c.end, end: c.end, text: `${needsEol ? eol : ''}---${eol}${rendered}${eol}` })
  return undefined
}

function policyName(policy: JsonObject): string {
  return String((policy.metadata as JsonObject).name)
}

function addAfter(extra: Map<number, JsonObject[]>, index: number, value: JsonObject): void {
  const list = extra.get(index) ?? []
  list.push(value)
  extra.set(index, list)
}

function lastObjectInChunk(w: FileWork, chunk: number, from: number): number {
  const c = w.chunks[chunk] as Chunk
  let last = from
  for (let i = from + 1; i < w.offsets.length; i++) {
    const o = w.offsets[i] as number
    if (o >= c.start && o < c.end) last = i
    else if (o >= c.end) break
  }
  return last
}

function offsetOf(lineStarts: readonly number[], source: SourceRef): number | undefined {
  if (source.line === undefined || source.column === undefined) return undefined
  const start = lineStarts[source.line - 1]
  return start === undefined ? undefined : start + source.column - 1
}

/** Rewrites every input; problems become diagnostics, never exceptions. */
export function migrateInputs(inputs: readonly InputText[]): MigrationResult {
  const changes: MigrationChange[] = []
  const diagnostics: Diagnostic[] = []
  const parsed = inputs.map((input) => ({ input, parsed: parseInput(input) }))
  // Every policy name per namespace, so that the generated policy takes a free one.
  const names: Names = { taken: new Set(), files: new Set(inputs.map((i) => i.file)) }
  for (const { parsed: p } of parsed) {
    for (const { object } of p.objects) {
      if (object.value.kind !== 'NetworkPolicy') continue
      const meta = asObject(object.value.metadata)
      const ns = typeof meta?.namespace === 'string' ? meta.namespace : 'default'
      names.taken.add(`${ns}/${typeof meta?.name === 'string' ? meta.name : ''}`)
    }
  }
  const files: MigratedFile[] = []
  for (const { input, parsed: p } of parsed) {
    const unchanged: MigratedFile = { file: input.file, text: input.text, changed: false }
    let done: FileResult
    try {
      done = migrateFile(input, p, names)
    } catch (err) {
      // A bug of ours: it must still not become a crash, and the file stays as it is.
      const why = err instanceof Error ? err.message : String(err)
      done = {
        files: [],
        changes: [],
        diagnostics: [
          problem(
            'migrate.cannot-rewrite',
            `unexpected problem (${why}); nothing of it is written`,
            input.file,
          ),
        ],
      }
    }
    diagnostics.push(...done.diagnostics)
    if (done.diagnostics.some((d) => d.severity === 'error') || done.files.length === 0) {
      files.push(unchanged)
      continue
    }
    changes.push(...done.changes)
    files.push(...done.files)
  }
  return { files, changes, diagnostics }
}

/** Names in use: policies per namespace, and file names. */
interface Names {
  readonly taken: Set<string>
  readonly files: Set<string>
}

/** One file's outcome: its files (none: unchanged), changes and diagnostics. */
interface FileResult {
  readonly files: readonly MigratedFile[]
  readonly changes: readonly MigrationChange[]
  readonly diagnostics: readonly Diagnostic[]
}

/** Rewrites one input the loader has parsed. */
function migrateFile(input: InputText, p: ParsedInput, names: Names): FileResult {
  const diagnostics: Diagnostic[] = []
  const unreadable = p.diagnostics.filter(isUnreadable)
  if (unreadable.length > 0) return { files: [], changes: [], diagnostics: unreadable }
  const decoded = decodeInput(input.text)
  if (!decoded)
    return {
      files: [],
      changes: [],
      diagnostics: [problem('migrate.cannot-rewrite', 'the input is not text the loader reads', input.file)],
    }
  const { chunks, lineStarts } = splitChunks(decoded.text)
  const w: FileWork = {
    file: input.file,
    decoded,
    chunks,
    offsets: p.objects.map((o) => offsetOf(lineStarts, o.object.source) ?? -1),
    spans: new Map(),
    styles: new Map(),
    edits: [],
    edited: new Set(),
    expected: p.objects.map((o) => o.object.value),
    extra: new Map(),
    created: [],
  }
  const changes: MigrationChange[] = []
  p.objects.forEach(({ object }, index) => {
    const value = object.value
    const name = describeObject(value)
    const isPolicy = value.kind === 'NetworkPolicy' && value.apiVersion === LEGACY
    const annotation = asObject(asObject(value.metadata)?.annotations)?.[LEGACY_ISOLATION_ANNOTATION]
    const isNamespace = value.kind === 'Namespace' && annotation !== undefined
    if (!isPolicy && !isNamespace) return
    if (isNamespace && !isDefaultDeny(annotation)) {
      diagnostics.push({
        code: 'migrate.annotation-kept',
        severity: 'warning',
        message: `${LEGACY_ISOLATION_ANNOTATION} is not {"ingress":{"isolation":"DefaultDeny"}}: it never isolated anything and is left as it is`,
        object: name,
        path: ['metadata', 'annotations', LEGACY_ISOLATION_ANNOTATION],
        source: object.source,
      })
      return
    }
    try {
      const offset = w.offsets[index] as number
      const chunk = chunkIndexOf(chunks, offset)
      const spans = offset < 0 ? undefined : spansOf(w, chunk)
      const found = spans ? findObject(spans, offset) : undefined
      if (!spans || !found) throw new CannotEdit('its text is not found', [])
      if (isPolicy) {
        const { expected, note } = editPolicy(
          w,
          spans.syntax,
          chunkStyle(w, chunk),
          found.node,
          found.enclosing,
          value,
        )
        w.expected[index] = expected
        const meta = asObject(value.metadata)
        const ns = typeof meta?.namespace === 'string' ? meta.namespace : 'default'
        changes.push({
          object: `NetworkPolicy ${ns}/${typeof meta?.name === 'string' ? meta.name : '<no name>'}`,
          message: `apiVersion ${LEGACY} -> ${V1}${note}`,
          source: object.source,
        })
        return
      }
      const nsName = asObject(value.metadata)?.name
      if (typeof nsName !== 'string')
        throw new CannotEdit(
          'metadata.name is not a string (YAML 1.1 reads y, n, yes, no, on, off as booleans: quote the name)',
          ['metadata', 'name'],
        )
      editNamespace(w, found.node)
      w.expected[index] = withoutAnnotation(value)
      let policy = DENY_NAME
      for (let n = 2; names.taken.has(`${nsName}/${policy}`); n++) policy = `${DENY_NAME}-${n}`
      names.taken.add(`${nsName}/${policy}`)
      const created = addDenyPolicy(
        w,
        spans.syntax,
        chunk,
        index,
        found.enclosing,
        denyPolicy(nsName, policy),
        names.files,
      )
      changes.push({
        object: `Namespace ${nsName}`,
        message: `DefaultDeny annotation removed; NetworkPolicy ${nsName}/${policy} (podSelector {}, policyTypes [Ingress]) added${created ? ` in ${created}` : ''}`,
        source: object.source,
      })
    } catch (err) {
      if (!(err instanceof CannotEdit)) throw err
      diagnostics.push({
        code: 'migrate.cannot-rewrite',
        severity: 'error',
        message: `cannot be rewritten in place: ${err.reason}; migrate it by hand`,
        object: name,
        path: err.path,
        source: object.locate(err.path),
      })
    }
  })
  if (w.edits.length === 0 || diagnostics.some((d) => d.severity === 'error'))
    return { files: [], changes: [], diagnostics }
  const out = applyEdits(decoded.text, w.edits)
  const files: MigratedFile[] = [
    { file: input.file, text: encodeOutput(out ?? '', decoded.encoding), changed: true },
    ...w.created.map((c) => ({
      file: c.name,
      text: encodeOutput(renderJson(c.value, c.style, '', c.eol || '\n') + c.eol, decoded.encoding),
      changed: true,
      createdFrom: input.file,
    })),
  ]
  const wrong = out === undefined ? 'two edits overlap' : verify(w, files)
  if (wrong !== undefined) {
    const message = `the rewritten text does not read back as intended (${wrong}); nothing of it is written: migrate this file by hand`
    return {
      files: [],
      changes: [],
      diagnostics: [...diagnostics, problem('migrate.cannot-rewrite', message, input.file)],
    }
  }
  return { files, changes, diagnostics }
}

/**
 * Reads the rewritten files back as stored (encoded): they must give exactly the intended objects;
 * returns the first difference.
 */
function verify(w: FileWork, files: readonly MigratedFile[]): string | undefined {
  const expected: JsonObject[] = []
  w.expected.forEach((v, i) => {
    expected.push(v)
    for (const x of w.extra.get(i) ?? []) expected.push(x)
  })
  const wanted = [expected, ...w.created.map((c) => [c.value])]
  for (const [i, f] of files.entries()) {
    const again = parseInput({ file: f.file, text: f.text })
    const unreadable = again.diagnostics.find(isUnreadable)
    if (unreadable) return `${f.file}: ${unreadable.message}`
    const diff = compareObjects(
      wanted[i] ?? [],
      again.objects.map((o) => o.object.value),
    )
    if (diff) return `${f.file}: ${diff}`
  }
  return undefined
}

function compareObjects(expected: readonly JsonObject[], got: readonly JsonObject[]): string | undefined {
  if (expected.length !== got.length) return `${got.length} objects instead of ${expected.length}`
  for (let i = 0; i < expected.length; i++) {
    const path = sameValue(expected[i] as JsonObject, got[i] as JsonObject)
    if (path !== undefined)
      return `${describeObject(expected[i] as JsonObject)}: ${path || 'the object'} differs`
  }
  return undefined
}

function problem(code: string, message: string, file: string): Diagnostic {
  return { code, severity: 'error', message, path: [], source: { file } }
}
