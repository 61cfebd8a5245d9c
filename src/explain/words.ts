/**
 * NetworkPolicy pieces in plain words: selectors, peers, ports, policy references.
 * Pure rendering: every function takes model values and returns text.
 */
import type { ClusterRuleRef, PolicyRef, RuleRef } from '../engine/index.js'
import type {
  ClusterPolicyPeer,
  ClusterPolicyPort,
  ClusterPolicyRule,
  LabelSelector,
  Pod,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
  SourceRef,
} from '../model/index.js'
import { isEmptySelector, renderSelector } from '../semantics/index.js'

/** Formats a source reference as file:line (file alone when the line is unknown). */
export function renderSource(src: SourceRef | undefined): string | undefined {
  if (!src) return undefined
  return src.line === undefined ? src.file : `${src.file}:${src.line}`
}

/** Appends ' (file:line)' when the source is known. */
function at(src: SourceRef | undefined): string {
  const s = renderSource(src)
  return s ? ` (${s})` : ''
}

/** Describes a selector: 'labelled app=nginx' for matchLabels only, 'matching tier in (a,b)' otherwise. */
export function describeSelector(sel: LabelSelector): string {
  const verb = sel.matchExpressions.length === 0 ? 'labelled' : 'matching'
  return `${verb} ${renderSelector(sel)}`
}

/**
 * Describes one peer of a rule in words, e.g. 'pods labelled app=nginx in namespace testing',
 * 'every pod in namespaces labelled ns=kube-system', 'addresses in 172.16.0.0/16 except 172.16.8.0/24'.
 */
export function describePeer(peer: PolicyPeer, policyNamespace: string): string {
  if (peer.ipBlock) {
    const except = peer.ipBlock.except.length > 0 ? ` except ${peer.ipBlock.except.join(', ')}` : ''
    return `addresses in ${peer.ipBlock.cidr}${except}`
  }
  const pods =
    peer.podSelector && !isEmptySelector(peer.podSelector)
      ? `pods ${describeSelector(peer.podSelector)}`
      : 'every pod'
  if (!peer.namespaceSelector) return `${pods} in namespace ${policyNamespace}`
  if (isEmptySelector(peer.namespaceSelector)) return `${pods} in every namespace`
  return `${pods} in namespaces ${describeSelector(peer.namespaceSelector)}`
}

/** Describes who a rule's peers are; absent peers mean everyone. */
export function describePeers(rule: PolicyRule, policyNamespace: string): string {
  if (rule.peers === undefined) return 'everyone (every pod in every namespace and every address)'
  return rule.peers.map((p) => describePeer(p, policyNamespace)).join('; or ')
}

/**
 * Describes one rule port: 'TCP 80', 'TCP 8000-8080', 'every TCP port', or a named port with its
 * resolution on the given pod when the pod is the destination ('named port http (TCP 80 on this pod)').
 */
export function describePort(p: PolicyPort, destination?: Pod): string {
  if (p.port === undefined) return `every ${p.protocol} port`
  if (typeof p.port === 'number')
    return p.endPort === undefined ? `${p.protocol} ${p.port}` : `${p.protocol} ${p.port}-${p.endPort}`
  const name = `named port ${p.port}`
  if (!destination)
    return `${name} (${p.protocol}, resolved on each destination pod; never an outside address)`
  const hits = destination.ports.filter((cp) => cp.name === p.port && cp.protocol === p.protocol)
  if (hits.length === 0) return `${name} (${p.protocol}; not declared by this pod: matches nothing here)`
  return `${name} (${hits.map((cp) => `${cp.protocol} ${cp.containerPort}`).join(', ')} on this pod)`
}

/** Describes a rule's ports; absent ports mean every port of every protocol. */
export function describePorts(rule: PolicyRule, destination?: Pod): string {
  if (rule.ports === undefined) return 'any port'
  return rule.ports.map((p) => describePort(p, destination)).join(', ')
}

/** Names a policy for people: 'testing/deny (f.yaml:3)' or the DefaultDeny annotation of a namespace. */
export function describePolicyRef(ref: PolicyRef): string {
  if (ref.origin.kind === 'DefaultDenyAnnotation') {
    return `the DefaultDeny annotation of namespace ${ref.namespace}${at(ref.source)}`
  }
  const legacy = ref.origin.apiVersion === 'extensions/v1beta1' ? ' [extensions/v1beta1]' : ''
  return `${ref.policy}${legacy}${at(ref.source)}`
}

/** Names a rule for people: 'testing/web ingress[0] (f.yaml:12)'. */
export function describeRuleRef(ref: RuleRef): string {
  const field = ref.direction === 'Ingress' ? 'ingress' : 'egress'
  return `${ref.policy} ${field}[${ref.rule}]${at(ref.ruleSource ?? ref.source)}`
}

/**
 * Names a ClusterNetworkPolicy rule for people, with its tier, priority, index, name and action:
 * 'Admin ClusterNetworkPolicy deny-metadata (priority 10) egress[0] "block-imds": Deny (f.yaml:12)'.
 */
export function describeClusterRuleRef(ref: ClusterRuleRef): string {
  const field = ref.direction === 'Ingress' ? 'ingress' : 'egress'
  const name = ref.ruleName ? ` "${ref.ruleName}"` : ''
  const closed = ref.failClosed ? ' (fails closed: a peer of a kind Palisade does not know)' : ''
  return `${ref.tier} ClusterNetworkPolicy ${ref.policy} (priority ${ref.priority}) ${field}[${ref.rule}]${name}: ${ref.action}${closed}${at(ref.ruleSource ?? ref.source)}`
}

/** Describes one ClusterNetworkPolicy peer in words ('pods labelled app=db in namespaces labelled x=y'). */
export function describeClusterPeer(peer: ClusterPolicyPeer): string {
  switch (peer.kind) {
    case 'namespaces':
      return describePeer({ namespaceSelector: peer.namespaceSelector }, '')
    case 'pods':
      return describePeer({ namespaceSelector: peer.namespaceSelector, podSelector: peer.podSelector }, '')
    case 'networks':
      return `addresses in ${peer.networks.join(', ')}`
    case 'nodes':
      return isEmptySelector(peer.nodeSelector)
        ? 'every node'
        : `nodes ${describeSelector(peer.nodeSelector)}`
    case 'domainNames':
      return `domain names ${peer.domainNames.join(', ')} (not analysed)`
    case 'unknown':
      return 'a peer of a kind Palisade does not know (the rule fails closed)'
  }
}

/** Describes a ClusterNetworkPolicy rule's protocols ('TCP 80, UDP 53', 'named port web', 'any port'). */
export function describeClusterPorts(rule: ClusterPolicyRule): string {
  if (rule.ports === undefined) return 'any port'
  return rule.ports
    .map((p: ClusterPolicyPort) =>
      p.kind === 'named'
        ? `named port ${p.name} (any protocol, resolved on each destination pod)`
        : p.endPort === undefined
          ? `${p.protocol} ${p.port}`
          : `${p.protocol} ${p.port}-${p.endPort}`,
    )
    .join(', ')
}
