/**
 * The node agent (edge): informers (or a manifest folder) -> ObjectStore -> compileNode -> kernel.
 *
 * Fail-static everywhere: until the caches have synced nothing is applied (the rules of a previous
 * run stay); when the API server goes away the last good rules stay; a bad object is reported and
 * skipped; a failed apply keeps the previous rules and is retried with backoff. Stopping keeps the
 * rules unless cleanupOnExit is set.
 */
import { join } from 'node:path'
import type { KubeConfig } from '@kubernetes/client-node'
import { type Logger, pino } from 'pino'
import {
  type BackendName,
  createNodeCompiler,
  type Dataplane,
  DEFAULT_STATE_DIR,
  execCommand,
  getBackend,
  type Ruleset,
} from '../backends/index.js'
import type { ClusterState } from '../model/index.js'
import { type ApplyOutcome, RulesetApplier } from './applier.js'
import { createInvalidObjectReporter, createUndecodableReporter } from './event-reporter.js'
import { watchDir } from './from-dir.js'
import { type HealthReport, type RunningServer, serveEndpoints } from './http-server.js'
import { startInformers } from './informers.js'
import { loadKubeConfig } from './kube-client.js'
import { type AgentMetrics, createMetrics } from './metrics.js'
import { ObjectStore, type Pipeline, WATCHED_KINDS } from './object-store.js'
import type { ListenAddress } from './options.js'
import { defaultPipeline } from './pipeline.js'
import { parseHostRoutes, podInterfacesFromRoutes } from './pod-interfaces.js'
import {
  createSyncLoop,
  isHealthy,
  type SyncLoop,
  type SyncPhases,
  type SyncReport,
  type SyncResult,
} from './sync-loop.js'

export interface AgentOptions {
  readonly nodeName: string
  /** kubeconfig file; absent = in-cluster service account (ignored with fromDir or kubeConfig). */
  readonly kubeconfig?: string
  /** A ready KubeConfig (tests, embedding). */
  readonly kubeConfig?: KubeConfig
  readonly backend: BackendName
  readonly syncPeriodMs: number
  readonly cacheSyncTimeoutMs: number
  readonly debounceMs: number
  /** undefined = no health endpoint. */
  readonly healthAddr?: ListenAddress
  /** undefined = /metrics is served on the health endpoint. */
  readonly metricsAddr?: ListenAddress
  readonly fromDir?: string
  readonly netns?: string
  readonly iptables?: 'nft' | 'legacy'
  readonly cleanupOnExit: boolean
  /** Where the dataplane keeps its state (default /run/palisade/agent). */
  readonly stateDir?: string
  readonly logger?: Logger
  /** Informer restart backoff (tests shorten it). */
  readonly watchBackoffInitialMs?: number
  readonly watchBackoffMaxMs?: number
  /** First wait before the relist that a skipped (undecodable) watch event asks for (tests shorten it). */
  readonly relistInitialMs?: number
  /** Sync retry backoff after a failed apply. */
  readonly retryInitialMs?: number
  readonly retryMaxMs?: number
  /** Floor of the health window (default 5 min; healthy = an apply succeeded within max(2 x sync period, this)). */
  readonly healthMinWindowMs?: number
  /** Rescan period of --from-dir. */
  readonly rescanMs?: number
  /**
   * 'routes': find each local pod's host interface from the node's /32 and /128 routes (routed CNIs),
   * read again when this node's pods change and at every resync, and check pod source addresses
   * (anti-spoofing); absent: no interface is known, the ruleset relies on rp_filter.
   */
  readonly podInterfaces?: 'routes'
}

/** What the agent does to the world; the defaults are the real dataplane of the backend and `ip route`. */
export interface AgentDeps {
  readonly pipeline?: Pipeline
  /** `ip -j route show` then `ip -j -6 route show` output of the agent's netns (with podInterfaces 'routes'). */
  readonly listRoutes?: () => Promise<string>
  /** The kernel side (tests, benchmarks): default the backend's dataplane for the agent's netns and state folder. */
  readonly dataplane?: Dataplane
}

