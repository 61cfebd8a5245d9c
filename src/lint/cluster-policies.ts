/**
 * ClusterNetworkPolicy smells (docs/semantics.md#cnp-tiers): policies of one tier and priority whose rules
 * overlap with different actions (the API leaves their order to the implementation), a Pass with no
 * NetworkPolicy behind it, rules that an earlier rule (same policy, or a policy of higher precedence)
 * already decides for every connection, and Baseline rules that no connection reaches. Which pods a
 * subject or peer selects is src/semantics'; coverage between rules is structural (selectors, CIDRs,
 * ports), so it never depends on today's pods.
 */
import { selectingPolicies } from '../engine/index.js'
import {
  CATALOGUE,
  type ClusterNetworkPolicy,
  type ClusterPolicyPeer,
  type ClusterPolicyPort,
  type ClusterPolicyRule,
  cidrContainsCIDR,
  cidrLast,
  type Diagnostic,
  type FieldPath,
  type LintCode,
  type ParsedCIDR,
  type Pod,
  type PolicyType,
  parseCIDR,
  podKey,
  type RawObject,
} from '../model/index.js'
import {
  canonicalSelector,
  clusterPeerMatchers,
  clusterPolicySelectsPod,
  clusterRulesOf,
  effectiveRule,
  isEmptySelector,
  matchClusterPeerPod,
} from '../semantics/index.js'
import { type Ctx, field, listPods } from './semantic-context.js'

const DIRECTIONS: readonly PolicyType[] = ['Ingress', 'Egress']

interface At {
  readonly pol: ClusterNetworkPolicy
  readonly rule: ClusterPolicyRule
  readonly i: number
}

/** Reports a finding on a ClusterNetworkPolicy, at the exact position of `path` when the raw object is known. */
function reportCnp(
  ctx: Ctx,
  raws: ReadonlyMap<string, RawObject>,
  code: LintCode,
  pol: ClusterNetworkPolicy,
  path: FieldPath,
  message: string,
): void {
  const raw = raws.get(pol.name)
  const source = raw ? raw.locate(path) : pol.source
  const d: Diagnostic = {
    code,
    severity: CATALOGUE[code].severity,
    message,
    object: `ClusterNetworkPolicy ${pol.name}`,
    path,
    ...(source ? { source } : {}),
  }
  ctx.out.push(d)
}

/** Names a rule for people: 'Admin deny-imds (priority 10) egress[0] "imds"'. */
function ruleName(a: At, d: PolicyType): string {
  const name = a.rule.name ? ` "${a.rule.name}"` : ''
  return `${a.pol.tier} ${a.pol.name} (priority ${a.pol.priority}) ${field(d)}[${a.i}]${name}`
}

/** The action a rule takes once fail-closed is applied; undefined when it matches nothing. */
function actionOf(rule: ClusterPolicyRule): ClusterPolicyRule['action'] | undefined {
  const eff = effectiveRule(rule)
  if (eff.kind === 'matches-nothing') return undefined
  return eff.kind === 'deny-all' ? 'Deny' : eff.action
}

// --- structural coverage ---------------------------------------------------------------------

const EMPTY = (s: { matchLabels: object; matchExpressions: readonly unknown[] }) =>
  isEmptySelector(s as Parameters<typeof isEmptySelector>[0])

/** True when every endpoint peer b matches, peer a matches too. */
function peerCovers(a: ClusterPolicyPeer, b: ClusterPolicyPeer): boolean {
  if (b.kind === 'domainNames' || b.kind === 'unknown') return false
  switch (a.kind) {
    case 'namespaces':
      if (b.kind !== 'namespaces' && b.kind !== 'pods') return false
      return (
        EMPTY(a.namespaceSelector) ||
        canonicalSelector(a.namespaceSelector) === canonicalSelector(b.namespaceSelector)
      )
    case 'pods':
      if (b.kind !== 'pods' && b.kind !== 'namespaces') return false
      if (
        !EMPTY(a.namespaceSelector) &&
        canonicalSelector(a.namespaceSelector) !== canonicalSelector(b.namespaceSelector)
      )
        return false
      return (
        EMPTY(a.podSelector) ||
        (b.kind === 'pods' && canonicalSelector(a.podSelector) === canonicalSelector(b.podSelector))
      )
    case 'networks': {
      if (b.kind !== 'networks') return false
      const mine = a.networks.map(parseCIDR).filter((c): c is ParsedCIDR => c !== undefined)
      return b.networks.every((t) => {
        const c = parseCIDR(t)
        return c !== undefined && mine.some((m) => cidrContainsCIDR(m, c))
      })
    }
    case 'nodes':
      return (
        b.kind === 'nodes' &&
        (EMPTY(a.nodeSelector) || canonicalSelector(a.nodeSelector) === canonicalSelector(b.nodeSelector))
      )
    case 'domainNames':
    case 'unknown':
      return false
  }
}

