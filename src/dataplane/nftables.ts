/**
 * Applies a compiled nftables ruleset to the kernel (edge: runs `nft`).
 *
 * One `nft -f -` of the rendered file is one transaction (it re-creates `table inet palisade` whole):
 * there is no separate `nft -c` pass, a rejected load leaves the previous ruleset in force and the
 * error comes back as an exception carrying nft's message.
 * An unchanged ruleset is not reloaded: the state file (per netns) keeps the sha256 of the last text
 * loaded and the kernel handle of our table; both must match what `nft -j list tables` shows, so a
 * table someone deleted or re-created is repaired on the next apply.
 * Only `table inet palisade` is ever created, replaced or deleted.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CompiledRuleset } from '../backends/index.js'
import { NFT_FAMILY, NFT_TABLE } from '../backends/nftables/index.js'
import { DEFAULT_EXEC_TIMEOUT_MS, execCommand } from './exec.js'

export interface NftablesApplyOptions {
  /** Network namespace to program; absent = the current one. */
  readonly netns?: string
  /** Where the state file lives; default /run/palisade. */
  readonly stateDir?: string
  /** Time limit of each command in ms. */
  readonly timeoutMs?: number
}

export interface NftablesApplyResult {
  /** False when the loaded ruleset already was this one (nothing was sent to the kernel). */
  readonly changed: boolean
  /** Things the operator should know (e.g. a bridge without br_netfilter). */
  readonly warnings: readonly string[]
}

export const DEFAULT_STATE_DIR = '/run/palisade'
export const NFT_FILE = 'palisade.nft'

/** Returns the state file path for a netns. */
function statePath(opts: NftablesApplyOptions, stateDir = opts.stateDir ?? DEFAULT_STATE_DIR): string {
  return join(stateDir, `nftables.${opts.netns ?? 'host'}.state`)
}

/** Forgets the hash of the last loaded ruleset (the next apply reloads); nothing else in the folder is touched. */
export async function forgetNftablesState(opts: NftablesApplyOptions = {}): Promise<void> {
  await rm(statePath(opts), { force: true })
}

/** Runs nft; throws with nft's own message on failure. */
async function nft(opts: NftablesApplyOptions, args: readonly string[], input?: string): Promise<string> {
  const r = await execCommand('nft', args, {
    ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
    ...(input !== undefined ? { input } : {}),
    timeoutMs: opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
  })
  if (r.code !== 0) {
    const where = opts.netns !== undefined ? ` (netns ${opts.netns})` : ''
    throw new Error(`nft ${args.join(' ')}${where} failed (exit ${r.code}): ${r.stderr.trim()}`)
  }
  return r.stdout
}

/** Returns the kernel handle of `table inet palisade`, or undefined when it does not exist. */
export async function nftTableHandle(opts: NftablesApplyOptions): Promise<number | undefined> {
  const out = await nft(opts, ['-j', 'list', 'tables', NFT_FAMILY])
  const parsed = JSON.parse(out) as {
    nftables?: { table?: { family: string; name: string; handle: number } }[]
  }
  for (const item of parsed.nftables ?? []) {
    if (item.table && item.table.family === NFT_FAMILY && item.table.name === NFT_TABLE)
      return item.table.handle
  }
  return undefined
}

/** Returns a warning when the netns bridges pod traffic but br_netfilter does not pass it to the FORWARD hook. */
async function bridgeWarnings(opts: NftablesApplyOptions): Promise<string[]> {
  const exec = {
    ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
    timeoutMs: opts.timeoutMs ?? 10_000,
  }
  const links = await execCommand('ip', ['-o', 'link', 'show', 'type', 'bridge'], exec)
  if (links.code !== 0 || links.stdout.trim() === '') return []
  const sysctl = await execCommand('cat', ['/proc/sys/net/bridge/bridge-nf-call-iptables'], exec)
  if (sysctl.code === 0 && sysctl.stdout.trim() === '1') return []
  return [
    'a bridge exists here but net.bridge.bridge-nf-call-iptables is not 1 (br_netfilter): same-node bridged pod traffic bypasses the FORWARD hook and is NOT filtered; run `modprobe br_netfilter && sysctl -w net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1`',
  ]
}

/** Loads the ruleset in one transaction unless the same text is already loaded and intact. */
export async function applyNftables(
  rs: CompiledRuleset,
  opts: NftablesApplyOptions = {},
): Promise<NftablesApplyResult> {
  if (rs.backend !== 'nftables') throw new Error(`applyNftables got a ${rs.backend} ruleset`)
  const text = rs.files[NFT_FILE]
  if (text === undefined) throw new Error(`ruleset has no ${NFT_FILE}`)
  const hash = createHash('sha256').update(text).digest('hex')
  const state = statePath(opts)
  const previous = (await readFile(state, 'utf8').catch(() => '')).trim().split(/\s+/)
  const handle = await nftTableHandle(opts)
  if (handle !== undefined && previous[0] === hash && previous[1] === String(handle)) {
    return { changed: false, warnings: [] }
  }
  await nft(opts, ['-f', '-'], text)
  const now = await nftTableHandle(opts)
  await mkdir(opts.stateDir ?? DEFAULT_STATE_DIR, { recursive: true })
  await writeFile(`${state}.tmp`, `${hash} ${now ?? ''}\n`)
  await rename(`${state}.tmp`, state)
  return { changed: true, warnings: await bridgeWarnings(opts) }
}

/** Deletes `table inet palisade` (if present) and the state files (of each of stateDirs); nothing else is touched. */
export async function cleanupNftables(
  opts: NftablesApplyOptions & { readonly stateDirs?: readonly string[] } = {},
): Promise<void> {
  // "table" then "delete table" in one transaction: succeeds whether or not the table exists.
  await nft(opts, ['-f', '-'], `table ${NFT_FAMILY} ${NFT_TABLE}\ndelete table ${NFT_FAMILY} ${NFT_TABLE}\n`)
  for (const d of opts.stateDirs ?? [opts.stateDir ?? DEFAULT_STATE_DIR])
    await rm(statePath(opts, d), { force: true })
}
