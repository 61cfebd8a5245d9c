// Pods, Namespaces and workloads: names, containers, container ports, selectors (pkg/apis/core|apps/validation).
import { describe, expect, it } from 'vitest'
import { validateObject } from '../../src/validate/index.js'
import { one, rawFromYaml } from './helpers.js'

interface Case {
  readonly name: string
  readonly yaml: string
  readonly expected: readonly {
    readonly code: string
    readonly path: readonly (string | number)[]
    readonly message: string
  }[]
}

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

function pod(containers: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
${containers}`
}

const cases: Case[] = [
  {
    name: 'containerPort 0 (or missing) is a required value',
    yaml: pod(`  - name: web
    image: nginx
    ports: [{name: http}]`),
    expected: [
      {
        code: 'validate.required',
        path: ['spec', 'containers', 0, 'ports', 0, 'containerPort'],
        message: 'Required value',
      },
    ],
  },
  {
    name: 'containerPort 70000 is out of range',
    yaml: pod(`  - name: web
    image: nginx
    ports: [{containerPort: 70000}]`),
    expected: [
      {
        code: 'validate.invalid-port',
        path: ['spec', 'containers', 0, 'ports', 0, 'containerPort'],
        message: 'Invalid value: 70000: must be between 1 and 65535, inclusive',
      },
    ],
  },
  {
    name: 'hostPort out of range is rejected',
    yaml: pod(`  - name: web
    image: nginx
    ports: [{containerPort: 80, hostPort: 65536}]`),
    expected: [
      {
        code: 'validate.invalid-port',
        path: ['spec', 'containers', 0, 'ports', 0, 'hostPort'],
        message: 'Invalid value: 65536: must be between 1 and 65535, inclusive',
      },
    ],
  },
  {
    name: 'a lower-case container port protocol is not supported (sorted list, as sets.List gives it)',
    yaml: pod(`  - name: web
    image: nginx
    ports: [{containerPort: 53, protocol: udp}]`),
    expected: [
      {
        code: 'validate.unsupported-protocol',
        path: ['spec', 'containers', 0, 'ports', 0, 'protocol'],
        message: 'Unsupported value: "udp": supported values: "SCTP", "TCP", "UDP"',
      },
    ],
  },
  {
    name: 'an invalid container port name is rejected',
    yaml: pod(`  - name: web
    image: nginx
    ports: [{containerPort: 80, name: HTTP}]`),
    expected: [
      {
        code: 'validate.invalid-port',
        path: ['spec', 'containers', 0, 'ports', 0, 'name'],
        message:
          'Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      },
      {
        code: 'validate.invalid-port',
        path: ['spec', 'containers', 0, 'ports', 0, 'name'],
        message: 'Invalid value: "HTTP": must contain at least one letter (a-z)',
      },
    ],
  },
  {
    name: 'a port name repeated in one container is a duplicate',
    yaml: pod(`  - name: web
    image: nginx
    ports: [{containerPort: 80, name: http}, {containerPort: 8080, name: http}]`),
    expected: [
      {
        code: 'validate.duplicate',
        path: ['spec', 'containers', 0, 'ports', 1, 'name'],
        message: 'Duplicate value: "http"',
      },
    ],
  },
  {
    name: 'the same port name in two containers is accepted (uniqueness is per container)',
    yaml: pod(`  - name: a
    image: nginx
    ports: [{containerPort: 80, name: http}]
  - name: b
    image: nginx
    ports: [{containerPort: 8080, name: http}]`),
    expected: [],
  },
  {
    name: 'two containers with the same name are a duplicate',
    yaml: pod(`  - {name: web, image: nginx}
  - {name: web, image: busybox}`),
    expected: [
      {
        code: 'validate.duplicate',
        path: ['spec', 'containers', 1, 'name'],
        message: 'Duplicate value: "web"',
      },
    ],
  },
  {
    name: 'a container name with upper case is not a DNS label',
    yaml: pod('  - {name: Web, image: nginx}'),
    expected: [
      {
        code: 'validate.invalid-name',
        path: ['spec', 'containers', 0, 'name'],
        message: `Invalid value: "Web": ${LABEL_MSG}`,
      },
    ],
  },
  {
    name: 'a container without image is a required value',
    yaml: pod('  - {name: web}'),
    expected: [
      { code: 'validate.required', path: ['spec', 'containers', 0, 'image'], message: 'Required value' },
    ],
  },
  {
    name: 'a pod without containers is a required value',
    yaml: `apiVersion: v1
kind: Pod
metadata: {name: web}
spec: {nodeName: n1}`,
    expected: [{ code: 'validate.required', path: ['spec', 'containers'], message: 'Required value' }],
  },
  {
    name: 'a Namespace name must be a DNS label',
    yaml: `apiVersion: v1
kind: Namespace
metadata: {name: team.a}`,
    expected: [
      {
        code: 'validate.invalid-name',
        path: ['metadata', 'name'],
        message: 'Invalid value: "team.a": must not contain dots',
      },
    ],
  },
  {
    name: 'a Namespace with spec.finalizers and status is valid',
    yaml: `apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {kubernetes.io/metadata.name: team-a}}
