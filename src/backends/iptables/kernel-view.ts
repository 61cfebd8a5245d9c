/**
 * What the kernel's own tools report, read for the iptables dataplane (pure): `iptables-save -t filter`
 * (our chains and the FORWARD rules) and `ipset list -t` (names, types, families). This is the
 * tools' output, never a file we printed.
 */
import { IPTABLES_CHAIN_PREFIX } from './names.js'
import { IPTABLES_ENTRY_CHAIN } from './render.js'

/** A set as `ipset list -t` reports it. */
export interface LiveSet {
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
export function isOurJump(rule: string, ours: ReadonlySet<string>): boolean {
  const target = jumpTarget(rule)
  return target !== undefined && ours.has(target)
}

/** Returns true when FORWARD starts with our jump and holds no other jump of ours. */
export function jumpInPlace(view: FilterTableView, ours: ReadonlySet<string>): boolean {
  return view.forward[0] === JUMP && view.forward.filter((r) => isOurJump(r, ours)).length === 1
}
