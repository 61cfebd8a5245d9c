import { describe, expect, it } from 'vitest'
import { antreaShapeCounts, antreaShapeManifests } from '../../src/gen/antrea-shape.js'
import { loadCluster } from '../../src/load/index.js'

describe('antreaShapeManifests', () => {
  const opts = { namespaces: 40, pods: 170, nodes: 3 }
  const docs = [...antreaShapeManifests(opts)]
  const count = (kind: string) => docs.filter((d) => d.kind === kind).length

  it('produces the counts it reports', () => {
    const c = antreaShapeCounts(opts)
    expect([count('Namespace'), count('Pod'), count('NetworkPolicy'), count('Node')]).toEqual([
      c.namespaces,
      c.pods,
      c.policies,
      c.nodes,
    ])
  })

  it('is deterministic', () => {
    expect(JSON.stringify([...antreaShapeManifests(opts)])).toBe(JSON.stringify(docs))
  })

  it('gives every pod a distinct address inside its node range', () => {
    const ips = new Set<string>()
    for (const d of docs.filter((x) => x.kind === 'Pod')) {
      const ip = (d.status as { podIP: string }).podIP
      const node = Number((d.spec as { nodeName: string }).nodeName.slice(5))
      expect(ip.startsWith(`10.${128 + node}.`)).toBe(true)
      ips.add(ip)
    }
    expect(ips.size).toBe(count('Pod'))
  })

  it('loads without an error or warning', () => {
    const text = docs.map((d) => JSON.stringify(d)).join('\n---\n')
    const { cluster, diagnostics } = loadCluster([{ file: 'shape.yaml', text }], { validate: 'strict' })
    expect(diagnostics.filter((d) => d.severity !== 'info')).toEqual([])
    expect(cluster.pods.length).toBe(count('Pod'))
    expect(cluster.policies.length).toBe(count('NetworkPolicy'))
  })
})
