/** The load pipeline the agent uses for API objects: src/validate + src/load normalisation. */
import { normalizeObjects } from '../load/index.js'
import type { Diagnostic, RawObject } from '../model/index.js'
import { validateObject } from '../validate/index.js'
import type { Pipeline } from './object-store.js'

/**
 * Validates an object that the API server already accepted. Unknown fields mostly mean the server is
 * newer than our schema (version skew), so they are downgraded to warnings: dropping a pod for a new
 * PodSpec field would silently take it out of every peer set. Except in a NetworkPolicy's or a
 * ClusterNetworkPolicy's spec: a field we do not know there may change what the rules admit (or whom
 * they apply to), so it stays an error and the policy fails closed (docs/semantics.md#agent-fail-closed,
 * docs/semantics.md#agent-cnp-fail-closed). A ClusterNetworkPolicy peer with only fields we do not know
 * is the API's own case: its rule fails closed as the API requires (docs/semantics.md#cnp-fail-closed),
 * so that one stays a warning.
 */
export function validateApiObject(raw: RawObject): Diagnostic[] {
  const kind = raw.value.kind
  const policy = kind === 'NetworkPolicy' || kind === 'ClusterNetworkPolicy'
  return validateObject(raw).map((d) =>
    d.code === 'schema.unknown-field' &&
    !(policy && d.path[0] === 'spec' && !isClusterPeerField(kind, d.path))
      ? { ...d, severity: 'warning' as const }
      : d,
  )
}

/** spec.ingress[i].from[j].FIELD or spec.egress[i].to[j].FIELD of a ClusterNetworkPolicy. */
function isClusterPeerField(kind: unknown, path: readonly (string | number)[]): boolean {
  return (
    kind === 'ClusterNetworkPolicy' &&
    path.length === 6 &&
    ((path[1] === 'ingress' && path[3] === 'from') || (path[1] === 'egress' && path[3] === 'to'))
  )
}

/** The pipeline of the real agent. */
export const defaultPipeline: Pipeline = {
  validate: validateApiObject,
  normalize: normalizeObjects,
}
