/**
 * Structural checks as `kubectl --validate=strict` gets them from the API server: unknown fields
 * (strict decoding: `unknown field "spec.Ingress"`) and values of the wrong JSON type.
 * A null value is always accepted: Go's decoder treats it as "absent".
 */
import type { FieldPath } from '../model/diagnostic.js'
import { formatPath } from '../model/diagnostic.js'
import type { JsonValue } from '../model/raw.js'
import type { Reporter } from './context.js'

export type Schema =
  /** A Go struct: every key must be a known field. */
  | { readonly type: 'object'; readonly fields: Readonly<Record<string, Schema>> }
  /** map[string]X */
  | { readonly type: 'map'; readonly values: Schema }
  | { readonly type: 'array'; readonly items: Schema }
  /** Leaves; 'opaque-object' is an object whose content we do not check (accept rather than guess). */
  | {
      readonly type:
        | 'string'
        | 'integer'
        | 'number'
        | 'boolean'
        | 'int-or-string'
        | 'quantity'
        | 'any'
        | 'opaque-object'
    }

/** A struct whose keys are checked. */
export const obj = (fields: Readonly<Record<string, Schema>>): Schema => ({ type: 'object', fields })
export const arr = (items: Schema): Schema => ({ type: 'array', items })
export const map = (values: Schema): Schema => ({ type: 'map', values })
export const str: Schema = { type: 'string' }
export const int: Schema = { type: 'integer' }
export const num: Schema = { type: 'number' }
export const bool: Schema = { type: 'boolean' }
export const intOrString: Schema = { type: 'int-or-string' }
/** resource.Quantity: a string or a number. */
export const quantity: Schema = { type: 'quantity' }
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
  r.invalid('schema.wrong-type', path, typeName(value), `${p} in body must be of type ${expected}`)
}

/** Checks a value against a schema, reporting unknown fields and wrong types below `path`. */
export function checkSchema(
  r: Reporter,
  schema: Schema,
  value: JsonValue | undefined,
  path: FieldPath,
): void {
  if (value === undefined || value === null) return
  switch (schema.type) {
    case 'any':
      return
    case 'string':
      if (typeof value !== 'string') wrongType(r, path, value, 'string')
      return
    case 'boolean':
      if (typeof value !== 'boolean') wrongType(r, path, value, 'boolean')
      return
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) wrongType(r, path, value, 'integer')
      return
    case 'number':
      if (typeof value !== 'number') wrongType(r, path, value, 'number')
      return
    case 'int-or-string':
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value)))
        wrongType(r, path, value, 'integer or string')
      return
    case 'quantity':
      if (typeof value !== 'string' && typeof value !== 'number') wrongType(r, path, value, 'string')
      return
    case 'opaque-object':
      if (typeof value !== 'object' || Array.isArray(value)) wrongType(r, path, value, 'object')
      return
    case 'array':
      if (!Array.isArray(value)) wrongType(r, path, value, 'array')
      else
        value.forEach((item, i) => {
          checkSchema(r, schema.items, item, [...path, i])
        })
      return
    case 'map':
      if (typeof value !== 'object' || Array.isArray(value)) wrongType(r, path, value, 'object')
      else for (const [k, v] of Object.entries(value)) checkSchema(r, schema.values, v, [...path, k])
      return
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) {
        wrongType(r, path, value, 'object')
        return
      }
      for (const [k, v] of Object.entries(value)) {
        const child = Object.hasOwn(schema.fields, k) ? schema.fields[k] : undefined
        if (child === undefined)
          r.report(
            'schema.unknown-field',
            [...path, k],
            `unknown field ${JSON.stringify(formatPath([...path, k]))}`,
          )
        else checkSchema(r, child, v, [...path, k])
      }
      return
  }
}
