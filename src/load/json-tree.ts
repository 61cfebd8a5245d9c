/**
 * Fast path for JSON documents (`kubectl get -o json`): JSON.parse for the data and a linear scan
 * for positions and duplicate keys. The yaml library is some 20 times slower on the same text.
 */
import type { JsonValue } from '../model/index.js'
import {
  type DocContext,
  type DocData,
  type DuplicateKey,
  leafTree,
  type PosNode,
  posTree,
  sourceAt,
  type Tree,
} from './tree.js'

interface JsonPos extends PosNode {
  readonly offset: number
}

/**
 * Parses a chunk as JSON; undefined when it is not JSON (the YAML parser then takes it). Only a chunk
 * whose first character is `{` is JSON, as for kubectl (apimachinery's GuessJSONStream): anything else,
 * a top-level array included, is YAML, where go-yaml's rules for tabs apply.
 */
export function parseJsonDocument(text: string, ctx: DocContext): DocData | undefined {
  const first = text.search(/\S/)
  if (first < 0 || text[first] !== '{') return undefined
  let value: JsonValue
  try {
    value = JSON.parse(text) as JsonValue
  } catch {
    return undefined
  }
  const duplicates: DuplicateKey[] = []
  let tree: Tree
  try {
    tree = posTree(indexJson(text, first, ctx, duplicates))
  } catch {
    tree = leafTree(first) // nesting deeper than the stack: data without positions
  }
  return { ok: true, value, tree, duplicates }
}

/** Scans valid JSON (JSON.parse accepted it) recording offsets; the last of duplicate keys wins, as in JSON.parse. */
function indexJson(text: string, start: number, ctx: DocContext, duplicates: DuplicateKey[]): JsonPos {
  let i = start
  const skipSpace = (): void => {
    for (;;) {
      const c = text.charCodeAt(i)
      if (c === 32 || c === 9 || c === 10 || c === 13) i++
      else return
    }
  }
  const readString = (): string => {
    const from = i
    let escaped = false
    i++
    for (;;) {
      const c = text.charCodeAt(i)
      if (c === 92) {
        escaped = true
        i += 2
      } else if (c === 34) {
        i++
        break
      } else i++
    }
    return escaped ? (JSON.parse(text.slice(from, i)) as string) : text.slice(from + 1, i - 1)
  }
  const readValue = (path: readonly (string | number)[]): JsonPos => {
    skipSpace()
    const offset = i
    const c = text[i]
    if (c === '{') {
      i++
      const keys = new Map<string, { at: number; node: JsonPos }>()
      skipSpace()
      if (text[i] === '}') {
        i++
        return { offset, keys }
      }
      for (;;) {
        skipSpace()
        const at = i
        const key = readString()
        skipSpace()
        i++ // ':'
        const node = readValue([...path, key])
        const earlier = keys.get(key)
        if (earlier) {
          duplicates.push({
            path: [...path, key],
            key,
            firstLine: sourceAt(ctx, earlier.at).line ?? 0,
            source: sourceAt(ctx, at),
          })
        }
        keys.set(key, { at, node })
        skipSpace()
        if (text[i++] !== ',') return { offset, keys }
      }
    }
    if (c === '[') {
      i++
      const items: JsonPos[] = []
      skipSpace()
      if (text[i] === ']') {
        i++
        return { offset, items }
      }
      for (;;) {
        items.push(readValue([...path, items.length]))
        skipSpace()
        if (text[i++] !== ',') return { offset, items }
      }
    }
    if (c === '"') {
      readString()
      return { offset }
    }
    while (i < text.length && !',]} \t\r\n'.includes(text[i] as string)) i++
    return { offset }
  }
  return readValue([])
}
