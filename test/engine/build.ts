/** Tiny builders for model values in engine tests (the YAML path is tested in test/load). */
import type {
  ClusterState,
  ContainerPort,
  LabelSelector,
  Namespace,
  NetworkPolicy,
  Pod,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
  PolicyType,
} from '../../src/model/index.js'

export const sel = (
  matchLabels: Record<string, string> = {},
  matchExpressions: LabelSelector['matchExpressions'] = [],
): LabelSelector => ({
  matchLabels,
  matchExpressions,
})

export const ns = (name: string, labels: Record<string, string> = {}): Namespace => ({
  name,
  labels: { 'kubernetes.io/metadata.name': name, ...labels },
  declared: true,
  defaultDenyIngress: false,
})

export const pod = (
  key: string,
  labels: Record<string, string>,
  ips: string[],
  extra: Partial<Pod> = {},
): Pod => {
  const [namespace, name] = key.split('/') as [string, string]
  const ports: ContainerPort[] = [
    { name: 'http', containerPort: 80, protocol: 'TCP' },
    { name: 'dns', containerPort: 53, protocol: 'UDP' },
  ]
  return { namespace, name, labels, ips, ports, nodeName: 'node-1', hostNetwork: false, ...extra }
}

export const rule = (peers?: PolicyPeer[], ports?: PolicyPort[]): PolicyRule => ({
  ...(peers ? { peers } : {}),
  ...(ports ? { ports } : {}),
})

export const policy = (
  key: string,
  podSelector: LabelSelector,
  spec: { types?: PolicyType[]; ingress?: PolicyRule[]; egress?: PolicyRule[] },
): NetworkPolicy => {
  const [namespace, name] = key.split('/') as [string, string]
  const ingress = spec.ingress ?? []
  const egress = spec.egress ?? []
  return {
    namespace,
    name,
    origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
    podSelector,
    policyTypes: spec.types ?? (egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress']),
    ingress,
    egress,
  }
}

export const cluster = (namespaces: Namespace[], pods: Pod[], policies: NetworkPolicy[]): ClusterState => ({
  namespaces,
  pods,
  policies,
})
