/**
 * Where things are in a document's text, with their ends: what migrate needs to edit a manifest in place.
 * The loader's positions (src/load) say where a node starts; an edit also needs where it ends, how a
 * mapping is written (block or flow) and where its pairs are. One interface over two readers: the yaml
 * library's nodes for YAML (read with the loader's YAML 1.1 options), and a scanner for JSON that walks
 * without recursion (a JSON document may nest deeper than the stack).
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
  type Node as YamlNode,
} from 'yaml'

/** A scalar's spelling: plain, quoted, or a block scalar (| or >). */
export type ScalarStyle = 'plain' | 'double' | 'single' | 'block'

/** A key and its value inside a mapping, with absolute offsets. */
export interface SpanPair {
  /** The key's text; undefined for a key that is not a scalar. */
  readonly key: string | undefined
  /** A YAML merge key (`<<`). */
  readonly merge: boolean
  readonly keyStart: number
  readonly keyEnd: number
  /** The value; undefined when absent (`key:` with nothing after it). */
  readonly value: SpanNode | undefined
}

interface SpanBase {
  /** Offset of the node's first character (after any anchor or tag) in the whole text. */
  readonly start: number
  /** Offset just past the node's last character (block collections: past their last line ending). */
  readonly end: number
}

export interface SpanMap extends SpanBase {
  readonly kind: 'map'
  readonly flow: boolean
  pairs(): readonly SpanPair[]
}

export interface SpanSeq extends SpanBase {
  readonly kind: 'seq'
  readonly flow: boolean
  items(): readonly SpanNode[]
}

export interface SpanScalar extends SpanBase {
  readonly kind: 'scalar'
  readonly style: ScalarStyle
  /** The scalar's value as read (a string, number, boolean or null). */
  readonly value: unknown
  /** Whether the scalar carries an anchor (another node may alias it). */
  readonly anchored: boolean
}

export interface SpanOther extends SpanBase {
  /** An alias (`*name`), or anything else migrate does not edit. */
  readonly kind: 'alias' | 'other'
}

export type SpanNode = SpanMap | SpanSeq | SpanScalar | SpanOther

/** A document's syntax: JSON documents get JSON edits, YAML ones YAML edits. */
export type Syntax = 'json' | 'yaml'

/** The root nodes of one chunk (normally one document). */
export interface ChunkSpans {
  readonly syntax: Syntax
  readonly roots: readonly SpanNode[]
}

/** Options as src/load reads YAML (version 1.1 like kubectl, merge keys, duplicate keys allowed). */
const YAML_OPTIONS = { version: '1.1', merge: true, uniqueKeys: false, logLevel: 'error' } as const

/**
 * Reads the spans of a chunk [start, end) of text; JSON when the loader would read it as JSON (its first
 * character opens an object or array and JSON.parse accepts it), else YAML.
 */
export function readChunkSpans(text: string, start: number, end: number): ChunkSpans | undefined {
  const chunk = text.slice(start, end)
  const first = chunk.search(/\S/)
  if (first >= 0 && (chunk[first] === '{' || chunk[first] === '[')) {
    let json = true
    try {
      JSON.parse(chunk)
    } catch {
      json = false
    }
    if (json) return { syntax: 'json', roots: [jsonNode(text, start + first)] }
  }
  const docs = parseAllDocuments(chunk, YAML_OPTIONS)
  const list = Array.isArray(docs) ? docs : [docs]
  if (list.some((d) => d.errors.length > 0)) return undefined
  const roots: SpanNode[] = []
  for (const d of list) if (d.contents) roots.push(yamlNode(d.contents as YamlNode, start))
  return { syntax: 'yaml', roots }
}

// ---------------------------------------------------------------------------------------------
// YAML: the yaml library's nodes, offsets moved from the chunk to the whole text

