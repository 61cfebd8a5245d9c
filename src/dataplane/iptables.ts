/**
 * Applies a compiled iptables + ipset ruleset to the kernel (edge: runs ipset, iptables-restore).
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
 * An apply whose three files hash to the state file's hash, with the jump in place, is skipped.
 *
 * "Ours" is what we recorded, not what carries our prefix: every chain and set an apply creates is written
 * to an ownership record in the state folder BEFORE it is created (so a crash leaves a record that covers
 * it), and only recorded chains, their FORWARD jumps and recorded sets are ever flushed, deleted or
 * destroyed, by apply and by cleanup. Someone else's `PAL-FOO` chain or `pal-x` set is left alone.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CompiledRuleset } from '../backends/index.js'
import {
  IPSET_PREFIX,
  IPTABLES_CHAIN_PREFIX,
  IPTABLES_ENTRY_CHAIN,
  IPTABLES_FILES,
} from '../backends/iptables/index.js'
import { type ExecResult, execCommand } from './exec.js'

export type IptablesVariant = 'nft' | 'legacy'

export interface IptablesOptions {
  /** Network namespace to program (`ip netns exec`); absent = the current namespace. */
  readonly netns?: string
  /** iptables flavour: iptables-nft (default) or iptables-legacy. ipset is shared by both. */
  readonly iptables?: IptablesVariant
  /** Where the hash of the last applied ruleset is kept; default /run/palisade. */
  readonly stateDir?: string
  /** Time limit of each command in ms; default 30 s. */
  readonly timeoutMs?: number
}

/** Temporary sets are named `pal-TMP-<n>` and recorded before they are made, so cleanup removes leftovers of a crashed apply. */
const TMP_SET_PREFIX = `${IPSET_PREFIX}TMP-`
const DEFAULT_STATE_DIR = '/run/palisade'
const DEFAULT_TIMEOUT_MS = 30_000

type Family = 4 | 6

/** Runs argv (inside `ip netns exec NS` when netns is set) with stdin input and a time limit; never throws. */
function execIn(
  netns: string | undefined,
  argv: readonly string[],
  o: { readonly input?: string; readonly timeoutMs: number },
): Promise<ExecResult> {
  return execCommand(argv[0] as string, argv.slice(1), { netns, input: o.input, timeoutMs: o.timeoutMs })
}

/** One set of an ipset restore file: its create line parsed, and its elements. */
export interface IpsetDefinition {
  readonly name: string
  readonly type: string
  readonly family: 'inet' | 'inet6'
  /** The create options after the name and type, as written (e.g. 'family inet maxelem 1048576'). */
  readonly options: string
  readonly elements: readonly string[]
}

/** Parses the `create`/`add` lines of an ipset restore file (comments and blank lines skipped). */
export function parseIpsetRestore(text: string): IpsetDefinition[] {
  const sets = new Map<
    string,
    { name: string; type: string; family: 'inet' | 'inet6'; options: string; elements: string[] }
  >()
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const words = line.split(/\s+/)
    const [verb, name, ...rest] = words
    if (verb === 'create' && name !== undefined && rest.length > 0) {
      const [type, ...opts] = rest
      const options = opts.filter((o) => o !== '-exist' && o !== '-!')
      const fi = options.indexOf('family')
      const family = fi >= 0 && options[fi + 1] === 'inet6' ? 'inet6' : 'inet'
      sets.set(name, { name, type: type as string, family, options: options.join(' '), elements: [] })
    } else if (verb === 'add' && name !== undefined && rest.length > 0) {
      const set = sets.get(name)
      if (!set) throw new Error(`ipset.restore line ${i + 1}: add to undeclared set ${name}`)
      set.elements.push(rest.join(' '))
    } else {
      throw new Error(`ipset.restore line ${i + 1}: unexpected line: ${line}`)
    }
  }
  return [...sets.values()]
}

/** A set as `ipset list -t` reports it. */
interface LiveSet {
  readonly name: string
  readonly type: string
  readonly family: string
}

/** Parses `ipset list -t` output into name, type and family per set. */
export function parseIpsetListTerse(text: string): LiveSet[] {
  const out: LiveSet[] = []
  let name: string | undefined
  let type = ''
  for (const line of text.split('\n')) {
    if (line.startsWith('Name: ')) name = line.slice(6).trim()
    else if (line.startsWith('Type: ')) type = line.slice(6).trim()
    else if (line.startsWith('Header: ') && name !== undefined) {
      const m = /\bfamily (\S+)/.exec(line)
      out.push({ name, type, family: m?.[1] ?? '' })
      name = undefined
    }
  }
  return out
}

