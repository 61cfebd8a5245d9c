/**
 * Gets a compiled ruleset into the kernel by the cheapest correct path (edge):
 * - `unchanged`: the same ruleset as last applied: nothing to do;
 * - `incremental`: nftables, same table: one `nft -f` batch that touches only what changed
 *   (set/map elements, flushed and refilled chains, created/deleted/recreated objects; see
 *   nft-blocks.ts), one transaction;
 * - `full`: anything else (first apply, table or base chain changed, other backends), or when the
 *   incremental batch fails: the dataplane's atomic apply.
 * On any failure the previous rules stay in force (both paths are single transactions) and the
 * error propagates to the sync loop, which retries with backoff.
 */
import type { CompiledRuleset } from '../backends/index.js'
import type { ExecResult } from '../dataplane/index.js'
import { diffNftTables, type NftTableBlocks, primeNftTable, splitNftTable } from './nft-blocks.js'
import { describeShape } from './nft-elements.js'
import type { ApplyPath } from './sync-loop.js'

export interface ApplierDeps {
  /** The dataplane's atomic full apply (src/dataplane applyRuleset); throws on failure. */
  readonly applyFull: (rs: CompiledRuleset) => Promise<{ readonly changed: boolean }>
  /** Runs an nft script as one transaction (`nft -f -`), in the agent's netns. */
  readonly runNft: (script: string) => Promise<ExecResult>
  /** Runs `nft list table FAMILY NAME` in the agent's netns. */
  readonly listTable: (family: string, name: string) => Promise<ExecResult>
}

export interface ApplyOutcome {
  readonly path: ApplyPath
  readonly changed: boolean
  /** Why an incremental update was not used or failed (for logs); absent when it was not tried. */
  readonly note?: string
  readonly added?: number
  readonly deleted?: number
  /** Time spent splitting and diffing the text, and in the kernel apply (ms). */
  readonly diffMs?: number
  readonly kernelMs?: number
  /** Incremental: chains flushed/created and sets touched. */
  readonly chains?: number
  readonly sets?: number
}

interface Applied {
  readonly key: string
  readonly rs: CompiledRuleset
  /** The nftables text split into blocks (undefined for other backends or unrecognised text). */
  readonly nft?: NftTableBlocks
  readonly nftText?: string
}

/** The nftables text of a ruleset (its `.nft` files, in name order); undefined for other backends. */
export function nftTextOf(rs: CompiledRuleset): string | undefined {
  if (rs.backend !== 'nftables') return undefined
  const names = Object.keys(rs.files)
    .filter((f) => f.endsWith('.nft'))
    .sort()
  return names.length === 0 ? undefined : names.map((f) => rs.files[f]).join('\n')
}

function keyOf(rs: CompiledRuleset): string {
  const names = Object.keys(rs.files).sort()
  return `${rs.backend}\0${names.map((n) => `${n}\0${rs.files[n]}`).join('\0')}`
}

/** Remembers the last applied ruleset and chooses the apply path for the next one. */
export class RulesetApplier {
  private last: Applied | undefined

  constructor(private readonly deps: ApplierDeps) {}

  /** The ruleset currently believed to be in the kernel. */
  get current(): CompiledRuleset | undefined {
    return this.last?.rs
  }

  /** Applies rs; `force` skips the shortcuts and reloads in full (drift repair). Throws when the rules could not be applied. */
  async apply(rs: CompiledRuleset, force = false): Promise<ApplyOutcome> {
    const key = keyOf(rs)
    const prev = this.last
    if (!force && prev?.key === key) return { path: 'unchanged', changed: false }
    const t0 = performance.now()
    const nftText = nftTextOf(rs)
    // Blocks equal to the previous ones are reused with their parsed form: only changes are parsed.
    const nft = nftText === undefined ? undefined : splitNftTable(nftText, prev?.nft)
    const remember = (): void => {
      this.last = { key, rs, ...(nft ? { nft } : {}), ...(nftText !== undefined ? { nftText } : {}) }
    }
    let note: string | undefined
    if (!force && prev?.nft && nft) {
      const diff = diffNftTables(prev.nft, nft)
      if (!diff) note = 'table or base chain changed'
      else if (diff.script === '') {
        // Only comments outside the table changed: the kernel already holds these rules.
        remember()
        return { path: 'unchanged', changed: false }
      } else {
        const t1 = performance.now()
        const r = await this.deps.runNft(diff.script)
        if (r.code === 0) {
          remember()
          return {
            path: 'incremental',
            changed: true,
            added: diff.added,
            deleted: diff.deleted,
            chains: diff.chains,
            sets: diff.sets,
            diffMs: t1 - t0,
            kernelMs: performance.now() - t1,
          }
        }
        note = `incremental update failed, reloading in full: ${r.stderr.trim().split('\n')[0] ?? ''}`
      }
    } else if (!force && prev?.nft && nftText !== undefined) note = 'ruleset text not recognised'
    const t2 = performance.now()
    const res = await this.deps.applyFull(rs)
    const kernelMs = performance.now() - t2
    remember()
    // Parse the blocks while idle, so that the next incremental update only parses what it changes.
    if (nft) setImmediate(() => primeNftTable(nft)).unref?.()
    return { path: 'full', changed: res.changed, ...(note ? { note } : {}), diffMs: t2 - t0, kernelMs }
  }

  /**
   * Returns a reason when the kernel no longer holds what we applied (table gone, chains missing,
   * set sizes differ), undefined when it matches or cannot be checked (non-nftables backends).
   */
  async drift(): Promise<string | undefined> {
    const last = this.last
    if (!last?.nft || last.nftText === undefined) return undefined
    const { family, name } = last.nft
    const r = await this.deps.listTable(family, name)
    if (r.code !== 0) return `table ${family} ${name} is missing`
    const want = describeShape(last.nftText)
    const have = describeShape(r.stdout)
    if (want.chains.join(',') !== have.chains.join(',')) return 'chains differ'
    for (const [set, n] of Object.entries(want.counts)) {
      const got = have.counts[set]
      if (got !== n) return `set ${set} holds ${got ?? 'no'} elements instead of ${n}`
    }
    return undefined
  }

  /** Forgets what was applied (after cleanup): the next apply is a full one. */
  reset(): void {
    this.last = undefined
  }
}
