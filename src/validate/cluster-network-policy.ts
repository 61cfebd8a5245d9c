/**
 * ClusterNetworkPolicy (policy.networking.k8s.io v1beta1 and v1alpha2) as the API server validates it:
 * the CRD's OpenAPI schema (required fields, enums, minimum/maximum, minItems/maxItems,
 * minProperties/maxProperties, maxLength, pattern) in apiextensions-apiserver's words, then the CRD's
 * CEL rules (x-kubernetes-validations) with their messages verbatim. The CRD is the experimental
 * channel's (kubernetes-sigs/network-policy-api config/crd/experimental), the superset: `nodes` and
 * `domainNames` peers and the named-port rule are read too.
 */
import type { FieldPath } from '../model/diagnostic.js'
import { formatPath } from '../model/diagnostic.js'
import { parseCIDR } from '../model/ip.js'
import type { JsonObject, JsonValue } from '../model/raw.js'
import { nameIsDNSSubdomain } from './apimachinery.js'
import type { Reporter } from './context.js'
import { asArray, asObject, asString } from './context.js'
import { validateObjectMeta } from './metadata.js'

const TIERS = ['Admin', 'Baseline'] as const
const ACTIONS = ['Accept', 'Deny', 'Pass'] as const
/** The CRD's limit on rules per direction, peers per rule, protocols per rule, networks and domain names per peer. */
export const CNP_MAX_ITEMS = 25
/** The DomainName pattern of the CRD, verbatim (its `a-zA-z` included). */
const DOMAIN_NAME_PATTERN =
  '^(\\*\\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\\.?$'
const DOMAIN_NAME_RE = new RegExp(DOMAIN_NAME_PATTERN)
/** CEL message of the egress rule's x-kubernetes-validations. */
export const NAMED_PORT_PEER_MESSAGE =
  'networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames'

/** A field's value as the CRD validation sees it: null counts as absent (apiextensions drops it). */
function present(o: JsonObject, key: string): JsonValue | undefined {
  const v = Object.hasOwn(o, key) ? o[key] : undefined
  return v === null ? undefined : v
}

/** The keys of an object with a non-null value (what minProperties/maxProperties count). */
function propertyCount(o: JsonObject): number {
  let n = 0
  for (const k of Object.keys(o)) if (o[k] !== null) n++
  return n
}

/** `<path> in body ...`: go-openapi's message body names the full field path. */
function inBody(path: FieldPath, rest: string): string {
  return `${formatPath(path)} in body ${rest}`
}

/** minProperties: 1 / maxProperties: 1 — exactly one field. */
function exactlyOne(r: Reporter, o: JsonObject, path: FieldPath): void {
  const n = propertyCount(o)
  if (n === 0)
    r.invalid('validate.exactly-one-field', path, 0, inBody(path, 'should have at least 1 properties'))
  else if (n > 1) r.report('validate.exactly-one-field', path, `Too many: ${n}: must have at most 1 items`)
}

/** minItems/maxItems of a list; returns the list (empty when absent or not a list). */
function items(
  r: Reporter,
  o: JsonObject,
  key: string,
  path: FieldPath,
  limits: { readonly min?: number; readonly required?: boolean },
): readonly JsonValue[] {
  const at = [...path, key]
  const v = present(o, key)
  if (v === undefined) {
    if (limits.required) r.required('validate.required', at)
    return []
  }
  const list = asArray(v)
  if (!list) return []
  if (limits.min !== undefined && list.length < limits.min)
    r.invalid('validate.required', at, list.length, inBody(at, `should have at least ${limits.min} items`))
  if (list.length > CNP_MAX_ITEMS)
    r.report('validate.too-many', at, `Too many: ${list.length}: must have at most ${CNP_MAX_ITEMS} items`)
  return list
}

/** An integer between min and max (minimum/maximum of the schema). */
function range(
  r: Reporter,
  code: 'validate.invalid-priority' | 'validate.invalid-port',
  value: JsonValue | undefined,
  path: FieldPath,
  min: number,
  max: number,
): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) return
  if (value < min) r.invalid(code, path, value, inBody(path, `should be greater than or equal to ${min}`))
  else if (value > max) r.invalid(code, path, value, inBody(path, `should be less than or equal to ${max}`))
}

/** A metav1.LabelSelector in a CRD: only key and operator of each requirement are required. */
function selector(r: Reporter, value: JsonValue | undefined, path: FieldPath): void {
  const sel = asObject(value)
  if (!sel) return
  asArray(present(sel, 'matchExpressions'))?.forEach((req, i) => {
    const o = asObject(req) ?? {}
    for (const key of ['key', 'operator'])
      if (present(o, key) === undefined)
        r.required('validate.required', [...path, 'matchExpressions', i, key])
  })
}

/** NamespacedPod: podSelector required. */
function namespacedPod(r: Reporter, value: JsonValue | undefined, path: FieldPath): void {
  const o = asObject(value)
  if (!o) return
  if (present(o, 'podSelector') === undefined) r.required('validate.required', [...path, 'podSelector'])
  selector(r, present(o, 'namespaceSelector'), [...path, 'namespaceSelector'])
  selector(r, present(o, 'podSelector'), [...path, 'podSelector'])
}

