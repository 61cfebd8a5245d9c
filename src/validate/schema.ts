/**
 * Structural checks as `kubectl --validate=strict` gets them from the API server: unknown fields
 * (strict decoding: `unknown field "spec.Ingress"`) and what the decoder refuses before any validation:
 * values of the wrong JSON type, integers outside their Go type (int32, int64), timestamps
 * metav1.Time cannot parse, quantities resource.ParseQuantity refuses.
 * A null value is always accepted: Go's decoder treats it as "absent".
 */
import type { FieldPath } from '../model/diagnostic.js'
import { formatPath } from '../model/diagnostic.js'
import type { JsonValue } from '../model/raw.js'
import { shortened } from '../model/raw.js'
import { isGoRFC3339Time, isParsableQuantity, QUANTITY_FORMAT_MESSAGE } from './apimachinery.js'
import type { Reporter } from './context.js'

export type Schema =
  /**
   * A Go struct: every key must be a known field. Open: keys Palisade does not list are accepted unchecked
   * (status, which newer API servers extend), the listed ones are type-checked.
   */
  | { readonly type: 'object'; readonly fields: Readonly<Record<string, Schema>>; readonly open?: boolean }
  /** map[string]X */
  | { readonly type: 'map'; readonly values: Schema }
  | { readonly type: 'array'; readonly items: Schema }
  /** Leaves; 'opaque-object' is an object whose content we do not check (accept rather than guess). */
  | {
      readonly type:
        | 'string'
        | 'int32'
        | 'int64'
        | 'number'
        | 'boolean'
        | 'int-or-string'
        | 'quantity'
        | 'time'
        | 'any'
        | 'opaque-object'
    }

/** A struct whose keys are checked. */
export const obj = (fields: Readonly<Record<string, Schema>>): Schema => ({ type: 'object', fields })
/** A struct whose listed keys are type-checked and whose other keys are accepted. */
export const openObj = (fields: Readonly<Record<string, Schema>>): Schema => ({
  type: 'object',
  fields,
  open: true,
})
export const arr = (items: Schema): Schema => ({ type: 'array', items })
export const map = (values: Schema): Schema => ({ type: 'map', values })
export const str: Schema = { type: 'string' }
/** A Go int32 (ports, replicas, priorities): an integer in [-2^31, 2^31). */
export const int32: Schema = { type: 'int32' }
/** A Go int64 (generation, seconds): an integer in [-2^63, 2^63). */
export const int64: Schema = { type: 'int64' }
export const num: Schema = { type: 'number' }
export const bool: Schema = { type: 'boolean' }
export const intOrString: Schema = { type: 'int-or-string' }
/** resource.Quantity: a number, or a string resource.ParseQuantity takes. */
export const quantity: Schema = { type: 'quantity' }
/** metav1.Time: a string time.Parse(time.RFC3339) takes. */
export const time: Schema = { type: 'time' }
export const any: Schema = { type: 'any' }
export const opaque: Schema = { type: 'opaque-object' }
/** A list of objects whose content we do not check. */
export const opaqueList: Schema = arr(opaque)

/** The OpenAPI type name of a JSON value, as the API server's messages use it. */
function typeName(value: JsonValue): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

function wrongType(r: Reporter, path: FieldPath, value: JsonValue, expected: string): void {
  const p = formatPath(path)
  // decode.*: the API server's decoder refuses the value before any validation, whatever --validate says.
  r.invalid('decode.wrong-type', path, typeName(value), `${p} in body must be of type ${expected}`)
}

const INT32_LIMIT = 2 ** 31
const INT64_LIMIT = 2 ** 63

/**
 * An integer field: a fraction or a non-number is the wrong type; an integer the Go type cannot hold is
 * refused by encoding/json as "cannot unmarshal number ... of type int32". (A JavaScript number cannot
 * tell 2^63 - 1 from 2^63: that one value, written out in full, is refused although Go takes it.)
 */
