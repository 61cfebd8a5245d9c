import { describe, expect, it } from 'vitest'
import { buildIndex, CELL_ALLOWED, computeMatrix, declaredPorts } from '../../src/engine/index.js'
import { randomCluster } from '../../src/gen/random-cluster.js'
import {
  fuzzLab,
  labPorts,
  planLab,
  renderClusterYAML,
  shrinkCluster,
  shrinkSteps,
} from '../../src/lab/index.js'
import { loadCluster } from '../../src/load/index.js'
import type { ClusterState } from '../../src/model/index.js'
import { smallCluster } from './helpers.js'

function reload(c: ClusterState): ClusterState {
  const loaded = loadCluster([{ file: 'case.yaml', text: renderClusterYAML(c) }], { validate: 'strict' })
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  return loaded.cluster
}

describe('lab fuzz without a kernel', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'a saved case (random cluster seed %i) loads back into the same matrix',
    (seed) => {
      const c = randomCluster(seed, { nodes: 2 })
      const back = reload(c)
      const ports = declaredPorts(c.pods)
      const a = computeMatrix(buildIndex(c), ports)
      const ib = buildIndex(back)
      const b = computeMatrix(
        ib,
        ports,
        c.pods.map((p) => ib.podsByKey.get(`${p.namespace}/${p.name}`)!),
      )
      expect(b.pods).toEqual(a.pods)
      expect(b.cells).toEqual(a.cells)
    },
  )

  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])(
    'a saved case with ClusterNetworkPolicies and Nodes (seed %i) loads back into the same matrix',
    (seed) => {
      const c = randomCluster(seed, { nodes: 2, maxPods: 8, clusterPolicies: 4 })
      // warn: a drawn peer of no known field is a schema.unknown-field error under strict (read: fail closed)
      const loaded = loadCluster([{ file: 'case.yaml', text: renderClusterYAML(c) }], { validate: 'warn' })
      expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
      const back = loaded.cluster
      expect(back.clusterPolicies?.map((p) => p.name)).toEqual(c.clusterPolicies?.map((p) => p.name))
      const ports = declaredPorts(c.pods)
      const a = computeMatrix(buildIndex(c), ports, c.pods)
      const ib = buildIndex(back)
      const b = computeMatrix(
        ib,
        ports,
        c.pods.map((p) => ib.podsByKey.get(`${p.namespace}/${p.name}`)!),
      )
      expect(b.pods).toEqual(a.pods)
      expect(b.cells).toEqual(a.cells)
    },
  )

  it('shrinking keeps removing pieces while the failure persists and stops at the smallest failing cluster', async () => {
    const c = smallCluster()
    // "fails" while the allow-frontend policy exists: everything else must be shrunk away
    const fails = async (x: ClusterState) => x.policies.some((p) => p.name === 'allow-frontend')
    const { cluster } = await shrinkCluster(c, fails, 500)
    expect(cluster.policies.map((p) => p.name)).toEqual(['allow-frontend'])
    expect(cluster.pods).toHaveLength(2)
    // every one-step-smaller cluster passes: the result is locally minimal
    for (const s of shrinkSteps(cluster)) expect(await fails(s)).toBe(false)
  })

  it('shrinking removes ClusterNetworkPolicies, their rules and peers too', async () => {
    // the first seed drawing two or more ClusterNetworkPolicies, the first of them with rules
    const c = Array.from({ length: 50 }, (_, i) =>
      randomCluster(i + 1, { nodes: 2, maxPods: 8, clusterPolicies: 4 }),
    ).find(
      (x) =>
        (x.clusterPolicies?.length ?? 0) > 1 &&
        (x.clusterPolicies?.[0]?.ingress.length ?? 0) + (x.clusterPolicies?.[0]?.egress.length ?? 0) > 0,
    ) as ClusterState
    const cnps = c.clusterPolicies ?? []
    expect(cnps.length).toBeGreaterThan(1)
    const keep = cnps[0]?.name
    // "fails" while the first ClusterNetworkPolicy exists: the others, every NetworkPolicy and extra pods go
    const fails = async (x: ClusterState) => (x.clusterPolicies ?? []).some((p) => p.name === keep)
    const { cluster } = await shrinkCluster(c, fails, 2000)
    expect(cluster.clusterPolicies?.map((p) => p.name)).toEqual([keep])
    expect(cluster.policies).toEqual([])
    const left = cluster.clusterPolicies?.[0]
    expect((left?.ingress.length ?? 0) + (left?.egress.length ?? 0)).toBe(0)
  })

  it('a failing fuzz case is saved as manifests plus expected and observed matrices', async () => {
    const dir = `/tmp/palisade-fuzz-test-${process.pid}`
    const r = await fuzzLab({
      seed: 3,
      cases: 1,
      outDir: dir,
      shrinkBudget: 5,
      // a fake kernel that allows everything: wrong wherever the engine denies
      verify: async (cluster) => {
        const plan = planLab(cluster, { prefix: 'pl0000-' })
        const m = computeMatrix(buildIndex(plan.cluster), labPorts(plan.cluster))
        const observed = { ...m, cells: m.cells.map((x) => x.map(() => CELL_ALLOWED)) }
        const mismatches = m.cells.flatMap((x, k) =>
          [...x].flatMap((v, i) =>
            v === CELL_ALLOWED
              ? []
              : [
                  {
                    port: m.ports[k]!,
                    from: m.pods[Math.floor(i / m.pods.length)]!,
                    to: m.pods[i % m.pods.length]!,
                    expected: false,
                    observed: true,
                  },
                ],
          ),
        )
        return {
          expected: m,
          observed: { full: observed, pods: observed, details: new Map(), probes: 1, wallMs: 0 },
          mismatches,
        }
      },
    })
    expect(r.failures).toHaveLength(1)
    const { readFile, rm } = await import('node:fs/promises')
    const yaml = await readFile(r.failures[0]!.files[0]!, 'utf8')
    expect(yaml).toContain('kind: "Pod"')
    expect(yaml).toMatch(/kind: "NetworkPolicy"|network-policy/)
    const json = JSON.parse(await readFile(r.failures[0]!.files[1]!, 'utf8'))
    expect(json.mismatches.length).toBeGreaterThan(0)
    await rm(dir, { recursive: true, force: true })
  })
})
