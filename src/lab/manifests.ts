/** A ClusterState back as Kubernetes manifests (pure): what the lab's fuzz cases save and its agents read. */
import { stringify } from 'yaml'
import type {
  ClusterNetworkPolicy,
  ClusterPolicyPeer,
  ClusterPolicyPort,
  ClusterPolicyRule,
  ClusterState,
  ContainerPort,
  LabelSelector,
  PolicyPeer,
  PolicyRule,
} from '../model/index.js'
import { DEFAULT_DENY_ANNOTATION_POLICY, LEGACY_ISOLATION_ANNOTATION } from '../model/index.js'

function selectorYAML(s: LabelSelector): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (Object.keys(s.matchLabels).length > 0) out.matchLabels = { ...s.matchLabels }
  if (s.matchExpressions.length > 0) {
    out.matchExpressions = s.matchExpressions.map((e) => ({
      key: e.key,
      operator: e.operator,
      ...(e.values.length > 0 ? { values: [...e.values] } : {}),
    }))
  }
  return out
}

function peerYAML(p: PolicyPeer): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (p.podSelector) out.podSelector = selectorYAML(p.podSelector)
  if (p.namespaceSelector) out.namespaceSelector = selectorYAML(p.namespaceSelector)
  if (p.ipBlock)
    out.ipBlock = {
      cidr: p.ipBlock.cidr,
      ...(p.ipBlock.except.length > 0 ? { except: [...p.ipBlock.except] } : {}),
    }
  return out
}

function ruleYAML(r: PolicyRule, peerField: 'from' | 'to'): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (r.peers) out[peerField] = r.peers.map(peerYAML)
  if (r.ports) {
    out.ports = r.ports.map((p) => ({
      protocol: p.protocol,
      ...(p.port !== undefined ? { port: p.port } : {}),
      ...(p.endPort !== undefined ? { endPort: p.endPort } : {}),
    }))
  }
  return out
}

/** Spreads container ports over as few containers as keep port names unique per container (as validation requires). */
function containersYAML(ports: readonly ContainerPort[]): Record<string, unknown>[] {
  const groups: ContainerPort[][] = [[]]
  for (const cp of ports) {
    let g = groups.find((x) => cp.name === undefined || !x.some((y) => y.name === cp.name))
    if (!g) {
      g = []
      groups.push(g)
    }
    g.push(cp)
  }
  return groups.map((g, i) => ({
    name: i === 0 ? 'main' : `c${i}`,
    image: 'registry.k8s.io/pause:3.9',
    ...(g.length > 0
      ? {
          ports: g.map((cp) => ({
            ...(cp.name ? { name: cp.name } : {}),
            containerPort: cp.containerPort,
            protocol: cp.protocol,
          })),
        }
      : {}),
  }))
}

/** Returns a cluster as Kubernetes objects (Namespace, Pod, NetworkPolicy, ClusterNetworkPolicy and then Node) that load back into the same cluster. */
export function clusterManifests(c: ClusterState): Record<string, unknown>[] {
  const docs: Record<string, unknown>[] = []
  for (const ns of c.namespaces) {
    const annotations = ns.defaultDenyIngress
      ? { [LEGACY_ISOLATION_ANNOTATION]: '{"ingress":{"isolation":"DefaultDeny"}}' }
      : undefined
    docs.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns.name, labels: { ...ns.labels }, ...(annotations ? { annotations } : {}) },
    })
  }
  for (const p of c.pods) {
    docs.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: p.namespace, labels: { ...p.labels } },
      spec: {
        ...(p.nodeName ? { nodeName: p.nodeName } : {}),
        ...(p.hostNetwork ? { hostNetwork: true } : {}),
        containers: containersYAML(p.ports),
      },
      status: {
        phase: p.phase ?? 'Running',
        ...(p.ips.length > 0 ? { podIP: p.ips[0], podIPs: p.ips.map((ip) => ({ ip })) } : {}),
      },
    })
  }
  for (const pol of c.policies) {
    if (pol.name === DEFAULT_DENY_ANNOTATION_POLICY) continue // the namespace annotation above carries it
    docs.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: pol.name, namespace: pol.namespace },
      spec: {
        podSelector: selectorYAML(pol.podSelector),
        policyTypes: [...pol.policyTypes],
        ...(pol.ingress.length > 0 ? { ingress: pol.ingress.map((r) => ruleYAML(r, 'from')) } : {}),
        ...(pol.egress.length > 0 ? { egress: pol.egress.map((r) => ruleYAML(r, 'to')) } : {}),
      },
    })
  }
  // ClusterNetworkPolicies, and then the Node objects their `nodes` peers select by (labels, addresses).
  // Without ClusterNetworkPolicies no Node is written: the manifests stay what they were.
  if (c.clusterPolicies && c.clusterPolicies.length > 0) {
    for (const n of c.nodes ?? []) {
      if (!n.declared) continue
      docs.push({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: n.name, ...(n.labels ? { labels: { ...n.labels } } : {}) },
        ...(n.podCIDRs ? { spec: { podCIDRs: [...n.podCIDRs] } } : {}),
        status: { addresses: n.addresses.map((address) => ({ type: 'InternalIP', address })) },
      })
    }
    for (const pol of c.clusterPolicies) docs.push(clusterPolicyYAML(pol))
  }
  return docs
}

