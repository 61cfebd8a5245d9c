/**
 * Decoding what the API server sends (pure): list items and watch event lines. Anything that cannot be
 * decoded comes back as a problem, never as an exception and never as a half-read object, so the
 * informers can skip it without letting it touch what is enforced (docs/semantics.md#agent-undecodable).
 *
 * "Decodable" asks only what the agent needs to file an object: a JSON object with a metadata object, a
 * non-empty string name, a non-empty string namespace for namespaced kinds (none for cluster-scoped ones:
 * Namespaces, Nodes, ClusterNetworkPolicies), and a
 * string resourceVersion when there is one. Whether the object is *valid* is the validator's question,
 * asked later by the ObjectStore.
 */
import { type JsonObject, type JsonValue, kindInfo } from '../model/index.js'
import type { WatchedKind } from './object-store.js'

export type DecodedObject = { readonly value: JsonObject } | { readonly problem: string }

export type WatchEvent =
  | {
      readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'
      readonly object: JsonObject
      readonly resourceVersion?: string
    }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string }
  | { readonly type: 'ERROR'; readonly code?: number; readonly reason?: string; readonly message: string }

/** A watch line that could not be decoded; `type` when the line said which event it was. */
export interface UndecodableEvent {
  readonly problem: string
  readonly type?: string
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`
}

/**
 * Returns the object ready for the store (metadata.managedFields, large and never read, left out), or the
 * reason it cannot be filed.
 */
export function decodeObject(kind: WatchedKind, v: unknown): DecodedObject {
  if (!isObject(v)) return { problem: `the object is ${describe(v)}, not an object` }
  const meta = v.metadata
  if (meta === undefined) return { problem: 'metadata is missing' }
  if (!isObject(meta)) return { problem: `metadata is ${describe(meta)}, not an object` }
  if (typeof meta.name !== 'string' || meta.name === '')
    return { problem: `metadata.name is ${meta.name === '' ? 'empty' : describe(meta.name)}` }
  const ns = meta.namespace
  if (kindInfo(kind).clusterScoped) {
    if (ns !== undefined && ns !== null && ns !== '')
      return { problem: `metadata.namespace is set on a ${kind} (cluster-scoped)` }
  } else if (typeof ns !== 'string' || ns === '') {
    return { problem: `metadata.namespace is ${ns === '' ? 'empty' : describe(ns)}` }
  }
  const rv = meta.resourceVersion
  if (rv !== undefined && rv !== null && typeof rv !== 'string')
    return { problem: `metadata.resourceVersion is ${describe(rv)}, not a string` }
  if (!('managedFields' in meta)) return { value: v }
  const { managedFields: _, ...rest } = meta
  return { value: { ...v, metadata: rest } }
}

/** Returns the resourceVersion of an object that decodeObject accepted (undefined when it has none). */
export function resourceVersionOf(value: JsonObject): string | undefined {
  const meta = value.metadata as JsonObject
  return typeof meta.resourceVersion === 'string' && meta.resourceVersion !== ''
    ? meta.resourceVersion
    : undefined
}

/** Decodes one line of a watch stream (`{"type": ..., "object": ...}`). */
export function decodeWatchLine(kind: WatchedKind, line: string): WatchEvent | UndecodableEvent {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return { problem: `not JSON: ${JSON.stringify(line.slice(0, 80))}${line.length > 80 ? '...' : ''}` }
  }
  if (!isObject(parsed)) return { problem: `the event is ${describe(parsed)}, not an object` }
  const type = parsed.type
  if (typeof type !== 'string') return { problem: `the event type is ${describe(type)}` }
  const object: JsonValue | undefined = parsed.object
  switch (type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED': {
      if (object === undefined) return { type, problem: `${type} event without an object` }
      const d = decodeObject(kind, object)
      if ('problem' in d) return { type, problem: `${type} event: ${d.problem}` }
      const rv = resourceVersionOf(d.value)
      return { type, object: d.value, ...(rv !== undefined ? { resourceVersion: rv } : {}) }
    }
    case 'BOOKMARK': {
      const meta = isObject(object) ? object.metadata : undefined
      const rv = isObject(meta) ? meta.resourceVersion : undefined
      if (typeof rv !== 'string' || rv === '')
        return { type, problem: 'BOOKMARK event without a metadata.resourceVersion' }
      return { type, resourceVersion: rv }
    }
    case 'ERROR': {
      if (!isObject(object)) return { type, problem: `ERROR event whose object is ${describe(object)}` }
      const code = typeof object.code === 'number' ? object.code : undefined
      const reason = typeof object.reason === 'string' ? object.reason : undefined
      const message = typeof object.message === 'string' ? object.message : 'no message'
      return {
        type,
        message,
        ...(code !== undefined ? { code } : {}),
        ...(reason !== undefined ? { reason } : {}),
      }
    }
    default:
      return { type, problem: `unknown event type ${JSON.stringify(type.slice(0, 40))}` }
  }
}
