/**
 * Gets a compiled ruleset into the kernel by the cheapest correct path (edge), through its backend:
 * - `unchanged`: the kernel already holds it (the same ruleset, or the backend's diff finds nothing);
 * - `incremental`: the backend's delta from the ruleset in force, one transaction;
 * - `full`: anything else (first apply, a change the backend has no delta for, drift repair), or when
 *   the delta fails: the dataplane's atomic full apply.
 * On any failure the previous rules stay in force (both paths are single transactions) and the error
 * propagates to the sync loop, which retries with backoff.
 */
import type { Backend, Dataplane, Drift, Ruleset } from '../backends/index.js'
import type { ApplyPath } from './sync-loop.js'

export interface ApplyOutcome {
  readonly path: ApplyPath
  readonly changed: boolean
  /** Why a delta was not used or failed (for logs); absent when it was not tried. */
  readonly note?: string
  /** Operator notes from the dataplane (e.g. a bridge without br_netfilter). */
  readonly warnings?: readonly string[]
  readonly added?: number
  readonly deleted?: number
  /** Time spent diffing the structures, and in the kernel apply (ms). */
  readonly diffMs?: number
  readonly kernelMs?: number
  /** Incremental: chains flushed/created and sets touched. */
  readonly chains?: number
  readonly sets?: number
}

/** Remembers the ruleset in force and chooses the apply path for the next one. */
export class RulesetApplier {
  private last: Ruleset | undefined

  constructor(
    private readonly backend: Backend,
    private readonly dataplane: Dataplane,
    /**
     * Called (and awaited; its errors ignored) right before the kernel's rules are re-created: before a
     * full apply, and before a delta that flushes or deletes chains (drop counters are read once more
     * so that what the old rules counted is not lost).
     */
    private readonly beforeRecreate?: () => Promise<void>,
  ) {}

  private async recreating(): Promise<void> {
    if (this.beforeRecreate) await this.beforeRecreate().catch(() => undefined)
  }

  /** The ruleset currently believed to be in the kernel. */
  get current(): Ruleset | undefined {
    return this.last
  }

  /** Applies rs; `force` skips the shortcuts and reloads in full (drift repair). Throws when the rules could not be applied. */
  async apply(rs: Ruleset, force = false): Promise<ApplyOutcome> {
    const prev = this.last
    if (!force && prev === rs) return { path: 'unchanged', changed: false }
    const t0 = performance.now()
    let note: string | undefined
    if (!force && prev) {
      const change = this.backend.diff(prev, rs)
      if (change.kind === 'none') {
        // At most a comment outside the kernel changed: the kernel already holds these rules.
        this.last = rs
        return { path: 'unchanged', changed: false }
      }
      if (change.kind === 'full') note = change.reason
      else {
        // Only flushed chains that kept a counter lose counts (a new pod's chains are created, not
        // flushed; a policy chain has none): reading every counter costs a listing of the whole table,
        // seconds at 100k pods (set elements included), so it is done only when counts would be lost.
        if ((change.stats.counted ?? change.stats.flushed ?? change.stats.chains) > 0) await this.recreating()
        const t1 = performance.now()
        try {
          await this.dataplane.applyDelta(change.delta)
          this.last = rs
          return {
            path: 'incremental',
            changed: true,
            ...change.stats,
            diffMs: t1 - t0,
            kernelMs: performance.now() - t1,
          }
        } catch (err) {
          note = `incremental update failed, reloading in full: ${err instanceof Error ? err.message : String(err)}`
        }
      }
    }
    await this.recreating()
    const t2 = performance.now()
    const res = await this.dataplane.apply(rs)
    const kernelMs = performance.now() - t2
    this.last = rs
    return {
      path: 'full',
      changed: res.changed,
      ...(note ? { note } : {}),
      ...(res.warnings.length > 0 ? { warnings: res.warnings } : {}),
      diffMs: t2 - t0,
      kernelMs,
    }
  }

  /** Compares the kernel with what was applied (clean when nothing was). */
  async drift(): Promise<Drift> {
    return this.last ? this.dataplane.drift(this.last) : { kind: 'clean' }
  }

  /** Forgets what was applied (after cleanup): the next apply is a full one. */
  reset(): void {
    this.last = undefined
  }
}
