/**
 * Seeded generator of realistic cluster manifests for benchmarks: namespaces owned by teams with env
 * labels, Deployments of several replicas (real pods with IPs, nodes and a pod-template-hash), and the
 * policy shapes operators write: default deny, allow DNS, same-namespace, tier-to-tier on named ports,
 * cross-namespace by team label, monitoring, and egress to the internet except private ranges.
 * Pure: returns plain manifest objects; the caller serialises them.
 */
import type { JsonObject } from '../model/index.js'
import { makeRng } from './random-cluster.js'

export interface RealisticOptions {
  readonly pods: number
  readonly policies: number
  readonly nodes?: number
  readonly seed?: number
  /** Pods per Deployment (replicas). */
  readonly replicas?: number
}

const TIERS = [
  { tier: 'web', port: 8080, name: 'http' },
  { tier: 'api', port: 9090, name: 'grpc' },
  { tier: 'db', port: 5432, name: 'postgres' },
  { tier: 'cache', port: 6379, name: 'redis' },
  { tier: 'worker', port: 8081, name: 'admin' },
]
const TEAMS = ['payments', 'search', 'identity', 'media', 'ads', 'infra', 'data', 'mobile']
const ENVS = ['prod', 'staging', 'dev']

/** Generates the manifests (Namespaces, Pods, NetworkPolicies) of a realistic cluster. */
export function realisticManifests(opts: RealisticOptions): JsonObject[] {
  const rnd = makeRng(opts.seed ?? 1)
  const int = (n: number) => Math.floor(rnd() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T
  const nodes = opts.nodes ?? Math.max(2, Math.ceil(opts.pods / 110))
  const replicas = opts.replicas ?? 5
  const podsPerNs = 50
  const nsCount = Math.max(1, Math.ceil(opts.pods / podsPerNs))
  const out: JsonObject[] = []
  const namespaces: { name: string; team: string; env: string }[] = []
  out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } })
  out.push({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'monitoring', labels: { purpose: 'monitoring' } },
  })
  for (let i = 0; i < nsCount; i++) {
    const team = TEAMS[i % TEAMS.length] as string
    const env = pick(ENVS)
    const name = `${team}-${env}-${i}`
    namespaces.push({ name, team, env })
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { team, env } } })
  }
  let podIndex = 0
  const ip = (i: number) => `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`
  const pod = (ns: string, name: string, labels: Record<string, string>, ports: JsonObject[]): JsonObject => {
    const i = podIndex++
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels },
      spec: {
        nodeName: `node-${i % nodes}`,
        containers: [{ name: 'main', image: 'registry.example/app:1', ports }],
      },
      status: { phase: 'Running', podIP: ip(i + 10), podIPs: [{ ip: ip(i + 10) }] },
    }
  }
  out.push(
    pod('kube-system', 'coredns-0', { 'k8s-app': 'kube-dns' }, [
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53 },
    ]),
  )
  out.push(pod('monitoring', 'prometheus-0', { app: 'prometheus' }, [{ name: 'web', containerPort: 9090 }]))
  let remaining = opts.pods - 2
  let d = 0
  while (remaining > 0) {
    const ns = namespaces[d % namespaces.length] as (typeof namespaces)[number]
    const t = TIERS[d % TIERS.length] as (typeof TIERS)[number]
    const app = `${t.tier}-${Math.floor(d / namespaces.length)}`
    const hash = (0x10000000 + int(0x7fffffff)).toString(16).slice(0, 10)
    for (let r = 0; r < replicas && remaining > 0; r++, remaining--) {
      out.push(
        pod(ns.name, `${app}-${hash}-${r}`, { app, tier: t.tier, team: ns.team, 'pod-template-hash': hash }, [
          { name: t.name, containerPort: t.port },
          { name: 'metrics', containerPort: 9100 },
        ]),
      )
    }
    d++
  }
  const shapes: ((ns: (typeof namespaces)[number], k: number) => object)[] = [
    () => ({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    () => ({
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
    }),
    () => ({
      podSelector: {},
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
      policyTypes: ['Ingress', 'Egress'],
    }),
    (_ns, k) => ({
      podSelector: { matchLabels: { tier: 'api' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'web' } } }], ports: [{ port: 'grpc' }] }],
      egress: [
        {
          to: [
            { podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['db', 'cache'] }] } },
          ],
          ports: [{ port: 5432 }, { port: 6379 }],
        },
      ],
      policyTypes: k % 2 === 0 ? ['Ingress', 'Egress'] : ['Ingress'],
    }),
    (ns) => ({
      podSelector: { matchLabels: { tier: 'web' } },
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { team: ns.team } } },
            { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] } },
          ],
          ports: [{ port: 'http' }],
        },
      ],
    }),
    () => ({
      podSelector: {},
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { purpose: 'monitoring' } },
              podSelector: { matchLabels: { app: 'prometheus' } },
            },
          ],
          ports: [{ port: 9100 }],
        },
      ],
    }),
    (_ns, k) => ({
      podSelector: { matchLabels: { tier: pick(['worker', 'api']) } },
      egress: [
        {
          to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }],
          ports: [{ port: 443 }, { port: 8000 + (k % 50), endPort: 8100 + (k % 50) }],
        },
      ],
      policyTypes: ['Egress'],
    }),
    (ns) => ({
      podSelector: { matchLabels: { tier: 'db' } },
      ingress: [
        {
          from: [
            {
              namespaceSelector: {
                matchExpressions: [
                  { key: 'env', operator: 'In', values: [ns.env] },
                  { key: 'team', operator: 'Exists' },
                ],
              },
              podSelector: { matchLabels: { tier: 'api' } },
            },
          ],
          ports: [{ port: 'postgres' }],
        },
      ],
      policyTypes: ['Ingress'],
    }),
    (_ns, k) => ({
      podSelector: { matchLabels: { app: `cache-${k % 4}` } },
      ingress: [
        {
          from: [
            { podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['worker'] }] } },
          ],
          ports: [{ protocol: 'TCP', port: 6379 }],
        },
      ],
    }),
    (_ns, k) => ({
      podSelector: { matchLabels: { tier: 'worker' } },
      ingress: [
        {
          from: [
            {
              ipBlock: { cidr: `10.${64 + (k % 4)}.0.0/16`, except: [`10.${64 + (k % 4)}.${k % 256}.0/24`] },
            },
          ],
        },
      ],
    }),
  ]
  for (let k = 0; k < opts.policies; k++) {
    const ns = namespaces[k % namespaces.length] as (typeof namespaces)[number]
    const shape = shapes[Math.floor(k / namespaces.length) % shapes.length] as (typeof shapes)[number]
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `pol-${k}`, namespace: ns.name },
      spec: shape(ns, k) as JsonObject,
    })
  }
  return out
}
