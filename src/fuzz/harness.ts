/**
 * The fuzz driver: generates cases with fast-check (one seeded `fc.check` per case, so case i of seed s is
 * always the same recipe), runs them through an executor (this thread, or a pool of worker threads),
 * checks compiled rulesets in the kernel, shrinks failing cases while they fail the same way, groups
 * failures by signature and saves examples with a one-line reproduction.
 */
import { statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import fc from 'fast-check'
import { recipeArbitrary } from './arbitraries.js'
import type { Base } from './corpus.js'
import { type CaseResult, prepareCase, runPrepared } from './execute.js'
import { iptablesCause, type KernelChecker, nftCause } from './kernel.js'
import type { Failure, FailureClass } from './oracles.js'
import type { Recipe } from './recipe.js'
import { MODES } from './tables.js'

/** Runs recipes: returns the result, or a reason it could not run the case. */
export interface Executor {
  run(recipe: Recipe): Promise<CaseResult | { readonly skipped: string } | { readonly harnessError: string }>
  close(): Promise<void>
}

/** Runs cases one at a time in this thread (tests; cases that need a fresh process use `bin`). */
export class LocalExecutor implements Executor {
  constructor(
    private readonly bases: readonly Base[],
    private readonly env: { tmp: string; bin?: string; hangMs: number; modes?: readonly string[] },
  ) {}

  async run(recipe: Recipe) {
    let prepared: ReturnType<typeof prepareCase>
    try {
      prepared = prepareCase(recipe, this.bases, this.env.modes)
    } catch (e) {
      return { harnessError: e instanceof Error ? (e.stack ?? e.message) : String(e) }
    }
    if (prepared.isolation === 'process' && this.env.bin === undefined)
      return { skipped: 'needs a fresh process and dist/ is not built' }
    try {
      return await runPrepared(prepared, this.env)
    } catch (e) {
      return { harnessError: e instanceof Error ? (e.stack ?? e.message) : String(e) }
    }
  }

  async close(): Promise<void> {}
}

export interface FailureGroup {
  readonly signature: string
  readonly cls: FailureClass
  readonly sub: string
  count: number
  /** Families and commands it was seen with. */
  readonly families: Set<string>
  readonly commands: Set<string>
  /** Up to a few examples (the first one shrunk when shrinking is on). */
  readonly examples: FailureExample[]
}

export interface FailureExample {
  readonly caseIndex: number
  readonly caseSeed: number
  readonly recipe: Recipe
  /** The case's result (its input bytes are dropped once saved). */
  result: CaseResult
  readonly failure: Failure
  readonly shrunk: boolean
  /** Where it was saved (set by the saver). */
  saved?: string
  repro?: string
}

export interface FuzzReport {
  cases: number
  crashes: number
  hangs: number
  missed: number
  misreads: number
  skipped: number
  harnessErrors: string[]
  readonly groups: Map<string, FailureGroup>
  ms: number
  /** Cases that ran in a fresh process. */
  processCases: number
  commandCounts: Record<string, number>
}

export interface FuzzOptions {
  readonly seed: number
  /** Stop after this many cases... */
  readonly cases?: number
  /** ...or after this long (whichever comes first). */
  readonly timeMs?: number
  readonly families?: readonly string[]
  readonly modes?: readonly string[]
  readonly executor: Executor
  readonly kernel?: KernelChecker
  /** Cases in flight at once (a pool executor runs them in parallel). */
  readonly concurrency?: number
  /** Shrink failing cases (fast-check), at most this many extra runs per case (0: no shrinking). */
  readonly shrinkRuns?: number
  /** Examples kept per signature. */
  readonly examplesPerSignature?: number
  /** Called for every example as it is found (to save it). */
  readonly onExample?: (group: FailureGroup, example: FailureExample) => Promise<void>
  /** Asked before each case: true stops the run (e.g. after SIGINT). */
  readonly stop?: () => boolean
  readonly progress?: (report: FuzzReport) => void
  readonly progressEveryMs?: number
}

/** Where case files go: memory (/dev/shm) when there is one, every case writes and removes a folder. */
export function scratchDir(): string {
  try {
    if (statSync('/dev/shm').isDirectory()) return '/dev/shm'
  } catch {
    // no /dev/shm
  }
  return tmpdir()
}

/** The seed of case i of a run (fast-check takes a 32-bit seed). */
export function caseSeed(seed: number, i: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) | 0
  h ^= h >>> 16
  h = Math.imul(h, 0x7feb352d)
  h ^= h >>> 15
  return h | 0
}

