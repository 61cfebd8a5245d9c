/**
 * What the agent enforces for a NetworkPolicy it cannot read (pure; docs/semantics.md#agent-fail-closed).
 *
 * Skipping such a policy would lift the isolation it gives its pods, so the agent fails closed instead:
 * the pods the policy selects are isolated, in every direction the policy has, with no allow rule. Only
 * what enforcement reads must be readable: a policy whose spec validates but whose metadata does not (a
 * label or annotation our validator rejects) is enforced as written. When the podSelector itself cannot
 * be read in full, the requirements that can be read are kept and the others dropped; requirements are
 * ANDed, so that selects a superset of the pods the policy selects (at worst every pod of its namespace).
 * The namespace and name must be readable (the object's identity): the informers' decoder ensures it.
 */
import type { Diagnostic, JsonObject, JsonValue, PolicyType, RawObject } from '../model/index.js'
import { rawFromValue } from '../model/index.js'

export interface FailClosedPolicy {
  /** The manifest the agent enforces in its place (validated and normalised like any other). */
  readonly raw: RawObject
  /** 'as-written': only metadata was unreadable; 'isolate': the selected pods, no allow rule. */
  readonly mode: 'as-written' | 'isolate'
  /** Directions isolated (mode 'isolate'). */
  readonly policyTypes: readonly PolicyType[]
  /** The podSelector used, and whether parts of the policy's own had to be dropped (a superset). */
  readonly podSelector: JsonObject
  readonly selectorExact: boolean
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const startsWith = (path: readonly (string | number)[], prefix: readonly (string | number)[]) =>
  prefix.every((p, i) => path[i] === p)

/**
 * Returns the directions the policy has: its policyTypes when they read as a list of Ingress/Egress;
 * when absent or empty, the API server's defaulting (Ingress, plus Egress when spec.egress is given, even
 * unreadable); when they cannot be read, both.
 */
export function failClosedPolicyTypes(spec: JsonObject): PolicyType[] {
  const given = spec.policyTypes
  if (given === undefined || given === null || (Array.isArray(given) && given.length === 0)) {
    const egress = spec.egress
    const hasEgress =
      egress !== undefined && egress !== null && !(Array.isArray(egress) && egress.length === 0)
    return hasEgress ? ['Ingress', 'Egress'] : ['Ingress']
  }
  if (
    Array.isArray(given) &&
    given.length <= 2 &&
    given.every((t) => t === 'Ingress' || t === 'Egress') &&
    new Set(given).size === given.length
  )
    return given as PolicyType[]
  return ['Ingress', 'Egress']
}

/**
 * Builds the policy the agent enforces for a NetworkPolicy that failed validation, or undefined when its
 * namespace or name cannot be read. `validate` is the agent's validator.
 */
export function buildFailClosedPolicy(
  value: JsonObject,
  validate: (raw: RawObject) => readonly Diagnostic[],
): FailClosedPolicy | undefined {
  const meta = isObject(value.metadata) ? value.metadata : undefined
  const name = meta?.name
  const namespace = meta?.namespace
  if (typeof name !== 'string' || name === '' || typeof namespace !== 'string' || namespace === '')
    return undefined
  const source = { file: `api:NetworkPolicy/${namespace}/${name}` }
  const make = (spec: JsonValue | undefined): RawObject =>
    rawFromValue(
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { namespace, name },
        ...(spec !== undefined ? { spec } : {}),
      },
      source,
    )
  // Errors about the spec; metadata errors (a name our validator disagrees with) do not change enforcement.
  const specErrors = (raw: RawObject) =>
    validate(raw).filter((d) => d.severity === 'error' && d.path[0] === 'spec')
  const spec = isObject(value.spec) ? value.spec : {}
  const selector = isObject(spec.podSelector) ? spec.podSelector : undefined

  // Only metadata was in the way: the rules read as written.
  const asWritten = make(value.spec)
  if (isObject(value.spec) && specErrors(asWritten).length === 0)
    return {
      raw: asWritten,
      mode: 'as-written',
      policyTypes: failClosedPolicyTypes(spec),
      podSelector: selector ?? {},
      selectorExact: true,
    }

  const policyTypes = failClosedPolicyTypes(spec)
  // The selector's readable requirements: matchLabels entries and matchExpressions, each kept only when
  // the validator finds nothing wrong with it; anything else in the selector is dropped.
  let exact =
    (value.spec === undefined || isObject(value.spec)) &&
    (spec.podSelector === undefined || spec.podSelector === null || selector !== undefined)
  let matchLabels = selector && isObject(selector.matchLabels) ? { ...selector.matchLabels } : undefined
  if (selector?.matchLabels !== undefined && selector.matchLabels !== null && !matchLabels) exact = false
  let matchExpressions =
    selector && Array.isArray(selector.matchExpressions) ? [...selector.matchExpressions] : undefined
  if (selector?.matchExpressions !== undefined && selector.matchExpressions !== null && !matchExpressions)
    exact = false
  if (selector && Object.keys(selector).some((k) => k !== 'matchLabels' && k !== 'matchExpressions'))
    exact = false
  const candidate = (): JsonObject => ({
    ...(matchLabels ? { matchLabels } : {}),
    ...(matchExpressions ? { matchExpressions } : {}),
  })
  const SEL = ['spec', 'podSelector']
  for (let round = 0; round < 3; round++) {
    const errors = specErrors(make({ podSelector: candidate(), policyTypes })).filter((d) =>
      startsWith(d.path, SEL),
    )
    if (errors.length === 0) break
    exact = false
    const dropLabels = new Set<string>()
    const dropExpressions = new Set<number>()
    let all = false
    for (const d of errors) {
      const [, , field, index] = d.path
      if (field === 'matchLabels' && typeof index === 'string') dropLabels.add(index)
      else if (field === 'matchLabels' && d.path.length === 3 && matchLabels) {
        // The error names matchLabels, not the entry: keep each entry that reads on its own.
        for (const [k, v] of Object.entries(matchLabels)) {
          const alone = make({ podSelector: { matchLabels: { [k]: v } }, policyTypes })
          if (specErrors(alone).some((e) => startsWith(e.path, SEL))) dropLabels.add(k)
        }
      } else if (field === 'matchLabels') matchLabels = undefined
      else if (field === 'matchExpressions' && typeof index === 'number') dropExpressions.add(index)
      else if (field === 'matchExpressions') matchExpressions = undefined
      else all = true
    }
    if (all || round === 2) {
      matchLabels = undefined
      matchExpressions = undefined
      break
    }
    if (matchLabels) for (const k of dropLabels) delete matchLabels[k]
    if (matchExpressions) matchExpressions = matchExpressions.filter((_, i) => !dropExpressions.has(i))
  }
  const podSelector = candidate()
  return {
    raw: make({ podSelector, policyTypes }),
    mode: 'isolate',
    policyTypes,
    podSelector,
    selectorExact: exact,
  }
}