/** A peer of from/to: exactly one field (an unknown one counts: a newer CRD may know it). */
function peer(r: Reporter, value: JsonValue, path: FieldPath): void {
  const o = asObject(value) ?? {}
  exactlyOne(r, o, path)
  selector(r, present(o, 'namespaces'), [...path, 'namespaces'])
  selector(r, present(o, 'nodes'), [...path, 'nodes'])
  namespacedPod(r, present(o, 'pods'), [...path, 'pods'])
  items(r, o, 'networks', path, { min: 1 }).forEach((cidr, i) => {
    const at = [...path, 'networks', i]
    if (typeof cidr !== 'string') return
    if (cidr.length > 43) r.report('validate.invalid-cidr', at, `Too long: may not be more than 43 bytes`)
    else if (!parseCIDR(cidr))
      r.invalid('validate.invalid-cidr', at, 'string', 'Invalid CIDR format provided')
  })
  items(r, o, 'domainNames', path, { min: 1 }).forEach((name, i) => {
    if (typeof name === 'string' && !DOMAIN_NAME_RE.test(name)) {
      const at = [...path, 'domainNames', i]
      r.invalid('validate.invalid-value', at, name, inBody(at, `should match '${DOMAIN_NAME_PATTERN}'`))
    }
  })
}

/** A Port: exactly one of number and range; numbers 1..65535; start < end. */
function port(r: Reporter, value: JsonValue | undefined, path: FieldPath): void {
  const o = asObject(value)
  if (!o) return
  exactlyOne(r, o, path)
  range(r, 'validate.invalid-port', present(o, 'number'), [...path, 'number'], 1, 65535)
  const rg = asObject(present(o, 'range'))
  if (!rg) return
  const at = [...path, 'range']
  for (const key of ['end', 'start'])
    if (present(rg, key) === undefined) r.required('validate.required', [...at, key])
  const start = present(rg, 'start')
  const end = present(rg, 'end')
  range(r, 'validate.invalid-port', start, [...at, 'start'], 1, 65535)
  range(r, 'validate.invalid-port', end, [...at, 'end'], 1, 65535)
  if (typeof start === 'number' && typeof end === 'number' && !(start < end))
    r.invalid('validate.invalid-end-port', at, 'object', 'Start port must be less than End port')
}

/** A protocols entry: exactly one of tcp, udp, sctp, destinationNamedPort; tcp/udp/sctp need a port. */
function protocol(r: Reporter, value: JsonValue, path: FieldPath): void {
  const o = asObject(value) ?? {}
  exactlyOne(r, o, path)
  for (const key of ['tcp', 'udp', 'sctp']) {
    const p = asObject(present(o, key))
    if (!p) continue
    const at = [...path, key]
    if (propertyCount(p) === 0)
      r.invalid('validate.exactly-one-field', at, 0, inBody(at, 'should have at least 1 properties'))
    port(r, present(p, 'destinationPort'), [...at, 'destinationPort'])
  }
}

/** One ingress or egress rule. */
function rule(r: Reporter, value: JsonValue, path: FieldPath, peersKey: 'from' | 'to'): void {
  const o = asObject(value) ?? {}
  const name = asString(present(o, 'name'))
  if (name !== undefined && name.length > 100)
    r.report('validate.invalid-value', [...path, 'name'], 'Too long: may not be more than 100 bytes')
  const action = present(o, 'action')
  if (action === undefined) r.required('validate.required', [...path, 'action'])
  else if (typeof action === 'string' && !(ACTIONS as readonly string[]).includes(action))
    r.notSupported('validate.invalid-value', [...path, 'action'], action, ACTIONS)
  const peers = items(r, o, peersKey, path, { min: 1, required: true })
  peers.forEach((p, i) => {
    peer(r, p, [...path, peersKey, i])
  })
  const protocols = items(r, o, 'protocols', path, { min: 1 })
  protocols.forEach((p, i) => {
    protocol(r, p, [...path, 'protocols', i])
  })
  // The CEL rule of ClusterNetworkPolicyEgressRule (experimental channel), verbatim.
  if (peersKey === 'to') {
    const addressPeer = peers.some((p) => {
      const po = asObject(p) ?? {}
      return ['networks', 'nodes', 'domainNames'].some((k) => present(po, k) !== undefined)
    })
    const named = protocols.some((p) => present(asObject(p) ?? {}, 'destinationNamedPort') !== undefined)
    if (addressPeer && named) r.invalid('validate.named-port-peer', path, 'object', NAMED_PORT_PEER_MESSAGE)
  }
}

/** ClusterNetworkPolicy: ObjectMeta (cluster-scoped, name a DNS subdomain), then the CRD's schema and rules. */
export function validateClusterNetworkPolicy(r: Reporter, value: JsonObject): void {
  validateObjectMeta(r, value.metadata, nameIsDNSSubdomain, false)
  const spec = asObject(present(value, 'spec'))
  if (!spec) {
    if (present(value, 'spec') === undefined) r.required('validate.required', ['spec'])
    return
  }
  const tier = present(spec, 'tier')
  if (tier === undefined) r.required('validate.required', ['spec', 'tier'])
  else if (typeof tier === 'string' && !(TIERS as readonly string[]).includes(tier))
    r.notSupported('validate.invalid-value', ['spec', 'tier'], tier, TIERS)
  const priority = present(spec, 'priority')
  if (priority === undefined) r.required('validate.required', ['spec', 'priority'])
  else range(r, 'validate.invalid-priority', priority, ['spec', 'priority'], 0, 1000)
  const subject = asObject(present(spec, 'subject'))
  if (present(spec, 'subject') === undefined) r.required('validate.required', ['spec', 'subject'])
  else if (subject) {
    exactlyOne(r, subject, ['spec', 'subject'])
    selector(r, present(subject, 'namespaces'), ['spec', 'subject', 'namespaces'])
    namespacedPod(r, present(subject, 'pods'), ['spec', 'subject', 'pods'])
  }
  items(r, spec, 'ingress', ['spec'], {}).forEach((ru, i) => {
    rule(r, ru, ['spec', 'ingress', i], 'from')
  })
  items(r, spec, 'egress', ['spec'], {}).forEach((ru, i) => {
    rule(r, ru, ['spec', 'egress', i], 'to')
  })
}
