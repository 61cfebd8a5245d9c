/**
 * Per-connection evaluation with reasons, one pair at a time: which policies isolate each side and which
 * of their rules admit the connection. Which pods a policy or a peer selects and which ports a rule
 * admits is src/semantics' reading. `check` and `explain` use it directly; the fast class-based matrix is
 * property-tested against it. Every special case cites docs/semantics.md.
 */
import type { ClusterPolicyTier, NetworkPolicy, Pod, PolicyRule, PolicyType } from '../model/index.js'
import { podKey, policyKey } from '../model/index.js'
import {
  addressOfFamily,
  clusterRulesOf,
  effectiveRule,
  familiesOf,
  matchClusterRule,
  matchPeer,
  matchRulePorts,
  pairFamily,
  peerMatcher,
  policySelectsPod,
} from '../semantics/index.js'
import { type ClusterIndex, policiesOf, tierPoliciesOf } from './cluster-index.js'
import type {
  ClusterRuleRef,
  DirectionVerdict,
  Endpoint,
  PolicyRef,
  PortQuery,
  RuleRef,
  Verdict,
} from './types.js'

/** Returns the addresses of an endpoint. */
export function endpointIPs(e: Endpoint): readonly string[] {
  switch (e.kind) {
    case 'pod':
      return e.pod.ips
    case 'ip':
      return [e.ip]
    case 'node':
      return e.ip ? [e.ip] : []
  }
}

/** Returns a reference to a policy for verdicts. */
export function refOf(p: NetworkPolicy): PolicyRef {
  return { policy: policyKey(p), namespace: p.namespace, name: p.name, origin: p.origin, source: p.source }
}

/** Returns the policies of the given type that select the pod (only policy endpoints are selected). */
export function selectingPolicies(index: ClusterIndex, pod: Pod, direction: PolicyType): NetworkPolicy[] {
  return policiesOf(index, pod.namespace, direction).filter((p) => policySelectsPod(p, pod))
}

/**
 * Returns true when a rule admits the connection (peers absent = everyone, ports absent = every port);
 * which remote sides a peer matches is src/semantics' matchPeer.
 */
export function matchRule(
  index: ClusterIndex,
  rule: PolicyRule,
  policyNamespace: string,
  remote: Endpoint,
  remoteAddress: string | undefined,
  port: PortQuery,
  destination: Pod | undefined,
): boolean {
  if (!matchRulePorts(rule.ports, port, destination)) return false
  if (rule.peers === undefined) return true
  const pod = remote.kind === 'pod' ? remote.pod : undefined
  for (const peer of rule.peers) {
    if (matchPeer(index.namespaces, peerMatcher(peer, policyNamespace), pod, remoteAddress)) return true
  }
  return false
}

const OPEN_OUTSIDE: DirectionVerdict = {
  isolated: false,
  allowed: true,
  selectedBy: [],
  allowedBy: [],
  note: 'not-a-pod',
}

/**
 * Returns the first rule of a ClusterNetworkPolicy tier that matches the connection, in evaluation order
 * (policies by priority then name, rules in order: docs/semantics.md#cnp-tiers), or undefined when none
 * of the tier's policies that select the pod has a matching rule.
 */
export function matchTier(
  index: ClusterIndex,
  tier: ClusterPolicyTier,
  direction: PolicyType,
  pod: Pod,
  remote: Endpoint,
  remoteAddress: string | undefined,
  port: PortQuery,
  destination: Pod | undefined,
): ClusterRuleRef | undefined {
  const policies = tierPoliciesOf(index, tier, pod)
  if (policies.length === 0) return undefined
  const remotePod = remote.kind === 'pod' ? remote.pod : undefined
  for (const pol of policies) {
    const rules = clusterRulesOf(pol, direction)
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as (typeof rules)[number]
      const action = matchClusterRule(index, rule, remotePod, remoteAddress, port, destination)
      if (action === undefined) continue
      return {
        policy: pol.name,
        tier,
        priority: pol.priority,
        direction,
        rule: i,
        ...(rule.name ? { ruleName: rule.name } : {}),
        action,
        ...(effectiveRule(rule).kind === 'deny-all' ? { failClosed: true as const } : {}),
        ...(pol.source ? { source: pol.source } : {}),
        ...(rule.source ? { ruleSource: rule.source } : {}),
      }
    }
  }
  return undefined
}

/**
 * Evaluates one direction for the pod on that side of the connection, tier by tier
 * (docs/semantics.md#cnp-tiers): Admin ClusterNetworkPolicies, then NetworkPolicies (final for the pods
 * they isolate), then Baseline ClusterNetworkPolicies, then the default: allowed.
 */
