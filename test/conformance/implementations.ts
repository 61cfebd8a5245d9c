/**
 * Every implementation of the NetworkPolicy semantics that can answer "may this pod open a connection
 * to that pod on this port?" without root: the engine, the compiler's node IR (src/compile/evaluate-ir.ts, the agent's own reading for --revoke-established), and
 * each backend's structured ruleset (naive interpreters of the nftables table and of the iptables
 * rules + ipsets). The conformance table and the property tests run against all of them; the lab runs
 * the same table in the kernel.
 */
import { getBackend } from '../../src/backends/index.js'
import type { IptablesRuleset } from '../../src/backends/iptables/structure.js'
import type { NftTable } from '../../src/backends/nftables/structure.js'
import { buildNodeIR, createIREvaluator, type IREvaluator, nodesOf } from '../../src/compile/index.js'
import { buildIndex, evaluate, type PortQuery } from '../../src/engine/index.js'
import { type ClusterState, type Family, type Pod, parseIP } from '../../src/model/index.js'
import { iptablesForwards } from './interpreters/iptables.js'
import { nftForwards } from './interpreters/nftables.js'
import type { Packet } from './interpreters/packet.js'

/** Decides one connection: from a pod to a pod on a port. */
export type Decide = (from: Pod, to: Pod, port: PortQuery) => boolean

export interface Implementation {
  readonly name: string
  /** Prepares the cluster once (index, IR, rulesets); every pod must have a nodeName for the dataplanes. */
  readonly prepare: (cluster: ClusterState) => Decide
}

/**
 * The addresses a connection uses (docs/semantics.md#connection-addresses): the destination's primary
 * family when the source has an address of it, else the other family.
 */
function addresses(from: Pod, to: Pod): { family: Family; src: string; dst: string } {
  const primary = parseIP(to.ips[0] ?? '')?.family ?? 4
  for (const family of primary === 4 ? ([4, 6] as const) : ([6, 4] as const)) {
    const src = from.ips.find((a) => parseIP(a)?.family === family)
    const dst = to.ips.find((a) => parseIP(a)?.family === family)
    if (src !== undefined && dst !== undefined) return { family, src, dst }
  }
  throw new Error(`${from.namespace}/${from.name} and ${to.namespace}/${to.name} share no address family`)
}

/**
 * A dataplane decision: the packet crosses the forward hook of the source's node, then of the
 * destination's (once when they share a node), and passes when no node drops it.
 */
function byNodes<R>(
  cluster: ClusterState,
  build: (node: string) => R,
  forwards: (r: R, p: Packet) => boolean,
): Decide {
  const perNode = new Map(nodesOf(cluster).map((n) => [n, build(n)]))
  return (from, to, port) => {
    const packet: Packet = { ...addresses(from, to), ...port }
    const nodes = [...new Set([from.nodeName, to.nodeName])]
    return nodes.every((n) => {
      const r = perNode.get(n as string)
      if (r === undefined) throw new Error(`no ruleset for node ${n}`)
      return forwards(r, packet)
    })
  }
}

const irOf = (cluster: ClusterState) => (node: string) => buildNodeIR(cluster, node)

export const IMPLEMENTATIONS: readonly Implementation[] = [
  {
    name: 'engine',
    prepare: (cluster) => {
      const index = buildIndex(cluster)
      return (from, to, port) =>
        evaluate(index, { kind: 'pod', pod: from }, { kind: 'pod', pod: to }, port).allowed
    },
  },
  {
    name: 'compiler IR',
    prepare: (cluster) =>
      byNodes<IREvaluator>(
        cluster,
        (node) => createIREvaluator(irOf(cluster)(node)),
        (ev, p) => ev.allows(p),
      ),
  },
  {
    name: 'nftables ruleset',
    prepare: (cluster) =>
      byNodes<NftTable>(
        cluster,
        (node) => getBackend('nftables').render(buildNodeIR(cluster, node)).structure as NftTable,
        nftForwards,
      ),
  },
  {
    name: 'iptables ruleset',
    prepare: (cluster) =>
      byNodes<IptablesRuleset>(
        cluster,
        (node) => getBackend('iptables').render(buildNodeIR(cluster, node)).structure as IptablesRuleset,
        iptablesForwards,
      ),
  },
]

/** The dataplane implementations (every one but the engine). */
export const DATAPLANES: readonly Implementation[] = IMPLEMENTATIONS.filter((i) => i.name !== 'engine')
