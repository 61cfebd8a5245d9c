/** Sloppy CIDR forms the API server accepts reach the engine as the network they denote (docs/semantics.md#ipblock-cidr-forms). */
import { describe, expect, it } from 'vitest'
import { buildIndex, evaluate, resolveEndpoint } from '../../src/engine/index.js'
import { loadCluster } from '../../src/load/index.js'

const text = `
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
status: {podIP: 10.9.0.1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock:
        cidr: 010.0.0.1/8
        except: [10.1.2.3/16]
`

describe('ipBlock CIDR canonical form', () => {
  const loaded = loadCluster([{ file: 'p.yaml', text }], { validate: 'strict' })
  it('is accepted as the API server accepts it', () => {
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  })
  it('is stored as the network it denotes', () => {
    expect(loaded.cluster.policies[0]?.ingress[0]?.peers?.[0]?.ipBlock).toEqual({
      cidr: '10.0.0.0/8',
      except: ['10.1.0.0/16'],
    })
  })
  it.each([
    ['10.2.3.4', true],
    ['10.1.9.9', false],
    ['11.0.0.1', false],
  ])('a connection from %s is allowed: %s', (ip, allowed) => {
    const index = buildIndex(loaded.cluster)
    const v = evaluate(index, resolveEndpoint(index, ip) as never, resolveEndpoint(index, 'a/web') as never, {
      port: 80,
      protocol: 'TCP',
    })
    expect(v.allowed).toBe(allowed)
  })
})
