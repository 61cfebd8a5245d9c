/**
 * Per-pod explanation: which policies select the pod, whether each direction is isolated and why, what
 * every rule of every selecting policy admits (in words), and the effective summary. The facts come from
 * the engine (selectingPolicies) and src/semantics (which pods a peer matches); this module only arranges
 * and renders them.
 */
import { type ClusterIndex, refOf, selectingPolicies } from '../engine/index.js'
import type {
  ClusterNetworkPolicy,
  ClusterPolicyTier,
  NetworkPolicy,
  Pod,
  PolicyRule,
  PolicyType,
} from '../model/index.js'
import { podKey } from '../model/index.js'
import {
  ALL_PEERS,
  buildPodIndex,
  clusterPolicySelectsPod,
  clusterRulesOf,
  matchPeerPod,
  type PeerMatcher,
  type PodIndex,
  peerMatcher,
  renderSelector,
  selectPods,
} from '../semantics/index.js'
import {
  describeClusterPeer,
  describeClusterPorts,
  describePeers,
  describePolicyRef,
  describePorts,
  renderSource,
} from './words.js'

export interface RuleExplanation {
  /** Index in spec.ingress / spec.egress. */
  readonly rule: number
  readonly source?: string
  /** Who, in words ('pods labelled app=nginx in namespace testing'). */
  readonly peers: string
  /** Which ports, in words ('TCP 80', 'any port', 'named port http (TCP 80 on this pod)'). */
  readonly ports: string
  /** Pods of the cluster the peers match now (selectors, or ipBlocks covering their addresses), sorted. */
  readonly matchingPods: readonly string[]
}

export interface PolicyExplanation {
  readonly policy: string
  /** 'NetworkPolicy networking.k8s.io/v1', 'NetworkPolicy extensions/v1beta1' or 'DefaultDenyAnnotation'. */
  readonly origin: string
  readonly source?: string
  /** Rendered name with its source, as used in text. */
  readonly title: string
  readonly rules: readonly RuleExplanation[]
}

/** A ClusterNetworkPolicy rule that applies to the pod in a direction (docs/semantics.md#cnp-tiers). */
export interface ClusterRuleExplanation {
  readonly policy: string
  readonly tier: ClusterPolicyTier
  readonly priority: number
  /** Index in spec.ingress / spec.egress. */
  readonly rule: number
  readonly name?: string
  readonly action: string
  readonly peers: string
  readonly ports: string
  readonly source?: string
}

export interface DirectionExplanation {
  /** Admin-tier rules that apply to the pod, in evaluation order (they decide before any NetworkPolicy). */
  readonly admin?: readonly ClusterRuleExplanation[]
  /** Baseline-tier rules that apply to the pod, in order (they decide only when no NetworkPolicy isolates it). */
  readonly baseline?: readonly ClusterRuleExplanation[]
  readonly isolated: boolean
  /** Why the direction is (not) isolated. */
  readonly reason: string
  readonly policies: readonly PolicyExplanation[]
  /** The effective result in one line ('only from ... on TCP 80', 'denied entirely', 'open'). */
  readonly summary: string
}

export interface PodExplanation {
  readonly pod: string
  readonly source?: string
  readonly labels: string
  readonly hostNetwork: boolean
  /** Every policy selecting the pod, with the policy types it has. */
  readonly selectedBy: readonly {
    readonly policy: string
    readonly source?: string
    readonly policyTypes: readonly PolicyType[]
  }[]
  readonly ingress: DirectionExplanation
  readonly egress: DirectionExplanation
  /** 'ingress: ...; egress: ...' */
  readonly summary: string
}

/** What explaining reads: the engine's index and, built on first use, the pod index of the cluster. */
interface Lookup {
  readonly index: ClusterIndex
  podIndex?: PodIndex<Pod>
}

/** Returns the pods a peer matches now (sorted keys): selector peers via the pod index, ipBlocks on any address. */
function podsMatching(lookup: Lookup, m: PeerMatcher): string[] {
  const { index } = lookup
  let pods: readonly Pod[]
  if (m.kind === 'pods') {
    lookup.podIndex ??= buildPodIndex(index.cluster.pods, (p) => p)
    pods = selectPods(lookup.podIndex, index.namespaces, m)
  } else pods = index.cluster.pods.filter((pod) => matchPeerPod(index.namespaces, m, pod))
  return pods.map(podKey).sort()
}

/** Explains one rule; named ports are resolved on the subject pod for ingress (it is the destination). */
function explainRule(
  lookup: Lookup,
  pol: NetworkPolicy,
  rule: PolicyRule,
  i: number,
  subject: Pod,
  direction: PolicyType,
): RuleExplanation {
  const matchers = rule.peers?.map((p) => peerMatcher(p, pol.namespace)) ?? [ALL_PEERS]
  const matching = [...new Set(matchers.flatMap((m) => podsMatching(lookup, m)))].sort()
  const source = renderSource(rule.source)
  return {
    rule: i,
    ...(source ? { source } : {}),
    peers: describePeers(rule, pol.namespace),
    ports: describePorts(rule, direction === 'Ingress' ? subject : undefined),
    matchingPods: matching,
  }
}

