/**
 * What the agent enforces for a ClusterNetworkPolicy it cannot read and never read (pure;
 * docs/semantics.md#agent-cnp-fail-closed). One it read before keeps its last valid version (the object
 * store does that); this is the stand-in for one never seen valid.
 *
 * Skipping it could lift an Admin Deny (or a Baseline one); enforcing part of it could turn a Deny into
 * nothing. So the agent denies, in its place, everything the policy could decide for the pods it could
 * select: a Deny of every peer (every pod, every address) in each direction the policy has, at its tier
 * and priority. Whatever the policy says, it can at most deny that much at that point of the evaluation.
 * - Tier: spec.tier when it reads as Admin or Baseline, else Admin (the first tier: denies the most).
 * - Priority: spec.priority when it is an integer in 0..1000, else 0 (the first in the tier).
 * - Directions: each of spec.ingress and spec.egress that is given (any value); both when spec cannot be
 *   read. A policy with neither decides nothing, and so does its stand-in.
 * - Subject: as written when it reads; a selector of it that does not read is widened to every
 *   namespace or pod (a superset); a subject that does not read at all (absent, no field or several, a
 *   field we do not know) is every pod of the cluster. hostNetwork pods are never selected.
 * Only what enforcement reads must be readable: a policy whose spec validates but whose metadata does
 * not is enforced as written. The name must be readable (the informers' decoder ensures it).
 */
import type { Diagnostic, JsonObject, JsonValue, PolicyType, RawObject } from '../model/index.js'
import { rawFromValue } from '../model/index.js'

const API_VERSIONS = ['policy.networking.k8s.io/v1beta1', 'policy.networking.k8s.io/v1alpha2']

/** The name given to the stand-in's rules (a Deny says which rule decided). */
export const FAIL_CLOSED_RULE = 'palisade-fail-closed'

export interface FailClosedClusterPolicy {
  /** The manifest the agent enforces in its place (validated and normalised like any other). */
  readonly raw: RawObject
  /** 'as-written': only metadata was unreadable; 'deny': everything denied for its subject. */
  readonly mode: 'as-written' | 'deny'
  readonly tier: 'Admin' | 'Baseline'
  readonly priority: number
  /** Directions denied (mode 'deny'). */
  readonly directions: readonly PolicyType[]
  /** The subject used, and whether it is the policy's own (false: widened to a superset). */
  readonly subject: JsonObject
  readonly subjectExact: boolean
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const given = (v: JsonValue | undefined) => v !== undefined && v !== null

/** Every pod of the cluster (hostNetwork pods are never subjects). */
const EVERY_POD: JsonObject = { namespaces: {} }

/**
 * Builds the policy the agent enforces for a ClusterNetworkPolicy that failed validation and has no
 * valid version, or undefined when its name cannot be read. `validate` is the agent's validator.
 */
export function buildFailClosedClusterPolicy(
  value: JsonObject,
  validate: (raw: RawObject) => readonly Diagnostic[],
): FailClosedClusterPolicy | undefined {
  const meta = isObject(value.metadata) ? value.metadata : undefined
  const name = meta?.name
  if (typeof name !== 'string' || name === '') return undefined
  const apiVersion =
    typeof value.apiVersion === 'string' && API_VERSIONS.includes(value.apiVersion)
      ? value.apiVersion
      : (API_VERSIONS[0] as string)
  const source = { file: `api:ClusterNetworkPolicy/${name}` }
  const make = (spec: JsonValue | undefined): RawObject =>
    rawFromValue(
      {
        apiVersion,
        kind: 'ClusterNetworkPolicy',
        metadata: { name },
        ...(spec !== undefined ? { spec } : {}),
      },
      source,
    )
  const specErrors = (raw: RawObject) =>
    validate(raw).filter((d) => d.severity === 'error' && d.path[0] === 'spec')
  const spec = isObject(value.spec) ? value.spec : undefined
  const tier = spec?.tier === 'Admin' || spec?.tier === 'Baseline' ? spec.tier : 'Admin'
  const p = spec?.priority
  const priority = typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 1000 ? p : 0
  const written = isObject(spec?.subject) ? spec.subject : undefined

  if (spec && specErrors(make(spec)).length === 0)
    return {
      raw: make(spec),
      mode: 'as-written',
      tier: tier,
      priority,
      directions: [
        ...(given(spec.ingress) ? (['Ingress'] as const) : []),
        ...(given(spec.egress) ? (['Egress'] as const) : []),
      ],
      subject: written ?? EVERY_POD,
      subjectExact: true,
    }

  const directions: PolicyType[] = spec
    ? [
        ...(given(spec.ingress) ? ['Ingress' as const] : []),
        ...(given(spec.egress) ? ['Egress' as const] : []),
      ]
    : ['Ingress', 'Egress']
  const standIn = (subject: JsonObject): JsonObject => ({
    tier,
    priority,
    subject,
    ...(directions.includes('Ingress')
      ? { ingress: [{ name: FAIL_CLOSED_RULE, action: 'Deny', from: [{ namespaces: {} }] }] }
      : {}),
    ...(directions.includes('Egress')
      ? {
          egress: [
            {
              name: FAIL_CLOSED_RULE,
              action: 'Deny',
              to: [{ namespaces: {} }, { networks: ['0.0.0.0/0', '::/0'] }],
            },
          ],
        }
      : {}),
  })
  const subjectErrors = (subject: JsonObject) =>
    specErrors(make(standIn(subject))).filter((d) => d.path[1] === 'subject')

  let subject: JsonObject = EVERY_POD
  let exact = false
  if (written) {
    const errors = subjectErrors(written)
    if (errors.length === 0) {
      subject = written
      exact = true
    } else {
      // Widen each selector the errors point into; anything else wrong with the subject: every pod.
      const keys = Object.keys(written)
      const widened: JsonObject =
        keys.length === 1 && keys[0] === 'namespaces'
          ? { namespaces: {} }
          : keys.length === 1 && keys[0] === 'pods' && isObject(written.pods)
            ? {
                pods: {
                  namespaceSelector: errors.some((d) => d.path[3] === 'namespaceSelector')
                    ? {}
                    : (written.pods.namespaceSelector ?? {}),
                  podSelector: errors.some((d) => d.path[3] === 'podSelector')
                    ? {}
                    : (written.pods.podSelector ?? {}),
                },
              }
            : EVERY_POD
      subject = subjectErrors(widened).length === 0 ? widened : EVERY_POD
    }
  }
  return {
    raw: make(standIn(subject)),
    mode: 'deny',
    tier,
    priority,
    directions,
    subject,
    subjectExact: exact,
  }
}
