/**
 * Invariants of the node compiler on random clusters: the IR decides like the engine, every referenced
 * set/chain/map exists, names are valid and bounded, output is deterministic and independent of input
 * order, and size does not grow with pods on other nodes.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileNode } from '../../src/backends/index.js'
import { buildNodeIR, IR_NAME_MAX, nodesOf } from '../../src/compile/index.js'
import { buildIndex, declaredPorts, evaluate } from '../../src/engine/index.js'
import { randomCluster } from '../../src/gen/random-cluster.js'
import type { ClusterState, Pod } from '../../src/model/index.js'
import { allowsDirection } from './ir-interpreter.js'

const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 })

/** Names declared and referenced in an nft file. */
function namesOf(text: string): { declared: string[]; referenced: string[] } {
  const declared = [...text.matchAll(/^\t(?:set|map|chain) (\S+) \{$/gm)].map((m) => m[1] as string)
  const referenced = [
    ...[...text.matchAll(/@([A-Za-z0-9_-]+)/g)].map((m) => m[1] as string),
    ...[...text.matchAll(/\bjump ([A-Za-z0-9_-]+)/g)].map((m) => m[1] as string),
  ]
  return { declared, referenced }
}

const nftOf = (c: ClusterState, node: string) => compileNode(c, node, 'nftables').value

describe('node compiler invariants', () => {
  it('the IR of each node decides every pod pair like the engine (single stack)', () => {
    fc.assert(
      fc.property(seed, (s) => {
        const cluster = randomCluster(s, { maxPods: 8, maxPolicies: 6, sctp: true })
        const irs = new Map(nodesOf(cluster).map((n) => [n, buildNodeIR(cluster, n)]))
        const index = buildIndex(cluster)
        const ports = [...declaredPorts(cluster.pods), { port: 8081, protocol: 'TCP' as const }]
        for (const a of cluster.pods) {
          for (const b of cluster.pods) {
            if (a === b) continue
            for (const port of ports) {
              const expected = evaluate(index, { kind: 'pod', pod: a }, { kind: 'pod', pod: b }, port).allowed
              const packet = { family: 4 as const, src: a.ips[0] as string, dst: b.ips[0] as string, ...port }
              const srcIR = irs.get(a.nodeName as string)!
              const dstIR = irs.get(b.nodeName as string)!
              const got =
                allowsDirection(srcIR, 'Egress', packet) && allowsDirection(dstIR, 'Ingress', packet)
              if (got !== expected) {
                throw new Error(
                  `${a.namespace}/${a.name} -> ${b.namespace}/${b.name} ${port.port}/${port.protocol}: engine ${expected}, IR ${got}`,
                )
              }
            }
          }
        }
      }),
      { numRuns: 200 },
    )
  })

  it('every referenced set, map and chain is declared, and names are valid and bounded', () => {
    fc.assert(
      fc.property(seed, fc.boolean(), (s, ipv6) => {
        const cluster = randomCluster(s, { maxPods: 10, maxPolicies: 8, sctp: true, ipv6 })
        for (const node of nodesOf(cluster)) {
          const { declared, referenced } = namesOf(nftOf(cluster, node).files['palisade.nft'] ?? '')
          const set = new Set(declared)
          expect(set.size).toBe(declared.length)
          for (const r of referenced) expect(set.has(r), `${r} is declared`).toBe(true)
          for (const d of declared) {
            expect(d.length).toBeLessThanOrEqual(IR_NAME_MAX)
            expect(d).toMatch(/^[a-z][a-z0-9_-]*$/)
          }
        }
      }),
      { numRuns: 200 },
    )
  })

  it('gives the same bytes for the same cluster, whatever the order of its objects', () => {
    fc.assert(
      fc.property(seed, (s) => {
        const cluster = randomCluster(s, { maxPods: 10, maxPolicies: 8, ipv6: true })
        const reversed: ClusterState = {
          namespaces: [...cluster.namespaces].reverse(),
          pods: [...cluster.pods].reverse(),
          policies: [...cluster.policies].reverse(),
        }
        for (const node of nodesOf(cluster)) {
          const a = nftOf(cluster, node).files['palisade.nft']
          expect(nftOf(cluster, node).files['palisade.nft']).toBe(a)
          expect(nftOf(reversed, node).files['palisade.nft']).toBe(a)
        }
      }),
      { numRuns: 100 },
    )
  })

  it('rules and chains do not grow with pods on other nodes; size is linear in policies + local pods', () => {
    fc.assert(
      fc.property(seed, fc.integer({ min: 1, max: 40 }), (s, extra) => {
        const cluster = randomCluster(s, { maxPods: 8, maxPolicies: 6, sctp: true })
        const more: Pod[] = []
        for (let i = 0; i < extra; i++) {
          const model = cluster.pods[i % cluster.pods.length] as Pod
          more.push({ ...model, name: `far-${i}`, nodeName: 'node-far', ips: [`10.99.${i >> 8}.${i & 255}`] })
        }
        const bigger: ClusterState = { ...cluster, pods: [...cluster.pods, ...more] }
        for (const node of nodesOf(cluster)) {
          const small = nftOf(cluster, node).stats
          const big = nftOf(bigger, node).stats
          expect(big.rules).toBe(small.rules)
          expect(big.chains).toBe(small.chains)
          // bound: each rule of each policy expands to at most peers x port groups x 2 families
          const local = cluster.pods.filter((p) => p.nodeName === node).length
          let bound = 10 + 2 * local * (cluster.policies.length + 1)
          for (const pol of cluster.policies) {
            for (const r of [...pol.ingress, ...pol.egress]) {
              bound += Math.max(1, r.peers?.length ?? 0) * Math.max(1, r.ports?.length ?? 0) * 2
            }
          }
          expect(small.rules).toBeLessThanOrEqual(bound)
        }
      }),
      { numRuns: 100 },
    )
  })
})
