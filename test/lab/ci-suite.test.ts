/**
 * What CI proves in the kernel on every commit (issue 5): every example in both lab modes with nftables
 * and with both iptables variants, every example enforced by real agent processes and in an IPv6 lab, every upstream e2e conformance case on nftables and iptables, and a
 * bounded fuzz run with a fixed seed. Each run builds its own lab (unique prefix) and tears it down.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  fuzzLab,
  type LabBackend,
  type LabMode,
  type VerifyOptions,
  verifyCluster,
} from '../../src/lab/index.js'
import { type InputText, loadCluster } from '../../src/load/index.js'
import { caseInputs, listConformanceCases } from '../conformance/cases.js'
import { hasCommand, labSkipReason } from './helpers.js'

const skip =
  labSkipReason() ??
  (hasCommand('nft') && hasCommand('iptables-legacy') ? undefined : 'nft or iptables-legacy missing')
const root = new URL('../../examples/', import.meta.url).pathname
// The agent runs as its own process from dist/ (built by `npm ci`).
const built = existsSync(new URL('../../dist/src/cli/main.js', import.meta.url))

function readTree(...paths: string[]): InputText[] {
  const out: InputText[] = []
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e))
    else if (/\.(ya?ml|json)$/.test(p)) out.push({ file: p, text: readFileSync(p, 'utf8') })
  }
  for (const p of paths) walk(join(root, p))
  return out
}

const EXAMPLES: { name: string; paths: string[] }[] = [
  { name: 'seed-000', paths: ['seed-000-calico-defaultdeny'] },
  { name: 'seed-001', paths: ['seed-001-testing'] },
  {
    name: 'seed-002 case 3',
    paths: ['seed-002-kube-router/cluster.yaml', 'seed-002-kube-router/case-3-nsb-to-6379'],
  },
  {
    name: 'seed-002 case 4',
    paths: ['seed-002-kube-router/cluster.yaml', 'seed-002-kube-router/case-4-egress-cidr'],
  },
  {
    name: 'seed-002 case 5',
    paths: ['seed-002-kube-router/cluster.yaml', 'seed-002-kube-router/case-5-ingress-cidr'],
  },
  { name: 'seed-003', paths: ['seed-003-kind-calico'] },
  { name: 'seed-004', paths: ['seed-004-linuxea'] },
]
const CONFIGS: { mode: LabMode; backend: LabBackend }[] = [
  { mode: 'routed', backend: 'nftables' },
  { mode: 'bridge', backend: 'nftables' },
  { mode: 'routed', backend: 'iptables-nft' },
  { mode: 'bridge', backend: 'iptables-legacy' },
]

const wrong = (r: Awaited<ReturnType<typeof verifyCluster>>) =>
  r.mismatches.map((m) => `${m.port} ${m.from} -> ${m.to}: engine ${m.expected ? 'allows' : 'denies'}`)

describe.skipIf(skip)('lab: examples in the kernel', () => {
  const rows = EXAMPLES.flatMap((e) => CONFIGS.map((c) => ({ ...e, ...c })))
  it.each(rows)(
    '$name, $mode, $backend',
    async ({ paths, mode, backend }) => {
      const loaded = loadCluster(readTree(...paths), { validate: 'strict' })
      expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
      const r = await verifyCluster(loaded.cluster, { mode, backend })
      expect(r.observed.probes).toBeGreaterThan(0)
      expect(wrong(r)).toEqual([])
    },
    120_000,
  )
})

/** Every example on routed nftables and bridge iptables-nft, with extra verify options. */
function examplesWith(extra: Pick<VerifyOptions, 'family' | 'agents'>) {
  const rows = EXAMPLES.flatMap((e) =>
    (
      [
        { mode: 'routed', backend: 'nftables' },
        { mode: 'bridge', backend: 'iptables-nft' },
      ] as const
    ).map((c) => ({ ...e, ...c })),
  )
  it.each(rows)(
    '$name, $mode, $backend',
    async ({ paths, mode, backend }) => {
      const loaded = loadCluster(readTree(...paths), { validate: 'strict' })
      const r = await verifyCluster(loaded.cluster, { mode, backend, ...extra })
      expect(r.observed.probes).toBeGreaterThan(0)
      expect(wrong(r)).toEqual([])
    },
    120_000,
  )
}

describe.skipIf(skip)('lab: examples in an IPv6 lab (every address IPv6)', () => examplesWith({ family: 6 }))

describe.skipIf(skip || !built)(
  'lab: examples enforced by palisade agent processes (one per node, --from-dir)',
  () => examplesWith({ agents: true }),
)

describe.skipIf(skip)('lab: upstream e2e conformance cases in the kernel', () => {
  const cases = listConformanceCases().filter((c) => !c.skip)
  const rows = cases.flatMap((c) =>
    (['nftables', 'iptables-nft'] as const).map((backend) => ({ title: c.title, c, backend })),
  )
  it.each(rows)(
    '$title ($backend)',
    async ({ c, backend }) => {
      const loaded = loadCluster(caseInputs(c), { validate: 'strict' })
      const r = await verifyCluster(loaded.cluster, {
        mode: 'routed',
        backend,
        ports: c.ports.filter((p) => p.protocol !== 'SCTP'),
      })
      expect(wrong(r)).toEqual([])
    },
    120_000,
  )
})

describe.skipIf(skip)('lab: differential fuzzing', () => {
  it('20 random clusters (seed 2026) compile, load and probe exactly as the engine predicts', async () => {
    const report = await fuzzLab({
      seed: 2026,
      cases: 20,
      mode: 'routed',
      backend: 'nftables',
      outDir: join(root, '../test/lab/regressions'),
    })
    expect(report.failures.map((f) => f.seed)).toEqual([])
  }, 600_000)
})
