/**
 * The change between two nftables tables, as one `nft -f` transaction (pure).
 *
 * A full reload replaces the whole table: for a node with ~2k rules and ~10k set elements the kernel
 * commit alone takes ~150 ms. A policy edit changes one policy chain and a few pod port maps, a pod churn
 * a few set elements, so the same result is reached by touching only those objects, in ONE batch (one
 * netlink transaction: all or nothing, the previous rules stay in force on any error):
 *
 *   flush chain ...            chains whose rules changed (refilled below), or that go away
 *   delete element ...         set/map elements that go away (by key)
 *   delete set|map|chain ...   objects that go away, or whose declaration changed (re-created)
 *   table T { <objects> }      new and re-created sets, maps and chains
 *   add rule ...               the rules of the flushed chains that stay
 *   add element ...            new set/map elements
 *
 * Objects are matched by identity (kind and name); an object the renderer handed back unchanged is the
 * same object and costs nothing. Only what the kernel can update in place is diffed: a chain whose
 * declaration (hook, comment) or a set whose declaration (type, flags, comment) changed is deleted and
 * re-created, after flushing the chains that refer to it and removing the verdict-map elements that jump
 * to it (both put back afterwards). A change of the table itself or of a base chain needs a full reload.
 */
import type { Change } from '../backend.js'
import { printMapElement, printNftObject, printNftObjectLine } from './print.js'
import {
  type NftChain,
  type NftMap,
  type NftMapElement,
  type NftObject,
  type NftSet,
  type NftTable,
  nftObjectKey,
} from './structure.js'

/** A set or map element. */
export type NftElement = string | NftMapElement

/** One transaction from a table in the kernel to the next one. */
export interface NftDelta {
  /** `inet palisade`. */
  readonly table: string
  /** Chains flushed: refilled (addRules), re-created or deleted. */
  readonly flush: readonly string[]
  /** Elements deleted, by key. */
  readonly deleteElements: readonly { readonly name: string; readonly keys: readonly string[] }[]
  /** Objects deleted (sets and maps first: their verdict elements hold references to chains). */
  readonly deleteObjects: readonly { readonly kind: NftObject['kind']; readonly name: string }[]
  /** Objects created (new or re-created), sets and maps before chains. */
  readonly create: readonly NftObject[]
  /** The rules of flushed chains that stay. */
  readonly addRules: readonly { readonly chain: string; readonly rules: readonly string[] }[]
  /** Elements added. */
  readonly addElements: readonly { readonly name: string; readonly elements: readonly NftElement[] }[]
}

const isBase = (o: NftObject): boolean => o.kind === 'chain' && o.hook !== undefined

const sameStrings = (a: readonly string[], b: readonly string[]): boolean =>
  a === b || (a.length === b.length && a.every((x, i) => x === b[i]))

const sameVerdict = (a: NftMapElement, b: NftMapElement): boolean =>
  a.key === b.key &&
  a.verdict.kind === b.verdict.kind &&
  ('chain' in a.verdict ? a.verdict.chain : '') === ('chain' in b.verdict ? b.verdict.chain : '')

/** True when both objects are declared alike (what the kernel cannot change in place). */
function sameDeclaration(p: NftObject, n: NftObject): boolean {
  if (p.kind !== n.kind || p.comment !== n.comment) return false
  if (p.kind === 'chain' && n.kind === 'chain') {
    const a = p.hook
    const b = n.hook
    return (
      a === b ||
      (a?.type === b?.type && a?.hook === b?.hook && a?.priority === b?.priority && a?.policy === b?.policy)
    )
  }
  const s = p as NftSet | NftMap
  const t = n as NftSet | NftMap
  return s.type === t.type && s.flags === t.flags
}

/** True when both objects are equal (declaration and content). */
function sameObject(p: NftObject, n: NftObject): boolean {
  if (!sameDeclaration(p, n)) return false
  if (p.kind === 'chain') return sameStrings(p.rules, (n as NftChain).rules)
  if (p.kind === 'set') return sameStrings(p.elements, (n as NftSet).elements)
  const m = n as NftMap
  return (
    p.elements === m.elements ||
    (p.elements.length === m.elements.length &&
      p.elements.every((e, i) => sameVerdict(e, m.elements[i] as NftMapElement)))
  )
}

