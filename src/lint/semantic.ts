/**
 * Semantic smells found on the normalised cluster: policies and peers that select nothing, egress that
 * blocks DNS, shadowed rules, ipBlocks over pod addresses, ignored rules. Facts about selection come from
 * src/semantics (which pods a policy or a peer selects) and the engine (which policies isolate a pod);
 * checks that depend on pods run only when the input has pods.
 */
import { buildIndex, type ClusterIndex, selectingPolicies } from '../engine/index.js'
import {
  type ClusterState,
  cidrContainsCIDR,
  cidrLast,
  type Diagnostic,
  type FieldPath,
  type NetworkPolicy,
  type ParsedCIDR,
  type Pod,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
  type PolicyType,
  podKey,
  policyKey,
  type RawObject,
  type SourceRef,
} from '../model/index.js'
import {
  buildPodIndex,
  canonicalSelector,
  declaresNamedPort,
  isEmptySelector,
  isPolicyEndpoint,
  matchNamespaceScope,
  matchPeerPod,
  matchRulePorts,
  matchSelector,
  namespaceLabelsOf,
  type PodIndex,
  peerMatcher,
  policySelectsPod,
  renderSelector,
  rulesOf,
  selectPods,
} from '../semantics/index.js'
import { lintRule } from './rules.js'

/** Namespaces every cluster has: a policy there is never "in an undeclared namespace". */
const BUILT_IN_NAMESPACES: ReadonlySet<string> = new Set([
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
])
const MAX_LISTED = 5

interface Ctx {
  readonly index: ClusterIndex
  readonly cluster: ClusterState
  readonly hasPods: boolean
  /** 'ns/name' -> raw object of the policy, for exact field positions. */
  readonly raws: ReadonlyMap<string, RawObject>
  readonly out: Diagnostic[]
  /** The pod index, built on first use. */
  podIndex?: PodIndex<Pod>
}

function listPods(pods: readonly string[]): string {
  const shown = pods.slice(0, MAX_LISTED).join(', ')
  return pods.length > MAX_LISTED ? `${shown} and ${pods.length - MAX_LISTED} more` : shown
}

function report(
  ctx: Ctx,
  code: string,
  pol: NetworkPolicy,
  path: FieldPath,
  message: string,
  fallback?: SourceRef,
): void {
  const raw = ctx.raws.get(policyKey(pol))
  const source = raw ? raw.locate(path) : (fallback ?? pol.source)
  ctx.out.push({
    code,
    severity: lintRule(code)?.severity ?? 'warning',
    message,
    object: `NetworkPolicy ${policyKey(pol)}`,
    path,
    ...(source ? { source } : {}),
  })
}

const field = (d: PolicyType): 'ingress' | 'egress' => (d === 'Ingress' ? 'ingress' : 'egress')
const peerField = (d: PolicyType): 'from' | 'to' => (d === 'Ingress' ? 'from' : 'to')

/** Pods a policy selects (policy endpoints only). */
function selectedPods(ctx: Ctx, pol: NetworkPolicy): Pod[] {
  return ctx.cluster.pods.filter((p) => policySelectsPod(pol, p))
}

/** Pods a peer matches (ipBlock: by any of their addresses), in the order of the input. */
function peerPods(ctx: Ctx, peer: PolicyPeer, ns: string): Pod[] {
  const m = peerMatcher(peer, ns)
  if (m.kind !== 'pods') return ctx.cluster.pods.filter((pod) => matchPeerPod(ctx.index.namespaces, m, pod))
  ctx.podIndex ??= buildPodIndex(ctx.cluster.pods, (p) => p)
  const hits = new Set(selectPods(ctx.podIndex, ctx.index.namespaces, m))
  return hits.size === 0 ? [] : ctx.cluster.pods.filter((pod) => hits.has(pod))
}

function checkNoPodsSelected(ctx: Ctx, pol: NetworkPolicy): void {
  if (!ctx.hasPods || pol.origin.kind !== 'NetworkPolicy') return
  if (selectedPods(ctx, pol).length > 0) return
  report(
    ctx,
    'lint.no-pods-selected',
    pol,
    ['spec', 'podSelector'],
    `podSelector ${renderSelector(pol.podSelector)} selects no pod of namespace ${pol.namespace} in the input: the policy has no effect`,
  )
}

