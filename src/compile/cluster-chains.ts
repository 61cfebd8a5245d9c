/**
 * The ClusterNetworkPolicy part of a node's structure (docs/semantics.md#cnp-tiers): one chain per
 * (policy, direction) whose subject selects a local pod, its rules in spec order with their actions, and
 * per local pod the Admin and Baseline chains in evaluation order (priority, then name:
 * docs/semantics.md#cnp-same-priority). Which pods a subject selects and what a peer matches is
 * src/semantics' answer; peers become the same deduplicated sets as NetworkPolicy peers (pods, CIDRs),
 * plus Node address sets for `nodes` peers.
 */
import {
  type ClusterNetworkPolicy,
  type ClusterPolicyPort,
  type ClusterPolicyRule,
  compareClusterPolicies,
  type Namespace,
  type PolicyPort,
  PROTOCOLS,
} from '../model/index.js'
import {
  buildNamespaceIndex,
  type ClusterPeerMatcher,
  clusterPeerMatchers,
  clusterPolicySelectsPod,
  clusterRulesOf,
  effectiveRule,
  type NamespaceIndex,
} from '../semantics/index.js'
import type { IRClusterChain, IRClusterRule, IRPodTiers } from './ir.js'
import { keyOf, type PodFacts } from './pod-facts.js'
import {
  type Builder,
  crossMatches,
  ipBlockMatches,
  nodesMatches,
  type PeerMatch,
  type PortPart,
  podsMatches,
  portPartsOf,
  type SetOwner,
} from './set-specs.js'

type Direction = 'Ingress' | 'Egress'

/** Per local pod key, its tiers in each direction (only directions some chain applies to). */
export type PodTiers = Map<string, Partial<Record<Direction, { admin: string[]; baseline: string[] }>>>

/** Returns the owner of a ClusterNetworkPolicy's sets ('cnp:<name>': no NetworkPolicy key has a colon). */
export function clusterPolicyOwner(pol: ClusterNetworkPolicy): SetOwner {
  return {
    key: `cnp:${pol.name}`,
    object: `ClusterNetworkPolicy ${pol.name}`,
    ...(pol.source ? { source: pol.source } : {}),
  }
}

/** Compiles the ClusterNetworkPolicies that select local pods into chains, and each pod's tiers. */
export function clusterChains(
  b: Builder,
  policies: readonly ClusterNetworkPolicy[],
  namespaces: readonly Namespace[],
  local: readonly PodFacts[],
  index?: NamespaceIndex,
): { chains: IRClusterChain[]; podTiers: PodTiers } {
  const chains: IRClusterChain[] = []
  const podTiers: PodTiers = new Map()
  if (policies.length === 0 || local.length === 0) return { chains, podTiers }
  const nsIndex = index ?? buildNamespaceIndex(namespaces)
  const seen = new Set<string>()
  for (const pol of [...policies].sort(compareClusterPolicies)) {
    const owner = clusterPolicyOwner(pol)
    if (seen.has(pol.name)) {
      b.diagnostics.push({
        code: 'compile.duplicate-policy',
        severity: 'warning',
        message: `ClusterNetworkPolicy ${pol.name} is given more than once; only the first is compiled`,
        object: owner.object,
        path: [],
        ...(pol.source ? { source: pol.source } : {}),
      })
      continue
    }
    seen.add(pol.name)
    const selected = local.filter((p) => clusterPolicySelectsPod(nsIndex, pol, p.pod))
    if (selected.length === 0) continue
    for (const direction of ['Ingress', 'Egress'] as const) {
      const rules = clusterRulesOf(pol, direction)
      if (rules.length === 0) continue
      const id = b.names.name(
        `cnp|${pol.name}|${direction}`,
        pol.tier === 'Admin' ? 'adm_' : 'bl_',
        pol.name,
        direction === 'Ingress' ? '_in' : '_eg',
      )
      chains.push({
        id,
        tier: pol.tier,
        policy: pol.name,
        priority: pol.priority,
        direction,
        rules: rules.map((r, i) => compileClusterRule(b, owner, direction, r, i)),
      })
      for (const p of selected) {
        let t = podTiers.get(keyOf(p))
        if (!t) {
          t = {}
          podTiers.set(keyOf(p), t)
        }
        const d = t[direction] ?? { admin: [], baseline: [] }
        t[direction] = d
        if (pol.tier === 'Admin') d.admin.push(id)
        else d.baseline.push(id)
      }
    }
  }
  return { chains, podTiers }
}

