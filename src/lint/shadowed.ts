/** Shadowed rules and allow-all next to deny-all: checks that compare rules with each other. */
import {
  cidrContainsCIDR,
  cidrLast,
  type NetworkPolicy,
  ownValue,
  type ParsedCIDR,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
  type PolicyType,
  podKey,
  policyKey,
} from '../model/index.js'
import {
  canonicalSelector,
  isEmptySelector,
  matchNamespaceScope,
  peerMatcher,
  rulesOf,
} from '../semantics/index.js'
import { type Ctx, field, report, selectedPods } from './semantic-context.js'

function overlaps(a: ParsedCIDR, b: ParsedCIDR): boolean {
  return a.family === b.family && a.base <= cidrLast(b) && b.base <= cidrLast(a)
}

/** True when every address peer b matches, peer a matches too (structurally; may miss exotic cases). */
function peerCovers(ctx: Ctx, ns: string, a: PolicyPeer, b: PolicyPeer): boolean {
  const ma = peerMatcher(a, ns)
  const mb = peerMatcher(b, ns)
  if (ma.kind === 'ipBlock' || mb.kind === 'ipBlock') {
    if (ma.kind !== 'ipBlock' || mb.kind !== 'ipBlock') return false
    const ac = ma.cidr
    const bc = mb.cidr
    if (!ac || !bc || !cidrContainsCIDR(ac, bc)) return false
    return ma.except.every((ec) => !overlaps(ec, bc) || mb.except.some((x) => cidrContainsCIDR(x, ec)))
  }
  if (ma.kind !== 'pods' || mb.kind !== 'pods') return ma.kind === 'all'
  // namespace scope
  const sa = ma.namespaces
  const sb = mb.namespaces
  if (sa.kind === 'namespaceSelector') {
    if (!isEmptySelector(sa.selector)) {
      if (sb.kind === 'namespaceSelector') {
        if (sa.key !== sb.key) return false
      } else if (!matchNamespaceScope(ctx.index.namespaces, sa, ns)) return false
    }
  } else if (sb.kind === 'namespaceSelector') return false
  // pod selector
  if (isEmptySelector(ma.podSelector)) return true
  if (ma.podSelectorKey === mb.podSelectorKey) return true
  const aLabels = Object.entries(ma.podSelector.matchLabels)
  return (
    ma.podSelector.matchExpressions.length === 0 &&
    aLabels.every(([k, v]) => ownValue(mb.podSelector.matchLabels, k) === v)
  )
}

function portCovers(a: PolicyPort, b: PolicyPort): boolean {
  if (a.protocol !== b.protocol) return false
  if (a.port === undefined) return true
  if (b.port === undefined) return false
  if (typeof a.port === 'string' || typeof b.port === 'string') return a.port === b.port
  const aEnd = a.endPort ?? a.port
  const bEnd = b.endPort ?? b.port
  return a.port <= b.port && bEnd <= aEnd
}

/** True when rule a admits everything rule b admits. */
function ruleCovers(ctx: Ctx, ns: string, a: PolicyRule, b: PolicyRule): boolean {
  const portsOK =
    a.ports === undefined || b.ports?.every((bp) => a.ports!.some((ap) => portCovers(ap, bp))) === true
  if (!portsOK) return false
  if (a.peers === undefined) return true
  if (b.peers === undefined) return false
  return b.peers.every((bp) => a.peers!.some((ap) => peerCovers(ctx, ns, ap, bp)))
}

interface RuleAt {
  readonly pol: NetworkPolicy
  readonly i: number
  readonly rule: PolicyRule
}

function describeRuleAt(r: RuleAt, d: PolicyType, same: NetworkPolicy): string {
  const where = r.rule.source?.line !== undefined ? ` (line ${r.rule.source.line})` : ''
  return r.pol === same
    ? `${field(d)}[${r.i}] of the same policy${where}`
    : `${field(d)}[${r.i}] of ${policyKey(r.pol)}${where}`
}

/** Reports rules that admit nothing an earlier rule for the same pods does not already admit. */
export function checkShadowed(ctx: Ctx): void {
  const groups = new Map<string, NetworkPolicy[]>()
  for (const pol of ctx.cluster.policies) {
    if (pol.origin.kind !== 'NetworkPolicy') continue
    const key = `${pol.namespace}|${canonicalSelector(pol.podSelector)}`
    groups.set(key, [...(groups.get(key) ?? []), pol])
  }
  for (const pols of groups.values()) {
    for (const d of ['Ingress', 'Egress'] as const) {
      const rules: RuleAt[] = pols
        .filter((p) => p.policyTypes.includes(d))
        .flatMap((pol) => rulesOf(pol, d).map((rule, i) => ({ pol, i, rule })))
      const reported = new Set<number>()
      for (let j = 0; j < rules.length; j++) {
        for (let i = 0; i < rules.length; i++) {
          if (i === j || reported.has(j) || reported.has(i)) continue
          const a = rules[i] as RuleAt
          const b = rules[j] as RuleAt
          if (!ruleCovers(ctx, b.pol.namespace, a.rule, b.rule)) continue
          // identical rules: keep the first, report the later one
          if (i > j && ruleCovers(ctx, b.pol.namespace, b.rule, a.rule)) continue
          reported.add(j)
          report(
            ctx,
            'lint.rule-shadowed',
            b.pol,
            ['spec', field(d), b.i],
            `${field(d)}[${b.i}] admits nothing that ${describeRuleAt(a, d, b.pol)} does not already admit for the same pods: it is redundant (or a mistake)`,
            b.rule.source,
          )
        }
      }
    }
  }
}

/** Reports an allow-all rule next to a policy that denies the same pods in that direction. */
export function checkAllowAllBesideDeny(ctx: Ctx): void {
  for (const d of ['Ingress', 'Egress'] as const) {
    const typed = ctx.cluster.policies.filter((p) => p.policyTypes.includes(d))
    for (const pol of typed) {
      if (pol.origin.kind !== 'NetworkPolicy') continue
      rulesOf(pol, d).forEach((rule, i) => {
        if (rule.peers !== undefined || rule.ports !== undefined) return
        const denies = typed.filter((other) => {
          if (other === pol || other.namespace !== pol.namespace || rulesOf(other, d).length > 0) return false
          if (!ctx.hasPods)
            return (
              isEmptySelector(other.podSelector) ||
              canonicalSelector(other.podSelector) === canonicalSelector(pol.podSelector)
            )
          const mine = new Set(selectedPods(ctx, pol).map(podKey))
          return selectedPods(ctx, other).some((p) => mine.has(podKey(p)))
        })
        if (denies.length === 0) return
        report(
          ctx,
          'lint.allow-all-beside-deny',
          pol,
          ['spec', field(d), i],
          `${field(d)}[${i}] has no peers and no ports: it admits all ${field(d)} for the pods this policy selects, so ${denies.map((x) => (x.origin.kind === 'DefaultDenyAnnotation' ? `the DefaultDeny annotation of ${x.namespace}` : policyKey(x))).join(', ')} ${denies.length === 1 ? 'has' : 'have'} no effect on them in that direction`,
          rule.source,
        )
      })
    }
  }
}
