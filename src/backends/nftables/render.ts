/**
 * NodeIR -> the structure of `table inet palisade` (print.ts writes it as one `nft -f` file).
 *
 * Design (why the ruleset looks the way it does):
 *
 * - ATOMIC RELOAD. The file starts with `table inet palisade` (create if missing), `delete table inet
 *   palisade`, then the full table. `nft -f` sends all of it as ONE netlink transaction: the kernel
 *   commits it whole or rejects it whole, and a failed load leaves the previous ruleset in force. A
 *   non-atomic delete-then-load let 113 of 880 denied connects through in our measurements; this let 0.
 *   Only our own table is ever named: nothing else on the node is touched.
 *
 * - HOOKS. Two base chains on the inet FORWARD hook: `egress` at priority filter checks the source
 *   pod, `ingress` at priority filter + 10 checks the destination pod. An `accept` only ends its own
 *   base chain, so a packet allowed by the source's egress still meets the destination's ingress; a
 *   `drop` is final. Both start with `ct state established,related accept` (policies apply to new
 *   connections, docs/semantics.md#established-connections) and `ct state invalid drop`. INPUT and OUTPUT are never
 *   hooked: the node always reaches its own pods and back (docs/semantics.md#node-and-local-pods).
 *
 * - DISPATCH. `ip saddr vmap @egress_pods_v4` / `ip daddr vmap @ingress_pods_v4` (and ip6) jump
 *   from the pod address straight to the pod's chain: the per-packet cost is one hash lookup whatever
 *   the number of pods. A pod chain jumps to each policy chain selecting the pod, then counts and drops.
 *   A policy chain `accept`s when one of its rules matches; falling off its end = no opinion.
 *
 * - PORT DISPATCH. A new connection must not pay for policies with no rule for its port. Policies whose
 *   every rule names a protocol and ports are reached through a verdict map `ports_...` on
 *   `meta l4proto . th dport` (disjoint intervals -> the policy chain, or a `_h<n>` helper chain
 *   jumping to the policies sharing that interval); only the others are jumped one by one. Inside a
 *   policy chain each rule tests its port before its peer set (a compare before a set lookup).
 *   Measured in the lab (bench/lab.ts --shape worst, 1,000 policies selecting one pod, each for its own
 *   port): nf_tables CPU per new connection ~1,000 us -> ~23 us (0 policies: 13 us).
 *   ClusterNetworkPolicy tiers, whose order matters, get the same kind of dispatch per distinct chain
 *   list (`tdisp_...`, renderTierDispatch): every slice keeps the tier's order.
 *
 * - PEER SETS. One named set per distinct peer (cluster-wide, shared by every policy using the same
 *   selectors) and family. ipBlock `except` is subtracted at compile time: the set holds cidr minus
 *   the excepts as disjoint CIDRs (`flags interval`), so a peer is one lookup, there is no second
 *   set and no `!=`, and the elements read as exactly the addresses the peer admits.
 *
 * - NAMED PORTS resolve on the destination pod (docs/semantics.md#named-ports): a set of `addr . port` of every pod
 *   declaring that name/protocol, matched by `ip daddr . th dport @np_...` after `meta l4proto`.
 *
 * - BRIDGED SAME-NODE TRAFFIC. With a routed CNI (Calico style: veth + /32 route) every pod-to-pod
 *   packet crosses the node's FORWARD hook. With a bridge CNI (flannel/Canal/kubenet: pods on `cbr0`)
 *   same-node traffic is switched at L2 and bypasses the inet FORWARD hook unless `br_netfilter` is
 *   loaded with net.bridge.bridge-nf-call-iptables=1 (and -ip6tables=1); measured: 26 of 120 probes
 *   wrong without it, 0 with it. We REQUIRE br_netfilter in bridge mode (kubeadm already checks
 *   that sysctl) instead of hooking the `bridge` family: sets cannot be shared between tables, so a
 *   bridge table would duplicate every set and chain, bridge-family conntrack needs
 *   nf_conntrack_bridge, and with br_netfilter loaded bridged packets would be evaluated twice.
 *   applyRuleset warns when the netns has a bridge and the sysctl is off.
 *   With br_netfilter, IPv6 neighbour discovery between pods (ICMPv6, unlike ARP) reaches these hooks
 *   too: both base chains accept neighbour solicitations/advertisements with hop limit 255 first, or an
 *   isolated pod could not even resolve its peers' MAC addresses (found by the IPv6 lab, bridge mode).
 *
 * - ANTI-SPOOFING. When the pod interfaces are known (CompileOptions.podInterfaces), a packet that
 *   enters from a pod's host-side interface must carry one of that pod's addresses: checked first in
 *   `egress`, before conntrack, so a spoofed packet cannot ride another pod's established flow.
 *   Otherwise the ruleset says so in a comment and relies on strict rp_filter (net.ipv4.conf.*.rp_filter=1
 *   with one /32 route per pod interface drops packets whose source does not route back through it).
 *
 * - UNKNOWN LOCAL PODS. With the node's pod ranges known and unknownPods 'drop', each base chain ends,
 *   after the dispatch, with a counted drop of an address of the ranges that no programmed local pod
 *   holds (source in egress, destination in ingress): a pod the agent has not seen yet cannot talk
 *   (docs/semantics.md#unknown-local-pods). Known pods are one set, so adding one is a set element.
 *
 * Every set, chain and rule carries a comment naming the policy (namespace/name), direction and rule
 * index, so `nft list ruleset` traces back to the YAML.
 */

import {
  clusterDispatchItem,
  DROP_LOG_PREFIX,
  DROP_LOG_SNAPLEN,
  dispatchPays,
  hash8,
  IR_NAME_MAX,
  type IRChain,
  type IRClusterChain,
  type IRClusterRule,
  type IRLocalPod,
  type IRLogDrops,
  type IRPodTiers,
  type IRPortMatch,
  type IRRule,
  type IRSet,
  type NodeIR,
  portDispatch,
  tierDenyChainId,
  unknownPodsNotes,
} from '../../compile/index.js'
import type { Family, Protocol } from '../../model/index.js'
import { nftComment } from './print.js'
import {
  type NftChain,
  type NftHook,
  type NftMap,
  type NftMapElement,
  type NftObject,
  type NftSet,
  type NftTable,
  type NftVerdict,
  nftChain,
  nftMap,
  nftSet,
} from './structure.js'

