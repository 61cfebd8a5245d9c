/**
 * Prints the iptables + ipset structure as the three restore files (pure): `ipset.restore`,
 * `iptables.rules` and `ip6tables.rules`. The only place that decides how those files look.
 */
import { commentLine } from '../../compile/index.js'
import type { Family } from '../../model/index.js'
import type { RulesetStats } from '../backend.js'
import { IPTABLES_ENTRY_CHAIN } from './render.js'
import { type Ipset, type IptablesFilter, type IptablesRuleset, inetFamily } from './structure.js'

export const IPTABLES_FILES = ['ipset.restore', 'iptables.rules', 'ip6tables.rules'] as const

/** Returns the `create` options of a set after its name and type (`family inet maxelem 65536`). */
export function ipsetOptions(s: Ipset): string {
  return `family ${inetFamily(s.family)} maxelem ${s.maxelem}`
}

/** Prints the ipset restore input: every set with its `create` line and one `add` line per element. */
function printIpsets(rs: IptablesRuleset): string {
  const lines = [
    `# Palisade ipsets for node ${commentLine(rs.node)}; palisade apply loads each through a temporary set + swap.`,
  ]
  // One push per line: spreading a set of 120k+ elements into push() overflows the call stack.
  for (const s of rs.sets) {
    lines.push(`# ${commentLine(s.comment)}`, `create ${s.name} ${s.type} ${ipsetOptions(s)}`)
    for (const e of s.elements) lines.push(`add ${s.name} ${e}`)
  }
  return `${lines.join('\n')}\n`
}

/** Returns the lines of a filter table part from `*filter` to `COMMIT`, with `extra` chains and rules in it. */
export function filterLines(
  f: IptablesFilter,
  extra: { readonly chainsFirst?: readonly string[]; readonly rulesLast?: readonly string[] } = {},
): string[] {
  const out = ['*filter']
  for (const c of extra.chainsFirst ?? []) out.push(`:${c} - [0:0]`)
  for (const c of f.chains) out.push(`:${c} - [0:0]`)
  for (const r of f.rules) out.push(`-A ${r.chain} ${r.spec}`)
  for (const r of extra.rulesLast ?? []) out.push(r)
  out.push('COMMIT')
  return out
}

/** Prints one family's `iptables-restore --noflush` input. */
function printFilter(rs: IptablesRuleset, family: Family): string {
  const tool = family === 4 ? 'iptables' : 'ip6tables'
  return [
    `# Palisade ${tool} rules for node ${commentLine(rs.node)} (${tool}-restore --noflush: declared chains are flushed,`,
    `# other chains untouched). The one jump FORWARD -> ${IPTABLES_ENTRY_CHAIN} is installed by palisade apply.`,
    ...(rs.antiSpoofing
      ? []
      : [
          '# Anti-spoofing: pod interfaces unknown, source addresses are not checked here; rely on strict rp_filter.',
        ]),
    ...(rs.notes ?? []).map((n) => `# ${commentLine(n)}`),
    ...filterLines(family === 4 ? rs.filter4 : rs.filter6),
    '',
  ].join('\n')
}

/** Prints the three files. */
export function printIptables(rs: IptablesRuleset): Record<(typeof IPTABLES_FILES)[number], string> {
  return {
    'ipset.restore': printIpsets(rs),
    'iptables.rules': printFilter(rs, 4),
    'ip6tables.rules': printFilter(rs, 6),
  }
}

/** Counts rules, chains, sets and elements (both families). */
export function iptablesStats(rs: IptablesRuleset): RulesetStats {
  return {
    rules: rs.filter4.rules.length + rs.filter6.rules.length,
    chains: rs.filter4.chains.length + rs.filter6.chains.length,
    sets: rs.sets.length,
    elements: rs.sets.reduce((n, s) => n + s.elements.length, 0),
  }
}