/** A table's objects by identity: chains by name, sets and maps by name (they share one namespace). */
interface TableIndex {
  readonly chains: Map<string, NftObject>
  readonly sets: Map<string, NftObject>
}

/**
 * Indexes of the tables diffed so far. A table is immutable, and the agent diffs each one twice (as the
 * next table, then as the previous one): the second time its index (thousands of objects) is found here.
 * Weak: it lives as long as the table, and caches a pure function of it (no state of its own).
 */
const indexes = new WeakMap<NftTable, TableIndex | undefined>()

/** Tables whose objects have distinct identities (no index kept: the aligned diff needs no more). */
const distinct = new WeakSet<NftTable>()

/** Indexes a table's objects; undefined when two share an identity (not a table we made). */
function indexOf(t: NftTable): TableIndex | undefined {
  if (indexes.has(t)) return indexes.get(t)
  const index = makeIndex(t)
  indexes.set(t, index)
  return index
}

function makeIndex(t: NftTable): TableIndex | undefined {
  const chains = new Map<string, NftObject>()
  const sets = new Map<string, NftObject>()
  for (const o of t.objects) {
    const m = o.kind === 'chain' ? chains : sets
    if (m.has(o.name)) return undefined
    m.set(o.name, o)
  }
  return { chains, sets }
}

/** Returns the object of `t` with the identity of `o`. */
const lookup = (t: TableIndex, o: NftObject): NftObject | undefined =>
  (o.kind === 'chain' ? t.chains : t.sets).get(o.name)

/** The elements of a set or map, with the text that identifies each and the key it is deleted by. */
function elementsOf(o: NftSet | NftMap): {
  readonly items: readonly NftElement[]
  readonly id: (e: NftElement) => string
  readonly key: (e: NftElement) => string
} {
  if (o.kind === 'set') return { items: o.elements, id: (e) => e as string, key: (e) => e as string }
  return {
    items: o.elements,
    id: (e) => printMapElement(e as NftMapElement),
    key: (e) => (e as NftMapElement).key,
  }
}

/** Returns the value stored under `key`, creating it when missing. */
function bucket<V>(m: Map<string, V>, key: string, make: () => V): V {
  let v = m.get(key)
  if (v === undefined) {
    v = make()
    m.set(key, v)
  }
  return v
}

/** Element changes of the kept sets and maps: name -> keys to delete / elements to add (by their text). */
interface ElementChanges {
  readonly del: Map<string, Set<string>>
  readonly add: Map<string, Map<string, NftElement>>
  added: number
  deleted: number
}

/**
 * Records the element changes from `p` to `n` (same set or map). Most changes are a few elements of a
 * long list: only what lies between the common head and tail is compared (rendered lists are sorted, so
 * one pod is one short window).
 */
function diffElements(acc: ElementChanges, name: string, p: NftSet | NftMap, n: NftSet | NftMap): void {
  const { items: pi, id, key } = elementsOf(p)
  const ni = elementsOf(n).items
  let lo = 0
  const max = Math.min(pi.length, ni.length)
  while (lo < max && id(pi[lo] as NftElement) === id(ni[lo] as NftElement)) lo++
  let hp = pi.length
  let hn = ni.length
  while (hp > lo && hn > lo && id(pi[hp - 1] as NftElement) === id(ni[hn - 1] as NftElement)) {
    hp--
    hn--
  }
  const pm = pi.slice(lo, hp)
  const nm = ni.slice(lo, hn)
  const was = new Set(pm.map(id))
  const will = new Set(nm.map(id))
  let all: Set<string> | undefined // every element of n, built only when something is deleted
  for (const e of pm) {
    const t = id(e)
    if (will.has(t)) continue
    all ??= new Set(ni.map(id))
    // Also listed outside the window (a duplicate): still wanted.
    if (all.has(t)) continue
    bucket(acc.del, name, () => new Set<string>()).add(key(e))
    acc.deleted++
  }
  for (const e of nm) {
    if (was.has(id(e))) continue
    bucket(acc.add, name, () => new Map<string, NftElement>()).set(id(e), e)
    acc.added++
  }
}

