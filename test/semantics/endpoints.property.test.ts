/**
 * One reading of "which pods are policy endpoints" (docs/semantics.md: hostNetwork pods, pods in phase
 * Succeeded or Failed): the engine and the node compiler ask src/semantics, so a cluster that still
 * holds finished pods (the agent's store does) gets the same verdicts from both, and the same verdicts
 * as the cluster without them.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildNodeIR, nodesOf } from '../../src/compile/index.js'
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
import { allowsDirection } from '../compile/ir-interpreter.js'

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

  it('the engine and the IR read finished pods alike; they change no verdict between live pods', () => {
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
        const irs = new Map(nodesOf(cluster).map((n) => [n, buildNodeIR(cluster, n)]))
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
              const packet = { family: 4 as const, src: a.ips[0] as string, dst: b.ips[0] as string, ...port }
              const ir =
                allowsDirection(irs.get(a.nodeName as string)!, 'Egress', packet) &&
                allowsDirection(irs.get(b.nodeName as string)!, 'Ingress', packet)
              expect(ir, `${a.name} -> ${b.name} ${port.port}/${port.protocol}`).toBe(engine)
            }
          }
        }
      }),
      { numRuns: 200 },
    )
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
