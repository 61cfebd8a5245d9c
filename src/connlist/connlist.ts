/**
 * The connection list: which workload may open connections to which, and to and from which outside
 * addresses, on which ports, with replicas folded (as netpol-analyzer's `list` reports it). Computed from the
 * engine's pod classes over every port of every protocol and every outside address, split into ranges
 * that no policy can tell apart (src/diff's port groups and address ranges): exact, never sampled.
 */
import {
  type AddressRange,
  addressRanges,
  classPairMatrices,
  explicitPortGroups,
  foldWorkloads,
  mergeRanges,
  type PortGroup,
  type PortRange,
  portGroups,
  rangeAddress,
  rangesToCIDRs,
  type Workload,
} from '../diff/index.js'
import {
  buildClasses,
  buildIndex,
  type ClusterIndex,
  evaluate,
  matrixPods,
  type PortQuery,
  selectingPolicies,
} from '../engine/index.js'
import type { ClusterState, Pod, PolicyType } from '../model/index.js'
import { cidrLast, formatIP, parseCIDR, podKey, policyKey } from '../model/index.js'
import { clusterPolicySelectsPod, familiesOf } from '../semantics/index.js'

/** One end of a connection: a workload of the cluster (replicas folded) or a set of outside addresses. */
export type ConnPeer =
  | {
      readonly kind: 'workload'
      /** 'namespace/name' */
      readonly key: string
      readonly namespace: string
      readonly name: string
      /** Deployment, StatefulSet..., or Pod for pods without a known owner. */
      readonly workloadKind: string
      readonly pods: number
    }
  | {
      readonly kind: 'external'
      /** The fewest CIDRs that cover exactly these addresses, sorted (IPv4 first). */
      readonly cidrs: readonly string[]
    }

/** Connections allowed from src to dst on some ports. */
export interface Connection {
  readonly src: ConnPeer
  readonly dst: ConnPeer
  /** Merged port ranges, protocols in TCP, UDP, SCTP order. */
  readonly ports: readonly PortRange[]
  /**
   * On each of these ports: between two workloads, the pod pairs allowed (`count`) out of every pod pair
   * (`of`: a workload to itself counts pairs of distinct replicas); with an outside peer, the workload's
   * pods allowed out of its pods. count === of for a connection every replica has.
   */
  readonly count: number
  readonly of: number
}

export interface Connlist {
  readonly workloads: readonly Workload[]
  readonly connections: readonly Connection[]
  readonly stats: {
    readonly pods: number
    readonly classes: number
    readonly portGroups: number
    readonly addressRanges: number
  }
}

