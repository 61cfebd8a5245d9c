/**
 * endpointNamespace: the namespace a name stands for, known before the cluster is read (check keeps only
 * the namespaces of its two endpoints). Every pod a name resolves to lives there.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildIndex, endpointNamespace, resolveEndpoints } from '../../src/engine/index.js'
import { loadClusterState } from '../../src/load/index.js'

describe('endpointNamespace', () => {
  const cases: [spec: string, namespace: string | undefined, expected: string | undefined][] = [
    ['shop/web', undefined, 'shop'],
    ['shop/web', 'other', 'shop'],
    ['shop/deploy/web', undefined, 'shop'],
    ['shop/Deployment/web', 'other', 'shop'],
    ['deploy/web', undefined, 'default'],
    ['deploy/web', 'shop', 'shop'],
    ['po/web', 'shop', 'shop'],
    ['web', undefined, 'default'],
    [' web ', 'shop', 'shop'],
    ['10.0.0.1', 'shop', undefined],
    ['10.0.0.1/32', undefined, undefined],
    ['[2001:db8::1]', undefined, undefined],
    ['2001:db8::1/128', undefined, undefined],
    ['node/worker-1', 'shop', undefined],
    ['NODES/worker-1=192.168.0.1', undefined, undefined],
    ['10.0.0.0/24', undefined, undefined],
    ['a/b/c/d', undefined, undefined],
    ['shop//web', undefined, undefined],
    ['shop/gadget/web', undefined, undefined],
  ]
  it.each(cases)('%s (-n %s) -> %s', (spec, namespace, expected) => {
    expect(endpointNamespace(spec, namespace === undefined ? {} : { namespace })).toBe(expected)
  })

  it('names the namespace of every pod a name resolves to, in a dump with workloads', () => {
    const text = readFileSync(new URL('../load/fixtures/kubectl-dump.yaml', import.meta.url), 'utf8')
    const { cluster } = loadClusterState([{ file: 'dump.yaml', text }], { validate: 'warn' })
    const index = buildIndex(cluster)
    let resolved = 0
    for (const pod of cluster.pods) {
      const owners = [...(pod.controllers ?? []), ...(pod.workload ? [pod.workload] : [])]
      const specs: [string, string | undefined][] = [
        [`${pod.namespace}/${pod.name}`, undefined],
        [`${pod.namespace}/pod/${pod.name}`, undefined],
        [pod.name, pod.namespace],
        ...owners.flatMap((o): [string, string | undefined][] => [
          [`${pod.namespace}/${o.name}`, undefined],
          [`${o.kind.toLowerCase()}/${o.name}`, pod.namespace],
        ]),
      ]
      for (const [spec, namespace] of specs) {
        const opts = namespace === undefined ? {} : { namespace }
        const r = resolveEndpoints(index, spec, opts)
        if (typeof r === 'string') continue
        resolved++
        for (const e of r.endpoints) {
          expect(e.kind).toBe('pod')
          if (e.kind === 'pod') expect(e.pod.namespace).toBe(endpointNamespace(spec, opts))
        }
      }
    }
    expect(resolved).toBeGreaterThan(cluster.pods.length * 2)
  })
})
