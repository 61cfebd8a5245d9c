/**
 * Chain- and set-level incremental nftables updates from rendered rulesets (no I/O; parsed blocks
 * are memoised per block object).
 *
 * A full reload replaces the whole table: for a node with ~2k rules and ~10k set elements the
 * kernel commit alone takes ~150 ms. A policy edit changes one policy chain and a few pod port maps,
 * so the same result is reached by touching only those objects, in ONE `nft -f` batch (one netlink
 * transaction: all or nothing, the previous rules stay in force on any error):
 *
 *   flush chain ...            chains whose rules changed (refilled below), or that go away
 *   delete element ...         set/map elements that go away (by key)
 *   delete set|map|chain ...   objects that go away, or whose declaration changed (recreated)
 *   table T { <blocks> }       new and recreated sets, maps and chains, verbatim from the file
 *   add rule ...               the new rules of the flushed chains
 *   add element ...            new set/map elements
 *
 * Only declarations the kernel can update in place are diffed: a chain whose declaration (hook,
 * priority, policy, comment) or a set whose declaration (type, flags, comment) changed is deleted
 * and recreated, after flushing the chains that refer to it and removing the verdict-map elements
 * that jump to it (both re-added afterwards). A change of the table itself or of a base chain, and
 * any text this parser does not recognise, yields no diff: the caller reloads in full.
 *
 * The text is split into blocks with string searches only (the renderer's layout: one block per
 * `\tchain|set|map NAME {` ... `\t}`); a block whose text equals the previous one reuses its parsed
 * form, so a sync pays for parsing only what changed.
 */
import { elementKey, matchBrace, splitElements } from './nft-elements.js'

export type NftBlockKind = 'chain' | 'set' | 'map'

/** One top-level object of the table, as rendered. */
export interface NftBlock {
  readonly kind: NftBlockKind
  readonly name: string
  /** `\tkind name {` ... `\t}`: valid inside a `table F N { }` statement. */
  readonly text: string
}

/** The parsed inside of a block (computed once per distinct block text). */
interface BlockDetail {
  /** Declaration lines (type, hook, flags, policy, comment), trimmed and joined. */
  readonly header: string
  /** Chains: rule lines, trimmed, in order. */
  readonly rules: readonly string[]
  /** Sets and maps: elements, whitespace-normalised. */
  readonly elements: readonly string[]
  /** A chain attached to a hook. */
  readonly base: boolean
}

/** A rendered `table` split into its blocks. */
export interface NftTableBlocks {
  readonly family: string
  readonly name: string
  /** Everything before and around the blocks except `#` comments: must match for a diff. */
  readonly head: string
  /** By `chain:NAME` or `set:NAME` (sets and maps share one namespace in the kernel). */
  readonly blocks: ReadonlyMap<string, NftBlock>
}

