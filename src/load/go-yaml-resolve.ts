/**
 * Plain scalars and map keys as kubectl reads them: go-yaml v2 (go.yaml.in/yaml/v2 v2.4, the reader of
 * sigs.k8s.io/yaml) resolves the scalar (resolve.go), then sigs.k8s.io/yaml turns the data into JSON
 * (yaml.go, convertToJSONableObject: keys become strings, json.Marshal writes the values).
 *
 * This is not the YAML 1.1 schema of the yaml library: go-yaml has no sexagesimal numbers (`1:20` is a
 * string), reads integers with Go's strconv.ParseInt(s, 0, 64) after dropping `_` (so `0o17`, `0B1` and
 * `0X1F` are numbers, `08` is the float 8), takes floats only in decimal form (`E5` is a string), and
 * leaves timestamps as strings. Pure.
 */
import type { JsonValue } from '../model/index.js'

/** A float as go-yaml resolves it: a number in a value, formatted with strconv's %g (float32) as a key. */
export class GoFloat {
  constructor(readonly value: number) {}
  /** The key sigs.k8s.io/yaml makes of it: strconv.FormatFloat(f, 'g', -1, 32), .inf/-.inf/.nan kept. */
  toString(): string {
    return formatFloatKey(this.value)
  }
}

/**
 * What go-yaml makes of a plain scalar: a JSON scalar, floats as GoFloat. (`<<` is a string here: its
 * first character gives no hint, and go-yaml's decoder, not resolve, treats it as a merge key.)
 */
export type GoScalar = string | number | boolean | null | GoFloat

/** resolveTable: the first characters after which a plain scalar may be something else than a string. */
const HINT = new Uint8Array(128)
for (const c of '+-') HINT[c.charCodeAt(0)] = 1 // sign
for (const c of '0123456789') HINT[c.charCodeAt(0)] = 2 // digit
for (const c of 'yYnNtTfFoO~') HINT[c.charCodeAt(0)] = 3 // in the map only
HINT['.'.charCodeAt(0)] = 4 // a float, or in the map

/** resolveMap: words and special floats. */
const WORDS: ReadonlyMap<string, GoScalar> = new Map<string, GoScalar>([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map((w) => [w, true] as const),
  ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map(
    (w) => [w, false] as const,
  ),
  ...['', '~', 'null', 'Null', 'NULL'].map((w) => [w, null] as const),
  ...['.nan', '.NaN', '.NAN'].map((w) => [w, new GoFloat(Number.NaN)] as const),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map(
    (w) => [w, new GoFloat(Number.POSITIVE_INFINITY)] as const,
  ),
  ...['-.inf', '-.Inf', '-.INF'].map((w) => [w, new GoFloat(Number.NEGATIVE_INFINITY)] as const),
])

/** yamlStyleFloat in resolve.go. */
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/
/** Go's ParseFloat syntax for a string starting with a dot (no base prefix, so no `_`, no hex). */
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

/**
 * strconv.ParseInt(s, 0, 64) or ParseUint(s, 0, 64) (unsigned: no sign): base from the prefix (0x, 0o,
 * 0b in either case, a lone leading 0 for octal), digits of that base only. Undefined when Go refuses.
 */
function parseGoInt(s: string, signed: boolean): bigint | undefined {
  let i = 0
  let negative = false
  if (signed && (s[0] === '+' || s[0] === '-')) {
    negative = s[0] === '-'
    i = 1
  }
  let base = 10
  let digits: RegExp = /^[0-9]+$/
  const rest = s.slice(i)
  if (rest.length > 1 && rest[0] === '0') {
    const p = rest[1]
    if (p === 'x' || p === 'X') [base, digits, i] = [16, /^[0-9a-fA-F]+$/, i + 2]
    else if (p === 'o' || p === 'O') [base, digits, i] = [8, /^[0-7]+$/, i + 2]
    else if (p === 'b' || p === 'B') [base, digits, i] = [2, /^[01]+$/, i + 2]
    else [base, digits, i] = [8, /^[0-7]+$/, i + 1]
  }
  const body = s.slice(i)
  if (!digits.test(body)) return undefined
  let n = 0n
  const b = BigInt(base)
  for (const ch of body) n = n * b + BigInt(Number.parseInt(ch, 16))
  if (negative) n = -n
  if (signed ? n < INT64_MIN || n > INT64_MAX : n > UINT64_MAX) return undefined
  return n
}

