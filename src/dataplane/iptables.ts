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
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CompiledRuleset } from '../compile/index.js'
import {
  IPSET_PREFIX,
  IPTABLES_CHAIN_PREFIX,
  IPTABLES_ENTRY_CHAIN,
  IPTABLES_FILES,
} from '../compile/iptables/index.js'
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

/** Temporary sets are named `pal-TMP-<n>`: our prefix, so cleanup removes leftovers of a crashed apply. */
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
  /** Chains named with our prefix. */
  readonly ourChains: readonly string[]
  /** FORWARD rules in order, as `-A FORWARD ...` lines. */
  readonly forward: readonly string[]
}

/** Parses `iptables-save -t filter` output (any flavour; warnings and comments are skipped). */
export function parseFilterSave(text: string): FilterTableView {
  const ourChains: string[] = []
  const forward: string[] = []
  let inFilter = false
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd()
    if (line.startsWith('*')) inFilter = line === '*filter'
    else if (!inFilter || line.startsWith('#')) continue
    else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0] as string
      if (chain.startsWith(IPTABLES_CHAIN_PREFIX)) ourChains.push(chain)
    } else if (line.startsWith('-A FORWARD ')) forward.push(line)
  }
  return { ourChains, forward }
}

const JUMP = `-A FORWARD -j ${IPTABLES_ENTRY_CHAIN}`

/** Returns true when a FORWARD rule jumps to one of our chains. */
function isOurJump(rule: string): boolean {
  return new RegExp(`(^| )-[jg] ${IPTABLES_CHAIN_PREFIX}\\S*( |$)`).test(rule)
}

/** Returns true when FORWARD starts with our jump and holds no other jump of ours. */
function jumpInPlace(view: FilterTableView): boolean {
  return view.forward[0] === JUMP && view.forward.filter(isOurJump).length === 1
}

/** Returns the chains a rules file declares (`:NAME POLICY [c:b]`). */
function declaredChains(rules: string): Set<string> {
  const out = new Set<string>()
  for (const line of rules.split('\n'))
    if (line.startsWith(':')) out.add(line.slice(1).split(' ')[0] as string)
  return out
}

/**
 * Builds the one restore input of a family: our rules file, plus flush-and-delete of our chains no longer
 * wanted, plus the FORWARD jump fix-up, all before the file's COMMIT so that they land in one transaction.
 */