/** Returns a pod's tiers in one direction from the map built by clusterChains, naming its chains. */
export function tiersOf(
  b: Builder,
  podTiers: PodTiers,
  p: PodFacts,
  direction: Direction,
): IRPodTiers | undefined {
  const t = podTiers.get(keyOf(p))?.[direction]
  if (!t) return undefined
  const readable = `${p.pod.namespace}_${p.pod.name}`
  const short = direction === 'Ingress' ? 'in' : 'eg'
  return {
    chain: b.names.name(`tiers|${keyOf(p)}|${direction}`, `tier_${short}_`, readable),
    baselineChain: b.names.name(`baseline|${keyOf(p)}|${direction}`, `base_${short}_`, readable),
    admin: t.admin,
    baseline: t.baseline,
  }
}

/**
 * Groups a ClusterNetworkPolicy rule's protocols like NetworkPolicy ports (portPartsOf); a named port
 * matches whatever protocol the destination pod declares it with (docs/semantics.md#cnp-named-ports), so
 * it becomes one named-port match per protocol. Indices are those of `protocols`.
 */
function clusterPortParts(ports: readonly ClusterPolicyPort[]): PortPart[] {
  const flat: PolicyPort[] = []
  const origin: number[] = []
  ports.forEach((p, i) => {
    if (p.kind === 'port') {
      flat.push({
        protocol: p.protocol,
        port: p.port,
        ...(p.endPort !== undefined ? { endPort: p.endPort } : {}),
      })
      origin.push(i)
    } else
      for (const protocol of PROTOCOLS) {
        flat.push({ protocol, port: p.name })
        origin.push(i)
      }
  })
  return portPartsOf(flat).map((part) =>
    part.ports === undefined
      ? part
      : { ...part, ports: [...new Set(part.ports.map((k) => origin[k] as number))] },
  )
}

/** Returns the matches of one matcher of peer j (k: its index among the peer's matchers, a networks entry). */
function peerMatchesOf(
  b: Builder,
  owner: SetOwner,
  m: ClusterPeerMatcher,
  j: number,
  cidrPath: readonly (string | number)[],
): PeerMatch[] {
  if (m.kind === 'pods') return podsMatches(b, owner.key, m, j)
  if (m.kind === 'ipBlock') return ipBlockMatches(b, owner, m, j, cidrPath)
  if (m.kind === 'nodes') return nodesMatches(b, owner.key, m, j)
  return []
}

/** Compiles one rule of a ClusterNetworkPolicy: its action and its matches (peers x port groups x families). */
function compileClusterRule(
  b: Builder,
  owner: SetOwner,
  direction: Direction,
  rule: ClusterPolicyRule,
  index: number,
): IRClusterRule {
  const head = { rule: index, ...(rule.name !== undefined ? { name: rule.name } : {}) }
  const eff = effectiveRule(rule)
  if (eff.kind === 'matches-nothing') return { ...head, action: rule.action, matches: [] }
  if (eff.kind === 'deny-all')
    return { ...head, action: 'Deny', failClosed: true, matches: [{ rule: index }] }
  const field = direction === 'Ingress' ? 'ingress' : 'egress'
  const peerField = direction === 'Ingress' ? 'from' : 'to'
  const peers: PeerMatch[] = rule.peers.flatMap((peer, j) =>
    clusterPeerMatchers(peer).flatMap((m, k) =>
      peerMatchesOf(b, owner, m, j, ['spec', field, index, peerField, j, 'networks', k]),
    ),
  )
  const portParts: PortPart[] = rule.ports === undefined ? [{}] : clusterPortParts(rule.ports)
  const matches = crossMatches(b, owner.key, direction, index, peers, portParts)
  return { ...head, action: rule.action, matches }
}

/**
 * Returns the id of a pod's tier Deny chain in one direction (docs/dataplane.md#drop-counters-and-drop-logs):
 * where a ClusterNetworkPolicy Deny of the pod's tiers ends, so the drop is counted per pod. Derived from
 * the tier chain's id (`tier_` -> `deny_`, same length, unique as it is; no IR id starts with `deny_`).
 */
export function tierDenyChainId(t: IRPodTiers): string {
  return `deny_${t.chain.replace(/^tier_/, '')}`
}
