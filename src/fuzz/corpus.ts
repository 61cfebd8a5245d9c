/**
 * The valid manifests the fuzzer mutates ("bases"): every folder of examples/, small clusters from
 * src/gen (random and realistic), and a hand-written base that carries every field kind the API types
 * have (Deployment with strategy and status, Pod status with times and container statuses, quantities,
 * a legacy extensions/v1beta1 policy, a List). Bases are read once per process and reused by every case.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { randomCluster } from '../gen/random-cluster.js'
import { realisticManifests } from '../gen/realistic-cluster.js'
import { clusterManifests } from '../lab/manifests.js'
import type { JsonObject, JsonValue } from '../model/index.js'

export interface Base {
  /** Where it comes from: 'examples/seed-001-testing', 'gen:random:3', 'rich'. */
  readonly name: string
  readonly docs: readonly JsonObject[]
  /** `namespace/name` of every Pod and workload (for --from/--to/--pod). */
  readonly endpoints: readonly string[]
  /** Every spec.nodeName (for compile --node). */
  readonly nodes: readonly string[]
  readonly namespaces: readonly string[]
}

const isObject = (v: JsonValue | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** A base with everything the API types have that the other bases lack. */
export function richDocs(): JsonObject[] {
  const meta = (name: string, namespace?: string, labels?: Record<string, string>): JsonObject => ({
    name,
    ...(namespace ? { namespace } : {}),
    ...(labels ? { labels } : {}),
    uid: '0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9',
    resourceVersion: '12345',
    generation: 3,
    creationTimestamp: '2024-05-01T10:20:30Z',
  })
  const container = (name: string, port: number, portName: string): JsonObject => ({
    name,
    image: `registry.example/${name}:1.2`,
    command: ['/bin/server'],
    args: ['--port', String(port)],
    ports: [{ name: portName, containerPort: port, protocol: 'TCP' }],
    env: [{ name: 'MODE', value: 'prod' }],
    resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: 0.25, memory: '64Mi' } },
    imagePullPolicy: 'IfNotPresent',
  })
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: meta('shop', undefined, { team: 'shop', 'kubernetes.io/metadata.name': 'shop' }),
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    },
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        ...meta('legacy', undefined, { team: 'legacy' }),
        annotations: { 'net.beta.kubernetes.io/network-policy': '{"ingress":{"isolation":"DefaultDeny"}}' },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('web', 'shop', { app: 'web' }),
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } },
        minReadySeconds: 5,
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        template: {
          metadata: { labels: { app: 'web', tier: 'front' } },
          spec: { nodeName: 'node-a', containers: [container('web', 8080, 'http')] },
        },
      },
      status: {
        observedGeneration: 3,
        replicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
        updatedReplicas: 3,
        conditions: [
          {
            type: 'Available',
            status: 'True',
            lastUpdateTime: '2024-05-01T10:21:00Z',
            lastTransitionTime: '2024-05-01T10:21:00Z',
            reason: 'MinimumReplicasAvailable',
            message: 'Deployment has minimum availability.',
          },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...meta('db-0', 'shop', { app: 'db', tier: 'data' }),
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'abc', controller: true },
        ],
      },
      spec: {
        nodeName: 'node-b',
        terminationGracePeriodSeconds: 30,
        priority: 0,
        containers: [container('db', 5432, 'postgres')],
      },
      status: {
        phase: 'Running',
        hostIP: '192.168.0.12',
        podIP: '10.1.2.3',
        podIPs: [{ ip: '10.1.2.3' }, { ip: 'fd00::3' }],
        startTime: '2024-05-01T10:20:35Z',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-05-01T10:20:40Z' }],
        containerStatuses: [
          {
            name: 'db',
            ready: true,
            restartCount: 0,
            image: 'registry.example/db:1.2',
            imageID: 'sha256:00',
            started: true,
            state: { running: { startedAt: '2024-05-01T10:20:38Z' } },
          },
        ],
        qosClass: 'Burstable',
      },
    },
    {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'client', namespace: 'legacy', labels: { app: 'client' } },
          spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'busybox' }] },
          status: { phase: 'Running', podIP: '10.1.1.9' },
        },
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'db-from-web', namespace: 'shop' },
          spec: {
            podSelector: { matchLabels: { app: 'db' } },
            policyTypes: ['Ingress', 'Egress'],
            ingress: [
              {
                from: [
                  { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] } },
                  { namespaceSelector: { matchLabels: { team: 'legacy' } }, podSelector: {} },
                ],
                ports: [{ protocol: 'TCP', port: 'postgres' }],
              },
            ],
            egress: [
              {
                to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.9.0.0/16'] } }],
                ports: [{ protocol: 'UDP', port: 53, endPort: 60 }],
              },
            ],
          },
        },
      ],
    },
    {
      apiVersion: 'extensions/v1beta1',
      kind: 'NetworkPolicy',
      metadata: { name: 'legacy-allow', namespace: 'legacy' },
      spec: { podSelector: { matchLabels: { app: 'client' } }, ingress: [{ from: [{ podSelector: {} }] }] },
    },
  ]
}

