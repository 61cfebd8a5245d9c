/**
 * Drop counters (edge): the kernel's counters of our drop rules, read at scrape time (one listing, kept
 * for a second or two), attributed to the pod and direction whose chain holds the rule, and summed in
 * the agent so that the exported counters never go down: a reload or a flushed chain restarts the
 * kernel's counters (the rule is new: the backend gives it a new identity), the agent adds from 0 again.
 * Before a change that re-creates chains the applier asks for one more reading, so what was counted
 * since the last scrape is not lost with the old rules. A pod that goes away drops its series.
 * Drop rules outside pod chains (ct state invalid, anti-spoofing, and any other counted drop the
 * renderers add) are summed by their reason (the rule's comment).
 */
import type { Logger } from 'pino'
import type { KernelDropCounter } from '../backends/index.js'
import { type NodeIR, tierDenyChainId } from '../compile/index.js'
import type { AgentMetrics } from './metrics.js'

/** A pod chain: the pod it isolates, in which direction, and by which policies. */
export interface PodDropChain {
  readonly namespace: string
  readonly pod: string
  readonly direction: 'ingress' | 'egress'
  /** 'namespace/name' of each policy isolating the pod in that direction (the legacy annotation: its synthetic policy's name, as `explain` names it). */
  readonly policies: readonly string[]
}

/**
 * A ClusterNetworkPolicy chain, shared by the pods its subject selects: its Deny rules log under its name
 * (the pod is the packet's address: the destination for ingress, the source for egress) and go to the
 * pod's Deny chain, which counts (a PodDropChain).
 */
export interface ClusterPolicyDropChain {
  readonly kind: 'cluster-policy'
  readonly direction: 'ingress' | 'egress'
  readonly tier: 'Admin' | 'Baseline'
  /** metadata.name of the ClusterNetworkPolicy. */
  readonly policy: string
}

/** A chain whose drops are attributed: a pod's, or a ClusterNetworkPolicy's (drop logs only). */
export type DropChain = PodDropChain | ClusterPolicyDropChain

/** Backend chain name -> the pod chain or ClusterNetworkPolicy chain it is. */
export type DropIndex = ReadonlyMap<string, DropChain>

/** True for a pod's chain (its drops are counted for the pod). */
export function isPodDropChain(c: DropChain): c is PodDropChain {
  return !('kind' in c)
}

/**
 * Returns the pod chains of an IR under the names the backend gives them: NetworkPolicy pod chains, the
 * pods' tier Deny chains (a ClusterNetworkPolicy Deny, counted per pod: `policies` are then the
 * ClusterNetworkPolicies of the pod's tiers), and the ClusterNetworkPolicy chains (their Deny logs).
 */
export function buildDropIndex(ir: NodeIR, chainName: (irChainId: string) => string): DropIndex {
  const policy = new Map<string, string>()
  for (const c of ir.chains) policy.set(c.id, `${c.policy.namespace}/${c.policy.name}`)
  const cnp = new Map((ir.clusterChains ?? []).map((c) => [c.id, c]))
  const out = new Map<string, DropChain>()
  for (const p of ir.pods) {
    for (const [direction, d, t] of [
      ['ingress', p.ingress, p.ingressTiers],
      ['egress', p.egress, p.egressTiers],
    ] as const) {
      if (d)
        out.set(chainName(d.chain), {
          namespace: p.namespace,
          pod: p.name,
          direction,
          policies: [...new Set(d.policies.map((id) => policy.get(id) ?? id))],
        })
      if (t)
        out.set(chainName(tierDenyChainId(t)), {
          namespace: p.namespace,
          pod: p.name,
          direction,
          policies: [...new Set([...t.admin, ...t.baseline].map((id) => cnp.get(id)?.policy ?? id))],
        })
    }
  }
  for (const c of cnp.values())
    out.set(chainName(c.id), {
      kind: 'cluster-policy',
      direction: c.direction === 'Ingress' ? 'ingress' : 'egress',
      tier: c.tier,
      policy: c.policy,
    })
  return out
}

/** One exported series of palisade_dropped_packets_total. */
export interface PodDropSeries {
  readonly namespace: string
  readonly pod: string
  readonly direction: 'ingress' | 'egress'
  readonly packets: number
}

export interface DropCountersOptions {
  /** Reads the kernel's counters (the dataplane's dropCounters). */
  readonly read: () => Promise<readonly KernelDropCounter[]>
  /** The backend's name of an IR chain (Backend.chainName). */
  readonly chainName: (irChainId: string) => string
  /**
   * A reading younger than this is reused by a scrape (default 1500 ms); after a reading that took more
   * than a second, one younger than ten times its duration: `nft` lists the whole table (set elements
   * included) to read any counter, seconds on a 100k-pod cluster, so scrapes then spend at most a tenth of
   * the time reading. Faster readings (up to ~10k pods) keep the plain rule, so a scrape sees fresh counts.
   */
  readonly maxAgeMs?: number
  readonly now?: () => number
}

