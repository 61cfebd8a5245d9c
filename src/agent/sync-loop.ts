/**
 * The agent's thin loop (edge): informers only signal(); the current state is compiled and applied,
 * one apply at a time. The first signal after a quiet period (no sync for a debounce window) is
 * applied at once (leading edge: a lone event does not wait for the window); signals that follow
 * within the window, or arrive during an apply, are coalesced into one trailing sync after the
 * debounce window (bounded by maxDelayMs). A failed sync keeps the previous rules (every apply is atomic) and is retried
 * with exponential backoff. A periodic resync repairs drift (someone flushed our table).
 */

export type ApplyPath = 'full' | 'incremental' | 'unchanged'

export interface SyncResult {
  /** Which way the rules reached the kernel (or that nothing had to change). */
  readonly path: ApplyPath
  readonly changed: boolean
  /** Where the sync spent its time (ms), for logs and benchmarks. */
  readonly phases?: SyncPhases
}

export interface SyncPhases {
  /** Snapshot of the store + compile + render. */
  readonly compileMs: number
  /** Splitting and diffing the ruleset text (nftables). */
  readonly diffMs?: number
  /** The `nft -f` batch or the full apply. */
  readonly kernelMs?: number
}

export interface SyncReport extends SyncResult {
  readonly resync: boolean
  readonly durationMs: number
  /** Time from the oldest event this sync enforced to the end of the apply; absent for pure resyncs. */
  readonly eventToEnforcedMs?: number
}

export interface SyncLoopOptions {
  /** Quiet time after the last signal before syncing (events that follow a sync within it are coalesced). */
  readonly debounceMs: number
  /** Apply the first signal after a quiet period at once (default true); false = always wait debounceMs. */
  readonly leading?: boolean
  /** Upper bound of the wait after the first pending signal, so a steady event stream cannot starve the sync. Default max(4 x debounce, 250 ms). */
  readonly maxDelayMs?: number
  /** Period of the full resync (drift repair). 0 disables it. */
  readonly syncPeriodMs: number
  /** Backoff of retries after a failed sync (default 500 ms doubling up to 30 s). */
  readonly retryInitialMs?: number
  readonly retryMaxMs?: number
  /** Clock in ms (default performance.now-based wall time). */
  readonly now?: () => number
}

export interface SyncLoopDeps {
  /** Compiles the current state and applies it atomically; throws when the apply failed (rules unchanged). */
  readonly sync: (o: { readonly resync: boolean }) => Promise<SyncResult>
  readonly onSynced?: (r: SyncReport) => void
  readonly onError?: (
    err: unknown,
    o: { readonly failures: number; readonly retryInMs: number; readonly resync: boolean },
  ) => void
}

export interface SyncStatus {
  readonly lastSuccessAt?: number
  readonly lastFailureAt?: number
  readonly consecutiveFailures: number
  readonly running: boolean
  /** When the sync in progress started (absent when none runs). */
  readonly runningSince?: number
  readonly pending: boolean
  readonly syncs: number
}

export interface SyncLoop {
  /** Records that something changed (at = when the event was observed; default now). */
  signal(at?: number): void
  /** Asks for a resync (drift check + repair) as soon as possible. */
  resync(): void
  /** Starts the loop: one sync right away, then resyncs every syncPeriodMs. */
  start(): void
  /** Stops timers and waits for the apply in flight; no apply starts afterwards. */
  stop(): Promise<void>
  status(): SyncStatus
}