/** The one table Palisade owns. */
export const NFT_TABLE = 'palisade'
export const NFT_FAMILY = 'inet'
/** The named limit every drop-log statement shares (--log-drops): one budget per node. */
export const NFT_DROP_LOG_LIMIT = 'drop_log'

const ADDR: Readonly<Record<Family, { readonly kw: string; readonly type: string }>> = {
  4: { kw: 'ip', type: 'ipv4_addr' },
  6: { kw: 'ip6', type: 'ipv6_addr' },
}

/** Returns who uses a set, bounded. */
function usedByText(usedBy: readonly string[]): string {
  const shown = usedBy.slice(0, 3).join(', ')
  return usedBy.length > 3 ? `${shown} +${usedBy.length - 3} more` : shown
}

/** Describes a set for its comment. */
function setComment(s: IRSet): string {
  if (s.kind === 'named-port') {
    const where = s.scope === 'local' ? 'local destination pods' : 'destination pods'
    return `named port ${s.protocol}/${s.portName} of ${where}, IPv${s.family}; used by ${usedByText(s.usedBy)}`
  }
  const o = s.origin
  let what: string
  if (o.kind === 'ipBlock') {
    what = `ipBlock ${o.cidr}${o.except.length > 0 ? ` except ${o.except.join(' ')}` : ''}`
  } else if (o.kind === 'nodes') {
    what = `addresses of nodes nodeSelector ${o.nodeSelector}`
  } else if (o.namespaceSelector !== undefined) {
    what = `pods namespaceSelector ${o.namespaceSelector} podSelector ${o.podSelector}`
  } else {
    what = `pods of namespace ${o.namespace} podSelector ${o.podSelector}`
  }
  return `${what}, IPv${s.family}; used by ${usedByText(s.usedBy)}`
}

/** Renders one IR set as a named set. */
function renderSet(s: IRSet): NftSet {
  if (s.kind === 'named-port') {
    const elements = s.elements.map((e) => `${e.address} . ${e.port}`)
    return nftSet(s.id, `${ADDR[s.family].type} . inet_service`, setComment(s), elements)
  }
  return nftSet(s.id, ADDR[s.family].type, setComment(s), s.elements, s.interval ? 'interval' : undefined)
}

const L4: Readonly<Record<Protocol, string>> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' }

