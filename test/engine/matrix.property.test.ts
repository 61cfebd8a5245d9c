import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildIndex, computeMatrix, declaredPorts, referenceMatrix } from '../../src/engine/index.js'
import { randomCluster } from '../../src/gen/random-cluster.js'

describe('fast matrix equals the per-pair reference', () => {
  it('on random clusters (every feature, single stack)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const cluster = randomCluster(seed, { maxPods: 9, maxPolicies: 6, sctp: true })
        const index = buildIndex(cluster)
        const ports = [...declaredPorts(cluster.pods), { port: 8081, protocol: 'TCP' as const }]
        const fast = computeMatrix(index, ports)
        const ref = referenceMatrix(index, ports)
        expect(fast.pods).toEqual(ref.pods)
        expect(fast.cells).toEqual(ref.cells)
      }),
      { numRuns: 400 },
    )
  })

  it('on random dual-stack clusters', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const cluster = randomCluster(seed, { maxPods: 8, maxPolicies: 5, ipv6: true })
        const index = buildIndex(cluster)
        const ports = declaredPorts(cluster.pods)
        expect(computeMatrix(index, ports).cells).toEqual(referenceMatrix(index, ports).cells)
      }),
      { numRuns: 200 },
    )
  })

  it('classes are fewer than pods when pods repeat', () => {
    const cluster = randomCluster(7, { maxPods: 9 })
    const doubled = {
      ...cluster,
      pods: [...cluster.pods, ...cluster.pods.map((p) => ({ ...p, name: `${p.name}-copy` }))],
    }
    const index = buildIndex(doubled)
    const m = computeMatrix(index, declaredPorts(doubled.pods))
    expect(m.stats.classes).toBeLessThan(m.stats.pods)
    expect(m.cells).toEqual(referenceMatrix(index, declaredPorts(doubled.pods)).cells)
  })
})

describe('fast matrix equals the per-pair reference with ClusterNetworkPolicies', () => {
  it('on random clusters with Admin and Baseline tiers, Pass, nodes and networks peers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const cluster = randomCluster(seed, { maxPods: 9, maxPolicies: 4, sctp: true, clusterPolicies: 5 })
        const index = buildIndex(cluster)
        const ports = [...declaredPorts(cluster.pods), { port: 8081, protocol: 'TCP' as const }]
        // Every pod, hostNetwork ones included: nodes peers match them by their node's address.
        const fast = computeMatrix(index, ports, cluster.pods)
        const ref = referenceMatrix(index, ports, cluster.pods)
        expect(fast.pods).toEqual(ref.pods)
        expect(fast.cells).toEqual(ref.cells)
      }),
      { numRuns: 400 },
    )
  })

  it('on random dual-stack clusters with ClusterNetworkPolicies', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const cluster = randomCluster(seed, { maxPods: 8, maxPolicies: 3, ipv6: true, clusterPolicies: 4 })
        const index = buildIndex(cluster)
        const ports = declaredPorts(cluster.pods)
        expect(computeMatrix(index, ports, cluster.pods).cells).toEqual(
          referenceMatrix(index, ports, cluster.pods).cells,
        )
      }),
      { numRuns: 200 },
    )
  })

  it('ClusterNetworkPolicies change verdicts on some random clusters (the property is not vacuous)', () => {
    let changed = 0
    for (let seed = 0; seed < 60; seed++) {
      const plain = randomCluster(seed, { maxPods: 9, maxPolicies: 4 })
      const tiered = randomCluster(seed, { maxPods: 9, maxPolicies: 4, clusterPolicies: 5 })
      const ports = declaredPorts(plain.pods)
      const a = computeMatrix(
        buildIndex(plain),
        ports,
        plain.pods.filter((p) => !p.hostNetwork),
      )
      const pods = tiered.pods.filter((p) => !p.hostNetwork)
      const b = computeMatrix(buildIndex(tiered), ports, pods)
      if (a.pods.join() === b.pods.join() && JSON.stringify(a.cells) !== JSON.stringify(b.cells)) changed++
    }
    expect(changed).toBeGreaterThan(10)
  })
})