/**
 * Whatever refers to a re-created object must let go of it first and take the new one after: chains
 * whose rules name it are flushed and refilled, verdict-map elements jumping to it deleted and added again.
 */
function letGoOf(
  recreate: readonly NftObject[],
  prev: NftTable,
  after: TableIndex,
  out: { readonly flush: Set<string>; readonly refill: Set<string>; readonly els: ElementChanges },
): void {
  const names = new Set(recreate.map((o) => o.name))
  const recreated = new Set(recreate.map(nftObjectKey))
  const jumpsToRecreated = (e: NftMapElement) => 'chain' in e.verdict && names.has(e.verdict.chain)
  for (const p of prev.objects) {
    const n = lookup(after, p)
    if (n === undefined || recreated.has(nftObjectKey(p))) continue
    if (p.kind === 'chain') {
      if (out.refill.has(p.name)) continue
      if (p.refs.some((r) => names.has(r))) {
        out.flush.add(p.name)
        out.refill.add(p.name)
      }
    } else if (p.kind === 'map' && n.kind === 'map') {
      const stale = p.elements.filter(jumpsToRecreated)
      const fresh = n.elements.filter(jumpsToRecreated)
      if (stale.length === 0 && fresh.length === 0) continue
      const d = bucket(out.els.del, p.name, () => new Set<string>())
      for (const e of stale) d.add(e.key)
      const a = bucket(out.els.add, p.name, () => new Map<string, NftElement>())
      for (const e of fresh) a.set(printMapElement(e), e)
    }
  }
}

/**
 * Returns how the kernel gets from `prev` to `next`: nothing, one delta, or only a full reload (the
 * table or a base chain changed). The kernel state the delta produces is the state a full load of `next`
 * produces (test/backends/nftables/delta.test.ts checks this on a real kernel).
 */
export function diffNftTables(prev: NftTable, next: NftTable): Change<NftDelta> {
  return tableChanged(prev, next) ?? diffAligned(prev, next) ?? diffObjects(prev, next)
}

const TABLE_CHANGED = { kind: 'full', reason: 'table or base chain changed' } as const

/** A full reload when the table itself (family, name, comment, limits) changed; else undefined. */
function tableChanged(prev: NftTable, next: NftTable): typeof TABLE_CHANGED | undefined {
  if (prev.family !== next.family || prev.name !== next.name || prev.comment !== next.comment)
    return TABLE_CHANGED
  if (JSON.stringify(prev.limits ?? []) !== JSON.stringify(next.limits ?? [])) return TABLE_CHANGED
  return undefined
}

/** The element lists of a delta: the sets and maps with keys to delete, and those with elements to add. */
function elementLists(els: ElementChanges): Pick<NftDelta, 'deleteElements' | 'addElements'> {
  return {
    // A key deleted and added again in the same batch (a map value changed) must still be deleted first.
    deleteElements: [...els.del]
      .filter(([, keys]) => keys.size > 0)
      .map(([name, keys]) => ({ name, keys: [...keys] })),
    addElements: [...els.add]
      .filter(([, e]) => e.size > 0)
      .map(([name, e]) => ({ name, elements: [...e.values()] })),
  }
}

/**
 * The common case without indexing either table (docs/dataplane.md#agent-incremental-compile): both
 * tables list the same objects in the same order (no object came, went or was re-created), so object i
 * of one is object i of the other, and an object the incremental renderer handed back is the very same
 * object (one pointer comparison). Only the objects that differ are compared, in `next`'s order: the
 * same delta diffIndexed returns (test/backends/nftables/delta.test.ts checks both agree). Undefined
 * when the tables do not line up that way, or a changed object needs more than a refill or element
 * changes (the indexed diff decides then).
 */
