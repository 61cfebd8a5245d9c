/**
 * The iptables + ipset dataplane (edge: runs ipset, iptables-restore), fed from the structure.
 *
 * Order of one apply, chosen so that the previous rules stay in force whenever a step fails:
 * 1. `ipset restore` #1 fills a temporary set per wanted set (nothing in use is touched; on failure the
 *    temporaries are destroyed and the apply stops).
 * 2. `ipset restore` #2 swaps each temporary with its live set (`swap` is atomic per set: a rule never
 *    sees a half-filled set) or renames it when the set is new.
 * 3. ONE `iptables-restore --noflush` commit per family: it declares only our chains (declared chains
 *    are flushed, every other chain is untouched), deletes our chains that are no longer wanted, and puts
 *    the single `-j PAL-FORWARD` jump first in FORWARD. A failing commit changes nothing.
 * 4. Our sets that no rule uses any more are destroyed.
 * An apply whose printed files hash to the state file's hash, with the jump in place, is skipped.
 *
 * "Ours" is what we recorded, not what carries our prefix: every chain and set an apply creates is written
 * to an ownership record in the state folder BEFORE it is created (so a crash leaves a record that covers
 * it), and only recorded chains, their FORWARD jumps and recorded sets are ever flushed, deleted or
 * destroyed, by apply and by cleanup. Someone else's `PAL-FOO` chain or `pal-x` set is left alone.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type ApplyResult,
  type CleanupReport,
  type Dataplane,
  type DataplaneTarget,
  DEFAULT_STATE_DIR,
  type KernelDropCounter,
  type Ruleset,
} from '../backend.js'
import { DEFAULT_EXEC_TIMEOUT_MS, type ExecResult, execCommand } from '../exec.js'
import type { TraceMatch, TraceSession } from '../trace.js'
import { startMonitorSession, traceCommand } from '../trace-monitor.js'
import {
  type FilterTableView,
  jumpInPlace,
  type LiveSet,
  parseFilterSave,
  parseIpsetListTerse,
} from './kernel-view.js'
import { IPSET_PREFIX, IPTABLES_CHAIN_PREFIX } from './names.js'
import { IPTABLES_FILES, printIptables } from './print.js'
import { buildCleanup, buildCommit, buildIpsetFill, buildIpsetSwap, tmpSetNames } from './restore.js'
import type { IptablesRuleset } from './structure.js'
import { iptablesTraceRule } from './trace.js'

type IptablesVariant = NonNullable<DataplaneTarget['iptables']>

type Family = 4 | 6

/** Runs argv (inside `ip netns exec NS` when netns is set) with stdin input and a time limit; never throws. */
function execIn(
  netns: string | undefined,
  argv: readonly string[],
  o: { readonly input?: string; readonly timeoutMs: number },
): Promise<ExecResult> {
  return execCommand(argv[0] as string, argv.slice(1), { netns, input: o.input, timeoutMs: o.timeoutMs })
}

function tool(variant: IptablesVariant, family: Family, what: 'restore' | 'save'): string {
  return `${family === 4 ? 'iptables' : 'ip6tables'}-${variant}-${what}`
}

function statePath(opts: DataplaneTarget, stateDir = opts.stateDir ?? DEFAULT_STATE_DIR): string {
  return join(stateDir, `iptables-${nsTag(opts)}-${opts.iptables ?? 'nft'}.sha256`)
}

function nsTag(opts: DataplaneTarget): string {
  return (opts.netns ?? 'host').replace(/[^A-Za-z0-9_.-]/g, '_')
}

/** What palisade made in a netns with one iptables flavour: the only chains and sets it ever removes. */
export interface OwnedObjects {
  readonly chains4: readonly string[]
  readonly chains6: readonly string[]
  /** ipsets (shared by both flavours; each flavour's record lists those its applies made). */
  readonly sets: readonly string[]
}

const NOTHING_OWNED: OwnedObjects = { chains4: [], chains6: [], sets: [] }

