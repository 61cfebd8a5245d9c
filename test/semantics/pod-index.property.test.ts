/**
 * The pod index is a fast path for "which pods does this selector peer match": on random clusters it
 * must give exactly what matching every pod one by one gives, and stay so while pods come and go
 * (the agent's incremental compiler updates it in place).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { randomCluster } from '../../src/gen/random-cluster.js'
import type { ClusterState, Pod } from '../../src/model/index.js'
import {
  addToPodIndex,
  buildNamespaceIndex,
  buildPodIndex,
  candidateGroups,
  matchPodsPeer,
  type PodIndex,
  type PodsPeer,
  peerMatcher,
  removeFromPodIndex,
  selectPods,
} from '../../src/semantics/index.js'

/** A variation of a pod that changes what it is to NetworkPolicy. */
const variant = fc.constantFrom(
  'plain',
  'plain',
  'plain',
  'hostNetwork',
  'Succeeded',
  'Failed',
  'no-ip',
  'reordered',
  'elsewhere',
)

/** Returns the cluster with each pod varied (hostNetwork, finished, no address, labels reordered, undeclared namespace). */
function vary(cluster: ClusterState, variants: readonly string[]): Pod[] {
  return cluster.pods.map((p, i) => {
    switch (variants[i % Math.max(1, variants.length)]) {
      case 'hostNetwork':
        return { ...p, hostNetwork: true }
      case 'Succeeded':
      case 'Failed':
        return { ...p, phase: variants[i % variants.length] }
      case 'no-ip':
        return { ...p, ips: [] }
      case 'reordered':
        return { ...p, labels: Object.fromEntries(Object.entries(p.labels).reverse()) }
      case 'elsewhere':
        return { ...p, namespace: 'undeclared' }
      default:
        return p
    }
  })
}

/** Every selector peer of the cluster's policies, plus each policy's podSelector read as a peer. */
function selectorPeers(cluster: ClusterState): PodsPeer[] {
  const out: PodsPeer[] = []
  for (const pol of cluster.policies) {
    const own = peerMatcher({ podSelector: pol.podSelector }, pol.namespace)
    if (own.kind === 'pods') out.push(own)
    for (const rule of [...pol.ingress, ...pol.egress])
      for (const peer of rule.peers ?? []) {
        const m = peerMatcher(peer, pol.namespace)
        if (m.kind === 'pods') out.push(m)
      }
  }
  // a namespaceSelector on the implied label of a namespace nobody declared
  const implied = peerMatcher(
    {
      namespaceSelector: {
        matchLabels: { 'kubernetes.io/metadata.name': 'undeclared' },
        matchExpressions: [],
      },
    },
    'x',
  )
  if (implied.kind === 'pods') out.push(implied)
  return out
}

const names = (pods: readonly Pod[]): string[] => pods.map((p) => `${p.namespace}/${p.name}`).sort()

/** The index's groups as comparable data: namespace, labels in key order, member names. */
function shape(index: PodIndex<Pod>): string[] {
  return index.all
    .map((g) => JSON.stringify([g.namespace, Object.entries(g.labels), names(g.members)]))
    .sort()
}

const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 })

describe('pod index', () => {
  it('selects exactly the pods a one-by-one match selects, and candidates hold every match', () => {
    fc.assert(
      fc.property(seed, fc.array(variant, { maxLength: 12 }), (s, variants) => {
        const cluster = randomCluster(s, { maxPods: 24, maxPolicies: 8 })
        const pods = vary(cluster, variants)
        const namespaces = buildNamespaceIndex(cluster.namespaces)
        const index = buildPodIndex(pods, (p) => p)
        for (const m of selectorPeers(cluster)) {
          const brute = pods.filter((p) => matchPodsPeer(namespaces, m, p))
          expect(names(selectPods(index, namespaces, m)), m.key).toEqual(names(brute))
          const candidates = new Set(candidateGroups(index, namespaces, m).flatMap((g) => g.members))
          for (const p of brute) expect(candidates.has(p)).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('updated in place, equals the index built from scratch over the same pods', () => {
    const step = fc.record({ add: fc.boolean(), at: fc.nat() })
    fc.assert(
      fc.property(
        seed,
        fc.array(variant, { maxLength: 12 }),
        fc.array(step, { maxLength: 40 }),
        (s, variants, steps) => {
          const cluster = randomCluster(s, { maxPods: 24, maxPolicies: 8 })
          const pool = vary(cluster, variants)
          const namespaces = buildNamespaceIndex(cluster.namespaces)
          let current = pool.filter((_, i) => i % 2 === 0)
          const index = buildPodIndex(current, (p) => p)
          for (const { add, at } of steps) {
            if (add || current.length === 0) {
              const p = pool[at % pool.length] as Pod
              addToPodIndex(index, p)
              current = [...current, p]
            } else {
              const p = current[at % current.length] as Pod
              removeFromPodIndex(index, p)
              current = current.filter((_, i) => i !== at % current.length)
            }
          }
          const fresh = buildPodIndex(current, (p) => p)
          expect(shape(index)).toEqual(shape(fresh))
          for (const m of selectorPeers(cluster))
            expect(names(selectPods(index, namespaces, m))).toEqual(names(selectPods(fresh, namespaces, m)))
          for (const p of [...current]) removeFromPodIndex(index, p)
          expect(index.all).toEqual([])
          expect(index.byLabel.size + index.byNamespace.size + index.roots.size).toBe(0)
        },
      ),
      { numRuns: 300 },
    )
  })
})
