/**
 * YAML documents -> data + positions, read as kubectl reads them (go-yaml v2 under sigs.k8s.io/yaml):
 * plain scalars resolve by go-yaml's rules (go-yaml-resolve.ts: yes/no/on/off and y/n are booleans,
 * 0777 is octal, no sexagesimal numbers, timestamps stay strings), `<<` merges, keys become strings the
 * way sigs.k8s.io/yaml writes them. Where the yaml library is stricter than go-yaml about indentation
 * and tabs, go-yaml-scan.ts re-indents the lines first (positions are mapped back), and it reports what
 * go-yaml refuses that the yaml library would take. docs/semantics.md#yaml-reader has the contract.
 */
import { createRequire } from 'node:module'
import type * as YamlLib from 'yaml'
import type {
  Alias,
  Document,
  DocumentOptions,
  Pair,
  ParseOptions,
  Scalar,
  ScalarTag,
  SchemaOptions,
  YAMLMap,
  YAMLSeq,
  Node as YamlNode,
} from 'yaml'
import type { Diagnostic, JsonObject, JsonValue } from '../model/index.js'
import {
  decodeGoBinary,
  GoFloat,
  type GoResolvableTag,
  goKeyString,
  goScalarToJson,
  resolveGoScalar,
  resolveGoTagged,
} from './go-yaml-resolve.js'
import { scanGoYaml } from './go-yaml-scan.js'
import { type DocContext, type DocParse, type DuplicateKey, docLabel, sourceAt, type Tree } from './tree.js'

/**
 * The yaml library, loaded on first use: most documents are read by the fast paths (simple-yaml.ts,
 * fast-yaml.ts), and loading the library is a good share of a short `palisade check`.
 */
const requireModule = createRequire(import.meta.url)
let yamlLib: typeof YamlLib | undefined
function yaml(): typeof YamlLib {
  yamlLib ??= requireModule('yaml') as typeof YamlLib
  return yamlLib
}
/** Whether the yaml library has been loaded (tests check that plain manifests never need it). */
export function isYamlLibraryLoaded(): boolean {
  return yamlLib !== undefined
}
const isAlias = (n: unknown): n is Alias => yaml().isAlias(n)
const isMap = (n: unknown): n is YAMLMap => yaml().isMap(n)
const isPair = (n: unknown): n is Pair => yaml().isPair(n)
const isScalar = (n: unknown): n is Scalar => yaml().isScalar(n)
const isSeq = (n: unknown): n is YAMLSeq => yaml().isSeq(n)

/** Resolved aliases allowed per document: beyond this a document is treated as an alias bomb. */
export const MAX_ALIAS_COUNT = 1000

/**
 * The yaml library's YAML 1.1 tags that go-yaml v2 reads otherwise: timestamps stay plain strings;
 * explicit `!!binary`, `!!int`, `!!float`, `!!bool` and `!!null` are go-yaml's (goBinaryTag, goTypedTags).
 */
const DROPPED_TAGS: ReadonlySet<string> = new Set([
  'timestamp',
  'binary',
  'intTime',
  'floatTime',
  'tag:yaml.org,2002:timestamp',
  'tag:yaml.org,2002:binary',
  'tag:yaml.org,2002:int',
  'tag:yaml.org,2002:float',
  'tag:yaml.org,2002:bool',
  'tag:yaml.org,2002:null',
])

/** Plain scalars that go-yaml resolves to something else than a string (a GoFloat for floats). */
const goPlainTag: ScalarTag = {
  tag: 'tag:yaml.org,2002:go-plain',
  default: true,
  // The library calls test.test(source) on every plain scalar: go-yaml's resolve decides.
  test: { test: (source: string) => typeof resolveGoScalar(source) !== 'string' } as unknown as RegExp,
  resolve: (source: string) => resolveGoScalar(source) as unknown as string,
}

