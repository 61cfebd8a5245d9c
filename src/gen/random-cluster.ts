/**
 * Seeded random clusters for property tests, lab fuzzing and benchmarks: small, adversarial shapes that
 * exercise every NetworkPolicy feature (selectors with expressions, AND peers, ipBlock with except over pod
 * addresses, named ports, endPort, every protocol, both directions, the legacy annotation).
 * Pure: the seed is the only source of randomness.
 */
import type {
  ClusterNetworkPolicy,
  ClusterPolicyPeer,
  ClusterPolicyPort,
  ClusterPolicyRule,
  ClusterState,
  ContainerPort,
  LabelSelector,
  LabelSelectorRequirement,
  Namespace,
  NetworkPolicy,
  Node,
  Pod,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
  PolicyType,
  Protocol,
} from '../model/index.js'
import { compareClusterPolicies, defaultDenyAnnotationPolicy } from '../model/index.js'

/** A small deterministic PRNG (mulberry32). */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface RandomClusterOptions {
  readonly maxPods?: number
  readonly maxPolicies?: number
  readonly nodes?: number
  /** Include SCTP ports (the lab kernel has no SCTP: it probes TCP/UDP only). */
  readonly sctp?: boolean
  /** Give some pods an IPv6 address too (dual-stack). */
  readonly ipv6?: boolean
  /**
   * Draw up to this many ClusterNetworkPolicies (both tiers, tied priorities, every peer kind, Pass,
   * fail-closed peers), labelled Node objects and a hostNetwork pod on a node address. Drawn after
   * everything else: a seed gives the same cluster as without them, plus them.
   */
  readonly clusterPolicies?: number
}

const NAMESPACES = ['x', 'y', 'z']
const APPS = ['a', 'b', 'c']
const TIERS = ['web', 'db']

