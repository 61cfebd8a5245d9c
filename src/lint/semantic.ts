/**
 * Semantic smells found on the normalised cluster: policies and peers that select nothing, egress that
 * blocks DNS, shadowed rules, ipBlocks over pod addresses, ignored rules. Facts about selection come from
 * src/semantics (which pods a policy or a peer selects) and the engine (which policies isolate a pod);
 * checks that depend on pods run only when the input has pods.
 */
import { buildIndex, selectingPolicies } from '../engine/index.js'
import {
  type ClusterState,
  type Diagnostic,
  type FieldPath,
  type NetworkPolicy,
  type Pod,
  type PolicyPort,
  type PolicyRule,
  podKey,
  policyKey,
  type RawObject,
} from '../model/index.js'
import {
  declaresNamedPort,
  isEmptySelector,
  isPolicyEndpoint,
  matchPeerPod,
  matchRulePorts,
  matchSelector,
  namespaceLabelsOf,
  peerMatcher,
  renderSelector,
  rulesOf,
} from '../semantics/index.js'
import { editDistanceAtMost } from '../validate/index.js'
import { checkClusterPolicies } from './cluster-policies.js'
import { type Ctx, field, listPods, peerField, peerPods, report, selectedPods } from './semantic-context.js'
import { checkAllowAllBesideDeny, checkShadowed } from './shadowed.js'

/** Namespaces every cluster has: a policy there is never "in an undeclared namespace". */
const BUILT_IN_NAMESPACES: ReadonlySet<string> = new Set([
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
])
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

function checkUndeclaredNamespace(ctx: Ctx, pol: NetworkPolicy): void {
  if (pol.origin.kind !== 'NetworkPolicy' || BUILT_IN_NAMESPACES.has(pol.namespace)) return
  const declared = ctx.cluster.namespaces.filter((n) => n.declared).map((n) => n.name)
  if (declared.length === 0 || declared.includes(pol.namespace)) return
  const close = declared.filter((n) => editDistanceAtMost(n, pol.namespace, 2) <= 2)
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
  checkClusterPolicies(ctx, raws)
  return ctx.out
}
