/**
 * The node agent (edge): informers (or a manifest folder) -> ObjectStore -> compile -> the backend's
 * dataplane. This file wires the parts: source.ts (where objects come from), compiler.ts (compile, with
 * pod interfaces from routes), applier.ts (which apply path), sync.ts (one sync and its report),
 * health.ts (/healthz and faults), endpoints.ts (the HTTP servers), sync-loop.ts (when to sync).
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
  conntrackIO,
  type Dataplane,
  DEFAULT_STATE_DIR,
  getBackend,
  type RevokeIO,
  type Ruleset,
} from '../backends/index.js'
import type { UnknownPodsMode } from '../compile/index.js'
import { RulesetApplier } from './applier.js'
import type { CnpTiming } from './cnp-discovery.js'
import { createAgentCompiler, hostRoutesReader } from './compiler.js'
import { DropCounters, exportDropCounters } from './drop-counters.js'
import { startDropLog } from './drop-log.js'
import { serveAgentEndpoints } from './endpoints.js'
import { createInvalidObjectReporter } from './event-reporter.js'
import { createHealth } from './health.js'
import type { HealthReport } from './http-server.js'
import { loadKubeConfig } from './kube-client.js'
import { type AgentMetrics, createMetrics } from './metrics.js'
import { watchNodeRanges } from './node-ranges.js'
import { ObjectStore, type Pipeline } from './object-store.js'
import type { ListenAddress } from './options.js'
import { defaultPipeline } from './pipeline.js'
import { createRevoker, type RevokeReport, type Revoker } from './revoke.js'
import { startSource } from './source.js'
import { createSync, createSyncReporter, type SyncedReport, updateObjectGauges } from './sync.js'
import { createSyncLoop, type SyncLoop } from './sync-loop.js'

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
  /** ClusterNetworkPolicy discovery retry and confirmation times (tests shorten them; docs/semantics.md#agent-cnp-discovery). */
  readonly cnpDiscovery?: Partial<CnpTiming>
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
  /**
   * The node's pod ranges (--pod-cidr): when given they win and the Node is not watched; otherwise the
   * agent watches its own Node's spec.podCIDRs (API server source only). docs/semantics.md#unknown-local-pods.
   */
  readonly podRanges?: readonly string[]
  /** 'drop' (default): traffic from or to an address of the pod ranges that no local pod holds is dropped. */
  readonly unknownPods?: UnknownPodsMode
  /**
   * Delete the conntrack entries of established flows the rules just committed refuse (both directions,
   * both families, local pods only), and drop TCP picked up mid-stream. Default off: established flows
   * live on (docs/semantics.md#established-connections).
   */
  readonly revokeEstablished?: boolean
  /**
   * --log-drops: log statements in the pod chains (NFLOG `group`, at most `rate` packets per second and
   * node, burst `burst`), read by tcpdump and logged as one JSON line per dropped connection attempt.
   */
  readonly logDrops?: { readonly group: number; readonly rate: number; readonly burst: number }
  /** Reader command for --log-drops (tests); default tcpdump on the nflog device. */
  readonly dropLogCommand?: readonly string[]
}