function diffAligned(prev: NftTable, next: NftTable): Change<NftDelta> | undefined {
  const po = prev.objects
  const no = next.objects
  if (po.length !== no.length) return undefined
  // prev's identities are distinct (indexed once when not known yet); next's are prev's, position by position.
  if (!distinct.has(prev)) {
    if (indexOf(prev) === undefined) return undefined
    distinct.add(prev)
  }
  const flush: string[] = []
  const addRules: { chain: string; rules: readonly string[] }[] = []
  const els: ElementChanges = { del: new Map(), add: new Map(), added: 0, deleted: 0 }
  let counted = 0
  for (let i = 0; i < no.length; i++) {
    const p = po[i] as NftObject
    const n = no[i] as NftObject
    if (p === n) continue
    if (p.kind !== n.kind || p.name !== n.name) return undefined
    if (sameObject(p, n)) continue
    if (isBase(p) || isBase(n) || !sameDeclaration(p, n)) return undefined
    if (n.kind === 'chain') {
      flush.push(n.name)
      addRules.push({ chain: n.name, rules: n.rules })
      if (hasCounter(p)) counted++
    } else diffElements(els, n.name, p as NftSet | NftMap, n)
  }
  distinct.add(next)
  const { deleteElements, addElements } = elementLists(els)
  if (flush.length === 0 && deleteElements.length === 0 && addElements.length === 0) return { kind: 'none' }
  const touchedSets = new Set([...els.del.keys(), ...els.add.keys()])
  return {
    kind: 'delta',
    delta: {
      table: `${next.family} ${next.name}`,
      flush,
      deleteElements,
      deleteObjects: [],
      create: [],
      addRules,
      addElements,
    },
    stats: {
      added: els.added,
      deleted: els.deleted,
      chains: flush.length,
      flushed: flush.length,
      counted,
      sets: touchedSets.size,
    },
  }
}

/** The diff of any two tables, by identity (both indexed). */
export function diffIndexed(prev: NftTable, next: NftTable): Change<NftDelta> {
  return tableChanged(prev, next) ?? diffObjects(prev, next)
}

