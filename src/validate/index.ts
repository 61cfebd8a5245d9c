/**
 * API-server checks for the kinds Palisade reads, in the API server's words. Codes:
 * - schema.unknown-field      a field the kind does not have (kubectl --validate=strict)
 * - decode.wrong-type        a value of the wrong JSON type (the decoder refuses it in every mode)
 * - decode.out-of-range      an integer its Go type (int32, int64) cannot hold
 * - decode.invalid-time      a timestamp time.Parse(time.RFC3339) refuses (metav1.Time)
 * - decode.invalid-quantity  a quantity resource.ParseQuantity refuses
 * - validate.unknown-kind    a kind no API group we know serves (typo: "did you mean")
 * - validate.unknown-version a kind we know, in an apiVersion that does not serve it
 * - validate.required        a required value is missing
 * - validate.invalid-name    metadata.name/generateName/namespace or a container name is malformed
 * - validate.invalid-label   a label key or value (object, selector, template) is malformed
 * - validate.invalid-annotation an annotation key is malformed, or annotations are too large
 * - validate.invalid-selector a selector requirement has a bad operator or values
 * - validate.selector-mismatch a workload's selector does not select its own pod template
 * - validate.unsupported-protocol a protocol other than TCP, UDP, SCTP
 * - validate.invalid-port    a port number out of range or a malformed port name
 * - validate.invalid-end-port endPort below port, with a named port, or without port
 * - validate.invalid-cidr    an ipBlock cidr or except entry that is not a CIDR
 * - validate.invalid-except  an except entry that is not strictly inside its cidr
 * - validate.invalid-peer    a from/to peer with no selector or ipBlock, or ipBlock with another
 * - validate.invalid-policy-type a policyTypes value other than Ingress/Egress, or more than two
 * - validate.duplicate       a duplicate container name or container port name
 * - validate.exactly-one-field a ClusterNetworkPolicy subject, peer, protocol or port with no field or several
 * - validate.too-many        more than 25 rules, peers, protocols, networks or domain names (ClusterNetworkPolicy)
 * - validate.invalid-priority a ClusterNetworkPolicy priority outside 0..1000
 * - validate.named-port-peer a named port in an egress rule with networks, nodes or domainNames peers
 * - validate.invalid-value   another value the API server rejects (e.g. negative generation)
 */
import type { Diagnostic } from '../model/diagnostic.js'
import { type JsonObject, ownValue, type RawObject } from '../model/raw.js'
import { validateClusterNetworkPolicy } from './cluster-network-policy.js'
import type { Reporter } from './context.js'
import { createReporter } from './context.js'
import { classifyKind, splitAPIVersion } from './kinds.js'
import { validateNetworkPolicy } from './network-policy.js'
import { validateCronJob, validateNamespace, validatePod, validateWorkload } from './pod.js'
import type { Schema } from './schema.js'
import { checkSchema } from './schema.js'
import {
  clusterNetworkPolicySchema,
  namespaceSchema,
  networkPolicySchema,
  podSchema,
  workloadSchemas,
} from './schemas.js'

export { parseCIDRSloppy } from './cidr.js'
export { editDistanceAtMost, SUPPORTED_KINDS } from './kinds.js'

/**
 * The word apps validation uses in "empty selector is invalid for <word>" (ValidateReplicaSetSpec says
 * deployment too, in pkg/apis/apps/validation/validation.go).
 */
const EMPTY_SELECTOR_WORD: ReadonlyMap<string, string> = new Map([
  ['Deployment', 'deployment'],
  ['ReplicaSet', 'deployment'],
  ['StatefulSet', 'statefulset'],
  ['DaemonSet', 'daemonset'],
])

function schemaFor(kind: string): Schema | undefined {
  if (kind === 'NetworkPolicy') return networkPolicySchema
  if (kind === 'ClusterNetworkPolicy') return clusterNetworkPolicySchema
  if (kind === 'Pod') return podSchema
  if (kind === 'Namespace') return namespaceSchema
  return ownValue(workloadSchemas, kind)
}

/** Runs the semantic checks of a validated kind. */
function validateKind(r: Reporter, apiVersion: string, kind: string, value: JsonObject): void {
  const { group, version } = splitAPIVersion(apiVersion)
  switch (kind) {
    case 'NetworkPolicy':
      validateNetworkPolicy(r, value)
      return
    case 'ClusterNetworkPolicy':
      validateClusterNetworkPolicy(r, value)
      return
    case 'Pod':
      validatePod(r, value)
      return
    case 'Namespace':
      validateNamespace(r, value)
      return
    case 'CronJob':
      validateCronJob(r, value)
      return
    case 'Job':
      validateWorkload(r, value, {
        selectorRequired: false,
        mapSelector: false,
        checkTemplateMatch: false,
      })
      return
    case 'ReplicationController':
      validateWorkload(r, value, {
        selectorRequired: false,
        mapSelector: true,
        checkTemplateMatch: true,
        replicas: true,
      })
      return
    default: {
      // Deployment, StatefulSet, DaemonSet, ReplicaSet: apps/v1 and apps/v1beta2 dropped selector defaulting.
      const selectorRequired = group === 'apps' && (version === 'v1' || version === 'v1beta2')
      validateWorkload(r, value, {
        selectorRequired,
        mapSelector: false,
        checkTemplateMatch: true,
        replicas: kind !== 'DaemonSet',
        emptySelectorFor: EMPTY_SELECTOR_WORD.get(kind),
      })
      return
    }
  }
}

/**
 * Validates one object as the API server would on create (kubectl apply --validate=strict): unknown
 * fields (schema.*) and wrong types (decode.*), then the kind's own validation (validate.*). Kinds of groups we
 * do not model return no diagnostics.
 */
export function validateObject(raw: RawObject): Diagnostic[] {
  const value = raw.value
  const r = createReporter(raw)
  const apiVersion = value.apiVersion
  const kind = value.kind
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || apiVersion === '' || kind === '') {
    // Only speak up when the other half names something of ours.
    if (typeof kind === 'string' && kind !== '' && classifyKind('v1', kind).verdict !== 'skip') {
      r.report('validate.required', ['apiVersion'], "Object 'apiVersion' is missing")
    } else if (
      typeof apiVersion === 'string' &&
      apiVersion !== '' &&
      (kind === undefined || kind === '' || kind === null)
    ) {
      const { group } = splitAPIVersion(apiVersion)
      if (['', 'apps', 'extensions', 'batch', 'networking.k8s.io'].includes(group))
        r.report('validate.required', ['kind'], "Object 'Kind' is missing")
    }
    return [...r.diagnostics]
  }
  const verdict = classifyKind(apiVersion, kind)
  switch (verdict.verdict) {
    case 'skip':
      return []
    case 'unknown-kind':
      r.report('validate.unknown-kind', ['kind'], verdict.message)
      return [...r.diagnostics]
    case 'unknown-version':
      r.report('validate.unknown-version', ['apiVersion'], verdict.message)
      return [...r.diagnostics]
    case 'validate': {
      const schema = schemaFor(kind)
      if (schema) checkSchema(r, schema, value, [])
      validateKind(r, apiVersion, kind, value)
      return [...r.diagnostics]
    }
  }
}
