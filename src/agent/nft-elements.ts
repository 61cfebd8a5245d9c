/**
 * Incremental nftables updates from rendered rulesets (pure).
 *
 * A ruleset text is split into its *structure* (tables, chains, rules, set declarations) and the
 * *elements* of each named set and map. When two rulesets have the same structure, the second one
 * is reached from the first by `delete element` / `add element` commands only, sent as ONE
 * `nft -f` batch (one netlink transaction: all or nothing). This is what pod churn produces (a pod
 * gets an IP, dies, moves between peer sets) and is much cheaper than reloading the table.
 * Working on the rendered text rather than on the IR keeps the diff exact for whatever the
 * renderer emits (peer sets, named-port sets, the pod dispatch verdict maps).
 */

export interface NftSetElements {
  /** True for `map` blocks: elements are `key : value` and are deleted by key. */
  readonly isMap: boolean
  readonly elements: readonly string[]
}

export interface ParsedNftRuleset {
  /** `inet palisade` etc.; undefined when the text declares no table block. */
  readonly table?: { readonly family: string; readonly name: string }
  /** The text with every element list removed: equal structures = only elements differ. */
  readonly structure: string
  /** Named sets and maps, by name. */
  readonly sets: ReadonlyMap<string, NftSetElements>
}

const HEADER = /\b(set|map)\s+([A-Za-z0-9_.-]+)\s*\{/g
const TABLE = /\btable\s+(ip|ip6|inet|arp|bridge|netdev)\s+([A-Za-z0-9_.-]+)\s*\{/
const ADD_ELEMENT =
  /\badd\s+element\s+(?:(?:ip|ip6|inet|arp|bridge|netdev)\s+)?[A-Za-z0-9_.-]+\s+([A-Za-z0-9_.-]+)\s*\{/y

/** Returns the index of the `}` closing the `{` at `open`, skipping quoted strings; -1 when unbalanced. */
export function matchBrace(text: string, open: number): number {
  let depth = 0
  for (let i = open; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      const end = text.indexOf('"', i + 1)
      if (end < 0) return -1
      i = end
    } else if (c === '{') depth++
    else if (c === '}') {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}

/** Splits an element list on top-level commas (commas inside quotes or braces do not split). */
export function splitElements(body: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (c === '"') {
      const end = body.indexOf('"', i + 1)
      i = end < 0 ? body.length : end
    } else if (c === '{') depth++
    else if (c === '}') depth--
    else if (c === ',' && depth === 0) {
      out.push(body.slice(start, i))
      start = i + 1
    }
  }
  out.push(body.slice(start))
  return out.map((e) => e.replace(/\s+/g, ' ').trim()).filter((e) => e !== '')
}

/** Splits a rendered ruleset into structure and set/map elements. */
export function parseNftRuleset(text: string): ParsedNftRuleset {
  const t = TABLE.exec(text)
  const headers: { pos: number; name: string; isMap: boolean }[] = []
  for (const m of text.matchAll(HEADER))
    headers.push({ pos: m.index ?? 0, name: m[2] as string, isMap: m[1] === 'map' })
  const sets = new Map<string, { isMap: boolean; elements: string[] }>()
  for (const h of headers) if (!sets.has(h.name)) sets.set(h.name, { isMap: h.isMap, elements: [] })
  const pieces: string[] = []
  let cursor = 0
  const elementsRe = /elements\s*=\s*\{/g
  let m: RegExpExecArray | null = elementsRe.exec(text)
  while (m !== null) {
    const open = m.index + m[0].length - 1
    const close = matchBrace(text, open)
    if (close < 0) break
    let owner: { name: string; isMap: boolean } | undefined
    for (const h of headers) if (h.pos < m.index) owner = h
    if (owner) sets.get(owner.name)?.elements.push(...splitElements(text.slice(open + 1, close)))
    pieces.push(text.slice(cursor, m.index))
    cursor = close + 1
    elementsRe.lastIndex = close + 1
    m = elementsRe.exec(text)
  }
  pieces.push(text.slice(cursor))
  // Standalone `add element T NAME { ... }` statements are elements too.
  const lines: string[] = []
  for (const line of pieces.join('').split('\n')) {
    ADD_ELEMENT.lastIndex = 0
    const trimmed = line.trim()
    const a = ADD_ELEMENT.exec(trimmed)
    if (a) {
      const open = a[0].length - 1
      const close = matchBrace(trimmed, open)
      const entry = sets.get(a[1] as string)
      if (close > 0 && entry) {
        entry.elements.push(...splitElements(trimmed.slice(open + 1, close)))
        continue
      }
    }
    // Normalise blank lines and trailing `;` left where an element list was.
    const norm = line.replace(/[\s;]+$/, '')
    if (norm.trim() !== '') lines.push(norm)
  }
  for (const s of sets.values()) s.elements.sort()
  return {
    ...(t ? { table: { family: t[1] as string, name: t[2] as string } } : {}),
    structure: lines.join('\n'),
    sets,
  }
}

/** Key of an element: the part before ` : ` in a map, the whole element in a set. */
export function elementKey(element: string, isMap: boolean): string {
  if (!isMap) return element
  const i = element.indexOf(' : ')
  return i < 0 ? element : element.slice(0, i)
}

/**
 * Summarises a ruleset for drift checks: `chain:rules` for every chain and the element count of
 * every set. Works on our rendered text and on `nft list table` output alike (comments, hook
 * declarations and counters are not counted as rules).
 */
export function describeShape(text: string): {
  readonly chains: readonly string[]
  readonly counts: Readonly<Record<string, number>>
} {
  const parsed = parseNftRuleset(text)
  const chains: string[] = []
  for (const m of text.matchAll(/\bchain\s+([A-Za-z0-9_.-]+)\s*\{/g)) {
    const open = (m.index ?? 0) + m[0].length - 1
    const close = matchBrace(text, open)
    const body = close < 0 ? '' : text.slice(open + 1, close)
    const rules = body
      .split('\n')
      .map((l) => l.trim())
      .filter(
        (l) => l !== '' && !l.startsWith('#') && !/^comment\s+"/.test(l) && !/^type\s+\w+\s+hook\b/.test(l),
      )
    chains.push(`${m[1]}:${rules.length}`)
  }
  chains.sort()
  const counts: Record<string, number> = {}
  for (const [name, s] of [...parsed.sets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    counts[name] = s.elements.length
  return { chains, counts }
}
