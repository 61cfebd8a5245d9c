/**
 * The one place tests build cluster objects without the loader: model values (selectors, namespaces,
 * pods, policies, rules, ports) and the API-shaped JSON the agent receives (…Json). The YAML path is
 * tested in test/load; everything else starts here.
 */
import {
  type ClusterState,
  DEFAULT_DENY_ANNOTATION_POLICY,
  type JsonObject,
  type LabelSelector,
  type Labels,
  type Namespace,
  type NetworkPolicy,
  type Pod,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
  type PolicyType,
  type SourceRef,
} from '../src/model/index.js'

// Model values

/** A label selector (matchLabels, then matchExpressions). */
export const sel = (
  matchLabels: Labels = {},
  matchExpressions: LabelSelector['matchExpressions'] = [],
): LabelSelector => ({ matchLabels, matchExpressions })

/** A declared namespace, with the kubernetes.io/metadata.name label the API server adds. */
export function ns(name: string, labels: Labels = {}, extra: Partial<Namespace> = {}): Namespace {
  return {
    name,
    labels: { 'kubernetes.io/metadata.name': name, ...labels },
    declared: true,
    defaultDenyIngress: false,
    ...extra,
  }
}

/** A pod 'namespace/name' with its addresses; on node-1, no container ports, unless `extra` says. */
export function pod(
  key: string,
  labels: Labels,
  ips: string | readonly string[],
  extra: Partial<Pod> = {},
): Pod {
  const [namespace, name] = key.split('/') as [string, string]
  return {
    namespace,
    name,
    labels,
    ips: typeof ips === 'string' ? [ips] : ips,
    ports: [],
    nodeName: 'node-1',
    hostNetwork: false,
    ...extra,
  }
}

/** A rule; peers/ports undefined = every peer / every port. */
export function rule(peers?: readonly PolicyPeer[], ports?: readonly PolicyPort[]): PolicyRule {
  return { ...(peers ? { peers } : {}), ...(ports ? { ports } : {}) }
}

export interface PolicySpec {
  /** policyTypes; default Ingress, plus Egress when there are egress rules (as the API server defaults). */
  readonly types?: readonly PolicyType[]
  readonly ingress?: readonly PolicyRule[]
  readonly egress?: readonly PolicyRule[]
  /** Where the policy was written: its rules are given lines after it (rule i of a list at line + 10 + i). */
  readonly source?: SourceRef & { readonly line: number }
}

/** A networking.k8s.io/v1 NetworkPolicy 'namespace/name'. */
export function policy(key: string, podSelector: LabelSelector, spec: PolicySpec = {}): NetworkPolicy {
  const [namespace, name] = key.split('/') as [string, string]
  const ingress = spec.ingress ?? []
  const egress = spec.egress ?? []
  const src = spec.source
  const at = (r: PolicyRule, i: number): PolicyRule =>
    src ? { ...r, source: { file: src.file, line: src.line + 10 + i } } : r
  return {
    namespace,
    name,
    origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
    podSelector,
    policyTypes: spec.types ? [...spec.types] : egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'],
    ingress: src ? ingress.map(at) : ingress,
    egress: src ? egress.map(at) : egress,
    ...(src ? { source: src } : {}),
  }
}

/** The synthetic policy normalisation makes from the DefaultDeny namespace annotation. */
export function annotationPolicy(namespace: string): NetworkPolicy {
  return {
    namespace,
    name: DEFAULT_DENY_ANNOTATION_POLICY,
    origin: { kind: 'DefaultDenyAnnotation' },
    podSelector: sel(),
    policyTypes: ['Ingress'],
    ingress: [],
    egress: [],
  }
}

export const tcp = (port?: number | string, endPort?: number): PolicyPort => ({
  protocol: 'TCP',
  ...(port !== undefined ? { port } : {}),
  ...(endPort !== undefined ? { endPort } : {}),
})
export const udp = (port?: number | string): PolicyPort => ({
  protocol: 'UDP',
  ...(port !== undefined ? { port } : {}),
})
export const sctp = (port?: number | string, endPort?: number): PolicyPort => ({
  protocol: 'SCTP',
  ...(port !== undefined ? { port } : {}),
  ...(endPort !== undefined ? { endPort } : {}),
})

export const cluster = (namespaces: Namespace[], pods: Pod[], policies: NetworkPolicy[]): ClusterState => ({
  namespaces,
  pods,
  policies,
})

// API objects, as the API server sends them (the agent's store, --from-dir files)

/** A running pod with one IP on a node (Pending without one). */
export function podJson(
  namespace: string,
  name: string,
  ip: string | undefined,
  nodeName: string,
  labels: Record<string, string> = {},
): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels },
    spec: {
      nodeName,
      containers: [
        { name: 'c', image: 'registry.example/app:1', ports: [{ name: 'http', containerPort: 8080 }] },
      ],
    },
    status: ip ? { phase: 'Running', podIP: ip, podIPs: [{ ip }] } : { phase: 'Pending' },
  }
}

/** A namespace with labels. */
export function namespaceJson(name: string, labels: Record<string, string> = {}): JsonObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }
}

/** A NetworkPolicy: ingress to pods with app=<app> from pods with role=<from> on TCP port. */
export function allowFromJson(ns: string, name: string, app: string, from: string, port = 80): JsonObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: ns, name },
    spec: {
      podSelector: { matchLabels: { app } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: { role: from } } }], ports: [{ protocol: 'TCP', port }] },
      ],
    },
  }
}

/** A default-deny-ingress policy for a namespace. */
export function denyAllJson(ns: string, name = 'deny-all'): JsonObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: ns, name },
    spec: { podSelector: {}, policyTypes: ['Ingress'] },
  }
}

/** A NetworkPolicy the API server would reject (invalid CIDR). */
export function badPolicyJson(ns: string, name: string): JsonObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: ns, name },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }],
    },
  }
}

/**
 * A ClusterNetworkPolicy document (`---` first) of a tier and priority with `body` (its `ingress:`/`egress:`
 * lines, indented two spaces) over `subject` (every namespace by default).
 */
export const cnpYaml = (
  name: string,
  tier: string,
  priority: number,
  body: string,
  subject = '{namespaces: {}}',
): string => `---
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: ${name}}
spec:
  tier: ${tier}
  priority: ${priority}
  subject: ${subject}
${body}`
