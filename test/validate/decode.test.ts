// What the API server's decoder refuses before any validation, in every --validate mode: Go integer
// ranges (int32, int64), metav1.Time (time.Parse RFC 3339), resource.Quantity (ParseQuantity), and the
// types of the fields of ObjectMeta, PodStatus, NamespaceStatus and DeploymentSpec/Status.
import { describe, expect, it } from 'vitest'
import { isGoRFC3339Time, isParsableQuantity } from '../../src/validate/apimachinery.js'
import { validateObject } from '../../src/validate/index.js'
import { one } from './helpers.js'

const pod = (fields: string): string => `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec: {containers: [{name: web, image: nginx}]}
${fields}`

const deployment = (fields: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
${fields}`

interface Case {
  readonly name: string
  readonly yaml: string
  /** The decode diagnostic expected (code and path); none when the object decodes. */
  readonly expected?: { readonly code: string; readonly path: readonly (string | number)[] }
}

const cases: Case[] = [
  {
    name: 'metadata.creationTimestamp on a day February does not have',
    yaml: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a, creationTimestamp: "2024-02-30T00:00:00Z"}',
    expected: { code: 'decode.invalid-time', path: ['metadata', 'creationTimestamp'] },
  },
  {
    name: 'metadata.deletionTimestamp as a date without a time',
    yaml: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a, deletionTimestamp: "2024-05-01"}',
    expected: { code: 'decode.invalid-time', path: ['metadata', 'deletionTimestamp'] },
  },
  {
    name: 'a NetworkPolicy created "yesterday"',
    yaml: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, creationTimestamp: yesterday}\nspec: {podSelector: {}}',
    expected: { code: 'decode.invalid-time', path: ['metadata', 'creationTimestamp'] },
  },
  {
    name: 'month 13',
    yaml: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a, creationTimestamp: "2024-13-01T00:00:00Z"}',
    expected: { code: 'decode.invalid-time', path: ['metadata', 'creationTimestamp'] },
  },
  {
    name: 'status.startTime as a Unix time number',
    yaml: pod('status: {startTime: 1600000000}'),
    expected: { code: 'decode.wrong-type', path: ['status', 'startTime'] },
  },
  {
    name: 'metadata.generation at 2^63 does not fit an int64',
    yaml: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a, generation: 9223372036854775808}',
    expected: { code: 'decode.out-of-range', path: ['metadata', 'generation'] },
  },
  {
    name: 'metadata.deletionGracePeriodSeconds at 1e300',
    yaml: pod('').replace('namespace: shop', 'namespace: shop, deletionGracePeriodSeconds: 1e300'),
    expected: { code: 'decode.out-of-range', path: ['metadata', 'deletionGracePeriodSeconds'] },
  },
  {
    name: 'spec.priority at 2^31 does not fit an int32',
    yaml: pod('').replace('containers:', 'priority: 2147483648, containers:'),
    expected: { code: 'decode.out-of-range', path: ['spec', 'priority'] },
  },
  {
    name: 'a containerPort below -2^31',
    yaml: pod('').replace('image: nginx', 'image: nginx, ports: [{containerPort: -2147483649}]'),
    expected: { code: 'decode.out-of-range', path: ['spec', 'containers', 0, 'ports', 0, 'containerPort'] },
  },
  {
    name: 'a NetworkPolicy port at 2^31 is not an IntOrString',
    yaml: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {podSelector: {}, ingress: [{ports: [{port: 2147483648}]}]}',
    expected: { code: 'decode.out-of-range', path: ['spec', 'ingress', 0, 'ports', 0, 'port'] },
  },
  {
    name: 'Deployment spec.replicas at 2^31',
    yaml: deployment('').replace('spec:\n', 'spec:\n  replicas: 2147483648\n'),
    expected: { code: 'decode.out-of-range', path: ['spec', 'replicas'] },
  },
  {
    name: 'Deployment maxSurge 80.5',
    yaml: deployment('').replace('spec:\n', 'spec:\n  strategy: {rollingUpdate: {maxSurge: 80.5}}\n'),
    expected: { code: 'decode.wrong-type', path: ['spec', 'strategy', 'rollingUpdate', 'maxSurge'] },
  },
  {
    name: 'Deployment strategy.type as a number',
    yaml: deployment('').replace('spec:\n', 'spec:\n  strategy: {type: 7}\n'),
    expected: { code: 'decode.wrong-type', path: ['spec', 'strategy', 'type'] },
  },
  {
    name: 'Deployment rollbackTo.revision as a string',
    yaml: deployment('').replace('spec:\n', 'spec:\n  rollbackTo: {revision: "2"}\n'),
    expected: { code: 'decode.wrong-type', path: ['spec', 'rollbackTo', 'revision'] },
  },
  {
    name: 'Deployment status.availableReplicas as a string',
    yaml: deployment('status: {availableReplicas: "80"}'),
    expected: { code: 'decode.wrong-type', path: ['status', 'availableReplicas'] },
  },
  {
    name: 'Deployment status.conditions[0] as a list',
    yaml: deployment('status: {conditions: [[]]}'),
    expected: { code: 'decode.wrong-type', path: ['status', 'conditions', 0] },
  },
  {
    name: 'Deployment status.conditions[0].lastUpdateTime as a number',
    yaml: deployment('status: {conditions: [{type: Available, lastUpdateTime: 1600000000}]}'),
    expected: { code: 'decode.wrong-type', path: ['status', 'conditions', 0, 'lastUpdateTime'] },
  },
  {
    name: 'Deployment status.observedGeneration at 2^63',
    yaml: deployment('status: {observedGeneration: 9223372036854775808}'),
    expected: { code: 'decode.out-of-range', path: ['status', 'observedGeneration'] },
  },
  {
    name: 'Namespace status.phase as an object',
    yaml: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\nstatus: {phase: {}}',
    expected: { code: 'decode.wrong-type', path: ['status', 'phase'] },
  },
  {
    name: 'Namespace status.conditions as a number',
    yaml: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\nstatus: {conditions: 7}',
    expected: { code: 'decode.wrong-type', path: ['status', 'conditions'] },
  },
  {
    name: 'metadata.ownerReferences[0].name as a boolean',
    yaml: pod('').replace(
      'namespace: shop',
      'namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: true, uid: x}]',
    ),
    expected: { code: 'decode.wrong-type', path: ['metadata', 'ownerReferences', 0, 'name'] },
  },
  {
    name: 'metadata.managedFields[0].time that is not a time',
    yaml: pod('').replace(
      'namespace: shop',
      'namespace: shop, managedFields: [{manager: kubectl, time: now}]',
    ),
    expected: { code: 'decode.invalid-time', path: ['metadata', 'managedFields', 0, 'time'] },
  },
  {
    name: 'Pod status.containerStatuses[0].ready as a string',
    yaml: pod('status: {containerStatuses: [{name: web, ready: "true"}]}'),
    expected: { code: 'decode.wrong-type', path: ['status', 'containerStatuses', 0, 'ready'] },
  },
  {
    name: 'Pod status.containerStatuses[0].state.terminated.exitCode at 2^31',
    yaml: pod('status: {containerStatuses: [{name: web, state: {terminated: {exitCode: 2147483648}}}]}'),
    expected: {
      code: 'decode.out-of-range',
      path: ['status', 'containerStatuses', 0, 'state', 'terminated', 'exitCode'],
    },
  },
  {
    name: 'Pod status.conditions[0].lastTransitionTime "yesterday"',
    yaml: pod('status: {conditions: [{type: Ready, lastTransitionTime: yesterday}]}'),
    expected: { code: 'decode.invalid-time', path: ['status', 'conditions', 0, 'lastTransitionTime'] },
  },
  {
    name: 'Pod status.resources as a string',
    yaml: pod('status: {resources: text}'),
    expected: { code: 'decode.wrong-type', path: ['status', 'resources'] },
  },
  {
    name: 'Pod status.allocatedResources as a list',
    yaml: pod('status: {allocatedResources: [a]}'),
    expected: { code: 'decode.wrong-type', path: ['status', 'allocatedResources'] },
  },
  {
    name: 'Pod status.observedGeneration 7.5',
    yaml: pod('status: {observedGeneration: 7.5}'),
    expected: { code: 'decode.wrong-type', path: ['status', 'observedGeneration'] },
  },
  ...['abc', '1.5.5', '1Gb', '--1', '', '1e'].map(
    (q): Case => ({
      name: `a cpu request of ${JSON.stringify(q)}`,
      yaml: pod('').replace(
        'image: nginx',
        `image: nginx, resources: {requests: {cpu: ${JSON.stringify(q)}}}`,
      ),
      expected: {
        code: 'decode.invalid-quantity',
        path: ['spec', 'containers', 0, 'resources', 'requests', 'cpu'],
      },
    }),
  ),
  // What the decoder takes: none of these may be refused.
  {
    name: 'times, quantities and integers at their limits decode',
    yaml: `apiVersion: v1
kind: Pod
metadata:
  name: web
  creationTimestamp: "2024-02-29T23:59:59Z"
  deletionTimestamp: "2023-06-01T08:30:00.123456789+05:30"
  generation: 9007199254740991
  deletionGracePeriodSeconds: -9223372036854775808
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: u, controller: true}]
  managedFields: [{manager: kubectl, operation: Update, time: "2023-01-01T00:00:00Z", fieldsV1: {f:spec: {}}}]
