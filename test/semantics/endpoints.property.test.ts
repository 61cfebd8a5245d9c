/**
 * One reading of "which pods are policy endpoints" (docs/semantics.md#hostnetwork-pods,
 * docs/semantics.md#finished-pods): the engine and the node compiler ask src/semantics, so a cluster that still
 * holds finished pods (the agent's store does) gets the same verdicts from the engine, the IR and both
 * backends' rulesets (test/conformance/implementations.ts), and the same as the cluster without them.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  buildIndex,
  computeMatrix,
  declaredPorts,
  evaluate,
  referenceMatrix,
} from '../../src/engine/index.js'
import { randomCluster } from '../../src/gen/random-cluster.js'
import type { ClusterState, Pod } from '../../src/model/index.js'
import { isPolicyEndpoint, isTerminated } from '../../src/semantics/index.js'
import { DATAPLANES } from '../conformance/implementations.js'

const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 })
const phase = fc.constantFrom(undefined, 'Running', 'Pending', 'Succeeded', 'Failed')

describe('policy endpoints', () => {
  it('reads hostNetwork and the phase', () => {
    const base: Pod = { namespace: 'a', name: 'p', labels: {}, ips: [], ports: [], hostNetwork: false }
    expect(isPolicyEndpoint(base)).toBe(true)
    expect(isPolicyEndpoint({ ...base, phase: 'Running' })).toBe(true)
    expect(isPolicyEndpoint({ ...base, phase: 'Pending' })).toBe(true)
    expect(isPolicyEndpoint({ ...base, hostNetwork: true })).toBe(false)
    expect(isPolicyEndpoint({ ...base, phase: 'Succeeded' })).toBe(false)
    expect(isPolicyEndpoint({ ...base, phase: 'Failed' })).toBe(false)
  })

  it('the engine, the IR and both backends read finished pods alike; they change no verdict between live pods', () => {
    fc.assert(
      fc.property(seed, fc.array(phase, { minLength: 1, maxLength: 10 }), (s, phases) => {
        const base = randomCluster(s, { maxPods: 10, maxPolicies: 6, sctp: true })
        const pods = base.pods.map((p, i) => {
          const ph = phases[i % phases.length]
          return ph === undefined ? p : { ...p, phase: ph }
        })
        const cluster: ClusterState = { ...base, pods }
        const live = pods.filter((p) => !isTerminated(p))
        const liveOnly = buildIndex({ ...cluster, pods: live })
        const index = buildIndex(cluster)
        const dataplanes = DATAPLANES.map((i) => ({ name: i.name, decide: i.prepare(cluster) }))
        const ports = [...declaredPorts(pods), { port: 8081, protocol: 'TCP' as const }]
        // Destinations are live pods: the engine resolves a named port on any destination pod, the
        // compiler only on endpoints with an address (a known difference for hostNetwork destinations).
        for (const a of pods) {
          for (const b of live) {
            if (a === b) continue
            for (const port of ports) {
              const src = { kind: 'pod', pod: a } as const
              const dst = { kind: 'pod', pod: b } as const
              const engine = evaluate(index, src, dst, port).allowed
              if (!isTerminated(a)) expect(engine).toBe(evaluate(liveOnly, src, dst, port).allowed)
              for (const d of dataplanes) {
                expect(
                  d.decide(a, b, port),
                  `${d.name}: ${a.name} -> ${b.name} ${port.port}/${port.protocol}`,
                ).toBe(engine)
              }
            }
          }
        }
      }),
      { numRuns: 200 },
    )
  })

  it('regression: two rules of one policy with overlapping ports (80, and 80-8080 to an ipBlock) keep the wider range in the nftables port map', () => {
    // Found by the property above (seed 751731683): x/p2's egress port map held only tcp . 80, so 81/TCP
    // to 10.240.2.10 was dropped although x/pol3 egress[1] admits it.
    const cluster = randomCluster(751731683, { maxPods: 10, maxPolicies: 6, sctp: true })
    const index = buildIndex(cluster)
    const dataplanes = DATAPLANES.map((i) => ({ name: i.name, decide: i.prepare(cluster) }))
    let compared = 0
    for (const a of cluster.pods)
      for (const b of cluster.pods)
        for (const port of [80, 81, 8080, 8081].map((n) => ({ port: n, protocol: 'TCP' as const }))) {
          if (a === b) continue
          const engine = evaluate(index, { kind: 'pod', pod: a }, { kind: 'pod', pod: b }, port).allowed
          for (const d of dataplanes)
            expect(d.decide(a, b, port), `${d.name}: ${a.name} -> ${b.name} ${port.port}`).toBe(engine)
          compared++
        }
    expect(compared).toBeGreaterThan(100)
  })

  it('the class matrix tells finished pods apart from live ones with the same labels', () => {
    fc.assert(
      fc.property(seed, fc.array(phase, { minLength: 1, maxLength: 10 }), (s, phases) => {
        const base = randomCluster(s, { maxPods: 9, maxPolicies: 6 })
        // every pod twice: once as it is, once in a phase drawn for it
        const pods = base.pods.flatMap((p, i) => [
          p,
          { ...p, name: `${p.name}-again`, phase: phases[i % phases.length] },
        ])
        const index = buildIndex({ ...base, pods })
        const ports = declaredPorts(pods)
        expect(computeMatrix(index, ports).cells).toEqual(referenceMatrix(index, ports).cells)
      }),
      { numRuns: 200 },
    )
  })
})
