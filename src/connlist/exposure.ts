/**
 * Exposure: for each workload, who may open connections to it (ingress) and to whom it may open them
 * (egress), read from the rules of the policies that select it, so pods and namespaces that do not exist
 * yet count (`entire-cluster`, `backend/[all pods]`, `[namespace with {team=a}]/[pod with {app=x}]`), as
 * netpol-analyzer's exposure analysis reports it; outside addresses come from the connection list, exact.
 */
import { mergeRanges, type PortRange, type Workload } from '../diff/index.js'
import { buildIndex, type ClusterIndex, selectingPolicies } from '../engine/index.js'
import type { ClusterState, LabelSelector, Pod, PolicyRule, PolicyType, Protocol } from '../model/index.js'
import { cidrLast, PROTOCOLS, parseCIDR } from '../model/index.js'
import {
  ALL_PEERS,
  clusterPolicySelectsPod,
  clusterRulesOf,
  isEmptySelector,
  isPolicyEndpoint,
  matchPeerPod,
  type PeerMatcher,
  peerMatcher,
  renderSelector,
} from '../semantics/index.js'
import { type Connection, type Connlist, type ConnPeer, peerName } from './connlist.js'

/** A named port of an egress rule: resolved on each destination pod, so it stays a name here. */
export interface NamedRulePort {
  readonly protocol: Protocol
  readonly name: string
}

/** The ports of an exposure: numeric ranges, and names an egress rule gives (resolved per destination). */
export interface ExposurePorts {
  readonly ranges: readonly PortRange[]
  readonly named: readonly NamedRulePort[]
}

/** Who a workload is exposed to, as the rule reads: the whole cluster, pods of some namespaces, or outside. */
export type ExposurePeer =
  | { readonly kind: 'entire-cluster' }
  /** A selector peer: `namespace` set for a podSelector-only peer or a namespaceSelector on the name label. */
  | {
      readonly kind: 'pods'
      readonly namespace?: string
      readonly namespaceSelector?: LabelSelector
      readonly podSelector: LabelSelector
    }
  | { readonly kind: 'external'; readonly cidrs: readonly string[] }

export interface ExposureLine {
  readonly workload: string
  readonly direction: PolicyType
  readonly peer: ExposurePeer
  /** Text of the peer: `entire-cluster`, `backend/[all pods]`, `0.0.0.0/0 except 10.0.0.0/8`. */
  readonly peerText: string
  readonly ports: ExposurePorts
  /** The workloads of the input the peer matches today (selector peers only). */
  readonly today: readonly string[]
  /** For outside addresses: the pods of the workload it holds for, out of its pods. */
  readonly count?: number
  readonly of?: number
}

/** The headline of one direction of one workload. */
export type ExposureLevel =
  | 'unprotected' // no policy of this direction selects it: everything is allowed
  | 'entire-cluster' // some rule admits every pod of every namespace
  | 'namespaces' // every pod of some namespaces
  | 'selected-pods' // only pods some selector picks
  | 'none' // isolated, and no rule admits any pod

export interface WorkloadExposure {
  readonly workload: string
  readonly direction: PolicyType
  readonly level: ExposureLevel
  /** Outside addresses it is exposed to that are public (not private, loopback, link-local...). */
  readonly internet: boolean
  /** Outside addresses of any kind. */
  readonly outside: boolean
  /**
   * ClusterNetworkPolicies with rules of this direction that select the workload: the exposure lines read
   * NetworkPolicy rules only, so they decide beyond them (the connection list is exact). Absent when none.
   */
  readonly clusterPolicies?: readonly string[]
}

