// A fuzz run's signals: the second Ctrl-C or SIGTERM exits through process.exit (so the exit hooks remove
// the scratch folder and the namespaces), also while the run is cleaning up.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { withStopSignals } from '../../src/fuzz/signals.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('withStopSignals', () => {
  it('the first signal asks the run to stop; the second exits, also during the cleanup', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    const seen: boolean[] = []
    await withStopSignals(
      async (stopping) => {
        seen.push(stopping())
        process.emit('SIGTERM', 'SIGTERM')
        seen.push(stopping())
      },
      async () => {
        // The run has returned; the pool closes and the namespaces go: a second SIGTERM lands here.
        process.emit('SIGTERM', 'SIGTERM')
      },
      () => undefined,
    )
    expect(seen).toEqual([false, true])
    expect(exit).toHaveBeenCalledWith(143)
  })

  it('removes its handlers once the cleanup has finished', async () => {
    const before = process.listenerCount('SIGINT')
    await withStopSignals(
      async () => expect(process.listenerCount('SIGINT')).toBe(before + 1),
      async () => expect(process.listenerCount('SIGINT')).toBe(before + 1),
      () => undefined,
    )
    expect(process.listenerCount('SIGINT')).toBe(before)
  })
})