/** Renders the port part of a rule (empty string = any port, any protocol). */
function renderPort(p: IRPortMatch | undefined, family: Family | undefined): string {
  if (!p) return ''
  const proto = L4[p.protocol]
  if (p.kind === 'named') {
    // family is always set for named ports (the set has one)
    return `meta l4proto ${proto} ${ADDR[family ?? 4].kw} daddr . th dport @${p.set}`
  }
  if (p.ranges.length === 0) return `meta l4proto ${proto}`
  const items = p.ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`))
  const value = items.length === 1 ? items[0] : `{ ${items.join(', ')} }`
  // SCTP has no dedicated shorthand we rely on: the generic transport header match works for all.
  return p.protocol === 'SCTP' ? `meta l4proto sctp th dport ${value}` : `${proto} dport ${value}`
}

/** Returns the rule's trace comment: policy, direction, rule, peer and port indices (`palisade trace` maps it back). */
export function ruleComment(chain: IRChain, r: IRRule): string {
  const dir = chain.direction === 'Ingress' ? 'ingress' : 'egress'
  const peerField = chain.direction === 'Ingress' ? 'from' : 'to'
  const parts = [`${chain.policy.namespace}/${chain.policy.name} ${dir}[${r.rule}]`]
  if (r.peer !== undefined) parts.push(`${peerField}[${r.peer}]`)
  if (r.ports !== undefined) parts.push(`ports[${r.ports.join(',')}]`)
  if (r.family !== undefined) parts.push(`IPv${r.family}`)
  return parts.join(' ')
}

/**
 * Renders one policy rule. The port test comes first: nft evaluates a rule's expressions in order and
 * stops at the first mismatch, so a packet for another port costs a compare instead of a set lookup
 * (measured: 1,000 policies selecting one pod, each for its own port, new connections/s x3.6).
 */
function renderRule(chain: IRChain, r: IRRule): string {
  return renderMatch(chain.direction, r, 'accept', ruleComment(chain, r))
}

/** Renders one match (port test, then peer set or family) with its verdict and comment. */
function renderMatch(direction: 'Ingress' | 'Egress', r: IRRule, verdict: string, comment: string): string {
  const side = direction === 'Ingress' ? 'saddr' : 'daddr'
  const parts: string[] = []
  const port = renderPort(r.port, r.family)
  if (port) parts.push(port)
  if (r.peerSet !== undefined && r.family !== undefined)
    parts.push(`${ADDR[r.family].kw} ${side} @${r.peerSet}`)
  else if (r.family !== undefined && r.port?.kind !== 'named') parts.push(`meta nfproto ipv${r.family}`)
  parts.push(verdict, `comment ${nftComment(comment)}`)
  return parts.join(' ')
}

/** The chain an Admin Pass jumps to: it finds the packet's pod again and goes on with its next stage. */
export function passChainName(direction: 'Ingress' | 'Egress'): string {
  return direction === 'Ingress' ? 'ingress_pass' : 'egress_pass'
}

/** Returns a ClusterNetworkPolicy rule's trace comment: tier, policy, priority, rule, action, peer and ports. */
export function clusterRuleComment(c: IRClusterChain, r: IRClusterRule, m: IRRule): string {
  const dir = c.direction === 'Ingress' ? 'ingress' : 'egress'
  const peerField = c.direction === 'Ingress' ? 'from' : 'to'
  const parts = [
    `${c.tier} ${c.policy} priority ${c.priority} ${dir}[${r.rule}]${r.name !== undefined ? ` ${r.name}` : ''}: ${r.failClosed ? 'Deny (fail-closed: unknown peer)' : r.action}`,
  ]
  if (m.peer !== undefined) parts.push(`${peerField}[${m.peer}]`)
  if (m.ports !== undefined) parts.push(`protocols[${m.ports.join(',')}]`)
  if (m.family !== undefined) parts.push(`IPv${m.family}`)
  return parts.join(' ')
}

/** The chain a ClusterNetworkPolicy Deny jumps to: it finds the packet's pod and counts the drop there. */
export function denyChainName(direction: 'Ingress' | 'Egress'): string {
  return direction === 'Ingress' ? 'ingress_deny' : 'egress_deny'
}

/**
 * Renders a ClusterNetworkPolicy chain (shared by every local pod its subject selects): its rules in
 * order, each match with the rule's verdict. Accept: `accept` (ends this direction's base chain; an
 * egress Accept leaves the destination's ingress to decide); Deny: a jump to the deny chain (by the
 * pod's address to the pod's Deny chain, which counts and drops: per pod counters), after a log
 * statement naming this chain when drops are logged; Pass: in the Admin tier a jump to the pass chain
 * (the pod's NetworkPolicy stage, never returning), in the Baseline tier `accept` (the Baseline stage
 * only runs for pods no NetworkPolicy isolates: Pass = the default, allowed). A chain with no matching
 * rule returns: the next policy of the tier is tried.
 */
function renderClusterChain(c: IRClusterChain, logDrops: IRLogDrops | undefined): NftChain {
  const dir = c.direction === 'Ingress' ? 'ingress' : 'egress'
  const refs: string[] = []
  const rules: string[] = []
  for (const r of c.rules) {
    let verdict: string
    if (r.action === 'Accept') verdict = 'accept'
    else if (r.action === 'Deny') {
      verdict = `jump ${denyChainName(c.direction)}`
      if (r.matches.length > 0) refs.push(denyChainName(c.direction))
    } else if (c.tier === 'Admin') {
      verdict = `jump ${passChainName(c.direction)}`
      if (r.matches.length > 0) refs.push(passChainName(c.direction))
    } else verdict = 'accept'
    for (const m of r.matches) {
      if (m.peerSet !== undefined && m.family !== undefined) refs.push(m.peerSet)
      if (m.port?.kind === 'named') refs.push(m.port.set)
      // --log-drops: the first packet of a connection attempt this rule denies, within the node's budget,
      // goes to NFLOG with this chain's name (the agent finds the pod by the packet's address)
      if (r.action === 'Deny' && logDrops)
        rules.push(
          renderMatch(
            c.direction,
            m,
            `ct state new limit name "${NFT_DROP_LOG_LIMIT}" log prefix "${DROP_LOG_PREFIX}${c.id}" group ${logDrops.group} snaplen ${DROP_LOG_SNAPLEN}`,
            `drop log: ${clusterRuleComment(c, r, m)}`,
          ),
        )
      rules.push(renderMatch(c.direction, m, verdict, clusterRuleComment(c, r, m)))
    }
  }
  return nftChain(
    c.id,
    `ClusterNetworkPolicy ${c.policy} (${c.tier} tier, priority ${c.priority}) ${dir}`,
    rules,
    sortedRefs(refs),
  )
}

/**
 * Renders the Deny stage of one direction: per pod with tiers its Deny chain (counter + drop, named in
 * the drop counters), the maps from pod address to it, and the chain a Deny jumps to (by the address,
 * to the pod's chain; an address of no pod is dropped all the same). Print order.
 */
function renderDenyStage(ir: NodeIR, direction: 'Ingress' | 'Egress'): NftObject[] {
  const dir = direction === 'Ingress' ? 'ingress' : 'egress'
  const name = denyChainName(direction)
  const out: NftObject[] = []
  const elements: Record<Family, NftMapElement[]> = { 4: [], 6: [] }
  for (const p of ir.pods) {
    const { tiers: t } = tiersIn(p, direction)
    if (!t) continue
    const id = tierDenyChainId(t)
    const key = `${p.namespace}/${p.name}`
    out.push(
      nftChain(
        id,
        `${dir} of pod ${key}: denied by a ClusterNetworkPolicy`,
        [`counter drop comment ${nftComment(`${dir} denied by a ClusterNetworkPolicy: ${key}`)}`],
        [],
      ),
    )
    for (const ip of p.ips)
      elements[ip.family].push({ key: ip.address, verdict: { kind: 'jump', chain: id } })
  }
  const addr = direction === 'Ingress' ? 'daddr' : 'saddr'
  for (const f of [4, 6] as const)
    out.push(
      nftMap(
        `${name}_v${f}`,
        `${ADDR[f].type} : verdict`,
        `ClusterNetworkPolicy Deny, ${dir}, IPv${f}: local pod -> its Deny chain (counted per pod)`,
        elements[f],
      ),
    )
  out.push(
    nftChain(
      name,
      `ClusterNetworkPolicy Deny (${dir}): counted in the pod's Deny chain`,
      [
        `ip ${addr} vmap @${name}_v4`,
        `ip6 ${addr} vmap @${name}_v6`,
        `counter drop comment ${nftComment(`${dir} denied by a ClusterNetworkPolicy: no local pod`)}`,
      ],
      [`${name}_v4`, `${name}_v6`],
    ),
  )
  return out
}

/** Returns the distinct names in `names`, sorted. */
function sortedRefs(names: Iterable<string>): string[] {
  return [...new Set(names)].sort()
}

/** Renders a policy chain; the DefaultDeny annotation policy says where it comes from. */
function renderPolicyChain(c: IRChain): NftChain {
  const dir = c.direction === 'Ingress' ? 'ingress' : 'egress'
  const what = c.policy.defaultDenyAnnotation
    ? `namespace ${c.policy.namespace} annotation net.beta.kubernetes.io/network-policy DefaultDeny (legacy): ${dir} isolation, no rules`
    : `NetworkPolicy ${c.policy.namespace}/${c.policy.name} ${dir}${c.rules.length === 0 ? ': allows nothing' : ''}`
  const refs: string[] = []
  for (const r of c.rules) {
    if (r.peerSet !== undefined && r.family !== undefined) refs.push(r.peerSet)
    if (r.port?.kind === 'named') refs.push(r.port.set)
  }
  return nftChain(
    c.id,
    what,
    c.rules.map((r) => renderRule(c, r)),
    sortedRefs(refs),
  )
}