spec: {finalizers: [kubernetes]}
status: {phase: Active}`,
    expected: [],
  },
  {
    name: 'a label key with an invalid prefix is rejected',
    yaml: `apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {Example.COM/team: x}}`,
    expected: [
      {
        code: 'validate.invalid-label',
        path: ['metadata', 'labels'],
        message:
          "Invalid value: \"Example.COM/team\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      },
    ],
  },
  {
    name: 'an apps/v1 Deployment without selector is a required value',
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}`,
    expected: [{ code: 'validate.required', path: ['spec', 'selector'], message: 'Required value' }],
  },
  {
    name: 'an extensions/v1beta1 Deployment may omit the selector (defaulted from the template)',
    yaml: `apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}`,
    expected: [],
  },
  {
    name: 'a Deployment selector that does not select its template is rejected',
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: api, tier: be}}
    spec: {containers: [{name: web, image: nginx}]}`,
    expected: [
      {
        code: 'validate.selector-mismatch',
        path: ['spec', 'template', 'metadata', 'labels'],
        message:
          'Invalid value: map[string]string{"app":"api", "tier":"be"}: `selector` does not match template `labels`',
      },
    ],
  },
  {
    name: 'a ReplicationController map selector must select its template',
    yaml: `apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  selector: {app: web}
  template:
    metadata: {labels: {app: other}}
    spec: {containers: [{name: web, image: nginx}]}`,
    expected: [
      {
        code: 'validate.selector-mismatch',
        path: ['spec', 'template', 'metadata', 'labels'],
        message:
          'Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
      },
    ],
  },
  {
    name: 'container ports inside a CronJob template are validated',
    yaml: `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 0 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: job, image: busybox, ports: [{containerPort: 0}]}]`,
    expected: [
      {
        code: 'validate.required',
        path: [
          'spec',
          'jobTemplate',
          'spec',
          'template',
          'spec',
          'containers',
          0,
          'ports',
          0,
          'containerPort',
        ],
        message: 'Required value',
      },
    ],
  },
  ...[
    { name: 'a newline', value: '"node-1\\nnode-2"', shown: '"node-1\\nnode-2"' },
    { name: 'quotes', value: "'node\"1'", shown: '"node\\"1"' },
    { name: 'a path', value: '../etc', shown: '"../etc"' },
    { name: 'capitals', value: 'Node-1', shown: '"Node-1"' },
  ].map(
    ({ name, value, shown }): Case => ({
      name: `spec.nodeName with ${name} is not a DNS subdomain (ValidateNodeName)`,
      yaml: `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: ${value}
  containers: [{name: web, image: nginx}]`,
      expected: [
        {
          code: 'validate.invalid-name',
          path: ['spec', 'nodeName'],
          message: `Invalid value: ${shown}: ${SUBDOMAIN_MSG}`,
        },
      ],
    }),
  ),
  {
    name: 'spec.nodeName over 253 characters is too long',
    yaml: `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: ${'a'.repeat(254)}
  containers: [{name: web, image: nginx}]`,
    expected: [
      {
        code: 'validate.invalid-name',
        path: ['spec', 'nodeName'],
        message: `Invalid value: "${'a'.repeat(254)}": must be no more than 253 characters`,
      },
    ],
  },
  {
    name: 'a DNS subdomain is a valid spec.nodeName',
    yaml: `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: ip-10-0-1-23.eu-west-1.compute.internal
  containers: [{name: web, image: nginx}]`,
    expected: [],
  },
  {
    name: 'spec.nodeName of a pod template is validated too',
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {nodeName: ../etc, containers: [{name: web, image: nginx}]}`,
    expected: [
      {
        code: 'validate.invalid-name',
        path: ['spec', 'template', 'spec', 'nodeName'],
        message: `Invalid value: "../etc": ${SUBDOMAIN_MSG}`,
      },
    ],
  },
  ...(['Deployment', 'ReplicaSet', 'StatefulSet'] as const).map(
    (kind): Case => ({
      name: `${kind} replicas -1 is negative (ValidateNonnegativeField)`,
      yaml: `apiVersion: apps/v1
kind: ${kind}
metadata: {name: web}
spec:
  replicas: -1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}`,
      expected: [
        {
          code: 'validate.invalid-value',
          path: ['spec', 'replicas'],
          message: 'Invalid value: -1: must be greater than or equal to 0',
        },
      ],
    }),
  ),
  {
    name: 'ReplicationController replicas -1 is negative',
    yaml: `apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  replicas: -1
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}`,
    expected: [
      {
        code: 'validate.invalid-value',
        path: ['spec', 'replicas'],
        message: 'Invalid value: -1: must be greater than or equal to 0',
      },
    ],
  },
  {
    name: 'replicas 0 is valid',
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}`,
    expected: [],
  },
  ...[
    {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      word: 'deployment',
      selector: '{}',
      go: 'map[string]string(nil)',
    },
    {
      kind: 'Deployment',
      apiVersion: 'extensions/v1beta1',
      word: 'deployment',
      selector: '{matchLabels: {}}',
      go: 'map[string]string{}',
    },
    // ReplicaSet: the API server's message says deployment
    {
      kind: 'ReplicaSet',
      apiVersion: 'apps/v1',
      word: 'deployment',
      selector: '{}',
      go: 'map[string]string(nil)',
    },
    {
      kind: 'StatefulSet',
      apiVersion: 'apps/v1',
      word: 'statefulset',
      selector: '{}',
      go: 'map[string]string(nil)',
    },
    {
      kind: 'DaemonSet',
      apiVersion: 'apps/v1',
      word: 'daemonset',
      selector: '{}',
      go: 'map[string]string(nil)',
    },
  ].map(
    ({ kind, apiVersion, word, selector, go }): Case => ({
      name: `${apiVersion} ${kind} with selector ${selector} is an empty selector`,
      yaml: `apiVersion: ${apiVersion}
