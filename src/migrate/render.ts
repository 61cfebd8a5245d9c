/**
 * What migrate adds, written in the style of the text it goes into: YAML block (with the file's
 * indentation and sequence style), YAML flow, or JSON (with the file's indentation, or compact).
 */
import { parseDocument } from 'yaml'
import type { JsonObject, JsonValue } from '../model/index.js'

/** How a YAML text indents: its mapping step and how far `- ` items sit under their key. */
export interface YamlStyle {
  readonly unit: string
  readonly seqIndent: string
}

const KEY_ONLY = /^( *)[^ #\-\n][^\n]*:[ \t]*(#.*)?\r?$/
const ITEM = /^( *)- /

/**
 * Reads a YAML text's style from its first `key:` line followed by a deeper line: a mapping line gives the
 * step, a `- ` line the sequence indentation. Defaults: two spaces, and `- ` under its key as kubectl
 * prints it.
 */
export function yamlStyle(text: string): YamlStyle {
  let unit: string | undefined
  let seqIndent: string | undefined
  const lines = text.split('\n')
  for (let i = 0; i < lines.length - 1 && (unit === undefined || seqIndent === undefined); i++) {
    const key = KEY_ONLY.exec(lines[i] as string)
    if (!key) continue
    let j = i + 1
    while (j < lines.length && /^\s*(#.*)?\r?$/.test(lines[j] as string)) j++
    const next = lines[j]
    if (next === undefined) break
    const depth = (key[1] as string).length
    const item = ITEM.exec(next)
    if (item) {
      const d = (item[1] as string).length - depth
      if (seqIndent === undefined && d >= 0) seqIndent = ' '.repeat(d)
      continue
    }
    const d = next.length - next.trimStart().length - depth
    if (unit === undefined && d > 0) unit = ' '.repeat(d)
  }
  return { unit: unit ?? '  ', seqIndent: seqIndent ?? '' }
}

/** A string as a YAML scalar: plain when YAML 1.1 reads it back as the same string, else double-quoted. */
export function yamlString(s: string): string {
  if (/^[A-Za-z0-9][-A-Za-z0-9_./]*$/.test(s)) {
    const back: unknown = parseDocument(`${s}\n`, { version: '1.1' }).toJS()
    if (back === s) return s
  }
  return JSON.stringify(s)
}

/** A value as YAML flow text (`{a: b, c: [d]}`). */
export function yamlFlow(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.map(yamlFlow).join(', ')}]`
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${yamlString(k)}: ${yamlFlow(x)}`)
      .join(', ')}}`
  return typeof v === 'string' ? yamlString(v) : JSON.stringify(v)
}

/**
 * A mapping as YAML block lines (no line endings), indented by `indent`: nested mappings by the style's
 * step, sequences of scalars as `- ` items, empty mappings and sequences in flow style.
 */
export function yamlBlockLines(v: JsonObject, indent: string, style: YamlStyle): string[] {
  const lines: string[] = []
  for (const [k, x] of Object.entries(v)) {
    const key = `${indent}${yamlString(k)}:`
    if (Array.isArray(x) && x.length > 0 && x.every((e) => e === null || typeof e !== 'object')) {
      lines.push(key)
      for (const e of x) lines.push(`${indent}${style.seqIndent}- ${yamlFlow(e)}`)
    } else if (x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length > 0) {
      lines.push(key, ...yamlBlockLines(x, indent + style.unit, style))
    } else {
      lines.push(`${key} ${yamlFlow(x)}`)
    }
  }
  return lines
}

/** How a JSON text is laid out: its indentation step (undefined: all on one line) and its separators. */
export interface JsonStyle {
  readonly unit: string | undefined
  /** Between a key and its value: ': ' or ':'. */
  readonly colon: string
  /** Between items on one line: ', ' or ','. */
  readonly comma: string
}

/** Reads a JSON text's layout: the indentation of its first indented line, and its separators. */
export function jsonStyle(text: string): JsonStyle {
  const indented = /\n([ \t]+)\S/.exec(text)
  const colon = /"\s*:( ?)/.exec(text)?.[1] === ' ' ? ': ' : ':'
  const comma = /,( ?)"/.exec(text)?.[1] === ' ' ? ', ' : ','
  return { unit: indented?.[1], colon, comma }
}

/** A value as JSON in a style; lines after the first start with `indent` (where the value goes). */
export function renderJson(v: JsonValue, style: JsonStyle, indent = '', eol = '\n'): string {
  if (style.unit === undefined) {
    const compact = JSON.stringify(v)
    return style.colon === ':' && style.comma === ',' ? compact : jsonSpaced(v, style)
  }
  return JSON.stringify(v, null, style.unit)
    .split('\n')
    .join(eol + indent)
}

/** One-line JSON with the given separators. */
function jsonSpaced(v: JsonValue, style: JsonStyle): string {
  if (Array.isArray(v)) return `[${v.map((x) => jsonSpaced(x, style)).join(style.comma)}]`
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}${style.colon}${jsonSpaced(x, style)}`)
      .join(style.comma)}}`
  return JSON.stringify(v)
}
