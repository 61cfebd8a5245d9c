/** Renders one engine Verdict (src -> dst on a port) as text for `check -o text`. Never recomputes. */
import type { DirectionVerdict, Verdict } from '../engine/index.js'
import { describeClusterRuleRef, describePolicyRef, describeRuleRef } from './words.js'

/** Explains why a direction was decided the way it was, in one line (plus the rules that admitted it). */
function renderDirection(
  d: DirectionVerdict,
  direction: 'Ingress' | 'Egress',
  port: string,
  remote: string,
): string {
  const selected = d.selectedBy.map(describePolicyRef).join(', ')
  const passed =
    d.passedBy && d.passedBy.length > 0
      ? `\n    passed on by ${d.passedBy.map(describeClusterRuleRef).join(', then ')}`
      : ''
  return renderNote(d, direction, port, remote, selected) + passed
}

function renderNote(
  d: DirectionVerdict,
  direction: 'Ingress' | 'Egress',
  port: string,
  remote: string,
  selected: string,
): string {
  switch (d.note) {
    case 'cluster-policy-accept':
    case 'cluster-policy-deny': {
      const word = d.note === 'cluster-policy-accept' ? 'allowed' : 'denied'
      const by = d.decidedBy ? describeClusterRuleRef(d.decidedBy) : 'a ClusterNetworkPolicy'
      const np =
        d.tier === 'Admin' && d.selectedBy.length > 0
          ? `\n    (NetworkPolicies ${selected} are not consulted: the Admin tier decided first)`
          : ''
      return `${word} by ${by}${np}`
    }
    case 'not-a-pod':
      return 'allowed: not a pod, no NetworkPolicy applies on this side'
    case 'host-network':
      return 'allowed: hostNetwork pod, NetworkPolicy never selects it'
    case 'not-isolated':
      return d.passedBy && d.passedBy.length > 0
        ? `allowed: no NetworkPolicy with policyTypes ${direction} selects it and no Baseline rule decided (default allow)`
        : `allowed: not isolated (no policy with policyTypes ${direction} selects it)`
    case 'allowed-by-rule':
      return `allowed by ${d.allowedBy.map(describeRuleRef).join(', ')}\n    isolated by ${selected}`
    case 'same-node-host':
      if (d.decidedBy)
        return `allowed: the pod's own node always reaches it (docs/semantics.md#node-and-local-pods), although ${describeClusterRuleRef(d.decidedBy)} denies it`
      return `allowed: the pod's own node always reaches it (docs/semantics.md#node-and-local-pods), although isolated by ${selected} and none of their ${direction === 'Ingress' ? 'ingress' : 'egress'} rules admits it`
    case 'no-rule-matched': {
      const field = direction === 'Ingress' ? 'ingress' : 'egress'
      const towards = direction === 'Ingress' ? `from ${remote}` : `to ${remote}`
      return `denied: isolated by ${selected}; none of their ${field} rules admits ${port} ${towards}`
    }
  }
}

/**
 * Renders a verdict as a few lines: the answer, then egress of the source and ingress of the destination,
 * each with the policies that isolate it and the rules (file:line) that admitted the connection.
 */
export function renderVerdict(v: Verdict, src: string, dst: string, port: string): string {
  if (v.note === 'no-common-family') {
    const pod = v.egress.note === 'not-a-pod' ? dst : src
    const family = v.family === undefined ? 'such' : `IPv${v.family}`
    return `${src} -> ${dst} on ${port}: NO SUCH CONNECTION\n  no such connection: ${pod} has no ${family} address, so it can neither send to nor receive from one\n`
  }
  const head = `${src} -> ${dst} on ${port}: ${v.allowed ? 'ALLOWED' : 'DENIED'}`
  if (v.note === 'loopback')
    return `${head}\n  a pod may always reach itself (loopback inside its own network namespace)\n`
  return [
    head,
    ...(v.note === 'same-node-host'
      ? ['  a node and the pods running on it may always talk (kubelet probes; FORWARD hook only)']
      : []),
    `  egress from ${src}: ${renderDirection(v.egress, 'Egress', port, dst)}`,
    `  ingress to ${dst}: ${renderDirection(v.ingress, 'Ingress', port, src)}`,
    '',
  ].join('\n')
}