/** What iptables-save shows of the filter table that matters to us. */
export interface FilterTableView {
  /** Chains named with our prefix (ours only when the ownership record lists them). */
  readonly prefixed: readonly string[]
  /** FORWARD rules in order, as `-A FORWARD ...` lines. */
  readonly forward: readonly string[]
}

/** Parses `iptables-save -t filter` output (any flavour; warnings and comments are skipped). */
export function parseFilterSave(text: string): FilterTableView {
  const prefixed: string[] = []
  const forward: string[] = []
  let inFilter = false
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd()
    if (line.startsWith('*')) inFilter = line === '*filter'
    else if (!inFilter || line.startsWith('#')) continue
    else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0] as string
      if (chain.startsWith(IPTABLES_CHAIN_PREFIX)) prefixed.push(chain)
    } else if (line.startsWith('-A FORWARD ')) forward.push(line)
  }
  return { prefixed, forward }
}

const JUMP = `-A FORWARD -j ${IPTABLES_ENTRY_CHAIN}`

/** Returns the chain a FORWARD rule jumps or goes to, if any. */
function jumpTarget(rule: string): string | undefined {
  return / -[jg] (\S+)(?: |$)/.exec(rule)?.[1]
}

/** Returns true when a FORWARD rule jumps to one of the given chains (ours). */
function isOurJump(rule: string, ours: ReadonlySet<string>): boolean {
  const target = jumpTarget(rule)
  return target !== undefined && ours.has(target)
}

/** Returns true when FORWARD starts with our jump and holds no other jump of ours. */
function jumpInPlace(view: FilterTableView, ours: ReadonlySet<string>): boolean {
  return view.forward[0] === JUMP && view.forward.filter((r) => isOurJump(r, ours)).length === 1
}

/** Returns the chains a rules file declares (`:NAME POLICY [c:b]`). */
function declaredChains(rules: string): Set<string> {
  const out = new Set<string>()
  for (const line of rules.split('\n'))
    if (line.startsWith(':')) out.add(line.slice(1).split(' ')[0] as string)
  return out
}

/**
 * Builds the one restore input of a family: our rules file, plus flush-and-delete of our recorded chains
 * no longer wanted, plus the FORWARD jump fix-up, all before the file's COMMIT so that they land in one
 * transaction. `owned` are the chains the ownership record lists; no other chain is touched.
 */
export function buildCommit(rules: string, live: FilterTableView, owned: ReadonlySet<string>): string {
  const wanted = declaredChains(rules)
  const ours = new Set([...owned, ...wanted])
  const stale = live.prefixed.filter((c) => owned.has(c) && !wanted.has(c)).sort()
  const extra: string[] = []
  const head: string[] = stale.map((c) => `:${c} - [0:0]`)
  if (!jumpInPlace(live, ours)) {
    for (const rule of live.forward.filter((r) => isOurJump(r, ours))) extra.push(`-D${rule.slice(2)}`)
    extra.push(`-I FORWARD 1 -j ${IPTABLES_ENTRY_CHAIN}`)
  }
  for (const c of stale) extra.push(`-X ${c}`)
  const lines = rules.replace(/\n+$/, '').split('\n')
  const commitAt = lines.lastIndexOf('COMMIT')
  const filterAt = lines.indexOf('*filter')
  if (commitAt < 0 || filterAt < 0 || filterAt > commitAt)
    throw new Error('rules file has no *filter ... COMMIT block')
  return [
    ...lines.slice(0, filterAt + 1),
    ...head,
    ...lines.slice(filterAt + 1, commitAt),
    ...extra,
    ...lines.slice(commitAt),
    '',
  ].join('\n')
}

/** Returns n temporary set names: `pal-TMP-<k>`, skipping names a set we did not record already holds. */
export function tmpSetNames(n: number, live: readonly LiveSet[], owned: ReadonlySet<string>): string[] {
  const taken = new Set(live.map((s) => s.name).filter((name) => !owned.has(name)))
  const out: string[] = []
  for (let k = 0; out.length < n; k++)
    if (!taken.has(`${TMP_SET_PREFIX}${k}`)) out.push(`${TMP_SET_PREFIX}${k}`)
  return out
}

