/**
 * One revocation sweep (edge): list the conntrack table, judge every flow on the IR whose rules are in
 * force (pure: judgeFlow), delete exactly the entries of the flows those rules refuse. Used by `palisade
 * apply --revoke-established` once, and by the agent after every commit (src/agent/revoke.ts).
 */
import {
  canonicalAddressSet,
  createIREvaluator,
  type IREvaluator,
  judgeFlow,
  type NodeIR,
} from '../compile/index.js'
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

/**
 * Sweeps once: entries the rules of `ir` refuse are deleted. `latest` (the agent) names the IR in force
 * when the deletion starts: if newer rules were committed while listing, only what they refuse too is
 * deleted. Never throws: a failure is in the report.
 */
export async function sweepConntrack(
  io: RevokeIO,
  ir: NodeIR,
  o: {
    readonly latest?: () => NodeIR
    readonly evaluator?: (ir: NodeIR) => IREvaluator
    readonly now?: () => number
  } = {},
): Promise<RevokeReport> {
  const now = o.now ?? (() => performance.now())
  const evaluatorOf = o.evaluator ?? createIREvaluator
  const t0 = now()
  let listed = 0
  let listMs = 0
  const denied: ConntrackEntry[] = []
  try {
    const nodeAddresses = canonicalAddressSet(await io.nodeAddresses())
    const ev = evaluatorOf(ir)
    await io.list((e) => {
      listed++
      if (judgeFlow(ev, nodeAddresses, forwardFlow(e)) === 'denied') denied.push(e)
    })
    listMs = now() - t0
    let chosen = denied
    const newest = o.latest?.()
    if (newest && newest !== ir) {
      const ev2 = evaluatorOf(newest)
      chosen = denied.filter((e) => judgeFlow(ev2, nodeAddresses, forwardFlow(e)) === 'denied')
    }
    const t1 = now()
    const { deleted } = await io.remove(chosen)
    return { listed, denied: chosen.length, deleted, listMs, deleteMs: now() - t1 }
  } catch (err) {
    return {
      listed,
      denied: denied.length,
      deleted: 0,
      listMs: listMs || now() - t0,
      deleteMs: 0,
      error: err instanceof Error ? err.message : String(err),
    }
  }
}