const TABLE_LINE = /^table (ip|ip6|inet|arp|bridge|netdev) ([A-Za-z0-9_.-]+) \{$/
const BLOCK_LINE = /^\t(chain|set|map) ([A-Za-z0-9_.-]+) \{$/

const details = new WeakMap<NftBlock, BlockDetail>()

function keyOf(kind: NftBlockKind, name: string): string {
  return `${kind === 'chain' ? 'chain' : 'set'}:${name}`
}

/**
 * Returns a copy of `s` that does not keep its parent string alive: V8 represents a slice as a
 * view of the whole text, and a block kept across syncs would otherwise retain every ruleset text
 * it was cut from (hundreds of KiB each).
 */
function detach(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8')
}

/**
 * Splits a rendered ruleset into blocks; undefined when the text is not laid out as the renderer
 * lays it out (the caller then reloads in full). Blocks whose text equals the one of the same name
 * in `prev` are the previous objects (their parsed form is reused).
 */
export function splitNftTable(text: string, prev?: NftTableBlocks): NftTableBlocks | undefined {
  const head: string[] = []
  let pos = 0
  let table: RegExpExecArray | null = null
  // Header lines up to `table F N {`.
  while (pos < text.length) {
    let end = text.indexOf('\n', pos)
    if (end < 0) end = text.length
    const line = text.slice(pos, end)
    pos = end + 1
    if (line.startsWith('#') || line.trim() === '') continue
    head.push(line)
    table = TABLE_LINE.exec(line)
    if (table) break
  }
  if (!table) return undefined
  const family = table[1] as string
  const name = table[2] as string
  const blocks = new Map<string, NftBlock>()
  let closed = false
  while (pos < text.length) {
    let end = text.indexOf('\n', pos)
    if (end < 0) end = text.length
    const line = text.slice(pos, end)
    if (line === '}') {
      closed = true
      pos = end + 1
      break
    }
    const b = BLOCK_LINE.exec(line)
    if (!b) {
      // Table-level declarations (the table comment).
      if (!line.startsWith('\t') || line.startsWith('\t\t')) return undefined
      head.push(line)
      pos = end + 1
      continue
    }
    const close = text.indexOf('\n\t}', end)
    if (close < 0) return undefined
    const after = close + 3
    if (after < text.length && text[after] !== '\n') return undefined
    const kind = b[1] as NftBlockKind
    const blockName = b[2] as string
    const blockText = text.slice(pos, after)
    const key = keyOf(kind, blockName)
    if (blocks.has(key)) return undefined
    const old = prev?.blocks.get(key)
    blocks.set(
      key,
      old !== undefined && old.kind === kind && old.text === blockText
        ? old
        : { kind, name: blockName, text: detach(blockText) },
    )
    pos = after + 1
  }
  if (!closed) return undefined
  // Only comments and blank lines may follow the table.
  for (const line of text.slice(pos).split('\n'))
    if (line.trim() !== '' && !line.startsWith('#')) return undefined
  return { family, name, head: head.join('\n'), blocks }
}

/**
 * Splits an element list; a list without quotes or nested braces (addresses, CIDRs, `proto . port :
 * jump chain`: all of ours but interface names) is split on commas natively, ~10x faster for the
 * thousands of elements of a namespaceSelector peer set.
 */
function fastSplitElements(body: string): string[] {
  if (body.includes('"') || body.includes('{')) return splitElements(body)
  const out: string[] = []
  for (const piece of body.split(',')) {
    const e = piece.trim()
    if (e !== '') out.push(/\s\s|[\t\n\r]/.test(e) ? e.replace(/\s+/g, ' ') : e)
  }
  return out
}

/** Parses the inside of a block (memoised per block object); undefined when it cannot be parsed. */
function detailOf(b: NftBlock): BlockDetail | undefined {
  const hit = details.get(b)
  if (hit) return hit
  const open = b.text.indexOf('{')
  const inner = b.text.slice(open + 1, b.text.length - 2)
  const header: string[] = []
  const rules: string[] = []
  let elements: string[] = []
  let base = false
  let body = inner
  if (b.kind !== 'chain') {
    const at = /(^|\n)\s*elements\s*=\s*\{/.exec(inner)
    if (at) {
      const brace = at.index + at[0].length - 1
      const close = matchBrace(inner, brace)
      if (close < 0) return undefined
      elements = fastSplitElements(inner.slice(brace + 1, close))
      body = inner.slice(0, at.index) + inner.slice(close + 1)
    }
  }
  for (const raw of body.split('\n')) {
    const line = raw.trim().replace(/;$/, '')
    if (line === '') continue
    if (b.kind !== 'chain') {
      header.push(line)
      continue
    }
    if (/^type\s+\w+\s+hook\b/.test(line)) {
      base = true
      header.push(line)
    } else if (/^(comment\s+"|policy\s)/.test(line)) header.push(line)
    else if (line.includes('{') || line.includes('}')) {
      // Anonymous sets and maps in a rule are fine, but a nested block is not ours to diff.
      if (matchBrace(line, line.indexOf('{')) < 0) return undefined
      rules.push(line)
    } else rules.push(line)
  }
  const d: BlockDetail = { header: header.join('\n'), rules, elements, base }
  details.set(b, d)
  return d
}

/**
 * Parses every block of `t` ahead of time (call it when idle after a full reload), so that the next
 * change pays only for parsing its new blocks.
 */
export function primeNftTable(t: NftTableBlocks): void {
  for (const b of t.blocks.values()) detailOf(b)
}

/** An incremental update as one nft script, with what it touches. */
export interface NftTableDiff {
  /** One `nft -f` transaction; '' when the kernel already holds `next`. */
  readonly script: string
  readonly added: number
  readonly deleted: number
  /** Chains flushed (refilled, recreated or deleted) or created. */
  readonly chains: number
  /** Sets and maps whose elements changed, or that were created, recreated or deleted. */
  readonly sets: number
}

/** Returns the set stored under `key`, creating it when missing. */
function bucket(m: Map<string, Set<string>>, key: string): Set<string> {
  let s = m.get(key)
  if (!s) {
    s = new Set()
    m.set(key, s)
  }
  return s
}

/** Returns `name` referenced as a whole word (`@name`, `jump name`, `goto name`) in `line`. */
function refersTo(line: string, name: string): boolean {
  let i = line.indexOf(name)
  while (i >= 0) {
    const before = line[i - 1]
    const after = line[i + name.length]
    const wordEnd = after === undefined || !/[A-Za-z0-9_.-]/.test(after)
    if (
      wordEnd &&
      (before === '@' ||
        line.slice(Math.max(0, i - 5), i) === 'jump ' ||
        line.slice(Math.max(0, i - 5), i) === 'goto ')
    )
      return true
    i = line.indexOf(name, i + 1)
  }
  return false
}

/**
 * Returns the one-transaction update from `prev` to `next`, or undefined when only a full reload
 * is correct (table or base chain changed, unparseable block). The kernel state it produces is the
 * state a full load of `next` produces (test/agent/nft-blocks.test.ts checks this on a real kernel).
 */
export function diffNftTables(prev: NftTableBlocks, next: NftTableBlocks): NftTableDiff | undefined {
  if (prev.family !== next.family || prev.name !== next.name || prev.head !== next.head) return undefined
  const table = `${next.family} ${next.name}`
  const flush = new Set<string>() // chains flushed (then refilled, deleted or recreated)
  const refill = new Set<string>() // chains kept whose rules are re-added
  const remove: NftBlock[] = [] // deleted, not recreated
  const recreate: NftBlock[] = [] // deleted and created again (declaration changed)
  const create: NftBlock[] = []
  // Element changes of kept sets and maps: name -> keys to delete / elements to add.
  const delKeys = new Map<string, Set<string>>()
  const addEls = new Map<string, Set<string>>()
  let added = 0
  let deleted = 0
  const elemDiff = (name: string, isMap: boolean, p: readonly string[], n: readonly string[]): void => {
    // Most changes are a few elements of a long list: compare only what lies between the common
    // head and tail (rendered lists are sorted, so one pod is one short window).
    let lo = 0
    const max = Math.min(p.length, n.length)
    while (lo < max && p[lo] === n[lo]) lo++
    let hp = p.length
    let hn = n.length
    while (hp > lo && hn > lo && p[hp - 1] === n[hn - 1]) {
      hp--
      hn--
    }
    const pm = p.slice(lo, hp)
    const nm = n.slice(lo, hn)
    const before = new Set(pm)
    const after = new Set(nm)
    let all: Set<string> | undefined // every element of n, built only when something is deleted
    for (const e of pm) {
      if (after.has(e)) continue
      all ??= new Set(n)
      // Also listed outside the window (a duplicate): still wanted.
      if (all.has(e)) continue
      const s = bucket(delKeys, name)
      s.add(elementKey(e, isMap))
      deleted++
    }
    for (const e of nm) {
      if (before.has(e)) continue
      const s = bucket(addEls, name)
      s.add(e)
      added++
    }
  }

  for (const [key, n] of next.blocks) {
    const p = prev.blocks.get(key)
    if (p === n || (p !== undefined && p.text === n.text)) continue
    const nd = detailOf(n)
    if (!nd) return undefined
    if (p === undefined) {
      if (nd.base) return undefined
      create.push(n)
      continue
    }
    const pd = detailOf(p)
    if (!pd) return undefined
    if (pd.base || nd.base) {
      // Hooked chains are never recreated (traffic would skip them); same declaration = refill.
      if (pd.header !== nd.header || p.kind !== n.kind) return undefined
    }
    if (p.kind !== n.kind || pd.header !== nd.header) {
      recreate.push(n)
      continue
    }
    if (n.kind === 'chain') {
      flush.add(n.name)
      refill.add(n.name)
    } else elemDiff(n.name, n.kind === 'map', pd.elements, nd.elements)
  }
  for (const [key, p] of prev.blocks) {
    if (next.blocks.has(key)) continue
    const pd = detailOf(p)
    if (!pd || pd.base) return undefined
    remove.push(p)
  }

  // Whatever refers to a recreated object must let go of it first and take the new one after.
  if (recreate.length > 0) {
    const names = new Set(recreate.map((b) => b.name))
    const recreated = new Set(recreate.map((b) => keyOf(b.kind, b.name)))
    for (const [key, p] of prev.blocks) {
      if (recreated.has(key) || !next.blocks.has(key)) continue
      const pd = detailOf(p)
      if (!pd) return undefined
      const n = next.blocks.get(key) as NftBlock
      const nd = detailOf(n)
      if (!nd) return undefined
      if (p.kind === 'chain') {
        if (refill.has(p.name)) continue
        if (pd.rules.some((r) => [...names].some((x) => refersTo(r, x)))) {
          flush.add(p.name)
          refill.add(p.name)
        }
      } else if (p.kind === 'map') {
        // Verdict-map elements jumping to a recreated chain: delete and add again.
        const stale = pd.elements.filter((e) => [...names].some((x) => refersTo(e, x)))
        const fresh = nd.elements.filter((e) => [...names].some((x) => refersTo(e, x)))
        if (stale.length === 0 && fresh.length === 0) continue
        const d = bucket(delKeys, p.name)
        for (const e of stale) d.add(elementKey(e, true))
        const a = bucket(addEls, p.name)
        for (const e of fresh) a.add(e)
      }
    }
  }
  for (const b of [...remove, ...recreate]) if (b.kind === 'chain') flush.add(b.name)

  const out: string[] = []
  for (const c of flush) out.push(`flush chain ${table} ${c}`)
  for (const [name, keys] of delKeys) {
    // A key deleted and re-added in the same batch (a map value changed) must still be deleted first.
    if (keys.size > 0) out.push(`delete element ${table} ${name} { ${[...keys].join(', ')} }`)
  }
  const prevKind = (b: NftBlock) => (prev.blocks.get(keyOf(b.kind, b.name)) as NftBlock).kind
  for (const b of remove) if (b.kind !== 'chain') out.push(`delete ${b.kind} ${table} ${b.name}`)
  for (const b of recreate) if (prevKind(b) !== 'chain') out.push(`delete ${prevKind(b)} ${table} ${b.name}`)
  // Chains last: verdict-map elements (deleted above, with their maps) hold references to them.
  for (const b of remove) if (b.kind === 'chain') out.push(`delete chain ${table} ${b.name}`)
  for (const b of recreate) if (prevKind(b) === 'chain') out.push(`delete chain ${table} ${b.name}`)
  const fresh = [...create, ...recreate]
  if (fresh.length > 0) {
    // Sets before chains: nft declares every chain before any rule, and sets before rules, anyway.
    fresh.sort((a, b) => (a.kind === 'chain' ? 1 : 0) - (b.kind === 'chain' ? 1 : 0))
    out.push(`table ${table} {`, ...fresh.map((b) => b.text), '}')
  }
  for (const c of refill) {
    const d = detailOf(next.blocks.get(`chain:${c}`) as NftBlock) as BlockDetail
    for (const r of d.rules) out.push(`add rule ${table} ${c} ${r}`)
  }
  for (const [name, els] of addEls)
    if (els.size > 0) out.push(`add element ${table} ${name} { ${[...els].join(', ')} }`)
  const touchedSets = new Set([...delKeys.keys(), ...addEls.keys()])
  for (const b of [...remove, ...fresh]) if (b.kind !== 'chain') touchedSets.add(b.name)
  return {
    script: out.length === 0 ? '' : `${out.join('\n')}\n`,
    added,
    deleted,
    chains: flush.size + create.filter((b) => b.kind === 'chain').length,
    sets: touchedSets.size,
  }
}
