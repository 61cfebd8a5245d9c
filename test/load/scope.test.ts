/**
 * A scoped load (LoadOptions.scope: check and matrix -n) equals the whole load with only the pods and
 * NetworkPolicies of other namespaces taken out: same namespaces, nodes (their addresses come from every
 * pod), workloads, ClusterNetworkPolicies, and the same diagnostics in the same order.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { buildIndex, evaluate } from '../../src/engine/index.js'
import { randomCluster } from '../../src/gen/random-cluster.js'
import { clusterManifests } from '../../src/lab/manifests.js'
import { type LoadedClusterState, loadClusterState, type ValidationMode } from '../../src/load/index.js'
import type { InputText } from '../../src/load/parse.js'
import type { ClusterState } from '../../src/model/index.js'

const root = new URL('../../', import.meta.url).pathname

/** Every .yaml/.yml/.json file under a folder, in name order. */
function filesUnder(dir: string): InputText[] {
  const out: InputText[] = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...filesUnder(path))
    else if (/\.(ya?ml|json)$/.test(name))
      out.push({ file: path.slice(root.length), text: readFileSync(path, 'utf8') })
  }
  return out
}

const load = (inputs: readonly InputText[], mode: ValidationMode, namespaces?: readonly string[]) =>
  loadClusterState(inputs, {
    validate: mode,
    ...(namespaces ? { scope: { namespaces: new Set(namespaces) } } : {}),
  })

/** What a scoped load must give: the whole load without the pods and policies of other namespaces. */
function restricted(whole: ClusterState, namespaces: readonly string[]): ClusterState {
  const keep = new Set(namespaces)
  return {
    ...whole,
    pods: whole.pods.filter((p) => keep.has(p.namespace)),
    policies: whole.policies.filter((p) => keep.has(p.namespace)),
  }
}

/** Compares diagnostics as they print (their sources' getters read). */
const plain = (l: LoadedClusterState) => JSON.parse(JSON.stringify(l.diagnostics))

function expectScopedEqualsWhole(
  inputs: readonly InputText[],
  mode: ValidationMode,
  namespaces: string[],
): void {
  const whole = load(inputs, mode)
  const scoped = load(inputs, mode, namespaces)
  const expected = restricted(whole.cluster, namespaces)
  expect(scoped.cluster).toEqual(expected)
  expect(plain(scoped)).toEqual(plain(whole))
  const hostNetwork = (c: ClusterState) => c.pods.filter((p) => p.hostNetwork).length
  expect(scoped.leftOut).toEqual({
    pods: whole.cluster.pods.length - expected.pods.length,
    hostNetworkPods: hostNetwork(whole.cluster) - hostNetwork(expected),
    policies: whole.cluster.policies.length - expected.policies.length,
  })
}

/** The scopes tried on an input: none, each namespace alone, pairs of neighbours, one that is nowhere. */
function scopesOf(cluster: ClusterState): string[][] {
  const names = cluster.namespaces.map((n) => n.name)
  return [
    [],
    ['no-such-namespace'],
    ...names.map((n) => [n]),
    ...names.slice(1).map((n, i) => [names[i] as string, n]),
  ]
}

/**
 * The cases a scope must not change: objects of a namespace before its Namespace (raw kept for the
 * implied-namespace diagnostic), a namespace never declared, a pod defined twice across the input, a
 * terminated pod, a hostNetwork pod and a pod's hostIPs (the node's addresses), pods owned by a
 * ReplicaSet of a Deployment (the Deployment has pods: no representative), a Deployment whose
 * representative meets a real pod of its name, an idle Deployment, and a policy the validator refuses.
 */
