/**
 * The bounded slice of `npm run fuzz` that CI runs on every commit: every generator family with a fixed
 * seed, every command, every --validate mode, compiled rulesets through `nft -c` (and iptables-restore
 * --test) in a throwaway namespace when the machine allows it. Each row must find 0 crashes, 0 hangs, 0
 * missed rejections and 0 misreads; a failing row lists each distinct failure with a one-line repro.
 * (docs/fuzzing.md says what each family generates and what each oracle checks.)
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadCorpus } from '../../src/fuzz/corpus.js'
import { type FuzzReport, LocalExecutor, runFuzz, scratchDir, summaryLine } from '../../src/fuzz/harness.js'
import { KernelChecker, kernelSkipReason } from '../../src/fuzz/kernel.js'
import { renderGroups } from '../../src/fuzz/report.js'

const BIN = new URL('../../bin/palisade.js', import.meta.url).pathname
const built = existsSync(new URL('../../dist/src/cli/main.js', import.meta.url))

interface SliceRow {
  readonly family: string
  readonly seed: number
  readonly cases: number
  /** Runs in fresh `node bin/palisade.js` processes (needs dist/). */
  readonly processes?: boolean
}

/** About 30 s of CPU in all on the development machine. */
const SLICE: readonly SliceRow[] = [
  { family: 'typed', seed: 1401, cases: 150 },
  { family: 'structural', seed: 1402, cases: 150 },
  { family: 'prototype', seed: 1403, cases: 60 },
  { family: 'yaml', seed: 1404, cases: 120 },
  { family: 'lists', seed: 1405, cases: 80 },
  { family: 'validation', seed: 1406, cases: 60 },
  { family: 'text', seed: 1407, cases: 150 },
  { family: 'nodes', seed: 1408, cases: 60 },
  { family: 'deep', seed: 1409, cases: 10, processes: true },
  { family: 'huge', seed: 1410, cases: 4, processes: true },
]

let tmp = ''
let kernel: KernelChecker | undefined
let kernelReason: string | undefined

beforeAll(async () => {
  tmp = await mkdtemp(join(scratchDir(), 'palisade-fuzz-test-'))
  kernelReason = await kernelSkipReason()
  if (kernelReason === undefined) {
    kernel = new KernelChecker()
    await kernel.start()
  }
})

afterAll(async () => {
  await kernel?.stop()
  if (tmp !== '') await rm(tmp, { recursive: true, force: true })
})

/** What a row reports: the summary line, misreads, and every distinct failure with its reproduction. */
function outcome(r: FuzzReport) {
  return {
    summary: summaryLine(r),
    misreads: r.misreads,
    harnessErrors: r.harnessErrors,
    failures: [...r.groups.values()].map(
      (g) => `${g.signature} (${g.count}x) e.g. ${g.examples[0]?.failure.detail.split('\n')[0] ?? ''}`,
    ),
  }
}

describe('fuzz slice (fixed seeds)', () => {
  it.each(SLICE)(
    '$family: $cases cases, 0 crashes, 0 hangs, 0 missed rejections, 0 misreads',
    async (row) => {
      if (row.processes && !built) return expect.soft(built, 'dist/ not built (npm ci builds it)').toBe(true)
      const bases = loadCorpus()
      const executor = new LocalExecutor(bases, { tmp, hangMs: 5000, ...(built ? { bin: BIN } : {}) })
      const report = await runFuzz({
        seed: row.seed,
        cases: row.cases,
        families: [row.family],
        executor,
        ...(kernel ? { kernel } : {}),
        concurrency: 1,
      })
      if (report.groups.size > 0)
        process.stdout.write(`fuzz slice ${row.family} (seed ${row.seed}):\n${renderGroups(report)}`)
      expect(report.skipped).toBe(0)
      expect(outcome(report)).toEqual({
        summary: `${row.cases} cases, 0 crashes, 0 hangs, 0 missed rejections`,
        misreads: 0,
        harnessErrors: [],
        failures: [],
      })
    },
    180_000,
  )

  it('checks compiled rulesets in the kernel (nft -c, iptables-restore --test)', (ctx) => {
    if (kernelReason !== undefined) ctx.skip(kernelReason)
    expect(kernel?.stats.nftChecked).toBeGreaterThan(0)
    expect(kernel?.stats.iptablesChecked).toBeGreaterThan(0)
  })
})
