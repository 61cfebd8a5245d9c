// Strict decoding (kubectl --validate=strict): unknown fields and values of the wrong type.
import { describe, expect, it } from 'vitest'
import { validateObject } from '../../src/validate/index.js'
import { one } from './helpers.js'

interface Case {
  readonly name: string
  readonly yaml: string
  readonly expected: readonly {
    readonly code: string
    readonly path: readonly (string | number)[]
    readonly message: string
  }[]
}

const cases: Case[] = [
  {
    name: 'a capitalised Ingress field is unknown, reported with its full dotted path',
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: {}
  Ingress:
  - {}`,
    expected: [
      { code: 'schema.unknown-field', path: ['spec', 'Ingress'], message: 'unknown field "spec.Ingress"' },
    ],
  },
  {
    name: 'a misspelt field inside a list element reports its index',
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: {}
  ingress:
  - form:
    - podSelector: {}`,
    expected: [
      {
        code: 'schema.unknown-field',
        path: ['spec', 'ingress', 0, 'form'],
        message: 'unknown field "spec.ingress[0].form"',
      },
    ],
  },
  {
    name: 'podSelctor inside a peer is unknown and leaves an empty peer',
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: {}
  egress:
  - to:
    - podSelctor: {}`,
    expected: [
      {
        code: 'schema.unknown-field',
        path: ['spec', 'egress', 0, 'to', 0, 'podSelctor'],
        message: 'unknown field "spec.egress[0].to[0].podSelctor"',
      },
      {
        code: 'validate.invalid-peer',
        path: ['spec', 'egress', 0, 'to', 0],
        message: 'Required value: must specify a peer',
      },
    ],
  },
  {
    name: 'matchLabel (singular) is unknown',
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector:
    matchLabel: {app: web}`,
    expected: [
      {
        code: 'schema.unknown-field',
        path: ['spec', 'podSelector', 'matchLabel'],
        message: 'unknown field "spec.podSelector.matchLabel"',
      },
    ],
  },
  {
    name: 'a string podSelector has the wrong type',
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: app=web`,
    expected: [
      {
        code: 'decode.wrong-type',
        path: ['spec', 'podSelector'],
        message: 'Invalid value: "string": spec.podSelector in body must be of type object',
      },
    ],
  },
  {
    name: 'a single peer written as a map instead of a list has the wrong type',
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: {}
  ingress:
  - from:
      podSelector: {}`,
    expected: [
      {
        code: 'decode.wrong-type',
        path: ['spec', 'ingress', 0, 'from'],
        message: 'Invalid value: "object": spec.ingress[0].from in body must be of type array',
      },
    ],
  },
  {
    name: 'a numeric label value has the wrong type',
    yaml: `apiVersion: v1
kind: Namespace
metadata:
  name: team-a
  labels: {version: 2}`,
    expected: [
      {
        code: 'decode.wrong-type',
        path: ['metadata', 'labels', 'version'],
        message: 'Invalid value: "integer": metadata.labels.version in body must be of type string',
      },
    ],
  },
  {
    name: 'a fractional port is not an integer or string',
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 80.5}]`,
    expected: [
      {
        code: 'decode.wrong-type',
        path: ['spec', 'ingress', 0, 'ports', 0, 'port'],
        message:
          'Invalid value: "number": spec.ingress[0].ports[0].port in body must be of type integer or string',
      },
    ],
  },
  {
    name: 'a quoted endPort has the wrong type',
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 80, endPort: "90"}]`,
    expected: [
      {
        code: 'decode.wrong-type',
        path: ['spec', 'ingress', 0, 'ports', 0, 'endPort'],
        message: 'Invalid value: "string": spec.ingress[0].ports[0].endPort in body must be of type integer',
      },
    ],
  },
  {
    name: 'null values are accepted anywhere (the decoder treats them as absent)',
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, labels: null, creationTimestamp: null}
spec:
  podSelector:
  ingress:
  egress:
  - to:
    ports:`,
    expected: [],
  },
  {
    name: 'NetworkPolicy status with conditions (1.24-1.26 dumps) is accepted',
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: default, uid: 0b1c, resourceVersion: "12", generation: 1, creationTimestamp: "2023-01-01T00:00:00Z"}
spec: {podSelector: {}, policyTypes: [Ingress]}
status:
  conditions:
  - {type: PartialFailure, status: "False", reason: Ok, message: "", lastTransitionTime: "2023-01-01T00:00:00Z", observedGeneration: 1}`,
    expected: [],
  },
  {
    name: 'an unknown top-level field is reported',
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
specs: {}`,
    expected: [{ code: 'schema.unknown-field', path: ['specs'], message: 'unknown field "specs"' }],
  },
  {
    name: 'an unknown metadata field is reported',
    yaml: `apiVersion: v1
kind: Namespace
metadata: {name: a, label: {x: y}}`,
    expected: [
      {
        code: 'schema.unknown-field',
        path: ['metadata', 'label'],
        message: 'unknown field "metadata.label"',
      },
    ],
  },
  {
    name: 'imagePlull in a container (seed 004) is unknown',
    yaml: `apiVersion: v1
kind: Pod
metadata:
  name: pod-linuxea-1
spec:
  containers:
  - name: linuxeaapp
    image: marksugar/nginx:1.14.a
    imagePlull: 
    ports: 
    - name: http
      containerPort: 80`,
    expected: [
      {
        code: 'schema.unknown-field',
        path: ['spec', 'containers', 0, 'imagePlull'],
        message: 'unknown field "spec.containers[0].imagePlull"',
      },
    ],
  },
  {
    name: 'a misspelt field in a Deployment pod template is reported with the template path',
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        port: [{containerPort: 80}]`,
    expected: [
      {
        code: 'schema.unknown-field',
        path: ['spec', 'template', 'spec', 'containers', 0, 'port'],
        message: 'unknown field "spec.template.spec.containers[0].port"',
      },
    ],
  },
]

describe('strict schema checks', () => {
  it.each(cases)('$name', ({ yaml, expected }) => {
    const diags = validateObject(one(yaml))
    expect(diags.map(({ code, path, message }) => ({ code, path, message }))).toEqual(expected)
  })
})