const defaultTmp = (sets: readonly IpsetDefinition[]) => sets.map((_, i) => `${TMP_SET_PREFIX}${i}`)

/**
 * Builds the first ipset input: destroy leftover temporaries (names that are ours, see tmpSetNames), then
 * create and fill one temporary per set.
 */
export function buildIpsetFill(sets: readonly IpsetDefinition[], tmp = defaultTmp(sets)): string {
  const out: string[] = []
  sets.forEach((s, i) => {
    const t = tmp[i] as string
    out.push(`destroy ${t}`, `create ${t} ${s.type} ${s.options}`)
    for (const e of s.elements) out.push(`add ${t} ${e}`)
  })
  return out.length ? `${out.join('\n')}\n` : ''
}

/** Builds the second ipset input: swap each temporary into its live set, or rename it when the set is new. */
export function buildIpsetSwap(
  sets: readonly IpsetDefinition[],
  live: readonly LiveSet[],
  tmpNames = defaultTmp(sets),
): string {
  const byName = new Map(live.map((s) => [s.name, s]))
  const out: string[] = []
  sets.forEach((s, i) => {
    const tmp = tmpNames[i] as string
    const cur = byName.get(s.name)
    if (!cur) {
      out.push(`rename ${tmp} ${s.name}`)
      return
    }
    if (cur.type !== s.type || cur.family !== s.family) {
      throw new Error(
        `ipset ${s.name} exists as ${cur.type} family ${cur.family}, wanted ${s.type} family ${s.family}`,
      )
    }
    out.push(`swap ${tmp} ${s.name}`, `destroy ${tmp}`)
  })
  return out.length ? `${out.join('\n')}\n` : ''
}

function tool(variant: IptablesVariant, family: Family, what: 'restore' | 'save'): string {
  return `${family === 4 ? 'iptables' : 'ip6tables'}-${variant}-${what}`
}

function statePath(opts: IptablesOptions, stateDir = opts.stateDir ?? DEFAULT_STATE_DIR): string {
  return join(stateDir, `iptables-${nsTag(opts)}-${opts.iptables ?? 'nft'}.sha256`)
}