function portCovers(a: ClusterPolicyPort, b: ClusterPolicyPort): boolean {
  if (a.kind === 'named' || b.kind === 'named')
    return a.kind === 'named' && b.kind === 'named' && a.name === b.name
  return a.protocol === b.protocol && a.port <= b.port && (a.endPort ?? a.port) >= (b.endPort ?? b.port)
}

/** True when every connection rule b matches (for the same subject), rule a matches too. */
function ruleCovers(a: ClusterPolicyRule, b: ClusterPolicyRule): boolean {
  if (effectiveRule(a).kind === 'deny-all') return true
  if (actionOf(a) === undefined || actionOf(b) === undefined) return false
  if (effectiveRule(b).kind === 'deny-all') return false
  if (
    a.ports !== undefined &&
    (b.ports === undefined || !b.ports.every((p) => a.ports?.some((q) => portCovers(q, p))))
  )
    return false
  return b.peers.every((p) => a.peers.some((q) => peerCovers(q, p)))
}

function cidrsOverlap(a: ParsedCIDR, b: ParsedCIDR): boolean {
  return a.family === b.family && a.base <= cidrLast(b) && b.base <= cidrLast(a)
}

function portsOverlap(
  a: readonly ClusterPolicyPort[] | undefined,
  b: readonly ClusterPolicyPort[] | undefined,
) {
  if (a === undefined || b === undefined) return true
  return a.some((p) =>
    b.some((q) => {
      // A named port may resolve to any number: it may meet anything.
      if (p.kind === 'named' || q.kind === 'named') return true
      return p.protocol === q.protocol && p.port <= (q.endPort ?? q.port) && q.port <= (p.endPort ?? p.port)
    }),
  )
}

/** True when some connection could match both rules (pods by today's pods, addresses by CIDR). */
function rulesOverlap(ctx: Ctx, a: ClusterPolicyRule, b: ClusterPolicyRule): boolean {
  if (actionOf(a) === undefined || actionOf(b) === undefined) return false
  if (effectiveRule(a).kind === 'deny-all' || effectiveRule(b).kind === 'deny-all') return true
  if (!portsOverlap(a.ports, b.ports)) return false
  for (const p of a.peers)
    for (const q of b.peers) {
      if (peerCovers(p, q) || peerCovers(q, p)) return true
      if (p.kind === 'networks' && q.kind === 'networks') {
        const qs = q.networks.map(parseCIDR).filter((c): c is ParsedCIDR => c !== undefined)
        if (p.networks.map(parseCIDR).some((c) => c !== undefined && qs.some((d) => cidrsOverlap(c, d))))
          return true
      }
      if (ctx.hasPods && p.kind !== 'nodes' && q.kind !== 'nodes') {
        const mp = clusterPeerMatchers(p)
        const mq = clusterPeerMatchers(q)
        const hit = ctx.cluster.pods.some(
          (pod) =>
            mp.some((m) => matchClusterPeerPod(ctx.index, m, pod)) &&
            mq.some((m) => matchClusterPeerPod(ctx.index, m, pod)),
        )
        if (hit) return true
      }
      if (p.kind === 'nodes' && q.kind === 'nodes') return true
    }
  return false
}

/** Pods a ClusterNetworkPolicy selects. */
function subjects(ctx: Ctx, pol: ClusterNetworkPolicy): Pod[] {
  return ctx.cluster.pods.filter((p) => clusterPolicySelectsPod(ctx.index.namespaces, pol, p))
}