/**
 * Returns the name of a pod chain's port map; its helper chains are the name + `_h<n>`, n < helpers.
 * A pure function of the pod chain id (rendered pod chains are cached per pod): `ports_` + the id
 * without `pod_` when everything fits in IR_NAME_MAX, else `ports_` + a 64-bit hash of the id. No IR id
 * starts with `ports_`; a pod chain id never ends with `_h<n>` ('h' is not a hex digit of a hashed id,
 * and pod and namespace names have no '_'); hashes are hex and never start with `in_` / `eg_`.
 */
function portMapName(podChain: string, helpers: number): string {
  const readable = `ports_${podChain.replace(/^pod_/, '')}`
  if (`${readable}_h${Math.max(0, helpers - 1)}`.length <= IR_NAME_MAX) return readable
  return `ports_${hash8(podChain)}${hash8(`${podChain}\u0000`)}`
}

/** A port interval of one protocol and the policy chains with a rule for a port in it. */
interface PortSlice {
  readonly protocol: Protocol
  readonly from: number
  readonly to: number
  /** Policy chain ids, in the pod's policy order. */
  readonly policies: readonly string[]
}

/** Returns true when every rule of the chain needs a protocol and a port range (so port dispatch can skip it). */
function isPortOnly(c: IRChain): boolean {
  return c.rules.length > 0 && c.rules.every((r) => r.port?.kind === 'ports' && r.port.ranges.length > 0)
}

/**
 * Splits the ports of the given port-only chains into disjoint intervals per protocol, each with the
 * chains that have a rule for a port in it; adjacent intervals with the same chains are merged (the
 * tiers' sweep, src/compile/port-dispatch.ts, with every chain port-only).
 */
function portSlices(chains: readonly IRChain[]): PortSlice[] {
  const items = chains.map((c) => ({
    id: c.id,
    ports: c.rules.flatMap((r) =>
      r.port?.kind === 'ports'
        ? r.port.ranges.map((range) => ({ protocol: r.port?.protocol as Protocol, range }))
        : [],
    ),
  }))
  return portDispatch(items).slices.map(({ ids, ...slice }) => ({ ...slice, policies: ids }))
}

/**
 * Renders a pod chain (and its port dispatch): jump to each selecting policy, then count and drop.
 * Policies whose every rule names a protocol and ports are not jumped one by one: a verdict map on
 * `meta l4proto . th dport` sends the packet only to the policies with a rule for its port (directly,
 * or through a small chain when several share the interval). A packet of another port or protocol
 * matches no element and falls through to the drop. Other policies (a rule for every port, a whole
 * protocol or a named port) are jumped first, as before. Returns the pod chain, its helper chains and
 * its port map, in print order.
 */
function renderPodChain(
  p: IRLocalPod,
  direction: 'Ingress' | 'Egress',
  policyName: ReadonlyMap<string, string>,
  chainById: ReadonlyMap<string, IRChain>,
  logDrops: IRLogDrops | undefined,
): NftObject[] {
  const d = direction === 'Ingress' ? p.ingress : p.egress
  if (!d) return []
  const dir = direction === 'Ingress' ? 'ingress' : 'egress'
  const key = `${p.namespace}/${p.name}`
  const by = d.policies.map((id) => policyName.get(id) ?? id)
  const always: string[] = []
  const byPort: IRChain[] = []
  for (const id of d.policies) {
    const c = chainById.get(id)
    if (c !== undefined && isPortOnly(c)) byPort.push(c)
    else always.push(id)
  }
  const slices = portSlices(byPort)
  const helperCount = new Set(slices.filter((s) => s.policies.length > 1).map((s) => s.policies.join(' ')))
    .size
  const map = portMapName(d.chain, helperCount)
  // one helper chain per distinct set of two or more policies; a single policy is jumped to directly
  const helpers = new Map<string, { id: string; policies: readonly string[] }>()
  const items: NftMapElement[] = []
  for (const s of slices) {
    let target = s.policies[0] as string
    if (s.policies.length > 1) {
      const k = s.policies.join(' ')
      let h = helpers.get(k)
      if (!h) {
        h = { id: `${map}_h${helpers.size}`, policies: s.policies }
        helpers.set(k, h)
      }
      target = h.id
    }
    const port = s.from === s.to ? String(s.from) : `${s.from}-${s.to}`
    items.push({ key: `${L4[s.protocol]} . ${port}`, verdict: { kind: 'jump', chain: target } })
  }
  const out: NftObject[] = [
    nftChain(
      d.chain,
      `${dir} of pod ${key} (${p.ips.map((i) => i.address).join(' ')}): isolated by ${usedByText(by)}`,
      [
        ...always.map((id) => `jump ${id}`),
        ...(items.length > 0 ? [`meta l4proto . th dport vmap @${map}`] : []),
        // --log-drops: the first packet of a connection attempt (new: established flows were accepted and
        // invalid ones dropped in the base chain), within the node's shared budget, goes to NFLOG with the
        // chain's name; the drop below counts every packet either way.
        ...(logDrops
          ? [
              `ct state new limit name "${NFT_DROP_LOG_LIMIT}" log prefix "${DROP_LOG_PREFIX}${d.chain}" group ${logDrops.group} snaplen ${DROP_LOG_SNAPLEN} comment ${nftComment(`drop log: ${dir} isolated: ${key}`)}`,
            ]
          : []),
        `counter drop comment ${nftComment(`${dir} isolated: ${key}`)}`,
      ],
      sortedRefs([...always, ...(items.length > 0 ? [map] : [])]),
    ),
  ]
  for (const h of helpers.values()) {
    const comment = `${dir} of pod ${key}: policies sharing a port interval`
    out.push(
      nftChain(
        h.id,
        comment,
        h.policies.map((id) => `jump ${id}`),
        sortedRefs(h.policies),
      ),
    )
  }
  if (items.length > 0) {
    const comment = `${dir} of pod ${key}: protocol . port -> policies with a rule for it`
    out.push(nftMap(map, 'inet_proto . inet_service : verdict', comment, items, 'interval'))
  }
  return out
}