/** Starts nothing yet: returns a loop whose start() runs the first sync. */
export function createSyncLoop(deps: SyncLoopDeps, opts: SyncLoopOptions): SyncLoop {
  const now = opts.now ?? (() => Date.now())
  const maxDelay = opts.maxDelayMs ?? Math.max(4 * opts.debounceMs, 250)
  const retryInitial = opts.retryInitialMs ?? 500
  const retryMax = opts.retryMaxMs ?? 30_000
  let debounceTimer: NodeJS.Timeout | undefined
  /** The pending timer is a leading-edge one: later signals of the same turn ride on it. */
  let leadingArmed = false
  /** When the last sync settled (leading edge only after debounceMs of quiet). */
  let lastSettled = Number.NEGATIVE_INFINITY
  const leading = opts.leading ?? true
  let retryTimer: NodeJS.Timeout | undefined
  let periodTimer: NodeJS.Timeout | undefined
  let pendingSince: number | undefined
  let resyncWanted = false
  let running: Promise<void> | undefined
  let runningSince: number | undefined
  let dirty = false
  let stopped = false
  let started = false
  let lastSuccessAt: number | undefined
  let lastFailureAt: number | undefined
  let failures = 0
  let syncs = 0

  const arm = (): void => {
    if (stopped || !started || running || retryTimer) return
    if (leadingArmed) return
    clearTimeout(debounceTimer)
    const t = now()
    const due = resyncWanted ? t : Math.min(t + opts.debounceMs, (pendingSince ?? t) + maxDelay)
    debounceTimer = setTimeout(run, Math.max(0, due - t))
  }

  const run = (): void => {
    debounceTimer = undefined
    leadingArmed = false
    if (stopped) return
    if (running) {
      dirty = true
      return
    }
    const since = pendingSince
    const resync = resyncWanted
    pendingSince = undefined
    resyncWanted = false
    dirty = false
    const begin = now()
    runningSince = begin
    // A sync that throws instead of rejecting is a failed sync too (never an uncaught exception in a timer).
    running = (async () => deps.sync({ resync }))()
      .then(
        (r) => {
          const end = now()
          lastSuccessAt = end
          failures = 0
          syncs++
          deps.onSynced?.({
            ...r,
            resync,
            durationMs: end - begin,
            ...(since !== undefined ? { eventToEnforcedMs: end - since } : {}),
          })
        },
        (err: unknown) => {
          lastFailureAt = now()
          failures++
          // Keep the oldest unenforced event: its latency runs until a sync succeeds.
          if (since !== undefined) pendingSince = Math.min(pendingSince ?? since, since)
          else pendingSince ??= lastFailureAt
          if (resync) resyncWanted = true
          const retryInMs = Math.min(retryMax, retryInitial * 2 ** (failures - 1))
          deps.onError?.(err, { failures, retryInMs, resync })
          if (!stopped) {
            retryTimer = setTimeout(() => {
              retryTimer = undefined
              run()
            }, retryInMs)
          }
        },
      )
      .finally(() => {
        running = undefined
        runningSince = undefined
        lastSettled = now()
        if (dirty || pendingSince !== undefined || resyncWanted) arm()
      })
  }

  return {
    signal(at) {
      const t = at ?? now()
      pendingSince = pendingSince === undefined ? t : Math.min(pendingSince, t)
      if (running) dirty = true
      else if (
        leading &&
        started &&
        !stopped &&
        debounceTimer === undefined &&
        retryTimer === undefined &&
        now() - lastSettled >= opts.debounceMs
      ) {
        // Quiet until now: apply on the next turn (events delivered in this turn coalesce into it).
        leadingArmed = true
        debounceTimer = setTimeout(run, 0)
      } else arm()
    },
    resync() {
      resyncWanted = true
      if (running) dirty = true
      else if (retryTimer === undefined && !leadingArmed) {
        clearTimeout(debounceTimer)
        arm()
      }
    },
    start() {
      if (started || stopped) return
      started = true
      pendingSince ??= now()
      clearTimeout(debounceTimer)
      debounceTimer = setTimeout(run, 0)
      if (opts.syncPeriodMs > 0) {
        periodTimer = setInterval(() => this.resync(), opts.syncPeriodMs)
        periodTimer.unref?.()
      }
    },
    async stop() {
      stopped = true
      clearTimeout(debounceTimer)
      clearTimeout(retryTimer)
      clearInterval(periodTimer)
      await running
    },
    status() {
      return {
        ...(lastSuccessAt !== undefined ? { lastSuccessAt } : {}),
        ...(lastFailureAt !== undefined ? { lastFailureAt } : {}),
        consecutiveFailures: failures,
        running: running !== undefined,
        ...(runningSince !== undefined ? { runningSince } : {}),
        pending: pendingSince !== undefined || resyncWanted,
        syncs,
      }
    },
  }
}

/** Healthy = caches synced and the last successful apply is recent (max(2 x sync period, 5 min)); independent of how long a sync takes (kube-router #945). */
export function isHealthy(o: {
  readonly cachesSynced: boolean
  readonly lastSuccessAt?: number
  readonly now: number
  readonly syncPeriodMs: number
  /** Floor of the window (default 5 min). */
  readonly minWindowMs?: number
}): boolean {
  if (!o.cachesSynced || o.lastSuccessAt === undefined) return false
  return o.now - o.lastSuccessAt <= Math.max(2 * o.syncPeriodMs, o.minWindowMs ?? 5 * 60_000)
}
