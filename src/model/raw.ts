/**
 * A manifest object as parsed, before validation: plain JSON-like data plus a way to point at the
 * source position of any field. Produced by src/load (YAML/JSON text) or by the agent (API objects,
 * which have no positions).
 */
import type { FieldPath, SourceRef } from './diagnostic.js'

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

export interface RawObject {
  /** The object as plain data (duplicate keys: the last value wins, as YAML-to-JSON conversion does). */
  readonly value: JsonObject
  /** Where the object starts (file, line, column, doc index). */
  readonly source: SourceRef
  /**
   * Returns the position of a field path inside this object (e.g. ['spec','ingress',0,'ports',0,'protocol']),
   * falling back to the closest existing ancestor; the object's own position when unknown.
   */
  readonly locate: (path: FieldPath) => SourceRef
}

/** The longest kind, name or namespace a message quotes whole (a DNS subdomain); longer ones are shortened. */
const MAX_SHOWN = 253

/** Shortens a value taken from input for a message (a kind may be megabytes long). */
export function shortened(s: string): string {
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}...` : s
}
const shown = shortened

/** Describes an object for messages: 'NetworkPolicy team-a/allow-dns' (namespace omitted when absent). */
export function describeObject(value: JsonObject): string {
  const kind = typeof value.kind === 'string' ? shown(value.kind) : '<no kind>'
  const meta = value.metadata
  let name = '<no name>'
  let ns: string | undefined
  if (meta && typeof meta === 'object' && !Array.isArray(meta)) {
    if (typeof meta.name === 'string') name = shown(meta.name)
    if (typeof meta.namespace === 'string') ns = shown(meta.namespace)
  }
  return ns ? `${kind} ${ns}/${name}` : `${kind} ${name}`
}

/** Makes a RawObject for data without positions (API objects). */
export function rawFromValue(value: JsonObject, source: SourceRef): RawObject {
  return { value, source, locate: () => source }
}

/**
 * Returns an object's own entry for a key taken from input (a kind, a label, a field name): never an
 * inherited one, so `constructor` or `__proto__` are keys like any other.
 */
export function ownValue<T>(o: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(o, key) ? o[key] : undefined
}

/** Sets an own entry for a key taken from input; `__proto__` becomes an own key, never the prototype. */
export function setOwn<T>(o: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true })
  else o[key] = value
}
