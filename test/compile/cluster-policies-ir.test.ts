/**
 * The node IR carries the ClusterNetworkPolicy tiers (docs/semantics.md#cnp-tiers): its evaluator (and the
 * nftables and iptables rulesets rendered from it, through the interpreters of test/conformance) decide
 * like the engine on random clusters with Admin and Baseline policies, Pass, nodes and networks peers,
 * named ports and fail-closed peers; and the IR of a cluster without them is what it was before.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { getBackend } from '../../src/backends/index.js'
import type { NftTable } from '../../src/backends/nftables/structure.js'
import {
  buildNodeIR,
  createIREvaluator,
  createNodeIRBuilder,
  IR_NAME_MAX,
  nodesOf,
} from '../../src/compile/index.js'
import { buildIndex, declaredPorts, evaluate } from '../../src/engine/index.js'
import { randomCluster } from '../../src/gen/random-cluster.js'
import type { ClusterState, Pod } from '../../src/model/index.js'
import { parseIP } from '../../src/model/index.js'
import { IMPLEMENTATIONS } from '../conformance/implementations.js'

const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 })

/**
 * The addresses a connection uses (docs/semantics.md#connection-addresses): the destination's primary
 * family when the source has it, else its other family.
 */
function addresses(from: Pod, to: Pod) {
  const primary = parseIP(to.ips[0] ?? '')?.family ?? 4
  for (const family of primary === 4 ? ([4, 6] as const) : ([6, 4] as const)) {
    const src = from.ips.find((a) => parseIP(a)?.family === family)
    const dst = to.ips.find((a) => parseIP(a)?.family === family)
    if (src !== undefined && dst !== undefined) return { family, src, dst }
  }
  return undefined
}

/** Every pair's engine verdict against the IR evaluators of the nodes the packet crosses; returns mismatches. */
function mismatches(cluster: ClusterState): string[] {
  const index = buildIndex(cluster)
  const evs = new Map(nodesOf(cluster).map((n) => [n, createIREvaluator(buildNodeIR(cluster, n))]))
  const ports = [...declaredPorts(cluster.pods), { port: 8081, protocol: 'TCP' as const }]
  const out: string[] = []
  for (const a of cluster.pods)
    for (const b of cluster.pods) {
      if (a === b) continue
      // A hostNetwork pod is its node: traffic between it and a pod of that node never crosses FORWARD.
      if ((a.hostNetwork || b.hostNetwork) && a.nodeName === b.nodeName) continue
      const addr = addresses(a, b)
      if (!addr) continue
      for (const port of ports) {
        const expected = evaluate(index, { kind: 'pod', pod: a }, { kind: 'pod', pod: b }, port).allowed
        const nodes = [...new Set([a.nodeName, b.nodeName])]
        const got = nodes.every((n) => evs.get(n as string)?.allows({ ...addr, ...port }) ?? true)
        if (got !== expected)
          out.push(
            `${a.namespace}/${a.name} -> ${b.namespace}/${b.name} ${port.port}/${port.protocol}: engine ${expected}, IR ${got}`,
          )
      }
    }
  return out
}

