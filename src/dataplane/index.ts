/**
 * The dataplane edge: puts a CompiledRuleset into the kernel (nft / iptables-restore + ipset) and
 * removes it again. Only Palisade's own table, chains and sets are ever touched.
 */
import type { Backend, CompiledRuleset } from '../compile/index.js'
import { applyIptables, cleanupIptables } from './iptables.js'
import { applyNftables, cleanupNftables } from './nftables.js'

export {
  DEFAULT_EXEC_TIMEOUT_MS,
  type ExecOptions,
  type ExecResult,
  execCommand,
  hasCommand,
  isValidNetnsName,
} from './exec.js'
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
  readonly timeoutMs?: number
}

/** Applies a ruleset with the backend it was compiled for; skips the load when it is already in force. */
export async function applyRuleset(rs: CompiledRuleset, opts: ApplyOptions = {}): Promise<ApplyResult> {
  if (rs.backend === 'nftables') return applyNftables(rs, opts)
  return applyIptables(rs, opts)
}

/** Removes Palisade's objects (nftables table and/or iptables chains and sets) and nothing else. */
export async function cleanup(opts: CleanupOptions = {}): Promise<void> {
  const backend = opts.backend ?? 'all'
  const errors: string[] = []
  if (backend === 'nftables' || backend === 'all') {
    await cleanupNftables(opts).catch((e: unknown) => errors.push(String(e instanceof Error ? e.message : e)))
  }
  if (backend === 'iptables' || backend === 'all') {
    await cleanupIptables(opts).catch((e: unknown) => errors.push(String(e instanceof Error ? e.message : e)))
  }
  if (errors.length > 0) throw new Error(errors.join('\n'))
}
