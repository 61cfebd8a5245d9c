/**
 * Loading benchmark: generated realistic clusters (1k pods/100 policies and 10k/2k) serialised as one
 * multi-document YAML, then timed through parseInput (fast path, and exact path as the reference) and
 * through loadCluster (parse + validate + normalize). Median CPU time of a few runs; figures are for
 * comparison on one machine: quote ratios, not absolutes. Run: build, then `node dist/bench/load.js`.
 */
import { stringify } from 'yaml'
import { realisticManifests } from '../src/gen/realistic-cluster.js'
import { loadCluster, parseInput } from '../src/load/index.js'

const SIZES: readonly [number, number][] = [
  [1000, 100],
  [10000, 2000],
]
const RUNS = Number(process.env.BENCH_RUNS ?? 3)

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

/** Median CPU milliseconds of f (user + system: steadier than wall time on a busy machine). */
function time(f: () => unknown, runs: number): number {
  const out: number[] = []
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage()
    f()
    const c = process.cpuUsage(c0)
    out.push((c.user + c.system) / 1000)
  }
  return median(out)
}

for (const [pods, policies] of SIZES) {
  const docs = realisticManifests({ pods, policies, seed: 42 })
  const text = docs.map((d) => stringify(d)).join('---\n')
  const input = { file: `cluster-${pods}-${policies}.yaml`, text }
  const objects = parseInput(input).objects.length
  const fastMs = time(() => parseInput(input), RUNS)
  const exactMs = time(() => parseInput(input, { exact: true }), pods > 5000 ? 1 : RUNS)
  let loaded = loadCluster([input], { validate: 'strict' })
  const loadMs = time(() => {
    loaded = loadCluster([input], { validate: 'strict' })
  }, RUNS)
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error').length
  process.stdout.write(
    `${JSON.stringify({
      pods,
      policies,
      documents: docs.length,
      objects,
      MiB: +(text.length / 2 ** 20).toFixed(2),
      parseFastMs: Math.round(fastMs),
      parseExactMs: Math.round(exactMs),
      parseSpeedup: +(exactMs / fastMs).toFixed(1),
      loadClusterMs: Math.round(loadMs),
      // loadCluster as it was before the fast path: the same work with the exact parser.
      loadClusterExactEstimateMs: Math.round(loadMs - fastMs + exactMs),
      errors,
    })}\n`,
  )
}