/** Generates a random cluster from a seed. */
export function randomCluster(seed: number, opts: RandomClusterOptions = {}): ClusterState {
  const rnd = makeRng(seed)
  const int = (n: number) => Math.floor(rnd() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T
  const chance = (p: number) => rnd() < p
  const maxPods = opts.maxPods ?? 8
  const maxPolicies = opts.maxPolicies ?? 5
  const nodes = opts.nodes ?? 2
  const protocols: Protocol[] = opts.sctp ? ['TCP', 'UDP', 'SCTP'] : ['TCP', 'UDP']

  const nsCount = 1 + int(NAMESPACES.length)
  const nsNames = NAMESPACES.slice(0, nsCount)
  const annotated = new Set(nsNames.filter(() => chance(0.1)))
  const namespaces: Namespace[] = nsNames.map((name) => {
    const labels: Record<string, string> = { 'kubernetes.io/metadata.name': name, ns: name }
    if (chance(0.5)) labels.env = pick(['prod', 'dev'])
    return { name, labels, declared: true, defaultDenyIngress: annotated.has(name) }
  })

  const podCount = 1 + int(maxPods)
  const pods: Pod[] = []
  const perNode = new Map<number, number>()
  for (let i = 0; i < podCount; i++) {
    const node = 1 + int(nodes)
    const host = 10 + (perNode.get(node) ?? 0)
    perNode.set(node, (perNode.get(node) ?? 0) + 1)
    const labels: Record<string, string> = { app: pick(APPS) }
    if (chance(0.5)) labels.tier = pick(TIERS)
    const ports: ContainerPort[] = [{ name: 'http', containerPort: 80, protocol: 'TCP' }]
    if (chance(0.6)) ports.push({ name: 'alt', containerPort: 81, protocol: pick(protocols) })
    if (chance(0.4))
      ports.push({ containerPort: 80, protocol: 'UDP', ...(chance(0.5) ? { name: 'dns' } : {}) })
    if (chance(0.2)) ports.push({ name: 'http', containerPort: 8080, protocol: 'UDP' })
    const v4 = `10.240.${node}.${host}`
    const v6 = `fd00:240:${node}::${host.toString(16)}`
    let ips = [v4]
    if (opts.ipv6) {
      const r = rnd()
      if (r < 0.3) ips = [v4, v6]
      else if (r < 0.45) ips = [v6, v4]
      else if (r < 0.55) ips = [v6]
    }
    pods.push({
      namespace: pick(nsNames),
      name: `p${i}`,
      labels,
      ips,
      ports,
      nodeName: `node-${node}`,
      hostNetwork: false,
    })
  }

  const selector = (kind: 'pod' | 'ns'): LabelSelector => {
    const r = rnd()
    if (r < 0.25) return { matchLabels: {}, matchExpressions: [] }
    if (kind === 'ns') {
      if (r < 0.65) return { matchLabels: { ns: pick(nsNames) }, matchExpressions: [] }
      const req: LabelSelectorRequirement = chance(0.5)
        ? {
            key: 'ns',
            operator: pick(['In', 'NotIn'] as const),
            values: nsNames.filter(() => chance(0.5)).concat(pick(nsNames)),
          }
        : { key: 'env', operator: pick(['Exists', 'DoesNotExist'] as const), values: [] }
      return { matchLabels: {}, matchExpressions: [req] }
    }
    if (r < 0.65) return { matchLabels: { app: pick(APPS) }, matchExpressions: [] }
    const req: LabelSelectorRequirement = chance(0.5)
      ? {
          key: pick(['app', 'tier']),
          operator: pick(['In', 'NotIn'] as const),
          values: [pick([...APPS, ...TIERS])],
        }
      : { key: 'tier', operator: pick(['Exists', 'DoesNotExist'] as const), values: [] }
    return { matchLabels: chance(0.3) ? { app: pick(APPS) } : {}, matchExpressions: [req] }
  }

  const peer = (): PolicyPeer => {
    const r = rnd()
    if (r < 0.35) return { podSelector: selector('pod') }
    if (r < 0.6) return { namespaceSelector: selector('ns') }
    if (r < 0.8) return { podSelector: selector('pod'), namespaceSelector: selector('ns') }
    const node = 1 + int(nodes)
    if (opts.ipv6 && chance(0.4)) {
      const cidr6 = pick([`fd00:240:${node}::/64`, 'fd00::/8', '::/0'])
      return {
        ipBlock: { cidr: cidr6, except: chance(0.5) && cidr6 !== '::/0' ? [`fd00:240:${node}::8/125`] : [] },
      }
    }
    const cidr = pick([`10.240.${node}.0/24`, '10.240.0.0/16', `10.240.${node}.8/29`, '0.0.0.0/0'])
    const except = chance(0.5)
      ? [pick([`10.240.${node}.12/30`, `10.240.${node}.10/32`, `10.240.${node}.0/28`])]
      : []
    // keep except inside cidr, as validation requires
    const ok = except.filter(
      (e) =>
        cidr === '0.0.0.0/0' ||
        cidr === '10.240.0.0/16' ||
        (cidr.endsWith('/24') && e.startsWith(`10.240.${node}.`)) ||
        (cidr.endsWith('.8/29') && e === `10.240.${node}.10/32`),
    )
    return { ipBlock: { cidr, except: ok } }
  }

  const port = (): PolicyPort => {
    const protocol = pick(protocols)
    const r = rnd()
    if (r < 0.15) return { protocol }
    if (r < 0.55) return { protocol, port: pick([80, 81, 8080]) }
    if (r < 0.75) return { protocol, port: 80, endPort: pick([80, 81, 8080]) }
    return { protocol, port: pick(['http', 'alt', 'dns']) }
  }

  const rule = (): PolicyRule => {
    const r: { peers?: PolicyPeer[]; ports?: PolicyPort[] } = {}
    if (chance(0.8)) r.peers = Array.from({ length: 1 + int(2) }, peer)
    if (chance(0.6)) r.ports = Array.from({ length: 1 + int(2) }, port)
    return r
  }

  const policies: NetworkPolicy[] = []
  const polCount = int(maxPolicies + 1)
  for (let i = 0; i < polCount; i++) {
    const types: PolicyType[] = pick([['Ingress'], ['Egress'], ['Ingress', 'Egress']] as PolicyType[][])
    policies.push({
      namespace: pick(nsNames),
      name: `pol${i}`,
      origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
      podSelector: selector('pod'),
      policyTypes: types,
      ingress: types.includes('Ingress') ? Array.from({ length: int(3) }, rule) : [],
      egress: types.includes('Egress') ? Array.from({ length: int(3) }, rule) : [],
    })
  }
  for (const ns of annotated) policies.push(defaultDenyAnnotationPolicy(ns))
  if (!opts.clusterPolicies) return { namespaces, pods, policies }

  // ClusterNetworkPolicies, Nodes and a hostNetwork pod: drawn last (see RandomClusterOptions).
  const nodeList: Node[] = Array.from({ length: nodes }, (_, i) => ({
    name: `node-${i + 1}`,
    addresses: [`10.240.${i + 1}.1`],
    declared: true,
    labels: { zone: pick(['a', 'b']), ...(chance(0.5) ? { role: 'infra' } : {}) },
  }))
  if (chance(0.5) && pods.length > 1) {
    const i = int(pods.length)
    const p = pods[i] as Pod
    const node = Number((p.nodeName ?? 'node-1').slice(5))
    pods[i] = { ...p, hostNetwork: true, ips: [`10.240.${node}.1`] }
  }
  const nodeSelector = (): LabelSelector =>
    chance(0.3)
      ? { matchLabels: {}, matchExpressions: [] }
      : chance(0.5)
        ? { matchLabels: { zone: pick(['a', 'b']) }, matchExpressions: [] }
        : { matchLabels: {}, matchExpressions: [{ key: 'role', operator: 'Exists', values: [] }] }
  const clusterPeer = (egress: boolean): ClusterPolicyPeer => {
    const r = rnd()
    if (r < 0.03) return { kind: 'unknown', fields: ['future'] }
    if (r < 0.3) return { kind: 'namespaces', namespaceSelector: selector('ns') }
    if (r < 0.65 || !egress)
      return { kind: 'pods', namespaceSelector: selector('ns'), podSelector: selector('pod') }
    if (r < 0.85) {
      const node = 1 + int(nodes)
      return {
        kind: 'networks',
        networks: [pick([`10.240.${node}.0/24`, `10.240.${node}.8/29`, '0.0.0.0/0', `10.240.${node}.1/32`])],
      }
    }
    return { kind: 'nodes', nodeSelector: nodeSelector() }
  }
  const clusterPort = (namedOk: boolean): ClusterPolicyPort => {
    const r = rnd()
    if (r < 0.3 && namedOk) return { kind: 'named', name: pick(['http', 'alt', 'dns']) }
    const protocol = pick(protocols)
    if (r < 0.75) return { kind: 'port', protocol, port: pick([80, 81, 8080]) }
    return { kind: 'port', protocol, port: 80, endPort: pick([81, 8080]) }
  }
  const clusterRule = (egress: boolean): ClusterPolicyRule => {
    const peers = Array.from({ length: 1 + int(2) }, () => clusterPeer(egress))
    const namedOk = !peers.some((p) => p.kind === 'networks' || p.kind === 'nodes')
    return {
      action: pick(['Accept', 'Deny', 'Pass'] as const),
      peers,
      ...(chance(0.5) ? { ports: Array.from({ length: 1 + int(2) }, () => clusterPort(namedOk)) } : {}),
    }
  }
  const clusterPolicies: ClusterNetworkPolicy[] = []
  const cnpCount = int(opts.clusterPolicies + 1)
  for (let i = 0; i < cnpCount; i++) {
    clusterPolicies.push({
      name: `cnp${i}`,
      apiVersion: 'policy.networking.k8s.io/v1beta1',
      tier: pick(['Admin', 'Baseline'] as const),
      priority: pick([0, 10, 10, 20]),
      subject: chance(0.4)
        ? { kind: 'namespaces', namespaceSelector: selector('ns') }
        : { kind: 'pods', namespaceSelector: selector('ns'), podSelector: selector('pod') },
      ingress: Array.from({ length: int(3) }, () => clusterRule(false)),
      egress: Array.from({ length: int(3) }, () => clusterRule(true)),
    })
  }
  return {
    namespaces,
    pods,
    policies,
    nodes: nodeList,
    clusterPolicies: clusterPolicies.sort(compareClusterPolicies),
  }
}