function originText(pol: NetworkPolicy): string {
  return pol.origin.kind === 'DefaultDenyAnnotation'
    ? 'DefaultDenyAnnotation'
    : `NetworkPolicy ${pol.origin.apiVersion}`
}

/** Summarises what a direction lets through. */
function summarise(
  direction: PolicyType,
  isolated: boolean,
  policies: readonly NetworkPolicy[],
  subject: Pod,
  admin = 0,
  baseline = 0,
): string {
  const plain = summariseNetworkPolicy(direction, isolated, policies, subject)
  if (subject.hostNetwork || (admin === 0 && baseline === 0)) return plain
  const before = admin > 0 ? `after ${admin} Admin rule(s) (above), ` : ''
  const after = baseline > 0 ? `, then ${baseline} Baseline rule(s) (above)` : ''
  return `${before}${plain}${after}`
}

/** Summarises what the NetworkPolicies of a direction let through. */
function summariseNetworkPolicy(
  direction: PolicyType,
  isolated: boolean,
  policies: readonly NetworkPolicy[],
  subject: Pod,
): string {
  if (subject.hostNetwork) return 'not subject to NetworkPolicy (hostNetwork)'
  if (!isolated)
    return direction === 'Ingress' ? 'open (from everyone on any port)' : 'open (to everyone on any port)'
  const rules = policies.flatMap((p) =>
    (direction === 'Ingress' ? p.ingress : p.egress).map((r) => ({ p, r })),
  )
  if (rules.length === 0) return 'denied entirely'
  const open = rules.find(({ r }) => r.peers === undefined && r.ports === undefined)
  if (open)
    return `open: ${open.p.namespace}/${open.p.name} ${direction === 'Ingress' ? 'ingress' : 'egress'}[${rules.filter((x) => x.p === open.p).findIndex((x) => x.r === open.r)}] admits everyone on any port`
  const word = direction === 'Ingress' ? 'from' : 'to'
  const parts = rules.map(
    ({ p, r }) =>
      `${word} ${describePeers(r, p.namespace)} on ${describePorts(r, direction === 'Ingress' ? subject : undefined)}`,
  )
  return `only ${[...new Set(parts)].join(', or ')}`
}

/** Explains one direction for a pod. */
function explainDirection(lookup: Lookup, pod: Pod, direction: PolicyType): DirectionExplanation {
  const selecting = selectingPolicies(lookup.index, pod, direction)
  const isolated = selecting.length > 0
  let reason: string
  if (pod.hostNetwork) reason = 'not isolated: hostNetwork pods are not NetworkPolicy endpoints'
  else if (!isolated) reason = `not isolated: no policy with policyTypes ${direction} selects it`
  else reason = `isolated: selected by ${selecting.map((p) => describePolicyRef(refOf(p))).join(', ')}`
  const policies = selecting.map((pol): PolicyExplanation => {
    const source = renderSource(pol.source)
    const rules = direction === 'Ingress' ? pol.ingress : pol.egress
    return {
      policy: `${pol.namespace}/${pol.name}`,
      origin: originText(pol),
      ...(source ? { source } : {}),
      title: describePolicyRef(refOf(pol)),
      rules: rules.map((r, i) => explainRule(lookup, pol, r, i, pod, direction)),
    }
  })
  const admin = clusterRules(lookup.index, 'Admin', pod, direction)
  const baseline = clusterRules(lookup.index, 'Baseline', pod, direction)
  return {
    ...(admin.length > 0 ? { admin } : {}),
    ...(baseline.length > 0 ? { baseline } : {}),
    isolated,
    reason,
    policies,
    summary: summarise(direction, isolated, selecting, pod, admin.length, isolated ? 0 : baseline.length),
  }
}

/** The rules of a tier's ClusterNetworkPolicies that select the pod, in evaluation order. */
function clusterRules(
  index: ClusterIndex,
  tier: ClusterPolicyTier,
  pod: Pod,
  direction: PolicyType,
): ClusterRuleExplanation[] {
  return index.tiers[tier]
    .filter((pol: ClusterNetworkPolicy) => clusterPolicySelectsPod(index.namespaces, pol, pod))
    .flatMap((pol) =>
      clusterRulesOf(pol, direction).map((r, i) => {
        const source = renderSource(r.source ?? pol.source)
        return {
          policy: pol.name,
          tier,
          priority: pol.priority,
          rule: i,
          ...(r.name ? { name: r.name } : {}),
          action: r.action,
          peers: r.peers.map(describeClusterPeer).join('; or '),
          ports: describeClusterPorts(r),
          ...(source ? { source } : {}),
        }
      }),
    )
}

