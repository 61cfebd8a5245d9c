/**
 * The connection list is exact: on random clusters, every line stands for allowed matrix cells (the pod
 * pairs it counts are exactly the allowed ones between its two workloads on each of its ports) and every
 * allowed cell is covered by a line; the same for outside addresses, pod by pod.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildConnlist, type Connection } from '../../src/connlist/index.js'
import { foldWorkloads } from '../../src/diff/index.js'
import {
  buildIndex,
  declaredPorts,
  evaluate,
  matrixPods,
  type PortQuery,
  referenceMatrix,
} from '../../src/engine/index.js'
import { randomCluster } from '../../src/gen/random-cluster.js'
import type { Pod } from '../../src/model/index.js'
import { cidrContainsIP, parseCIDR, parseIP, podKey } from '../../src/model/index.js'

const covers = (ranges: Connection['ports'], q: PortQuery): boolean =>
  ranges.some((r) => r.protocol === q.protocol && q.port >= r.from && q.port <= r.to)

const EXTRA_PORTS: PortQuery[] = [
  { port: 1, protocol: 'TCP' },
  { port: 8081, protocol: 'TCP' },
  { port: 53, protocol: 'UDP' },
  { port: 65535, protocol: 'SCTP' },
  { port: 65535, protocol: 'TCP' },
]

/** The ports to check: declared ones, the edges of every rule port range, and a few others. */
function portsOf(cluster: ReturnType<typeof randomCluster>): PortQuery[] {
  const out = [...declaredPorts(cluster.pods), ...EXTRA_PORTS]
  for (const pol of cluster.policies)
    for (const rule of [...pol.ingress, ...pol.egress])
      for (const p of rule.ports ?? [])
        if (typeof p.port === 'number') {
          out.push({ port: p.port, protocol: p.protocol })
          if (p.endPort !== undefined) out.push({ port: p.endPort, protocol: p.protocol })
          if (p.port > 1) out.push({ port: p.port - 1, protocol: p.protocol })
        }
  const seen = new Set<string>()
  return out.filter((q) => {
    const k = `${q.port}/${q.protocol}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

const inCidrs = (address: string, cidrs: readonly string[]): boolean => {
  const ip = parseIP(address)
  return (
    ip !== undefined &&
    cidrs.some((c) => cidrContainsIP(parseCIDR(c) as NonNullable<ReturnType<typeof parseCIDR>>, ip))
  )
}

describe('connlist = the allowed cells of the matrix, folded per workload', () => {
  it('workload to workload: per port, the pairs a line counts are the allowed cells, and every allowed cell has a line', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const cluster = randomCluster(seed, {
          maxPods: 8,
          maxPolicies: 6,
          sctp: true,
          ipv6: seed % 2 === 0,
          // A third of the runs with ClusterNetworkPolicies (their ports cut the port ranges).
          ...(seed % 3 === 0 ? { clusterPolicies: 4 } : {}),
        })
        const list = buildConnlist(cluster)
        const index = buildIndex(cluster)
        const pods = matrixPods(index)
        const ports = portsOf(cluster)
        const m = referenceMatrix(index, ports, pods)
        const workloadOf = new Map<string, string>()
        for (const w of foldWorkloads(pods)) for (const p of w.pods) workloadOf.set(p, w.key)
        const n = pods.length
        ports.forEach((q, k) => {
          const expected = new Map<string, number>()
          for (let i = 0; i < n; i++)
            for (let j = 0; j < n; j++) {
              if (i === j || (m.cells[k] as Uint8Array)[i * n + j] !== 1) continue
              const key = `${workloadOf.get(podKey(pods[i] as Pod))}|${workloadOf.get(podKey(pods[j] as Pod))}`
              expected.set(key, (expected.get(key) ?? 0) + 1)
            }
          const reported = new Map<string, number>()
          for (const c of list.connections) {
            if (c.src.kind !== 'workload' || c.dst.kind !== 'workload' || !covers(c.ports, q)) continue
            const key = `${c.src.key}|${c.dst.key}`
            expect(reported.has(key), `two lines for ${key} on ${q.port}/${q.protocol}`).toBe(false)
            reported.set(key, c.count)
          }
          expect(reported, `${q.port}/${q.protocol}`).toEqual(expected)
        })
      }),
      { numRuns: 80 },
    )
  })

  it('outside addresses: per workload, port and address, the pods a line counts are the allowed ones', () => {
    const addresses = [
      '10.240.1.10',
      '10.240.1.13',
      '10.240.2.9',
      '10.241.0.1',
      '192.0.2.1',
      '0.0.0.0',
      '255.255.255.255',
    ]
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const cluster = randomCluster(seed, {
          maxPods: 6,
          maxPolicies: 6,
          ...(seed % 3 === 0 ? { clusterPolicies: 4 } : {}),
        })
        const list = buildConnlist(cluster)
        const index = buildIndex(cluster)
        const ports = portsOf(cluster)
        for (const w of foldWorkloads(matrixPods(index))) {
          for (const direction of ['Ingress', 'Egress'] as const) {
            for (const q of ports) {
              for (const address of addresses) {
                let allowed = 0
                for (const key of w.pods) {
                  const pod = { kind: 'pod' as const, pod: index.podsByKey.get(key) as Pod }
                  const ip = { kind: 'ip' as const, ip: address }
                  const v =
                    direction === 'Ingress' ? evaluate(index, ip, pod, q) : evaluate(index, pod, ip, q)
                  if (v.allowed) allowed++
                }
                const lines = list.connections.filter((c) => {
                  const [me, other] = direction === 'Ingress' ? [c.dst, c.src] : [c.src, c.dst]
                  return (
                    me.kind === 'workload' &&
                    me.key === w.key &&
                    other.kind === 'external' &&
                    covers(c.ports, q) &&
                    inCidrs(address, other.cidrs)
                  )
                })
                expect(
                  lines.length,
                  `${w.key} ${direction} ${q.port}/${q.protocol} ${address}`,
                ).toBeLessThanOrEqual(1)
                expect(lines[0]?.count ?? 0, `${w.key} ${direction} ${q.port}/${q.protocol} ${address}`).toBe(
                  allowed,
                )
              }
            }
          }
        }
      }),
      { numRuns: 40 },
    )
  })
})
