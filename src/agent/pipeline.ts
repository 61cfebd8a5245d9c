/** The load pipeline the agent uses for API objects: src/validate + src/load normalisation. */
import { normalizeObjects } from '../load/index.js'
import type { Diagnostic, RawObject } from '../model/index.js'
import { validateObject } from '../validate/index.js'
import type { Pipeline } from './object-store.js'

/**
 * Validates an object that the API server already accepted. Unknown fields only mean the server is
 * newer than our schema (version skew), so they are downgraded to warnings: dropping a pod for a
 * new PodSpec field would silently take it out of every peer set.
 */
export function validateApiObject(raw: RawObject): Diagnostic[] {
  return validateObject(raw).map((d) =>
    d.code === 'schema.unknown-field' ? { ...d, severity: 'warning' as const } : d,
  )
}

/** The pipeline of the real agent. */
export const defaultPipeline: Pipeline = {
  validate: validateApiObject,
  normalize: normalizeObjects,
}