function checkInteger(
  r: Reporter,
  path: FieldPath,
  value: JsonValue,
  goType: 'int32' | 'int64',
  expected = 'integer',
): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    wrongType(r, path, value, expected)
    return
  }
  const limit = goType === 'int32' ? INT32_LIMIT : INT64_LIMIT
  if (value < -limit || value >= limit)
    r.invalid(
      'decode.out-of-range',
      path,
      value,
      `${formatPath(path)}: cannot unmarshal number ${value} into a Go value of type ${goType}`,
    )
}

/** Checks a value against a schema, reporting unknown fields and wrong types below `path`. */
export function checkSchema(
  r: Reporter,
  schema: Schema,
  value: JsonValue | undefined,
  path: FieldPath,
): void {
  // One path buffer for the whole walk (the first `depth` entries are the current path): a copy is
  // made only for a diagnostic, as this runs over every field of every object.
  walk(r, schema, value, [...path], path.length)
}

function walk(
  r: Reporter,
  schema: Schema,
  value: JsonValue | undefined,
  path: (string | number)[],
  depth: number,
): void {
  if (value === undefined || value === null) return
  switch (schema.type) {
    case 'any':
      return
    case 'string':
      if (typeof value !== 'string') wrongType(r, path.slice(0, depth), value, 'string')
      return
    case 'boolean':
      if (typeof value !== 'boolean') wrongType(r, path.slice(0, depth), value, 'boolean')
      return
    case 'int32':
    case 'int64':
      checkInteger(r, path.slice(0, depth), value, schema.type)
      return
    case 'number':
      if (typeof value !== 'number') wrongType(r, path.slice(0, depth), value, 'number')
      return
    case 'int-or-string':
      // intstr.IntOrString: a JSON string, else json.Unmarshal into its int32
      if (typeof value !== 'string')
        checkInteger(r, path.slice(0, depth), value, 'int32', 'integer or string')
      return
    case 'quantity':
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) wrongType(r, path.slice(0, depth), value, 'string')
      } else if (typeof value !== 'string') wrongType(r, path.slice(0, depth), value, 'string')
      else if (!isParsableQuantity(value))
        r.invalid('decode.invalid-quantity', path.slice(0, depth), shortened(value), QUANTITY_FORMAT_MESSAGE)
      return
    case 'time':
      if (typeof value !== 'string') wrongType(r, path.slice(0, depth), value, 'string')
      else if (!isGoRFC3339Time(value))
        r.invalid(
          'decode.invalid-time',
          path.slice(0, depth),
          shortened(value),
          `${formatPath(path.slice(0, depth))}: parsing time ${JSON.stringify(shortened(value))} as "2006-01-02T15:04:05Z07:00": not an RFC 3339 time`,
        )
      return
    case 'opaque-object':
      if (typeof value !== 'object' || Array.isArray(value))
        wrongType(r, path.slice(0, depth), value, 'object')
      return
    case 'array':
      if (!Array.isArray(value)) wrongType(r, path.slice(0, depth), value, 'array')
      else
        for (let i = 0; i < value.length; i++) {
          path[depth] = i
          walk(r, schema.items, value[i], path, depth + 1)
        }
      return
    case 'map':
      if (typeof value !== 'object' || Array.isArray(value))
        wrongType(r, path.slice(0, depth), value, 'object')
      else {
        // for-in over own keys: Object.keys would copy an array for every object of every input.
        for (const k in value) {
          if (!Object.hasOwn(value, k)) continue
          path[depth] = k
          walk(r, schema.values, value[k], path, depth + 1)
        }
      }
      return
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        wrongType(r, path.slice(0, depth), value, 'object')
        return
      }
      for (const k in value) {
        if (!Object.hasOwn(value, k)) continue
        const child = Object.hasOwn(schema.fields, k) ? schema.fields[k] : undefined
        path[depth] = k
        if (child === undefined) {
          if (schema.open) continue
          const at = path.slice(0, depth + 1)
          r.report('schema.unknown-field', at, `unknown field ${JSON.stringify(formatPath(at))}`)
        } else walk(r, child, value[k], path, depth + 1)
      }
      return
    }
  }
}
