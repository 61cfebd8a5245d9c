// Rules of ValidateNetworkPolicy (pkg/apis/networking/validation/validation.go), one row each.
import { describe, expect, it } from 'vitest'
import { canonicalCIDR } from '../../src/model/index.js'
import { parseCIDRSloppy, validateObject } from '../../src/validate/index.js'
import { one } from './helpers.js'

interface Expected {
  readonly code: string
  readonly path: readonly (string | number)[]
  readonly message: string
}

interface Case {
  readonly name: string
  /** The body of `spec:` (indented by 2), or a whole manifest when it starts with 'apiVersion'. */
  readonly spec: string
  readonly expected: readonly Expected[]
}

function policy(spec: string): string {
  if (spec.startsWith('apiVersion')) return spec
  return `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: p
  namespace: default
spec:
${spec}`
}

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
const LABEL_KEY_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
const CIDR_MSG = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'

const cases: Case[] = [
  {
    name: 'a complete valid policy gives no diagnostics',
    spec: `  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    - namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [a, b]}]}
      podSelector: {matchExpressions: [{key: tier, operator: Exists}]}
    ports:
    - {protocol: TCP, port: 80}
    - {protocol: UDP, port: 53}
    - {protocol: SCTP, port: 1000, endPort: 2000}
    - {port: http}
  egress:
  - to: [{ipBlock: {cidr: '2001:db8::/32', except: ['2001:db8:1::/48']}}]`,
    expected: [],
  },
  {
    name: 'spec.podSelector is optional in v1 (defaults to the empty selector)',
    spec: '  policyTypes: [Ingress]',
    expected: [],
  },
  {
    name: 'a lowercase protocol is not supported (seed 004)',
    spec: `  podSelector: {}
  ingress:
  - ports:
    - protocol: tcp
      port: 80`,
    expected: [
      {
        code: 'validate.unsupported-protocol',
        path: ['spec', 'ingress', 0, 'ports', 0, 'protocol'],
        message: 'Unsupported value: "tcp": supported values: "TCP", "UDP", "SCTP"',
      },
    ],
  },
  {
    name: 'port 0 is out of range',
    spec: `  podSelector: {}
  egress:
  - ports: [{port: 0}]`,
    expected: [
      {
        code: 'validate.invalid-port',
        path: ['spec', 'egress', 0, 'ports', 0, 'port'],
        message: 'Invalid value: 0: must be between 1 and 65535, inclusive',
      },
    ],
  },
  {
    name: 'port 65536 is out of range',
    spec: `  podSelector: {}
  ingress:
  - ports: [{port: 65536}]`,
    expected: [
      {
        code: 'validate.invalid-port',
        path: ['spec', 'ingress', 0, 'ports', 0, 'port'],
        message: 'Invalid value: 65536: must be between 1 and 65535, inclusive',
      },
    ],
  },
  {
    name: 'a quoted number is a named port and needs a letter',
    spec: `  podSelector: {}
  ingress:
  - ports: [{port: "8080"}]`,
    expected: [
      {
        code: 'validate.invalid-port',
        path: ['spec', 'ingress', 0, 'ports', 0, 'port'],
        message: 'Invalid value: "8080": must contain at least one letter (a-z)',
      },
    ],
  },
  {
    name: 'a named port longer than 15 characters with upper case fails two rules',
    spec: `  podSelector: {}
  ingress:
  - ports: [{port: Very-Long-Port-Name}]`,
    expected: [
      {
        code: 'validate.invalid-port',
        path: ['spec', 'ingress', 0, 'ports', 0, 'port'],
        message: 'Invalid value: "Very-Long-Port-Name": must be no more than 15 characters',
      },
      {
        code: 'validate.invalid-port',
        path: ['spec', 'ingress', 0, 'ports', 0, 'port'],
        message:
          'Invalid value: "Very-Long-Port-Name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      },
    ],
  },
  {
    name: 'a named port may not contain consecutive hyphens or end with one',
    spec: `  podSelector: {}
  ingress:
  - ports: [{port: a--b-}]`,
    expected: [
      {
        code: 'validate.invalid-port',
        path: ['spec', 'ingress', 0, 'ports', 0, 'port'],
        message: 'Invalid value: "a--b-": must not contain consecutive hyphens',
      },
      {
        code: 'validate.invalid-port',
        path: ['spec', 'ingress', 0, 'ports', 0, 'port'],
        message: 'Invalid value: "a--b-": must not begin or end with a hyphen',
      },
    ],
  },
  {
    name: 'endPort below port is rejected',
    spec: `  podSelector: {}
  egress:
  - ports: [{port: 100, endPort: 99}]`,
    expected: [
      {
        code: 'validate.invalid-end-port',
        path: ['spec', 'egress', 0, 'ports', 0, 'endPort'],
        message: 'Invalid value: 99: must be greater than or equal to `port`',
      },
    ],
  },
  {
    name: 'endPort equal to port is accepted',
    spec: `  podSelector: {}
  egress:
  - ports: [{port: 100, endPort: 100}]`,
    expected: [],
  },
  {
    name: 'endPort out of range is rejected',
    spec: `  podSelector: {}
  egress:
  - ports: [{port: 100, endPort: 70000}]`,
    expected: [
      {
        code: 'validate.invalid-end-port',
        path: ['spec', 'egress', 0, 'ports', 0, 'endPort'],
        message: 'Invalid value: 70000: must be between 1 and 65535, inclusive',
      },
    ],
  },
  {
    name: 'endPort with a named port is rejected',
    spec: `  podSelector: {}
  egress:
  - ports: [{port: dns, endPort: 60}]`,
    expected: [
      {
        code: 'validate.invalid-end-port',
        path: ['spec', 'egress', 0, 'ports', 0, 'endPort'],
        message: 'Invalid value: 60: may not be specified when `port` is non-numeric',
      },
    ],
  },
  {
    name: 'endPort without port is rejected',
    spec: `  podSelector: {}
  egress:
  - ports: [{protocol: UDP, endPort: 60}]`,
    expected: [
      {
        code: 'validate.invalid-end-port',
        path: ['spec', 'egress', 0, 'ports', 0, 'endPort'],
        message: 'Invalid value: 60: may not be specified when `port` is not specified',
      },
    ],
  },
  {
    name: 'an empty peer must specify a peer',
    spec: `  podSelector: {}
  ingress:
  - from: [{}]`,
    expected: [
      {
        code: 'validate.invalid-peer',
        path: ['spec', 'ingress', 0, 'from', 0],
        message: 'Required value: must specify a peer',
      },
    ],
  },
  {
    name: 'ipBlock together with podSelector is forbidden',
    spec: `  podSelector: {}
  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.0/8}
      podSelector: {}`,
    expected: [
      {
        code: 'validate.invalid-peer',
        path: ['spec', 'egress', 0, 'to', 0],
        message: 'Forbidden: may not specify both ipBlock and another peer',
      },
    ],
  },
  {
    name: 'ipBlock together with namespaceSelector is forbidden',
    spec: `  podSelector: {}
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.0/8}
      namespaceSelector: {}`,
    expected: [
      {
        code: 'validate.invalid-peer',
        path: ['spec', 'ingress', 0, 'from', 0],
        message: 'Forbidden: may not specify both ipBlock and another peer',
      },
    ],
  },
  {
    name: 'podSelector and namespaceSelector together are one peer (AND), not an error',
    spec: `  podSelector: {}
  ingress:
  - from:
    - podSelector: {}
      namespaceSelector: {}`,
    expected: [],
  },
  {
    name: 'ipBlock without cidr is a required value',
    spec: `  podSelector: {}
  ingress:
  - from: [{ipBlock: {except: [10.0.0.0/24]}}]`,
    expected: [
      {
        code: 'validate.required',
        path: ['spec', 'ingress', 0, 'from', 0, 'ipBlock', 'cidr'],
        message: 'Required value',
      },
    ],
  },
  {
    name: 'a cidr without prefix length is invalid',
    spec: `  podSelector: {}
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.1}}]`,
    expected: [
      {
        code: 'validate.invalid-cidr',
        path: ['spec', 'ingress', 0, 'from', 0, 'ipBlock', 'cidr'],
        message: `Invalid value: "10.0.0.1": ${CIDR_MSG}`,
      },
    ],
  },
  {
    name: 'a cidr with prefix length 33 is invalid',
    spec: `  podSelector: {}
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.0/33}}]`,
    expected: [
      {
        code: 'validate.invalid-cidr',
        path: ['spec', 'ingress', 0, 'from', 0, 'ipBlock', 'cidr'],
        message: `Invalid value: "10.0.0.0/33": ${CIDR_MSG}`,
      },
    ],
  },
  {
    name: 'a cidr with host bits set is accepted (StrictIPCIDRValidation is off by default)',
    spec: `  podSelector: {}
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.1/8, except: [10.1.2.3/16]}}]`,
    expected: [],
  },
  {
    name: 'IPv4 octets and prefix lengths with leading zeros are accepted (sloppy parsing)',
    spec: `  podSelector: {}
  ingress:
  - from: [{ipBlock: {cidr: 010.000.0.0/08, except: [010.1.0.0/016]}}]`,
    expected: [],
  },
  {
    name: 'an invalid except entry is reported and the others still checked',
    spec: `  podSelector: {}
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [nonsense, 11.0.0.0/16]}}]`,
    expected: [
      {
        code: 'validate.invalid-cidr',
        path: ['spec', 'ingress', 0, 'from', 0, 'ipBlock', 'except', 0],
        message: `Invalid value: "nonsense": ${CIDR_MSG}`,
      },
      {
        code: 'validate.invalid-except',
        path: ['spec', 'ingress', 0, 'from', 0, 'ipBlock', 'except', 1],
        message: 'Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`',
      },
    ],
  },
  {
    name: 'an except equal to the cidr is not a strict subset',
    spec: `  podSelector: {}
  egress:
  - to: [{ipBlock: {cidr: 172.17.0.0/16, except: [172.17.0.0/16]}}]`,
    expected: [
      {
        code: 'validate.invalid-except',
        path: ['spec', 'egress', 0, 'to', 0, 'ipBlock', 'except', 0],
        message: 'Invalid value: "172.17.0.0/16": must be a strict subset of `cidr`',
      },
    ],
  },
  {
    name: 'an except of the other IP family is not a subset',
    spec: `  podSelector: {}
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: ['::/1']}}]`,
    expected: [
      {
        code: 'validate.invalid-except',
        path: ['spec', 'egress', 0, 'to', 0, 'ipBlock', 'except', 0],
        message: 'Invalid value: "::/1": must be a strict subset of `cidr`',
      },
    ],
  },
  {
    name: 'except entries are not checked when the cidr itself is invalid',
    spec: `  podSelector: {}
  egress:
  - to: [{ipBlock: {cidr: 300.0.0.0/8, except: [1.0.0.0/8]}}]`,
    expected: [
      {
        code: 'validate.invalid-cidr',
        path: ['spec', 'egress', 0, 'to', 0, 'ipBlock', 'cidr'],
        message: `Invalid value: "300.0.0.0/8": ${CIDR_MSG}`,
      },
    ],
  },
  {
    name: 'a policyTypes value other than Ingress/Egress is not supported',
    spec: `  podSelector: {}
  policyTypes: [ingress]`,
    expected: [
      {
        code: 'validate.invalid-policy-type',
        path: ['spec', 'policyTypes', 0],
        message: 'Unsupported value: "ingress": supported values: "Ingress", "Egress"',
      },
    ],
  },
  {
    name: 'more than two policyTypes is rejected (and the values are not checked further)',
    spec: `  podSelector: {}
  policyTypes: [Ingress, Egress, Other]`,
    expected: [
      {
        code: 'validate.invalid-policy-type',
        path: ['spec', 'policyTypes'],
        message:
          'Invalid value: []networking.PolicyType{"Ingress", "Egress", "Other"}: may not specify more than two policyTypes',
      },
    ],
  },
  {
    name: 'duplicate policyTypes are accepted, as by the API server',
    spec: `  podSelector: {}
  policyTypes: [Ingress, Ingress]`,
    expected: [],
  },
  {
    name: 'In without values is a required value',
    spec: `  podSelector:
    matchExpressions: [{key: app, operator: In}]`,
    expected: [
      {
        code: 'validate.invalid-selector',
        path: ['spec', 'podSelector', 'matchExpressions', 0, 'values'],
        message: "Required value: must be specified when `operator` is 'In' or 'NotIn'",
      },
    ],
  },
  {
    name: 'Exists with values is forbidden',
    spec: `  podSelector: {}
  ingress:
  - from:
    - namespaceSelector:
        matchExpressions: [{key: team, operator: Exists, values: [a]}]`,
    expected: [
      {
        code: 'validate.invalid-selector',
        path: ['spec', 'ingress', 0, 'from', 0, 'namespaceSelector', 'matchExpressions', 0, 'values'],
        message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      },
    ],
  },
  {
    name: 'an unknown operator is not a valid selector operator',
    spec: `  podSelector:
    matchExpressions: [{key: app, operator: Equals, values: [a]}]`,
    expected: [
      {
        code: 'validate.invalid-selector',
        path: ['spec', 'podSelector', 'matchExpressions', 0, 'operator'],
        message: 'Invalid value: "Equals": not a valid selector operator',
      },
    ],
  },
  {
    name: 'a selector value that is not a label value is rejected',
    spec: `  podSelector:
    matchExpressions: [{key: app, operator: In, values: ["a b"]}]`,
    expected: [
      {
        code: 'validate.invalid-label',
        path: ['spec', 'podSelector', 'matchExpressions', 0, 'values', 0],
        message: `Invalid value: "a b": ${LABEL_VALUE_MSG}`,
      },
    ],
  },
  {
    name: 'a matchLabels key with a space is reported at matchLabels, as the API server does',
    spec: `  podSelector:
    matchLabels: {"my app": web}`,
    expected: [
      {
        code: 'validate.invalid-label',
        path: ['spec', 'podSelector', 'matchLabels'],
        message: `Invalid value: "my app": ${LABEL_KEY_NAME_MSG}`,
      },
    ],
  },
  {
    name: 'a matchLabels value longer than 63 characters is rejected',
    spec: `  podSelector:
    matchLabels: {app: ${'a'.repeat(64)}}`,
    expected: [
      {
        code: 'validate.invalid-label',
        path: ['spec', 'podSelector', 'matchLabels'],
        message: `Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`,
      },
    ],
  },
  {
    name: 'a label key with an empty prefix is rejected',
    spec: `  podSelector:
    matchLabels: {"/app": web}`,
    expected: [
      {
        code: 'validate.invalid-label',
        path: ['spec', 'podSelector', 'matchLabels'],
        message: 'Invalid value: "/app": prefix part must be non-empty',
      },
    ],
  },
  {
    name: 'a policy name with upper case is not a DNS subdomain',
    spec: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: Allow_DNS, namespace: default}
spec: {podSelector: {}}`,
    expected: [
      {
        code: 'validate.invalid-name',
        path: ['metadata', 'name'],
        message: `Invalid value: "Allow_DNS": ${SUBDOMAIN_MSG}`,
      },
    ],
  },
  {
    name: 'a policy without name or generateName is rejected',
    spec: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: default}
spec: {podSelector: {}}`,
    expected: [
      {
        code: 'validate.required',
        path: ['metadata', 'name'],
        message: 'Required value: name or generateName is required',
      },
    ],
  },
  {
    name: 'a namespace with dots is not a DNS label',
    spec: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: team.a}
spec: {podSelector: {}}`,
    expected: [
      {
        code: 'validate.invalid-name',
        path: ['metadata', 'namespace'],
        message: 'Invalid value: "team.a": must not contain dots',
      },
    ],
  },
  {
    name: 'a namespace with upper case is not a DNS label',
    spec: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: Team}
spec: {podSelector: {}}`,
    expected: [
      {
        code: 'validate.invalid-name',
        path: ['metadata', 'namespace'],
        message: `Invalid value: "Team": ${LABEL_MSG}`,
      },
    ],
  },
  {
    name: 'a generateName ending in a hyphen is valid',
    spec: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {generateName: allow-, namespace: default}
spec: {podSelector: {}}`,
    expected: [],
  },
  {
    name: 'extensions/v1beta1 NetworkPolicy gets the same rules',
    spec: `apiVersion: extensions/v1beta1
kind: NetworkPolicy
metadata: {name: p, namespace: default}
spec:
  podSelector: {}
  ingress:
  - ports: [{protocol: tcp, port: 80}]`,
    expected: [
      {
        code: 'validate.unsupported-protocol',
        path: ['spec', 'ingress', 0, 'ports', 0, 'protocol'],
        message: 'Unsupported value: "tcp": supported values: "TCP", "UDP", "SCTP"',
      },
    ],
  },
]

describe('NetworkPolicy validation', () => {
  it.each(cases)('$name', ({ spec, expected }) => {
    const diags = validateObject(one(policy(spec)))
    expect(diags.map(({ code, path, message }) => ({ code, path, message }))).toEqual(expected)
    for (const d of diags) expect(d.severity).toBe('error')
  })

  it('names the object and points each diagnostic at the line of its field', () => {
    const raw = one(
      policy(`  podSelector: {}
  ingress:
  - ports:
    - protocol: tcp`),
    )
    const [d] = validateObject(raw)
    expect(d?.object).toBe('NetworkPolicy default/p')
    expect(d?.source).toEqual({ file: 'test.yaml', line: 10, column: 17, doc: 0 })
  })

  it('points a bad matchLabels key at its own line while reporting the API path', () => {
    const raw = one(
      policy(`  podSelector:
    matchLabels:
      app: web
      "bad key": x`),
    )
    const [d] = validateObject(raw)
    expect(d?.path).toEqual(['spec', 'podSelector', 'matchLabels'])
    expect(d?.source?.line).toBe(10)
  })
})

describe('parseCIDRSloppy', () => {
  const rows: { readonly text: string; readonly canonical: string | undefined }[] = [
    { text: '10.0.0.0/8', canonical: '10.0.0.0/8' },
    { text: '010.001.0.0/016', canonical: '10.1.0.0/16' },
    { text: '10.0.0.1/8', canonical: '10.0.0.0/8' },
    { text: '2001:DB8::/32', canonical: '2001:db8::/32' },
    { text: '::ffff:010.0.0.0/104', canonical: '::ffff:a00:0/104' },
    { text: '10.0.0.0/33', canonical: undefined },
    { text: '256.0.0.0/8', canonical: undefined },
    { text: '10.0.0.0', canonical: undefined },
    { text: '10.0.0.0/8/8', canonical: undefined },
    { text: '10.0.0.0/-1', canonical: undefined },
  ]
  it.each(rows)('$text parses to $canonical', ({ text, canonical }) => {
    const c = parseCIDRSloppy(text)
    expect(c ? canonicalCIDR(c) : undefined).toBe(canonical)
  })
})
