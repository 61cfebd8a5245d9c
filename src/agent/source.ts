/**
 * Where the agent's objects come from (edge): the API server through informers, or a manifest folder
 * (`--from-dir`). Either way the objects go into the store and the loop is signalled; nothing else.
 */
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { type CnpTiming, startCnpDiscovery } from './cnp-discovery.js'
import { createUndecodableReporter } from './event-reporter.js'
import { watchDir } from './from-dir.js'
import { startInformers } from './informers.js'
import type { AgentMetrics } from './metrics.js'
import type { ObjectStore } from './object-store.js'

export interface AgentSource {
  /** Resolves once every kind has been listed (or the folder read); rejects when that took too long. */
  readonly ready: Promise<void>
  readonly stop: () => Promise<void>
  /** Kinds whose last list was partial (items that could not be decoded; none with --from-dir). */
  readonly partialKinds: () => readonly string[]
  /** --from-dir: files that do not parse now (their last good objects are kept). */
  readonly heldFiles: () => readonly string[]
  /** Whether ClusterNetworkPolicies are served (API server source; undefined with --from-dir). */
  readonly clusterPolicies?: () => string
}

export interface SourceOptions {
  readonly node: string
  /** Read manifests from this folder instead of the API server. */
  readonly fromDir?: string
  readonly rescanMs?: number
  /** The API server (required without fromDir). */
  readonly kc?: KubeConfig
  readonly cacheSyncTimeoutMs: number
  readonly watchBackoffInitialMs?: number
  readonly watchBackoffMaxMs?: number
  readonly relistInitialMs?: number
  /** ClusterNetworkPolicy discovery timing (tests shorten it). */
  readonly cnpDiscovery?: Partial<CnpTiming>
}

/** Starts filling the store from the folder or the API server; `signal` is called on every change. */
export function startSource(
  o: SourceOptions,
  store: ObjectStore,
  hooks: { readonly signal: (at: number) => void; readonly log: Logger; readonly metrics: AgentMetrics },
): AgentSource {
  const { log, metrics, signal } = hooks
  if (o.fromDir) {
    let held: readonly string[] = []
    const dir = watchDir(o.fromDir, store, {
      signal,
      ...(o.rescanMs !== undefined ? { rescanMs: o.rescanMs } : {}),
      onDiagnostics: (ds) => {
        for (const d of ds)
          log.warn(
            { code: d.code, file: d.source?.file, line: d.source?.line, message: d.message },
            'manifest problem',
          )
      },
      onError: (err) => log.error({ err: String(err) }, 'reading --from-dir failed'),
      onHeld: (files) => {
        held = files
        metrics.filesHeld.set(files.length)
        if (files.length > 0)
          log.warn(
            { files },
            'files that do not parse (half-written?): their last good objects stay in force',
          )
      },
    })
    return { ready: dir.ready, stop: async () => dir.stop(), partialKinds: () => [], heldFiles: () => held }
  }
  const kc = o.kc as KubeConfig
  const reportUndecodable = createUndecodableReporter({ log, node: o.node, kc })
  const informers = startInformers(
    kc,
    store,
    {
      signal,
      onError: (kind, err, retryInMs) => {
        metrics.watchRestarts.inc({ kind })
        log.warn(
          { kind, err: String(err instanceof Error ? err.message : err), retryInMs },
          'watch failed: restarting',
        )
      },
      onListed: (kind, items, skipped) =>
        skipped > 0
          ? log.warn(
              { kind, items, skipped },
              'listed, with items that could not be decoded: nothing deleted',
            )
          : log.info({ kind, items }, 'listed'),
      onEvent: (kind, verb) => metrics.watchEvents.inc({ kind, verb }),
      onUndecodable: (kind, source, problem) => {
        metrics.undecodableObjects.inc({ kind, source })
        reportUndecodable(kind, source, problem)
      },
    },
    {
      ...(o.watchBackoffInitialMs !== undefined ? { backoffInitialMs: o.watchBackoffInitialMs } : {}),
      ...(o.watchBackoffMaxMs !== undefined ? { backoffMaxMs: o.watchBackoffMaxMs } : {}),
      ...(o.relistInitialMs !== undefined ? { relistInitialMs: o.relistInitialMs } : {}),
    },
  )
  const discovery = startCnpDiscovery({
    kc,
    informers,
    store,
    log,
    signal,
    ...(o.cnpDiscovery ? { timing: o.cnpDiscovery } : {}),
  })
  return {
    ready: informers.synced(o.cacheSyncTimeoutMs),
    stop: async () => {
      discovery.stop()
      await informers.stop()
    },
    partialKinds: informers.partialKinds,
    heldFiles: () => [],
    clusterPolicies: discovery.status,
  }
}
