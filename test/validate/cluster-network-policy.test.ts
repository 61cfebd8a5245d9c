// ClusterNetworkPolicy as the API server validates it: the CRD schema (apiextensions-apiserver's words)
// and its CEL rules (messages verbatim), one row each, with field paths and lines.
import { describe, expect, it } from 'vitest'
import { validateObject } from '../../src/validate/index.js'
import { one } from './helpers.js'

interface Case {
  readonly name: string
  /** The body of `spec:` (indented by 2). */
  readonly spec: string
  readonly expected: readonly { code: string; path: readonly (string | number)[]; message: string }[]
}

function policy(spec: string, apiVersion = 'policy.networking.k8s.io/v1beta1'): string {
  return `apiVersion: ${apiVersion}
kind: ClusterNetworkPolicy
metadata:
  name: p
spec:
${spec}`
}

const SUBJECT = `  tier: Admin
  priority: 10
  subject:
    namespaces: {}
`
const PEERS = `    from:
    - namespaces: {}
`
const NAMED_PORT_MSG =
  'networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames'

const cases: Case[] = [
  {
    name: 'a valid policy of every field has no diagnostic',
    spec: `${SUBJECT}  ingress:
  - name: a
    action: Accept
    from:
    - pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}
    protocols:
    - tcp: {destinationPort: {number: 80}}
    - udp: {destinationPort: {range: {start: 1000, end: 2000}}}
    - destinationNamedPort: web
  egress:
  - action: Pass
    to:
    - networks: [10.0.0.0/8, "fd00::/8"]
    - nodes: {matchLabels: {role: infra}}
    protocols:
    - sctp: {destinationPort: {number: 9003}}
`,
    expected: [],
  },
  {
    name: 'tier, priority and subject are required',
    spec: `  ingress: []
`,
    expected: [
      { code: 'validate.required', path: ['spec', 'tier'], message: 'Required value' },
      { code: 'validate.required', path: ['spec', 'priority'], message: 'Required value' },
      { code: 'validate.required', path: ['spec', 'subject'], message: 'Required value' },
    ],
  },
  {
    name: 'tier is Admin or Baseline',
    spec: SUBJECT.replace('Admin', 'Developer'),
    expected: [
      {
        code: 'validate.invalid-value',
        path: ['spec', 'tier'],
        message: 'Unsupported value: "Developer": supported values: "Admin", "Baseline"',
      },
    ],
  },
  {
    name: 'priority at most 1000',
    spec: SUBJECT.replace('priority: 10', 'priority: 1001'),
    expected: [
      {
        code: 'validate.invalid-priority',
        path: ['spec', 'priority'],
        message: 'Invalid value: 1001: spec.priority in body should be less than or equal to 1000',
      },
    ],
  },
  {
    name: 'priority at least 0',
    spec: SUBJECT.replace('priority: 10', 'priority: -1'),
    expected: [
      {
        code: 'validate.invalid-priority',
        path: ['spec', 'priority'],
        message: 'Invalid value: -1: spec.priority in body should be greater than or equal to 0',
      },
    ],
  },
  {
    name: 'subject with two fields',
    spec: `  tier: Admin
  priority: 1
  subject:
    namespaces: {}
    pods: {podSelector: {}}
`,
    expected: [
      {
        code: 'validate.exactly-one-field',
        path: ['spec', 'subject'],
        message: 'Too many: 2: must have at most 1 items',
      },
    ],
  },
  {
    name: 'subject with no field',
    spec: `  tier: Admin
  priority: 1
  subject: {}
`,
    expected: [
      {
        code: 'validate.exactly-one-field',
        path: ['spec', 'subject'],
        message: 'Invalid value: 0: spec.subject in body should have at least 1 properties',
      },
    ],
  },
  {
    name: 'subject pods need a podSelector',
    spec: `  tier: Admin
  priority: 1
  subject:
    pods: {namespaceSelector: {}}
`,
    expected: [
      {
        code: 'validate.required',
        path: ['spec', 'subject', 'pods', 'podSelector'],
        message: 'Required value',
      },
    ],
  },
  {
    name: 'a rule needs an action and peers',
    spec: `${SUBJECT}  ingress:
  - name: x
`,
    expected: [
      { code: 'validate.required', path: ['spec', 'ingress', 0, 'action'], message: 'Required value' },
      { code: 'validate.required', path: ['spec', 'ingress', 0, 'from'], message: 'Required value' },
    ],
  },
  {
    name: 'action is Accept, Deny or Pass',
    spec: `${SUBJECT}  ingress:
  - action: Allow
${PEERS}`,
    expected: [
      {
        code: 'validate.invalid-value',
        path: ['spec', 'ingress', 0, 'action'],
        message: 'Unsupported value: "Allow": supported values: "Accept", "Deny", "Pass"',
      },
    ],
  },
  {
    name: 'from may not be empty',
    spec: `${SUBJECT}  ingress:
  - action: Deny
    from: []
`,
    expected: [
      {
        code: 'validate.required',
        path: ['spec', 'ingress', 0, 'from'],
        message: 'Invalid value: 0: spec.ingress[0].from in body should have at least 1 items',
      },
    ],
  },
  {
    name: 'at most 25 rules',
    spec: `${SUBJECT}  egress:
${Array.from({ length: 26 }, () => '  - action: Deny\n    to: [{namespaces: {}}]\n').join('')}`,
    expected: [
      {
        code: 'validate.too-many',
        path: ['spec', 'egress'],
        message: 'Too many: 26: must have at most 25 items',
      },
    ],
  },
  {
    name: 'at most 25 peers',
    spec: `${SUBJECT}  ingress:
  - action: Deny
    from:
${Array.from({ length: 26 }, () => '    - namespaces: {}\n').join('')}`,
    expected: [
      {
        code: 'validate.too-many',
        path: ['spec', 'ingress', 0, 'from'],
        message: 'Too many: 26: must have at most 25 items',
      },
    ],
  },
  {
    name: 'a peer sets exactly one field',
    spec: `${SUBJECT}  egress:
  - action: Deny
    to:
    - namespaces: {}
      networks: [10.0.0.0/8]
`,
    expected: [
      {
        code: 'validate.exactly-one-field',
        path: ['spec', 'egress', 0, 'to', 0],
        message: 'Too many: 2: must have at most 1 items',
      },
    ],
  },
  {
    name: 'networks entries are CIDRs (CEL isCIDR)',
    spec: `${SUBJECT}  egress:
  - action: Deny
    to:
    - networks: [10.0.0.300/8]
`,
    expected: [
      {
        code: 'validate.invalid-cidr',
        path: ['spec', 'egress', 0, 'to', 0, 'networks', 0],
        message: 'Invalid value: "string": Invalid CIDR format provided',
      },
    ],
  },
  {
    name: 'a named port with a networks peer (CEL rule of the egress rule)',
    spec: `${SUBJECT}  egress:
  - action: Accept
    to:
    - networks: [10.0.0.0/8]
    protocols:
    - destinationNamedPort: web
`,
    expected: [
      {
        code: 'validate.named-port-peer',
        path: ['spec', 'egress', 0],
        message: `Invalid value: "object": ${NAMED_PORT_MSG}`,
      },
    ],
  },
  {
    name: 'a protocols entry sets exactly one field',
    spec: `${SUBJECT}  ingress:
  - action: Deny
${PEERS}    protocols:
    - tcp: {destinationPort: {number: 80}}
      destinationNamedPort: web
`,
    expected: [
      {
        code: 'validate.exactly-one-field',
        path: ['spec', 'ingress', 0, 'protocols', 0],
        message: 'Too many: 2: must have at most 1 items',
      },
    ],
  },
  {
    name: 'a port number is 1..65535',
    spec: `${SUBJECT}  ingress:
  - action: Deny
${PEERS}    protocols:
    - tcp: {destinationPort: {number: 0}}
`,
    expected: [
      {
        code: 'validate.invalid-port',
        path: ['spec', 'ingress', 0, 'protocols', 0, 'tcp', 'destinationPort', 'number'],
        message:
          'Invalid value: 0: spec.ingress[0].protocols[0].tcp.destinationPort.number in body should be greater than or equal to 1',
      },
    ],
  },
  {
    name: 'a range starts below its end (CEL rule of PortRange)',
    spec: `${SUBJECT}  ingress:
  - action: Deny
${PEERS}    protocols:
    - udp: {destinationPort: {range: {start: 80, end: 80}}}
`,
    expected: [
      {
        code: 'validate.invalid-end-port',
        path: ['spec', 'ingress', 0, 'protocols', 0, 'udp', 'destinationPort', 'range'],
        message: 'Invalid value: "object": Start port must be less than End port',
      },
    ],
  },
  {
    name: 'an ingress peer has no networks field (unknown under strict field validation)',
    spec: `${SUBJECT}  ingress:
  - action: Deny
    from:
    - networks: [10.0.0.0/8]
`,
    expected: [
      {
        code: 'schema.unknown-field',
        path: ['spec', 'ingress', 0, 'from', 0, 'networks'],
        message: 'unknown field "spec.ingress[0].from[0].networks"',
      },
    ],
  },
  {
    name: 'domainNames follow the pattern',
    spec: `${SUBJECT}  egress:
  - action: Accept
    to:
    - domainNames: ["*"]
`,
    expected: [
      {
        code: 'validate.invalid-value',
        path: ['spec', 'egress', 0, 'to', 0, 'domainNames', 0],
        message:
          'Invalid value: "*": spec.egress[0].to[0].domainNames[0] in body should match \'^(\\*\\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\\.?$\'',
      },
    ],
  },
]

describe('ClusterNetworkPolicy validation (CRD schema and CEL rules)', () => {
  it.each(cases)('$name', ({ spec, expected }) => {
    const diags = validateObject(one(policy(spec)))
    expect(diags.map(({ code, path, message }) => ({ code, path, message }))).toEqual(expected)
  })

  it('accepts v1alpha2 with the same fields and refuses v1alpha1 (no such kind there)', () => {
    expect(validateObject(one(policy(SUBJECT, 'policy.networking.k8s.io/v1alpha2')))).toEqual([])
    const d = validateObject(one(policy(SUBJECT, 'policy.networking.k8s.io/v1alpha1')))
    expect(d.map((x) => [x.code, x.message])).toEqual([
      [
        'validate.unknown-version',
        'no matches for kind "ClusterNetworkPolicy" in version "policy.networking.k8s.io/v1alpha1"',
      ],
    ])
  })

  it('names the object and the line of the field', () => {
    const [d] = validateObject(one(policy(SUBJECT.replace('priority: 10', 'priority: 5000'))))
    expect(d?.object).toBe('ClusterNetworkPolicy p')
    expect(d?.source?.line).toBe(7)
  })
})