const arbitraries = new Map<string, fc.Arbitrary<Recipe>>()

/** Generates the recipe of case i (as the run would). */
export function generateRecipe(seed: number, i: number, families?: readonly string[]): Recipe {
  const key = families?.join(',') ?? ''
  let arb = arbitraries.get(key)
  if (!arb) {
    arb = recipeArbitrary(families)
    arbitraries.set(key, arb)
  }
  // Exactly as runFuzz draws it (same seed, same bias), so case i of a run can be rebuilt alone.
  let recipe: Recipe | undefined
  fc.check(
    fc.property(arb, (r) => {
      recipe ??= r
      return true
    }),
    { seed: caseSeed(seed, i), numRuns: 1, unbiased: i % 2 === 1 },
  )
  return recipe as Recipe
}

/** Adds kernel verdicts on the case's rulesets to its failures. */
async function withKernel(result: CaseResult, kernel: KernelChecker | undefined): Promise<CaseResult> {
  if (!kernel || (result.nft.length === 0 && result.iptables.length === 0)) return result
  const extra: Failure[] = []
  for (const text of result.nft) {
    const v = await kernel.checkNft(text)
    if (!v.ok)
      extra.push({
        cls: 'crash',
        sub: 'nft-refused',
        detail: `nft -c refused the compiled ruleset:\n${v.stderr.slice(0, 3000)}`,
        signature: `crash/nft-refused/${nftCause(text, v.stderr)}`,
      })
  }
  for (const rs of result.iptables) {
    const v = await kernel.checkIptables(rs)
    if (v && !v.ok)
      extra.push({
        cls: 'crash',
        sub: 'iptables-refused',
        detail: `the compiled iptables ruleset was refused:\n${v.stderr.slice(0, 3000)}`,
        signature: `crash/iptables-refused/${iptablesCause(rs, v.stderr)}`,
      })
  }
  if (extra.length === 0) return result
  return { ...result, failures: [...result.failures, ...extra], input: result.input ?? new Uint8Array() }
}

/** Wall time one failing case may spend shrinking. */
const SHRINK_BUDGET_MS = 20_000

const CLASS_ORDER: readonly FailureClass[] = ['crash', 'hang', 'missed-rejection', 'misread']

/** The failure a case is shrunk for: the most severe class, first found. */
function primary(failures: readonly Failure[]): Failure | undefined {
  for (const cls of CLASS_ORDER) {
    const f = failures.find((x) => x.cls === cls)
    if (f) return f
  }
  return undefined
}

