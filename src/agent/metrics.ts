/** Prometheus metrics of the agent (prom-client, one registry per agent instance). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

export interface AgentMetrics {
  readonly registry: Registry
  readonly applyDuration: Histogram<'path'>
  readonly eventToEnforced: Histogram<'path'>
  readonly rulesetRules: Gauge
  readonly rulesetChains: Gauge
  readonly rulesetSets: Gauge
  readonly rulesetElements: Gauge
  readonly applyErrors: Counter
  readonly objectsWatched: Gauge<'kind'>
  readonly invalidObjects: Gauge
  readonly failClosedPolicies: Gauge
  readonly filesHeld: Gauge
  readonly resyncs: Counter<'result'>
  readonly incrementalUpdates: Counter
  readonly applies: Counter<'path'>
  readonly watchRestarts: Counter<'kind'>
  readonly watchEvents: Counter<'kind' | 'verb'>
  readonly internalErrors: Counter<'kind'>
  readonly undecodableObjects: Counter<'kind' | 'source'>
  /** --revoke-established */
  readonly revokedConnections: Counter
  readonly revocationErrors: Counter
  readonly revocationDuration: Histogram
  readonly conntrackEntries: Gauge
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/** Creates the agent's metrics in a fresh registry (process metrics included when asked). */
export function createMetrics(
  o: {
    readonly processMetrics?: boolean
    /** Called at every scrape before the object gauges are read (so they are current, not as of the last sync). */
    readonly onCollectObjects?: () => void
  } = {},
): AgentMetrics {
  const collectObjects = o.onCollectObjects ? { collect: o.onCollectObjects } : {}
  const registry = new Registry()
  if (o.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'palisade_' })
  const registers = [registry]
  return {
    registry,
    applyDuration: new Histogram({
      name: 'palisade_apply_duration_seconds',
      help: 'Time to compile and apply the ruleset, by path (full, incremental, unchanged).',
      labelNames: ['path'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    eventToEnforced: new Histogram({
      name: 'palisade_event_to_enforced_seconds',
      help: 'Time from an API event reaching the agent to the rules enforcing it.',
      labelNames: ['path'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    rulesetRules: new Gauge({
      name: 'palisade_ruleset_rules',
      help: 'Rules in the applied ruleset.',
      registers,
    }),
    rulesetChains: new Gauge({
      name: 'palisade_ruleset_chains',
      help: 'Chains in the applied ruleset.',
      registers,
    }),
    rulesetSets: new Gauge({
      name: 'palisade_ruleset_sets',
      help: 'Sets and maps in the applied ruleset.',
      registers,
    }),
    rulesetElements: new Gauge({
      name: 'palisade_ruleset_elements',
      help: 'Set and map elements in the applied ruleset.',
      registers,
    }),
    applyErrors: new Counter({
      name: 'palisade_apply_errors_total',
      help: 'Failed applies (previous rules kept).',
      registers,
    }),
    objectsWatched: new Gauge({
      name: 'palisade_objects_watched',
      help: 'Objects in the agent cache, by kind.',
      labelNames: ['kind'],
      registers,
      ...collectObjects,
    }),
    invalidObjects: new Gauge({
      name: 'palisade_invalid_objects',
      help: 'Cached objects whose current version failed validation (Pods and Namespaces: skipped or kept at their last valid version; NetworkPolicies: enforced fail-closed).',
      registers,
      ...collectObjects,
    }),
    filesHeld: new Gauge({
      name: 'palisade_files_held',
      help: '--from-dir: files that do not parse now, whose last good objects stay in force.',
      registers,
    }),
    failClosedPolicies: new Gauge({
      name: 'palisade_fail_closed_policies',
      help: 'NetworkPolicies the agent cannot read and enforces fail-closed (their pods isolated, no allow rule).',
      registers,
      ...collectObjects,
    }),
    resyncs: new Counter({
      name: 'palisade_resyncs_total',
      help: 'Periodic resyncs, by result (clean, repaired = drift found and fixed, failed).',
      labelNames: ['result'],
      registers,
    }),
    incrementalUpdates: new Counter({
      name: 'palisade_incremental_updates_total',
      help: 'Syncs applied as set/map element updates only.',
      registers,
    }),
    applies: new Counter({
      name: 'palisade_applies_total',
      help: 'Successful syncs by path (full, incremental, unchanged).',
      labelNames: ['path'],
      registers,
    }),
    watchRestarts: new Counter({
      name: 'palisade_watch_restarts_total',
      help: 'Informer restarts after an error, by kind.',
      labelNames: ['kind'],
      registers,
    }),
    watchEvents: new Counter({
      name: 'palisade_watch_events_total',
      help: 'Object events received, by kind and verb.',
      labelNames: ['kind', 'verb'],
      registers,
    }),
    undecodableObjects: new Counter({
      name: 'palisade_undecodable_objects_total',
      help: 'List items (source=list) and watch events (source=watch) skipped because they could not be decoded; nothing enforced was removed for them.',
      labelNames: ['kind', 'source'],
      registers,
    }),
    revokedConnections: new Counter({
      name: 'palisade_revoked_connections_total',
      help: '--revoke-established: conntrack entries deleted because the rules in force refuse their flow.',
      registers,
    }),
    revocationErrors: new Counter({
      name: 'palisade_revocation_errors_total',
      help: '--revoke-established: sweeps that failed (conntrack missing or failing); the rules in force are unaffected.',
      registers,
    }),
    revocationDuration: new Histogram({
      name: 'palisade_revocation_duration_seconds',
      help: '--revoke-established: time to list the conntrack table, judge it and delete the refused flows.',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    conntrackEntries: new Gauge({
      name: 'palisade_conntrack_entries',
      help: '--revoke-established: TCP, UDP and SCTP conntrack entries at the last sweep.',
      registers,
    }),
    internalErrors: new Counter({
      name: 'palisade_internal_errors_total',
      help: 'Errors no code path handled (kind: uncaughtException, unhandledRejection, http): logged; the process and the rules in force stay.',
      labelNames: ['kind'],
      registers,
    }),
  }
}
