/**
 * List+watch of Pods, Namespaces and NetworkPolicies (edge), and of ClusterNetworkPolicies and Nodes
 * while the API server serves ClusterNetworkPolicies (src/agent/cnp-discovery.ts adds and removes those
 * informers), one loop per kind:
 * list -> store.relist -> watch from the list's resourceVersion -> each event decoded and applied -> on
 * the end of the stream, watch again from the last resourceVersion (a relist after 410 Gone). A failure
 * (list refused, connection lost, ERROR event) restarts the loop with exponential backoff and jitter.
 * Readiness: every kind has completed one list, and nobody holds readiness back (the discovery of
 * ClusterNetworkPolicies does until it knows whether they are served, and then until they are listed).
 *
 * Bad input never shrinks what is enforced (docs/semantics.md#agent-undecodable): a list item or watch
 * event that cannot be decoded is skipped and reported (log, Event, metric), never stored, never treated
 * as a deletion; a list with such an item is partial, so objects it does not show are kept (they may be
 * the unreadable item) until a complete list says they are gone; a skipped watch event may have carried
 * a change, so the kind is listed again (with a backoff of its own) to catch up.
 */
import type { KubeConfig } from '@kubernetes/client-node'
import { CORE_WATCHED_KINDS, type JsonObject, kindPath, WATCHED_KINDS } from '../model/index.js'
import { decodeObject, decodeWatchLine } from './decode.js'
import { KubeHttpError, kubeListPages, kubeWatch, type WatchHandle } from './kube-client.js'
import type { ObjectStore, WatchedKind } from './object-store.js'

/** API path of each watched kind (cluster-wide) in its served version. */
export const KIND_PATH: Readonly<Record<WatchedKind, string>> = Object.fromEntries(
  WATCHED_KINDS.map((kind) => [kind, kindPath(kind)]),
) as Record<WatchedKind, string>

export interface InformerEvents {
  /** Something the compiler reads changed (at = when the event arrived). */
  readonly signal: (at: number) => void
  /** An informer failed and will be restarted after retryInMs. */
  readonly onError?: (kind: WatchedKind, err: unknown, retryInMs: number) => void
  /** An informer completed a list (first list or a relist); `skipped` items could not be decoded. */
  readonly onListed?: (kind: WatchedKind, items: number, skipped: number) => void
  /** Every object event (for metrics). */
  readonly onEvent?: (kind: WatchedKind, verb: 'add' | 'update' | 'delete') => void
  /** A list item or watch event was skipped because it could not be decoded. */
  readonly onUndecodable?: (kind: WatchedKind, source: 'list' | 'watch', problem: string) => void
}

export interface InformerOptions {
  readonly backoffInitialMs?: number
  readonly backoffMaxMs?: number
  /** First wait before the relist a skipped watch event asks for (default 1 s; doubles up to 30 s). */
  readonly relistInitialMs?: number
  /** The server ends each watch after a random time in [t, 2t] seconds (default 300, as client-go). */
  readonly watchTimeoutSeconds?: number
  /** Longest watch line kept (default 16 MiB); a longer one counts as undecodable. */
  readonly maxEventBytes?: number
}

/** How one informer reaches its kind (the defaults: KIND_PATH, the version of KIND_API_VERSION). */
export interface KindSource {
  /** Cluster-wide list path (a CRD's kind is listed in the version discovery found). */
  readonly path?: string
  /** apiVersion given to list items and events that carry none. */
  readonly apiVersion?: string
  /**
   * Called when a list or watch answers 404 (the resource is not served: a CRD deleted); the informer
   * then stops instead of retrying, and what it stored stays. Absent: a 404 is retried like any failure.
   */
  readonly onNotFound?: (err: KubeHttpError) => void
}

/** One kind's list+watch loop and its restart-with-backoff supervisor. */
class KindInformer {
  private rv = ''
  private listedOnce = false
  private stopped = true
  private failures = 0
  private lastFailureAt = 0
  private relists = 0
  private lastRelistAskAt = 0
  private timer: NodeJS.Timeout | undefined
  private watch: WatchHandle | undefined
  private listAbort: AbortController | undefined
  /** The last list had items that could not be decoded (its deletions were held back). */
  partial = false

  constructor(
    private readonly kc: KubeConfig,
    readonly kind: WatchedKind,
    private readonly store: ObjectStore,
    private readonly events: InformerEvents,
    private readonly opts: InformerOptions,
    private readonly onFirstList: () => void,
    private readonly source: KindSource = {},
  ) {}

  private get path(): string {
    return this.source.path ?? KIND_PATH[this.kind]
  }