function checkPeers(ctx: Ctx, pol: NetworkPolicy): void {
  const anyDeclared = ctx.cluster.namespaces.some((n) => n.declared)
  for (const d of ['Ingress', 'Egress'] as const) {
    rulesOf(pol, d).forEach((rule, i) => {
      rule.peers?.forEach((peer, j) => {
        const base: FieldPath = ['spec', field(d), i, peerField(d), j]
        if (peer.ipBlock) {
          if (!ctx.hasPods) return
          const m = peerMatcher(peer, pol.namespace)
          const covered = ctx.cluster.pods
            .filter((p) => isPolicyEndpoint(p) && matchPeerPod(ctx.index.namespaces, m, p))
            .map(podKey)
          if (covered.length > 0) {
            report(
              ctx,
              'lint.ipblock-covers-pods',
              pol,
              [...base, 'ipBlock'],
              `ipBlock ${peer.ipBlock.cidr} contains the addresses of ${covered.length} pod(s) (${listPods(covered)}): plugins differ on whether ipBlock matches pods; select them with podSelector/namespaceSelector`,
              rule.source,
            )
          }
          return
        }
        let nsEmpty = false
        if (peer.namespaceSelector && !isEmptySelector(peer.namespaceSelector) && anyDeclared) {
          const hits = ctx.cluster.namespaces.filter((n) => matchSelector(peer.namespaceSelector!, n.labels))
          if (hits.length === 0) {
            nsEmpty = true
            report(
              ctx,
              'lint.namespace-selector-matches-nothing',
              pol,
              [...base, 'namespaceSelector'],
              `namespaceSelector ${renderSelector(peer.namespaceSelector)} matches no namespace of the input (${ctx.cluster.namespaces.map((n) => n.name).join(', ')}): this peer matches no pod`,
              rule.source,
            )
          }
        }
        if (!nsEmpty && ctx.hasPods && peer.podSelector && peerPods(ctx, peer, pol.namespace).length === 0) {
          const scope = peer.namespaceSelector
            ? `namespaces ${renderSelector(peer.namespaceSelector)}`
            : `namespace ${pol.namespace}`
          report(
            ctx,
            'lint.pod-selector-matches-nothing',
            pol,
            [...base, 'podSelector'],
            `podSelector ${renderSelector(peer.podSelector)} matches no pod of ${scope} in the input: this peer matches nothing`,
            rule.source,
          )
        }
      })
    })
  }
}

function checkIgnoredRules(ctx: Ctx, pol: NetworkPolicy): void {
  if (pol.origin.kind !== 'NetworkPolicy') return
  for (const d of ['Ingress', 'Egress'] as const) {
    if (pol.policyTypes.includes(d) || rulesOf(pol, d).length === 0) continue
    const code = d === 'Egress' ? 'lint.egress-rules-ignored' : 'lint.ingress-rules-ignored'
    report(
      ctx,
      code,
      pol,
      ['spec', field(d)],
      `spec.${field(d)} has ${rulesOf(pol, d).length} rule(s) but policyTypes is [${pol.policyTypes.join(', ')}]: they are ignored and ${field(d)} is not isolated; add ${d} to policyTypes`,
    )
  }
}

/** Named ports resolve on the destination: the selected pods for ingress, the peers' pods for egress. */
function checkNamedPorts(ctx: Ctx, pol: NetworkPolicy): void {
  if (!ctx.hasPods) return
  for (const d of ['Ingress', 'Egress'] as const) {
    rulesOf(pol, d).forEach((rule, i) => {
      rule.ports?.forEach((p, j) => {
        if (typeof p.port !== 'string') return
        let targets: Pod[]
        if (d === 'Ingress') targets = selectedPods(ctx, pol)
        else if (rule.peers === undefined) targets = ctx.cluster.pods.filter(isPolicyEndpoint)
        else
          targets = [
            ...new Set(
              rule.peers.flatMap((peer) => (peer.ipBlock ? [] : peerPods(ctx, peer, pol.namespace))),
            ),
          ]
        if (targets.length === 0) return
        const name = p.port
        if (targets.some((t) => declaresNamedPort(t, name, p.protocol))) return
        const whose = d === 'Ingress' ? 'pods this policy selects' : 'destination pods'
        report(
          ctx,
          'lint.named-port-undeclared',
          pol,
          ['spec', field(d), i, 'ports', j, 'port'],
          `named port "${p.port}" (${p.protocol}): none of the ${whose} (${listPods(targets.map(podKey))}) declares a ${p.protocol} container port with that name: this entry matches nothing`,
          rule.source,
        )
      })
    })
  }
}

const DNS = [
  { port: 53, protocol: 'UDP' as const },
  { port: 53, protocol: 'TCP' as const },
]

/** True when a rule can admit DNS: port 53 (or a named port that is 53 on some pod) to kube-system or an address. */
function ruleAllowsDNS(ctx: Ctx, pol: NetworkPolicy, rule: PolicyRule): boolean {
  const namedDNS = (p: PolicyPort): boolean =>
    typeof p.port === 'string' &&
    ctx.cluster.pods.some((pod) => pod.ports.some((cp) => cp.name === p.port && cp.containerPort === 53))
  const portOK =
    DNS.some((q) => matchRulePorts(rule.ports, q, undefined)) || (rule.ports ?? []).some(namedDNS)
  if (!portOK) return false
  if (rule.peers === undefined) return true
  const kubeSystem = namespaceLabelsOf(ctx.index.namespaces, 'kube-system')
  return rule.peers.some((peer) => {
    if (peer.ipBlock) return true
    if (peer.namespaceSelector) return matchSelector(peer.namespaceSelector, kubeSystem)
    return pol.namespace === 'kube-system'
  })
}

