/**
 * The reachability diff of two clusters: what a change to manifests does to who may reach whom. Computed
 * from the engine's matrices over pod classes (never by comparing YAML): pods that neither cluster can
 * tell apart are evaluated once, every port of every protocol and every outside address is covered by
 * ranges that no policy can split (ports.ts, addresses.ts), and each change carries the engine's verdicts
 * before and after, whose rules (file:line) made the difference.
 */
import {
  buildClasses,
  buildIndex,
  type ClusterIndex,
  computeMatrix,
  type DirectionVerdict,
  evaluate,
  matrixPods,
  type PolicyRef,
  type PortQuery,
  refOf,
  selectingPolicies,
} from '../engine/index.js'
import type { ClusterState, Pod, PolicyType } from '../model/index.js'
import { podKey } from '../model/index.js'
import { type AddressRange, addressRanges, rangeAddress, rangesToCIDRs } from './addresses.js'
import { alignWorkloads } from './align.js'
import { explicitPortGroups, mergeRanges, type PortGroup, type PortRange, portGroups } from './ports.js'
import { foldWorkloads, type Workload } from './workloads.js'

export type Change = 'added' | 'removed'

/** One direction of a connection whose outcome changed: the engine's verdict before and after. */
export interface DirectionChange {
  readonly direction: PolicyType
  readonly before: DirectionVerdict
  readonly after: DirectionVerdict
}

/** Connections from one workload to another that were added or removed, on some ports. */
export interface ConnectionChange {
  readonly change: Change
  readonly from: string
  readonly to: string
  readonly ports: readonly PortRange[]
  /** Pod pairs that changed on each of these ports, out of `of` pairs between the two workloads. */
  readonly pairs: number
  readonly of: number
  /** The pod pair whose verdicts are shown. */
  readonly sample: { readonly from: string; readonly to: string }
  /** The directions whose outcome changed (one or both). */
  readonly reasons: readonly DirectionChange[]
}

/** A workload that became isolated, or stopped being isolated, in one direction. */
export interface IsolationChange {
  readonly workload: string
  readonly direction: PolicyType
  readonly change: 'isolated' | 'unisolated'
  readonly pods: number
  readonly of: number
  /** The policies that select it now (isolated) or selected it before (unisolated). */
  readonly policies: readonly PolicyRef[]
}

/** Addresses outside the cluster that a workload may newly (or no longer) be reached from or reach. */
export interface ExposureChange {
  readonly change: Change
  readonly workload: string
  /** Ingress: reached from the addresses; Egress: reaches them. */
  readonly direction: PolicyType
  readonly addresses: readonly string[]
  readonly ports: readonly PortRange[]
  readonly pods: number
  readonly of: number
  readonly sample: { readonly pod: string; readonly address: string }
  readonly reason: DirectionChange
}

export interface WorkloadChange {
  readonly change: Change
  readonly workload: string
  readonly kind: string
  readonly pods: number
}

export interface ReachabilityDiff {
  readonly connections: readonly ConnectionChange[]
  readonly isolation: readonly IsolationChange[]
  readonly exposure: readonly ExposureChange[]
  readonly workloads: readonly WorkloadChange[]
  /** Facts about the computation (for --verbose and the figures). */
  readonly stats: {
    readonly pods: number
    readonly jointClasses: number
    readonly portGroups: number
    readonly addressRanges: number
  }
}

export interface DiffOptions {
  /** Only these ports (default: every port of every protocol, exactly). */
  readonly ports?: readonly PortQuery[]
}