/** Monotonic drop counters per pod and direction, and per reason for the other drop rules. */
export class DropCounters {
  private index: DropIndex = new Map()
  private indexed: { readonly ir: NodeIR; readonly index: DropIndex } | undefined
  /** Rule identity -> its packets at the last reading. */
  private last = new Map<string, number>()
  private readonly pods = new Map<
    string,
    { namespace: string; pod: string; direction: 'ingress' | 'egress'; packets: number }
  >()
  private readonly others = new Map<string, number>()
  private readAt = Number.NEGATIVE_INFINITY
  private pending: Promise<void> | undefined
  /** Duration of the last kernel reading (ms), and how many rules it held. */
  lastReadMs = 0
  lastReadRules = 0

  constructor(private readonly o: DropCountersOptions) {}

  /** The pod chains counters are attributed to (set it before and after an apply). */
  setIndex(index: DropIndex, prune: boolean): void {
    this.index = index
    if (!prune) return
    const live = new Set<string>()
    for (const c of index.values()) if (isPodDropChain(c)) live.add(`${c.namespace}/${c.pod}/${c.direction}`)
    for (const k of this.pods.keys()) if (!live.has(k)) this.pods.delete(k)
  }

  /** The index of an IR (the last one is kept). */
  indexFor(ir: NodeIR): DropIndex {
    if (this.indexed?.ir !== ir) this.indexed = { ir, index: buildDropIndex(ir, this.o.chainName) }
    return this.indexed.index
  }

  /** The index in force. */
  get currentIndex(): DropIndex {
    return this.index
  }

  /** Reads the kernel unless a reading younger than maxAgeMs exists (`fresh`: read anyway). Never throws. */
  collect(fresh = false): Promise<void> {
    const now = this.o.now ?? Date.now
    if (this.pending) return this.pending
    const maxAge = Math.max(this.o.maxAgeMs ?? 1500, this.lastReadMs > 1000 ? 10 * this.lastReadMs : 0)
    if (!fresh && now() - this.readAt < maxAge) return Promise.resolve()
    this.pending = (async () => {
      const t0 = now()
      try {
        this.absorb(await this.o.read())
        this.readAt = now()
      } finally {
        this.lastReadMs = now() - t0
        this.pending = undefined
      }
    })()
    return this.pending
  }

  /** Adds a reading: per rule, what it counted since the last reading (all of it when the rule is new or restarted). */
  absorb(counters: readonly KernelDropCounter[]): void {
    const next = new Map<string, number>()
    for (const c of counters) {
      const prev = this.last.get(c.id)
      const delta = prev === undefined || c.packets < prev ? c.packets : c.packets - prev
      next.set(c.id, c.packets)
      const pc = this.index.get(c.chain)
      if (pc && isPodDropChain(pc)) {
        const key = `${pc.namespace}/${pc.pod}/${pc.direction}`
        const s = this.pods.get(key)
        if (s) s.packets += delta
        else
          this.pods.set(key, {
            namespace: pc.namespace,
            pod: pc.pod,
            direction: pc.direction,
            packets: delta,
          })
      } else {
        this.others.set(c.reason, (this.others.get(c.reason) ?? 0) + delta)
      }
    }
    this.last = next
    this.lastReadRules = counters.length
  }

  /** Every pod series (pods that went away are gone). */
  podSeries(): PodDropSeries[] {
    return [...this.pods.values()].map((s) => ({ ...s }))
  }

  /** Drops outside pod chains, by reason. */
  otherSeries(): { readonly reason: string; readonly packets: number }[] {
    return [...this.others].map(([reason, packets]) => ({ reason, packets }))
  }
}

/** Merges two indexes (the one in force and the next one: counters of either chain are attributed during an apply). */
export function mergeDropIndex(a: DropIndex, b: DropIndex): DropIndex {
  const out = new Map(a)
  for (const [k, v] of b) out.set(k, v)
  return out
}

/** Reads the kernel (at most every maxAgeMs) and sets the drop metrics from the sums; logs a failed reading. */
export async function exportDropCounters(
  drops: DropCounters,
  metrics: AgentMetrics,
  log: Logger,
): Promise<void> {
  try {
    await drops.collect()
  } catch (err) {
    // before the first apply there is no table of ours to read: not worth a warning at every scrape
    const level = drops.currentIndex.size > 0 ? 'warn' : 'debug'
    log[level]({ err: String(err instanceof Error ? err.message : err) }, 'cannot read drop counters')
  }
  metrics.droppedPackets.reset()
  for (const s of drops.podSeries())
    metrics.droppedPackets.inc({ namespace: s.namespace, pod: s.pod, direction: s.direction }, s.packets)
  metrics.droppedPacketsOther.reset()
  for (const s of drops.otherSeries()) metrics.droppedPacketsOther.inc({ reason: s.reason }, s.packets)
  metrics.dropCountersRead.set({ what: 'seconds' }, drops.lastReadMs / 1000)
  metrics.dropCountersRead.set({ what: 'rules' }, drops.lastReadRules)
}
