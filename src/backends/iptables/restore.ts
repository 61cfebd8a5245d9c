/**
 * The inputs the iptables dataplane gives `ipset restore` and `iptables-restore --noflush`, built from
 * the structure and what the kernel holds (pure).
 */

import { type FilterTableView, isOurJump, jumpInPlace, type LiveSet } from './kernel-view.js'
import { IPSET_PREFIX } from './names.js'
import { filterLines, ipsetOptions } from './print.js'
import { IPTABLES_ENTRY_CHAIN } from './render.js'
import { type Ipset, type IptablesFilter, inetFamily } from './structure.js'

/** Temporary sets are named `pal-TMP-<n>` and recorded before they are made, so cleanup removes leftovers of a crashed apply. */
const TMP_SET_PREFIX = `${IPSET_PREFIX}TMP-`

/**
 * Builds the one restore input of a family: our chains and rules, plus flush-and-delete of our recorded
 * chains no longer wanted, plus the FORWARD jump fix-up, all in one COMMIT so that they land in one
 * transaction. `owned` are the chains the ownership record lists; no other chain is touched.
 */
export function buildCommit(
  filter: IptablesFilter,
  live: FilterTableView,
  owned: ReadonlySet<string>,
): string {
  const wanted = new Set(filter.chains)
  const ours = new Set([...owned, ...wanted])
  const stale = live.prefixed.filter((c) => owned.has(c) && !wanted.has(c)).sort()
  const extra: string[] = []
  if (!jumpInPlace(live, ours)) {
    for (const rule of live.forward.filter((r) => isOurJump(r, ours))) extra.push(`-D${rule.slice(2)}`)
    extra.push(`-I FORWARD 1 -j ${IPTABLES_ENTRY_CHAIN}`)
  }
  for (const c of stale) extra.push(`-X ${c}`)
  return `${filterLines(filter, { chainsFirst: stale, rulesLast: extra }).join('\n')}\n`
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

/** Returns n temporary set names: `pal-TMP-<k>`, skipping names a set we did not record already holds. */
export function tmpSetNames(n: number, live: readonly LiveSet[], owned: ReadonlySet<string>): string[] {
  const taken = new Set(live.map((s) => s.name).filter((name) => !owned.has(name)))
  const out: string[] = []
  for (let k = 0; out.length < n; k++)
    if (!taken.has(`${TMP_SET_PREFIX}${k}`)) out.push(`${TMP_SET_PREFIX}${k}`)
  return out
}

const defaultTmp = (sets: readonly Ipset[]) => sets.map((_, i) => `${TMP_SET_PREFIX}${i}`)

/**
 * Builds the first ipset input: destroy leftover temporaries (names that are ours, see tmpSetNames), then
 * create and fill one temporary per set.
 */
export function buildIpsetFill(sets: readonly Ipset[], tmp = defaultTmp(sets)): string {
  const out: string[] = []
  sets.forEach((s, i) => {
    const t = tmp[i] as string
    out.push(`destroy ${t}`, `create ${t} ${s.type} ${ipsetOptions(s)}`)
    for (const e of s.elements) out.push(`add ${t} ${e}`)
  })
  return out.length ? `${out.join('\n')}\n` : ''
}

/** Builds the second ipset input: swap each temporary into its live set, or rename it when the set is new. */
export function buildIpsetSwap(
  sets: readonly Ipset[],
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
    const family = inetFamily(s.family)
    if (cur.type !== s.type || cur.family !== family) {
      throw new Error(
        `ipset ${s.name} exists as ${cur.type} family ${cur.family}, wanted ${s.type} family ${family}`,
      )
    }
    out.push(`swap ${tmp} ${s.name}`, `destroy ${tmp}`)
  })
  return out.length ? `${out.join('\n')}\n` : ''
}