function clusterPeerYAML(p: ClusterPolicyPeer): Record<string, unknown> {
  switch (p.kind) {
    case 'namespaces':
      return { namespaces: selectorYAML(p.namespaceSelector) }
    case 'pods':
      return {
        pods: {
          namespaceSelector: selectorYAML(p.namespaceSelector),
          podSelector: selectorYAML(p.podSelector),
        },
      }
    case 'networks':
      return { networks: [...p.networks] }
    case 'nodes':
      return { nodes: selectorYAML(p.nodeSelector) }
    case 'domainNames':
      return { domainNames: [...p.domainNames] }
    case 'unknown':
      // a newer API's peer: written back as the fields it had (read again as unknown: fail closed)
      return Object.fromEntries(p.fields.map((f) => [f, {}]))
  }
}

function clusterPortYAML(p: ClusterPolicyPort): Record<string, unknown> {
  if (p.kind === 'named') return { destinationNamedPort: p.name }
  const destinationPort =
    p.endPort === undefined ? { number: p.port } : { range: { start: p.port, end: p.endPort } }
  return { [p.protocol.toLowerCase()]: { destinationPort } }
}

function clusterRuleYAML(r: ClusterPolicyRule, peerField: 'from' | 'to'): Record<string, unknown> {
  return {
    ...(r.name !== undefined ? { name: r.name } : {}),
    action: r.action,
    [peerField]: r.peers.map(clusterPeerYAML),
    ...(r.ports ? { protocols: r.ports.map(clusterPortYAML) } : {}),
  }
}

/** Returns a ClusterNetworkPolicy as its manifest. */
function clusterPolicyYAML(pol: ClusterNetworkPolicy): Record<string, unknown> {
  const s = pol.subject
  return {
    apiVersion: pol.apiVersion,
    kind: 'ClusterNetworkPolicy',
    metadata: { name: pol.name },
    spec: {
      tier: pol.tier,
      priority: pol.priority,
      subject:
        s.kind === 'namespaces'
          ? { namespaces: selectorYAML(s.namespaceSelector) }
          : {
              pods: {
                namespaceSelector: selectorYAML(s.namespaceSelector),
                podSelector: selectorYAML(s.podSelector),
              },
            },
      ...(pol.ingress.length > 0 ? { ingress: pol.ingress.map((r) => clusterRuleYAML(r, 'from')) } : {}),
      ...(pol.egress.length > 0 ? { egress: pol.egress.map((r) => clusterRuleYAML(r, 'to')) } : {}),
    },
  }
}

/** Renders a cluster as Kubernetes manifests (Namespace, Pod, NetworkPolicy) that load back into the same cluster. */
export function renderClusterYAML(c: ClusterState): string {
  // every string value double-quoted: the loader reads YAML 1.1 like the API server, where y, n, on, off are booleans
  return clusterManifests(c)
    .map((d) => stringify(d, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' }))
    .join('---\n')
}