/** strconv.ParseFloat on a decimal literal: refused when out of range (Go returns ErrRange). */
function parseGoFloat(s: string): GoFloat | undefined {
  const f = Number(s)
  return Number.isFinite(f) ? new GoFloat(f) : undefined
}

/** resolve("", s) of go-yaml v2: what a plain scalar is. */
export function resolveGoScalar(s: string): GoScalar {
  const c = s.charCodeAt(0)
  const hint = s === '' ? 3 : c < 128 ? HINT[c] : 0
  if (hint === 0) return s
  const word = WORDS.get(s)
  if (word !== undefined) return word
  if (hint === 3) return s
  if (hint === 4) return (DOT_FLOAT.test(s) && parseGoFloat(s)) || s
  // Digits or a sign: a timestamp (kept as a string: never a number either), an int (Go's ParseInt takes
  // the 0b/-0b forms resolve.go also tries), an uint, a decimal float.
  const plain = s.includes('_') ? s.replaceAll('_', '') : s
  const int = parseGoInt(plain, true) ?? parseGoInt(plain, false)
  if (int !== undefined) return Number(int)
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = parseGoFloat(plain)
    if (f) return f
  }
  return s
}

/**
 * A plain scalar as a JSON value of the document kubectl decodes (GoFloat unwrapped). Throws for NaN
 * and infinities: json.Marshal refuses them, and kubectl with it the whole document.
 */
export function goScalarToJson(v: GoScalar): JsonValue {
  if (v instanceof GoFloat) {
    if (!Number.isFinite(v.value))
      throw new Error(
        `json: unsupported value: ${Number.isNaN(v.value) ? 'NaN' : v.value > 0 ? '+Inf' : '-Inf'}`,
      )
    return v.value
  }
  return v
}

/**
 * The string sigs.k8s.io/yaml makes of a map key (convertToJSONableObject); throws, as it does, for a
 * null key and other key types JSON cannot have.
 */
export function goKeyString(k: unknown): string {
  if (typeof k === 'string') return k
  if (k instanceof GoFloat) return k.toString()
  if (typeof k === 'number') return Number.isInteger(k) ? String(k) : formatFloatKey(k)
  if (typeof k === 'boolean') return k ? 'true' : 'false'
  const type = k === null || k === undefined ? '<nil>' : Array.isArray(k) ? '[]interface {}' : typeof k
  throw new Error(`unsupported map key of type: ${type}`)
}

/** A plain scalar in a key, as the string key of the JSON kubectl decodes; undefined when it refuses the key. */
export function resolvePlainKey(s: string): string | undefined {
  const v = resolveGoScalar(s)
  return v === null ? undefined : goKeyString(v)
}

