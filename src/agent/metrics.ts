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
  readonly droppedPackets: Counter<'namespace' | 'pod' | 'direction'>
  readonly droppedPacketsOther: Counter<'reason'>
  readonly dropCountersRead: Gauge<'what'>
  readonly dropLogs: Counter
  readonly dropLogsSuppressed: Counter<'reason'>
  readonly dropLogReaderRestarts: Counter
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/** Creates the agent's metrics in a fresh registry (process metrics included when asked). */
export function createMetrics(
  o: {
    readonly processMetrics?: boolean
    /** Called at every scrape before the object gauges are read (so they are current, not as of the last sync). */
    readonly onCollectObjects?: () => void
    /** Called at every scrape before the drop counters are read (reads the kernel, at most every second or two). */
    readonly onCollectDrops?: () => Promise<void>
  } = {},
): AgentMetrics {
  const collectObjects = o.onCollectObjects ? { collect: o.onCollectObjects } : {}
  const onDrops = o.onCollectDrops
  const collectDrops = onDrops ? { collect: () => onDrops() } : {}
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
    droppedPackets: new Counter({
      name: 'palisade_dropped_packets_total',
      help: "Packets dropped because no policy isolating the pod admits them, by local pod and direction (the kernel's rule counters, summed by the agent across reloads; a pod that goes away loses its series).",
      labelNames: ['namespace', 'pod', 'direction'],
      registers,
      ...collectDrops,
    }),
    droppedPacketsOther: new Counter({
      name: 'palisade_dropped_packets_other_total',
      help: "Packets dropped outside pod chains, by the rule's reason (ct state invalid, anti-spoofing, ...).",
      labelNames: ['reason'],
      registers,
      ...collectDrops,
    }),
    dropCountersRead: new Gauge({
      name: 'palisade_drop_counters_read',
      help: "The last reading of the kernel's drop counters: what=seconds (its duration), what=rules (counted drop rules read).",
      labelNames: ['what'],
      registers,
    }),
    dropLogs: new Counter({
      name: 'palisade_drop_logs_total',
      help: '--log-drops: dropped connection attempts logged.',
      registers,
    }),
    dropLogsSuppressed: new Counter({
      name: 'palisade_drop_logs_suppressed_total',
      help: '--log-drops: drop log records not logged, by reason (duplicate = the same 5-tuple within the dedup window, e.g. a retransmitted SYN; queue-full = the bounded queue overflowed; unparsable).',
      labelNames: ['reason'],
      registers,
    }),
    dropLogReaderRestarts: new Counter({
      name: 'palisade_drop_log_reader_restarts_total',
      help: '--log-drops: restarts of the NFLOG reader (tcpdump) after it exited or could not start.',
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