  /** Gives an item without kind/apiVersion those of the version listed (the validator needs them). */
  private stamp<T extends JsonObject>(v: T): T {
    const apiVersion = this.source.apiVersion
    if (apiVersion === undefined || typeof v.apiVersion === 'string') return v
    return { ...v, kind: this.kind, apiVersion }
  }

  get synced(): boolean {
    return this.listedOnce
  }

  start(): void {
    this.stopped = false
    this.schedule(0)
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.listAbort?.abort()
    this.watch?.close()
    this.watch = undefined
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.cycle()
    }, ms)
  }

  private async cycle(): Promise<void> {
    if (this.stopped) return
    if (this.rv === '') {
      try {
        await this.list()
      } catch (err) {
        if (!this.stopped) this.failed(err)
        return
      }
      if (this.stopped) return
    }
    this.openWatch()
  }

  private async list(): Promise<void> {
    const abort = new AbortController()
    this.listAbort = abort
    // Page by page into the store (kubeListPages): what a page shows is taken in at once, so the agent
    // never holds the whole cluster's list; deletions wait for the last page (and for a complete list).
    const keep = new Set<string>()
    let good = 0
    let skipped = 0
    let changed = false
    let rv: string
    try {
      rv = await kubeListPages(
        this.kc,
        this.path,
        (items) => {
          if (this.stopped) return
          const page = []
          for (const item of items) {
            const d = decodeObject(this.kind, item)
            if ('value' in d) page.push(this.stamp(d.value))
            else {
              skipped++
              this.events.onUndecodable?.(
                this.kind,
                'list',
                `item ${good + page.length + skipped - 1}: ${d.problem}`,
              )
            }
          }
          good += page.length
          if (this.store.relistPage(this.kind, page, keep)) changed = true
        },
        abort.signal,
      )
    } finally {
      if (this.listAbort === abort) this.listAbort = undefined
      // what the pages taken in changed is enforced even when a later page failed (never less than before)
      if (changed) this.events.signal(Date.now())
    }
    if (this.stopped) return
    // A partial list is not the whole truth: what it does not show may be the item it could not read.
    this.partial = skipped > 0
    if (this.store.relistEnd(this.kind, keep, !this.partial)) this.events.signal(Date.now())
    this.rv = rv
    this.failures = 0
    this.events.onListed?.(this.kind, good, skipped)
    if (!this.listedOnce) {
      this.listedOnce = true
      this.onFirstList()
    }
  }

  private openWatch(): void {
    const opened = Date.now()
    let lines = 0
    const base = this.opts.watchTimeoutSeconds ?? 300
    const timeoutSeconds = Math.round(base * (1 + Math.random()))
    /** Ends this watch ourselves (no onDone follows a close) and decides what comes next. */
    const end = (err: unknown, why?: 'relist') => {
      this.watch?.close()
      this.watch = undefined
      this.ended(opened, lines, err, why)
    }
    const onLine = (line: string) => {
      lines++
      const ev = decodeWatchLine(this.kind, line)
      if ('problem' in ev) {
        this.events.onUndecodable?.(this.kind, 'watch', ev.problem)
        // A skipped BOOKMARK loses nothing; any other event may have carried a change: list again.
        if (ev.type !== 'BOOKMARK') {
          this.rv = ''
          end(undefined, 'relist')
        }
        return
      }
      switch (ev.type) {
        case 'ADDED':
        case 'MODIFIED':
          this.events.onEvent?.(this.kind, ev.type === 'ADDED' ? 'add' : 'update')
          if (this.store.upsert(this.kind, this.stamp(ev.object))) this.events.signal(Date.now())
          if (ev.resourceVersion !== undefined) this.rv = ev.resourceVersion
          return
        case 'DELETED':
          this.events.onEvent?.(this.kind, 'delete')
          if (this.store.remove(this.kind, ev.object)) this.events.signal(Date.now())
          if (ev.resourceVersion !== undefined) this.rv = ev.resourceVersion
          return
        case 'BOOKMARK':
          this.rv = ev.resourceVersion
          return
        case 'ERROR':
          // 410 Gone: history compacted past our resourceVersion; list again (as client-go does).
          if (ev.code === 410) {
            this.rv = ''
            end(undefined)
          } else end(new KubeHttpError(ev.code ?? 0, `watch ERROR: ${ev.message}`))
          return
      }
    }
    this.watch = kubeWatch(
      this.kc,
      this.path,
      {
        watch: 'true',
        resourceVersion: this.rv,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(timeoutSeconds),
      },
      {
        onLine,
        onOverlong: (bytes) => {
          lines++
          this.events.onUndecodable?.(this.kind, 'watch', `an event of ${bytes} bytes is over the limit`)
          this.rv = ''
          end(undefined, 'relist')
        },
        onDone: (err) => {
          this.watch = undefined
          this.ended(opened, lines, err, undefined)
        },
      },
      {
        ...(this.opts.maxEventBytes !== undefined ? { maxLineBytes: this.opts.maxEventBytes } : {}),
        idleTimeoutMs: (timeoutSeconds + 60) * 1000,
      },
    )
  }

  /** Decides what follows the end of a watch stream. */
  private ended(opened: number, lines: number, err: unknown, why: 'relist' | undefined): void {
    if (this.stopped) return
    if (why === 'relist') {
      // Undecodable events in a row back off on their own clock: a successful list does not reset it.
      const t = Date.now()
      if (t - this.lastRelistAskAt > 10 * 60_000) this.relists = 0
      this.lastRelistAskAt = t
      this.relists++
      const initial = this.opts.relistInitialMs ?? 1000
      this.schedule(Math.min(30_000, initial * 2 ** (this.relists - 1)))
      return
    }
    if (err !== undefined) {
      if (err instanceof KubeHttpError && err.statusCode === 410) this.rv = ''
      this.failed(err)
      return
    }
    // Closed by the server. Right away and empty, it is a failure (a proxy that refuses watches must
    // not make us spin); otherwise, watch again (or list again after a 410).
    if (lines === 0 && Date.now() - opened < 1000) {
      this.failed(new Error('the watch was closed by the server at once'))
      return
    }
    this.schedule(0)
  }

  private failed(err: unknown): void {
    if (this.stopped) return
    const onNotFound = this.source.onNotFound
    if (onNotFound && err instanceof KubeHttpError && err.statusCode === 404) {
      // Not served (any more): whoever started us decides (the objects stored stay until then).
      this.stopped = true
      this.rv = ''
      onNotFound(err)
      return
    }
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
    this.schedule(retryInMs)
  }
}

