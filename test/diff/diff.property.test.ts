/**
 * The diff is exact: on random pairs of clusters over the same pods, its connection changes are the cells
 * where the per-pair reference matrices differ, counted per workload pair and port; its outside-address
 * changes are the pods whose verdict towards an outside address differs.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { diffClusters, foldWorkloads, type ReachabilityDiff } from '../../src/diff/index.js'
import {
  buildIndex,
  declaredPorts,
  evaluate,
  matrixPods,
  type PortQuery,
  referenceMatrix,
} from '../../src/engine/index.js'
import { makeRng, randomCluster } from '../../src/gen/random-cluster.js'
import type { ClusterState, Pod } from '../../src/model/index.js'
import { podKey } from '../../src/model/index.js'

/** B: A's pods (some relabelled, one namespace relabelled) under policies of another random cluster. */
function mutate(a: ClusterState, seed: number): ClusterState {
  const rnd = makeRng(seed)
  const other = randomCluster(seed ^ 0x5bd1e995, { maxPods: 6, maxPolicies: 6, sctp: true })
  const keep = a.policies.filter(() => rnd() < 0.5)
  const nsNames = new Set(a.namespaces.map((n) => n.name))
  const extra = other.policies
    .filter((p) => nsNames.has(p.namespace) && p.origin.kind === 'NetworkPolicy')
    .map((p) => ({ ...p, name: `${p.name}-b` }))
  const pods = a.pods.map((p): Pod => (rnd() < 0.2 ? { ...p, labels: { ...p.labels, app: 'c' } } : p))
  const namespaces = a.namespaces.map((n, i) =>
    i === 0 && rnd() < 0.3 ? { ...n, labels: { ...n.labels, env: 'prod' } } : n,
  )
  return { namespaces, pods, policies: [...keep, ...extra] }
}

const covers = (ranges: readonly { protocol: string; from: number; to: number }[], q: PortQuery): boolean =>
  ranges.some((r) => r.protocol === q.protocol && q.port >= r.from && q.port <= r.to)

/** Expected changed pairs per 'from|to|change|port', from the reference matrices. */
function expectedConnections(
  a: ClusterState,
  b: ClusterState,
  ports: readonly PortQuery[],
): Map<string, number> {
  const ia = buildIndex(a)
  const ib = buildIndex(b)
  const pa = matrixPods(ia)
  const pb = matrixPods(ib)
  const ma = referenceMatrix(ia, ports, pa)
  const mb = referenceMatrix(ib, ports, pb)
  const workloadOf = new Map<string, string>()
  for (const w of foldWorkloads(pb)) for (const p of w.pods) workloadOf.set(p, w.key)
  const out = new Map<string, number>()
  const n = pa.length
  ports.forEach((q, k) => {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const x = (ma.cells[k] as Uint8Array)[i * n + j]
        const y = (mb.cells[k] as Uint8Array)[i * n + j]
        if (x === y) continue
        const key = `${workloadOf.get(podKey(pa[i] as Pod))}|${workloadOf.get(podKey(pa[j] as Pod))}|${y === 1 ? 'added' : 'removed'}|${q.port}/${q.protocol}`
        out.set(key, (out.get(key) ?? 0) + 1)
      }
    }
  })
  return out
}

/** What the diff says per 'from|to|change|port' for the given ports. */
function reportedConnections(d: ReachabilityDiff, ports: readonly PortQuery[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const c of d.connections) {
    for (const q of ports) {
      if (!covers(c.ports, q)) continue
      const key = `${c.from}|${c.to}|${c.change}|${q.port}/${q.protocol}`
      out.set(key, (out.get(key) ?? 0) + c.pairs)
    }
  }
  return out
}

const EXTRA_PORTS: PortQuery[] = [
  { port: 1, protocol: 'TCP' },
  { port: 8081, protocol: 'TCP' },
  { port: 53, protocol: 'UDP' },
  { port: 65535, protocol: 'SCTP' },
]