/** True when policy a selects every pod policy b selects (today's pods; structurally without pods). */
function subjectCovers(ctx: Ctx, a: ClusterNetworkPolicy, b: ClusterNetworkPolicy): boolean {
  if (ctx.hasPods) {
    const mine = new Set(subjects(ctx, a).map(podKey))
    const theirs = subjects(ctx, b)
    return theirs.length > 0 && theirs.every((p) => mine.has(podKey(p)))
  }
  const sa = a.subject
  const sb = b.subject
  const nsOk =
    EMPTY(sa.namespaceSelector) ||
    canonicalSelector(sa.namespaceSelector) === canonicalSelector(sb.namespaceSelector)
  if (!nsOk) return false
  if (sa.kind === 'namespaces') return true
  return (
    EMPTY(sa.podSelector) ||
    (sb.kind === 'pods' && canonicalSelector(sa.podSelector) === canonicalSelector(sb.podSelector))
  )
}

/** True when the two policies may select a common pod. */
function subjectsOverlap(ctx: Ctx, a: ClusterNetworkPolicy, b: ClusterNetworkPolicy): boolean {
  if (!ctx.hasPods) return subjectCovers(ctx, a, b) || subjectCovers(ctx, b, a)
  const mine = new Set(subjects(ctx, a).map(podKey))
  return subjects(ctx, b).some((p) => mine.has(podKey(p)))
}

// --- the checks ----------------------------------------------------------------------------------

/** Two policies of one tier and priority with overlapping rules of different actions. */
function checkSamePriority(
  ctx: Ctx,
  raws: ReadonlyMap<string, RawObject>,
  policies: readonly ClusterNetworkPolicy[],
) {
  for (let x = 0; x < policies.length; x++)
    for (let y = x + 1; y < policies.length; y++) {
      const a = policies[x] as ClusterNetworkPolicy
      const b = policies[y] as ClusterNetworkPolicy
      if (a.tier !== b.tier || a.priority !== b.priority || !subjectsOverlap(ctx, a, b)) continue
      let found: string | undefined
      for (const d of DIRECTIONS) {
        clusterRulesOf(a, d).forEach((ra, i) => {
          clusterRulesOf(b, d).forEach((rb, j) => {
            if (found || actionOf(ra) === actionOf(rb) || !rulesOverlap(ctx, ra, rb)) return
            found = `${field(d)}[${i}] (${actionOf(ra)}) and ${b.name} ${field(d)}[${j}] (${actionOf(rb)})`
          })
        })
      }
      if (!found) continue
      reportCnp(
        ctx,
        raws,
        'lint.cnp-same-priority-overlap',
        b,
        ['spec', 'priority'],
        `${a.tier} policies ${a.name} and ${b.name} both have priority ${a.priority} and select common pods; their rules ${a.name} ${found} can match the same connection with different actions: the API lets an implementation apply either (Palisade applies ${a.name} first, by name: docs/semantics.md#cnp-same-priority); give them different priorities`,
      )
    }
}

/** A Pass rule whose pods no NetworkPolicy of that direction selects. */
function checkPass(ctx: Ctx, raws: ReadonlyMap<string, RawObject>, pol: ClusterNetworkPolicy) {
  if (!ctx.hasPods) return
  const pods = subjects(ctx, pol)
  if (pods.length === 0) return
  for (const d of DIRECTIONS) {
    clusterRulesOf(pol, d).forEach((rule, i) => {
      if (actionOf(rule) !== 'Pass') return
      const path: FieldPath = ['spec', field(d), i, 'action']
      if (pol.tier === 'Baseline') {
        reportCnp(
          ctx,
          raws,
          'lint.cnp-pass-without-networkpolicy',
          pol,
          path,
          `Pass in the Baseline tier hands the traffic to nothing but the default, which allows it: use Accept to say so (or Deny)`,
        )
        return
      }
      const unselected = pods.filter((p) => selectingPolicies(ctx.index, p, d).length === 0).map(podKey)
      if (unselected.length < pods.length) return
      reportCnp(
        ctx,
        raws,
        'lint.cnp-pass-without-networkpolicy',
        pol,
        path,
        `Pass hands the traffic to NetworkPolicy, but no NetworkPolicy with policyTypes ${d} selects the pods of this policy (${listPods(unselected)}): it goes on to the Baseline tier, or is allowed by default`,
      )
    })
  }
}