/** Reads every example folder (recursively) as one base each: its YAML files' documents in path order. */
function exampleBases(examplesDir: string): Base[] {
  const bases: Base[] = []
  const walk = (dir: string): string[] =>
    readdirSync(dir)
      .sort()
      .flatMap((name) => {
        const p = join(dir, name)
        if (statSync(p).isDirectory()) return walk(p)
        return /\.(ya?ml|json)$/.test(name) ? [p] : []
      })
  let folders: string[]
  try {
    folders = readdirSync(examplesDir).sort()
  } catch {
    return bases
  }
  for (const folder of folders) {
    const dir = join(examplesDir, folder)
    if (!statSync(dir).isDirectory()) continue
    const docs: JsonObject[] = []
    for (const file of walk(dir)) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1' })) {
        const value = doc.toJS() as JsonValue
        if (isObject(value)) docs.push(value)
      }
    }
    if (docs.length > 0) bases.push(describeBase(`examples/${folder}`, docs))
  }
  return bases
}

/** Every object of a document set, Lists flattened. */
function leaves(docs: readonly JsonValue[]): JsonObject[] {
  const out: JsonObject[] = []
  const stack = [...docs].reverse()
  while (stack.length > 0) {
    const v = stack.pop()
    if (!isObject(v)) continue
    if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items))
      stack.push(...[...v.items].reverse())
    else out.push(v)
  }
  return out
}

/** Computes a base's endpoints, nodes and namespaces. */
export function describeBase(name: string, docs: readonly JsonObject[]): Base {
  const endpoints = new Set<string>()
  const nodes = new Set<string>()
  const namespaces = new Set<string>()
  for (const o of leaves(docs)) {
    const meta = isObject(o.metadata) ? o.metadata : {}
    const ns = typeof meta.namespace === 'string' ? meta.namespace : 'default'
    if (o.kind === 'Namespace' && typeof meta.name === 'string') namespaces.add(meta.name)
    if (o.kind === 'Pod' || o.kind === 'Deployment') {
      if (typeof meta.name === 'string') endpoints.add(`${ns}/${meta.name}`)
      namespaces.add(ns)
    }
    const spec = isObject(o.spec) ? o.spec : {}
    const template = isObject(spec.template) && isObject(spec.template.spec) ? spec.template.spec : spec
    for (const s of [spec, template])
      if (typeof s.nodeName === 'string' && s.nodeName !== '') nodes.add(s.nodeName)
  }
  return {
    name,
    docs,
    endpoints: [...endpoints],
    nodes: [...nodes],
    namespaces: [...namespaces],
  }
}

/** Finds examples/ from this module (src/fuzz in tests, dist/src/fuzz when built). */
export function findExamplesDir(): string | undefined {
  for (const up of ['../../examples', '../../../examples']) {
    const dir = new URL(up, import.meta.url).pathname
    try {
      if (statSync(dir).isDirectory()) return dir
    } catch {
      // not here
    }
  }
  return undefined
}

let cached: readonly Base[] | undefined

/** Returns every base (built once per process). */
export function loadCorpus(): readonly Base[] {
  if (cached) return cached
  const bases: Base[] = [describeBase('rich', richDocs())]
  const examples = findExamplesDir()
  if (examples) bases.push(...exampleBases(examples))
  for (let seed = 1; seed <= 6; seed++) {
    const c = randomCluster(seed, { maxPods: 5, maxPolicies: 4, sctp: seed % 3 === 0, ipv6: seed % 2 === 0 })
    bases.push(describeBase(`gen:random:${seed}`, clusterManifests(c) as JsonObject[]))
  }
  for (const seed of [1, 2])
    bases.push(describeBase(`gen:realistic:${seed}`, realisticManifests({ pods: 8, policies: 4, seed })))
  cached = bases
  return bases
}