/** A pod's ClusterNetworkPolicy tiers and NetworkPolicy isolation in one direction. */
function tiersIn(p: IRLocalPod, direction: 'Ingress' | 'Egress') {
  return direction === 'Ingress'
    ? { tiers: p.ingressTiers, np: p.ingress }
    : { tiers: p.egressTiers, np: p.egress }
}

/**
 * Where a pod goes after its Admin tier (no Admin rule decided, or one passed): its NetworkPolicy pod
 * chain when policies isolate it (final), else its Baseline stage chain when Baseline policies select
 * it, else allowed. Every one of them ends in a verdict: a Pass jumps there and never comes back.
 */
function afterAdmin(t: IRPodTiers, np: IRLocalPod['ingress']): NftVerdict {
  if (np) return { kind: 'jump', chain: np.chain }
  if (t.baseline.length > 0) return { kind: 'jump', chain: t.baselineChain }
  return { kind: 'accept' }
}

/**
 * Returns the name of a tier's port dispatch chain for an ordered list of ClusterNetworkPolicy chains:
 * `tdisp_` + a 64-bit hash of the tier and the list (no IR id starts with `tdisp_`); its map is the
 * name + `_ports`, its helper chains the name + `_h<n>`. Pods with the same list share them.
 */
export function tierDispatchName(tier: 'Admin' | 'Baseline', ids: readonly string[]): string {
  const key = `${tier}|${ids.join(' ')}`
  return `tdisp_${hash8(key)}${hash8(`${key}\u0000`)}`
}

/** The ClusterNetworkPolicy chains of the IR by id. */
type ClusterChainsById = ReadonlyMap<string, IRClusterChain>

/**
 * Renders the port dispatch of an ordered list of ClusterNetworkPolicy chains of one tier
 * (docs/dataplane.md#port-dispatch), or nothing when it would not pay (fewer than two chains skippable
 * by port): a chain `tdisp_...` whose first rule looks `meta l4proto . th dport` up in an interval
 * verdict map and goes (`goto`) to the chains with a rule for that port, in the list's order (one chain
 * directly, several through a helper chain jumping to each); a packet of no slice (another port or
 * protocol) goes on to the chains that see every packet, in order. The first rule that matches decides,
 * as in the list; a `goto` target that decides nothing returns to the pod's tier or stage chain, which
 * goes on to the next stage. Returns the objects in print order (helpers, map, dispatch chain).
 */
function renderTierDispatch(
  tier: 'Admin' | 'Baseline',
  ids: readonly string[],
  byId: ClusterChainsById,
): { readonly name: string; readonly objects: NftObject[] } | undefined {
  const d = portDispatch(
    ids.map((id) => {
      const c = byId.get(id)
      return c ? clusterDispatchItem(c) : { id }
    }),
  )
  if (!dispatchPays(d)) return undefined
  const name = tierDispatchName(tier, ids)
  const helpers = new Map<string, NftChain>()
  const items: NftMapElement[] = []
  for (const s of d.slices) {
    let target = s.ids[0] as string
    if (s.ids.length > 1) {
      const k = s.ids.join(' ')
      let h = helpers.get(k)
      if (!h) {
        h = nftChain(
          `${name}_h${helpers.size}`,
          `${tier} tier: the chains with a rule for a port interval, in tier order`,
          s.ids.map((id) => `jump ${id}`),
          sortedRefs(s.ids),
        )
        helpers.set(k, h)
      }
      target = h.name
    }
    const port = s.from === s.to ? String(s.from) : `${s.from}-${s.to}`
    items.push({ key: `${L4[s.protocol]} . ${port}`, verdict: { kind: 'goto', chain: target } })
  }
  const map = nftMap(
    `${name}_ports`,
    'inet_proto . inet_service : verdict',
    `${tier} tier: protocol . port -> the ClusterNetworkPolicy chains with a rule for it, in order`,
    items,
    'interval',
  )
  const chain = nftChain(
    name,
    `${tier} tier port dispatch of ${ids.length} ClusterNetworkPolicy chains (${d.always.length} see every packet)`,
    [`meta l4proto . th dport vmap @${map.name}`, ...d.always.map((id) => `jump ${id}`)],
    sortedRefs([map.name, ...d.always]),
  )
  return { name, objects: [...helpers.values(), map, chain] }
}

/** Returns the rules reaching an ordered list of tier chains: one jump to its dispatch, or a jump to each. */
type TierJumps = (tier: 'Admin' | 'Baseline', ids: readonly string[]) => readonly string[]

/**
 * Renders a pod's ClusterNetworkPolicy stages in one direction: the Baseline stage chain (Baseline
 * chains in order, then accept: no NetworkPolicy isolates the pod) when used, and the tier chain the
 * dispatch jumps to (Admin chains in order, then the next stage). `jumps` gives the targets that reach
 * a tier's chains (their port dispatch when it pays, else each chain).
 */
