/**
 * Port dispatch of an ORDERED list of chains (docs/dataplane.md#port-dispatch): which chains a new
 * connection must be sent through, by its protocol and destination port, so that a chain with no rule
 * for that port is skipped. Pure; both backends render the result (nftables: an interval verdict map on
 * `meta l4proto . th dport`; iptables: a binary tree of `--dport` ranges).
 *
 * Skipping a chain is only sound for a chain none of whose rules can match the packet: every match of
 * such a chain ("port-only") names a protocol and port ranges. Every other chain ("always": a rule for
 * every port, a whole protocol, a named port, which resolves per destination pod) is kept for every
 * packet. The order of the list is kept in every slice (ClusterNetworkPolicy tiers: first match wins),
 * so a slice's chains are exactly the list minus chains that cannot match any port of the slice.
 */
import type { Protocol } from '../model/index.js'
import type { IRChain, IRClusterChain, IRPortRange } from './ir.js'

/** One chain of the list: its port ranges per protocol, or undefined when it must see every packet. */
export interface DispatchItem {
  readonly id: string
  /** undefined = always; [] = matches nothing (never visited). */
  readonly ports?: readonly { readonly protocol: Protocol; readonly range: IRPortRange }[]
}

/** A port interval of one protocol and the chains a packet in it must go through, in list order. */
export interface DispatchSlice {
  readonly protocol: Protocol
  readonly from: number
  readonly to: number
  readonly ids: readonly string[]
}

export interface PortDispatch {
  /** Chains every packet goes through (in list order): all a packet in no slice must see. */
  readonly always: readonly string[]
  /** Disjoint slices, by protocol (TCP, UDP, SCTP) then port; adjacent slices with equal ids merged. */
  readonly slices: readonly DispatchSlice[]
  /** How many chains are port-only (skipped by the dispatch outside their ports). */
  readonly portOnly: number
}

export const DISPATCH_PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP']

/** The item of a NetworkPolicy chain: port-only when every rule names a protocol and port ranges. */
export function policyDispatchItem(c: IRChain): DispatchItem {
  if (c.rules.length === 0 || !c.rules.every((r) => r.port?.kind === 'ports' && r.port.ranges.length > 0))
    return { id: c.id }
  return {
    id: c.id,
    ports: c.rules.flatMap((r) =>
      r.port?.kind === 'ports'
        ? r.port.ranges.map((range) => ({ protocol: r.port?.protocol as Protocol, range }))
        : [],
    ),
  }
}

/**
 * The item of a ClusterNetworkPolicy chain: port-only when every match of every rule names a protocol
 * and port ranges (a rule with no match never decides; a chain with no match at all is never visited).
 */
export function clusterDispatchItem(c: IRClusterChain): DispatchItem {
  const matches = c.rules.flatMap((r) => r.matches)
  if (!matches.every((m) => m.port?.kind === 'ports' && m.port.ranges.length > 0)) return { id: c.id }
  return {
    id: c.id,
    ports: matches.flatMap((m) =>
      m.port?.kind === 'ports'
        ? m.port.ranges.map((range) => ({ protocol: m.port?.protocol as Protocol, range }))
        : [],
    ),
  }
}

/** Splits the ports of the list's port-only chains into disjoint slices, each with its chains in list order. */
export function portDispatch(items: readonly DispatchItem[]): PortDispatch {
  const always = items.filter((it) => it.ports === undefined).map((it) => it.id)
  const slices: DispatchSlice[] = []
  for (const protocol of DISPATCH_PROTOCOLS) {
    // boundary -> items whose range starts there / ends just before it, once per range (ranges of one
    // item may overlap: an item is counted, not just marked)
    const starts = new Map<number, number[]>()
    const ends = new Map<number, number[]>()
    const add = (m: Map<number, number[]>, at: number, i: number) => {
      const x = m.get(at)
      if (x) x.push(i)
      else m.set(at, [i])
    }
    items.forEach((it, i) => {
      for (const p of it.ports ?? []) {
        if (p.protocol !== protocol) continue
        add(starts, p.range.from, i)
        add(ends, p.range.to + 1, i)
      }
    })
    if (starts.size === 0) continue
    const bounds = [...new Set([...starts.keys(), ...ends.keys()])].sort((a, b) => a - b)
    const open = new Map<number, number>()
    for (let k = 0; k < bounds.length - 1; k++) {
      const at = bounds[k] as number
      for (const i of ends.get(at) ?? []) {
        const n = (open.get(i) ?? 0) - 1
        if (n <= 0) open.delete(i)
        else open.set(i, n)
      }
      for (const i of starts.get(at) ?? []) open.set(i, (open.get(i) ?? 0) + 1)
      if (open.size === 0) continue
      const ids = items.filter((it, i) => it.ports === undefined || open.has(i)).map((it) => it.id)
      const to = (bounds[k + 1] as number) - 1
      const last = slices[slices.length - 1]
      if (last?.protocol === protocol && last.to + 1 === at && last.ids.join(' ') === ids.join(' '))
        slices[slices.length - 1] = { ...last, to }
      else slices.push({ protocol, from: at, to, ids })
    }
  }
  return { always, slices, portOnly: items.filter((it) => it.ports !== undefined).length }
}

/** True when a dispatch pays: at least two chains can be skipped by port (one is one rule either way). */
export function dispatchPays(d: PortDispatch): boolean {
  return d.portOnly >= 2 && d.slices.length > 0
}