/** diffIndexed of two tables whose table itself is unchanged. */
function diffObjects(prev: NftTable, next: NftTable): Change<NftDelta> {
  const before = indexOf(prev)
  const after = indexOf(next)
  if (!before || !after) return { kind: 'full', reason: 'an object is declared twice' }
  const flush = new Set<string>() // chains flushed (then refilled, deleted or re-created)
  const refill = new Set<string>() // chains kept whose rules are added again
  const remove: NftObject[] = []
  const recreate: NftObject[] = []
  const create: NftObject[] = []
  const els: ElementChanges = { del: new Map(), add: new Map(), added: 0, deleted: 0 }
  const { del: delKeys, add: addEls } = els

  for (const n of next.objects) {
    const p = lookup(before, n)
    if (p === n || (p !== undefined && sameObject(p, n))) continue
    if (p === undefined) {
      if (isBase(n)) return TABLE_CHANGED
      create.push(n)
      continue
    }
    // Hooked chains are never re-created (traffic would skip them); same declaration = refill.
    if ((isBase(p) || isBase(n)) && !sameDeclaration(p, n)) return TABLE_CHANGED
    if (!sameDeclaration(p, n)) {
      recreate.push(n)
      continue
    }
    if (n.kind === 'chain') {
      flush.add(n.name)
      refill.add(n.name)
    } else diffElements(els, n.name, p as NftSet | NftMap, n)
  }
  for (const p of prev.objects) {
    if (lookup(after, p) !== undefined) continue
    if (isBase(p)) return TABLE_CHANGED
    remove.push(p)
  }

  if (recreate.length > 0) letGoOf(recreate, prev, after, { flush, refill, els })
  for (const o of [...remove, ...recreate]) if (o.kind === 'chain') flush.add(o.name)

  const prevKind = (o: NftObject) => (lookup(before, o) as NftObject).kind
  const fresh = [...create, ...recreate]
  // Sets before chains: nft declares every chain before any rule, and sets before rules, anyway.
  fresh.sort((a, b) => (a.kind === 'chain' ? 1 : 0) - (b.kind === 'chain' ? 1 : 0))
  const { deleteElements, addElements } = elementLists(els)
  const delta: NftDelta = {
    table: `${next.family} ${next.name}`,
    flush: [...flush],
    deleteElements,
    deleteObjects: [
      ...remove.filter((o) => o.kind !== 'chain').map((o) => ({ kind: o.kind, name: o.name })),
      ...recreate.filter((o) => prevKind(o) !== 'chain').map((o) => ({ kind: prevKind(o), name: o.name })),
      // Chains last: verdict-map elements (deleted above, with their maps) hold references to them.
      ...remove.filter((o) => o.kind === 'chain').map((o) => ({ kind: o.kind, name: o.name })),
      ...recreate.filter((o) => prevKind(o) === 'chain').map((o) => ({ kind: prevKind(o), name: o.name })),
    ],
    create: fresh,
    addRules: [...refill].map((chain) => ({ chain, rules: (after.chains.get(chain) as NftChain).rules })),
    addElements,
  }
  if (
    delta.flush.length === 0 &&
    delta.deleteElements.length === 0 &&
    delta.deleteObjects.length === 0 &&
    delta.create.length === 0 &&
    delta.addRules.length === 0 &&
    delta.addElements.length === 0
  )
    return { kind: 'none' }
  const touchedSets = new Set([...delKeys.keys(), ...addEls.keys()])
  for (const o of [...remove, ...fresh]) if (o.kind !== 'chain') touchedSets.add(o.name)
  return {
    kind: 'delta',
    delta,
    stats: {
      added: els.added,
      deleted: els.deleted,
      chains: flush.size + create.filter((o) => o.kind === 'chain').length,
      flushed: flush.size,
      counted: [...flush].filter((c) => hasCounter(before.chains.get(c))).length,
      sets: touchedSets.size,
    },
  }
}

/** True when a chain has a rule with a counter (flushing it restarts that count). */
const hasCounter = (c: NftObject | undefined): boolean =>
  c?.kind === 'chain' && c.rules.some((r) => /(^| )counter( |$)/.test(r))

/** Prints a delta as one `nft -f` script. */
export function printNftDelta(d: NftDelta): string {
  const out = deltaCommands(d, false)
  return out.length === 0 ? '' : `${out.join('\n')}\n`
}

/**
 * Prints a delta as ONE line (commands separated by `;`, no newline): the same transaction as
 * printNftDelta's script, in the form a long-lived `nft -i` takes as one batch
 * (docs/dataplane.md#nft-session). '' when there is nothing to do.
 */
export function printNftDeltaLine(d: NftDelta): string {
  return deltaCommands(d, true).join('; ')
}

/** The delta's commands, in transaction order; created objects as blocks, or as one-line blocks. */
function deltaCommands(d: NftDelta, oneLine: boolean): string[] {
  const out: string[] = []
  const t = d.table
  for (const c of d.flush) out.push(`flush chain ${t} ${c}`)
  for (const { name, keys } of d.deleteElements)
    out.push(`delete element ${t} ${name} { ${keys.join(', ')} }`)
  for (const { kind, name } of d.deleteObjects) out.push(`delete ${kind} ${t} ${name}`)
  if (d.create.length > 0) {
    if (oneLine) out.push(`table ${t} { ${d.create.map((o) => `${printNftObjectLine(o)}; `).join('')}}`)
    else out.push(`table ${t} {`, ...d.create.map(printNftObject), '}')
  }
  for (const { chain, rules } of d.addRules) for (const r of rules) out.push(`add rule ${t} ${chain} ${r}`)
  for (const { name, elements } of d.addElements)
    out.push(
      `add element ${t} ${name} { ${elements.map((e) => (typeof e === 'string' ? e : printMapElement(e))).join(', ')} }`,
    )
  return out
}
