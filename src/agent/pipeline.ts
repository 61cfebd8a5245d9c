/** The load pipeline the agent uses for API objects: src/validate + src/load normalisation. */
import { normalizeObjects } from '../load/index.js'
import type { Diagnostic, RawObject } from '../model/index.js'
import { validateObject } from '../validate/index.js'
import type { Pipeline } from './object-store.js'

/**
 * Validates an object that the API server already accepted. Unknown fields mostly mean the server is
 * newer than our schema (version skew), so they are downgraded to warnings: dropping a pod for a new
 * PodSpec field would silently take it out of every peer set. Except in a NetworkPolicy's spec: a field
 * we do not know there may change what the rules admit, so it stays an error and the policy fails
 * closed (docs/semantics.md#agent-fail-closed).
 */
export function validateApiObject(raw: RawObject): Diagnostic[] {
  const policy = raw.value.kind === 'NetworkPolicy'
  return validateObject(raw).map((d) =>
    d.code === 'schema.unknown-field' && !(policy && d.path[0] === 'spec')
      ? { ...d, severity: 'warning' as const }
      : d,
  )
}

/** The pipeline of the real agent. */
export const defaultPipeline: Pipeline = {
  validate: validateApiObject,
  normalize: normalizeObjects,
}
