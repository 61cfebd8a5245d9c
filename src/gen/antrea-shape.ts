/**
 * The scale benchmark's cluster (issue 16): the shape of the largest published NetworkPolicy measurement,
 * Antrea's 102k pods / 75k policies / 25k namespaces (antrea#500). Namespaces of about four pods spread
 * over the nodes; per namespace a default deny (both directions), an egress rule to the cluster DNS, and
 * one selector or ipBlock rule of four kinds (same-namespace tier to tier, cross-namespace by team label,
 * egress to an external range, ingress from other namespaces of the same environment). Node objects carry
 * `spec.podCIDRs` and an InternalIP, so the compiler knows every node's pod range.
 *
 * Deterministic and pure: a generator of plain manifest objects (the caller serialises and streams them,
 * since the whole cluster is ~200k objects); the same options give the same objects in the same order.
 */
import type { JsonObject } from '../model/index.js'

export interface AntreaShapeOptions {
  /** Namespaces of application pods (default 25,000). */
  readonly namespaces?: number
  /** Application pods in all (default 102,000: four per namespace, five in the first ones). */
  readonly pods?: number
  /** Nodes (default 50); node n's pod range is 10.(128+n).0.0/16, so at most 127 nodes. */
  readonly nodes?: number
}

export const ANTREA_SHAPE_DEFAULTS = { namespaces: 25_000, pods: 102_000, nodes: 50 } as const

const APPS = [
  { app: 'frontend', port: 8080, portName: 'http' },
  { app: 'backend', port: 9090, portName: 'grpc' },
  { app: 'db', port: 5432, portName: 'postgres' },
  { app: 'cache', port: 6379, portName: 'redis' },
  { app: 'worker', port: 8081, portName: 'admin' },
] as const
const TEAMS = 200
const ENVS = ['prod', 'staging', 'dev'] as const

/** The name of application namespace i. */
export const antreaNamespace = (i: number): string => `ns-${i}`

/** The counts the generator produces for some options (for reports and tests). */
export function antreaShapeCounts(opts: AntreaShapeOptions = {}): {
  namespaces: number
  pods: number
  policies: number
  nodes: number
} {
  const { namespaces, pods, nodes } = { ...ANTREA_SHAPE_DEFAULTS, ...opts }
  // + kube-system (and its DNS pods) and the default namespace.
  return { namespaces: namespaces + 2, pods: pods + 2, policies: namespaces * 3, nodes }
}

/** Yields the cluster's Nodes, Namespaces, Pods and NetworkPolicies, namespace by namespace. */
export function* antreaShapeManifests(opts: AntreaShapeOptions = {}): Generator<JsonObject> {
  const { namespaces, pods, nodes } = { ...ANTREA_SHAPE_DEFAULTS, ...opts }
  if (nodes < 1 || nodes > 127) throw new RangeError('nodes must be in 1..127')
  if (namespaces < 1 || pods < namespaces) throw new RangeError('need at least one pod per namespace')
  const perNode = new Array<number>(nodes).fill(0)
  let podIndex = 0
  const pod = (ns: string, name: string, labels: Record<string, string>, port: number, portName: string) => {
    const node = podIndex++ % nodes
    const onNode = (perNode[node] ?? 0) + 1
    perNode[node] = onNode
    const j = onNode + 1 // .0.0 and .0.1 are the range's network address and gateway
    if (j > 65_533) throw new RangeError('more than 65,532 pods on one node')
    const ip = `10.${128 + node}.${j >> 8}.${j & 255}`
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels },
      spec: {
        nodeName: `node-${node}`,
        containers: [
          {
            name: 'main',
            image: 'registry.example/app:1',
            ports: [{ name: portName, containerPort: port, protocol: port === 53 ? 'UDP' : 'TCP' }],
          },
        ],
      },
      status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
    }
  }
  const namespace = (name: string, labels: Record<string, string> = {}) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
  })
  const policy = (ns: string, name: string, spec: JsonObject) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns },
    spec,
  })

  for (let n = 0; n < nodes; n++)
    yield {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${n}`, labels: { 'kubernetes.io/hostname': `node-${n}` } },
      spec: { podCIDR: `10.${128 + n}.0.0/16`, podCIDRs: [`10.${128 + n}.0.0/16`] },
      status: { addresses: [{ type: 'InternalIP', address: `192.168.0.${n + 10}` }] },
    }
  yield namespace('default')
  yield namespace('kube-system')
  for (let r = 0; r < 2; r++)
    yield pod('kube-system', `coredns-5d78c9869d-${r}`, { 'k8s-app': 'kube-dns' }, 53, 'dns')

  const base = Math.floor(pods / namespaces)
  const extra = pods - base * namespaces
  for (let i = 0; i < namespaces; i++) {
    const ns = antreaNamespace(i)
    const team = `team-${i % TEAMS}`
    const env = ENVS[i % ENVS.length] as string
    yield namespace(ns, { team, env })
    const count = base + (i < extra ? 1 : 0)
    for (let k = 0; k < count; k++) {
      const a = APPS[k % APPS.length] as (typeof APPS)[number]
      yield pod(
        ns,
        `${a.app}-7c9f${(i % 4096).toString(16).padStart(3, '0')}-${k}`,
        { app: a.app, team },
        a.port,
        a.portName,
      )
    }
    yield policy(ns, 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })
    yield policy(ns, 'allow-dns', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    })
    switch (i % 4) {
      case 0:
        yield policy(ns, 'frontend-to-backend', {
          podSelector: { matchLabels: { app: 'backend' } },
          policyTypes: ['Ingress'],
          ingress: [
            { from: [{ podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ port: 'grpc' }] },
          ],
        })
        break
      case 1:
        yield policy(ns, 'team-to-frontend', {
          podSelector: { matchLabels: { app: 'frontend' } },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [{ namespaceSelector: { matchLabels: { team } } }],
              ports: [{ protocol: 'TCP', port: 8080 }],
            },
          ],
        })
        break
      case 2:
        yield policy(ns, 'backend-to-external-db', {
          podSelector: { matchLabels: { app: 'backend' } },
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ ipBlock: { cidr: `172.16.${i % 256}.0/24`, except: [`172.16.${i % 256}.128/25`] } }],
              ports: [{ protocol: 'TCP', port: 5432 }],
            },
          ],
        })
        break
      default:
        yield policy(ns, 'env-backends-to-db', {
          podSelector: { matchLabels: { app: 'db' } },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { env } },
                  podSelector: { matchLabels: { app: 'backend' } },
                },
              ],
              ports: [{ protocol: 'TCP', port: 5432 }],
            },
          ],
        })
    }
  }
}