export interface InformerSet {
  /** Resolves once every informer has listed once and no hold is left; rejects after timeoutMs. */
  readonly synced: (timeoutMs: number) => Promise<void>
  readonly isSynced: () => boolean
  /** Kinds whose last list had items that could not be decoded (their deletions are held back). */
  readonly partialKinds: () => readonly WatchedKind[]
  /**
   * Starts an informer for a kind not started yet (a CRD's, found by discovery); resolves after its
   * first list. A kind already running is left as it is.
   */
  readonly add: (kind: WatchedKind, source?: KindSource) => Promise<void>
  /** Stops a kind's informer (what it stored stays in the store). */
  readonly remove: (kind: WatchedKind) => Promise<void>
  /** True when the kind's informer runs. */
  readonly has: (kind: WatchedKind) => boolean
  /** Holds readiness back until the returned function is called (`why` is said when synced times out). */
  readonly hold: (why: string) => () => void
  readonly stop: () => Promise<void>
}

/** Starts one informer per core watched kind, feeding the store (others are added with `add`). */
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
  const informers: KindInformer[] = []
  const holds = new Set<{ readonly why: string }>()
  let stopped = false
  const ready = () => holds.size === 0 && informers.every((i) => i.synced)
  const check = () => {
    if (ready()) resolveSynced()
  }
  for (const kind of CORE_WATCHED_KINDS) {
    informers.push(new KindInformer(kc, kind, store, events, opts, check))
  }
  for (const i of informers) i.start()
  return {
    isSynced: ready,
    partialKinds: () => informers.filter((i) => i.partial).map((i) => i.kind),
    add: (kind, source) => {
      if (stopped || informers.some((i) => i.kind === kind)) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const i = new KindInformer(
          kc,
          kind,
          store,
          events,
          opts,
          () => {
            resolve()
            check()
          },
          source,
        )
        informers.push(i)
        i.start()
      })
    },
    remove: async (kind) => {
      const i = informers.find((x) => x.kind === kind)
      if (!i) return
      informers.splice(informers.indexOf(i), 1)
      await i.stop()
      check()
    },
    has: (kind) => informers.some((i) => i.kind === kind),
    hold: (why) => {
      const h = { why }
      holds.add(h)
      return () => {
        holds.delete(h)
        check()
      }
    },
    synced: (timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const missing = [
            ...informers.filter((i) => !i.synced).map((i) => i.kind),
            ...[...holds].map((h) => h.why),
          ]
          reject(new Error(`caches not synced within ${timeoutMs} ms (waiting for ${missing.join(', ')})`))
        }, timeoutMs)
        void allSynced.then(() => {
          clearTimeout(timer)
          resolve()
        })
      }),
    stop: async () => {
      stopped = true
      await Promise.all(informers.map((i) => i.stop()))
    },
  }
}
