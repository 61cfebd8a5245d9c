/**
 * The dataplane edge: puts a CompiledRuleset into the kernel (nft / iptables-restore + ipset) and
 * removes it again. Only Palisade's own table, chains and sets are ever touched.
 */
import type { BackendName as Backend, CompiledRuleset } from '../backends/index.js'
import { applyIptables, type CleanupReport, cleanupIptables, forgetIptablesState } from './iptables.js'
import { applyNftables, cleanupNftables, forgetNftablesState } from './nftables.js'

export {
  DEFAULT_EXEC_TIMEOUT_MS,
  type ExecOptions,
  type ExecResult,
  execCommand,
  hasCommand,
  isValidNetnsName,
} from './exec.js'
export { type CleanupReport, type OwnedObjects, readOwned } from './iptables.js'
export { applyNftables, cleanupNftables, DEFAULT_STATE_DIR, NFT_FILE, nftTableHandle } from './nftables.js'

export interface ApplyOptions {
  /** Network namespace to program (`ip netns exec`); absent = the current one. */
  readonly netns?: string
  /** iptables flavour for the iptables backend (default nft). */
  readonly iptables?: 'nft' | 'legacy'
  /** Where the hash of the last applied ruleset is kept (per netns); default /run/palisade. */
  readonly stateDir?: string
  /** Time limit of each command in ms. */
  readonly timeoutMs?: number
}

export interface ApplyResult {
  /** False when the same ruleset was already loaded and intact: nothing was reloaded. */
  readonly changed: boolean
  /** Operator notes (e.g. a bridge without br_netfilter); absent or empty when none. */
  readonly warnings?: readonly string[]
}

export interface CleanupOptions {
  readonly netns?: string
  /** Which backend's objects to remove (default 'all'). */
  readonly backend?: Backend | 'all'
  readonly iptables?: 'nft' | 'legacy'
  readonly stateDir?: string
  /** Every state folder whose records count (default: [stateDir]); `palisade cleanup` names apply's and the agent's. */
  readonly stateDirs?: readonly string[]
  readonly timeoutMs?: number
}

/** Applies a ruleset with the backend it was compiled for; skips the load when it is already in force. */
export async function applyRuleset(rs: CompiledRuleset, opts: ApplyOptions = {}): Promise<ApplyResult> {
  if (rs.backend === 'nftables') return applyNftables(rs, opts)
  return applyIptables(rs, opts)
}

/**
 * Removes Palisade's objects (the nftables table; the iptables chains, jumps and sets its records list)
 * and nothing else. Reports what carries our prefix without a record: left in place.
 */
export async function cleanup(opts: CleanupOptions = {}): Promise<CleanupReport> {
  const backend = opts.backend ?? 'all'
  const errors: string[] = []
  const left: string[] = []
  if (backend === 'nftables' || backend === 'all') {
    await cleanupNftables(opts).catch((e: unknown) => errors.push(String(e instanceof Error ? e.message : e)))
  }
  if (backend === 'iptables' || backend === 'all') {
    await cleanupIptables(opts).then(
      (r) => left.push(...r.left),
      (e: unknown) => errors.push(String(e instanceof Error ? e.message : e)),
    )
  }
  if (errors.length > 0) throw new Error(errors.join('\n'))
  return { left }
}

/**
 * Forgets the record of the last applied ruleset of a backend (its hash), so that the next apply reloads
 * even when the text did not change. Touches only that file: the ownership record and anything else in
 * the folder stay.
 */
export async function forgetAppliedState(
  backend: Backend,
  opts: { readonly netns?: string; readonly stateDir?: string; readonly iptables?: 'nft' | 'legacy' },
): Promise<void> {
  if (backend === 'nftables') await forgetNftablesState(opts)
  else await forgetIptablesState(opts)
}