kind: ${kind}
metadata: {name: web}
spec:
  selector: ${selector}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}`,
      expected: [
        {
          code: 'validate.invalid-selector',
          path: ['spec', 'selector'],
          message: `Invalid value: v1.LabelSelector{MatchLabels:${go}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for ${word}`,
        },
      ],
    }),
  ),
  {
    name: 'a ReplicationController with an empty selector takes its template labels (defaulting)',
    yaml: `apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  selector: {}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}`,
    expected: [],
  },
  {
    name: 'a ReplicationController with no selector and no template labels has none (ValidateNonEmptySelector)',
    yaml: `apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  template:
    spec: {containers: [{name: web, image: nginx}]}`,
    expected: [{ code: 'validate.required', path: ['spec', 'selector'], message: 'Required value' }],
  },
  ...[
    { name: 'status as a string', status: '"s"', path: ['status'], type: 'string', expected: 'object' },
    {
      name: 'status.podIP as a number',
      status: '{podIP: 5}',
      path: ['status', 'podIP'],
      type: 'integer',
      expected: 'string',
    },
    {
      name: 'status.podIPs as a string',
      status: '{podIPs: 10.0.0.1}',
      path: ['status', 'podIPs'],
      type: 'string',
      expected: 'array',
    },
    {
      name: 'status.podIPs[0].ip as a list',
      status: '{podIPs: [{ip: [a]}]}',
      path: ['status', 'podIPs', 0, 'ip'],
      type: 'array',
      expected: 'string',
    },
    {
      name: 'status.phase as a boolean',
      status: '{phase: true}',
      path: ['status', 'phase'],
      type: 'boolean',
      expected: 'string',
    },
  ].map(
    ({ name, status, path, type, expected }): Case => ({
      name: `a Pod with ${name} cannot be decoded`,
      yaml: `apiVersion: v1
