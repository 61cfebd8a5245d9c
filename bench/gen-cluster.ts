/**
 * Deterministic generator of realistic ClusterStates (model values) for the compiler benchmark.
 * Namespaces carry team/env labels; pods carry app/tier/team labels and named container ports; one node
 * (`node-0`) runs exactly `nodePods` pods, the rest are spread 110 per node. Policies mix the shapes
 * operators write: default deny, allow-from-app, allow-from-namespace (team/env), ipBlock egress with
 * except, and named ports (monitoring scrapes `metrics`, clients reach `http`).
 */
import type {
  ClusterState,
  ContainerPort,
  LabelSelector,
  Namespace,
  NetworkPolicy,
  Pod,
  PolicyRule,
} from '../src/model/index.js'

export interface GenOptions {
  readonly pods: number
  readonly policies: number
  /** Pods on node-0 (the node the benchmark compiles for). */
  readonly nodePods?: number
  readonly seed?: number
}

/** mulberry32: a tiny seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const TIERS = [
  { tier: 'web', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] },
  { tier: 'api', ports: [{ name: 'grpc', containerPort: 9000, protocol: 'TCP' }] },
  { tier: 'db', ports: [{ name: 'pg', containerPort: 5432, protocol: 'TCP' }] },
  { tier: 'cache', ports: [{ name: 'redis', containerPort: 6379, protocol: 'TCP' }] },
  { tier: 'dns', ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }] },
] as const
const TEAMS = ['payments', 'search', 'identity', 'media', 'ads', 'infra', 'data', 'mobile']
const ENVS = ['prod', 'staging', 'dev']

const sel = (matchLabels: Record<string, string> = {}): LabelSelector => ({
  matchLabels,
  matchExpressions: [],
})

/** Generates a cluster; the same options always give the same cluster. */
export function generateCluster(opts: GenOptions): ClusterState {
  const rnd = rng(opts.seed ?? 42)
  const int = (n: number) => Math.floor(rnd() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T
  const nodePods = opts.nodePods ?? 110
  const nsCount = Math.max(3, Math.ceil(opts.pods / 100))

  const namespaces: Namespace[] = []
  for (let i = 0; i < nsCount; i++) {
    const name = `${TEAMS[i % TEAMS.length]}-${i}`
    namespaces.push({
      name,
      labels: {
        'kubernetes.io/metadata.name': name,
        team: TEAMS[i % TEAMS.length] as string,
        env: pick(ENVS),
      },
      declared: true,
      defaultDenyIngress: false,
    })
  }
  namespaces.push({
    name: 'monitoring',
    labels: { 'kubernetes.io/metadata.name': 'monitoring', team: 'infra', purpose: 'monitoring' },
    declared: true,
    defaultDenyIngress: false,
  })

  const appsPerNs = 8
  const pods: Pod[] = []
  for (let i = 0; i < opts.pods; i++) {
    const ns = namespaces[i % nsCount] as Namespace
    const app = `app-${int(appsPerNs)}`
    const t = TIERS[int(TIERS.length)] as (typeof TIERS)[number]
    // node-0 takes the first nodePods pods, the others 110 each
    const node = i < nodePods ? 0 : 1 + Math.floor((i - nodePods) / 110)
    const slot = i < nodePods ? i : (i - nodePods) % 110
    const ports: ContainerPort[] = [...t.ports, { name: 'metrics', containerPort: 9090, protocol: 'TCP' }]
    pods.push({
      namespace: ns.name,
      name: `${app}-${t.tier}-${i}`,
      labels: { app, tier: t.tier, team: ns.labels.team as string },
      ips: [`10.${64 + (node >> 8)}.${node & 255}.${slot + 2}`],
      ports,
      nodeName: `node-${node}`,
      hostNetwork: false,
      phase: 'Running',
    })
  }
  pods.push({
    namespace: 'monitoring',
    name: 'prometheus-0',
    labels: { app: 'prometheus' },
    ips: ['10.63.0.2'],
    ports: [],
    nodeName: 'node-mon',
    hostNetwork: false,
    phase: 'Running',
  })

  const policies: NetworkPolicy[] = []
  const v1 = { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' } as const
  const policy = (
    ns: string,
    name: string,
    podSelector: LabelSelector,
    ingress: PolicyRule[],
    egress?: PolicyRule[],
  ) =>
    policies.push({
      namespace: ns,
      name,
      origin: v1,
      podSelector,
      policyTypes: egress ? ['Ingress', 'Egress'] : ['Ingress'],
      ingress,
      egress: egress ?? [],
    })
  for (let k = 0; policies.length < opts.policies; k++) {
    const ns = namespaces[k % nsCount] as Namespace
    const shape = Math.floor(k / nsCount) % 5
    const app = `app-${int(appsPerNs)}`
    switch (shape) {
      case 0:
        policy(ns.name, `default-deny-${k}`, sel(), [])
        break
      case 1:
        policy(ns.name, `allow-${app}-from-web-${k}`, sel({ app }), [
          { peers: [{ podSelector: sel({ tier: 'web' }) }], ports: [{ protocol: 'TCP', port: 'grpc' }] },
        ])
        break
      case 2:
        policy(ns.name, `allow-team-${k}`, sel({ tier: pick(['api', 'db', 'cache']) }), [
          {
            peers: [
              {
                namespaceSelector: sel({ team: pick(TEAMS), env: pick(ENVS) }),
                podSelector: sel({ tier: 'api' }),
              },
            ],
            ports: [
              { protocol: 'TCP', port: 5432 },
              { protocol: 'TCP', port: 6379 },
              { protocol: 'TCP', port: 8000, endPort: 8999 },
            ],
          },
        ])
        break
      case 3:
        policy(
          ns.name,
          `egress-${app}-${k}`,
          sel({ app }),
          [{ peers: [{ podSelector: sel() }] }],
          [
            { peers: [{ namespaceSelector: sel({ 'kubernetes.io/metadata.name': ns.name }) }] },
            {
              peers: [{ podSelector: sel({ tier: 'dns' }), namespaceSelector: sel() }],
              ports: [{ protocol: 'UDP', port: 53 }],
            },
            {
              peers: [
                {
                  ipBlock: {
                    cidr: '0.0.0.0/0',
                    except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', `169.254.${k % 250}.0/24`],
                  },
                },
              ],
              ports: [{ protocol: 'TCP', port: 443 }],
            },
          ],
        )
        break
      default:
        policy(ns.name, `allow-monitoring-${k}`, sel({ tier: pick(['web', 'api']) }), [
          {
            peers: [{ namespaceSelector: sel({ purpose: 'monitoring' }) }],
            ports: [{ protocol: 'TCP', port: 'metrics' }],
          },
          {
            peers: [{ namespaceSelector: sel({ env: ns.labels.env as string }) }],
            ports: [{ protocol: 'TCP', port: 'http' }],
          },
        ])
    }
  }
  return { namespaces, pods, policies }
}
