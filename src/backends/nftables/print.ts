/**
 * Prints the nftables structure: the whole table as one `nft -f` file (the file `palisade compile`
 * writes and a full apply loads), or one object as the block a table statement holds (what an
 * incremental update creates). Pure; the only place that decides how our nftables text looks.
 */
import { commentLine, commentText } from '../../compile/index.js'
import type { RulesetStats } from '../backend.js'
import type { NftChain, NftMap, NftMapElement, NftObject, NftSet, NftTable, NftVerdict } from './structure.js'

/** The file a full nftables ruleset is printed as. */
export const NFT_FILE = 'palisade.nft'

/** Returns a quoted nft comment: one line of printable ASCII, no quotes inside, bounded length. */
export function nftComment(text: string): string {
  return `"${commentText(text)}"`
}

/** Returns a verdict as nft writes it. */
function printVerdict(v: NftVerdict): string {
  return v.kind === 'jump' || v.kind === 'goto' ? `${v.kind} ${v.chain}` : v.kind
}

/** Returns a map element as nft writes it (`key : verdict`). */
export function printMapElement(e: NftMapElement): string {
  return `${e.key} : ${printVerdict(e.verdict)}`
}

/** Characters of set elements on one line of a long element list (after the indent). */
export const ELEMENTS_LINE_WIDTH = 100

/**
 * Returns an element list as one block of lines (no trailing newline), or undefined when empty. Map
 * elements (verdicts) are one per line; set elements are packed up to ELEMENTS_LINE_WIDTH characters
 * a line: a large peer set is a few thousand lines instead of tens of thousands
 * (docs/dataplane.md#peer-sets-at-scale).
 */
function elementsBlock(indent: string, items: readonly string[], pack: boolean): string | undefined {
  if (items.length === 0) return undefined
  if (items.length <= 4) return `${indent}elements = { ${items.join(', ')} }`
  if (!pack) return `${indent}elements = {\n${indent}\t${items.join(`,\n${indent}\t`)}\n${indent}}`
  const lines: string[] = []
  let line = ''
  for (const item of items) {
    if (line !== '' && line.length + 2 + item.length > ELEMENTS_LINE_WIDTH) {
      lines.push(line)
      line = item
    } else line = line === '' ? item : `${line}, ${item}`
  }
  lines.push(line)
  return `${indent}elements = {\n${indent}\t${lines.join(`,\n${indent}\t`)}\n${indent}}`
}

function printSetOrMap(o: NftSet | NftMap): string {
  const out = [`\t${o.kind} ${o.name} {`, `\t\ttype ${o.type}`]
  if (o.flags !== undefined) out.push(`\t\tflags ${o.flags}`)
  out.push(`\t\tcomment ${nftComment(o.comment)}`)
  const items = o.kind === 'map' ? o.elements.map(printMapElement) : o.elements
  const block = elementsBlock('\t\t', items, o.kind === 'set')
  if (block !== undefined) out.push(block)
  out.push('\t}')
  return out.join('\n')
}

function printChain(c: NftChain): string {
  const out = [`\tchain ${c.name} {`]
  if (c.hook)
    out.push(
      `\t\ttype ${c.hook.type} hook ${c.hook.hook} priority ${c.hook.priority}; policy ${c.hook.policy};`,
    )
  out.push(`\t\tcomment ${nftComment(c.comment)}`)
  for (const r of c.rules) out.push(`\t\t${r}`)
  out.push('\t}')
  return out.join('\n')
}

/** Prints one object as the block (`\tchain NAME {` ... `\t}`) a `table F N { }` statement holds. */
export function printNftObject(o: NftObject): string {
  return o.kind === 'chain' ? printChain(o) : printSetOrMap(o)
}

/**
 * Prints one object as the same block on ONE line (`chain NAME { comment "..."; RULE; RULE; }`): `;`
 * ends each statement where the block form ends a line, elements are listed inline. What a batch sent to
 * a long-lived `nft -i` holds (one line is one transaction there: docs/dataplane.md#nft-session).
 */
export function printNftObjectLine(o: NftObject): string {
  const out: string[] = []
  if (o.kind === 'chain') {
    if (o.hook)
      out.push(`type ${o.hook.type} hook ${o.hook.hook} priority ${o.hook.priority}; policy ${o.hook.policy}`)
    out.push(`comment ${nftComment(o.comment)}`, ...o.rules)
  } else {
    out.push(`type ${o.type}`)
    if (o.flags !== undefined) out.push(`flags ${o.flags}`)
    out.push(`comment ${nftComment(o.comment)}`)
    const items = o.kind === 'map' ? o.elements.map(printMapElement) : o.elements
    if (items.length > 0) out.push(`elements = { ${items.join(', ')} }`)
  }
  return `${o.kind} ${o.name} { ${out.join('; ')}; }`
}

/**
 * Prints the table as one atomic `nft -f` file: `table` (create if missing), `delete table`, then the
 * whole table, which the kernel commits as ONE transaction.
 */
export function printNftables(t: NftTable): string {
  const out: string[] = t.notes.map((n) => `# ${commentLine(n)}`)
  const table = `${t.family} ${t.name}`
  out.push(
    `table ${table}`,
    `delete table ${table}`,
    `table ${table} {`,
    `\tcomment ${nftComment(t.comment)}`,
  )
  for (const l of t.limits ?? [])
    out.push(`\tlimit ${l.name} {`, `\t\trate ${l.rate}/second burst ${l.burst} packets`, '\t}')
  // One push per object: spreading thousands of blocks into push() can overflow the call stack.
  for (const o of t.objects) out.push(printNftObject(o))
  out.push('}', '')
  return out.join('\n')
}

/** Counts rules, chains, sets and maps, and elements of a table. */
export function nftStats(t: NftTable): RulesetStats {
  let rules = 0
  let chains = 0
  let sets = 0
  let elements = 0
  for (const o of t.objects) {
    if (o.kind === 'chain') {
      chains++
      rules += o.rules.length
    } else {
      sets++
      elements += o.elements.length
    }
  }
  return { rules, chains, sets, elements }
}