/** Rules an earlier rule of the same policy, or of a policy of higher precedence in the tier, decides first. */
function checkShadowed(
  ctx: Ctx,
  raws: ReadonlyMap<string, RawObject>,
  policies: readonly ClusterNetworkPolicy[],
) {
  for (const pol of policies) {
    for (const d of DIRECTIONS) {
      clusterRulesOf(pol, d).forEach((rule, i) => {
        if (actionOf(rule) === undefined) return
        const earlier: At[] = []
        for (let j = 0; j < i; j++)
          earlier.push({ pol, rule: clusterRulesOf(pol, d)[j] as ClusterPolicyRule, i: j })
        for (const other of policies) {
          if (other === pol || other.tier !== pol.tier || other.priority >= pol.priority) continue
          if (!subjectCovers(ctx, other, pol)) continue
          clusterRulesOf(other, d).forEach((r, j) => {
            earlier.push({ pol: other, rule: r, i: j })
          })
        }
        const by = earlier.find((e) => actionOf(e.rule) !== undefined && ruleCovers(e.rule, rule))
        if (!by) return
        reportCnp(
          ctx,
          raws,
          'lint.cnp-rule-shadowed',
          pol,
          ['spec', field(d), i],
          `${field(d)}[${i}] (${rule.action}) is never reached: every connection it matches is decided first by ${ruleName(by, d)} (${actionOf(by.rule)})`,
        )
      })
    }
  }
}

/** Baseline rules no connection reaches: NetworkPolicies or the Admin tier decide all of their traffic. */
function checkBaselineReach(
  ctx: Ctx,
  raws: ReadonlyMap<string, RawObject>,
  policies: readonly ClusterNetworkPolicy[],
) {
  const admin = policies.filter((p) => p.tier === 'Admin')
  for (const pol of policies) {
    if (pol.tier !== 'Baseline') continue
    const pods = ctx.hasPods ? subjects(ctx, pol) : []
    for (const d of DIRECTIONS) {
      const rules = clusterRulesOf(pol, d)
      if (rules.length === 0) continue
      if (pods.length > 0 && pods.every((p) => selectingPolicies(ctx.index, p, d).length > 0)) {
        reportCnp(
          ctx,
          raws,
          'lint.cnp-baseline-unreachable',
          pol,
          ['spec', field(d)],
          `every pod this Baseline policy selects (${listPods(pods.map(podKey))}) is isolated for ${field(d)} by a NetworkPolicy, which decides all of their ${field(d)} traffic: its ${field(d)} rules are never reached`,
        )
        continue
      }
      // An Admin Accept/Deny that covers the rule, for all of its pods, with no Admin Pass before it.
      let passSeen = false
      const deciding: At[] = []
      for (const a of admin) {
        clusterRulesOf(a, d).forEach((r, j) => {
          const act = actionOf(r)
          if (act === 'Pass') passSeen = true
          else if (act !== undefined && !passSeen && subjectCovers(ctx, a, pol))
            deciding.push({ pol: a, rule: r, i: j })
        })
      }
      rules.forEach((rule, i) => {
        if (actionOf(rule) === undefined) return
        const by = deciding.find((e) => ruleCovers(e.rule, rule))
        if (!by) return
        reportCnp(
          ctx,
          raws,
          'lint.cnp-baseline-unreachable',
          pol,
          ['spec', field(d), i],
          `${field(d)}[${i}] is never reached: the Admin tier decides every connection it matches first, by ${ruleName(by, d)} (${actionOf(by.rule)})`,
        )
      })
    }
  }
}

/** Runs the ClusterNetworkPolicy checks; raws (accepted objects) give exact field positions. */
export function checkClusterPolicies(ctx: Ctx, accepted: readonly RawObject[]): void {
  const policies = ctx.cluster.clusterPolicies ?? []
  if (policies.length === 0) return
  const raws = new Map<string, RawObject>()
  for (const raw of accepted) {
    const meta = raw.value.metadata
    if (raw.value.kind !== 'ClusterNetworkPolicy' || !meta || typeof meta !== 'object' || Array.isArray(meta))
      continue
    if (typeof meta.name === 'string') raws.set(meta.name, raw)
  }
  checkSamePriority(ctx, raws, policies)
  for (const pol of policies) checkPass(ctx, raws, pol)
  checkShadowed(ctx, raws, policies)
  checkBaselineReach(ctx, raws, policies)
}
