/**
 * `npm run fuzz -- [--time 60s] [--cases N] [--seed N] [--jobs N] [--families a,b] [--modes a,b]
 * [--hang-ms N] [--out DIR] [--shrink N] [--no-kernel] [--replay FILE]`: Palisade's own fuzzer (edge).
 * Runs until the time or case count, prints the distinct failures with a reproduction each, the figures,
 * and last the summary line `N cases, C crashes, H hangs, R missed rejections`. Exit 1 on any crash,
 * missed rejection or misread.
 */
import { rmSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { FAMILY_NAMES } from './arbitraries.js'
import { loadCorpus } from './corpus.js'
import { type FuzzReport, LocalExecutor, runFuzz, scratchDir, summaryLine } from './harness.js'
import { KernelChecker, kernelSkipReason } from './kernel.js'
import { PoolExecutor } from './pool.js'
import type { Recipe } from './recipe.js'
import { renderFigures, renderGroups, reproLine, saveExample } from './report.js'
import { withStopSignals } from './signals.js'
import { MODES } from './tables.js'

const USAGE = `usage: npm run fuzz -- [--time 60s] [--cases N] [--seed N] [--jobs N] [--families ${FAMILY_NAMES.join(',')}]
  [--modes ${MODES.join(',')}] [--hang-ms 5000] [--out fuzz-out] [--shrink 60] [--no-kernel] [--replay recipe.json]`

/** Parses 90, 90s, 5m, 1h into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!m) throw new Error(`not a duration: ${text} (e.g. 60s, 5m)`)
  const n = Number(m[1])
  const unit = m[2] ?? 's'
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h']
}

const list = (s: string | undefined): string[] | undefined =>
  s === undefined
    ? undefined
    : s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '')

/** The launcher of this checkout (dist/src/fuzz -> bin/palisade.js). */
const BIN = new URL('../../../bin/palisade.js', import.meta.url).pathname

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      time: { type: 'string' },
      cases: { type: 'string' },
      seed: { type: 'string' },
      jobs: { type: 'string' },
      families: { type: 'string' },
      modes: { type: 'string' },
      'hang-ms': { type: 'string' },
      out: { type: 'string' },
      shrink: { type: 'string' },
      'no-kernel': { type: 'boolean' },
      replay: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const families = list(values.families)
  for (const f of families ?? [])
    if (!FAMILY_NAMES.includes(f)) throw new Error(`unknown family ${f}: one of ${FAMILY_NAMES.join(', ')}`)
  const modes = list(values.modes) ?? [...MODES]
  const hangMs = Number(values['hang-ms'] ?? 5000)
  const outDir = values.out ?? 'fuzz-out'
  const tmp = await mkdtemp(join(scratchDir(), 'palisade-fuzz-'))
  // Also when the run is aborted (a second Ctrl-C or SIGTERM exits at once).
  const removeTmp = (): void => rmSync(tmp, { recursive: true, force: true })
  process.once('exit', removeTmp)
  const bases = loadCorpus()
  try {
    if (values.replay !== undefined) return await replay(values.replay, { tmp, hangMs, modes, bases })
    const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31)
    const timeMs =
      values.time !== undefined ? parseDuration(values.time) : values.cases === undefined ? 60_000 : undefined
    const cases = values.cases !== undefined ? Number(values.cases) : undefined
    const jobs = Math.max(1, Number(values.jobs ?? 1))
    await mkdir(outDir, { recursive: true })
    process.stdout.write(
      `palisade fuzz: seed ${seed}, ${timeMs !== undefined ? `${timeMs / 1000} s` : `${cases} cases`}, ${jobs} worker(s), families ${(families ?? FAMILY_NAMES).join(',')}, modes ${modes.join(',')}, hang bound ${hangMs} ms, ${bases.length} bases\n`,
    )
    let kernel: KernelChecker | undefined
    const skip = values['no-kernel'] ? '--no-kernel' : await kernelSkipReason()
    if (skip === undefined) {
      kernel = new KernelChecker()
      await kernel.start()
    } else process.stdout.write(`kernel checks off: ${skip}\n`)
    const executor = new PoolExecutor(jobs, { tmp, bin: BIN, hangMs, modes })
    const report: FuzzReport = await withStopSignals(
      (stopping) =>
        runFuzz({
          seed,
          ...(cases !== undefined ? { cases } : {}),
          ...(timeMs !== undefined ? { timeMs } : {}),
          ...(families ? { families } : {}),
          modes,
          executor,
          ...(kernel ? { kernel } : {}),
          concurrency: jobs * 2 + (kernel ? 14 : 0),
          shrinkRuns: Number(values.shrink ?? 60),
          stop: stopping,
          onExample: async (g, ex) => {
            await saveExample(outDir, g, ex, bases, modes)
          },
          progress: (r) => {
            process.stderr.write(
              `  ${(r.ms / 1000).toFixed(0)} s: ${summaryLine(r)}, ${r.misreads} misreads, ${r.groups.size} distinct (${(r.cases / (r.ms / 1000)).toFixed(0)} cases/s, ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB)\n`,
            )
            // The report so far, in case the run is stopped hard.
            void writeFile(
              join(outDir, 'report.txt'),
              `seed ${seed} (in progress)\n${renderGroups(r)}${renderFigures(r, kernel?.stats)}${summaryLine(r)}\n`,
            ).catch(() => undefined)
          },
        }),
      async () => {
        await executor.close()
        await kernel?.stop()
      },
    )
    const text = `${renderGroups(report)}${renderFigures(report, kernel?.stats)}${summaryLine(report)}\n`
    await writeFile(join(outDir, 'report.txt'), `seed ${seed}\n${text}`).catch(() => undefined)
    process.stdout.write(text)
    return report.crashes + report.missed + report.misreads > 0 ? 1 : 0
  } finally {
    process.off('exit', removeTmp)
    await rm(tmp, { recursive: true, force: true })
  }
}

/** Runs one saved recipe and prints what fails. */
async function replay(
  file: string,
  ctx: { tmp: string; hangMs: number; modes: readonly string[]; bases: ReturnType<typeof loadCorpus> },
): Promise<number> {
  const recipe = JSON.parse(await readFile(file, 'utf8')) as Recipe
  const exec = new LocalExecutor(ctx.bases, { tmp: ctx.tmp, bin: BIN, hangMs: ctx.hangMs, modes: ctx.modes })
  const r = await exec.run(recipe)
  if ('skipped' in r || 'harnessError' in r) {
    process.stdout.write(`not run: ${'skipped' in r ? r.skipped : r.harnessError}\n`)
    return 2
  }
  process.stdout.write(`${r.command} --validate ${r.mode} (${r.isolation}, ${Math.round(r.ms)} ms)\n`)
  process.stdout.write(`repro: ${reproLine(r.argsTemplate, `<input of ${file}>`)}\n`)
  for (const f of r.failures)
    process.stdout.write(`- ${f.signature}\n  ${f.detail.split('\n').join('\n  ')}\n`)
  if (r.nft.length > 0)
    process.stdout.write(`(${r.nft.length} nftables ruleset(s): kernel checks run only in a fuzz run)\n`)
  return r.failures.length > 0 ? 1 : 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`palisade fuzz: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`)
    process.exitCode = 2
  },
)
