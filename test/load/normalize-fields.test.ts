/**
 * Every field the normalizer reads, given a value of the wrong type or an unsupported value: the object
 * is left out with one load.invalid-field diagnostic at the field's own path, in the API server's words.
 * (The readers walk an object's values once and build a path only for a diagnostic, so each path here is
 * the one place that says they build it right.)
 */
import { describe, expect, it } from 'vitest'
import { normalizeObjects, parseDocuments } from '../../src/load/index.js'
import type { FieldPath } from '../../src/model/index.js'

interface FieldCase {
  readonly name: string
  /** The object as YAML (flow style). */
  readonly yaml: string
  readonly path: FieldPath
  readonly message: string
}

const pod = (spec: string, status = '{}', metadata = '{name: a, namespace: n}'): string =>
  `apiVersion: v1\nkind: Pod\nmetadata: ${metadata}\nspec: ${spec}\nstatus: ${status}\n`
const policy = (spec: string): string =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: n}\nspec: ${spec}\n`
/** A policy whose egress[0].to[1] is the peer given (to[0] is a valid one). */
const egressPeer = (peer: string): string =>
  policy(`{podSelector: {}, egress: [{to: [{podSelector: {}}, ${peer}]}]}`)
/** A policy whose ingress[1].ports[0] is the port given. */
const ingressPort = (port: string): string => policy(`{podSelector: {}, ingress: [{}, {ports: [${port}]}]}`)

const PEER: FieldPath = ['spec', 'egress', 0, 'to', 1]
const PORT: FieldPath = ['spec', 'ingress', 1, 'ports', 0]

const cases: FieldCase[] = [
  // Pods
  {
    name: 'pod containers',
    yaml: pod('{containers: c}'),
    path: ['spec', 'containers'],
    message: 'expected an array, got string',
  },
  {
    name: 'pod container ports',
    yaml: pod('{containers: [{name: c}, {name: d, ports: {a: 1}}]}'),
    path: ['spec', 'containers', 1, 'ports'],
    message: 'expected an array, got object',
  },
  {
    name: 'pod containerPort out of range',
    yaml: pod('{containers: [{name: c, ports: [{containerPort: 80}, {containerPort: 0}]}]}'),
    path: ['spec', 'containers', 0, 'ports', 1, 'containerPort'],
    message: 'Invalid value: 0: must be between 1 and 65535, inclusive',
  },
  {
    name: 'pod container port protocol',
    yaml: pod('{containers: [{name: c, ports: [{containerPort: 80, protocol: ICMP}]}]}'),
    path: ['spec', 'containers', 0, 'ports', 0, 'protocol'],
    message: 'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
  },
  {
    name: 'pod container port name',
    yaml: pod('{containers: [{name: c, ports: [{containerPort: 80, name: 5}]}]}'),
    path: ['spec', 'containers', 0, 'ports', 0, 'name'],
    message: 'expected a string, got number',
  },
  {
    name: 'sidecar port protocol',
    yaml: pod(
      '{containers: [{name: c}], initContainers: [{name: i}, {name: s, restartPolicy: Always, ports: [{containerPort: 80, protocol: 7}]}]}',
    ),
    path: ['spec', 'initContainers', 1, 'ports', 0, 'protocol'],
    message: 'Unsupported value: 7: supported values: "SCTP", "TCP", "UDP"',
  },
  {
    name: 'pod nodeName',
    yaml: pod('{nodeName: 5}'),
    path: ['spec', 'nodeName'],
    message: 'expected a string, got number',
  },
  {
    name: 'pod hostNetwork',
    yaml: pod('{hostNetwork: "yes"}'),
    path: ['spec', 'hostNetwork'],
    message: 'expected a boolean, got string',
  },
  {
    name: 'pod phase',
    yaml: pod('{}', '{phase: 5}'),
    path: ['status', 'phase'],
    message: 'expected a string, got number',
  },
  {
    name: 'pod podIPs',
    yaml: pod('{}', '{podIPs: x}'),
    path: ['status', 'podIPs'],
    message: 'expected an array, got string',
  },
  {
    name: 'pod podIPs ip',
    yaml: pod('{}', '{podIPs: [{ip: 10.0.0.1}, {ip: 5}]}'),
    path: ['status', 'podIPs', 1, 'ip'],
    message: 'expected a string, got number',
  },
  {
    name: 'pod podIP',
    yaml: pod('{}', '{podIP: []}'),
    path: ['status', 'podIP'],
    message: 'expected a string, got array',
  },
  {
    name: 'pod label value',
    yaml: pod('{}', '{}', '{name: a, namespace: n, labels: {a: b, c: 5}}'),
    path: ['metadata', 'labels', 'c'],
    message: 'expected a string, got number',
  },
  {
    name: 'pod labels',
    yaml: pod('{}', '{}', '{name: a, namespace: n, labels: [a]}'),
    path: ['metadata', 'labels'],
    message: 'expected an object, got array',
  },
  {
    name: 'pod name',
    yaml: pod('{}', '{}', '{name: 5, namespace: n}'),
    path: ['metadata', 'name'],
    message: 'expected a string, got number',
  },
  // NetworkPolicies: rules
  {
    name: 'ingress',
    yaml: policy('{podSelector: {}, ingress: {}}'),
    path: ['spec', 'ingress'],
    message: 'expected an array, got object',
  },
  {
    name: 'an egress rule',
    yaml: policy('{podSelector: {}, egress: [{}, x]}'),
    path: ['spec', 'egress', 1],
    message: 'expected an object, got string',
  },
  {
    name: 'from',
    yaml: policy('{podSelector: {}, ingress: [{from: x}]}'),
    path: ['spec', 'ingress', 0, 'from'],
    message: 'expected an array, got string',
  },
  { name: 'a peer', yaml: egressPeer('5'), path: PEER, message: 'expected an object, got number' },
  // Peers
  {
    name: 'peer podSelector',
    yaml: egressPeer('{podSelector: x}'),
    path: [...PEER, 'podSelector'],
    message: 'expected an object, got string',
  },
  {
    name: 'peer namespaceSelector label',
    yaml: egressPeer('{namespaceSelector: {matchLabels: {a: 1}}}'),
    path: [...PEER, 'namespaceSelector', 'matchLabels', 'a'],
    message: 'expected a string, got number',
  },
  {
    name: 'selector matchExpressions',
    yaml: egressPeer('{podSelector: {matchExpressions: x}}'),
    path: [...PEER, 'podSelector', 'matchExpressions'],
    message: 'expected an array, got string',
  },
  {
    name: 'selector operator',
    yaml: egressPeer(
      '{podSelector: {matchExpressions: [{key: a, operator: Exists}, {key: a, operator: Foo}]}}',
    ),
    path: [...PEER, 'podSelector', 'matchExpressions', 1, 'operator'],
    message: 'Invalid value: "Foo": not a valid selector operator',
  },
  {
    name: 'selector value',
    yaml: egressPeer('{namespaceSelector: {matchExpressions: [{key: a, operator: In, values: [x, 5]}]}}'),
    path: [...PEER, 'namespaceSelector', 'matchExpressions', 0, 'values', 1],
    message: 'expected a string, got number',
  },
  {
    name: 'selector key',
    yaml: egressPeer('{podSelector: {matchExpressions: [{key: 5, operator: Exists}]}}'),
    path: [...PEER, 'podSelector', 'matchExpressions', 0, 'key'],
    message: 'expected a string, got number',
  },
  {
    name: 'ipBlock',
    yaml: egressPeer('{ipBlock: x}'),
    path: [...PEER, 'ipBlock'],
    message: 'expected an object, got string',
  },
  {
    name: 'ipBlock cidr',
    yaml: egressPeer('{ipBlock: {cidr: 5}}'),
    path: [...PEER, 'ipBlock', 'cidr'],
    message: 'expected a string, got number',
  },
  {
    name: 'ipBlock except',
    yaml: egressPeer('{ipBlock: {cidr: 10.0.0.0/8, except: x}}'),
    path: [...PEER, 'ipBlock', 'except'],
    message: 'expected an array, got string',
  },
  {
    name: 'an ipBlock except',
    yaml: egressPeer('{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 5]}}'),
    path: [...PEER, 'ipBlock', 'except', 1],
    message: 'expected a string, got number',
  },
  // Ports
  {
    name: 'ports',
    yaml: policy('{podSelector: {}, ingress: [{ports: {}}]}'),
    path: ['spec', 'ingress', 0, 'ports'],
    message: 'expected an array, got object',
  },
  { name: 'a port', yaml: ingressPort('x'), path: PORT, message: 'expected an object, got string' },
  {
    name: 'port protocol',
    yaml: ingressPort('{protocol: ICMP}'),
    path: [...PORT, 'protocol'],
    message: 'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
  },
  {
    name: 'port',
    yaml: ingressPort('{port: []}'),
    path: [...PORT, 'port'],
    message: 'expected an integer or a string, got array',
  },
  {
    name: 'endPort',
    yaml: ingressPort('{port: 80, endPort: x}'),
    path: [...PORT, 'endPort'],
    message: 'expected an integer, got string',
  },
  // The policy's own selector
  {
    name: 'podSelector label',
    yaml: policy('{podSelector: {matchLabels: {a: [b]}}}'),
    path: ['spec', 'podSelector', 'matchLabels', 'a'],
    message: 'expected a string, got array',
  },
]

describe('normalizeObjects: a field of the wrong type is reported at its own path', () => {
  it.each(cases)('$name', ({ yaml, path, message }) => {
    const parsed = parseDocuments({ file: 'in.yaml', text: yaml })
    expect(parsed.diagnostics).toEqual([])
    const { value, diagnostics } = normalizeObjects(parsed.value)
    expect(value.pods).toEqual([])
    expect(value.policies).toEqual([])
    expect(
      diagnostics.filter((d) => d.code === 'load.invalid-field').map((d) => [d.path, d.message]),
    ).toEqual([[path, message]])
    expect(diagnostics.map((d) => d.code)).toContain('load.rejected')
  })
})