/** Whether anything about reachability changed (the diff command's exit code). */
export function hasChanges(d: ReachabilityDiff): boolean {
  return d.connections.length + d.isolation.length + d.exposure.length + d.workloads.length > 0
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

interface Side {
  readonly index: ClusterIndex
  readonly pods: ReadonlyMap<string, Pod>
}

function sideOf(cluster: ClusterState): Side {
  const index = buildIndex(cluster)
  return { index, pods: new Map(matrixPods(index).map((p) => [podKey(p), p])) }
}

/** Computes the reachability diff from the old cluster to the new one. */
export function diffClusters(
  oldCluster: ClusterState,
  newCluster: ClusterState,
  opts: DiffOptions = {},
): ReachabilityDiff {
  // A Deployment in manifests against its running pods: the template stands for each of them.
  const aligned = alignWorkloads(oldCluster, newCluster)
  oldCluster = aligned.a
  newCluster = aligned.b
  const a = sideOf(oldCluster)
  const b = sideOf(newCluster)
  const groups = opts.ports ? explicitPortGroups(opts.ports) : portGroups([oldCluster, newCluster])
  const common = [...a.pods.keys()].filter((k) => b.pods.has(k)).sort(compare)
  const podsA = common.map((k) => a.pods.get(k) as Pod)
  const podsB = common.map((k) => b.pods.get(k) as Pod)

  // Joint classes: pods that both clusters' classes put together behave alike before and after.
  const ca = buildClasses(a.index, podsA).classOf
  const cb = buildClasses(b.index, podsB).classOf
  const jointOf = new Int32Array(common.length)
  const joint = new Map<string, number>()
  const members: number[][] = []
  common.forEach((_, i) => {
    const key = `${ca[i]}|${cb[i]}`
    let j = joint.get(key)
    if (j === undefined) {
      j = members.length
      joint.set(key, j)
      members.push([])
    }
    jointOf[i] = j
    ;(members[j] as number[]).push(i)
  })

  const workloads = foldWorkloads(podsB)
  const workloadOf = new Map<string, Workload>()
  for (const w of workloads) for (const p of w.pods) workloadOf.set(p, w)

  const connections = diffConnections(a, b, podsA, podsB, jointOf, members, workloads, groups)
  const isolation = diffIsolation(a, b, podsA, podsB, workloads)
  const ranges = addressRanges([oldCluster, newCluster])
  const exposure = diffExposure(a, b, groups, ranges)
  const workloadChanges = diffWorkloads(a, b)
  return {
    connections,
    isolation,
    exposure,
    workloads: workloadChanges,
    stats: {
      pods: common.length,
      jointClasses: members.length,
      portGroups: groups.length,
      addressRanges: ranges.length,
    },
  }
}

/**
 * The matrix of one side over the representatives of the joint classes. computeMatrix gives every pair
 * of distinct representatives; a class's own cell (two distinct pods of it) is evaluated apart, since the
 * matrix puts loopback on its diagonal.
 */
function jointMatrix(
  side: Side,
  pods: readonly Pod[],
  members: readonly number[][],
  q: PortQuery,
): Uint8Array {
  const reps = members.map((m) => pods[m[0] as number] as Pod)
  const cells = computeMatrix(side.index, [q], reps).cells[0] as Uint8Array
  const k = reps.length
  members.forEach((m, j) => {
    if (m.length < 2) return
    const v = evaluate(
      side.index,
      { kind: 'pod', pod: pods[m[0] as number] as Pod },
      { kind: 'pod', pod: pods[m[1] as number] as Pod },
      q,
    )
    cells[j * k + j] = v.allowed ? 1 : 0
  })
  return cells
}

/** Returns the directions whose outcome differs between two verdicts of one pair. */
function changedDirections(
  before: ReturnType<typeof evaluate>,
  after: ReturnType<typeof evaluate>,
): DirectionChange[] {
  const out: DirectionChange[] = []
  if (before.egress.allowed !== after.egress.allowed)
    out.push({ direction: 'Egress', before: before.egress, after: after.egress })
  if (before.ingress.allowed !== after.ingress.allowed)
    out.push({ direction: 'Ingress', before: before.ingress, after: after.ingress })
  return out
}

const reasonKey = (reasons: readonly DirectionChange[]): string =>
  JSON.stringify(
    reasons.map((r) => [
      r.direction,
      r.before.note,
      r.before.selectedBy.map((p) => p.policy),
      r.before.allowedBy.map((x) => `${x.policy}#${x.rule}`),
      r.after.note,
      r.after.selectedBy.map((p) => p.policy),
      r.after.allowedBy.map((x) => `${x.policy}#${x.rule}`),
    ]),
  )

function diffConnections(
  a: Side,
  b: Side,
  podsA: readonly Pod[],
  podsB: readonly Pod[],
  jointOf: Int32Array,
  members: readonly number[][],
  workloads: readonly Workload[],
  groups: readonly PortGroup[],
): ConnectionChange[] {
  const k = members.length
  if (k === 0) return []
  const indexOfKey = new Map(podsB.map((p, i) => [podKey(p), i]))
  // Per workload: joint class -> its pods (indices) in that workload.
  const byClass = workloads.map((w) => {
    const m = new Map<number, number[]>()
    for (const key of w.pods) {
      const i = indexOfKey.get(key) as number
      const j = jointOf[i] as number
      const list = m.get(j)
      if (list) list.push(i)
      else m.set(j, [i])
    }
    return m
  })
  // Joint class -> workloads (indices) holding it.
  const holders: number[][] = Array.from({ length: k }, () => [])
  byClass.forEach((m, w) => {
    for (const j of m.keys()) (holders[j] as number[]).push(w)
  })

  interface Acc {
    change: Change
    from: number
    to: number
    pairs: number
    sample: [number, number]
  }
  // Records per port group, then merged across groups with equal counts and reasons.
  const merged = new Map<string, { record: Omit<ConnectionChange, 'ports'>; ranges: PortRange[] }>()
  for (const group of groups) {
    const before = jointMatrix(a, podsA, members, group.query)
    const after = jointMatrix(b, podsB, members, group.query)
    const acc = new Map<string, Acc>()
    for (let x = 0; x < k; x++) {
      for (let y = 0; y < k; y++) {
        const cell = x * k + y
        if (before[cell] === after[cell]) continue
        const change: Change = after[cell] === 1 ? 'added' : 'removed'
        for (const w1 of holders[x] as number[]) {
          const src = (byClass[w1] as Map<number, number[]>).get(x) as number[]
          for (const w2 of holders[y] as number[]) {
            const dst = (byClass[w2] as Map<number, number[]>).get(y) as number[]
            const same = w1 === w2 && x === y
            const pairs = same ? src.length * (src.length - 1) : src.length * dst.length
            if (pairs === 0) continue
            const id = `${w1}|${w2}|${change}`
            const sample: [number, number] = [
              src[0] as number,
              same ? (src[1] as number) : (dst[0] as number),
            ]
            const prev = acc.get(id)
            if (prev) prev.pairs += pairs
            else acc.set(id, { change, from: w1, to: w2, pairs, sample })
          }
        }
      }
    }
    for (const r of acc.values()) {
      const wFrom = workloads[r.from] as Workload
      const wTo = workloads[r.to] as Workload
      const [i, j] = r.sample
      const src = { kind: 'pod' as const }
      const vBefore = evaluate(
        a.index,
        { ...src, pod: podsA[i] as Pod },
        { ...src, pod: podsA[j] as Pod },
        group.query,
      )
      const vAfter = evaluate(
        b.index,
        { ...src, pod: podsB[i] as Pod },
        { ...src, pod: podsB[j] as Pod },
        group.query,
      )
      const reasons = changedDirections(vBefore, vAfter)
      const of =
        wFrom === wTo ? wFrom.pods.length * (wFrom.pods.length - 1) : wFrom.pods.length * wTo.pods.length
      const key = `${wFrom.key}|${wTo.key}|${r.change}|${r.pairs}|${reasonKey(reasons)}`
      const entry = merged.get(key)
      if (entry) entry.ranges.push(...group.ranges)
      else
        merged.set(key, {
          record: {
            change: r.change,
            from: wFrom.key,
            to: wTo.key,
            pairs: r.pairs,
            of,
            sample: { from: podKey(podsB[i] as Pod), to: podKey(podsB[j] as Pod) },
            reasons,
          },
          ranges: [...group.ranges],
        })
    }
  }
  return [...merged.values()]
    .map(({ record, ranges }) => ({ ...record, ports: mergeRanges(ranges) }))
    .sort(
      (x, y) =>
        compare(x.from, y.from) ||
        compare(x.to, y.to) ||
        compare(x.change, y.change) ||
        portOrder(x.ports, y.ports),
    )
}

const portOrder = (x: readonly PortRange[], y: readonly PortRange[]): number =>
  compare((x[0]?.protocol ?? '') as string, (y[0]?.protocol ?? '') as string) ||
  (x[0]?.from ?? 0) - (y[0]?.from ?? 0)

/** Workloads (of pods in both clusters) whose isolation changed, per direction. */
function diffIsolation(
  a: Side,
  b: Side,
  podsA: readonly Pod[],
  podsB: readonly Pod[],
  workloads: readonly Workload[],
): IsolationChange[] {
  const indexOfKey = new Map(podsB.map((p, i) => [podKey(p), i]))
  const out: IsolationChange[] = []
  for (const w of workloads) {
    for (const direction of ['Ingress', 'Egress'] as const) {
      let isolated = 0
      let unisolated = 0
      const now = new Map<string, PolicyRef>()
      const then = new Map<string, PolicyRef>()
      for (const key of w.pods) {
        const i = indexOfKey.get(key) as number
        const before = selectingPolicies(a.index, podsA[i] as Pod, direction)
        const after = selectingPolicies(b.index, podsB[i] as Pod, direction)
        if (before.length === 0 && after.length > 0) {
          isolated++
          for (const p of after) now.set(`${p.namespace}/${p.name}`, refOf(p))
        } else if (before.length > 0 && after.length === 0) {
          unisolated++
          for (const p of before) then.set(`${p.namespace}/${p.name}`, refOf(p))
        }
      }
      const sorted = (m: Map<string, PolicyRef>) =>
        [...m.values()].sort((x, y) => compare(x.policy, y.policy))
      if (isolated > 0)
        out.push({
          workload: w.key,
          direction,
          change: 'isolated',
          pods: isolated,
          of: w.pods.length,
          policies: sorted(now),
        })
      if (unisolated > 0)
        out.push({
          workload: w.key,
          direction,
          change: 'unisolated',
          pods: unisolated,
          of: w.pods.length,
          policies: sorted(then),
        })
    }
  }
  return out
}

/**
 * What each workload may be reached from (ingress) and may reach (egress) outside the cluster, before and
 * after, over the address ranges and port groups: every pod of both clusters counts, so a new workload
 * open to the world is an exposure added. Pods of a side are evaluated once per class.
 */
function diffExposure(
  a: Side,
  b: Side,
  groups: readonly PortGroup[],
  ranges: readonly AddressRange[],
): ExposureChange[] {
  const keys = [...new Set([...a.pods.keys(), ...b.pods.keys()])].sort(compare)
  // Fold over the union (a pod only in the old cluster still belongs to a workload there).
  const union = keys.map((k) => (b.pods.get(k) ?? a.pods.get(k)) as Pod)
  const workloads = foldWorkloads(union)
  const profile = (side: Side) => {
    const pods = keys.map((k) => side.pods.get(k)).filter((p): p is Pod => p !== undefined)
    const { classes, classOf } = buildClasses(side.index, pods)
    const cache = new Map<string, ReturnType<typeof evaluate>>()
    const byKey = new Map(pods.map((p, i) => [podKey(p), classes[classOf[i] as number]]))
    return (key: string, direction: PolicyType, r: number, g: number) => {
      const cls = byKey.get(key)
      if (!cls) return undefined
      const id = `${cls.id}|${direction}|${r}|${g}`
      let v = cache.get(id)
      if (!v) {
        const ip = { kind: 'ip' as const, ip: rangeAddress(ranges[r] as AddressRange) }
        const pod = { kind: 'pod' as const, pod: cls.representative }
        const q = (groups[g] as PortGroup).query
        v = direction === 'Ingress' ? evaluate(side.index, ip, pod, q) : evaluate(side.index, pod, ip, q)
        cache.set(id, v)
      }
      return v
    }
  }
  const before = profile(a)
  const after = profile(b)
  type Entry = { record: Omit<ExposureChange, 'addresses' | 'ports'>; ranges: number[] }
  const merged = new Map<string, Entry & { ports: PortRange[] }>()
  for (const w of workloads) {
    for (const direction of ['Ingress', 'Egress'] as const) {
      const d = direction === 'Ingress' ? 'ingress' : 'egress'
      for (let g = 0; g < groups.length; g++) {
        // Per port group: the address ranges that changed alike; then groups with equal ranges merge.
        const local = new Map<string, Entry>()
        for (let r = 0; r < ranges.length; r++) {
          const counts = { added: 0, removed: 0 }
          const samples: Partial<Record<Change, { pod: string; reason: DirectionChange }>> = {}
          for (const key of w.pods) {
            const v0 = before(key, direction, r, g)
            const v1 = after(key, direction, r, g)
            const is = v1?.allowed ?? false
            if ((v0?.allowed ?? false) === is) continue
            const change: Change = is ? 'added' : 'removed'
            counts[change]++
            samples[change] ??= {
              pod: key,
              reason: { direction, before: v0 ? v0[d] : ABSENT, after: v1 ? v1[d] : ABSENT },
            }
          }
          for (const change of ['added', 'removed'] as const) {
            const s = samples[change]
            if (!s) continue
            const key = `${change}|${counts[change]}|${reasonKey([s.reason])}`
            const entry = local.get(key)
            if (entry) entry.ranges.push(r)
            else
              local.set(key, {
                record: {
                  change,
                  workload: w.key,
                  direction,
                  pods: counts[change],
                  of: w.pods.length,
                  sample: { pod: s.pod, address: rangeAddress(ranges[r] as AddressRange) },
                  reason: s.reason,
                },
                ranges: [r],
              })
          }
        }
        for (const [key, entry] of local) {
          const id = `${w.key}|${direction}|${key}|${entry.ranges.join(',')}`
          const found = merged.get(id)
          if (found) found.ports.push(...(groups[g] as PortGroup).ranges)
          else merged.set(id, { ...entry, ports: [...(groups[g] as PortGroup).ranges] })
        }
      }
    }
  }
  return [...merged.values()]
    .map(({ record, ranges: rs, ports }) => ({
      ...record,
      addresses: rangesToCIDRs([...rs].map((r) => ranges[r] as AddressRange)),
      ports: mergeRanges(ports),
    }))
    .sort(
      (x, y) =>
        compare(x.workload, y.workload) ||
        compare(x.direction, y.direction) ||
        compare(x.change, y.change) ||
        portOrder(x.ports, y.ports),
    )
}

/** The verdict of a side where the pod does not exist. */
const ABSENT: DirectionVerdict = {
  isolated: false,
  allowed: false,
  selectedBy: [],
  allowedBy: [],
  note: 'not-a-pod',
}

/** Workloads whose pods exist on one side only. */
function diffWorkloads(a: Side, b: Side): WorkloadChange[] {
  const out: WorkloadChange[] = []
  const only = (x: Side, y: Side) => [...x.pods.values()].filter((p) => !y.pods.has(podKey(p)))
  for (const w of foldWorkloads(only(a, b)))
    out.push({ change: 'removed', workload: w.key, kind: w.kind, pods: w.pods.length })
  for (const w of foldWorkloads(only(b, a)))
    out.push({ change: 'added', workload: w.key, kind: w.kind, pods: w.pods.length })
  return out.sort((x, y) => compare(x.workload, y.workload) || compare(x.change, y.change))
}