function evaluateDirection(
  index: ClusterIndex,
  direction: PolicyType,
  subject: Endpoint,
  remote: Endpoint,
  remoteAddress: string | undefined,
  port: PortQuery,
  destination: Pod | undefined,
): DirectionVerdict {
  if (subject.kind !== 'pod') return OPEN_OUTSIDE
  if (subject.pod.hostNetwork)
    return { isolated: false, allowed: true, selectedBy: [], allowedBy: [], note: 'host-network' }
  const pod = subject.pod
  const selecting = selectingPolicies(index, pod, direction)
  const passedBy: ClusterRuleRef[] = []
  const decided = (ref: ClusterRuleRef): DirectionVerdict => ({
    isolated: selecting.length > 0,
    allowed: ref.action === 'Accept',
    selectedBy: selecting.map(refOf),
    allowedBy: [],
    note: ref.action === 'Accept' ? 'cluster-policy-accept' : 'cluster-policy-deny',
    tier: ref.tier,
    decidedBy: ref,
    ...(passedBy.length > 0 ? { passedBy } : {}),
  })
  const admin = matchTier(index, 'Admin', direction, pod, remote, remoteAddress, port, destination)
  if (admin) {
    if (admin.action !== 'Pass') return decided(admin)
    passedBy.push(admin)
  }
  const passed = passedBy.length > 0 ? { passedBy } : {}
  if (selecting.length > 0) {
    const allowedBy: RuleRef[] = []
    for (const pol of selecting) {
      const rules = direction === 'Ingress' ? pol.ingress : pol.egress
      rules.forEach((rule, i) => {
        if (matchRule(index, rule, pol.namespace, remote, remoteAddress, port, destination)) {
          allowedBy.push({ ...refOf(pol), direction, rule: i, ruleSource: rule.source })
        }
      })
    }
    return {
      isolated: true,
      allowed: allowedBy.length > 0,
      selectedBy: selecting.map(refOf),
      allowedBy,
      note: allowedBy.length > 0 ? 'allowed-by-rule' : 'no-rule-matched',
      tier: 'NetworkPolicy',
      ...passed,
    }
  }
  const baseline = matchTier(index, 'Baseline', direction, pod, remote, remoteAddress, port, destination)
  if (baseline) {
    if (baseline.action !== 'Pass') return decided(baseline)
    passedBy.push(baseline)
  }
  return {
    isolated: false,
    allowed: true,
    selectedBy: [],
    allowedBy: [],
    note: 'not-isolated',
    tier: 'default',
    ...(passedBy.length > 0 ? { passedBy } : {}),
  }
}

/** Returns the node an endpoint runs on, when it is a pod or a node. */
function nodeOf(e: Endpoint): string | undefined {
  if (e.kind === 'node') return e.node
  if (e.kind === 'pod') return e.pod.nodeName
  return undefined
}

/** Returns true when a node (or a hostNetwork pod, which is the node) talks to a pod on that same node. */
function isSameNodeHost(src: Endpoint, dst: Endpoint): boolean {
  const hostLike = (e: Endpoint) => e.kind === 'node' || (e.kind === 'pod' && e.pod.hostNetwork)
  if (!hostLike(src) && !hostLike(dst)) return false
  const a = nodeOf(src)
  const b = nodeOf(dst)
  return a !== undefined && a === b
}

const ALWAYS: DirectionVerdict = {
  isolated: false,
  allowed: true,
  selectedBy: [],
  allowedBy: [],
  note: 'not-isolated',
}

/**
 * Decides whether src may open a connection to dst on the port: src's egress AND dst's ingress,
 * each with the policies that isolate it and every rule that admits the connection.
 */
export function evaluate(index: ClusterIndex, src: Endpoint, dst: Endpoint, port: PortQuery): Verdict {
  if (src.kind === 'pod' && dst.kind === 'pod' && podKey(src.pod) === podKey(dst.pod)) {
    return { allowed: true, egress: ALWAYS, ingress: ALWAYS, note: 'loopback' }
  }
  const srcIPs = endpointIPs(src)
  const dstIPs = endpointIPs(dst)
  const family = pairFamily(familiesOf(srcIPs), familiesOf(dstIPs))
  const srcAddress = addressOfFamily(srcIPs, family)
  const dstAddress = addressOfFamily(dstIPs, family)
  const destination = dst.kind === 'pod' ? dst.pod : undefined
  const egress = evaluateDirection(index, 'Egress', src, dst, dstAddress, port, destination)
  const ingress = evaluateDirection(index, 'Ingress', dst, src, srcAddress, port, destination)
  if (isSameNodeHost(src, dst)) {
    // The facts stay true (isolated, by which policies); only the decision is the same-node rule's.
    const host = (d: DirectionVerdict): DirectionVerdict =>
      d.allowed ? d : { ...d, allowed: true, note: 'same-node-host' }
    return { allowed: true, egress: host(egress), ingress: host(ingress), note: 'same-node-host' }
  }
  // A pod with known addresses and an outside address of a family it has none of: no such connection
  // (docs/semantics.md#no-common-family). A pod without known addresses (a template) takes any family.
  if (
    family === undefined &&
    srcIPs.length > 0 &&
    dstIPs.length > 0 &&
    (src.kind === 'ip' || dst.kind === 'ip')
  ) {
    const outside = src.kind === 'ip' ? srcIPs : dstIPs
    const f = familiesOf(outside)[0]
    return {
      allowed: false,
      egress,
      ingress,
      note: 'no-common-family',
      ...(f === undefined ? {} : { family: f }),
    }
  }
  return { allowed: egress.allowed && ingress.allowed, egress, ingress }
}