/** Collects the explanation of one pod from the engine's facts. */
export function explainPod(index: ClusterIndex, pod: Pod): PodExplanation {
  return explainPodWith({ index }, pod)
}

/** Explains one pod with a lookup shared by the pods of one run. */
function explainPodWith(lookup: Lookup, pod: Pod): PodExplanation {
  const index = lookup.index
  const ingress = explainDirection(lookup, pod, 'Ingress')
  const egress = explainDirection(lookup, pod, 'Egress')
  const selected = new Map<string, { policy: string; source?: string; policyTypes: PolicyType[] }>()
  for (const direction of ['Ingress', 'Egress'] as const) {
    for (const pol of selectingPolicies(index, pod, direction)) {
      const key = `${pol.namespace}/${pol.name}`
      const entry = selected.get(key) ?? {
        policy: key,
        ...(pol.source ? { source: renderSource(pol.source) as string } : {}),
        policyTypes: [],
      }
      entry.policyTypes.push(direction)
      selected.set(key, entry)
    }
  }
  const source = renderSource(pod.source)
  return {
    pod: podKey(pod),
    ...(source ? { source } : {}),
    labels: renderSelector({ matchLabels: pod.labels, matchExpressions: [] }),
    hostNetwork: pod.hostNetwork,
    selectedBy: [...selected.values()],
    ingress,
    egress,
    summary: `ingress: ${ingress.summary}; egress: ${egress.summary}`,
  }
}

/** Collects explanations for every pod of the cluster, sorted by namespace/name. */
export function explainPods(index: ClusterIndex): PodExplanation[] {
  const lookup: Lookup = { index }
  return [...index.cluster.pods]
    .sort((a, b) => (podKey(a) < podKey(b) ? -1 : podKey(a) > podKey(b) ? 1 : 0))
    .map((p) => explainPodWith(lookup, p))
}

const MAX_LISTED = 8

/** Lists pod keys, shortened after a few. */
function listPods(pods: readonly string[]): string {
  if (pods.length === 0) return 'no pod in the input'
  const shown = pods.slice(0, MAX_LISTED).join(', ')
  return pods.length > MAX_LISTED ? `${shown}, ... (${pods.length} pods)` : shown
}

function renderDirectionText(d: DirectionExplanation, direction: PolicyType): string[] {
  const field = direction === 'Ingress' ? 'ingress' : 'egress'
  const word = direction === 'Ingress' ? 'from' : 'to'
  const lines = [`  ${field}: ${d.reason}`]
  const cluster = (tier: string, rules: readonly ClusterRuleExplanation[] | undefined, when: string) => {
    if (!rules || rules.length === 0) return
    lines.push(`    ${tier} tier (${when}):`)
    for (const r of rules) {
      const name = r.name ? ` "${r.name}"` : ''
      const where = r.source ? ` (${r.source})` : ''
      lines.push(
        `      ${r.policy} (priority ${r.priority}) ${field}[${r.rule}]${name}${where}: ${r.action} ${word} ${r.peers} on ${r.ports}`,
      )
    }
  }
  cluster('Admin', d.admin, 'first, before any NetworkPolicy')
  for (const p of d.policies) {
    if (p.rules.length === 0) {
      lines.push(`    ${p.title}: no ${field} rules (admits nothing)`)
      continue
    }
    for (const r of p.rules) {
      const where = r.source ? ` (${r.source})` : ''
      lines.push(`    ${p.policy} ${field}[${r.rule}]${where}: ${word} ${r.peers} on ${r.ports}`)
      lines.push(`      pods matched now: ${listPods(r.matchingPods)}`)
    }
  }
  cluster(
    'Baseline',
    d.baseline,
    d.isolated ? 'not reached: NetworkPolicy isolates it' : 'when nothing above decided',
  )
  return lines
}

/** Renders one pod's explanation as text. */
export function renderPodExplanation(e: PodExplanation): string {
  const lines = [
    `pod ${e.pod}${e.source ? ` (${e.source})` : ''} labels ${e.labels}${e.hostNetwork ? ' hostNetwork' : ''}`,
  ]
  const tiered = [e.ingress, e.egress].some((d) => d.admin !== undefined || d.baseline !== undefined)
  if (e.selectedBy.length === 0)
    lines.push(
      tiered
        ? '  selected by: no NetworkPolicy (ClusterNetworkPolicy rules below)'
        : '  selected by: no policy',
    )
  else {
    lines.push('  selected by:')
    for (const s of e.selectedBy)
      lines.push(`    ${s.policy}${s.source ? ` (${s.source})` : ''} [${s.policyTypes.join(', ')}]`)
  }
  lines.push(...renderDirectionText(e.ingress, 'Ingress'), ...renderDirectionText(e.egress, 'Egress'))
  lines.push(`  summary: ${e.summary}`)
  return `${lines.join('\n')}\n`
}

/** Renders several pod explanations separated by blank lines. */
export function renderPodExplanations(es: readonly PodExplanation[]): string {
  return es.map(renderPodExplanation).join('\n')
}
