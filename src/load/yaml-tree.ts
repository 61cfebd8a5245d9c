/**
 * YAML documents -> data + positions. Read as YAML 1.1 (yes/no/on/off and y/n are booleans, 0777 is
 * octal, `<<` merges), because kubectl decodes manifests with go-yaml v2 (sigs.k8s.io/yaml), which
 * follows 1.1. Timestamps and !!binary stay strings, as they do once sigs.k8s.io/yaml makes JSON.
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
import { type DocContext, type DocParse, type DuplicateKey, sourceAt, type Tree } from './tree.js'

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

/** YAML 1.1 types go-yaml v2 does not give Kubernetes: they stay plain strings. */
const DROPPED_TAGS: ReadonlySet<string> = new Set([
  'timestamp',
  'binary',
  'intTime',
  'floatTime',
  'tag:yaml.org,2002:timestamp',
  'tag:yaml.org,2002:binary',
])

/** How kubectl's YAML is read: 1.1 with merge keys, timestamps and binary left as strings. */
const YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  // Duplicate keys are reported by us in kubectl's words; the last value wins, as in go-yaml -> JSON.
  uniqueKeys: false,
  version: '1.1',
  merge: true,
  customTags: (tags) => tags.filter((t) => !DROPPED_TAGS.has(typeof t === 'string' ? t : t.tag)),
  // The core writes nothing to the console (the library would warn about collection keys there).
  logLevel: 'error',
}

/** Parses a chunk of text into YAML documents (normally one). */
export function parseYamlChunk(text: string): readonly Document.Parsed[] {
  const docs = yaml().parseAllDocuments(text, YAML_OPTIONS)
  // parseAllDocuments returns an EmptyStream (an empty array) for empty text.
  return Array.isArray(docs) ? docs : [docs]
}

/** Reads one YAML document; syntax problems go to diagnostics and give no data. */
export function readYamlDocument(doc: Document.Parsed, ctx: DocContext, diagnostics: Diagnostic[]): DocParse {
  for (const w of doc.warnings) {
    diagnostics.push({
      code: 'yaml.warning',
      severity: 'warning',
      message: yamlMessage(w.message),
      path: [],
      source: sourceAt(ctx, w.pos[0]),
    })
  }
  const [e] = doc.errors
  if (e) {
    // Only the first error: the following ones mostly repeat it from another angle.
    diagnostics.push({
      code: 'yaml.syntax',
      severity: 'error',
      message: `${yamlMessage(e.message)} (document ${ctx.doc + 1} skipped)`,
      path: [],
      source: sourceAt(ctx, e.pos[0]),
    })
    return { ok: false, empty: false }
  }
  const root = doc.contents
  if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) {
    return { ok: false, empty: true } // only comments or `---`: skipped, as kubectl does
  }
  let js: JsonValue
  try {
    js = toJson(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), new Set())
  } catch (err) {
    const tooMany = err instanceof ReferenceError
    diagnostics.push({
      code: tooMany ? 'yaml.alias-limit' : 'yaml.syntax',
      severity: 'error',
      message: tooMany
        ? `too many alias expansions (over ${MAX_ALIAS_COUNT}): the document looks like an alias bomb and was skipped`
        : `${err instanceof Error ? err.message : String(err)} (document skipped)`,
      path: [],
      source: sourceAt(ctx, startOf(root)),
    })
    return { ok: false, empty: false }
  }
  return { ok: true, value: js, tree: yamlTree(root, doc), duplicates: findDuplicateKeys(root, ctx) }
}

/** The implicit scalar tags of the schema above, in the order the yaml library tries them. */
let scalarTagsCache: readonly ScalarTag[] | undefined
function scalarTags(): readonly ScalarTag[] {
  scalarTagsCache ??= new (yaml().Document)(null, YAML_OPTIONS).schema.tags.filter(
    (t): t is ScalarTag => t.default === true && !t.collection && t.test !== undefined,
  )
  return scalarTagsCache
}

/**
 * The first characters of every plain scalar the tags above can match (the rest are strings at once);
 * test/load/fast-path.test.ts checks the shortcuts against the tags.
 */
const MAYBE_TYPED: ReadonlySet<string> = new Set('~NnYyTtOoFfEe0123456789+-.')

/**
 * Resolves a plain (unquoted) scalar outside a key exactly as parseYamlChunk would (yes -> true, 0777 ->
 * 511, 1:20 -> 80...): the first schema tag whose test matches, else a string. Throws when the
 * yaml library would report a problem.
 */
export function resolvePlainScalar(source: string): JsonValue {
  const c = source.charCodeAt(0)
  if (c >= 128 || (source.length > 0 && !MAYBE_TYPED.has(source[0] as string))) return source
  // Words the tags know (null, yes, off, false...) have at most 5 letters; E starts floats (E5).
  if (source.length > 5 && c !== 69 && c !== 101 && ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)))
    return source
  return resolvePlainScalarByTags(source)
}

/** resolvePlainScalar without the shortcuts: every tag is tried. */
export function resolvePlainScalarByTags(source: string): JsonValue {
  const tag = scalarTags().find((t) => t.test?.test(source))
  if (!tag) return source
  const res: unknown = tag.resolve(
    source,
    (msg) => {
      throw new Error(msg)
    },
    YAML_OPTIONS,
  )
  return toJson(isScalar(res) ? res.value : res, new Set())
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
  if (v instanceof Date) return v.toISOString()
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
      const key = String(k)
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

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? 'null' : String(key.value)
  return undefined
}

/** With merge keys on, the yaml library gives a plain `<<` key a symbol value. */
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
function yamlTree(node: unknown, doc: Document.Parsed): Tree {
  return {
    offset: startOf(node),
    child(seg) {
      const n = resolveNode(node, doc)
      if (isMap(n)) {
        const pair = pairFor(n, String(seg), doc)
        return pair ? { at: startOf(pair.key), tree: yamlTree(pair.value, doc) } : undefined
      }
      if (isSeq(n) && typeof seg === 'number') {
        const item = n.items[seg]
        return item === undefined ? undefined : { at: startOf(item), tree: yamlTree(item, doc) }
      }
      return undefined
    },
  }
}

/** Finds keys defined twice in one mapping (go-yaml: `mapping key "name" already defined at line N`). */
function findDuplicateKeys(root: YamlNode, ctx: DocContext): DuplicateKey[] {
  const out: DuplicateKey[] = []
  const walk = (node: unknown, path: (string | number)[], depth: number): void => {
    if (depth > 200) return
    if (isMap(node)) {
      const seen = new Map<string, number | undefined>()
      for (const p of node.items) {
        if (!isPair(p)) continue
        const k = keyText(p.key)
        if (k !== undefined && !isMergeKey(p.key)) {
          const start = startOf(p.key)
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
