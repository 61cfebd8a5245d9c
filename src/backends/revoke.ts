/**
 * One revocation sweep (edge): list the conntrack table, judge every flow on the IR whose rules are in
 * force (pure: judgeFlow), delete exactly the entries of the flows those rules refuse. Used by `palisade
 * apply --revoke-established` once, and by the agent after every commit (src/agent/revoke.ts).
 */
import {
  canonicalAddressSet,
  createIREvaluator,
  type IREvaluator,
  type IRFlow,
  judgeFlow,
  type NodeIR,
} from '../compile/index.js'
import { canonicalIP, parseIP } from '../model/index.js'
import {
  type ConntrackEntry,
  type ConntrackTarget,
  deleteConntrack,
  forwardFlow,
  type ListStats,
  listConntrack,
  listNodeAddresses,
} from './conntrack.js'

/** The I/O of a sweep (a namespace's conntrack and addresses; fakes in tests). */
export interface RevokeIO {
  /** Streams the conntrack table. */
  readonly list: (onEntry: (e: ConntrackEntry) => void) => Promise<ListStats>
  /** Deletes entries by exact original tuple. */
  readonly remove: (entries: readonly ConntrackEntry[]) => Promise<{ readonly deleted: number }>
  /** The node's own addresses (flows from or to them are never ours). */
  readonly nodeAddresses: () => Promise<readonly string[]>
}

/** What one sweep did. */
export interface RevokeReport {
  /** TCP, UDP and SCTP entries listed. */
  readonly listed: number
  /** Entries the rules in force refuse. */
  readonly denied: number
  /** Entries the kernel deleted (fewer than denied when some ended meanwhile). */
  readonly deleted: number
  readonly listMs: number
  readonly deleteMs: number
  /** Set when the sweep failed (nothing deleted). */
  readonly error?: string
}

/** The real I/O: `conntrack` and `ip addr` in the target's namespace. */
export function conntrackIO(target: ConntrackTarget): RevokeIO {
  return {
    list: (onEntry) => listConntrack(target, onEntry),
    remove: (entries) => deleteConntrack(target, entries),
    nodeAddresses: () => listNodeAddresses(target),
  }
}

/** A flow's identity as FORWARD saw it (canonical addresses). */
function flowKey(f: IRFlow): string {
  return `${f.protocol}|${canonicalText(f.src)}|${f.sport}|${canonicalText(f.dst)}|${f.dport}`
}

/** The flow a packet of `f` travelling back would open if `f`'s entry were gone (ports swapped). */
function reverseFlow(f: IRFlow): IRFlow {
  return { ...f, src: f.dst, sport: f.dport, dst: f.src, dport: f.sport }
}

function canonicalText(address: string): string {
  const ip = parseIP(address)
  return ip ? canonicalIP(ip) : address
}

/** One sweep's report, with the flows it deleted seen from the other end (for the follow-ups). */
export interface SweepReport extends RevokeReport {
  readonly reverseKeys: readonly string[]
}

/**
 * Sweeps once: entries the rules of `ir` refuse are deleted, and entries that are a flow deleted just
 * before, picked up in the reply direction (`reverseOf`: the reverse keys earlier sweeps returned), while
 * the rules still refuse that flow. `latest` (the agent) names the IR in force when the deletion starts:
 * if newer rules were committed while listing, only what they refuse too is deleted. Never throws: a
 * failure is in the report.
 */
export async function sweepConntrack(
  io: RevokeIO,
  ir: NodeIR,
  o: {
    readonly latest?: () => NodeIR
    readonly evaluator?: (ir: NodeIR) => IREvaluator
    readonly now?: () => number
    readonly reverseOf?: ReadonlySet<string>
  } = {},
): Promise<SweepReport> {
  const now = o.now ?? (() => performance.now())
  const evaluatorOf = o.evaluator ?? createIREvaluator
  const t0 = now()
  let listed = 0
  let listMs = 0
  const denied: ConntrackEntry[] = []
  const revived: ConntrackEntry[] = []
  try {
    const nodeAddresses = canonicalAddressSet(await io.nodeAddresses())
    const ev = evaluatorOf(ir)
    const reverseOf = o.reverseOf
    await io.list((e) => {
      listed++
      const f = forwardFlow(e)
      if (judgeFlow(ev, nodeAddresses, f) === 'denied') denied.push(e)
      else if (reverseOf?.has(flowKey(f))) revived.push(e)
    })
    listMs = now() - t0
    const newest = o.latest?.() ?? ir
    const evNow = newest === ir ? ev : evaluatorOf(newest)
    const refused = (f: IRFlow) => judgeFlow(evNow, nodeAddresses, f) === 'denied'
    const chosen = [
      ...(newest === ir ? denied : denied.filter((e) => refused(forwardFlow(e)))),
      // A revived flow goes only while the rules in force still refuse the flow it came from.
      ...revived.filter((e) => refused(reverseFlow(forwardFlow(e)))),
    ]
    const t1 = now()
    const { deleted } = await io.remove(chosen)
    return {
      listed,
      denied: chosen.length,
      deleted,
      listMs,
      deleteMs: now() - t1,
      reverseKeys: chosen.map((e) => flowKey(reverseFlow(forwardFlow(e)))),
    }
  } catch (err) {
    return {
      listed,
      denied: denied.length,
      deleted: 0,
      listMs: listMs || now() - t0,
      deleteMs: 0,
      error: err instanceof Error ? err.message : String(err),
      reverseKeys: [],
    }
  }
}

/** Delays of the follow-up sweeps after one that deleted something (ms, each after the previous one). */
export const FOLLOW_UP_DELAYS_MS: readonly number[] = [50, 200, 750]

/**
 * Revokes: one sweep, then, when it deleted flows, follow-up sweeps that delete those flows again if a
 * packet travelling back re-created them in the reply direction (UDP: a server's answer in flight when
 * the entry was deleted opens a server-to-client flow the rules may admit, and the client's datagrams
 * would pass as its replies; TCP cannot come back that way, the SYN rule drops it). The report sums them.
 */
export async function revokeEstablished(
  io: RevokeIO,
  ir: NodeIR,
  o: {
    readonly latest?: () => NodeIR
    readonly evaluator?: (ir: NodeIR) => IREvaluator
    readonly followUpsMs?: readonly number[]
    readonly sleep?: (ms: number) => Promise<void>
  } = {},
): Promise<RevokeReport> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const first = await sweepConntrack(io, ir, o)
  const keys = new Set(first.reverseKeys)
  let total: RevokeReport = first
  for (const d of o.followUpsMs ?? FOLLOW_UP_DELAYS_MS) {
    if (keys.size === 0 || total.error !== undefined) break
    await sleep(d)
    const r = await sweepConntrack(io, o.latest?.() ?? ir, { ...o, reverseOf: keys })
    for (const k of r.reverseKeys) keys.add(k)
    total = {
      listed: total.listed,
      denied: total.denied + r.denied,
      deleted: total.deleted + r.deleted,
      listMs: total.listMs + r.listMs,
      deleteMs: total.deleteMs + r.deleteMs,
      ...(r.error !== undefined ? { error: r.error } : {}),
    }
  }
  const { listed, denied, deleted, listMs, deleteMs, error } = total
  return { listed, denied, deleted, listMs, deleteMs, ...(error !== undefined ? { error } : {}) }
}