function checkDNS(ctx: Ctx): void {
  const egressPolicies = ctx.cluster.policies.filter((p) => p.policyTypes.includes('Egress'))
  if (!ctx.hasPods) {
    for (const pol of egressPolicies) {
      if (!pol.egress.some((r) => ruleAllowsDNS(ctx, pol, r))) {
        report(ctx, 'lint.egress-blocks-dns', pol, ['spec', 'policyTypes'], dnsMessage(pol, []))
      }
    }
    return
  }
  const blocked = new Map<string, { pol: NetworkPolicy; pods: string[] }>()
  for (const pod of ctx.cluster.pods) {
    const selecting = selectingPolicies(ctx.index, pod, 'Egress')
    if (selecting.length === 0) continue
    if (selecting.some((pol) => pol.egress.some((r) => ruleAllowsDNS(ctx, pol, r)))) continue
    for (const pol of selecting) {
      const e = blocked.get(policyKey(pol)) ?? { pol, pods: [] }
      e.pods.push(podKey(pod))
      blocked.set(policyKey(pol), e)
    }
  }
  for (const { pol, pods } of blocked.values())
    report(ctx, 'lint.egress-blocks-dns', pol, ['spec', 'policyTypes'], dnsMessage(pol, pods))
}

function dnsMessage(pol: NetworkPolicy, pods: readonly string[]): string {
  const who = pods.length > 0 ? `the pods it isolates for egress (${listPods(pods)})` : 'the pods it selects'
  const alone = pol.egress.length === 0 ? ' (it has no egress rules: all egress is denied)' : ''
  return `${who} cannot reach DNS: no egress rule of the policies selecting them admits UDP/TCP 53 to kube-system or to an address${alone}; add an egress rule to port 53 of kube-system`
}

// ---------------------------------------------------------------------------------------------
// Shadowed rules and allow-all next to deny-all

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
    aLabels.every(([k, v]) => mb.podSelector.matchLabels[k] === v)
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

function checkShadowed(ctx: Ctx): void {
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

function checkAllowAllBesideDeny(ctx: Ctx): void {
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

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] as number
    dp[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] as number
      dp[j] = Math.min(
        (dp[j] as number) + 1,
        (dp[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
      prev = tmp
    }
  }
  return dp[b.length] as number
}

function checkUndeclaredNamespace(ctx: Ctx, pol: NetworkPolicy): void {
  if (pol.origin.kind !== 'NetworkPolicy' || BUILT_IN_NAMESPACES.has(pol.namespace)) return
  const declared = ctx.cluster.namespaces.filter((n) => n.declared).map((n) => n.name)
  if (declared.length === 0 || declared.includes(pol.namespace)) return
  const close = declared.filter((n) => editDistance(n, pol.namespace) <= 2)
  const hint = close.length > 0 ? `; did you mean ${close.map((c) => JSON.stringify(c)).join(' or ')}?` : ''
  report(
    ctx,
    'lint.policy-in-undeclared-namespace',
    pol,
    ['metadata', 'namespace'],
    `namespace "${pol.namespace}" is not declared in the input (declared: ${declared.join(', ')})${hint}`,
  )
}

/** Runs every semantic check on a cluster; raws (accepted objects) give exact field positions. */
export function lintSemantics(cluster: ClusterState, raws: readonly RawObject[]): Diagnostic[] {
  const byKey = new Map<string, RawObject>()
  for (const raw of raws) {
    const v = raw.value
    const meta = v.metadata
    if (v.kind !== 'NetworkPolicy' || !meta || typeof meta !== 'object' || Array.isArray(meta)) continue
    const ns = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default'
    if (typeof meta.name === 'string') byKey.set(`${ns}/${meta.name}`, raw)
  }
  const ctx: Ctx = {
    index: buildIndex(cluster),
    cluster,
    hasPods: cluster.pods.length > 0,
    raws: byKey,
    out: [],
  }
  for (const pol of cluster.policies) {
    checkNoPodsSelected(ctx, pol)
    checkUndeclaredNamespace(ctx, pol)
    checkIgnoredRules(ctx, pol)
    checkPeers(ctx, pol)
    checkNamedPorts(ctx, pol)
  }
  checkDNS(ctx)
  checkShadowed(ctx)
  checkAllowAllBesideDeny(ctx)
  return ctx.out
}
