/** Small builders for model values, so explain tests do not depend on the loader. */
import type {
  ContainerPort,
  LabelSelector,
  Labels,
  Namespace,
  NetworkPolicy,
  Pod,
  PolicyRule,
  PolicyType,
} from '../../src/model/index.js'

export const sel = (matchLabels: Labels = {}): LabelSelector => ({ matchLabels, matchExpressions: [] })

export function ns(name: string, labels: Labels = {}, defaultDenyIngress = false): Namespace {
  return {
    name,
    labels: { 'kubernetes.io/metadata.name': name, ...labels },
    declared: true,
    defaultDenyIngress,
    source: { file: 'namespaces.yaml', line: 1 },
  }
}

export function pod(key: string, labels: Labels, ip: string, ports: ContainerPort[] = [], line = 1): Pod {
  const [namespace, name] = key.split('/') as [string, string]
  return {
    namespace,
    name,
    labels,
    ips: [ip],
    ports,
    hostNetwork: false,
    nodeName: 'node-1',
    source: { file: 'pods.yaml', line },
  }
}

export function policy(
  key: string,
  podSelector: LabelSelector,
  policyTypes: PolicyType[],
  ingress: PolicyRule[] = [],
  egress: PolicyRule[] = [],
  line = 1,
): NetworkPolicy {
  const [namespace, name] = key.split('/') as [string, string]
  const at = (r: PolicyRule, i: number): PolicyRule => ({
    ...r,
    source: { file: 'policies.yaml', line: line + 10 + i },
  })
  return {
    namespace,
    name,
    origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
    podSelector,
    policyTypes,
    ingress: ingress.map(at),
    egress: egress.map(at),
    source: { file: 'policies.yaml', line },
  }
}
