/**
 * List+watch of Pods, Namespaces and NetworkPolicies with @kubernetes/client-node informers (edge).
 *
 * Handlers only update the ObjectStore and call signal(). An informer that reports `error` (list
 * failed, watch refused, connection lost) stops; its supervisor restarts it with exponential
 * backoff, resuming the watch from the last resourceVersion (410 Gone makes the informer relist).
 * Readiness: every informer has completed one list.
 */
import { type KubeConfig, type KubernetesObject, makeInformer } from '@kubernetes/client-node'
import type { JsonObject } from '../model/index.js'
import { kubeList } from './kube-client.js'
import type { ObjectStore, WatchedKind } from './object-store.js'

/** API path of each watched kind (cluster-wide). */
export const KIND_PATH: Readonly<Record<WatchedKind, string>> = {
  Pod: '/api/v1/pods',
  Namespace: '/api/v1/namespaces',
  NetworkPolicy: '/apis/networking.k8s.io/v1/networkpolicies',
}

export interface InformerEvents {
  /** Something the compiler reads changed (at = when the event arrived). */
  readonly signal: (at: number) => void
  /** An informer failed and will be restarted after retryInMs. */
  readonly onError?: (kind: WatchedKind, err: unknown, retryInMs: number) => void
  /** An informer completed a list (first list or a relist after 410 / restart). */
  readonly onListed?: (kind: WatchedKind, items: number) => void
  /** Every object event (for metrics). */
  readonly onEvent?: (kind: WatchedKind, verb: 'add' | 'update' | 'delete') => void
}

export interface InformerOptions {
  readonly backoffInitialMs?: number
  readonly backoffMaxMs?: number
}

/** The watch stream hands objects as parsed JSON; narrow once at this boundary. */
function asJson(obj: KubernetesObject): JsonObject {
  return obj as unknown as JsonObject
}

/** Drops metadata.managedFields (large, never read) from an object we keep. */
function trim(obj: KubernetesObject): KubernetesObject {
  const meta = obj.metadata as Record<string, unknown> | undefined
  if (meta && 'managedFields' in meta) delete meta.managedFields
  return obj
}

/** One informer and its restart-with-backoff supervisor. */
class SupervisedInformer {
  private readonly informer
  private listedOnce = false
  private stopped = false
  private failures = 0
  private lastFailureAt = 0
  private timer: NodeJS.Timeout | undefined
  /** The informer's start in flight (list, then the watch call that returns once the response headers arrive). */
  private starting: Promise<void> | undefined
  /** The connection pool of the latest watch request (the client library makes one per request). */
  private watchAgent: { destroy(): void } | undefined

  constructor(
    kc: KubeConfig,
    readonly kind: WatchedKind,
    store: ObjectStore,
    private readonly events: InformerEvents,
    private readonly opts: InformerOptions,
    private readonly onFirstList: () => void,
  ) {
    const path = KIND_PATH[kind]
    const list = async () => {
      const res = await kubeList(kc, path)
      for (const item of res.items) trim(item as KubernetesObject)
      // The informer stores the items right after this promise resolves; mark after that.
      setImmediate(() => this.listed(res.items.length))
      return { metadata: { resourceVersion: res.resourceVersion }, items: res.items as KubernetesObject[] }
    }
    // The same KubeConfig, except that we keep a handle on each watch request's connection pool.
    const watchKc: KubeConfig = Object.create(kc)
    watchKc.applyToFetchOptions = async (o) => {
      const init = await kc.applyToFetchOptions(o)
      const agent = init.agent as { destroy?: () => void } | undefined
      if (agent && typeof agent.destroy === 'function') this.watchAgent = agent as { destroy(): void }
      return init
    }
    this.informer = makeInformer<KubernetesObject>(watchKc, path, list)
    const upsert = (verb: 'add' | 'update') => (obj: KubernetesObject) => {
      events.onEvent?.(kind, verb)
      if (store.upsert(kind, asJson(trim(obj)))) events.signal(Date.now())
    }
    this.informer.on('add', upsert('add'))
    this.informer.on('update', upsert('update'))
    this.informer.on('delete', (obj) => {
      events.onEvent?.(kind, 'delete')
      if (store.remove(kind, asJson(obj))) events.signal(Date.now())
    })
    this.informer.on('error', (err: unknown) => this.failed(err))
  }

  get synced(): boolean {
    return this.listedOnce
  }

  private listed(items: number): void {
    this.failures = 0
    this.events.onListed?.(this.kind, items)
    if (!this.listedOnce) {
      this.listedOnce = true
      this.onFirstList()
    }
  }

  private failed(err: unknown): void {
    // stop() aborts the watch request, which reports an AbortError: not a failure.
    if (this.stopped) return
    // A failure long after the previous one starts the backoff over.
    const t = Date.now()
    if (t - this.lastFailureAt > 60_000) this.failures = 0
    this.lastFailureAt = t
    this.failures++
    const initial = this.opts.backoffInitialMs ?? 200
    const max = this.opts.backoffMaxMs ?? 30_000
    const base = Math.min(max, initial * 2 ** (this.failures - 1))
    // Jitter (+-20%) so that every node's agent does not hit a restarted API server at once.
    const retryInMs = Math.round(base * (0.8 + 0.4 * Math.random()))
    this.events.onError?.(this.kind, err, retryInMs)
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (!this.stopped) void this.start()
    }, retryInMs)
  }

  async start(): Promise<void> {
    this.stopped = false
    const p = this.informer.start().catch((err: unknown) => this.failed(err))
    this.starting = p
    await p
    if (this.starting === p) this.starting = undefined
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.informer.stop()
    // The client library can abort a watch only once its response headers have arrived: a watch
    // still waiting for them would outlive stop(). Closing its connection ends it (the informer then
    // reports an error, which a stopped informer ignores).
    this.watchAgent?.destroy()
    this.watchAgent = undefined
    // A list in flight ends by itself (bounded by its timeout); do not hold the caller for it.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.starting, new Promise((r) => (timer = setTimeout(r, 2000)))])
    clearTimeout(timer)
  }
}

export interface InformerSet {
  /** Resolves once every informer has listed once; rejects after timeoutMs. */
  readonly synced: (timeoutMs: number) => Promise<void>
  readonly isSynced: () => boolean
  readonly stop: () => Promise<void>
}

/** Starts one informer per watched kind, feeding the store. */
export function startInformers(
  kc: KubeConfig,
  store: ObjectStore,
  events: InformerEvents,
  opts: InformerOptions = {},
): InformerSet {
  let resolveSynced: () => void = () => undefined
  const allSynced = new Promise<void>((resolve) => {
    resolveSynced = resolve
  })
  const informers: SupervisedInformer[] = []
  const check = () => {
    if (informers.every((i) => i.synced)) resolveSynced()
  }
  for (const kind of ['Namespace', 'Pod', 'NetworkPolicy'] as const) {
    informers.push(new SupervisedInformer(kc, kind, store, events, opts, check))
  }
  for (const i of informers) void i.start()
  return {
    isSynced: () => informers.every((i) => i.synced),
    synced: (timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const missing = informers.filter((i) => !i.synced).map((i) => i.kind)
          reject(new Error(`caches not synced within ${timeoutMs} ms (waiting for ${missing.join(', ')})`))
        }, timeoutMs)
        void allSynced.then(() => {
          clearTimeout(timer)
          resolve()
        })
      }),
    stop: async () => {
      await Promise.all(informers.map((i) => i.stop()))
    },
  }
}