export interface ConnlistOptions {
  /** Only these ports (default: every port of every protocol, exactly). */
  readonly ports?: readonly PortQuery[]
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Returns a workload as a connection peer. */
export function workloadPeer(w: Workload): ConnPeer {
  return {
    kind: 'workload',
    key: w.key,
    namespace: w.namespace,
    name: w.name,
    workloadKind: w.kind,
    pods: w.pods.length,
  }
}

/** Builds the connection list of a cluster (hostNetwork pods are their node, not workloads: docs/semantics.md). */
export function buildConnlist(cluster: ClusterState, opts: ConnlistOptions = {}): Connlist {
  const index = buildIndex(cluster)
  const pods = matrixPods(index)
  const { classes, classOf } = buildClasses(index, pods)
  const members: number[][] = classes.map(() => [])
  classOf.forEach((c, i) => {
    ;(members[c] as number[]).push(i)
  })
  const workloads = foldWorkloads(pods)
  const indexOfKey = new Map(pods.map((p, i) => [podKey(p), i]))
  // Per workload: class -> its pods (indices) in that workload; per class: the workloads holding it.
  const byClass = workloads.map((w) => {
    const m = new Map<number, number[]>()
    for (const key of w.pods) {
      const i = indexOfKey.get(key) as number
      const c = classOf[i] as number
      const list = m.get(c)
      if (list) list.push(i)
      else m.set(c, [i])
    }
    return m
  })
  const holders: number[][] = classes.map(() => [])
  byClass.forEach((m, w) => {
    for (const c of m.keys()) (holders[c] as number[]).push(w)
  })
  const groups = opts.ports ? explicitPortGroups(opts.ports) : portGroups([cluster])
  const ranges = addressRanges([cluster])
  const peers = workloads.map(workloadPeer)
  const connections = [
    ...podConnections(index, pods, members, byClass, holders, workloads, peers, groups),
    ...outsideConnections(index, classes, byClass, workloads, peers, groups, ranges),
  ].sort(compareConnections)
  return {
    workloads,
    connections,
    stats: {
      pods: pods.length,
      classes: classes.length,
      portGroups: groups.length,
      addressRanges: ranges.length,
    },
  }
}

/** Names a peer as netpol-analyzer does: `ns/name[Kind]`, or the CIDRs of an outside peer. */
export function peerName(p: ConnPeer): string {
  return p.kind === 'workload' ? `${p.key}[${p.workloadKind}]` : formatCIDRSet(p.cidrs)
}

const compareConnections = (x: Connection, y: Connection): number =>
  compare(peerName(x.src), peerName(y.src)) ||
  compare(peerName(x.dst), peerName(y.dst)) ||
  y.count - x.count ||
  (x.ports[0]?.from ?? 0) - (y.ports[0]?.from ?? 0)

/** Workload to workload: per port group, the class matrix folded into pod-pair counts per workload pair. */
function podConnections(
  index: ClusterIndex,
  pods: readonly Pod[],
  members: readonly number[][],
  byClass: readonly Map<number, number[]>[],
  holders: readonly number[][],
  workloads: readonly Workload[],
  peers: readonly ConnPeer[],
  groups: readonly PortGroup[],
): Connection[] {
  const k = members.length
  if (k === 0) return []
  // 'w1|w2|count' -> the port ranges on which exactly count pod pairs are allowed.
  const acc = new Map<string, { from: number; to: number; count: number; ranges: PortRange[] }>()
  const nw = workloads.length
  const matrices = classPairMatrices(
    index,
    pods,
    members,
    groups.map((g) => g.query),
  )
  groups.forEach((group, gi) => {
    const cells = matrices[gi] as Uint8Array
    // Pair counts keyed by the number w1 * nw + w2 (no strings in the k x k loop).
    const counts = new Map<number, number>()
    for (let x = 0; x < k; x++) {
      const hx = holders[x] as number[]
      for (let y = 0; y < k; y++) {
        if (cells[x * k + y] !== 1) continue
        for (const w1 of hx) {
          const src = (byClass[w1] as Map<number, number[]>).get(x) as number[]
          for (const w2 of holders[y] as number[]) {
            const dst = (byClass[w2] as Map<number, number[]>).get(y) as number[]
            // Pairs of distinct pods: a pod to itself is loopback, never a connection between replicas.
            const pairs = w1 === w2 && x === y ? src.length * (src.length - 1) : src.length * dst.length
            if (pairs === 0) continue
            const id = w1 * nw + w2
            counts.set(id, (counts.get(id) ?? 0) + pairs)
          }
        }
      }
    }
    for (const [id, count] of counts) {
      const from = Math.floor(id / nw)
      const to = id - from * nw
      const key = `${from}|${to}|${count}`
      const entry = acc.get(key)
      if (entry) entry.ranges.push(...group.ranges)
      else acc.set(key, { from, to, count, ranges: [...group.ranges] })
    }
  })
  return [...acc.values()].map((e) => {
    const a = workloads[e.from] as Workload
    const b = workloads[e.to] as Workload
    const of = e.from === e.to ? a.pods.length * (a.pods.length - 1) : a.pods.length * b.pods.length
    return {
      src: peers[e.from] as ConnPeer,
      dst: peers[e.to] as ConnPeer,
      ports: mergeRanges(e.ranges),
      count: e.count,
      of,
    }
  })
}

/**
 * Workloads and outside addresses, both ways. A verdict with an outside address depends only on the pod's
 * policies of that direction, its address families and (ingress) its named ports, so classes that share
 * those share evaluations.
 */
function outsideConnections(
  index: ClusterIndex,
  classes: ReturnType<typeof buildClasses>['classes'],
  byClass: readonly Map<number, number[]>[],
  workloads: readonly Workload[],
  peers: readonly ConnPeer[],
  groups: readonly PortGroup[],
  ranges: readonly AddressRange[],
): Connection[] {
  const out: Connection[] = []
  for (const direction of ['Ingress', 'Egress'] as const) {
    const cache = new Map<string, boolean>()
    const profiles = classes.map((c) => outsideProfile(index, c.representative, direction))
    const allowed = (c: number, r: number, g: number): boolean => {
      const id = `${profiles[c]}|${r}|${g}`
      let v = cache.get(id)
      if (v === undefined) {
        const ip = { kind: 'ip' as const, ip: rangeAddress(ranges[r] as AddressRange) }
        const pod = { kind: 'pod' as const, pod: (classes[c] as (typeof classes)[number]).representative }
        const q = (groups[g] as PortGroup).query
        v = (direction === 'Ingress' ? evaluate(index, ip, pod, q) : evaluate(index, pod, ip, q)).allowed
        cache.set(id, v)
      }
      return v
    }
    workloads.forEach((w, wi) => {
      const mine = [...(byClass[wi] as Map<number, number[]>)]
      // 'count|port groups' -> address ranges; then one connection per (count, ranges) with merged ports.
      const byPorts = new Map<string, { count: number; groups: number[]; ranges: AddressRange[] }>()
      for (let r = 0; r < ranges.length; r++) {
        const perCount = new Map<number, number[]>()
        for (let g = 0; g < groups.length; g++) {
          let count = 0
          for (const [c, list] of mine) if (allowed(c, r, g)) count += list.length
          if (count === 0) continue
          const gs = perCount.get(count)
          if (gs) gs.push(g)
          else perCount.set(count, [g])
        }
        for (const [count, gs] of perCount) {
          const key = `${count}|${gs.join(',')}`
          const entry = byPorts.get(key)
          if (entry) entry.ranges.push(ranges[r] as AddressRange)
          else byPorts.set(key, { count, groups: gs, ranges: [ranges[r] as AddressRange] })
        }
      }
      for (const e of byPorts.values()) {
        const outside: ConnPeer = { kind: 'external', cidrs: rangesToCIDRs(e.ranges) }
        const me = peers[wi] as ConnPeer
        out.push({
          src: direction === 'Ingress' ? outside : me,
          dst: direction === 'Ingress' ? me : outside,
          ports: mergeRanges(e.groups.flatMap((g) => (groups[g] as PortGroup).ranges)),
          count: e.count,
          of: w.pods.length,
        })
      }
    })
  }
  return out
}

/** What a verdict between a pod and an outside address can depend on, on the pod's side. */
function outsideProfile(index: ClusterIndex, pod: Pod, direction: PolicyType): string {
  const policies = selectingPolicies(index, pod, direction).map(policyKey).sort(compare)
  const tiers = [...index.tiers.Admin, ...index.tiers.Baseline]
    .filter((p) => clusterPolicySelectsPod(index.namespaces, p, pod))
    .map((p) => p.name)
  // Named ports resolve on the destination: the pod's for ingress, never an outside address's.
  const ports =
    direction === 'Ingress'
      ? pod.ports.map((p) => `${p.name ?? ''}:${p.containerPort}/${p.protocol}`).sort(compare)
      : []
  return JSON.stringify([
    direction,
    policies,
    tiers,
    familiesOf(pod.ips),
    ports,
    pod.phase ?? '',
    pod.hostNetwork,
  ])
}

/**
 * Formats a set of CIDRs as an ipBlock reads: `0.0.0.0/0`, `0.0.0.0/0 except 10.0.0.0/8`, or the list
 * `10.0.0.0/8,192.168.0.0/16` when the set is not one block with fewer holes. Families are joined by `,`.
 */
export function formatCIDRSet(cidrs: readonly string[]): string {
  const parts: string[] = []
  for (const family of [4, 6] as const) {
    const mine = cidrs.filter((c) => (family === 4 ? !c.includes(':') : c.includes(':')))
    if (mine.length === 0) continue
    const block = coveringBlock(mine, family)
    const holes = block ? blockHoles(block, mine, family) : undefined
    if (block && holes && holes.length > 0 && holes.length < mine.length)
      parts.push(`${block.text} except ${holes.join(',')}`)
    else parts.push(mine.join(','))
  }
  return parts.join(',')
}

interface Block {
  readonly text: string
  readonly first: bigint
  readonly last: bigint
}

/** The smallest CIDR that covers every given CIDR (one family). */
function coveringBlock(cidrs: readonly string[], family: 4 | 6): Block | undefined {
  let first: bigint | undefined
  let last: bigint | undefined
  for (const t of cidrs) {
    const c = parseCIDR(t)
    if (!c) return undefined
    const l = cidrLast(c)
    if (first === undefined || c.base < first) first = c.base
    if (last === undefined || l > last) last = l
  }
  if (first === undefined || last === undefined) return undefined
  const bits = family === 4 ? 32 : 128
  let prefix = bits
  while (prefix > 0 && first >> BigInt(bits - prefix) !== last >> BigInt(bits - prefix)) prefix--
  const base = prefix === 0 ? 0n : (first >> BigInt(bits - prefix)) << BigInt(bits - prefix)
  const size = 1n << BigInt(bits - prefix)
  return { text: `${formatIP(family, base)}/${prefix}`, first: base, last: base + size - 1n }
}

/** The CIDRs of a block that the given CIDRs do not cover. */
function blockHoles(block: Block, cidrs: readonly string[], family: 4 | 6): string[] {
  const covered = cidrs
    .map((t) => parseCIDR(t))
    .filter((c) => c !== undefined)
    .map((c) => ({ first: c.base, last: cidrLast(c) }))
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0))
  const holes: AddressRange[] = []
  let next = block.first
  for (const c of covered) {
    if (c.first > next) holes.push({ family, first: next, last: c.first - 1n })
    if (c.last + 1n > next) next = c.last + 1n
  }
  if (next <= block.last) holes.push({ family, first: next, last: block.last })
  return rangesToCIDRs(holes)
}