describe('diff(A, B) = the cells where matrix(A) != matrix(B)', () => {
  it('on random clusters, every port of every protocol (exact mode)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const a = randomCluster(seed, { maxPods: 8, maxPolicies: 5, sctp: true })
        const b = mutate(a, seed)
        const ports = [...declaredPorts(a.pods), ...EXTRA_PORTS]
        const d = diffClusters(a, b)
        expect(reportedConnections(d, ports)).toEqual(expectedConnections(a, b, ports))
      }),
      { numRuns: 100 },
    )
  })

  it('on random clusters where B adds ClusterNetworkPolicies (exact mode: their ports and networks cut the ranges)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const a = randomCluster(seed, { maxPods: 8, maxPolicies: 4, sctp: true })
        const tiered = randomCluster(seed, { maxPods: 8, maxPolicies: 4, sctp: true, clusterPolicies: 5 })
        const b: ClusterState = {
          ...a,
          ...(tiered.clusterPolicies ? { clusterPolicies: tiered.clusterPolicies } : {}),
          ...(tiered.nodes ? { nodes: tiered.nodes } : {}),
        }
        const ports = [...declaredPorts(a.pods), ...EXTRA_PORTS, { port: 8080, protocol: 'UDP' as const }]
        const d = diffClusters(a, b)
        expect(reportedConnections(d, ports)).toEqual(expectedConnections(a, b, ports))
      }),
      { numRuns: 100 },
    )
  })

  it('on random clusters with explicit ports (--ports)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const a = randomCluster(seed, { maxPods: 8, maxPolicies: 5, ipv6: true })
        const b = mutate(a, seed)
        const ports = [...declaredPorts(a.pods), ...EXTRA_PORTS]
        const d = diffClusters(a, b, { ports })
        expect(reportedConnections(d, ports)).toEqual(expectedConnections(a, b, ports))
      }),
      { numRuns: 60 },
    )
  })

  it('a cluster against itself has no change', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const a = randomCluster(seed, { maxPods: 8, maxPolicies: 5, sctp: true, ipv6: true })
        const d = diffClusters(a, a)
        expect(d.connections).toEqual([])
        expect(d.isolation).toEqual([])
        expect(d.exposure).toEqual([])
        expect(d.workloads).toEqual([])
      }),
      { numRuns: 30 },
    )
  })

  it('outside addresses: the pods whose verdict towards an address changed, per workload, port and address', () => {
    const addresses = ['10.240.1.10', '10.240.1.13', '10.240.2.9', '10.241.0.1', '192.0.2.1', '0.0.0.0']
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const a = randomCluster(seed, { maxPods: 6, maxPolicies: 5 })
        const b = mutate(a, seed)
        const ports = [...declaredPorts(a.pods), ...EXTRA_PORTS]
        const d = diffClusters(a, b)
        const ia = buildIndex(a)
        const ib = buildIndex(b)
        const workloads = foldWorkloads(matrixPods(ib))
        for (const w of workloads) {
          for (const direction of ['Ingress', 'Egress'] as const) {
            for (const q of ports) {
              for (const address of addresses) {
                const counts = { added: 0, removed: 0 }
                for (const key of w.pods) {
                  const verdict = (index: typeof ia) => {
                    const pod = { kind: 'pod' as const, pod: index.podsByKey.get(key) as Pod }
                    const ip = { kind: 'ip' as const, ip: address }
                    return (
                      direction === 'Ingress' ? evaluate(index, ip, pod, q) : evaluate(index, pod, ip, q)
                    ).allowed
                  }
                  const was = verdict(ia)
                  const is = verdict(ib)
                  if (was !== is) counts[is ? 'added' : 'removed']++
                }
                for (const change of ['added', 'removed'] as const) {
                  const reported = d.exposure
                    .filter(
                      (e) =>
                        e.workload === w.key &&
                        e.direction === direction &&
                        e.change === change &&
                        covers(e.ports, q) &&
                        e.addresses.some((c) => inCidr(address, c)),
                    )
                    .reduce((n, e) => n + e.pods, 0)
                  expect(reported, `${w.key} ${direction} ${change} ${q.port}/${q.protocol} ${address}`).toBe(
                    counts[change],
                  )
                }
              }
            }
          }
        }
      }),
      { numRuns: 40 },
    )
  })
})

function inCidr(address: string, cidr: string): boolean {
  const toNum = (ip: string) => ip.split('.').reduce((n, x) => n * 256 + Number(x), 0)
  const [base, bits] = cidr.split('/') as [string, string]
  if (base.includes(':')) return false
  const size = 2 ** (32 - Number(bits))
  const start = toNum(base)
  const a = toNum(address)
  return a >= start && a < start + size
}