function renderTierChains(
  p: IRLocalPod,
  direction: 'Ingress' | 'Egress',
  jumps: TierJumps,
): { readonly stage?: NftChain; readonly tier: NftChain } | undefined {
  const { tiers: t, np } = tiersIn(p, direction)
  if (!t) return undefined
  const dir = direction === 'Ingress' ? 'ingress' : 'egress'
  const key = `${p.namespace}/${p.name}`
  const next = afterAdmin(t, np)
  const baseline = !np && t.baseline.length > 0 ? jumps('Baseline', t.baseline) : []
  const stage =
    !np && t.baseline.length > 0
      ? nftChain(
          t.baselineChain,
          `${dir} of pod ${key}: Baseline tier (no NetworkPolicy isolates it)`,
          [
            ...baseline.map((id) => `jump ${id}`),
            `accept comment ${nftComment(`${dir} of ${key}: no Baseline rule decided: allowed`)}`,
          ],
          sortedRefs(baseline),
        )
      : undefined
  const admin = t.admin.length > 0 ? jumps('Admin', t.admin) : []
  const tier = nftChain(
    t.chain,
    `${dir} of pod ${key} (${p.ips.map((i) => i.address).join(' ')}): ${t.admin.length > 0 ? 'Admin tier, then ' : ''}${np ? 'NetworkPolicy' : t.baseline.length > 0 ? 'Baseline tier' : 'allowed'}`,
    [...admin.map((id) => `jump ${id}`), ...(next.kind === 'jump' ? [`jump ${next.chain}`] : [])],
    sortedRefs([...admin, ...(next.kind === 'jump' ? [next.chain] : [])]),
  )
  return stage ? { stage, tier } : { tier }
}

/** Renders the map an Admin Pass reads (pod address -> the pod's next stage) for one direction and family. */
function renderPassMap(ir: NodeIR, direction: 'Ingress' | 'Egress', family: Family): NftMap {
  const elements: NftMapElement[] = []
  for (const p of ir.pods) {
    const { tiers: t, np } = tiersIn(p, direction)
    if (!t || t.admin.length === 0) continue
    const verdict = afterAdmin(t, np)
    for (const ip of p.ips) if (ip.family === family) elements.push({ key: ip.address, verdict })
  }
  return nftMap(
    `${direction === 'Ingress' ? 'ingress' : 'egress'}_pass_v${family}`,
    `${ADDR[family].type} : verdict`,
    `Admin Pass, ${direction.toLowerCase()}, IPv${family}: local pod -> its NetworkPolicy or Baseline stage`,
    elements,
  )
}

/** Renders the chain an Admin Pass jumps to: the pod's next stage by its address (every one is final). */
function renderPassChain(direction: 'Ingress' | 'Egress'): NftChain {
  const name = passChainName(direction)
  const addr = direction === 'Ingress' ? 'daddr' : 'saddr'
  return nftChain(
    name,
    `Admin tier Pass (${direction.toLowerCase()}): on to the pod's NetworkPolicy stage, else its Baseline tier`,
    [`ip ${addr} vmap @${name}_v4`, `ip6 ${addr} vmap @${name}_v6`],
    [`${name}_v4`, `${name}_v6`],
  )
}

/** Renders a verdict map from local pod addresses of one family to pod chains. */
function renderDispatchMap(ir: NodeIR, direction: 'Ingress' | 'Egress', family: Family): NftMap {
  const elements: NftMapElement[] = []
  for (const p of ir.pods) {
    const { tiers, np: d } = tiersIn(p, direction)
    const chain = tiers?.chain ?? d?.chain
    if (chain === undefined) continue
    for (const ip of p.ips)
      if (ip.family === family) elements.push({ key: ip.address, verdict: { kind: 'jump', chain } })
  }
  return nftMap(
    `${direction === 'Ingress' ? 'ingress' : 'egress'}_pods_v${family}`,
    `${ADDR[family].type} : verdict`,
    ir.clusterChains
      ? `local pods isolated or selected by ClusterNetworkPolicies for ${direction.toLowerCase()}, IPv${family} -> pod or tier chain`
      : `local pods isolated for ${direction.toLowerCase()}, IPv${family} -> pod chain`,
    elements,
  )
}

/** The anti-spoofing sets and the egress base chain's rules that use them. */
function renderAntiSpoofing(ir: NodeIR): { readonly sets: NftSet[]; readonly rules: string[] } {
  const withIf = ir.pods.filter((p) => p.interface !== undefined)
  const sets: NftSet[] = [
    nftSet(
      'pod_interfaces',
      'ifname',
      'host-side interfaces of local pods (anti-spoofing)',
      [...new Set(withIf.map((p) => `"${p.interface}"`))].sort(),
    ),
  ]
  const rules: string[] = []
  for (const f of [4, 6] as const) {
    sets.push(
      nftSet(
        `pod_sources_v${f}`,
        `ifname . ${ADDR[f].type}`,
        `interface . IPv${f} address each local pod may send from`,
        withIf.flatMap((p) =>
          p.ips.filter((ip) => ip.family === f).map((ip) => `"${p.interface}" . ${ip.address}`),
        ),
      ),
    )
    rules.push(
      `iifname @pod_interfaces meta nfproto ipv${f} iifname . ${ADDR[f].kw} saddr != @pod_sources_v${f} counter drop comment ${nftComment(`anti-spoofing: IPv${f} source is not the pod's own address`)}`,
    )
  }
  return { sets, rules }
}

/**
 * Unknown local pods (docs/semantics.md#unknown-local-pods): with the node's pod ranges known and
 * `unknownPods: 'drop'`, per family with a range: `pod_ranges_v<f>` (the ranges) and `local_pods_v<f>`
 * (every programmed local pod, isolated or not), and one rule per base chain after the dispatch: from
 * (egress) or to (ingress) an address of the ranges that is no known local pod -> counter drop.
 * Isolated known pods never reach it (their pod chain accepts or drops), non-isolated ones are in the set.
 */