function nsTag(opts: IptablesOptions): string {
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
  opts: IptablesOptions,
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
  opts: IptablesOptions,
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
async function writeOwned(opts: IptablesOptions, owned: OwnedObjects): Promise<void> {
  const dir = opts.stateDir ?? DEFAULT_STATE_DIR
  await mkdir(dir, { recursive: true })
  const file = await ownedPath(opts)
  const sorted = (xs: readonly string[]) => [...new Set(xs)].sort()
  const text = `${JSON.stringify({ chains4: sorted(owned.chains4), chains6: sorted(owned.chains6), sets: sorted(owned.sets) })}\n`
  await writeFile(`${file}.tmp`, text)
  await rename(`${file}.tmp`, file)
}

/** Forgets the hash of the last applied ruleset (the next apply reloads); the ownership record stays. */
export async function forgetIptablesState(opts: IptablesOptions = {}): Promise<void> {
  await rm(statePath(opts), { force: true })
}

/** Runs one command in the target namespace; throws with its stderr when it fails. */
async function run(opts: IptablesOptions, argv: readonly string[], input?: string): Promise<string> {
  const r = await execIn(opts.netns, argv, { input, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS })
  if (r.code !== 0) {
    const what = argv.join(' ')
    throw new Error(`${what} failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}): ${r.stderr.trim()}`)
  }
  return r.stdout
}

async function saveFilter(opts: IptablesOptions, family: Family): Promise<FilterTableView> {
  const v = opts.iptables ?? 'nft'
  return parseFilterSave(await run(opts, [tool(v, family, 'save'), '-t', 'filter']))
}

/** Sets named with our prefix (ours only when recorded). */
async function liveSets(opts: IptablesOptions): Promise<LiveSet[]> {
  return parseIpsetListTerse(await run(opts, ['ipset', 'list', '-t'])).filter((s) =>
    s.name.startsWith(IPSET_PREFIX),
  )
}

/**
 * Destroys the named sets; a set still referenced by a rule (e.g. of the other iptables flavour) is kept.
 * Returns the names that are still there.
 */
async function destroySets(opts: IptablesOptions, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return []
  const input = names.map((n) => `destroy ${n}\n`).join('')
  const bulk = await execIn(opts.netns, ['ipset', 'restore', '-exist'], {
    input,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  })
  if (bulk.code === 0) return []
  const kept: string[] = []
  for (const n of names) {
    const r = await execIn(opts.netns, ['ipset', 'destroy', n], {
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    })
    if (r.code === 0 || /does not exist/.test(r.stderr)) continue
    if (/in use/.test(r.stderr)) kept.push(n)
    else throw new Error(`ipset destroy ${n} failed: ${r.stderr.trim()}`)
  }
  return kept
}

function rulesetHash(rs: CompiledRuleset, variant: IptablesVariant): string {
  const h = createHash('sha256').update(`iptables-${variant}\0`)
  for (const f of IPTABLES_FILES) h.update(`${f}\0${rs.files[f] ?? ''}\0`)
  return h.digest('hex')
}

/** Applies an iptables ruleset (ipset + iptables + ip6tables) atomically per step; skips an unchanged one. */
export async function applyIptables(
  rs: CompiledRuleset,
  opts: IptablesOptions = {},
): Promise<{ changed: boolean }> {
  if (rs.backend !== 'iptables') throw new Error(`applyIptables got a ${rs.backend} ruleset`)
  const variant = opts.iptables ?? 'nft'
  const [ipsetText, rules4, rules6] = IPTABLES_FILES.map((f) => {
    const text = rs.files[f]
    if (text === undefined) throw new Error(`ruleset has no ${f}`)
    return text
  }) as [string, string, string]
  const hash = rulesetHash(rs, variant)
  const state = statePath(opts)
  const previous = await readFile(state, 'utf8').catch(() => '')
  const owned = await readOwned(opts)
  const [live4, live6] = await Promise.all([saveFilter(opts, 4), saveFilter(opts, 6)])
  const wanted4 = declaredChains(rules4)
  const wanted6 = declaredChains(rules6)
  const owned4 = new Set(owned.chains4)
  const owned6 = new Set(owned.chains6)
  const intact = (live: FilterTableView, wanted: Set<string>, ownedF: Set<string>) =>
    jumpInPlace(live, new Set([...ownedF, ...wanted])) && [...wanted].every((c) => live.prefixed.includes(c))
  if (
    previous.trim() === hash &&
    intact(live4, wanted4, owned4) &&
    intact(live6, wanted6, owned6) &&
    [...wanted4].every((c) => owned4.has(c)) &&
    [...wanted6].every((c) => owned6.has(c))
  )
    return { changed: false }

  const sets = parseIpsetRestore(ipsetText)
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
  const v = variant
  await run(opts, [tool(v, 4, 'restore'), '-w', '10', '--noflush'], buildCommit(rules4, live4, owned4))
  await run(opts, [tool(v, 6, 'restore'), '-w', '10', '--noflush'], buildCommit(rules6, live6, owned6))

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
  return { changed: true }
}

/**
 * Builds the restore input that removes our chains and the FORWARD jumps to them, or '' when none are
 * there. `owned` are the chains the ownership record lists; other chains and jumps are left alone.
 */
export function buildCleanup(live: FilterTableView, owned: ReadonlySet<string>): string {
  const jumps = live.forward.filter((r) => isOurJump(r, owned))
  const chains = live.prefixed.filter((c) => owned.has(c)).sort()
  if (jumps.length === 0 && chains.length === 0) return ''
  return [
    '*filter',
    ...chains.map((c) => `:${c} - [0:0]`),
    ...jumps.map((rule) => `-D${rule.slice(2)}`),
    ...chains.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n')
}

export interface IptablesCleanupOptions extends IptablesOptions {
  /** Every state folder whose ownership records count (default: [stateDir]). */
  readonly stateDirs?: readonly string[]
}

export interface CleanupReport {
  /** Chains and sets that carry our prefix but no record lists: left in place, named for the operator. */
  readonly left: readonly string[]
}

/**
 * Removes the chains, FORWARD jumps and sets our ownership records list; nothing else is touched. What
 * carries our prefix without a record (someone else's, or made by a palisade whose state was lost) is
 * named in the report, not removed.
 */
export async function cleanupIptables(opts: IptablesCleanupOptions = {}): Promise<CleanupReport> {
  const v = opts.iptables ?? 'nft'
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
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