/** An explicit `!!binary` scalar: its decoded bytes, or go-yaml's refusal (the document is skipped). */
const goBinaryTag: ScalarTag = {
  tag: 'tag:yaml.org,2002:binary',
  default: false,
  resolve: (source: string, onError: (message: string) => void): string => {
    const decoded = decodeGoBinary(source)
    if (decoded === undefined) onError('!!binary value contains invalid base64 data')
    return decoded ?? source
  },
}

/** Explicitly tagged scalars go-yaml resolves: the plain rules, then the tag's type (resolveGoTagged). */
const goTypedTags: ScalarTag[] = (['int', 'float', 'bool', 'null'] as GoResolvableTag[]).map((name) => ({
  tag: `tag:yaml.org,2002:${name}`,
  default: false,
  resolve: (source: string, onError: (message: string) => void): unknown => {
    const r = resolveGoTagged(name, source)
    if ('error' in r) {
      onError(r.error)
      return source
    }
    return r.value
  },
}))

/**
 * How kubectl's YAML is read: plain scalars by go-yaml's rules (the library's own scalar tags only
 * serve explicit tags such as `!!int`), merge keys, timestamps and binary left as strings.
 */
const YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  // Duplicate keys are reported by us in kubectl's words; the last value wins, as in go-yaml -> JSON.
  uniqueKeys: false,
  version: '1.1',
  merge: true,
  customTags: (tags) => [
    goPlainTag,
    goBinaryTag,
    ...goTypedTags,
    ...tags
      .filter((t) => !DROPPED_TAGS.has(typeof t === 'string' ? t : t.tag))
      .map((t) =>
        typeof t !== 'string' && !t.collection && t.default === true ? { ...t, default: false } : t,
      ),
  ],
  // The core writes nothing to the console (the library would warn about collection keys there).
  logLevel: 'error',
}

/** What the go-yaml scan found for a parsed document: its offset map, and a refusal. */
interface ChunkInfo {
  readonly toInput: (offset: number) => number
  readonly refusal?: { readonly offset: number; readonly message: string }
}
const chunkInfo = new WeakMap<Document.Parsed, ChunkInfo>()

/**
 * Parses a chunk of text into YAML documents (normally one), after the go-yaml scan: the text may be
 * re-indented where go-yaml is more lenient than the yaml library (offsets are mapped back), and a
 * refusal of go-yaml's is reported by readYamlDocument.
 */
export function parseYamlChunk(text: string): readonly Document.Parsed[] {
  const scan = scanGoYaml(text)
  const parsed = yaml().parseAllDocuments(scan.text, YAML_OPTIONS)
  // parseAllDocuments returns an EmptyStream (an empty array) for empty text.
  const docs = Array.isArray(parsed) ? parsed : [parsed]
  // go-yaml refuses the chunk as a whole: one document carries the refusal.
  if (scan.refusal && docs[0]) docs.length = 1
  for (const doc of docs) chunkInfo.set(doc, scan)
  return docs
}

