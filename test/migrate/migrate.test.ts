import { readFile } from 'node:fs/promises'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { buildIndex, computeMatrix, diffMatrices, evaluate, matrixPods } from '../../src/engine/index.js'
import { randomCluster } from '../../src/gen/random-cluster.js'
import { clusterManifests } from '../../src/lab/manifests.js'
import { loadCluster } from '../../src/load/index.js'
import { boundaryPorts, migrateInputs, proveMigration } from '../../src/migrate/index.js'
import { podKey } from '../../src/model/index.js'
import { runCli } from '../cli/run.js'
import { expectGolden } from '../golden.js'

const fixture = async (name: string) => {
  const file = `test/migrate/fixtures/${name}.yaml`
  return { file, text: await readFile(file, 'utf8') }
}

const seeds = [
  {
    name: 'seed 000: DefaultDeny annotation and a v1beta1 policy',
    fixture: 'seed-000-annotation',
    changes: 2,
  },
  { name: "seed 002: kube-router's five v1beta1 policies", fixture: 'seed-002-kube-router', changes: 5 },
]

describe('migrateInputs', () => {
  it.each(seeds)('$name migrate to v1 with an unchanged matrix', async ({ fixture: name, changes }) => {
    const input = await fixture(name)
    const result = migrateInputs([input])
    expect(result.diagnostics).toEqual([])
    expect(result.changes).toHaveLength(changes)
    const out = String(result.files[0]?.text ?? '')
    expect(out).not.toMatch(/^apiVersion: extensions\/v1beta1/m)
    expect(out).not.toMatch(/^ +net\.beta\.kubernetes\.io\/network-policy:/m)
    await expectGolden(`migrate/${name}.yaml`, out)
    const loaded = loadCluster(result.files, { validate: 'strict' })
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    expect(
      loaded.cluster.policies.every(
        (p) => p.origin.kind === 'NetworkPolicy' && p.origin.apiVersion === 'networking.k8s.io/v1',
      ),
    ).toBe(true)
    const proof = proveMigration([input], result.files)
    expect(proof.diffs).toEqual([])
    expect(proof.equal).toBe(true)
    expect(proof.pods).toBe(loaded.cluster.pods.length)
  })

  it('keeps comments of the rewritten documents', async () => {
    const out = String(migrateInputs([await fixture('seed-002-kube-router')]).files[0]?.text ?? '')
    expect(out).toContain('# 3. only pods of namespaces labelled app=nsb, on 6379/TCP')
  })

  it('migrating the output again changes nothing', async () => {
    const once = migrateInputs([await fixture('seed-000-annotation')]).files
    const twice = migrateInputs(once)
    expect(twice.changes).toEqual([])
    expect(twice.files[0]?.text).toBe(once[0]?.text)
  })

  it('picks another name when default-deny-ingress already exists', () => {
    const text = `apiVersion: v1
kind: Namespace
metadata:
  name: a
  annotations:
    net.beta.kubernetes.io/network-policy: '{"ingress":{"isolation":"DefaultDeny"}}'
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress, namespace: a}
spec: {podSelector: {matchLabels: {x: y}}}
`
    const result = migrateInputs([{ file: 'a.yaml', text }])
    expect(result.files[0]?.text).toContain('name: default-deny-ingress-2')
  })

  it('leaves an annotation that is not DefaultDeny alone, with a warning', () => {
    const text = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  annotations:\n    net.beta.kubernetes.io/network-policy: '{"ingress":{"isolation":"None"}}'\n`
    const result = migrateInputs([{ file: 'a.yaml', text }])
    expect(result.changes).toEqual([])
    expect(result.diagnostics.map((d) => d.code)).toEqual(['migrate.annotation-kept'])
    expect(result.files[0]?.text).toBe(text)
  })
})

describe('proveMigration', () => {
  it('finds the cells a wrong migration changes (the deny policy dropped)', async () => {
    const input = await fixture('seed-000-annotation')
    const migrated = String(migrateInputs([input]).files[0]?.text ?? '')
    const broken = migrated
      .replace('name: default-deny-ingress', 'name: default-deny-ingress\n  labels: {x: y}')
      .replace(
        /podSelector: \{\}\n {2}policyTypes:\n {2}- Ingress/,
        'podSelector: {matchLabels: {nobody: here}}\n  policyTypes:\n  - Ingress',
      )
    expect(broken).not.toBe(migrated)
    const proof = proveMigration([input], [{ file: 'broken.yaml', text: broken }])
    expect(proof.equal).toBe(false)
    expect(
      proof.diffs.some((d) => d.to === 'test/busybox-3674381263-0solq' && d.expected === 0 && d.actual === 1),
    ).toBe(true)
  })

  it('checks every port boundary of every rule and one unnamed port per protocol', () => {
    const text = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 8000, endPort: 8080, protocol: TCP}]}]
`
    const { cluster } = loadCluster([{ file: 'p.yaml', text }], { validate: 'strict' })
    const ports = boundaryPorts([cluster]).map((p) => `${p.port}/${p.protocol}`)
    expect(ports).toEqual(['1/SCTP', '1/TCP', '1/UDP', '8000/TCP', '8081/TCP'])
  })

  it('the migrated seed 000 still admits access=true and denies the rest', async () => {
    const out = migrateInputs([await fixture('seed-000-annotation')]).files
    const index = buildIndex(loadCluster(out, { validate: 'strict' }).cluster)
    const pod = (name: string) => ({ kind: 'pod' as const, pod: index.podsByKey.get(name)! })
    const port = { port: 80, protocol: 'TCP' as const }
    expect(
      evaluate(index, pod('test/busybox-3554646944-irgeg'), pod('test/nginx-701339712-wcim9'), port).allowed,
    ).toBe(true)
    expect(
      evaluate(index, pod('test/busybox-3674381263-0solq'), pod('test/nginx-701339712-wcim9'), port).allowed,
    ).toBe(false)
    expect(
      evaluate(index, pod('test/nginx-701339712-wcim9'), pod('test/busybox-3674381263-0solq'), port).allowed,
    ).toBe(false)
  })
})