/** What the agent does to the world; the defaults are the real dataplane of the backend and `ip route`. */
export interface AgentDeps {
  readonly pipeline?: Pipeline
  /** `ip -j route show` then `ip -j -6 route show` output of the agent's netns (with podInterfaces 'routes'). */
  readonly listRoutes?: () => Promise<string>
  /** The kernel side (tests, benchmarks): default the backend's dataplane for the agent's netns and state folder. */
  readonly dataplane?: Dataplane
  /** The conntrack side of --revoke-established (tests): default `conntrack` and `ip addr` in the agent's netns. */
  readonly conntrack?: RevokeIO
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
  readonly onSynced: (listener: (r: SyncedReport) => void) => () => void
  /** The ruleset currently applied. */
  readonly current: () => Ruleset | undefined
  /** --revoke-established: subscribes to sweep reports (tests); undefined without the flag. */
  readonly onRevoked?: (listener: (r: RevokeReport) => void) => () => void
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
  const kc = opts.fromDir ? undefined : (opts.kubeConfig ?? loadKubeConfig(opts.kubeconfig))
  const store = new ObjectStore(
    deps.pipeline ?? defaultPipeline,
    createInvalidObjectReporter({ log, node: opts.nodeName, ...(kc ? { kc } : {}) }),
  )
  // The object gauges are read from the store at each scrape: an invalid object that changes no rule
  // (so causes no sync) still shows at once.
  const backend = getBackend(opts.backend)
  const dataplane =
    deps.dataplane ??
    backend.connect({
      netns: opts.netns,
      stateDir: opts.stateDir ?? join(DEFAULT_STATE_DIR, 'agent'),
      iptables: opts.iptables,
    })
  const readDrops = dataplane.dropCounters?.bind(dataplane)
  const drops = readDrops
    ? new DropCounters({ read: readDrops, chainName: (id) => backend.chainName(id) })
    : undefined
  const metrics = createMetrics({
    processMetrics: true,
    onCollectObjects: () => updateObjectGauges(store, metrics),
    ...(drops ? { onCollectDrops: () => exportDropCounters(drops, metrics, log) } : {}),
  })
  // Before the kernel's rules are re-created, what they counted is read once more (never lost).
  const applier = new RulesetApplier(backend, dataplane, drops ? () => drops.collect(true) : undefined)
  let signalLoop: (at: number) => void = () => undefined
  // The Node is watched only when its ranges are needed: not with --pod-cidr, --unknown-pods allow or --from-dir.
  const nodeRanges =
    opts.podRanges === undefined && opts.unknownPods !== 'allow' && kc !== undefined
      ? watchNodeRanges({
          kc,
          node: opts.nodeName,
          log,
          onChange: () => signalLoop(Date.now()),
          ...(opts.watchBackoffInitialMs !== undefined
            ? { backoffInitialMs: opts.watchBackoffInitialMs }
            : {}),
          ...(opts.watchBackoffMaxMs !== undefined ? { backoffMaxMs: opts.watchBackoffMaxMs } : {}),
        })
      : undefined
  const fixedRanges = opts.podRanges
  const compiler = createAgentCompiler({
    podRanges: () => fixedRanges ?? nodeRanges?.ranges(),
    ...(opts.unknownPods ? { unknownPods: opts.unknownPods } : {}),
    node: opts.nodeName,
    backend: opts.backend,
    podInterfaces: opts.podInterfaces,
    revokeEstablished: opts.revokeEstablished === true,
    listRoutes: deps.listRoutes ?? hostRoutesReader(opts.netns),
    log,
    ...(opts.logDrops ? { logDrops: opts.logDrops } : {}),
  })
  const reporter = createSyncReporter({ store, applier, metrics, log })
  const revoker: Revoker | undefined = opts.revokeEstablished
    ? createRevoker({
        io:
          deps.conntrack ??
          conntrackIO({ ...(opts.netns !== undefined ? { netns: opts.netns } : {}), timeoutMs: 60_000 }),
        metrics,
        log,
      })
    : undefined
  const loop = createSyncLoop(
    {
      sync: createSync({
        store,
        compiler,
        applier,
        metrics,
        log,
        ...(revoker ? { revoker } : {}),
        ...(drops ? { drops } : {}),
      }),
      onSynced: reporter.onSynced,
      onError: reporter.onError,
    },
    {
      debounceMs: opts.debounceMs,
      syncPeriodMs: opts.syncPeriodMs,
      retryInitialMs: opts.retryInitialMs,
      retryMaxMs: opts.retryMaxMs,
    },
  )
  signalLoop = (at) => loop.signal(at)
  const source = startSource({ ...opts, node: opts.nodeName, kc }, store, {
    signal: (at) => loop.signal(at),
    log,
    metrics,
  })
  const dropLog = opts.logDrops
    ? startDropLog(
        {
          group: opts.logDrops.group,
          ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
          ...(opts.dropLogCommand ? { command: opts.dropLogCommand } : {}),
        },
        {
          log,
          metrics,
          index: () => drops?.currentIndex ?? new Map(),
          cluster: () => store.snapshot().value,
        },
      )
    : undefined
  const health = createHealth({
    loop,
    source,
    syncPeriodMs: opts.syncPeriodMs,
    minWindowMs: opts.healthMinWindowMs,
    metrics,
    log,
  })
  const endpoints = await serveAgentEndpoints({
    healthAddr: opts.healthAddr,
    metricsAddr: opts.metricsAddr,
    health: health.report,
    registry: metrics.registry,
    onError: (err) => health.reportFault('http', err),
    log,
  }).catch(async (err: unknown) => {
    nodeRanges?.stop()
    await source.stop()
    throw err
  })

  const ready = source.ready.then(async () => {
    // The first sync waits for the Node's first list (bounded): it should not start without the ranges.
    if (nodeRanges) {
      let t: NodeJS.Timeout | undefined
      await Promise.race([
        nodeRanges.listed,
        new Promise<void>((resolve) => {
          t = setTimeout(resolve, opts.cacheSyncTimeoutMs)
        }),
      ])
      clearTimeout(t)
    }
    health.cachesSynced()
    updateObjectGauges(store, metrics)
    const c = store.counts()
    log.info(
      {
        node: opts.nodeName,
        backend: opts.backend,
        pods: c.Pod,
        namespaces: c.Namespace,
        networkPolicies: c.NetworkPolicy,
        clusterNetworkPolicies: c.ClusterNetworkPolicy,
        nodes: c.Node,
      },
      'caches synced: enforcing',
    )
    loop.start()
    await reporter.firstAttempt
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
      await dropLog?.stop()
      nodeRanges?.stop()
      await source.stop()
      await loop.stop()
      await revoker?.idle()
      if (opts.cleanupOnExit) {
        const r = await dataplane.cleanup()
        if (r.left.length > 0)
          log.info({ left: r.left }, 'left in place: named like ours, but not recorded as ours')
        applier.reset()
        log.info('rules removed (--cleanup-on-exit)')
      } else {
        log.info('stopped: rules kept in force')
      }
      await dataplane.close?.()
      await endpoints.close()
    })()
    return stopped
  }

  return {
    ready,
    health: health.report,
    metrics,
    store,
    loop,
    get healthPort() {
      return endpoints.healthPort
    },
    get metricsPort() {
      return endpoints.metricsPort
    },
    onSynced: reporter.subscribe,
    current: () => applier.current,
    ...(revoker ? { onRevoked: revoker.onSwept } : {}),
    reportFault: health.reportFault,
    stop,
  }
}