/** Runs the fuzzer until the case count or the time is reached; never throws for a failing case. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = {
    cases: 0,
    crashes: 0,
    hangs: 0,
    missed: 0,
    misreads: 0,
    skipped: 0,
    harnessErrors: [],
    groups: new Map(),
    ms: 0,
    processCases: 0,
    commandCounts: {},
  }
  const arb = recipeArbitrary(opts.families)
  const t0 = performance.now()
  const deadline = opts.timeMs === undefined ? Number.POSITIVE_INFINITY : t0 + opts.timeMs
  const maxCases = opts.cases ?? Number.POSITIVE_INFINITY
  const keep = opts.examplesPerSignature ?? 3
  const shrinkRuns = opts.shrinkRuns ?? 0
  let next = 0
  let lastProgress = t0
  /** Signatures being shrunk by a case in flight (one shrink per new defect). */
  const shrinkingNow = new Set<string>()

  const runOne = async (recipe: Recipe) => {
    const r = await opts.executor.run(recipe)
    if ('skipped' in r || 'harnessError' in r) return r
    return withKernel(r, opts.kernel)
  }

  const record = async (
    i: number,
    seed: number,
    first: CaseResult,
    shrunk?: { recipe: Recipe; result: CaseResult },
    firstRecipe?: Recipe,
  ) => {
    const classes = new Set(first.failures.map((f) => f.cls))
    if (classes.has('crash')) report.crashes++
    if (classes.has('hang')) report.hangs++
    if (classes.has('missed-rejection')) report.missed++
    if (classes.has('misread')) report.misreads++
    const seen = new Set<string>()
    for (const f of first.failures) {
      if (seen.has(f.signature)) continue
      seen.add(f.signature)
      let g = report.groups.get(f.signature)
      if (!g) {
        g = {
          signature: f.signature,
          cls: f.cls,
          sub: f.sub,
          count: 0,
          families: new Set(),
          commands: new Set(),
          examples: [],
        }
        report.groups.set(f.signature, g)
      }
      g.count++
      g.families.add(firstRecipe?.family ?? '?')
      g.commands.add(first.command)
      if (g.examples.length < keep) {
        const useShrunk = shrunk?.result.failures.some((x) => x.signature === f.signature) === true
        const ex: FailureExample = {
          caseIndex: i,
          caseSeed: seed,
          recipe: useShrunk ? shrunk!.recipe : (firstRecipe as Recipe),
          result: useShrunk ? shrunk!.result : first,
          failure: (useShrunk ? shrunk!.result.failures.find((x) => x.signature === f.signature) : f) ?? f,
          shrunk: useShrunk,
        }
        g.examples.push(ex)
        if (opts.onExample) await opts.onExample(g, ex)
      }
    }
  }

  const worker = async (): Promise<void> => {
    for (;;) {
      if (next >= maxCases || performance.now() >= deadline || opts.stop?.()) return
      const i = next++
      const seed = caseSeed(opts.seed, i)
      let firstRecipe: Recipe | undefined
      let first: CaseResult | undefined
      let target: string | undefined
      let runsLeft = shrinkRuns
      let last: { recipe: Recipe; result: CaseResult } | undefined
      let skipped = false
      let shrinkUntil = 0
      const property = fc.asyncProperty(arb, async (recipe) => {
        if (first === undefined && !skipped) {
          firstRecipe = recipe
          const r = await runOne(recipe)
          if ('skipped' in r) {
            skipped = true
            return true
          }
          if ('harnessError' in r) {
            report.harnessErrors.push(`case ${i} (seed ${seed}): ${r.harnessError}`)
            skipped = true
            return true
          }
          first = r
          const p = primary(r.failures)
          if (!p) return true
          // Shrink only new defects (a signature with examples to spare), never hangs (each run costs the bound).
          const group = report.groups.get(p.signature)
          if (
            p.cls === 'hang' ||
            (group !== undefined && group.examples.length >= keep) ||
            shrinkingNow.has(p.signature)
          )
            return true
          shrinkingNow.add(p.signature)
          target = p.signature
          shrinkUntil = performance.now() + SHRINK_BUDGET_MS
          last = { recipe, result: r }
          return false
        }
        // Shrinking: keep a smaller case only if it fails the same way.
        if (target === undefined || runsLeft <= 0 || performance.now() > shrinkUntil) return true
        runsLeft--
        const r = await runOne(recipe)
        if ('skipped' in r || 'harnessError' in r) return true
        if (!r.failures.some((f) => f.signature === target)) return true
        last = { recipe, result: r }
        return false
      })
      await fc.check(property, { seed, numRuns: 1, unbiased: i % 2 === 1, endOnFailure: shrinkRuns === 0 })
      if (target !== undefined) shrinkingNow.delete(target)
      report.cases++
      if (skipped || first === undefined) {
        if (skipped) report.skipped++
      } else {
        const done: CaseResult = first
        report.commandCounts[done.command] = (report.commandCounts[done.command] ?? 0) + 1
        if (done.isolation === 'process') report.processCases++
        if (done.failures.length > 0) await record(i, seed, done, last, firstRecipe)
      }
      const now = performance.now()
      if (opts.progress && now - lastProgress >= (opts.progressEveryMs ?? 10_000)) {
        lastProgress = now
        report.ms = now - t0
        opts.progress(report)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 1) }, () => worker()))
  report.ms = performance.now() - t0
  return report
}

/** The summary line: `N cases, C crashes, H hangs, R missed rejections`. */
export function summaryLine(r: FuzzReport): string {
  return `${r.cases} cases, ${r.crashes} crashes, ${r.hangs} hangs, ${r.missed} missed rejections`
}

/** The modes a run uses (the default list unless given). */
export function modesOf(opts: { modes?: readonly string[] }): readonly string[] {
  return opts.modes ?? MODES
}
