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

/** A JSON syntax error as Go's encoding/json reports it (what kubectl prints), at an offset of the text. */
export interface JsonSyntaxError {
  readonly offset: number
  readonly message: string
}

/** Quotes a character as Go's encoding/json does in its errors: 'x', '\n', '"'. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''"
  if (c === '"') return `'"'`
  const q = JSON.stringify(c)
  return `'${q.slice(1, -1)}'`
}

/**
 * Finds the first syntax error of a JSON text with the words of Go's encoding/json scanner (`invalid
 * character '}' looking for beginning of object key string`, `unexpected end of JSON input`). A second value
 * after a complete first one is no error here (kubectl reads a JSON stream of several objects). Undefined
 * when the text is one valid JSON value, or several.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0
  const n = text.length
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  }
  const fail = (context: string): JsonSyntaxError =>
    i >= n
      ? { offset: n, message: 'unexpected end of JSON input' }
      : { offset: i, message: `invalid character ${quoteChar(text[i] as string)} ${context}` }
  const string = (): JsonSyntaxError | undefined => {
    i++ // the opening quote
    while (i < n) {
      const c = text[i] as string
      if (c === '"') {
        i++
        return undefined
      }
      if (c < ' ') return fail('in string literal')
      if (c === '\\') {
        i++
        if (i >= n) return fail('')
        const e = text[i] as string
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            i++
            if (i >= n || !/[0-9a-fA-F]/.test(text[i] as string))
              return fail('in \\u hexadecimal character escape')
          }
        } else if (!'"\\/bfnrt'.includes(e)) return fail('in string escape code')
      }
      i++
    }
    return fail('')
  }
  const value = (): JsonSyntaxError | undefined => {
    ws()
    if (i >= n) return fail('')
    const c = text[i] as string
    if (c === '{') {
      i++
      ws()
      if (text[i] === '}') {
        i++
        return undefined
      }
      for (;;) {
        ws()
        if (text[i] !== '"') return fail('looking for beginning of object key string')
        const e = string()
        if (e) return e
        ws()
        if (text[i] !== ':') return fail('after object key')
        i++
        const v = value()
        if (v) return v
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          return undefined
        }
        return fail('after object key:value pair')
      }
    }
    if (c === '[') {
      i++
      ws()
      if (text[i] === ']') {
        i++
        return undefined
      }
      for (;;) {
        const v = value()
        if (v) return v
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          return undefined
        }
        return fail('after array element')
      }
    }
    if (c === '"') return string()
    for (const lit of ['true', 'false', 'null']) {
      if (c !== lit[0]) continue
      for (let k = 1; k < lit.length; k++) {
        i++
        if (text[i] !== lit[k]) return fail(`in literal ${lit} (expecting ${quoteChar(lit[k] as string)})`)
      }
      i++
      return undefined
    }
    const num = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (num && num[0] !== '-' && num[0] !== '') {
      i += num[0].length
      return undefined
    }
    return fail('looking for beginning of value')
  }
  const e = value()
  if (e) return e
  ws()
  if (i < n && text[i] !== '{' && text[i] !== '[') return fail('after top-level value')
  return undefined
}
