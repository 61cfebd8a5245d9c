/**
 * `palisade trace` output, rendered from real recordings (test/backends/fixtures/trace) with the engine's
 * verdict for the same connection: the text and JSON a user reads, as golden files, for an allowed and a
 * denied connection across two nodes on both backends.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { explainTrace, firstMatchingTrace, getTracer, type Tracer } from '../../src/backends/index.js'
import { renderTraceReport, type TraceReport, traceJSON } from '../../src/cli/commands/trace.js'
import { readInputs } from '../../src/cli/inputs.js'
import { buildNodeIR } from '../../src/compile/index.js'
import { buildIndex, evaluate } from '../../src/engine/index.js'
import { loadCluster } from '../../src/load/index.js'
import type { Pod } from '../../src/model/index.js'
import { expectGolden } from '../golden.js'

const fixture = (name: string) =>
  readFileSync(new URL(`../backends/fixtures/trace/${name}`, import.meta.url), 'utf8')

const cases = [
  { backend: 'nftables', files: 'nft-seed-001', from: 'testing/nginx', allowed: true },
  { backend: 'nftables', files: 'nft-seed-001', from: 'default/debug', allowed: false },
  { backend: 'iptables-nft', files: 'xtables-seed-001', from: 'testing/nginx', allowed: true },
  { backend: 'iptables-nft', files: 'xtables-seed-001', from: 'default/debug', allowed: false },
] as const

describe('palisade trace: rendered report', () => {
  it.each(cases)('$backend: $from -> testing/myapp:80', async (c) => {
    const read = await readInputs(['examples/seed-001-testing'])
    const cluster = loadCluster(read.inputs, { validate: 'strict' }).cluster
    const index = buildIndex(cluster)
    const pod = (k: string) => ({ kind: 'pod' as const, pod: index.podsByKey.get(k) as Pod })
    const verdict = evaluate(index, pod(c.from), pod('testing/myapp'), { port: 80, protocol: 'TCP' })
    const match = {
      family: 4 as const,
      protocol: 'TCP' as const,
      saddr: pod(c.from).pod.ips[0] as string,
      daddr: '10.244.1.10',
      dport: 80,
    }
    const tracer = getTracer(c.backend) as Tracer
    const nodes = (['node-2', 'node-1'] as const).map((node) => {
      const raw = firstMatchingTrace(tracer.parse(fixture(`${c.files}.${node}.txt`)), match, tracer.table)
      return {
        node,
        netns: `pl178f-n${node.slice(-1)}`,
        checks: node === 'node-2' ? (['egress'] as const) : (['ingress'] as const),
        ...(raw ? { trace: explainTrace(raw, tracer.index(buildNodeIR(cluster, node))) } : {}),
      }
    })
    const kernel = nodes.some((n) => n.trace?.verdict === 'dropped') ? 'dropped' : 'accepted'
    const sources: Record<string, string> = {}
    for (const p of cluster.policies)
      for (const [dir, rules] of [
        ['ingress', p.ingress],
        ['egress', p.egress],
      ] as const)
        rules.forEach((r, i) => {
          if (r.source) sources[`${p.namespace}/${p.name} ${dir}[${i}]`] = `${r.source.file}:${r.source.line}`
        })
    const report: TraceReport = {
      from: c.from,
      to: 'testing/myapp',
      port: '80/TCP',
      backend: c.backend,
      lab: 'pl178f',
      match,
      verdict,
      expected: verdict.allowed,
      nodes,
      kernel,
      agree: (kernel === 'accepted') === verdict.allowed,
      probe: c.allowed ? 'connected (testing/myapp tcp/80)' : 'refused or lost (timeout)',
      untraced: [],
      sources,
    }
    expect(report.agree).toBe(true)
    expect(verdict.allowed).toBe(c.allowed)
    const name = `trace/seed-001.${c.backend}.${c.from.replace('/', '_')}`
    await expectGolden(`${name}.txt`, renderTraceReport(report))
    await expectGolden(`${name}.json`, `${JSON.stringify(traceJSON(report), null, 2)}\n`)
  })
})
