/**
 * ClusterNetworkPolicy cost in the analyzer (`node dist/bench/cluster-policies.js`): a realistic cluster
 * (1,000 pods, 100 NetworkPolicies) with 0, 10 and 100 Admin ClusterNetworkPolicies (3 rules each: a
 * Pass from the namespace itself, an Accept on a port, a Deny of a CIDR) and one Baseline default deny.
 * Reports the full matrix for 3 ports (fast path) and 20,000 per-pair evaluations. Figures are for
 * comparison on one machine: quote ratios, not absolutes.
 */
import { stringify } from 'yaml'
import { buildIndex, computeMatrix, evaluate, matrixPods } from '../src/engine/index.js'
import { realisticManifests } from '../src/gen/realistic-cluster.js'
import { loadCluster } from '../src/load/index.js'

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6

function clusterPolicies(n: number, namespaces: readonly string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (let i = 0; i < n; i++) {
    const ns = namespaces[i % namespaces.length] as string
    out.push({
      apiVersion: 'policy.networking.k8s.io/v1beta1',
      kind: 'ClusterNetworkPolicy',
      metadata: { name: `admin-${i}` },
      spec: {
        tier: 'Admin',
        priority: i % 1000,
        subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': ns } } },
        ingress: [
          { action: 'Pass', from: [{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': ns } } }] },
          {
            action: 'Accept',
            from: [{ namespaces: {} }],
            protocols: [{ tcp: { destinationPort: { number: 8080 + (i % 5) } } }],
          },
        ],
        egress: [{ action: 'Deny', to: [{ networks: [`169.254.${i % 256}.0/24`] }] }],
      },
    })
  }
  out.push({
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name: 'baseline' },
    spec: {
      tier: 'Baseline',
      priority: 0,
      subject: { namespaces: {} },
      ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }],
    },
  })
  return out
}

const docs = realisticManifests({ pods: 1000, policies: 100, seed: 42 })
const namespaces = [
  ...new Set(docs.filter((d) => d.kind === 'Namespace').map((d) => (d.metadata as { name: string }).name)),
]
const ports = [
  { port: 80, protocol: 'TCP' as const },
  { port: 8080, protocol: 'TCP' as const },
  { port: 53, protocol: 'UDP' as const },
]
// The first round warms the JIT up; the figures are those of the second.
for (const n of [0, 0, 10, 100]) {
  const objects = n === 0 ? docs : [...docs, ...clusterPolicies(n, namespaces)]
  const loaded = loadCluster([{ file: 'c.yaml', text: objects.map((o) => stringify(o)).join('---\n') }], {
    validate: 'strict',
  })
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length > 0) throw new Error(`the generated cluster does not load: ${errors[0]?.message}`)
  const index = buildIndex(loaded.cluster)
  const pods = matrixPods(index)
  let t0 = process.hrtime.bigint()
  const m = computeMatrix(index, ports, pods)
  const matrixMs = ms(t0)
  t0 = process.hrtime.bigint()
  let allowed = 0
  for (let i = 0; i < 20000; i++) {
    const a = pods[(i * 7919) % pods.length]
    const b = pods[(i * 104729 + 13) % pods.length]
    if (!a || !b) continue
    if (
      evaluate(
        index,
        { kind: 'pod', pod: a },
        { kind: 'pod', pod: b },
        ports[i % 3] as (typeof ports)[number],
      ).allowed
    )
      allowed++
  }
  const pairMs = ms(t0)
  process.stdout.write(
    `${n} Admin CNPs (+${n === 0 ? 0 : 1} Baseline): ${pods.length} pods, ${m.stats.classes} classes; matrix x3 ports ${matrixMs.toFixed(0)} ms; 20k pair evaluations ${pairMs.toFixed(0)} ms (${allowed} allowed)\n`,
  )
}