/**
 * Returns the ownership record's path. The record is keyed by the network namespace itself (its nsfs
 * inode), not by the name it is reached by: an agent started inside a namespace (`ip netns exec X`) and a
 * `cleanup --netns X` from outside must find the same record. Falls back to the name when the namespace
 * cannot be looked at.
 */
async function ownedPath(
  opts: DataplaneTarget,
  stateDir = opts.stateDir ?? DEFAULT_STATE_DIR,
): Promise<string> {
  let key = nsTag(opts)
  try {
    key = `ns${(await stat(opts.netns === undefined ? '/proc/self/ns/net' : `/run/netns/${opts.netns}`)).ino}`
  } catch {
    // keep the name
  }
  return join(stateDir, `iptables-${key}-${opts.iptables ?? 'nft'}.owned`)
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []

/** Reads the ownership record (nothing owned when absent or unreadable). */
export async function readOwned(
  opts: DataplaneTarget,
  stateDir = opts.stateDir ?? DEFAULT_STATE_DIR,
): Promise<OwnedObjects> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(await ownedPath(opts, stateDir), 'utf8'))
  } catch {
    return NOTHING_OWNED
  }
  if (typeof parsed !== 'object' || parsed === null) return NOTHING_OWNED
  const o = parsed as Record<string, unknown>
  return { chains4: strings(o.chains4), chains6: strings(o.chains6), sets: strings(o.sets) }
}

/** Writes the ownership record atomically (temporary file + rename). */
async function writeOwned(opts: DataplaneTarget, owned: OwnedObjects): Promise<void> {
  const dir = opts.stateDir ?? DEFAULT_STATE_DIR
  await mkdir(dir, { recursive: true })
  const file = await ownedPath(opts)
  const sorted = (xs: readonly string[]) => [...new Set(xs)].sort()
  const text = `${JSON.stringify({ chains4: sorted(owned.chains4), chains6: sorted(owned.chains6), sets: sorted(owned.sets) })}\n`
  await writeFile(`${file}.tmp`, text)
  await rename(`${file}.tmp`, file)
}

/** Runs one command in the target namespace; throws with its stderr when it fails. */
async function run(opts: DataplaneTarget, argv: readonly string[], input?: string): Promise<string> {
  const r = await execIn(opts.netns, argv, { input, timeoutMs: opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS })
  if (r.code !== 0) {
    const what = argv.join(' ')
    throw new Error(`${what} failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}): ${r.stderr.trim()}`)
  }
  return r.stdout
}

async function saveFilter(opts: DataplaneTarget, family: Family): Promise<FilterTableView> {
  const v = opts.iptables ?? 'nft'
  return parseFilterSave(await run(opts, [tool(v, family, 'save'), '-t', 'filter']))
}

/** Sets named with our prefix (ours only when recorded). */
async function liveSets(opts: DataplaneTarget): Promise<LiveSet[]> {
  return parseIpsetListTerse(await run(opts, ['ipset', 'list', '-t'])).filter((s) =>
    s.name.startsWith(IPSET_PREFIX),
  )
}

/**
 * Destroys the named sets; a set still referenced by a rule (e.g. of the other iptables flavour) is kept.
 * Returns the names that are still there.
 */
async function destroySets(opts: DataplaneTarget, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return []
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS
  const input = names.map((n) => `destroy ${n}\n`).join('')
  const bulk = await execIn(opts.netns, ['ipset', 'restore', '-exist'], { input, timeoutMs })
  if (bulk.code === 0) return []
  const kept: string[] = []
  for (const n of names) {
    const r = await execIn(opts.netns, ['ipset', 'destroy', n], { timeoutMs })
    if (r.code === 0 || /does not exist/.test(r.stderr)) continue
    if (/in use/.test(r.stderr)) kept.push(n)
    else throw new Error(`ipset destroy ${n} failed: ${r.stderr.trim()}`)
  }
  return kept
}