/** Reads one YAML document; syntax problems go to diagnostics and give no data. */
export function readYamlDocument(doc: Document.Parsed, ctx: DocContext, diagnostics: Diagnostic[]): DocParse {
  const info = chunkInfo.get(doc)
  const toInput = info?.toInput ?? ((n: number) => n)
  const at = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : toInput(offset)
  if (info?.refusal) {
    diagnostics.push({
      code: 'yaml.syntax',
      severity: 'error',
      message: `${info.refusal.message} (${docLabel(ctx)} skipped)`,
      path: [],
      source: sourceAt(ctx, info.refusal.offset),
    })
    return { ok: false, empty: false }
  }
  for (const w of doc.warnings) {
    diagnostics.push({
      code: 'yaml.warning',
      severity: 'warning',
      message: yamlMessage(w.message),
      path: [],
      source: sourceAt(ctx, at(w.pos[0])),
    })
  }
  const [e] = doc.errors
  if (e) {
    // Only the first error: the following ones mostly repeat it from another angle.
    diagnostics.push({
      code: 'yaml.syntax',
      severity: 'error',
      message: `${yamlMessage(e.message)} (${docLabel(ctx)} skipped)`,
      path: [],
      source: sourceAt(ctx, at(e.pos[0])),
    })
    return { ok: false, empty: false }
  }
  const root = doc.contents
  if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) {
    return { ok: false, empty: true } // only comments or `---`: skipped, as kubectl does
  }
  const badMerge = findAliasMergeOfNonMap(root, doc)
  if (badMerge !== undefined) {
    diagnostics.push({
      code: 'yaml.syntax',
      severity: 'error',
      message: `map merge requires map or sequence of maps as the value (${docLabel(ctx)} skipped)`,
      path: [],
      source: sourceAt(ctx, at(startOf(badMerge))),
    })
    return { ok: false, empty: false }
  }
  let js: JsonValue
  try {
    js = toJson(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT, mapAsMap: true }), new Set())
  } catch (err) {
    const tooMany = err instanceof ReferenceError
    diagnostics.push({
      code: tooMany ? 'yaml.alias-limit' : 'yaml.syntax',
      severity: 'error',
      message: tooMany
        ? `too many alias expansions (over ${MAX_ALIAS_COUNT}): the document looks like an alias bomb and was skipped`
        : `${err instanceof Error ? err.message : String(err)} (document skipped)`,
      path: [],
      source: sourceAt(ctx, at(startOf(root))),
    })
    return { ok: false, empty: false }
  }
  return {
    ok: true,
    value: js,
    tree: yamlTree(root, doc, at),
    duplicates: findDuplicateKeys(root, ctx, at),
  }
}

/**
 * Resolves a plain (unquoted) scalar outside a key as kubectl would (yes -> true, 0777 -> 511, 1:20 ->
 * "1:20"...). Throws for the values kubectl cannot turn into JSON (.nan, .inf).
 */
export function resolvePlainScalar(source: string): JsonValue {
  return goScalarToJson(resolveGoScalar(source))
}

/** Keeps the yaml library's first line, without its trailing "at line N, column M:" (the source has them). */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message
  return first.replace(/ at line \d+, column \d+:?$/, '')
}

/**
 * Converts the yaml library's JS value into plain JSON data (Map/Set only appear with explicit tags).
 * An alias inside its own anchor makes a cycle: go-yaml refuses it, and so do we (an Error).
 */
function toJson(v: unknown, open: Set<object>): JsonValue {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
  if (typeof v === 'bigint') return Number(v)
  if (v instanceof GoFloat) return goScalarToJson(v)
  if (typeof v !== 'object') return String(v)
  if (open.has(v)) throw new Error('anchor value contains itself')
  open.add(v)
  let out: JsonValue
  if (Array.isArray(v)) out = v.map((x) => toJson(x, open))
  else if (v instanceof Set) out = [...v].map((x) => toJson(x, open))
  else {
    const obj: JsonObject = {}
    const entries = v instanceof Map ? [...v] : Object.entries(v)
    for (const [k, val] of entries) {
      const key = goKeyString(k)
      const value = toJson(val, open)
      // `__proto__` is a key like any other in a manifest: an own property, never the prototype.
      if (key === '__proto__')
        Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
      else obj[key] = value
    }
    out = obj
  }
  open.delete(v)
  return out
}

/** Follows aliases to the anchored node (bounded: an alias chain cannot loop forever). */
function resolveNode(node: unknown, doc: Document.Parsed): YamlNode | undefined {
  let n = node
  for (let hops = 0; isAlias(n); hops++) n = hops < 100 ? n.resolve(doc) : undefined
  return n as YamlNode | undefined
}

/** A scalar key as the string key of the JSON (null keys make kubectl refuse the document: toJson throws). */
function keyText(key: unknown): string | undefined {
  if (!isScalar(key) || key.value === null) return undefined
  try {
    return goKeyString(key.value)
  } catch {
    return undefined
  }
}