/** strconv.FormatFloat(f, 'g', -1, 32): the shortest digits that read back as the same float32. */
function formatFloatKey(f: number): string {
  if (Number.isNaN(f)) return '.nan'
  if (f === Number.POSITIVE_INFINITY) return '.inf'
  if (f === Number.NEGATIVE_INFINITY) return '-.inf'
  const f32 = Math.fround(f)
  if (!Number.isFinite(f32)) return f32 > 0 ? '.inf' : '-.inf'
  if (f32 === 0) return Object.is(f32, -0) ? '-0' : '0'
  let digits = ''
  let exp = 0
  for (let p = 1; p <= 9; p++) {
    const [mant, e] = Math.abs(f32)
      .toExponential(p - 1)
      .split('e') as [string, string]
    if (Math.fround(Number(`${mant}e${e}`)) === Math.abs(f32)) {
      digits = mant.replace('.', '').replace(/0+$/, '') || '0'
      exp = Number(e)
      break
    }
  }
  const sign = f32 < 0 ? '-' : ''
  // %e when the exponent is below -4 or at least 6 (the shortest form's precision for this decision).
  if (exp < -4 || exp >= 6) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    const e = Math.abs(exp)
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}`
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const BASE64_VALUE: ReadonlyMap<string, number> = new Map([...BASE64_ALPHABET].map((c, i) => [c, i]))

/**
 * A `!!binary` scalar as go-yaml v2 decodes it (decode.go scalar): base64.StdEncoding.DecodeString of
 * the text, which skips `\r` and `\n` and requires the `=` padding, then string(data), whose bytes
 * json.Marshal writes as UTF-8 with U+FFFD for each byte that does not start a valid sequence.
 * Undefined when Go's decoder refuses the text (go-yaml then fails the document).
 */
export function decodeGoBinary(text: string): string | undefined {
  const s = text.replace(/[\r\n]/g, '')
  if (s.length % 4 !== 0) return undefined
  const bytes: number[] = []
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length
    const quad = s.slice(i, i + 4)
    const pad = quad.endsWith('==') ? 2 : quad.endsWith('=') ? 1 : 0
    if (pad > 0 && !last) return undefined
    let n = 0
    for (let j = 0; j < 4 - pad; j++) {
      const v = BASE64_VALUE.get(quad[j] as string)
      if (v === undefined) return undefined
      n = (n << 6) | v
    }
    n <<= 6 * pad
    bytes.push((n >> 16) & 0xff)
    if (pad < 2) bytes.push((n >> 8) & 0xff)
    if (pad < 1) bytes.push(n & 0xff)
  }
  return goBytesToJsonString(bytes)
}

/** Bytes as Go's json.Marshal writes a string holding them: UTF-8, U+FFFD for each invalid byte. */
function goBytesToJsonString(b: readonly number[]): string {
  let out = ''
  let i = 0
  const cont = (k: number): boolean => k < b.length && ((b[k] as number) & 0xc0) === 0x80
  while (i < b.length) {
    const c = b[i] as number
    let cp = -1
    let size = 1
    if (c < 0x80) cp = c
    else if (c >= 0xc2 && c <= 0xdf && cont(i + 1)) {
      cp = ((c & 0x1f) << 6) | ((b[i + 1] as number) & 0x3f)
      size = 2
    } else if (c >= 0xe0 && c <= 0xef && cont(i + 1) && cont(i + 2)) {
      cp = ((c & 0x0f) << 12) | (((b[i + 1] as number) & 0x3f) << 6) | ((b[i + 2] as number) & 0x3f)
      size = 3
      // overlong forms and UTF-16 surrogates are refused by utf8.DecodeRune
      if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) cp = -1
    } else if (c >= 0xf0 && c <= 0xf4 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
      cp =
        ((c & 0x07) << 18) |
        (((b[i + 1] as number) & 0x3f) << 12) |
        (((b[i + 2] as number) & 0x3f) << 6) |
        ((b[i + 3] as number) & 0x3f)
      size = 4
      if (cp < 0x10000 || cp > 0x10ffff) cp = -1
    }
    if (cp < 0) {
      out += '\ufffd'
      i += 1
    } else {
      out += String.fromCodePoint(cp)
      i += size
    }
  }
  return out
}

/** The scalar tags go-yaml v2 resolves (resolvableTag, minus !!str and !!timestamp, handled apart). */
export type GoResolvableTag = 'int' | 'float' | 'bool' | 'null'

/** The go-yaml tag of what resolve("", s) gave. */
function goTagOf(v: GoScalar): string {
  if (v === null) return 'null'
  if (typeof v === 'boolean') return 'bool'
  if (typeof v === 'number') return 'int'
  if (v instanceof GoFloat) return 'float'
  return 'str'
}

/**
 * A scalar with an explicit `!!int`, `!!float`, `!!bool` or `!!null` tag, quoted or not, as go-yaml v2
 * reads it (resolve.go resolve(tag, in)): the text resolves by the plain rules, then must have the
 * tag's type; `!!float` also takes an integer (as a float). Otherwise go-yaml fails the document with
 * the message returned here as `error`.
 */
export function resolveGoTagged(tag: GoResolvableTag, s: string): { value: GoScalar } | { error: string } {
  const v = resolveGoScalar(s)
  const got = goTagOf(v)
  if (got === tag) return { value: v }
  if (tag === 'float' && typeof v === 'number') return { value: new GoFloat(v) }
  return { error: `cannot decode !!${got} \`${s}\` as a !!${tag}` }
}
