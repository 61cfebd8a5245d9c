/**
 * `--revoke-established` in the agent (edge): after the rules are committed, delete the conntrack
 * entries of the flows they refuse, so a revoked connection stops instead of living on as `established`
 * (docs/semantics.md#established-connections, docs/dataplane.md "Established connections").
 *
 * The decision is pure (judgeFlow on the IR just committed); only listing and deleting is I/O
 * (src/backends/revoke.ts). Sweeps run one at a time beside the sync loop, never inside it: a sync is
 * not held up by a large table, and a sync that commits during a sweep makes the sweep judge again
 * with the newest IR before it deletes (a flow the newer rules allow is never deleted), then sweep once
 * more. A failing `conntrack` is logged and counted; enforcement is never affected.
 */
import type { Logger } from 'pino'
import { type RevokeIO, type RevokeReport, revokeEstablished } from '../backends/index.js'
import { createIREvaluator, type IREvaluator, type NodeIR } from '../compile/index.js'
import type { AgentMetrics } from './metrics.js'

export type { RevokeReport } from '../backends/index.js'

export interface RevokerDeps {
  readonly io: RevokeIO
  readonly metrics: AgentMetrics
  readonly log: Logger
}

export interface Revoker {
  /** The rules of `ir` are in force: sweep (now, or after the sweep in progress). */
  request(ir: NodeIR): void
  /** Resolves when no sweep runs or waits. */
  idle(): Promise<void>
  /** Subscribes to sweep reports; returns the unsubscribe function. */
  onSwept(listener: (r: RevokeReport) => void): () => void
}

/** Creates the revoker of one agent. */
export function createRevoker(deps: RevokerDeps): Revoker {
  const listeners = new Set<(r: RevokeReport) => void>()
  /** The IR in force, and the one the current or last sweep started from. */
  let latest: NodeIR | undefined
  let swept: NodeIR | undefined
  let running: Promise<void> | undefined
  let cached: { readonly ir: NodeIR; readonly ev: IREvaluator } | undefined
  const evaluator = (ir: NodeIR): IREvaluator => {
    if (cached?.ir !== ir) cached = { ir, ev: createIREvaluator(ir) }
    return cached.ev
  }

  const report = (r: RevokeReport): void => {
    deps.metrics.revocationDuration.observe((r.listMs + r.deleteMs) / 1000)
    deps.metrics.conntrackEntries.set(r.listed)
    if (r.error !== undefined) {
      deps.metrics.revocationErrors.inc()
      deps.log.error(
        { err: r.error, listed: r.listed, denied: r.denied },
        'revoking established flows failed: rules in force unchanged; retried at the next change or resync',
      )
    } else {
      deps.metrics.revokedConnections.inc(r.deleted)
      const fields = {
        listed: r.listed,
        denied: r.denied,
        deleted: r.deleted,
        listMs: Math.round(r.listMs),
        deleteMs: Math.round(r.deleteMs),
      }
      if (r.denied > 0) deps.log.info(fields, 'established flows revoked')
      else deps.log.debug(fields, 'no established flow to revoke')
    }
    for (const l of listeners) l(r)
  }

  const loop = async (): Promise<void> => {
    while (latest && latest !== swept) {
      const ir: NodeIR = latest
      swept = ir
      report(await revokeEstablished(deps.io, ir, { latest: () => latest ?? ir, evaluator }))
    }
  }

  const kick = (): void => {
    if (running) return
    running = loop().finally(() => {
      running = undefined
      if (latest && latest !== swept) kick()
    })
  }

  return {
    request(ir) {
      latest = ir
      // The same IR again (a resync) sweeps again too: entries a failed sweep left, flows let in
      // before this agent ran.
      swept = undefined
      kick()
    },
    async idle() {
      while (running) await running
    },
    onSwept(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
