/**
 * One sync of the agent (edge) and what it reports: snapshot -> compile -> (at resync) drift check ->
 * apply by the cheapest correct path; then metrics, logs and listeners.
 */
import type { Logger } from 'pino'
import type { Ruleset } from '../backends/index.js'
import type { RulesetApplier } from './applier.js'
import type { AgentCompiler } from './compiler.js'
import { type DropCounters, type DropIndex, mergeDropIndex } from './drop-counters.js'
import type { AgentMetrics } from './metrics.js'
import { type ObjectStore, WATCHED_KINDS } from './object-store.js'
import type { Revoker } from './revoke.js'
import type { SyncLoopDeps, SyncPhases, SyncReport, SyncResult } from './sync-loop.js'

/** Sets the gauges read from the store (objects watched, invalid, failing closed). */
export function updateObjectGauges(store: ObjectStore, metrics: AgentMetrics): void {
  const counts = store.counts()
  for (const kind of WATCHED_KINDS) metrics.objectsWatched.set({ kind }, counts[kind])
  metrics.invalidObjects.set(store.invalidCount())
  metrics.failClosedPolicies.set(store.failClosedPolicies())
}

/** Returns the sync the loop runs: compile the store's snapshot and apply it; throws when the apply failed. */
export function createSync(o: {
  readonly store: ObjectStore
  readonly compiler: AgentCompiler
  readonly applier: RulesetApplier
  readonly metrics: AgentMetrics
  readonly log: Logger
  /** --revoke-established: told about every ruleset committed (and every resync). */
  readonly revoker?: Revoker
  /** Drop counters: attributed to the pod chains of the ruleset in force (during an apply: of both). */
  readonly drops?: DropCounters
}): SyncLoopDeps['sync'] {
  return async ({ resync }): Promise<SyncResult> => {
    const t0 = performance.now()
    const compiled = await o.compiler.compile(o.store.snapshot().value, resync)
    const compileMs = performance.now() - t0
    let force = false
    if (resync) {
      const drift = await o.applier.drift()
      if (drift.kind === 'drifted') {
        o.log.warn({ drift: drift.reason }, 'ruleset drifted from what was applied: reloading in full')
        force = true
      }
      // A backend that cannot check cheaply reloads at every resync.
      if (drift.kind === 'unknown') force = true
    }
    const ir = o.drops ? o.compiler.ir() : undefined
    let next: DropIndex | undefined
    if (o.drops && ir) {
      next = o.drops.indexFor(ir)
      if (next !== o.drops.currentIndex) o.drops.setIndex(mergeDropIndex(o.drops.currentIndex, next), false)
    }
    const outcome = await o.applier.apply(compiled.value, force)
    // The rules are committed: the flows they refuse can go (in the background, never failing the sync).
    if (o.revoker && (outcome.path !== 'unchanged' || resync)) o.revoker.request(compiled.ir)
    if (o.drops && next) o.drops.setIndex(next, true)
    if (outcome.note) o.log.info({ note: outcome.note }, 'full reload')
    for (const w of outcome.warnings ?? []) o.log.warn({ warning: w }, 'dataplane warning')
    if (resync) o.metrics.resyncs.inc({ result: force ? 'repaired' : 'clean' })
    const phases: SyncPhases = {
      compileMs,
      ...(outcome.diffMs !== undefined ? { diffMs: outcome.diffMs } : {}),
      ...(outcome.kernelMs !== undefined ? { kernelMs: outcome.kernelMs } : {}),
    }
    return { path: outcome.path, changed: outcome.changed, phases }
  }
}

/** A sync report with the ruleset then in force. */
export type SyncedReport = SyncReport & { readonly rs?: Ruleset }

export interface SyncReporter extends Required<Omit<SyncLoopDeps, 'sync'>> {
  /** Settles after the first sync attempt, successful or not (a failed one is retried in the background). */
  readonly firstAttempt: Promise<void>
  /** Subscribes to sync reports; returns the unsubscribe function. */
  readonly subscribe: (listener: (r: SyncedReport) => void) => () => void
}

/** Returns what the loop calls after each sync: metrics, logs, listeners. */
export function createSyncReporter(o: {
  readonly store: ObjectStore
  readonly applier: RulesetApplier
  readonly metrics: AgentMetrics
  readonly log: Logger
}): SyncReporter {
  const { metrics, log } = o
  const listeners = new Set<(r: SyncedReport) => void>()
  let attempted: () => void = () => undefined
  const firstAttempt = new Promise<void>((resolve) => {
    attempted = resolve
  })
  return {
    firstAttempt,
    subscribe(l) {
      listeners.add(l)
      return () => listeners.delete(l)
    },
    onSynced(r) {
      const rs = o.applier.current
      metrics.applyDuration.observe({ path: r.path }, r.durationMs / 1000)
      if (r.eventToEnforcedMs !== undefined)
        metrics.eventToEnforced.observe({ path: r.path }, r.eventToEnforcedMs / 1000)
      metrics.applies.inc({ path: r.path })
      if (r.path === 'incremental') metrics.incrementalUpdates.inc()
      if (rs) {
        metrics.rulesetRules.set(rs.stats.rules)
        metrics.rulesetChains.set(rs.stats.chains)
        metrics.rulesetSets.set(rs.stats.sets)
        metrics.rulesetElements.set(rs.stats.elements)
      }
      updateObjectGauges(o.store, metrics)
      if (r.path !== 'unchanged' || r.resync) {
        log.info(
          {
            path: r.path,
            resync: r.resync,
            ms: Math.round(r.durationMs),
            eventToEnforcedMs: r.eventToEnforcedMs,
            stats: rs?.stats,
          },
          'rules in force',
        )
      } else {
        log.debug({ ms: Math.round(r.durationMs) }, 'rules unchanged')
      }
      for (const l of listeners) l({ ...r, ...(rs ? { rs } : {}) })
      attempted()
    },
    onError(err, e) {
      metrics.applyErrors.inc()
      if (e.resync) metrics.resyncs.inc({ result: 'failed' })
      log.error(
        {
          err: String(err instanceof Error ? err.message : err),
          failures: e.failures,
          retryInMs: e.retryInMs,
        },
        'apply failed: previous rules kept',
      )
      attempted()
    },
  }
}
