/** Classifies objects by kind against the one kinds table (src/model/kinds.ts). */
import { type JsonObject, kindInfo, ownValue, READ_KINDS, type ReadKind, shortened } from '../model/index.js'

export type KindClass =
  | { readonly kind: 'read'; readonly readKind: ReadKind }
  | { readonly kind: 'other' }
  | { readonly kind: 'no-match'; readonly message: string }

/**
 * Classifies an object: read by Palisade, skipped (another kind), or a kind we read in an apiVersion
 * that does not serve it. Typos and unknown versions are the validator's to report (validate.unknown-*);
 * this only guards normalizeObjects when it is handed objects that were not validated.
 */
export function classifyKind(value: JsonObject): KindClass {
  const apiVersion = typeof value.apiVersion === 'string' ? value.apiVersion : ''
  const kind = typeof value.kind === 'string' ? value.kind : ''
  const versions = ownValue<readonly string[]>(READ_KINDS, kind)
  if (!versions) return { kind: 'other' }
  if (versions.includes(apiVersion)) return { kind: 'read', readKind: kind as ReadKind }
  const message = `no matches for kind ${JSON.stringify(shortened(kind))} in version ${JSON.stringify(shortened(apiVersion))}`
  return { kind: 'no-match', message }
}

/** The namespace ('' for cluster-scoped kinds) and name that, with the kind, name one API object. */
export function objectKeyParts(
  readKind: ReadKind,
  value: JsonObject,
): { readonly namespace: string; readonly name: string } {
  const meta = value.metadata
  const m = meta && typeof meta === 'object' && !Array.isArray(meta) ? meta : {}
  const name = typeof m.name === 'string' ? m.name : ''
  const namespace = kindInfo(readKind).clusterScoped
    ? ''
    : typeof m.namespace === 'string' && m.namespace !== ''
      ? m.namespace
      : 'default'
  return { namespace, name }
}