function yamlNode(node: YamlNode, base: number): SpanNode {
  const range = node.range ?? [0, 0, 0]
  const start = base + range[0]
  const end = base + range[1]
  if (isMap(node)) {
    const map = node as YAMLMap<unknown, unknown>
    let pairs: SpanPair[] | undefined
    return {
      kind: 'map',
      start,
      end,
      flow: map.flow === true,
      pairs: () => {
        pairs ??= map.items.flatMap((p): SpanPair[] => {
          const key = p.key as YamlNode | null
          if (!key?.range) return []
          const scalarKey = isScalar(key) ? (key as Scalar) : undefined
          const merge = typeof scalarKey?.value === 'symbol'
          const value = p.value as YamlNode | null
          return [
            {
              key: scalarKey && !merge ? String(scalarKey.value) : undefined,
              merge,
              keyStart: base + key.range[0],
              keyEnd: base + key.range[1],
              value: value?.range ? yamlNode(value, base) : undefined,
            },
          ]
        })
        return pairs
      },
    }
  }
  if (isSeq(node)) {
    const seq = node as YAMLSeq<unknown>
    let items: SpanNode[] | undefined
    return {
      kind: 'seq',
      start,
      end,
      flow: seq.flow === true,
      items: () => {
        items ??= seq.items.map((n) => yamlNode(n as YamlNode, base))
        return items
      },
    }
  }
  if (isScalar(node)) {
    const style: ScalarStyle =
      node.type === 'QUOTE_DOUBLE'
        ? 'double'
        : node.type === 'QUOTE_SINGLE'
          ? 'single'
          : node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED'
            ? 'block'
            : 'plain'
    return { kind: 'scalar', start, end, style, value: node.value, anchored: node.anchor !== undefined }
  }
  return { kind: isAlias(node) ? 'alias' : 'other', start, end }
}

// ---------------------------------------------------------------------------------------------
// JSON: text JSON.parse accepted, scanned lazily and without recursion

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r'
}

function skipSpace(text: string, i: number): number {
  while (isSpace(text[i])) i++
  return i
}

/** End of the string starting at the quote at i. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j]
    if (c === '\\') j++
    else if (c === '"') return j + 1
  }
  return text.length
}

/** End of the object or array opening at i (a depth count, strings skipped). */
function containerEnd(text: string, i: number): number {
  let depth = 0
  for (let j = i; j < text.length; j++) {
    const c = text[j]
    if (c === '"') j = stringEnd(text, j) - 1
    else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') {
      depth--
      if (depth === 0) return j + 1
    }
  }
  return text.length
}

function jsonNode(text: string, i: number): SpanNode {
  const c = text[i]
  if (c === '{') {
    const end = containerEnd(text, i)
    let pairs: SpanPair[] | undefined
    return {
      kind: 'map',
      start: i,
      end,
      flow: true,
      pairs: () => {
        if (pairs) return pairs
        pairs = []
        let j = skipSpace(text, i + 1)
        while (text[j] === '"') {
          const keyEnd = stringEnd(text, j)
          const key = JSON.parse(text.slice(j, keyEnd)) as string
          const valueStart = skipSpace(text, skipSpace(text, keyEnd) + 1) // past ':'
          const value = jsonNode(text, valueStart)
          pairs.push({ key, merge: false, keyStart: j, keyEnd, value })
          j = skipSpace(text, value.end)
          if (text[j] !== ',') break
          j = skipSpace(text, j + 1)
        }
        return pairs
      },
    }
  }
  if (c === '[') {
    const end = containerEnd(text, i)
    let items: SpanNode[] | undefined
    return {
      kind: 'seq',
      start: i,
      end,
      flow: true,
      items: () => {
        if (items) return items
        items = []
        let j = skipSpace(text, i + 1)
        while (j < end - 1) {
          const item = jsonNode(text, j)
          items.push(item)
          j = skipSpace(text, item.end)
          if (text[j] !== ',') break
          j = skipSpace(text, j + 1)
        }
        return items
      },
    }
  }
  if (c === '"') {
    const end = stringEnd(text, i)
    return {
      kind: 'scalar',
      start: i,
      end,
      style: 'double',
      value: JSON.parse(text.slice(i, end)),
      anchored: false,
    }
  }
  let end = i
  while (
    end < text.length &&
    !isSpace(text[end]) &&
    text[end] !== ',' &&
    text[end] !== ']' &&
    text[end] !== '}'
  )
    end++
  return {
    kind: 'scalar',
    start: i,
    end,
    style: 'plain',
    value: JSON.parse(text.slice(i, end)),
    anchored: false,
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers over spans

/** The pair that gives a key its value in this mapping's own pairs: the last one (last value wins). */
export function ownPair(map: SpanMap, key: string): SpanPair | undefined {
  const pairs = map.pairs()
  for (let i = pairs.length - 1; i >= 0; i--) if (pairs[i]?.key === key) return pairs[i]
  return undefined
}

/** Every own pair with this key (duplicates included). */
export function ownPairs(map: SpanMap, key: string): SpanPair[] {
  return map.pairs().filter((p) => p.key === key)
}

/** The string value of a scalar, else undefined. */
export function stringValue(node: SpanNode | undefined): string | undefined {
  return node?.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined
}
