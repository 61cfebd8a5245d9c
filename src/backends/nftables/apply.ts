/**
 * The nftables dataplane (edge: runs `nft`).
 *
 * A full apply is one `nft -f -` of the printed file, one transaction (it re-creates `table inet
 * palisade` whole): there is no separate `nft -c` pass, a rejected load leaves the previous ruleset in
 * force and the error comes back as an exception carrying nft's message. The first full apply of a
 * dataplane skips a load that is already in force: the state file (per netns) keeps the sha256 of the
 * last text loaded and the kernel handle of our table, and both must match what `nft -j list tables`
 * shows, so a table someone deleted or re-created is repaired. Later full applies and deltas are one
 * `nft -f -` each, entering only the network namespace (nsenter, ~5 ms cheaper than `ip netns exec`).
 * Drift is read from `nft -j list table`: the kernel's own structure, compared with ours.
 * Only `table inet palisade` is ever created, changed or deleted.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type ApplyResult,
  type Dataplane,
  type DataplaneTarget,
  DEFAULT_STATE_DIR,
  type Drift,
  type KernelDropCounter,
  type Ruleset,
} from '../backend.js'
import { DEFAULT_EXEC_TIMEOUT_MS, type ExecResult, execCommand, isValidNetnsName } from '../exec.js'
import { NftSession, NftSessionError } from '../nft-session.js'
import type { TraceMatch, TraceSession } from '../trace.js'
import { startMonitorSession, traceCommand } from '../trace-monitor.js'
import { type NftDelta, printNftDelta, printNftDeltaLine } from './delta.js'
import { printNftables } from './print.js'
import { NFT_FAMILY, NFT_TABLE } from './render.js'
import type { NftTable } from './structure.js'
import { NFT_TRACE_TABLE_PREFIX, nftTraceTable, renderNftTraceTable } from './trace.js'

/** Returns the state file path for a netns. */
function statePath(opts: DataplaneTarget, stateDir = opts.stateDir ?? DEFAULT_STATE_DIR): string {
  return join(stateDir, `nftables.${opts.netns ?? 'host'}.state`)
}