kind: Pod
metadata: {name: web}
spec: {containers: [{name: web, image: nginx}]}
status: ${status}`,
      expected: [
        {
          code: 'decode.wrong-type',
          path,
          message: `Invalid value: "${type}": ${path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')} in body must be of type ${expected}`,
        },
      ],
    }),
  ),
  {
    name: 'a Pod status field Palisade does not know is accepted (newer API servers add them)',
    yaml: `apiVersion: v1
kind: Pod
metadata: {name: web}
spec: {containers: [{name: web, image: nginx}]}
status: {phase: Running, someFutureField: {a: 1}, hostIPs: [{ip: 10.0.0.9}], qosClass: BestEffort}`,
    expected: [],
  },
  {
    name: 'a Deployment status that is not an object cannot be decoded',
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
status: 3`,
    expected: [
      {
        code: 'decode.wrong-type',
        path: ['status'],
        message: 'Invalid value: "integer": status in body must be of type object',
      },
    ],
  },
  {
    name: 'the DaemonSet of seed 002 (extensions/v1beta1, hostNetwork) is valid',
    yaml: `apiVersion: extensions/v1beta1
kind: DaemonSet
metadata:
  name: kube-router
  namespace: kube-system
  labels:
    k8s-app: kube-router
spec:
  template:
    metadata:
      labels:
        k8s-app: kube-router
      annotations:
        scheduler.alpha.kubernetes.io/critical-pod: ''
    spec:
      serviceAccountName: kube-router
      hostNetwork: true
      containers:
      - name: kube-router
        image: cloudnativelabs/kube-router
        args: ["--run-router=false", "--run-firewall=true"]
        securityContext:
          privileged: true
        imagePullPolicy: Always
        env:
        - name: NODE_NAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        livenessProbe:
          httpGet:
            path: /healthz
            port: 20244
          initialDelaySeconds: 10
          periodSeconds: 3
        volumeMounts:
        - name: lib-modules
          mountPath: /lib/modules
          readOnly: true
      tolerations:
      - key: CriticalAddonsOnly
        operator: Exists
      volumes:
      - name: lib-modules
        hostPath:
          path: /lib/modules`,
    expected: [],
  },
]

describe('pod and workload validation', () => {
  it.each(cases)('$name', ({ yaml, expected }) => {
    const diags = validateObject(one(yaml))
    expect(diags.map(({ code, path, message }) => ({ code, path, message }))).toEqual(expected)
  })
})

// A `kubectl get -o yaml` dump of a Deployment and one of its Pods (status, managedFields, defaults).
const DUMP = `apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    deployment.kubernetes.io/revision: "1"
  creationTimestamp: "2024-05-01T10:00:00Z"
  generation: 1
  labels: {app: web}
  managedFields:
  - apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1: {f:spec: {f:replicas: {}}}
    manager: kubectl-client-side-apply
    operation: Update
    time: "2024-05-01T10:00:00Z"
  name: web
  namespace: shop
  resourceVersion: "1234"
  uid: 4f9c5e0e-0000-4000-8000-000000000000
spec:
  progressDeadlineSeconds: 600
  replicas: 2
  revisionHistoryLimit: 10
  selector:
    matchLabels: {app: web}
  strategy:
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}
    type: RollingUpdate
  template:
    metadata:
      creationTimestamp: null
      labels: {app: web, tier: frontend}
    spec:
      containers:
      - image: nginx:1.27
        imagePullPolicy: IfNotPresent
        name: web
        ports:
        - {containerPort: 80, name: http, protocol: TCP}
        - {containerPort: 9113, name: metrics, protocol: TCP}
        resources:
          limits: {cpu: 500m, memory: 128Mi}
          requests: {cpu: 100m, memory: 64Mi}
        readinessProbe:
          httpGet: {path: /, port: http, scheme: HTTP}
          failureThreshold: 3
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {}
      terminationGracePeriodSeconds: 30
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: ScheduleAnyway
        labelSelector: {matchLabels: {app: web}}
status:
  availableReplicas: 2
  conditions:
  - {type: Available, status: "True"}
  observedGeneration: 1
  readyReplicas: 2
  replicas: 2
  updatedReplicas: 2
---
apiVersion: v1
kind: Pod
metadata:
  generateName: web-6d4cf56db6-
  labels: {app: web, pod-template-hash: 6d4cf56db6, tier: frontend}
  name: web-6d4cf56db6-x7k2p
  namespace: shop
  ownerReferences:
  - {apiVersion: apps/v1, blockOwnerDeletion: true, controller: true, kind: ReplicaSet, name: web-6d4cf56db6, uid: 11111111-0000-4000-8000-000000000000}
  resourceVersion: "1240"
  uid: 22222222-0000-4000-8000-000000000000
spec:
  containers:
  - image: nginx:1.27
    imagePullPolicy: IfNotPresent
    name: web
    ports:
    - {containerPort: 80, name: http, protocol: TCP}
    volumeMounts:
    - {mountPath: /var/run/secrets/kubernetes.io/serviceaccount, name: kube-api-access-abcde, readOnly: true}
  enableServiceLinks: true
  nodeName: node-1
  preemptionPolicy: PreemptLowerPriority
  priority: 0
  serviceAccount: default
  serviceAccountName: default
  tolerations:
  - {effect: NoExecute, key: node.kubernetes.io/not-ready, operator: Exists, tolerationSeconds: 300}
  volumes:
  - name: kube-api-access-abcde
    projected:
      defaultMode: 420
      sources:
      - serviceAccountToken: {expirationSeconds: 3607, path: token}
status:
  phase: Running
  podIP: 10.244.1.7
  podIPs: [{ip: 10.244.1.7}]
  hostIP: 192.168.49.2
`

describe('kubectl dumps', () => {
  it('a dumped Deployment and Pod give no diagnostics', () => {
    const raws = rawFromYaml(DUMP)
    expect(raws).toHaveLength(2)
    for (const raw of raws) expect(validateObject(raw)).toEqual([])
  })
})
