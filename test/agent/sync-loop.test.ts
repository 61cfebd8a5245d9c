import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createSyncLoop, isHealthy, type SyncReport, type SyncResult } from '../../src/agent/sync-loop.js'

/** A sync function whose calls can be held open and failed on demand. */
function fakeSync() {
  const calls: { resync: boolean }[] = []
  let failNext = 0
  let holdMs = 0
  const sync = async (o: { readonly resync: boolean }): Promise<SyncResult> => {
    calls.push(o)
    if (holdMs > 0) await new Promise((r) => setTimeout(r, holdMs))
    if (failNext > 0) {
      failNext--
      throw new Error('nft: Could not process rule')
    }
    return { path: 'full', changed: true }
  }
  return {
    calls,
    sync,
    fail: (n: number) => {
      failNext = n
    },
    hold: (ms: number) => {
      holdMs = ms
    },
  }
}

/** A sync loop on the fake timers' clock. */
const loopOf = (
  deps: Parameters<typeof createSyncLoop>[0],
  opts: Omit<Parameters<typeof createSyncLoop>[1], 'now'>,
) => createSyncLoop(deps, { ...opts, now: () => Date.now() })

describe('sync loop', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('runs one sync at start', async () => {
    const f = fakeSync()
    const loop = loopOf({ sync: f.sync }, { debounceMs: 50, syncPeriodMs: 0 })
    loop.start()
    await vi.advanceTimersByTimeAsync(1)
    expect(f.calls).toHaveLength(1)
    await loop.stop()
  })

  it('coalesces a burst of signals inside the debounce window into one sync', async () => {
    const f = fakeSync()
    const loop = loopOf({ sync: f.sync }, { debounceMs: 50, syncPeriodMs: 0 })
    loop.start()
    await vi.advanceTimersByTimeAsync(1)
    for (let i = 0; i < 20; i++) {
      loop.signal()
      await vi.advanceTimersByTimeAsync(5)
    }
    expect(f.calls).toHaveLength(1) // still debouncing: 5 ms gaps < 50 ms window
    await vi.advanceTimersByTimeAsync(60)
    expect(f.calls).toHaveLength(2)
    await loop.stop()
  })

  it('does not let a steady stream of signals starve the sync (max delay)', async () => {
    const f = fakeSync()
    const loop = loopOf({ sync: f.sync }, { debounceMs: 50, maxDelayMs: 200, syncPeriodMs: 0 })
    loop.start()
    await vi.advanceTimersByTimeAsync(1)
    for (let i = 0; i < 30; i++) {
      loop.signal()
      await vi.advanceTimersByTimeAsync(10)
    }
    // 300 ms of signals every 10 ms: without the cap there would be no sync at all.
    expect(f.calls.length).toBeGreaterThanOrEqual(2)
    await loop.stop()
  })

  it('runs one apply at a time and folds signals during an apply into one follow-up', async () => {
    const f = fakeSync()
    f.hold(100)
    let concurrent = 0
    let maxConcurrent = 0
    const sync = async (o: { readonly resync: boolean }) => {
      concurrent++
      maxConcurrent = Math.max(maxConcurrent, concurrent)
      try {
        return await f.sync(o)
      } finally {
        concurrent--
      }
    }
    const loop = loopOf({ sync }, { debounceMs: 10, syncPeriodMs: 0 })
    loop.start()
    await vi.advanceTimersByTimeAsync(20) // first sync in flight
    for (let i = 0; i < 10; i++) {
      loop.signal()
      await vi.advanceTimersByTimeAsync(5)
    }
    await vi.advanceTimersByTimeAsync(500)
    expect(maxConcurrent).toBe(1)
    expect(f.calls).toHaveLength(2)
    await loop.stop()
  })

  it('keeps the previous rules on a failed apply and retries with growing backoff', async () => {
    const f = fakeSync()
    f.fail(3)
    const errors: number[] = []
    const reports: SyncReport[] = []
    const loop = loopOf(
      { sync: f.sync, onError: (_e, o) => errors.push(o.retryInMs), onSynced: (r) => reports.push(r) },
      { debounceMs: 10, syncPeriodMs: 0, retryInitialMs: 100, retryMaxMs: 1000 },
    )
    loop.start()
    await vi.advanceTimersByTimeAsync(1)
    expect(loop.status().consecutiveFailures).toBe(1)
    // Signals during the backoff do not bypass it.
    loop.signal()
    await vi.advanceTimersByTimeAsync(50)
    expect(f.calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(2000)
    expect(errors).toEqual([100, 200, 400])
    expect(reports).toHaveLength(1)
    expect(loop.status().consecutiveFailures).toBe(0)
    // The latency of the event that waited through the failures covers the whole wait.
    expect(reports[0]?.eventToEnforcedMs).toBeGreaterThanOrEqual(700)
    await loop.stop()
  })

  it('runs a resync every sync period, flagged as such', async () => {
    const f = fakeSync()
    const loop = loopOf({ sync: f.sync }, { debounceMs: 10, syncPeriodMs: 1000 })
    loop.start()
    await vi.advanceTimersByTimeAsync(3500)
    expect(f.calls.filter((c) => c.resync)).toHaveLength(3)
    await loop.stop()
  })

  it('starts no sync after stop', async () => {
    const f = fakeSync()
    const loop = loopOf({ sync: f.sync }, { debounceMs: 10, syncPeriodMs: 100 })
    loop.start()
    await vi.advanceTimersByTimeAsync(1)
    await loop.stop()
    loop.signal()
    await vi.advanceTimersByTimeAsync(1000)
    expect(f.calls).toHaveLength(1)
  })

  it('applies the first event after a quiet period at once (leading edge)', async () => {
    const f = fakeSync()
    const reports: SyncReport[] = []
    const loop = loopOf(
      { sync: f.sync, onSynced: (r) => reports.push(r) },
      { debounceMs: 50, syncPeriodMs: 0 },
    )
    loop.start()
    await vi.advanceTimersByTimeAsync(200) // quiet for longer than the window
    loop.signal()
    loop.signal() // same turn: rides on the same sync
    await vi.advanceTimersByTimeAsync(1)
    expect(f.calls).toHaveLength(2)
    expect(reports.at(-1)?.eventToEnforcedMs).toBe(0)
    await loop.stop()
  })

  it('coalesces events that follow a leading-edge sync into one trailing sync', async () => {
    const f = fakeSync()
    const loop = loopOf({ sync: f.sync }, { debounceMs: 50, syncPeriodMs: 0 })
    loop.start()
    await vi.advanceTimersByTimeAsync(200)
    loop.signal()
    await vi.advanceTimersByTimeAsync(1)
    expect(f.calls).toHaveLength(2)
    for (let i = 0; i < 5; i++) {
      loop.signal()
      await vi.advanceTimersByTimeAsync(5)
    }
    expect(f.calls).toHaveLength(2) // within the window after a sync: debounced
    await vi.advanceTimersByTimeAsync(60)
    expect(f.calls).toHaveLength(3)
    await loop.stop()
  })

  it('waits the debounce window for every event when the leading edge is off', async () => {
    const f = fakeSync()
    const loop = loopOf({ sync: f.sync }, { debounceMs: 50, leading: false, syncPeriodMs: 0 })
    loop.start()
    await vi.advanceTimersByTimeAsync(200)
    loop.signal()
    await vi.advanceTimersByTimeAsync(40)
    expect(f.calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(20)
    expect(f.calls).toHaveLength(2)
    await loop.stop()
  })

  it('a resync asked while a leading-edge sync is armed is not lost', async () => {
    const f = fakeSync()
    const loop = loopOf({ sync: f.sync }, { debounceMs: 50, syncPeriodMs: 0 })
    loop.start()
    await vi.advanceTimersByTimeAsync(200)
    loop.signal()
    loop.resync()
    await vi.advanceTimersByTimeAsync(1)
    expect(f.calls.at(-1)).toEqual({ resync: true })
    await loop.stop()
  })

  it('reports event-to-enforced latency from the oldest pending event', async () => {
    const f = fakeSync()
    const reports: SyncReport[] = []
    const loop = loopOf(
      { sync: f.sync, onSynced: (r) => reports.push(r) },
      { debounceMs: 50, syncPeriodMs: 0 },
    )
    loop.start()
    await vi.advanceTimersByTimeAsync(1)
    loop.signal()
    await vi.advanceTimersByTimeAsync(30)
    loop.signal()
    await vi.advanceTimersByTimeAsync(100)
    expect(reports.at(-1)?.eventToEnforcedMs).toBe(80) // 30 ms + 50 ms debounce after the second signal
    await loop.stop()
  })
})

describe('health', () => {
  const min = 60_000
  it.each([
    {
      name: 'is unhealthy before the caches synced',
      cachesSynced: false,
      ago: 0,
      period: 5 * min,
      healthy: false,
    },
    {
      name: 'is unhealthy before any successful apply',
      cachesSynced: true,
      ago: undefined,
      period: 5 * min,
      healthy: false,
    },
    {
      name: 'is healthy right after an apply',
      cachesSynced: true,
      ago: 1000,
      period: 5 * min,
      healthy: true,
    },
    {
      name: 'stays healthy up to twice the sync period',
      cachesSynced: true,
      ago: 9 * min,
      period: 5 * min,
      healthy: true,
    },
    {
      name: 'degrades after twice the sync period without success',
      cachesSynced: true,
      ago: 11 * min,
      period: 5 * min,
      healthy: false,
    },
    {
      name: 'allows at least 5 minutes with a short sync period',
      cachesSynced: true,
      ago: 4 * min,
      period: 10_000,
      healthy: true,
    },
    {
      name: 'degrades after 5 minutes with a short sync period',
      cachesSynced: true,
      ago: 6 * min,
      period: 10_000,
      healthy: false,
    },
  ])('$name', ({ cachesSynced, ago, period, healthy }) => {
    const now = 100 * min
    expect(
      isHealthy({
        cachesSynced,
        now,
        syncPeriodMs: period,
        ...(ago !== undefined ? { lastSuccessAt: now - ago } : {}),
      }),
    ).toBe(healthy)
  })
})