spec:
  priority: -2147483648
  containers:
  - name: web
    image: nginx
    ports: [{containerPort: 2147483647}]
    resources:
      requests: {cpu: 100m, memory: 1.5Gi, storage: 1e3, x: "+.5", y: 0.5, z: " 2 "}
      limits: {cpu: 2, memory: 128974848, eph: 12E, big: 5e-7}
status:
  phase: Running
  startTime: "2023-01-01T00:00:00-07:00"
  conditions: [{type: Ready, status: "True", lastProbeTime: null, lastTransitionTime: "2023-01-01T00:00:00Z"}]
  containerStatuses:
  - name: web
    ready: true
    restartCount: 0
    state: {running: {startedAt: "2023-01-01T00:00:00Z"}}
    lastState: {terminated: {exitCode: 137, signal: 9, startedAt: "2023-01-01T00:00:00Z", finishedAt: "2023-01-01T00:00:01Z"}}
    allocatedResources: {cpu: 100m}
  someFutureField: {a: 1}`,
  },
  {
    name: 'a Deployment with strategy, rollbackTo and a full status decodes',
    yaml: deployment(`status:
  observedGeneration: 3
  replicas: 2
  availableReplicas: 2
  conditions: [{type: Available, status: "True", lastUpdateTime: "2023-01-01T00:00:00Z", lastTransitionTime: "2023-01-01T00:00:00Z"}]
  collisionCount: 0`).replace(
      'spec:\n',
      'spec:\n  replicas: 2\n  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}}\n  rollbackTo: {revision: 2}\n',
    ),
  },
]

describe('what the decoder refuses in every mode', () => {
  it.each(cases)('$name', ({ yaml, expected }) => {
    const decode = validateObject(one(yaml))
      .filter((d) => d.code.startsWith('decode.'))
      .map(({ code, path }) => ({ code, path }))
    expect(decode).toEqual(expected ? [expected] : [])
  })
})

describe('isGoRFC3339Time (time.Parse(time.RFC3339, s))', () => {
  it.each([
    ['2023-01-01T00:00:00Z', true],
    ['2024-02-29T00:00:00Z', true],
    ['2000-02-29T00:00:00Z', true],
    ['2023-01-01T00:00:00.5+01:00', true],
    // time.Parse's general path: a one-digit hour, a comma before the fraction, a 24-hour offset
    ['2023-01-01T1:00:00Z', true],
    ['2023-01-01T00:00:00,5Z', true],
    ['2023-01-01T00:00:00+24:00', true],
    ['2023-02-29T00:00:00Z', false],
    ['1900-02-29T00:00:00Z', false],
    ['2024-04-31T00:00:00Z', false],
    ['2024-00-10T00:00:00Z', false],
    ['2024-01-01T24:00:00Z', false],
    ['2024-01-01T00:60:00Z', false],
    ['2024-01-01T00:00:60Z', false],
    ['2024-01-01T00:00:00z', false],
    ['2024-01-01t00:00:00Z', false],
    ['2024-01-01T00:00:00', false],
    ['2024-01-01T00:00:00Z ', false],
    ['2024-01-01T00:00:00+0100', false],
    ['2024-1-01T00:00:00Z', false],
    ['2024-05-01', false],
    ['', false],
  ])('%s -> %s', (s, ok) => {
    expect(isGoRFC3339Time(s)).toBe(ok)
  })
})

describe('isParsableQuantity (resource.ParseQuantity after TrimSpace)', () => {
  it.each([
    ['100m', true],
    ['1.5Gi', true],
    ['1e3', true],
    ['1E-3', true],
    ['+.5', true],
    ['-1', true],
    ['12Ki', true],
    ['0', true],
    [' 2 ', true],
    ['.', true],
    ['abc', false],
    ['1.5.5', false],
    ['1Gb', false],
    ['--1', false],
    ['', false],
    ['1e', false],
    ['1 Gi', false],
    ['1ki', false],
    ['1e99999999999999999999', false],
  ])('%s -> %s', (s, ok) => {
    expect(isParsableQuantity(s)).toBe(ok)
  })
})
