/**
 * Analyzer benchmark (`npm run bench`): generated clusters with realistic shapes at 1k/100, 10k/1k and
 * 10k/2k (pods/policies). Each size runs in its own process so peak memory is that size's alone.
 * Reports parse, classes, full matrix for one port, peak RSS, and `palisade check` wall time including
 * process start. Figures are for comparison on one machine: quote ratios, not absolutes.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { buildClasses, buildIndex, computeMatrix, matrixPods } from '../src/engine/index.js'
import { realisticManifests } from '../src/gen/realistic-cluster.js'
import { loadCluster } from '../src/load/index.js'

const SIZES: readonly [number, number][] = [
  [1000, 100],
  [10000, 1000],
  [10000, 2000],
]
const bin = fileURLToPath(new URL('../../bin/palisade.js', import.meta.url))

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6

/** Writes the generated manifests as one multi-document YAML file and returns its path. */
function writeManifests(
  dir: string,
  pods: number,
  policies: number,
): { file: string; from: string; to: string } {
  const docs = realisticManifests({ pods, policies, seed: 42 })
  const file = join(dir, `cluster-${pods}-${policies}.yaml`)
  writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'))
  const keys = docs
    .filter((d) => d.kind === 'Pod')
    .map((d) => {
      const meta = d.metadata as { namespace: string; name: string }
      return `${meta.namespace}/${meta.name}`
    })
  return { file, from: keys[2] as string, to: keys[keys.length - 1] as string }
}

/** Child mode: measures one size and prints a JSON line. */
async function child(file: string): Promise<void> {
  const { readFileSync } = await import('node:fs')
  let t0 = process.hrtime.bigint()
  const text = readFileSync(file, 'utf8')
  const loaded = loadCluster([{ file, text }], { validate: 'strict' })
  const parseMs = ms(t0)
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error').length
  t0 = process.hrtime.bigint()
  const index = buildIndex(loaded.cluster)
  const pods = matrixPods(index)
  const { classes } = buildClasses(index, pods)
  const classesMs = ms(t0)
  t0 = process.hrtime.bigint()
  const m = computeMatrix(index, [{ port: 8080, protocol: 'TCP' }], pods)
  const matrixMs = ms(t0)
  let allowed = 0
  for (const c of m.cells[0] as Uint8Array) allowed += c
  const maxRssMiB = process.resourceUsage().maxRSS / 1024
  process.stdout.write(
    `${JSON.stringify({ pods: pods.length, policies: loaded.cluster.policies.length, errors, classes: classes.length, parseMs, classesMs, matrixMs, cells: pods.length ** 2, allowed, maxRssMiB })}\n`,
  )
}

/** Wall time of a process, in ms. */
function timeProcess(args: readonly string[], ok: (status: number | null) => boolean): number {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' })
  const took = ms(t0)
  if (!ok(r.status)) throw new Error(`${args.join(' ')} failed: ${r.stderr}`)
  return took
}

const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/**
 * Times `palisade check` as a user runs it (process start included) and `node -e 0` in the same moment,
 * interleaved, median of 7: the ratio says more than the absolute figure on a busy machine.
 */
function timeCheck(file: string, from: string, to: string): { check: number; node: number } {
  const checks: number[] = []
  const nodes: number[] = []
  for (let i = 0; i < 7; i++) {
    nodes.push(timeProcess(['-e', '0'], (s) => s === 0))
    checks.push(
      timeProcess(
        [bin, 'check', file, '--from', from, '--to', to, '--port', '8080/TCP'],
        (s) => s === 0 || s === 1,
      ),
    )
  }
  return { check: median(checks), node: median(nodes) }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3] as string)
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-'))
  try {
    process.stdout.write(
      `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}\n\n`,
    )
    process.stdout.write(
      '| pods / policies | classes | parse | classes | matrix (1 port, all pairs) | peak RSS | check (wall, incl. start) | `node -e 0` |\n',
    )
    process.stdout.write('|---|---|---|---|---|---|---|---|\n')
    for (const [pods, policies] of SIZES) {
      const { file, from, to } = writeManifests(dir, pods, policies)
      const out = execFileSync(
        process.execPath,
        ['--max-old-space-size=4096', fileURLToPath(import.meta.url), '--child', file],
        { encoding: 'utf8' },
      )
      const r = JSON.parse(out.trim().split('\n').pop() as string)
      const check = timeCheck(file, from, to)
      process.stdout.write(
        `| ${pods} / ${policies} | ${r.classes} | ${(r.parseMs / 1000).toFixed(2)} s | ${r.classesMs.toFixed(0)} ms | ${(r.matrixMs / 1000).toFixed(2)} s (${(r.cells / 1e6).toFixed(0)}M cells, ${((100 * r.allowed) / r.cells).toFixed(0)}% allowed) | ${r.maxRssMiB.toFixed(0)} MiB | ${(check.check / 1000).toFixed(2)} s (${(check.check / check.node).toFixed(1)}x) | ${(check.node / 1000).toFixed(2)} s |\n`,
      )
      if (r.errors > 0) process.stdout.write(`  (warning: ${r.errors} load errors in the generated input)\n`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