export interface Agent {
  /** Resolves once caches synced and the first sync was attempted (rejects when the caches did not sync in time). */
  readonly ready: Promise<void>
  readonly health: () => HealthReport
  readonly metrics: AgentMetrics
  readonly store: ObjectStore
  readonly loop: SyncLoop
  /** Ports actually bound (0 when not serving). */
  readonly healthPort: number
  readonly metricsPort: number
  /** Subscribes to sync reports (tests, benchmarks). Returns an unsubscribe function. */
  readonly onSynced: (listener: (r: SyncReport & { readonly rs?: Ruleset }) => void) => () => void
  /** The ruleset currently applied. */
  readonly current: () => Ruleset | undefined
  /**
   * Records an error nothing handled (the CLI's process-level policy: uncaught exceptions, unhandled
   * rejections): logs it at fatal level, counts it, and asks for a resync so that a sync proves the loop
   * still runs. The rules in force stay; the process does not exit.
   */
  readonly reportFault: (kind: 'uncaughtException' | 'unhandledRejection', err: unknown) => void
  /** Stops watching and syncing; keeps the rules unless cleanupOnExit. */
  readonly stop: () => Promise<void>
}

/** Starts the agent; resolves once its endpoints listen (sync proceeds in the background, see Agent.ready). */
export async function startAgent(opts: AgentOptions, deps: AgentDeps = {}): Promise<Agent> {
  const log = opts.logger ?? pino({ name: 'palisade-agent' })
  // The object gauges are read from the store at each scrape: an invalid object that changes no rule
  // (so causes no sync) still shows at once.
  const metrics = createMetrics({ processMetrics: true, onCollectObjects: () => updateObjectGauges() })
  const stateDir = opts.stateDir ?? join(DEFAULT_STATE_DIR, 'agent')
  const netnsOpt = opts.netns !== undefined ? { netns: opts.netns } : {}
  const kc = opts.fromDir ? undefined : (opts.kubeConfig ?? loadKubeConfig(opts.kubeconfig))
  const store = new ObjectStore(
    deps.pipeline ?? defaultPipeline,
    createInvalidObjectReporter({ log, node: opts.nodeName, ...(kc ? { kc } : {}) }),
  )
  const reportUndecodable = createUndecodableReporter({ log, node: opts.nodeName, ...(kc ? { kc } : {}) })
  // With podInterfaces 'routes' the compiler is rebuilt whenever the discovered interfaces change
  // (anti-spoofing on from the start, with whatever is known).
  const discoverInterfaces = opts.podInterfaces === 'routes'
  let compile = createNodeCompiler(
    opts.nodeName,
    opts.backend,
    discoverInterfaces ? { podInterfaces: {} } : {},
  ).compile
  let interfacesKey = '[]'
  const listRoutes =
    deps.listRoutes ??
    (async () => {
      const ns = opts.netns !== undefined ? ['-n', opts.netns] : []
      const rs = await Promise.all(
        ['-4', '-6'].map((f) => execCommand('ip', [...ns, '-j', f, 'route', 'show', 'table', 'main'], {})),
      )
      const bad = rs.find((r) => r.code !== 0)
      if (bad) throw new Error(`ip route: ${bad.stderr.trim()}`)
      return rs.map((r) => r.stdout.trim()).join('\n')
    })
  // Routes change when this node's pods do (the CNI adds them before the pod reports its address):
  // read them again only then, and at every resync.
  let localPodsKey: string | undefined
  const refreshInterfaces = async (cluster: ClusterState, force: boolean): Promise<void> => {
    const local: string[] = []
    for (const p of cluster.pods)
      if (p.nodeName === opts.nodeName && !p.hostNetwork)
        local.push(`${p.namespace}/${p.name}=${p.ips.join(',')}`)
    const key = local.sort().join(' ')
    if (!force && key === localPodsKey) return
    let text: string
    try {
      text = await listRoutes()
    } catch (err) {
      log.warn({ err: String(err) }, 'cannot read routes: pod interfaces unchanged')
      return
    }
    localPodsKey = key
    const map = podInterfacesFromRoutes(cluster, opts.nodeName, parseHostRoutes(text))
    const mapKey = JSON.stringify(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    if (mapKey === interfacesKey) return
    interfacesKey = mapKey
    compile = createNodeCompiler(opts.nodeName, opts.backend, { podInterfaces: map }).compile
    log.info({ pods: Object.keys(map).length }, 'pod interfaces from routes changed (anti-spoofing)')
  }
  const backend = getBackend(opts.backend)
  const dataplane =
    deps.dataplane ??
    backend.connect({ ...netnsOpt, stateDir, ...(opts.iptables ? { iptables: opts.iptables } : {}) })
  const applier = new RulesetApplier(backend, dataplane)
  const listeners = new Set<(r: SyncReport & { readonly rs?: Ruleset }) => void>()
  let cachesSynced = false
  // Settles after the first sync attempt, successful or not (a failed one is retried in the background).
  let firstAttempted: () => void = () => undefined
  const firstSync = new Promise<void>((resolve) => {
    firstAttempted = resolve
  })

  const updateObjectGauges = () => {
    const counts = store.counts()
    for (const kind of WATCHED_KINDS) metrics.objectsWatched.set({ kind }, counts[kind])
    metrics.invalidObjects.set(store.invalidCount())
    metrics.failClosedPolicies.set(store.failClosedPolicies())
  }

  const sync = async (o: { readonly resync: boolean }): Promise<SyncResult & { outcome?: ApplyOutcome }> => {
    const t0 = performance.now()
    const state = store.snapshot()
    if (discoverInterfaces) await refreshInterfaces(state.value, o.resync)
    const compiled = compile(state.value)
    const rs = compiled.value
    const compileMs = performance.now() - t0
    let force = false
    if (o.resync) {
      const drift = await applier.drift()
      if (drift.kind === 'drifted') {
        log.warn({ drift: drift.reason }, 'ruleset drifted from what was applied: reloading in full')
        force = true
      }
      // A backend that cannot check cheaply reloads at every resync.
      if (drift.kind === 'unknown') force = true
    }
    const outcome = await applier.apply(rs, force)
    if (outcome.note) log.info({ note: outcome.note }, 'full reload')
    for (const w of outcome.warnings ?? []) log.warn({ warning: w }, 'dataplane warning')
    if (o.resync) metrics.resyncs.inc({ result: force ? 'repaired' : 'clean' })
    const phases: SyncPhases = {
      compileMs,
      ...(outcome.diffMs !== undefined ? { diffMs: outcome.diffMs } : {}),
      ...(outcome.kernelMs !== undefined ? { kernelMs: outcome.kernelMs } : {}),
    }
    return { path: outcome.path, changed: outcome.changed, outcome, phases }
  }

  const loop = createSyncLoop(
    {
      sync,
      onSynced: (r) => {
        const rs = applier.current
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
        updateObjectGauges()
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
        firstAttempted()
      },
      onError: (err, o) => {
        metrics.applyErrors.inc()
        if (o.resync) metrics.resyncs.inc({ result: 'failed' })
        log.error(
          {
            err: String(err instanceof Error ? err.message : err),
            failures: o.failures,
            retryInMs: o.retryInMs,
          },
          'apply failed: previous rules kept',
        )
        firstAttempted()
      },
    },
    {
      debounceMs: opts.debounceMs,
      syncPeriodMs: opts.syncPeriodMs,
      ...(opts.retryInitialMs !== undefined ? { retryInitialMs: opts.retryInitialMs } : {}),
      ...(opts.retryMaxMs !== undefined ? { retryMaxMs: opts.retryMaxMs } : {}),
    },
  )

  const signal = (at: number) => loop.signal(at)
  let stopSource: () => Promise<void>
  let sourceReady: Promise<void>
  /** Kinds whose last list was partial (from the informers; none with --from-dir). */
  let partialKinds: () => readonly string[] = () => []
  /** --from-dir: files that do not parse now (their last good objects are kept). */
  let heldFiles: readonly string[] = []
  if (opts.fromDir) {
    const dir = watchDir(opts.fromDir, store, {
      signal,
      ...(opts.rescanMs !== undefined ? { rescanMs: opts.rescanMs } : {}),
      onDiagnostics: (ds) => {
        for (const d of ds)
          log.warn(
            { code: d.code, file: d.source?.file, line: d.source?.line, message: d.message },
            'manifest problem',
          )
      },
      onError: (err) => log.error({ err: String(err) }, 'reading --from-dir failed'),
      onHeld: (files) => {
        heldFiles = files
        metrics.filesHeld.set(files.length)
        if (files.length > 0)
          log.warn(
            { files },
            'files that do not parse (half-written?): their last good objects stay in force',
          )
      },
    })
    stopSource = async () => dir.stop()
    sourceReady = dir.ready
  } else {
    const informers = startInformers(
      kc as KubeConfig,
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
        ...(opts.watchBackoffInitialMs !== undefined ? { backoffInitialMs: opts.watchBackoffInitialMs } : {}),
        ...(opts.watchBackoffMaxMs !== undefined ? { backoffMaxMs: opts.watchBackoffMaxMs } : {}),
        ...(opts.relistInitialMs !== undefined ? { relistInitialMs: opts.relistInitialMs } : {}),
      },
    )
    stopSource = informers.stop
    sourceReady = informers.synced(opts.cacheSyncTimeoutMs)
    partialKinds = informers.partialKinds
  }

  let faults = 0
  let lastFault = ''
  const reportFault = (kind: 'uncaughtException' | 'unhandledRejection' | 'http', err: unknown): void => {
    faults++
    lastFault = `${kind}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200)
    metrics.internalErrors.inc({ kind })
    log[kind === 'http' ? 'error' : 'fatal'](
      { kind, err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
      'unhandled error: logged, rules kept in force, agent keeps running',
    )
    if (kind !== 'http' && cachesSynced) loop.resync()
  }

  const health = (): HealthReport => {
    const st = loop.status()
    const now = Date.now()
    const healthy = isHealthy({
      cachesSynced,
      now,
      syncPeriodMs: opts.syncPeriodMs,
      ...(opts.healthMinWindowMs !== undefined ? { minWindowMs: opts.healthMinWindowMs } : {}),
      ...(st.lastSuccessAt !== undefined ? { lastSuccessAt: st.lastSuccessAt } : {}),
    })
    return {
      healthy,
      details: [
        `caches synced: ${cachesSynced ? 'yes' : 'no'}`,
        `last successful apply: ${st.lastSuccessAt === undefined ? 'never' : `${Math.round((now - st.lastSuccessAt) / 1000)} s ago`}`,
        `consecutive failures: ${st.consecutiveFailures}`,
        ...(st.runningSince !== undefined && now - st.runningSince > 10_000
          ? [`sync in progress for ${Math.round((now - st.runningSince) / 1000)} s`]
          : []),
        `internal errors: ${faults}${faults > 0 ? ` (last: ${lastFault})` : ''}`,
        ...(heldFiles.length > 0
          ? [`files that do not parse (last good objects kept): ${heldFiles.join(', ')}`]
          : []),
        ...(partialKinds().length > 0
          ? [
              `last list incomplete (items that could not be decoded; deletions held back): ${partialKinds().join(', ')}`,
            ]
          : []),
      ],
    }
  }

  const servers: RunningServer[] = []
  let healthPort = 0
  let metricsPort = 0
  try {
    const serveOpts = { onError: (err: unknown) => reportFault('http', err) }
    const where = (a: ListenAddress, port: number) =>
      `${a.host === '' ? '*' : a.host.includes(':') ? `[${a.host}]` : a.host}:${port}`
    if (opts.healthAddr) {
      const s = await serveEndpoints(
        opts.healthAddr,
        { health, ...(opts.metricsAddr ? {} : { metrics: metrics.registry }) },
        serveOpts,
      )
      servers.push(s)
      healthPort = s.port
      if (!opts.metricsAddr) metricsPort = s.port
      log.info(
        {
          addr: where(opts.healthAddr, s.port),
          paths: opts.metricsAddr ? ['/healthz'] : ['/healthz', '/metrics'],
        },
        'serving',
      )
    }
    if (opts.metricsAddr) {
      const s = await serveEndpoints(opts.metricsAddr, { metrics: metrics.registry }, serveOpts)
      servers.push(s)
      metricsPort = s.port
      log.info({ addr: where(opts.metricsAddr, s.port), paths: ['/metrics'] }, 'serving')
    }
  } catch (err) {
    await stopSource()
    for (const s of servers) await s.close()
    throw err
  }

  const ready = sourceReady.then(async () => {
    cachesSynced = true
    updateObjectGauges()
    const c = store.counts()
    log.info(
      {
        node: opts.nodeName,
        backend: opts.backend,
        pods: c.Pod,
        namespaces: c.Namespace,
        networkPolicies: c.NetworkPolicy,
      },
      'caches synced: enforcing',
    )
    loop.start()
    await firstSync
  })
  ready.catch((err: unknown) =>
    log.error(
      { err: String(err instanceof Error ? err.message : err) },
      'not enforcing: previous rules kept',
    ),
  )

  let stopped: Promise<void> | undefined
  const stop = () => {
    stopped ??= (async () => {
      await stopSource()
      await loop.stop()
      if (opts.cleanupOnExit) {
        const r = await dataplane.cleanup()
        if (r.left.length > 0)
          log.info({ left: r.left }, 'left in place: named like ours, but not recorded as ours')
        applier.reset()
        log.info('rules removed (--cleanup-on-exit)')
      } else {
        log.info('stopped: rules kept in force')
      }
      for (const s of servers) await s.close()
    })()
    return stopped
  }

  return {
    ready,
    health,
    metrics,
    store,
    loop,
    healthPort,
    metricsPort,
    onSynced: (l) => {
      listeners.add(l)
      return () => listeners.delete(l)
    },
    current: () => applier.current,
    reportFault,
    stop,
  }
}