/** The hash the state file keeps: of the printed files and the flavour. */
function rulesetHash(rs: IptablesRuleset, variant: IptablesVariant): string {
  const files: Record<string, string> = printIptables(rs)
  const h = createHash('sha256').update(`iptables-${variant}\0`)
  for (const f of IPTABLES_FILES) h.update(`${f}\0${files[f] ?? ''}\0`)
  return h.digest('hex')
}

/** Applies an iptables ruleset (ipset + iptables + ip6tables) atomically per step; skips an unchanged one. */
export async function applyIptables(
  rs: Ruleset<IptablesRuleset>,
  opts: DataplaneTarget = {},
): Promise<ApplyResult> {
  if (rs.backend !== 'iptables') throw new Error(`applyIptables got a ${rs.backend} ruleset`)
  const variant = opts.iptables ?? 'nft'
  const { sets, filter4, filter6 } = rs.structure
  const hash = rulesetHash(rs.structure, variant)
  const state = statePath(opts)
  const previous = await readFile(state, 'utf8').catch(() => '')
  const owned = await readOwned(opts)
  const [live4, live6] = await Promise.all([saveFilter(opts, 4), saveFilter(opts, 6)])
  const wanted4 = filter4.chains
  const wanted6 = filter6.chains
  const owned4 = new Set(owned.chains4)
  const owned6 = new Set(owned.chains6)
  const intact = (live: FilterTableView, wanted: readonly string[], ownedF: Set<string>) =>
    jumpInPlace(live, new Set([...ownedF, ...wanted])) && wanted.every((c) => live.prefixed.includes(c))
  if (
    previous.trim() === hash &&
    intact(live4, wanted4, owned4) &&
    intact(live6, wanted6, owned6) &&
    wanted4.every((c) => owned4.has(c)) &&
    wanted6.every((c) => owned6.has(c))
  )
    return { changed: false, warnings: [] }

  const before = await liveSets(opts)
  const ownedSets = new Set(owned.sets)
  const tmp = tmpSetNames(sets.length, before, ownedSets)
  // Record what this apply is about to create before creating it: a crash leaves nothing unrecorded.
  await writeOwned(opts, {
    chains4: [...owned.chains4, ...wanted4],
    chains6: [...owned.chains6, ...wanted6],
    sets: [...owned.sets, ...sets.map((x) => x.name), ...tmp],
  })

  // 1 + 2: sets. A failure while filling leaves every live set as it was.
  const fill = buildIpsetFill(sets, tmp)
  if (fill) {
    try {
      await run(opts, ['ipset', 'restore', '-exist'], fill)
    } catch (err) {
      await destroySets(opts, tmp).catch(() => undefined)
      throw err
    }
    try {
      await run(opts, ['ipset', 'restore'], buildIpsetSwap(sets, before, tmp))
    } catch (err) {
      await destroySets(opts, tmp).catch(() => undefined)
      throw err
    }
  }

  // 3: one transaction per family; the previous rules stay when it fails.
  await run(opts, [tool(variant, 4, 'restore'), '-w', '10', '--noflush'], buildCommit(filter4, live4, owned4))
  await run(opts, [tool(variant, 6, 'restore'), '-w', '10', '--noflush'], buildCommit(filter6, live6, owned6))

  // 4: our sets nobody references any more (a set another flavour's rules still use stays, recorded).
  const keep = new Set(sets.map((x) => x.name))
  const tmpNames = new Set(tmp)
  const kept = await destroySets(
    opts,
    before.map((x) => x.name).filter((n) => ownedSets.has(n) && !keep.has(n) && !tmpNames.has(n)),
  )
  await writeOwned(opts, { chains4: [...wanted4], chains6: [...wanted6], sets: [...keep, ...kept] })
  await mkdir(opts.stateDir ?? DEFAULT_STATE_DIR, { recursive: true })
  await writeFile(`${state}.tmp`, `${hash}\n`)
  await rename(`${state}.tmp`, state)
  return { changed: true, warnings: [] }
}