function renderUnknownPods(ir: NodeIR): {
  readonly sets: NftSet[]
  readonly rules: { readonly egress: string[]; readonly ingress: string[] }
  readonly refs: string[]
} {
  const sets: NftSet[] = []
  const rules = { egress: [] as string[], ingress: [] as string[] }
  const refs: string[] = []
  if (ir.unknownPods === 'allow') return { sets, rules, refs }
  for (const f of [4, 6] as const) {
    const ranges = (ir.podRanges ?? []).filter((r) => r.family === f).map((r) => r.cidr)
    if (ranges.length === 0) continue
    const local = [
      ...new Set(ir.pods.flatMap((p) => p.ips.filter((ip) => ip.family === f).map((ip) => ip.address))),
    ].sort()
    sets.push(
      nftSet(`pod_ranges_v${f}`, ADDR[f].type, `pod ranges of node ${ir.node}, IPv${f}`, ranges, 'interval'),
      nftSet(
        `local_pods_v${f}`,
        ADDR[f].type,
        `every programmed local pod (isolated or not), IPv${f}`,
        local,
      ),
    )
    refs.push(`pod_ranges_v${f}`, `local_pods_v${f}`)
    const kw = ADDR[f].kw
    rules.egress.push(
      `${kw} saddr @pod_ranges_v${f} ${kw} saddr != @local_pods_v${f} counter drop comment ${nftComment(`unknown source pod: IPv${f} address in the node's pod ranges, not programmed yet`)}`,
    )
    rules.ingress.push(
      `${kw} daddr @pod_ranges_v${f} ${kw} daddr != @local_pods_v${f} counter drop comment ${nftComment(`unknown destination pod: IPv${f} address in the node's pod ranges, not programmed yet`)}`,
    )
  }
  return { sets, rules, refs }
}

/**
 * --revoke-established: a TCP packet conntrack calls NEW that is not a bare SYN is a flow picked up
 * mid-stream (nf_conntrack_tcp_loose), e.g. the first packet of a revoked flow after its entry was
 * deleted; it is dropped before any policy could admit it in the reverse direction.
 */
const TCP_NEW_NEEDS_SYN = `ct state new tcp flags & (fin | syn | rst | ack) != syn counter drop comment ${nftComment('revoke-established: TCP not opened by a SYN (picked up mid-stream)')}`

/** Renders a base chain on the forward hook: conntrack first, then dispatch on the pod address. */
function renderBaseChain(
  name: 'egress' | 'ingress',
  priority: string,
  comment: string,
  addr: 'saddr' | 'daddr',
  pre: readonly string[],
  afterConntrack: readonly string[],
  post: readonly string[] = [],
  postRefs: readonly string[] = [],
): NftChain {
  const hook: NftHook = { type: 'filter', hook: 'forward', priority, policy: 'accept' }
  const rules = [
    // IPv6 neighbour discovery is link plumbing, like ARP (which never reaches these hooks): bridged
    // between pods (br_netfilter) it must pass whatever the policies say. Hop limit 255 = on-link only.
    `icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept comment ${nftComment('IPv6 neighbour discovery (like ARP)')}`,
    ...pre,
    'ct state established,related accept',
    'ct state invalid counter drop',
    ...afterConntrack,
    `ip ${addr} vmap @${name}_pods_v4`,
    `ip6 ${addr} vmap @${name}_pods_v6`,
    ...post,
  ]
  const refs = [
    `${name}_pods_v4`,
    `${name}_pods_v6`,
    ...(post.length > 0 ? postRefs : []),
    ...(pre.length > 0 ? ['pod_interfaces', 'pod_sources_v4', 'pod_sources_v6'] : []),
  ]
  return nftChain(name, comment, rules, sortedRefs(refs), hook)
}

/**
 * Renders the node's ruleset as the structure of one table. `render` below is this function with a
 * memory: objects rendered from IR objects it has seen are handed back as they were.
 */
export type NftRenderer = (ir: NodeIR) => NftTable

/**
 * Rendered objects by IR object: sets and policy chains of their object; pod chains of the pod, the
 * policy chains it jumps to (their ids name IR objects: a kept rendering is only valid for the same
 * ones) and the drop-log settings.
 */
interface RenderMemo {
  readonly sets: WeakMap<IRSet, NftSet>
  readonly chains: WeakMap<IRChain, NftChain>
  readonly pods: WeakMap<IRLocalPod, RenderedPod>
  /** The dispatch maps of a list of local pods (their comment also says whether ClusterNetworkPolicies are compiled). */
  readonly dispatch: WeakMap<readonly IRLocalPod[], { readonly cnp: boolean; readonly maps: NftMap[] }>
}

/** A local pod's rendered chains and what they were rendered from besides the pod. */
interface RenderedPod {
  /** The IR chain of each policy id of the pod (ingress, then egress), undefined when unknown. */
  readonly chains: readonly (IRChain | undefined)[]
  readonly logDrops: IRLogDrops | undefined
  readonly objects: NftObject[]
}

/** True when both lists hold the same objects in the same order. */
const sameItems = <T>(a: readonly T[], b: readonly T[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i])

/** Returns the IR chains a local pod's chains jump to, ingress then egress. */
function podChains(p: IRLocalPod, chainById: ReadonlyMap<string, IRChain>): (IRChain | undefined)[] {
  const out: (IRChain | undefined)[] = []
  for (const id of p.ingress?.policies ?? []) out.push(chainById.get(id))
  for (const id of p.egress?.policies ?? []) out.push(chainById.get(id))
  return out
}

/** Returns the memoised value of `key`, computing and keeping it on a miss. */
function memo<K extends object, V>(cache: WeakMap<K, V> | undefined, key: K, make: (k: K) => V): V {
  let v = cache?.get(key)
  if (v === undefined) {
    v = make(key)
    cache?.set(key, v)
  }
  return v
}