export function buildCommit(rules: string, live: FilterTableView): string {
  const wanted = declaredChains(rules)
  const stale = live.ourChains.filter((c) => !wanted.has(c)).sort()
  const extra: string[] = []
  const head: string[] = stale.map((c) => `:${c} - [0:0]`)
  if (!jumpInPlace(live)) {
    for (const rule of live.forward.filter(isOurJump)) extra.push(`-D${rule.slice(2)}`)
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

/** Builds the first ipset input: destroy leftover temporaries, then create and fill one temporary per set. */
export function buildIpsetFill(sets: readonly IpsetDefinition[]): string {
  const out: string[] = []
  sets.forEach((s, i) => {
    const tmp = `${TMP_SET_PREFIX}${i}`
    out.push(`destroy ${tmp}`, `create ${tmp} ${s.type} ${s.options}`)
    for (const e of s.elements) out.push(`add ${tmp} ${e}`)
  })
  return out.length ? `${out.join('\n')}\n` : ''
}

/** Builds the second ipset input: swap each temporary into its live set, or rename it when the set is new. */
export function buildIpsetSwap(sets: readonly IpsetDefinition[], live: readonly LiveSet[]): string {
  const byName = new Map(live.map((s) => [s.name, s]))
  const out: string[] = []
  sets.forEach((s, i) => {
    const tmp = `${TMP_SET_PREFIX}${i}`
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

function statePath(opts: IptablesOptions): string {
  const ns = (opts.netns ?? 'host').replace(/[^A-Za-z0-9_.-]/g, '_')
  return join(opts.stateDir ?? DEFAULT_STATE_DIR, `iptables-${ns}-${opts.iptables ?? 'nft'}.sha256`)
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

async function liveSets(opts: IptablesOptions): Promise<LiveSet[]> {
  return parseIpsetListTerse(await run(opts, ['ipset', 'list', '-t'])).filter((s) =>
    s.name.startsWith(IPSET_PREFIX),
  )
}

/** Destroys the named sets; a set still referenced by a rule (e.g. of the other iptables flavour) is kept. */
async function destroySets(opts: IptablesOptions, names: readonly string[]): Promise<void> {
  if (names.length === 0) return
  const input = names.map((n) => `destroy ${n}\n`).join('')
  const bulk = await execIn(opts.netns, ['ipset', 'restore', '-exist'], {
    input,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  })
  if (bulk.code === 0) return
  for (const n of names) {
    const r = await execIn(opts.netns, ['ipset', 'destroy', n], {
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    })
    if (r.code !== 0 && !/in use|does not exist/.test(r.stderr))
      throw new Error(`ipset destroy ${n} failed: ${r.stderr.trim()}`)
  }
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
  const [live4, live6] = await Promise.all([saveFilter(opts, 4), saveFilter(opts, 6)])
  const wanted4 = declaredChains(rules4)
  const wanted6 = declaredChains(rules6)
  const intact = (live: FilterTableView, wanted: Set<string>) =>
    jumpInPlace(live) && [...wanted].every((c) => live.ourChains.includes(c))
  if (previous.trim() === hash && intact(live4, wanted4) && intact(live6, wanted6)) return { changed: false }

  // 1 + 2: sets. A failure while filling leaves every live set as it was.
  const sets = parseIpsetRestore(ipsetText)
  const before = await liveSets(opts)
  const fill = buildIpsetFill(sets)
  if (fill) {
    try {
      await run(opts, ['ipset', 'restore', '-exist'], fill)
    } catch (err) {
      await destroySets(
        opts,
        sets.map((_, i) => `${TMP_SET_PREFIX}${i}`),
      ).catch(() => undefined)
      throw err
    }
    try {
      await run(opts, ['ipset', 'restore'], buildIpsetSwap(sets, before))
    } catch (err) {
      await destroySets(
        opts,
        sets.map((_, i) => `${TMP_SET_PREFIX}${i}`),
      ).catch(() => undefined)
      throw err
    }
  }

  // 3: one transaction per family; the previous rules stay when it fails.
  const v = variant
  await run(opts, [tool(v, 4, 'restore'), '-w', '10', '--noflush'], buildCommit(rules4, live4))
  await run(opts, [tool(v, 6, 'restore'), '-w', '10', '--noflush'], buildCommit(rules6, live6))

  // 4: sets nobody references any more.
  const keep = new Set(sets.map((s) => s.name))
  await destroySets(
    opts,
    before.map((s) => s.name).filter((n) => !keep.has(n) && !n.startsWith(TMP_SET_PREFIX)),
  )
  await mkdir(opts.stateDir ?? DEFAULT_STATE_DIR, { recursive: true })
  await writeFile(`${state}.tmp`, `${hash}\n`)
  await rename(`${state}.tmp`, state)
  return { changed: true }
}

/** Builds the restore input that removes our jumps and chains from a filter table, or '' when none are there. */
export function buildCleanup(live: FilterTableView): string {
  const jumps = live.forward.filter(isOurJump)
  if (jumps.length === 0 && live.ourChains.length === 0) return ''
  const chains = [...live.ourChains].sort()
  return [
    '*filter',
    ...chains.map((c) => `:${c} - [0:0]`),
    ...jumps.map((rule) => `-D${rule.slice(2)}`),
    ...chains.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n')
}

/** Removes our FORWARD jumps, our chains (PAL-*) and our sets (pal-*); nothing else is touched. */
export async function cleanupIptables(opts: IptablesOptions = {}): Promise<void> {
  const v = opts.iptables ?? 'nft'
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  for (const family of [4, 6] as const) {
    // a flavour that is not installed cannot hold anything of ours
    const saved = await execIn(opts.netns, [tool(v, family, 'save'), '-t', 'filter'], { timeoutMs })
    if (saved.code === 127) continue
    if (saved.code !== 0)
      throw new Error(`${tool(v, family, 'save')} failed (exit ${saved.code}): ${saved.stderr.trim()}`)
    const input = buildCleanup(parseFilterSave(saved.stdout))
    if (input) await run(opts, [tool(v, family, 'restore'), '-w', '10', '--noflush'], input)
  }
  const listed = await execIn(opts.netns, ['ipset', 'list', '-t'], { timeoutMs })
  if (listed.code !== 127) {
    if (listed.code !== 0) throw new Error(`ipset list failed (exit ${listed.code}): ${listed.stderr.trim()}`)
    const ours = parseIpsetListTerse(listed.stdout).filter((s) => s.name.startsWith(IPSET_PREFIX))
    await destroySets(
      opts,
      ours.map((s) => s.name),
    )
  }
  await rm(statePath(opts), { force: true })
}