export interface Exposure {
  readonly lines: readonly ExposureLine[]
  readonly workloads: readonly WorkloadExposure[]
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const MAX_PORT = 65535
const ALL_PORTS: ExposurePorts = {
  ranges: PROTOCOLS.map((protocol) => ({ protocol, from: 1, to: MAX_PORT })),
  named: [],
}

/** The ports a rule admits towards `destination` (ingress: the workload's pod; egress: unknown, names kept). */
function rulePorts(rule: PolicyRule, destination: Pod | undefined): ExposurePorts {
  if (rule.ports === undefined) return ALL_PORTS
  const ranges: PortRange[] = []
  const named: NamedRulePort[] = []
  for (const p of rule.ports) {
    if (p.port === undefined) ranges.push({ protocol: p.protocol, from: 1, to: MAX_PORT })
    else if (typeof p.port === 'number')
      ranges.push({ protocol: p.protocol, from: p.port, to: p.endPort ?? p.port })
    else if (destination === undefined) named.push({ protocol: p.protocol, name: p.port })
    else if (isPolicyEndpoint(destination))
      for (const cp of destination.ports)
        if (cp.name === p.port && cp.protocol === p.protocol)
          ranges.push({ protocol: p.protocol, from: cp.containerPort, to: cp.containerPort })
  }
  return { ranges: mergeRanges(ranges), named }
}

const unionPorts = (a: ExposurePorts, b: ExposurePorts): ExposurePorts => {
  const named = new Map<string, NamedRulePort>()
  for (const n of [...a.named, ...b.named]) named.set(`${n.protocol}/${n.name}`, n)
  return {
    ranges: mergeRanges([...a.ranges, ...b.ranges]),
    named: [...named.values()].sort((x, y) => compare(x.protocol, y.protocol) || compare(x.name, y.name)),
  }
}

/** True when every port of `inner` is a port of `outer`. */
function coversPorts(outer: ExposurePorts, inner: ExposurePorts): boolean {
  const inRanges = (r: PortRange) =>
    outer.ranges.some((o) => o.protocol === r.protocol && o.from <= r.from && o.to >= r.to)
  const wholeProtocol = (p: Protocol) => inRanges({ protocol: p, from: 1, to: MAX_PORT })
  return (
    inner.ranges.every(inRanges) &&
    inner.named.every(
      (n) =>
        wholeProtocol(n.protocol) || outer.named.some((o) => o.protocol === n.protocol && o.name === n.name),
    )
  )
}

const NAME_LABEL = 'kubernetes.io/metadata.name'

/** The namespace a selector names by the label the API server sets, when that is all it says. */
function namespaceByName(sel: LabelSelector): string | undefined {
  const keys = Object.keys(sel.matchLabels)
  if (sel.matchExpressions.length === 0 && keys.length === 1 && keys[0] === NAME_LABEL)
    return sel.matchLabels[NAME_LABEL]
  return undefined
}

/** Turns a selector peer into an exposure peer; ipBlocks are not here (outside addresses are exact). */
function peerOf(m: PeerMatcher): ExposurePeer | undefined {
  if (m.kind === 'all') return { kind: 'entire-cluster' }
  if (m.kind === 'ipBlock') return undefined
  if (m.namespaces.kind === 'namespace')
    return { kind: 'pods', namespace: m.namespaces.namespace, podSelector: m.podSelector }
  const sel = m.namespaces.selector
  if (isEmptySelector(sel) && isEmptySelector(m.podSelector)) return { kind: 'entire-cluster' }
  const byName = namespaceByName(sel)
  return byName === undefined
    ? { kind: 'pods', namespaceSelector: sel, podSelector: m.podSelector }
    : { kind: 'pods', namespace: byName, podSelector: m.podSelector }
}

/** Writes a peer as netpol-analyzer does: `entire-cluster`, `ns/[all pods]`, `[all namespaces]/[pod with {app=x}]`. */
export function exposurePeerText(p: ExposurePeer): string {
  if (p.kind === 'entire-cluster') return 'entire-cluster'
  if (p.kind === 'external') return formatOutside(p.cidrs)
  const pods = isEmptySelector(p.podSelector) ? '[all pods]' : `[pod with {${renderSelector(p.podSelector)}}]`
  if (p.namespace !== undefined) return `${p.namespace}/${pods}`
  const ns =
    p.namespaceSelector === undefined || isEmptySelector(p.namespaceSelector)
      ? '[all namespaces]'
      : `[namespace with {${renderSelector(p.namespaceSelector)}}]`
  return `${ns}/${pods}`
}

const formatOutside = (cidrs: readonly string[]): string => peerName({ kind: 'external', cidrs })

/** Computes the exposure of every workload of a connection list (built from the same cluster). */
export function buildExposure(
  cluster: ClusterState,
  list: Connlist,
  index: ClusterIndex = buildIndex(cluster),
): Exposure {
  const lines: ExposureLine[] = []
  const workloads: WorkloadExposure[] = []
  const firstPod = new Map<string, Pod>()
  for (const w of list.workloads) {
    const pod = index.podsByKey.get(w.pods[0] as string)
    if (pod) firstPod.set(w.key, pod)
  }
  const nameOf = new Map(list.workloads.map((w) => [w.key, `${w.key}[${w.kind}]`]))
  // The workloads a selector peer matches today, once per distinct peer (many workloads share peers).
  const todayOf = new Map<string, string[]>()
  const today = (m: PeerMatcher): string[] => {
    let found = todayOf.get(m.key)
    if (!found) {
      found = list.workloads
        .filter((o) => {
          const p = firstPod.get(o.key)
          return p !== undefined && matchPeerPod(index.namespaces, m, p)
        })
        .map((o) => nameOf.get(o.key) as string)
      todayOf.set(m.key, found)
    }
    return found
  }
  // The connections with an outside peer, per workload (one pass, not one per workload).
  const withOutside = new Map<string, Connection[]>()
  for (const c of list.connections) {
    const me = c.src.kind === 'workload' ? c.src : c.dst.kind === 'workload' ? c.dst : undefined
    if (me?.kind !== 'workload' || (c.src.kind !== 'external' && c.dst.kind !== 'external')) continue
    const l = withOutside.get(me.key)
    if (l) l.push(c)
    else withOutside.set(me.key, [c])
  }
  for (const w of list.workloads) {
    const pod = firstPod.get(w.key)
    if (!pod) continue
    for (const direction of ['Ingress', 'Egress'] as const) {
      const mine = selectorLines(index, w, pod, direction, today)
      const outside = outsideLines(withOutside.get(w.key) ?? [], w, direction)
      lines.push(...mine.lines, ...outside)
      const public_ = outside.some((l) => l.peer.kind === 'external' && isPublic(l.peer.cidrs))
      const tiered = [...index.tiers.Admin, ...index.tiers.Baseline]
        .filter(
          (p) => clusterRulesOf(p, direction).length > 0 && clusterPolicySelectsPod(index.namespaces, p, pod),
        )
        .map((p) => `${p.tier} ${p.name}`)
      workloads.push({
        workload: w.key,
        direction,
        level: mine.level,
        internet: public_,
        outside: outside.length > 0,
        ...(tiered.length > 0 ? { clusterPolicies: tiered } : {}),
      })
    }
  }
  lines.sort(
    (a, b) =>
      compare(a.direction, b.direction) ||
      compare(a.workload, b.workload) ||
      compare(
        a.peer.kind === 'external' ? `0${a.peerText}` : `1${a.peerText}`,
        b.peer.kind === 'external' ? `0${b.peerText}` : `1${b.peerText}`,
      ),
  )
  return { lines, workloads }
}

function selectorLines(
  index: ClusterIndex,
  w: Workload,
  pod: Pod,
  direction: PolicyType,
  todayOf: (m: PeerMatcher) => string[],
): { lines: ExposureLine[]; level: ExposureLevel } {
  const selecting = selectingPolicies(index, pod, direction)
  if (selecting.length === 0) {
    const peer: ExposurePeer = { kind: 'entire-cluster' }
    return {
      lines: [
        { workload: w.key, direction, peer, peerText: exposurePeerText(peer), ports: ALL_PORTS, today: [] },
      ],
      level: 'unprotected',
    }
  }
  const byText = new Map<string, { peer: ExposurePeer; matcher: PeerMatcher; ports: ExposurePorts }>()
  for (const pol of selecting) {
    for (const rule of direction === 'Ingress' ? pol.ingress : pol.egress) {
      const ports = rulePorts(rule, direction === 'Ingress' ? pod : undefined)
      if (ports.ranges.length === 0 && ports.named.length === 0) continue
      const matchers =
        rule.peers === undefined ? [ALL_PEERS] : rule.peers.map((p) => peerMatcher(p, pol.namespace))
      for (const m of matchers) {
        const peer = peerOf(m)
        if (!peer) continue
        const text = exposurePeerText(peer)
        const prev = byText.get(text)
        byText.set(
          text,
          prev ? { ...prev, ports: unionPorts(prev.ports, ports) } : { peer, matcher: m, ports },
        )
      }
    }
  }
  const cluster = byText.get('entire-cluster')
  const lines: ExposureLine[] = []
  let level: ExposureLevel = 'none'
  const rank: Record<ExposureLevel, number> = {
    none: 0,
    'selected-pods': 1,
    namespaces: 2,
    'entire-cluster': 3,
    unprotected: 4,
  }
  for (const [text, e] of byText) {
    // A narrower peer on ports the whole cluster already has adds nothing.
    if (cluster && text !== 'entire-cluster' && coversPorts(cluster.ports, e.ports)) continue
    const today = e.peer.kind === 'pods' ? todayOf(e.matcher) : []
    lines.push({ workload: w.key, direction, peer: e.peer, peerText: text, ports: e.ports, today })
    const l: ExposureLevel =
      e.peer.kind === 'entire-cluster'
        ? 'entire-cluster'
        : e.peer.kind === 'pods' && isEmptySelector(e.peer.podSelector)
          ? 'namespaces'
          : 'selected-pods'
    if (rank[l] > rank[level]) level = l
  }
  return { lines, level }
}

/** The outside addresses of the connection list for a workload and direction, as exposure lines. */
function outsideLines(
  connections: readonly Connection[],
  w: Workload,
  direction: PolicyType,
): ExposureLine[] {
  const out: ExposureLine[] = []
  for (const c of connections) {
    const [me, other]: [ConnPeer, ConnPeer] = direction === 'Ingress' ? [c.dst, c.src] : [c.src, c.dst]
    if (me.kind !== 'workload' || me.key !== w.key || other.kind !== 'external') continue
    const peer: ExposurePeer = { kind: 'external', cidrs: other.cidrs }
    out.push({
      workload: w.key,
      direction,
      peer,
      peerText: exposurePeerText(peer),
      ports: { ranges: c.ports, named: [] },
      today: [],
      count: c.count,
      of: c.of,
    })
  }
  return out
}

/** Addresses no one reaches from the internet: private, shared, loopback, link-local, multicast, reserved. */
const NOT_PUBLIC = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
].map((t) => parseCIDR(t) as NonNullable<ReturnType<typeof parseCIDR>>)

/** True when some address of the CIDRs is public (outside every range of NOT_PUBLIC). */
export function isPublic(cidrs: readonly string[]): boolean {
  for (const text of cidrs) {
    const c = parseCIDR(text)
    if (!c) continue
    const blocks = NOT_PUBLIC.filter((b) => b.family === c.family)
      .map((b) => ({ first: b.base, last: cidrLast(b) }))
      .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0))
    let next = c.base
    const last = cidrLast(c)
    for (const b of blocks) {
      if (b.last < next) continue
      if (b.first > next) return true // a gap before this private block
      next = b.last + 1n
      if (next > last) break
    }
    if (next <= last) return true
  }
  return false
}