/** Renders one table; `m` only saves work (and keeps unchanged objects identical), never changes the result. */
function renderTable(ir: NodeIR, m?: RenderMemo): NftTable {
  const podsIsolated = ir.pods.filter((p) => p.ingress || p.egress).length
  const objects: NftObject[] = []
  for (const s of ir.sets) objects.push(memo(m?.sets, s, renderSet))
  const policyName = new Map<string, string>()
  const chainById = new Map<string, IRChain>()
  for (const c of ir.chains) {
    policyName.set(c.id, `${c.policy.namespace}/${c.policy.name}`)
    chainById.set(c.id, c)
    objects.push(memo(m?.chains, c, renderPolicyChain))
  }
  for (const p of ir.pods) {
    let hit = m?.pods.get(p)
    const chains = m ? podChains(p, chainById) : []
    if (hit === undefined || hit.logDrops !== ir.logDrops || !sameItems(hit.chains, chains)) {
      hit = {
        chains,
        logDrops: ir.logDrops,
        objects: [
          ...renderPodChain(p, 'Ingress', policyName, chainById, ir.logDrops),
          ...renderPodChain(p, 'Egress', policyName, chainById, ir.logDrops),
        ],
      }
      m?.pods.set(p, hit)
    }
    for (const o of hit.objects) objects.push(o)
  }
  // ClusterNetworkPolicies (docs/semantics.md#cnp-tiers), each object after the ones it refers to:
  // Baseline chains, Baseline stages, Pass maps and chains (they reach the NetworkPolicy pod chains and
  // the Baseline stages), Admin chains (they jump to the Pass chains), tier chains (the dispatch targets).
  if (ir.clusterChains) {
    const cnp = ir.clusterChains
    const byId: ClusterChainsById = new Map(cnp.map((c) => [c.id, c]))
    // port dispatches by name (shared by the pods with the same chain list), per tier in first-use order
    const dispatches = { Admin: new Map<string, NftObject[]>(), Baseline: new Map<string, NftObject[]>() }
    const known = new Map<string, readonly string[]>()
    const jumps: TierJumps = (tier, ids) => {
      const key = `${tier}|${ids.join(' ')}`
      let out = known.get(key)
      if (out === undefined) {
        const d = renderTierDispatch(tier, ids, byId)
        if (d) dispatches[tier].set(d.name, d.objects)
        out = d ? [d.name] : ids
        known.set(key, out)
      }
      return out
    }
    for (const dir of ['Ingress', 'Egress'] as const) objects.push(...renderDenyStage(ir, dir))
    for (const c of cnp) if (c.tier === 'Baseline') objects.push(renderClusterChain(c, ir.logDrops))
    const tierChains = ir.pods.flatMap((p) =>
      [renderTierChains(p, 'Ingress', jumps), renderTierChains(p, 'Egress', jumps)].filter(
        (t) => t !== undefined,
      ),
    )
    for (const d of dispatches.Baseline.values()) objects.push(...d)
    for (const t of tierChains) if (t.stage) objects.push(t.stage)
    for (const dir of ['Ingress', 'Egress'] as const) {
      for (const f of [4, 6] as const) objects.push(renderPassMap(ir, dir, f))
      objects.push(renderPassChain(dir))
    }
    for (const c of cnp) if (c.tier === 'Admin') objects.push(renderClusterChain(c, ir.logDrops))
    for (const d of dispatches.Admin.values()) objects.push(...d)
    for (const t of tierChains) objects.push(t.tier)
  }
  let dispatch = m?.dispatch.get(ir.pods)
  if (dispatch === undefined || dispatch.cnp !== (ir.clusterChains !== undefined)) {
    const maps: NftMap[] = []
    for (const dir of ['Ingress', 'Egress'] as const)
      for (const f of [4, 6] as const) maps.push(renderDispatchMap(ir, dir, f))
    dispatch = { cnp: ir.clusterChains !== undefined, maps }
    m?.dispatch.set(ir.pods, dispatch)
  }
  objects.push(...dispatch.maps)
  const spoof = ir.antiSpoofing ? renderAntiSpoofing(ir) : undefined
  if (spoof) objects.push(...spoof.sets)
  const unknown = renderUnknownPods(ir)
  objects.push(...unknown.sets)
  objects.push(
    renderBaseChain(
      'egress',
      'filter',
      'egress of local source pods; accept here only ends this chain',
      'saddr',
      spoof?.rules ?? [],
      ir.tcpNewNeedsSyn === true ? [TCP_NEW_NEEDS_SYN] : [],
      unknown.rules.egress,
      unknown.refs,
    ),
    renderBaseChain(
      'ingress',
      'filter + 10',
      'ingress of local destination pods; runs after egress',
      'daddr',
      [],
      [],
      unknown.rules.ingress,
      unknown.refs,
    ),
  )
  return {
    family: NFT_FAMILY,
    name: NFT_TABLE,
    notes: [
      `Palisade NetworkPolicy ruleset for node ${ir.node} (generated; do not edit).`,
      `${ir.pods.length} local pods (${podsIsolated} isolated), ${ir.chains.length} policy chains, ${ir.sets.length} peer sets.`,
      ...(ir.clusterChains
        ? [
            `${ir.clusterChains.length} ClusterNetworkPolicy chains: Admin tier (Accept/Deny final, Pass -> NetworkPolicy), NetworkPolicy, Baseline tier, allowed.`,
          ]
        : []),
      'Load with `nft -f`: the three statements below are ONE transaction (all or nothing).',
      ...(ir.logDrops
        ? [
            `Drop logs: the first packet of each refused connection attempt goes to NFLOG group ${ir.logDrops.group}, at most ${ir.logDrops.rate}/s (burst ${ir.logDrops.burst}) for the node.`,
          ]
        : []),
      ...(ir.antiSpoofing
        ? []
        : [
            'Anti-spoofing: pod interfaces unknown, so source addresses are not checked here;',
            'this relies on strict reverse-path filtering (net.ipv4.conf.all.rp_filter=1) on the node.',
          ]),
      ...unknownPodsNotes(ir),
    ],
    comment: `palisade: NetworkPolicy enforcement for node ${ir.node}`,
    ...(ir.logDrops
      ? { limits: [{ name: NFT_DROP_LOG_LIMIT, rate: ir.logDrops.rate, burst: ir.logDrops.burst }] }
      : {}),
    objects,
  }
}

/** Renders the node's ruleset as the structure of `table inet palisade` (pure). */
export function renderNftables(ir: NodeIR): NftTable {
  return renderTable(ir)
}

/**
 * Returns a renderer that remembers what it rendered (no module state: the memory lives in the returned
 * function): the objects of IR objects handed to it again are the very objects it returned before, so
 * an incremental compiler pays only for what changed and the delta skips unchanged objects by identity.
 */
export function createNftRenderer(): NftRenderer {
  const m: RenderMemo = {
    sets: new WeakMap(),
    chains: new WeakMap(),
    pods: new WeakMap(),
    dispatch: new WeakMap(),
  }
  return (ir) => renderTable(ir, m)
}
