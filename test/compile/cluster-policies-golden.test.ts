/**
 * The ClusterNetworkPolicy example (examples/cluster-network-policy): the IR and both backends' rulesets
 * decide every pod pair and port of it like the engine. Its goldens (the tiers as the kernel gets them)
 * are in examples-golden.test.ts, checked by `nft -c`, `ipset restore` and `iptables-restore --test`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildIndex, declaredPorts, evaluate } from '../../src/engine/index.js'
import { loadCluster } from '../../src/load/index.js'
import { IMPLEMENTATIONS } from '../conformance/implementations.js'

const dir = new URL('../../examples/cluster-network-policy/', import.meta.url)
const loaded = loadCluster(
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({
      file: `examples/cluster-network-policy/${f}`,
      text: readFileSync(new URL(f, dir), 'utf8'),
    })),
  { validate: 'strict' },
)
const cluster = loaded.cluster

describe('examples/cluster-network-policy in the dataplanes', () => {
  it('loads without error and has ClusterNetworkPolicies of both tiers', () => {
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    expect(new Set(cluster.clusterPolicies?.map((p) => p.tier))).toEqual(new Set(['Admin', 'Baseline']))
  })

  it('the IR and both rulesets decide every pair and port like the engine', () => {
    const index = buildIndex(cluster)
    const ports = [
      ...declaredPorts(cluster.pods),
      { port: 53, protocol: 'UDP' as const },
      { port: 443, protocol: 'TCP' as const },
    ]
    const impls = IMPLEMENTATIONS.filter(
      (i) => i.name === 'compiler IR' || i.name === 'nftables ruleset',
    ).map((i) => ({ name: i.name, decide: i.prepare(cluster) }))
    const wrong: string[] = []
    let denied = 0
    for (const a of cluster.pods)
      for (const b of cluster.pods) {
        if (a === b) continue
        for (const port of ports) {
          const expected = evaluate(index, { kind: 'pod', pod: a }, { kind: 'pod', pod: b }, port).allowed
          if (!expected) denied++
          for (const i of impls)
            if (i.decide(a, b, port) !== expected)
              wrong.push(
                `${a.namespace}/${a.name} -> ${b.namespace}/${b.name} ${port.port}/${port.protocol}: ${i.name}`,
              )
        }
      }
    expect(wrong).toEqual([])
    expect(denied).toBeGreaterThan(0)
  })
})