/** With merge keys on, the yaml library gives a plain `<<` key a symbol value. */
/**
 * A merge key whose value is an alias to something else than a mapping: go-yaml refuses it (decode.go
 * merge: failWantMap), the yaml library merges the maps of an aliased sequence. Iterative: the depth
 * guard has run, but a document may still be wide.
 */
function findAliasMergeOfNonMap(root: YamlNode, doc: Document.Parsed): Alias | undefined {
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (isMap(node)) {
      for (const p of node.items) {
        if (!isPair(p)) continue
        if (isMergeKey(p.key) && isAlias(p.value) && !isMap(p.value.resolve(doc))) return p.value
        stack.push(p.key, p.value)
      }
    } else if (isSeq(node)) for (const item of node.items) stack.push(item)
  }
  return undefined
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol'
}

function startOf(node: unknown): number | undefined {
  const n = node as { range?: readonly number[] | null } | null | undefined
  return n?.range?.[0]
}

/** The pair that gives a key its value: the last one (last value wins), then merged (<<) maps. */
function pairFor(
  map: YAMLMap,
  key: string,
  doc: Document.Parsed,
  depth = 0,
): { key: unknown; value: unknown } | undefined {
  for (let i = map.items.length - 1; i >= 0; i--) {
    const p = map.items[i]
    if (isPair(p) && !isMergeKey(p.key) && keyText(p.key) === key) return p
  }
  if (depth > 20) return undefined
  for (const p of map.items) {
    if (!isPair(p) || !isMergeKey(p.key)) continue
    const v = resolveNode(p.value, doc)
    const sources = isSeq(v) ? v.items.map((s) => resolveNode(s, doc)) : [v]
    for (const s of sources) {
      if (isMap(s)) {
        const found = pairFor(s, key, doc, depth + 1)
        if (found) return found
      }
    }
  }
  return undefined
}

/** Positions of a YAML node: a map child is found at its key, a sequence child at its item. */
function yamlTree(
  node: unknown,
  doc: Document.Parsed,
  at: (n: number | undefined) => number | undefined,
): Tree {
  return {
    offset: at(startOf(node)),
    child(seg) {
      const n = resolveNode(node, doc)
      if (isMap(n)) {
        const pair = pairFor(n, String(seg), doc)
        return pair ? { at: at(startOf(pair.key)), tree: yamlTree(pair.value, doc, at) } : undefined
      }
      if (isSeq(n) && typeof seg === 'number') {
        const item = n.items[seg]
        return item === undefined ? undefined : { at: at(startOf(item)), tree: yamlTree(item, doc, at) }
      }
      return undefined
    },
  }
}

/** Finds keys defined twice in one mapping (go-yaml: `mapping key "name" already defined at line N`). */
function findDuplicateKeys(
  root: YamlNode,
  ctx: DocContext,
  at: (n: number | undefined) => number | undefined,
): DuplicateKey[] {
  const out: DuplicateKey[] = []
  const walk = (node: unknown, path: (string | number)[], depth: number): void => {
    if (depth > 200) return
    if (isMap(node)) {
      const seen = new Map<string, number | undefined>()
      for (const p of node.items) {
        if (!isPair(p)) continue
        const k = keyText(p.key)
        if (k !== undefined && !isMergeKey(p.key)) {
          const start = at(startOf(p.key))
          if (seen.has(k)) {
            const first = seen.get(k)
            out.push({
              path: [...path, k],
              key: k,
              firstLine: first === undefined ? 0 : (sourceAt(ctx, first).line ?? 0),
              source: sourceAt(ctx, start),
            })
          }
          seen.set(k, start)
        }
        walk(p.value, [...path, k ?? '?'], depth + 1)
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        walk(item, [...path, i], depth + 1)
      })
    }
  }
  walk(root, [], 0)
  return out
}
