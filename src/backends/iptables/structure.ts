/**
 * The iptables + ipset ruleset as data: the ipsets (name, type, family, elements) and, per address
 * family, the chains of the filter table Palisade declares and the rules appended to them. The renderer
 * builds it from the IR, the printer writes the restore files, and apply feeds the kernel from it
 * directly: nothing is parsed back from the files.
 */
import type { Family } from '../../model/index.js'

/** One ipset. */
export interface Ipset {
  readonly name: string
  /** e.g. `hash:ip`, `hash:net`, `hash:ip,port`, `hash:net,iface`. */
  readonly type: string
  readonly family: Family
  readonly maxelem: number
  /** Raw comment text (the printer makes it one line). */
  readonly comment: string
  /** Elements as ipset writes them (`10.0.0.1`, `10.0.0.0/8`, `10.0.0.1,tcp:80`, `0.0.0.0/1,veth0`). */
  readonly elements: readonly string[]
}

/** One rule: `-A chain spec`. */
export interface IptablesRule {
  readonly chain: string
  /** Matches and target, as iptables-restore reads them. */
  readonly spec: string
}

/** What Palisade puts in one family's filter table. */
export interface IptablesFilter {
  /** Chains declared (flushed by `iptables-restore --noflush`), in declaration order. */
  readonly chains: readonly string[]
  /** Rules in order. */
  readonly rules: readonly IptablesRule[]
}

/** A node's iptables + ipset ruleset. */
export interface IptablesRuleset {
  readonly node: string
  /** False: pod interfaces unknown, the printed files say the node relies on rp_filter. */
  readonly antiSpoofing: boolean
  /** Header lines of the rules files (unknown local pods); absent = none. */
  readonly notes?: readonly string[]
  readonly sets: readonly Ipset[]
  readonly filter4: IptablesFilter
  readonly filter6: IptablesFilter
}

/** Returns the ipset `family` option of an address family. */
export function inetFamily(f: Family): 'inet' | 'inet6' {
  return f === 4 ? 'inet' : 'inet6'
}
