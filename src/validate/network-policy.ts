/**
 * ValidateNetworkPolicy from pkg/apis/networking/validation/validation.go, rule for rule and in the
 * same order. spec.podSelector is optional (defaults to {}), policyTypes duplicates are accepted:
 * the API server checks neither.
 */
import type { FieldPath } from '../model/diagnostic.js'
import { cidrContainsCIDR } from '../model/ip.js'
import type { JsonObject, JsonValue } from '../model/raw.js'
import { isValidPortName, isValidPortNum, nameIsDNSSubdomain } from './apimachinery.js'
import { parseCIDRSloppy } from './cidr.js'
import type { Reporter } from './context.js'
import { asArray, asInteger, asObject, asString } from './context.js'
import { validateLabelSelector, validateObjectMeta } from './metadata.js'

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const
const POLICY_TYPES = ['Ingress', 'Egress'] as const

/** ValidateNetworkPolicyPort: protocol, numeric or named port, endPort. */
function validatePort(r: Reporter, port: JsonObject, path: FieldPath): void {
  const protocol = port.protocol
  if (typeof protocol === 'string' && !(PROTOCOLS as readonly string[]).includes(protocol)) {
    r.notSupported('validate.unsupported-protocol', [...path, 'protocol'], protocol, PROTOCOLS)
  }
  const p = port.port
  const endPort = asInteger(port.endPort)
  if (typeof p === 'number') {
    if (!Number.isInteger(p)) return
    for (const msg of isValidPortNum(p)) r.invalid('validate.invalid-port', [...path, 'port'], p, msg)
    if (endPort !== undefined) {
      if (endPort < p)
        r.invalid(
          'validate.invalid-end-port',
          [...path, 'endPort'],
          endPort,
          'must be greater than or equal to `port`',
        )
      for (const msg of isValidPortNum(endPort))
        r.invalid('validate.invalid-end-port', [...path, 'endPort'], endPort, msg)
    }
  } else if (typeof p === 'string') {
    if (endPort !== undefined) {
      r.invalid(
        'validate.invalid-end-port',
        [...path, 'endPort'],
        endPort,
        'may not be specified when `port` is non-numeric',
      )
    }
    for (const msg of isValidPortName(p)) r.invalid('validate.invalid-port', [...path, 'port'], p, msg)
  } else if (endPort !== undefined) {
    r.invalid(
      'validate.invalid-end-port',
      [...path, 'endPort'],
      endPort,
      'may not be specified when `port` is not specified',
    )
  }
}

/** ValidateIPBlock: cidr required and valid; each except valid and strictly inside cidr. */
function validateIPBlock(r: Reporter, block: JsonObject, path: FieldPath): void {
  const cidrText = asString(block.cidr) ?? ''
  if (cidrText === '') {
    r.required('validate.required', [...path, 'cidr'])
    return
  }
  const cidr = parseCIDRSloppy(cidrText)
  if (!cidr) {
    r.invalid(
      'validate.invalid-cidr',
      [...path, 'cidr'],
      cidrText,
      'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    )
    return
  }
  asArray(block.except)?.forEach((e, i) => {
    if (typeof e !== 'string') return
    const p = [...path, 'except', i]
    const except = parseCIDRSloppy(e)
    if (!except) {
      r.invalid(
        'validate.invalid-cidr',
        p,
        e,
        'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      )
      return
    }
    if (!cidrContainsCIDR(cidr, except) || cidr.prefix >= except.prefix) {
      r.invalid('validate.invalid-except', p, e, 'must be a strict subset of `cidr`')
    }
  })
}

/** ValidateNetworkPolicyPeer: one of podSelector/namespaceSelector/ipBlock; ipBlock stands alone. */
function validatePeer(r: Reporter, peer: JsonObject, path: FieldPath): void {
  let numPeers = 0
  const podSelector = asObject(peer.podSelector)
  const namespaceSelector = asObject(peer.namespaceSelector)
  const ipBlock = asObject(peer.ipBlock)
  if (podSelector) {
    numPeers++
    validateLabelSelector(r, podSelector, [...path, 'podSelector'])
  }
  if (namespaceSelector) {
    numPeers++
    validateLabelSelector(r, namespaceSelector, [...path, 'namespaceSelector'])
  }
  if (ipBlock) {
    numPeers++
    validateIPBlock(r, ipBlock, [...path, 'ipBlock'])
  }
  if (numPeers === 0) r.required('validate.invalid-peer', path, 'must specify a peer')
  else if (numPeers > 1 && ipBlock)
    r.forbidden('validate.invalid-peer', path, 'may not specify both ipBlock and another peer')
}

/** Validates the rules of one direction: ports, then peers, as the API server orders them. */
function validateRules(r: Reporter, rules: JsonValue | undefined, direction: 'ingress' | 'egress'): void {
  const peersField = direction === 'ingress' ? 'from' : 'to'
  asArray(rules)?.forEach((rule, i) => {
    const ruleObj = asObject(rule)
    if (!ruleObj) return
    const rulePath = ['spec', direction, i]
    asArray(ruleObj.ports)?.forEach((port, j) => {
      const portObj = asObject(port)
      if (portObj) validatePort(r, portObj, [...rulePath, 'ports', j])
    })
    asArray(ruleObj[peersField])?.forEach((peer, j) => {
      const peerObj = asObject(peer)
      // A null list element decodes to an empty peer.
      validatePeer(r, peerObj ?? {}, [...rulePath, peersField, j])
    })
  })
}

/** Formats policyTypes the way Go's %#v prints the slice in the API server's message. */
function formatPolicyTypes(types: readonly JsonValue[]): string {
  return `[]networking.PolicyType{${types.map((t) => JSON.stringify(typeof t === 'string' ? t : '')).join(', ')}}`
}

/** ValidateNetworkPolicySpec + ValidateObjectMeta (name: DNS subdomain). */
export function validateNetworkPolicy(r: Reporter, value: JsonObject): void {
  validateObjectMeta(r, value.metadata, nameIsDNSSubdomain, true)
  const spec = asObject(value.spec) ?? {}
  validateLabelSelector(r, spec.podSelector, ['spec', 'podSelector'])
  validateRules(r, spec.ingress, 'ingress')
  validateRules(r, spec.egress, 'egress')
  const policyTypes = asArray(spec.policyTypes) ?? []
  if (policyTypes.length > POLICY_TYPES.length) {
    r.report(
      'validate.invalid-policy-type',
      ['spec', 'policyTypes'],
      `Invalid value: ${formatPolicyTypes(policyTypes)}: may not specify more than two policyTypes`,
    )
    return
  }
  policyTypes.forEach((t, i) => {
    if (typeof t === 'string' && !(POLICY_TYPES as readonly string[]).includes(t)) {
      r.notSupported('validate.invalid-policy-type', ['spec', 'policyTypes', i], t, POLICY_TYPES)
    }
  })
}
