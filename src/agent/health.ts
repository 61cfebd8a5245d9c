/**
 * The agent's health (edge): what /healthz and /readyz answer, and the faults nothing else handled.
 * Healthy = caches synced and an apply succeeded within the window (isHealthy); ready = the first
 * ruleset was applied; the details say why not.
 */
import type { Logger } from 'pino'
import type { HealthReport } from './http-server.js'
import type { AgentMetrics } from './metrics.js'
import type { AgentSource } from './source.js'
import { isHealthy, type SyncLoop } from './sync-loop.js'

/** An error no handler took: from the process (the CLI's policy) or from the HTTP server. */
export type FaultKind = 'uncaughtException' | 'unhandledRejection' | 'http'

export interface AgentHealth {
  readonly report: () => HealthReport
  /** Records that the caches synced (the agent enforces from now on). */
  readonly cachesSynced: () => void
  /**
   * Records an error nothing handled: logs it, counts it, and (process faults, once enforcing) asks for
   * a resync so that a sync proves the loop still runs. The rules in force stay.
   */
  readonly reportFault: (kind: FaultKind, err: unknown) => void
}

/** Creates the agent's health for its loop and source. */
export function createHealth(o: {
  readonly loop: SyncLoop
  readonly source: Pick<AgentSource, 'partialKinds' | 'heldFiles' | 'clusterPolicies'>
  readonly syncPeriodMs: number
  readonly minWindowMs?: number
  readonly metrics: AgentMetrics
  readonly log: Logger
}): AgentHealth {
  let synced = false
  let ready = false
  let faults = 0
  let lastFault = ''
  return {
    cachesSynced: () => {
      synced = true
    },
    reportFault(kind, err) {
      faults++
      lastFault = `${kind}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200)
      o.metrics.internalErrors.inc({ kind })
      o.log[kind === 'http' ? 'error' : 'fatal'](
        { kind, err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
        'unhandled error: logged, rules kept in force, agent keeps running',
      )
      if (kind !== 'http' && synced) o.loop.resync()
    },
    report() {
      const st = o.loop.status()
      const now = Date.now()
      const held = o.source.heldFiles()
      const partial = o.source.partialKinds()
      // Ready once the first ruleset is in force (the DaemonSet's readiness probe and minReadySeconds
      // hold a rolling update until this node enforces); it stays ready, /healthz watches staleness.
      if (synced && st.lastSuccessAt !== undefined) ready = true
      return {
        ready,
        healthy: isHealthy({
          cachesSynced: synced,
          now,
          syncPeriodMs: o.syncPeriodMs,
          ...(o.minWindowMs !== undefined ? { minWindowMs: o.minWindowMs } : {}),
          ...(st.lastSuccessAt !== undefined ? { lastSuccessAt: st.lastSuccessAt } : {}),
        }),
        details: [
          `caches synced: ${synced ? 'yes' : 'no'}`,
          `last successful apply: ${st.lastSuccessAt === undefined ? 'never' : `${Math.round((now - st.lastSuccessAt) / 1000)} s ago`}`,
          `consecutive failures: ${st.consecutiveFailures}`,
          ...(st.runningSince !== undefined && now - st.runningSince > 10_000
            ? [`sync in progress for ${Math.round((now - st.runningSince) / 1000)} s`]
            : []),
          `internal errors: ${faults}${faults > 0 ? ` (last: ${lastFault})` : ''}`,
          ...(o.source.clusterPolicies ? [`ClusterNetworkPolicies: ${o.source.clusterPolicies()}`] : []),
          ...(held.length > 0
            ? [`files that do not parse (last good objects kept): ${held.join(', ')}`]
            : []),
          ...(partial.length > 0
            ? [
                `last list incomplete (items that could not be decoded; deletions held back): ${partial.join(', ')}`,
              ]
            : []),
        ],
      }
    },
  }
}