/**
 * Removes the chains, FORWARD jumps and sets our ownership records list; nothing else is touched. What
 * carries our prefix without a record (someone else's, or made by a palisade whose state was lost) is
 * named in the report, not removed.
 */
export async function cleanupIptables(opts: DataplaneTarget = {}): Promise<CleanupReport> {
  const v = opts.iptables ?? 'nft'
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS
  const dirs = opts.stateDirs ?? [opts.stateDir ?? DEFAULT_STATE_DIR]
  const records = await Promise.all(dirs.map((d) => readOwned(opts, d)))
  const left = new Set<string>()
  for (const family of [4, 6] as const) {
    const owned = new Set(records.flatMap((r) => (family === 4 ? r.chains4 : r.chains6)))
    // a flavour that is not installed cannot hold anything of ours
    const saved = await execIn(opts.netns, [tool(v, family, 'save'), '-t', 'filter'], { timeoutMs })
    if (saved.code === 127) continue
    if (saved.code !== 0)
      throw new Error(`${tool(v, family, 'save')} failed (exit ${saved.code}): ${saved.stderr.trim()}`)
    const live = parseFilterSave(saved.stdout)
    for (const c of live.prefixed) if (!owned.has(c)) left.add(c)
    const input = buildCleanup(live, owned)
    if (input) await run(opts, [tool(v, family, 'restore'), '-w', '10', '--noflush'], input)
    if (v === 'nft') await removeTraceRules(opts, family, timeoutMs)
  }
  let kept: string[] = []
  const listed = await execIn(opts.netns, ['ipset', 'list', '-t'], { timeoutMs })
  if (listed.code !== 127) {
    if (listed.code !== 0) throw new Error(`ipset list failed (exit ${listed.code}): ${listed.stderr.trim()}`)
    const owned = new Set(records.flatMap((r) => r.sets))
    const prefixed = parseIpsetListTerse(listed.stdout).filter((x) => x.name.startsWith(IPSET_PREFIX))
    for (const x of prefixed) if (!owned.has(x.name)) left.add(x.name)
    kept = await destroySets(
      opts,
      prefixed.map((x) => x.name).filter((n) => owned.has(n)),
    )
  }
  for (const d of dirs) {
    await rm(statePath(opts, d), { force: true })
    await rm(await ownedPath(opts, d), { force: true })
  }
  // A set still in use (by the other flavour's rules) stays recorded, so a later cleanup removes it.
  if (kept.length > 0) await writeOwned(opts, { chains4: [], chains6: [], sets: kept })
  return { left: [...left].sort() }
}

/**
 * Returns the counted DROP rules of our chains in `iptables-save -c -t filter` output. iptables rules
 * have no handle: a rule is named by the dataplane's apply generation (every apply rewrites our chains,
 * which resets their counters), the family, its chain and its place among the chain's drops.
 */
export function dropCountersOfSave(text: string, family: Family, generation: number): KernelDropCounter[] {
  const out: KernelDropCounter[] = []
  const seen = new Map<string, number>()
  let inFilter = false
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd()
    if (line.startsWith('*')) inFilter = line === '*filter'
    if (!inFilter) continue
    const m = /^\[(\d+):(\d+)\] -A (\S+) (.*) -j DROP$/.exec(line)
    if (!m || !(m[3] as string).startsWith(IPTABLES_CHAIN_PREFIX)) continue
    const chain = m[3] as string
    const n = seen.get(chain) ?? 0
    seen.set(chain, n + 1)
    const comment = /--comment (?:"((?:[^"\\]|\\.)*)"|(\S+))/.exec(m[4] as string)
    const reason =
      comment?.[1] ??
      comment?.[2] ??
      (/--ctstate INVALID/.test(m[4] as string) ? 'ct state invalid' : `${chain}: drop`)
    out.push({
      id: `${generation}/${family}/${chain}/${n}`,
      chain,
      reason,
      packets: Number(m[1]),
      bytes: Number(m[2]),
    })
  }
  return out
}