const EDGES = `
apiVersion: v1
kind: Pod
metadata: { name: early, namespace: far, labels: { app: early } }
spec: { nodeName: n1, containers: [{ name: c, image: i, ports: [{ containerPort: 80 }] }] }
status: { phase: Running, podIP: 10.0.0.1, hostIP: 192.168.0.1 }
---
apiVersion: v1
kind: Namespace
metadata: { name: far, labels: { team: far } }
---
apiVersion: v1
kind: Namespace
metadata: { name: near, labels: { team: near } }
---
apiVersion: v1
kind: Pod
metadata: { name: host, namespace: far }
spec: { nodeName: n2, hostNetwork: true, containers: [{ name: c, image: i }] }
status: { phase: Running, podIP: 192.168.0.2, podIPs: [{ ip: 192.168.0.2 }], hostIP: 192.168.0.2 }
---
apiVersion: v1
kind: Pod
metadata: { name: done, namespace: far }
spec: { nodeName: n1, containers: [{ name: c, image: i }] }
status: { phase: Succeeded, podIP: 10.0.0.9 }
---
apiVersion: v1
kind: Pod
metadata: { name: stray, namespace: undeclared }
spec: { containers: [{ name: c, image: i }] }
status: { phase: Running, podIP: 10.0.0.3 }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: far }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: c, image: i, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d9f
  namespace: far
  ownerReferences: [{ apiVersion: apps/v1, kind: Deployment, name: web, uid: u1, controller: true }]
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: c, image: i }] }
---
apiVersion: v1
kind: Pod
metadata:
  name: web-5d9f-abcde
  namespace: far
  labels: { app: web, pod-template-hash: 5d9f }
  ownerReferences: [{ apiVersion: apps/v1, kind: ReplicaSet, name: web-5d9f, uid: u2, controller: true }]
spec: { nodeName: n1, containers: [{ name: c, image: i }] }
status: { phase: Running, podIP: 10.0.0.4 }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: shadow, namespace: far }
spec:
  selector: { matchLabels: { app: shadow } }
  template:
    metadata: { labels: { app: shadow } }
    spec: { containers: [{ name: c, image: i }] }
---
apiVersion: v1
kind: Pod
metadata: { name: shadow, namespace: far, labels: { app: shadow } }
spec: { containers: [{ name: c, image: i }] }
status: { phase: Running, podIP: 10.0.0.5 }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: idle, namespace: far }
spec:
  replicas: 0
  selector: { matchLabels: { app: idle } }
  template:
    metadata: { labels: { app: idle } }
    spec: { containers: [{ name: c, image: i }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: near }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec: { containers: [{ name: c, image: i, ports: [{ containerPort: 9090 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: near, labels: { app: client } }
spec: { nodeName: n2, containers: [{ name: c, image: i }] }
status: { phase: Running, podIP: 10.0.1.1, hostIPs: [{ ip: 192.168.0.2 }] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: deny, namespace: far }
spec: { podSelector: {}, policyTypes: [Ingress, Egress] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: broken, namespace: far }
spec: { podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: from-far, namespace: near }
spec:
  podSelector: { matchLabels: { app: api } }
  ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: far } } }] }]
---
apiVersion: v1
kind: Pod
metadata: { name: early, namespace: far, labels: { app: early, again: "yes" } }
spec: { nodeName: n3, containers: [{ name: c, image: i }] }
status: { phase: Running, podIP: 10.0.0.6, hostIP: 192.168.0.3 }
---
apiVersion: v1
kind: Node
metadata: { name: n1 }
status: { addresses: [{ type: InternalIP, address: 192.168.0.1 }] }
`

describe('a scoped load is the whole load without the pods and policies of other namespaces', () => {
  const edges: InputText[] = [{ file: 'edges.yaml', text: EDGES }]

  it('on the edge cases, in every validation mode and for every scope', () => {
    const whole = load(edges, 'warn').cluster
    // The input exercises what it claims to (so that the comparison below means something).
    expect(whole.pods.map((p) => `${p.namespace}/${p.name}`)).toEqual([
      'far/early',
      'far/host',
      'far/shadow',
      'far/web-5d9f-abcde',
      'near/api',
      'near/client',
      'undeclared/stray',
    ])
    expect(whole.nodes?.map((n) => `${n.name}=${n.addresses.join(',')}`)).toEqual([
      'n1=192.168.0.1',
      'n2=192.168.0.2',
      'n3=192.168.0.3',
    ])
    const codes = load(edges, 'warn').diagnostics.map((d) => d.code)
    for (const code of [
      'load.duplicate-object',
      'load.terminal-pod',
      'load.implied-namespace',
      'load.workload-pod-shadowed',
      'load.workload-idle',
      'load.workload-has-pods',
    ])
      expect(codes).toContain(code)
    for (const mode of ['strict', 'warn', 'ignore', 'lenient'] as const)
      for (const scope of [...scopesOf(whole), ['far', 'undeclared'], ['near', 'undeclared']])
        expectScopedEqualsWhole(edges, mode, scope)
  })

  it('on the examples and the loader fixtures', () => {
    const sets = [
      ...readdirSync(join(root, 'examples'))
        .filter((d) => statSync(join(root, 'examples', d)).isDirectory())
        .map((d) => filesUnder(join(root, 'examples', d))),
      ...filesUnder(join(root, 'test/load/fixtures')).map((f) => [f]),
    ]
    expect(sets.length).toBeGreaterThan(10)
    for (const inputs of sets) {
      const whole = load(inputs, 'warn').cluster
      for (const scope of scopesOf(whole)) expectScopedEqualsWhole(inputs, 'warn', scope)
    }
  })

  it('on random clusters, and their verdicts between pods of the scope are the whole cluster verdicts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.nat(), (seed, pick) => {
        const generated = randomCluster(seed, { maxPods: 8, maxPolicies: 6, clusterPolicies: 2 })
        const text = clusterManifests(generated)
          .map((d) => stringify(d))
          .join('---\n')
        const inputs = [{ file: 'random.yaml', text }]
        const whole = load(inputs, 'warn')
        const names = whole.cluster.namespaces.map((n) => n.name)
        const scope = [names[pick % names.length] as string, names[(pick >> 3) % names.length] as string]
        expectScopedEqualsWhole(inputs, 'warn', scope)
        const scoped = load(inputs, 'warn', scope)
        const wholeIndex = buildIndex(whole.cluster)
        const scopedIndex = buildIndex(scoped.cluster)
        for (const a of scoped.cluster.pods)
          for (const b of scoped.cluster.pods)
            for (const port of [
              { port: 80, protocol: 'TCP' as const },
              { port: 53, protocol: 'UDP' as const },
            ])
              expect(evaluate(scopedIndex, { kind: 'pod', pod: a }, { kind: 'pod', pod: b }, port)).toEqual(
                evaluate(wholeIndex, { kind: 'pod', pod: a }, { kind: 'pod', pod: b }, port),
              )
      }),
      { numRuns: 150 },
    )
  })
})