describe('ClusterNetworkPolicy tiers in the node IR', () => {
  it('the IR evaluator decides every pod pair like the engine (single stack)', () => {
    fc.assert(
      fc.property(seed, (s) => {
        const cluster = randomCluster(s, { maxPods: 9, maxPolicies: 4, sctp: true, clusterPolicies: 5 })
        expect(mismatches(cluster)).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('the IR evaluator decides every pod pair like the engine (dual stack)', () => {
    fc.assert(
      fc.property(seed, (s) => {
        const cluster = randomCluster(s, { maxPods: 8, maxPolicies: 3, ipv6: true, clusterPolicies: 4 })
        expect(mismatches(cluster)).toEqual([])
      }),
      { numRuns: 150 },
    )
  })

  it.each([
    { name: 'nftables ruleset', ipv6: false },
    { name: 'iptables ruleset', ipv6: false },
    { name: 'nftables ruleset', ipv6: true },
    { name: 'iptables ruleset', ipv6: true },
  ])('the $name decides every pod pair like the engine (dual stack: $ipv6)', ({ name, ipv6 }) => {
    const nft = IMPLEMENTATIONS.find((i) => i.name === name)
    if (!nft) throw new Error(`no ${name} implementation`)
    fc.assert(
      fc.property(seed, (s) => {
        const cluster = randomCluster(s, {
          maxPods: 9,
          maxPolicies: 4,
          sctp: true,
          clusterPolicies: 5,
          ...(ipv6 ? { ipv6 } : {}),
        })
        const index = buildIndex(cluster)
        const decide = nft.prepare(cluster)
        const ports = [...declaredPorts(cluster.pods), { port: 8081, protocol: 'TCP' as const }]
        const wrong: string[] = []
        for (const a of cluster.pods)
          for (const b of cluster.pods) {
            if (a === b || ((a.hostNetwork || b.hostNetwork) && a.nodeName === b.nodeName)) continue
            if (!addresses(a, b)) continue
            for (const port of ports) {
              const expected = evaluate(index, { kind: 'pod', pod: a }, { kind: 'pod', pod: b }, port).allowed
              if (decide(a, b, port) !== expected)
                wrong.push(
                  `${a.namespace}/${a.name} -> ${b.namespace}/${b.name} ${port.port}/${port.protocol}`,
                )
            }
          }
        expect(wrong).toEqual([])
      }),
      { numRuns: ipv6 ? 100 : 200 },
    )
  })

  it('every nftables object a chain or map refers to is declared, with a valid bounded name', () => {
    fc.assert(
      fc.property(seed, fc.boolean(), (s, ipv6) => {
        const cluster = randomCluster(s, { maxPods: 10, maxPolicies: 4, ipv6, clusterPolicies: 5 })
        for (const node of nodesOf(cluster)) {
          const table = getBackend('nftables').render(buildNodeIR(cluster, node)).structure as NftTable
          const names = table.objects.map((o) => o.name)
          const declared = new Set(names)
          expect(declared.size).toBe(names.length)
          for (const o of table.objects) {
            expect(o.name.length).toBeLessThanOrEqual(IR_NAME_MAX)
            expect(o.name).toMatch(/^[a-z][a-z0-9_-]*$/)
            const refs =
              o.kind === 'chain'
                ? o.refs
                : o.kind === 'map'
                  ? o.elements.flatMap((e) => ('chain' in e.verdict ? [e.verdict.chain] : []))
                  : []
            for (const r of refs) expect(declared.has(r), `${o.name} -> ${r}`).toBe(true)
          }
        }
      }),
      { numRuns: 150 },
    )
  })

  it('the property is not vacuous: tiers change IR decisions on many random clusters', () => {
    let changed = 0
    for (let s = 0; s < 60; s++) {
      const tiered = randomCluster(s, { maxPods: 9, maxPolicies: 4, clusterPolicies: 5 })
      const plain: ClusterState = { ...tiered, clusterPolicies: [] }
      const irs = (c: ClusterState) => nodesOf(c).map((n) => JSON.stringify(buildNodeIR(c, n).pods))
      if (irs(plain).join() !== irs(tiered).join()) changed++
    }
    expect(changed).toBeGreaterThan(10)
  })

  it('a memoized build equals a fresh one when policies, namespaces and Nodes change', () => {
    fc.assert(
      fc.property(seed, seed, (s1, s2) => {
        const a = randomCluster(s1, { maxPods: 9, maxPolicies: 3, nodes: 2, clusterPolicies: 4 })
        const b = randomCluster(s2, { maxPods: 9, maxPolicies: 3, nodes: 2, clusterPolicies: 4 })
        // b keeps a's pods (same objects): only the policies, namespaces and Nodes differ.
        const next: ClusterState = { ...b, pods: a.pods }
        const builder = createNodeIRBuilder('node-1')
        builder.build(a)
        expect(builder.build(next)).toEqual(buildNodeIR(next, 'node-1'))
      }),
      { numRuns: 150 },
    )
  })

  it('leaves the IR of a cluster without ClusterNetworkPolicies as it was (no tier fields)', () => {
    const c = randomCluster(7, { maxPods: 9, maxPolicies: 4 })
    for (const n of nodesOf(c)) {
      const ir = buildNodeIR(c, n)
      expect('clusterChains' in ir).toBe(false)
      expect(ir.pods.some((p) => 'ingressTiers' in p || 'egressTiers' in p)).toBe(false)
    }
  })
})