/**
 * Deletes the TRACE rules a `palisade trace` killed before it could remove them (SIGKILL) left in raw
 * PREROUTING: ours by their comment (`palisade trace <pid>`), deleted by number, last first.
 */
async function removeTraceRules(opts: DataplaneTarget, family: 4 | 6, timeoutMs: number): Promise<void> {
  const cmd = family === 4 ? 'iptables-nft' : 'ip6tables-nft'
  const listed = await execIn(
    opts.netns,
    [cmd, '-w', '10', '-t', 'raw', '-L', 'PREROUTING', '-n', '--line-numbers'],
    {
      timeoutMs,
    },
  )
  if (listed.code !== 0) return
  const numbers = listed.stdout
    .split('\n')
    .filter((l) => /\bTRACE\b/.test(l) && l.includes('/* palisade trace '))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => b - a)
  for (const n of numbers) await run(opts, [cmd, '-w', '10', '-t', 'raw', '-D', 'PREROUTING', String(n)])
}

/** Binds the iptables edge to a target. It has no delta: every change is a full apply. */
export function connectIptables(target: DataplaneTarget): Dataplane<IptablesRuleset, never> {
  let applied = false
  let generation = 0
  return {
    async apply(rs) {
      // Only the first apply may trust the state file (it describes what an earlier process loaded);
      // afterwards this dataplane knows better, and a full apply it is asked for always loads.
      if (applied) await rm(statePath(target), { force: true })
      applied = true
      const r = await applyIptables(rs, target)
      // our chains were rewritten: their rules (and counters) are new ones
      if (r.changed) generation++
      return r
    },
    applyDelta: async () => {
      throw new Error('the iptables backend applies whole rulesets only')
    },
    // Reading back every chain and set costs about what reloading them does: reload instead.
    drift: async () => ({ kind: 'unknown' }),
    async cleanup() {
      applied = false
      generation++
      return cleanupIptables(target)
    },
    async dropCounters() {
      const v = target.iptables ?? 'nft'
      const timeoutMs = target.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS
      const out: KernelDropCounter[] = []
      for (const family of [4, 6] as const) {
        const r = await execIn(target.netns, [tool(v, family, 'save'), '-c', '-t', 'filter'], { timeoutMs })
        if (r.code !== 0)
          throw new Error(`${tool(v, family, 'save')} -c failed (exit ${r.code}): ${r.stderr.trim()}`)
        out.push(...dropCountersOfSave(r.stdout, family, generation))
      }
      return out
    },
  }
}

/** Starts an iptables-nft trace in the namespace: xtables-monitor, then the TRACE rule; stop() deletes it. */
export function startIptablesTrace(
  target: { readonly netns?: string; readonly timeoutMs?: number },
  m: TraceMatch,
  tag: string = String(process.pid),
): Promise<TraceSession> {
  const tool = m.family === 4 ? 'iptables-nft' : 'ip6tables-nft'
  const spec = iptablesTraceRule(m, tag)
  const t = target.timeoutMs ?? 10_000
  return startMonitorSession({
    ...(target.netns !== undefined ? { netns: target.netns } : {}),
    monitor: ['xtables-monitor', '--trace', m.family === 4 ? '-4' : '-6'],
    install: () =>
      traceCommand(
        target.netns,
        [tool, '-w', '5', '-t', 'raw', '-I', 'PREROUTING', '1', ...spec],
        undefined,
        t,
      ),
    remove: () =>
      traceCommand(target.netns, [tool, '-w', '5', '-t', 'raw', '-D', 'PREROUTING', ...spec], undefined, t),
  })
}

/** Lists the trace rules of ours in raw PREROUTING (tests). */
export async function listIptablesTraceRules(netns?: string, family: 4 | 6 = 4): Promise<string[]> {
  const tool = family === 4 ? 'iptables-nft' : 'ip6tables-nft'
  const r = await traceCommand(netns, [tool, '-w', '5', '-t', 'raw', '-S', 'PREROUTING'])
  return r.stdout.split('\n').filter((l) => l.includes('palisade trace'))
}