describe('palisade migrate', () => {
  it('prints both seeds as one stream and proves the matrix unchanged', async () => {
    const r = await runCli([
      'migrate',
      'test/migrate/fixtures/seed-000-annotation.yaml',
      'test/migrate/fixtures/seed-002-kube-router.yaml',
    ])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/matrix unchanged \(\d+ pods x \d+ ports\)/)
    await expectGolden('migrate/cli-both.yaml', r.stdout)
    await expectGolden('migrate/cli-both.stderr.txt', r.stderr)
    const reloaded = loadCluster([{ file: 'out.yaml', text: r.stdout }], { validate: 'strict' })
    expect(reloaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    expect(reloaded.cluster.pods).toHaveLength(9)
  })
})

describe('proveMigration over classes', () => {
  it('finds exactly the cells a pod-by-pod comparison of the full matrices finds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (seed, cut) => {
          const cluster = randomCluster(seed, { maxPods: 10, maxPolicies: 5 })
          // Replicas: pods that share a class, so that cells between two pods of one class count too.
          const docs = clusterManifests(cluster).flatMap((d) => {
            if (d.kind !== 'Pod' || seed % 3 === 0) return [d]
            const meta = d.metadata as { name: string }
            return [d, { ...d, metadata: { ...meta, name: `${meta.name}-replica` }, status: {} }]
          })
          // The "migrated" set loses one policy or one namespace annotation, or nothing.
          const drop = cut % (docs.length + 1)
          const other = docs.filter(
            (d, i) => i !== drop || (d.kind !== 'NetworkPolicy' && d.kind !== 'Namespace'),
          )
          const render = (ds: Record<string, unknown>[]) =>
            ds
              .map((d) => stringify(d, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' }))
              .join('---\n')
          const original = [{ file: 'a.yaml', text: render(docs) }]
          const migrated = [{ file: 'a.yaml', text: render(other) }]
          const proof = proveMigration(original, migrated, 'warn')
          const a = loadCluster(original, { validate: 'warn' }).cluster
          const b = loadCluster(migrated, { validate: 'warn' }).cluster
          const ports = boundaryPorts([a, b])
          const ia = buildIndex(a)
          const ib = buildIndex(b)
          const full = diffMatrices(
            computeMatrix(ia, ports),
            computeMatrix(
              ib,
              ports,
              matrixPods(ia).map((p) => ib.podsByKey.get(podKey(p))!),
            ),
          )
          expect(proof.differing).toBe(full.length)
          expect(proof.diffs).toEqual(full.slice(0, 1000))
          expect(proof.equal).toBe(full.length === 0 && proof.newErrors.length === 0)
        },
      ),
      { numRuns: 150 },
    )
  })
})