/** Runs nft; throws with nft's own message on failure. */
async function nft(opts: DataplaneTarget, args: readonly string[], input?: string): Promise<string> {
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
export async function nftTableHandle(opts: DataplaneTarget): Promise<number | undefined> {
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
async function bridgeWarnings(opts: DataplaneTarget): Promise<string[]> {
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
export async function applyNftables(rs: Ruleset<NftTable>, opts: DataplaneTarget = {}): Promise<ApplyResult> {
  if (rs.backend !== 'nftables') throw new Error(`applyNftables got a ${rs.backend} ruleset`)
  const text = printNftables(rs.structure)
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
export async function cleanupNftables(opts: DataplaneTarget = {}): Promise<void> {
  // "table" then "delete table" in one transaction: succeeds whether or not the table exists.
  await nft(opts, ['-f', '-'], `table ${NFT_FAMILY} ${NFT_TABLE}\ndelete table ${NFT_FAMILY} ${NFT_TABLE}\n`)
  // A `palisade trace` killed before it removed its trace table (SIGKILL) leaves it behind: ours by name.
  for (const t of await listNftTraceTables(opts.netns)) await nft(opts, ['delete', 'table', NFT_FAMILY, t])
  for (const d of opts.stateDirs ?? [opts.stateDir ?? DEFAULT_STATE_DIR])
    await rm(statePath(opts, d), { force: true })
}

/**
 * Returns the runner of `nft -f -` scripts. In a named netns it enters only the network namespace
 * (`nsenter --net=/run/netns/NAME`, ~5 ms cheaper per batch than `ip netns exec`, which also sets up a
 * mount namespace nft does not need); without nsenter it uses `ip netns exec`.
 */
function nftRunner(netns: string | undefined): (script: string) => Promise<ExecResult> {
  if (netns === undefined) return (script) => execCommand('nft', ['-f', '-'], { input: script })
  let useNsenter = isValidNetnsName(netns)
  return async (script) => {
    if (useNsenter) {
      const r = await execCommand('nsenter', [`--net=/run/netns/${netns}`, 'nft', '-f', '-'], {
        input: script,
      })
      // 127: nsenter is not installed; 1 with no nft output: the netns path is not where we expect it.
      if (r.code !== 127 && !(r.code === 1 && /nsenter:/.test(r.stderr))) return r
      useNsenter = false
    }
    return execCommand('nft', ['-f', '-'], { netns, input: script })
  }
}

/** The sizes the kernel can be checked against: rules per chain, elements per set and map. */
export interface NftShape {
  /** `chain:rules`, sorted. */
  readonly chains: readonly string[]
  /** Set or map name -> element count. */
  readonly counts: ReadonlyMap<string, number>
}

/** Returns the shape of our table. */
export function shapeOfTable(t: NftTable): NftShape {
  const chains: string[] = []
  const counts = new Map<string, number>()
  for (const o of t.objects) {
    if (o.kind === 'chain') chains.push(`${o.name}:${o.rules.length}`)
    else counts.set(o.name, o.elements.length)
  }
  return { chains: chains.sort(), counts }
}

/** Returns the shape of a table as `nft -j list table` gives it (the kernel's JSON, not our text). */
export function shapeOfListing(json: string): NftShape {
  const parsed = JSON.parse(json) as { nftables?: readonly Record<string, unknown>[] }
  const rules = new Map<string, number>()
  const counts = new Map<string, number>()
  const named = (v: unknown): { name?: unknown; chain?: unknown; elem?: unknown } =>
    typeof v === 'object' && v !== null ? (v as { name?: unknown; chain?: unknown; elem?: unknown }) : {}
  for (const item of parsed.nftables ?? []) {
    const chain = named(item.chain)
    if (typeof chain.name === 'string') rules.set(chain.name, rules.get(chain.name) ?? 0)
    const rule = named(item.rule)
    if (typeof rule.chain === 'string') rules.set(rule.chain, (rules.get(rule.chain) ?? 0) + 1)
    for (const s of [named(item.set), named(item.map)])
      if (typeof s.name === 'string') counts.set(s.name, Array.isArray(s.elem) ? s.elem.length : 0)
  }
  return { chains: [...rules].map(([c, n]) => `${c}:${n}`).sort(), counts }
}

/** Returns why `have` (the kernel) is not `want` (what was applied), or undefined when they match. */
export function shapeDrift(want: NftShape, have: NftShape): string | undefined {
  if (want.chains.join(',') !== have.chains.join(',')) return 'chains differ'
  for (const [set, n] of want.counts) {
    const got = have.counts.get(set)
    if (got !== n) return `set ${set} holds ${got ?? 'no'} elements instead of ${n}`
  }
  return undefined
}

/**
 * Returns the counted drop rules of `nft -j list table` output (the kernel's JSON): every rule with a
 * `counter` and a `drop` verdict. Identity: table handle, chain and rule handle (a re-created table or
 * rule gets a new handle, and its counter starts from 0).
 */
export function dropCountersOfListing(json: string): KernelDropCounter[] {
  const parsed = JSON.parse(json) as { nftables?: readonly Record<string, unknown>[] }
  let table = ''
  const out: KernelDropCounter[] = []
  for (const item of parsed.nftables ?? []) {
    const t = item.table as { handle?: number } | undefined
    if (t && typeof t.handle === 'number') table = String(t.handle)
    const rule = item.rule as
      | { chain?: string; handle?: number; comment?: string; expr?: readonly Record<string, unknown>[] }
      | undefined
    if (!rule || typeof rule.chain !== 'string' || !Array.isArray(rule.expr)) continue
    let counter: { packets?: number; bytes?: number } | undefined
    let drop = false
    let invalid = false
    for (const e of rule.expr) {
      if ('counter' in e) counter = e.counter as { packets?: number; bytes?: number }
      if ('drop' in e) drop = true
      const m = e.match as { left?: { ct?: { key?: string } }; right?: unknown } | undefined
      if (
        m?.left?.ct?.key === 'state' &&
        (m.right === 'invalid' || (Array.isArray(m.right) && m.right.includes('invalid')))
      )
        invalid = true
    }
    if (!drop || !counter || typeof counter.packets !== 'number') continue
    out.push({
      id: `${table}/${rule.chain}/${rule.handle ?? out.length}`,
      chain: rule.chain,
      reason: rule.comment ?? (invalid ? 'ct state invalid' : `${rule.chain}: drop`),
      packets: counter.packets,
      bytes: counter.bytes ?? 0,
    })
  }
  return out
}

/** After the session could not start, deltas go one-shot this long before it is tried again (doubling). */
export const NFT_SESSION_RETRY_MS = 30_000
const NFT_SESSION_RETRY_MAX_MS = 10 * 60_000

/** What the nftables edge may be given instead of its own (tests). */
export interface NftablesDeps {
  /** The long-lived `nft -i` (default: one in the target's netns, unless target.nftSession is false). */
  readonly session?: NftSession
  /** The clock of the session's retries (default Date.now). */
  readonly now?: () => number
}

/** Binds the nftables edge to a target. */
export function connectNftables(
  target: DataplaneTarget,
  deps: NftablesDeps = {},
): Dataplane<NftTable, NftDelta> {
  const run = nftRunner(target.netns)
  const netns = target.netns !== undefined ? { netns: target.netns } : {}
  const now = deps.now ?? Date.now
  let applied = false
  // Deltas go through one long-lived `nft -i` (unless nftSession is false). When it cannot start, they go
  // one-shot for a while, then it is tried again: a session that failed once is not given up for good.
  let session: NftSession | undefined =
    deps.session ??
    (target.nftSession === false
      ? undefined
      : new NftSession({
          ...netns,
          ...(target.timeoutMs !== undefined ? { timeoutMs: target.timeoutMs } : {}),
        }))
  let retryAt = 0
  let retryMs = NFT_SESSION_RETRY_MS
  const sessionUp = (): NftSession | undefined => (session && now() >= retryAt ? session : undefined)
  return {
    async apply(rs) {
      if (applied) {
        // The printed file is one self-contained transaction (it replaces the whole table), so one
        // `nft -f` is the full atomic apply. The first apply's extra checks (state file, table handle
        // before and after, bridge sysctls: 4 more processes) describe a kernel we no longer need to
        // ask about: what is in it is what this dataplane put there.
        const r = await run(printNftables(rs.structure))
        if (r.code !== 0) throw new Error(`nft -f failed (exit ${r.code}): ${r.stderr.trim()}`)
        sessionUp()?.warm()
        return { changed: true, warnings: [] }
      }
      applied = true
      const res = await applyNftables(rs, target)
      sessionUp()?.warm()
      return res
    },
    async applyDelta(delta) {
      // The long-lived `nft -i` first (docs/dataplane.md#nft-session); a one-shot `nft -f` when the
      // session cannot take the batch (no session, one that could not start lately, a line too long), never
      // after it was sent.
      const up = sessionUp()
      if (up) {
        const line = printNftDeltaLine(delta)
        if (NftSession.fits(line)) {
          try {
            await up.run(line)
            retryMs = NFT_SESSION_RETRY_MS
            return
          } catch (err) {
            if (!(err instanceof NftSessionError) || err.outcome !== 'unavailable') throw err
            retryAt = now() + retryMs
            retryMs = Math.min(retryMs * 2, NFT_SESSION_RETRY_MAX_MS)
          }
        }
      }
      const r = await run(printNftDelta(delta))
      if (r.code !== 0) throw new Error(r.stderr.trim().split('\n')[0] ?? `nft -f failed (exit ${r.code})`)
    },
    async close() {
      await session?.close()
      session = undefined
    },
    async drift(rs): Promise<Drift> {
      const t = rs.structure
      const r = await execCommand('nft', ['-j', 'list', 'table', t.family, t.name], {
        ...netns,
        timeoutMs: target.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
      })
      if (r.code !== 0) return { kind: 'drifted', reason: `table ${t.family} ${t.name} is missing` }
      let have: NftShape
      try {
        have = shapeOfListing(r.stdout)
      } catch {
        return { kind: 'drifted', reason: 'the table listing could not be read' }
      }
      const reason = shapeDrift(shapeOfTable(t), have)
      return reason === undefined ? { kind: 'clean' } : { kind: 'drifted', reason }
    },
    async cleanup() {
      await cleanupNftables(target)
      applied = false
      return { left: [] }
    },
    async dropCounters() {
      return dropCountersOfListing(await nft(target, ['-j', 'list', 'table', NFT_FAMILY, NFT_TABLE]))
    },
  }
}

/** Starts an nftables trace in the namespace: monitor first, then the trace table; stop() removes the table. */
export function startNftTrace(
  target: { readonly netns?: string; readonly timeoutMs?: number },
  m: TraceMatch,
  tag: string = String(process.pid),
): Promise<TraceSession> {
  const table = nftTraceTable(tag)
  const t = target.timeoutMs ?? 10_000
  return startMonitorSession({
    ...(target.netns !== undefined ? { netns: target.netns } : {}),
    monitor: ['nft', '-a', 'monitor', 'trace'],
    install: () => traceCommand(target.netns, ['nft', '-f', '-'], renderNftTraceTable(table, m), t),
    remove: () => traceCommand(target.netns, ['nft', 'delete', 'table', 'inet', table], undefined, t),
  })
}

/** Lists the trace tables in the namespace (tests, cleanup). */
export async function listNftTraceTables(netns?: string): Promise<string[]> {
  const r = await traceCommand(netns, ['nft', 'list', 'tables'])
  return r.stdout
    .split('\n')
    .map((l) => /^table inet (\S+)/.exec(l.trim())?.[1])
    .filter((n): n is string => n?.startsWith(NFT_TRACE_TABLE_PREFIX) === true)
}
