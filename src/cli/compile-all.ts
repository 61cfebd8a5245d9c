/**
 * `palisade compile --all-nodes`: every node's ruleset, written node after node in the order of
 * nodesOf(). With `--jobs N` (N > 1) the nodes are cut into N runs of consecutive nodes: the main thread
 * compiles the first run while N - 1 worker threads (compile-worker.ts) each load the same inputs and
 * compile one of the others; the main thread prints and writes every node in order, so files, stdout,
 * stderr and the exit code are those of one thread (test/compile/cli-jobs.test.ts). A worker that fails
 * (out of memory...) costs nothing but time: the main thread compiles what it did not send.
 * docs/dataplane.md#peer-sets-at-scale has the figures.
 */
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import {
  type BackendName,
  type CompiledRuleset,
  createClusterCompiler,
  type RulesetStats,
} from '../backends/index.js'
import { type CompileOptions, nodeNameProblem } from '../compile/index.js'
import type { InputText, ValidationMode } from '../load/index.js'
import type { ClusterState, Diagnostic } from '../model/index.js'
import { formatDiagnostic } from './format.js'

/** What a worker is given: the inputs as read (it loads them as the main thread does) and its share. */
export interface CompileWorkerInput {
  readonly inputs: readonly InputText[]
  readonly mode: ValidationMode
  readonly maxBytes: number
  readonly backend: BackendName
  readonly copts: CompileOptions
  /** Its run of nodes: share (1 .. jobs - 1) of jobs. */
  readonly share: number
  readonly jobs: number
}

/** One node's ruleset as it travels between threads (what printing and writing it need). */
export interface NodeOutput {
  readonly node: string
  readonly backend: BackendName
  readonly stats: RulesetStats
  readonly files: Readonly<Record<string, string>>
  readonly diagnostics: readonly Diagnostic[]
}

/** A worker's message: a node compiled, or the error its compilation threw (the worker stops there). */
export type CompileWorkerMessage = NodeOutput | { readonly node: string; readonly error: string }

/** The largest --jobs accepted (more threads than this only multiplies the memory). */
export const MAX_JOBS = 16

/**
 * The default --jobs: 1. Measured back to back on the issue-16 shape on the 2-core machine shared with
 * other work (README "Every node at scale"): 2 threads took 112 s wall, 65 s CPU and 2.7 GiB against
 * 74 s, 37 s and 1.4 GiB for one (a second load, a second cluster, sets filled twice).
 */
export const DEFAULT_JOBS = 1

/** Parses --jobs: a whole number from 1 to MAX_JOBS; returns an error text otherwise. */
export function parseJobs(text: string | undefined): number | string {
  if (text === undefined) return DEFAULT_JOBS
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_JOBS)
    return `--jobs must be a whole number from 1 to ${MAX_JOBS}, not "${text}"`
  return Number(text)
}

/** Returns the share-th of `jobs` runs of consecutive nodes (as equal as can be; earlier runs never longer). */
export function shareOf<T>(items: readonly T[], share: number, jobs: number): T[] {
  const n = items.length
  return items.slice(Math.floor((share * n) / jobs), Math.floor(((share + 1) * n) / jobs))
}

/** The nodes that can be written (an RFC 1123 subdomain cannot leave the output folder). */
export function writableNodes(nodes: readonly string[]): string[] {
  return nodes.filter((n) => nodeNameProblem(n) === undefined)
}

/** The young generation of a worker (MiB): a node's objects die young instead of filling the old one. */
const WORKER_YOUNG_MB = 192

/** The worker's script; absent when the CLI runs from its TypeScript sources (tests): no workers then. */
const WORKER_URL = new URL('./compile-worker.js', import.meta.url)

/** Prints compile diagnostics to stderr (info only when verbose). */
export function printDiagnostics(diagnostics: readonly Diagnostic[], verbose: boolean | undefined): void {
  for (const d of diagnostics) {
    if (d.severity === 'info' && !verbose) continue
    process.stderr.write(`${formatDiagnostic(d)}\n`)
  }
}

/** Writes a ruleset's files into `dir`. */
export async function writeRulesetFiles(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
}

/** The line `compile` prints per ruleset written. */
export const statsLine = (rs: Pick<CompiledRuleset, 'node' | 'stats' | 'backend'>): string =>
  `${rs.node}: ${rs.stats.rules} rules, ${rs.stats.chains} chains, ${rs.stats.sets} sets, ${rs.stats.elements} elements (${rs.backend})`

/** A worker's results as they arrive, awaited node by node. */
interface WorkerRun {
  readonly worker: Worker
  readonly results: Map<string, CompileWorkerMessage>
  /** Set once the worker failed or exited before sending every node. */
  failure: string | undefined
  /** Whether the failure was told (once). */
  told: boolean
  wake: (() => void) | undefined
}

/**
 * Starts the workers of shares 1 .. jobs - 1 on the inputs as read (before the main thread loads them:
 * they load in parallel). Returns undefined with jobs <= 1 or when there is no worker script.
 */
export function startCompileWorkers(
  input: Omit<CompileWorkerInput, 'share'>,
): { readonly runs: readonly WorkerRun[]; stop(): Promise<void> } | undefined {
  if (input.jobs <= 1 || !existsSync(fileURLToPath(WORKER_URL))) return undefined
  const runs: WorkerRun[] = []
  for (let share = 1; share < input.jobs; share++) {
    const workerData: CompileWorkerInput = { ...input, share }
    const worker = new Worker(WORKER_URL, {
      workerData,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
      stdout: true,
      stderr: true,
    })
    const run: WorkerRun = {
      worker,
      results: new Map(),
      failure: undefined,
      told: false,
      wake: undefined,
    }
    const wake = () => {
      const w = run.wake
      run.wake = undefined
      w?.()
    }
    worker.on('message', (m: CompileWorkerMessage) => {
      run.results.set(m.node, m)
      wake()
    })
    worker.on('error', (err) => {
      run.failure ??= err instanceof Error ? err.message : String(err)
      wake()
    })
    worker.on('exit', (code) => {
      run.failure ??= `exited with code ${code}`
      wake()
    })
    runs.push(run)
  }
  return {
    runs,
    async stop() {
      await Promise.all(runs.map((r) => r.worker.terminate()))
    },
  }
}

/** Waits for a worker's result for `node`; undefined when the worker failed before sending it. */
async function resultOf(run: WorkerRun, node: string): Promise<CompileWorkerMessage | undefined> {
  for (;;) {
    const r = run.results.get(node)
    if (r !== undefined) {
      run.results.delete(node)
      return r
    }
    if (run.failure !== undefined) return undefined
    await new Promise<void>((resolve) => {
      run.wake = resolve
    })
  }
}

export interface CompileAllOptions {
  readonly cluster: ClusterState
  readonly nodes: readonly string[]
  readonly backend: BackendName
  readonly copts: CompileOptions
  readonly dir: string
  readonly verbose: boolean | undefined
  readonly workers: ReturnType<typeof startCompileWorkers>
  readonly setExit: (code: number) => void
}

/**
 * Compiles and writes every node in order: the first run here, the others from the workers (or here,
 * for a worker that failed). Throws the first compile error, as one thread would at that node.
 */
export async function compileAllNodes(o: CompileAllOptions): Promise<void> {
  const writable = writableNodes(o.nodes)
  const runs = o.workers?.runs ?? []
  const owner = new Map<string, WorkerRun>()
  runs.forEach((run, i) => {
    for (const n of shareOf(writable, i + 1, runs.length + 1)) owner.set(n, run)
  })
  let compile: ((node: string) => NodeOutput) | undefined
  const here = (node: string): NodeOutput => {
    if (!compile) {
      // What does not depend on the node (pod facts, set elements...) is computed once for all.
      const c = createClusterCompiler(o.cluster, o.backend, o.copts)
      compile = (n) => {
        const r = c(n)
        const { backend, stats, files } = r.value
        return { node: n, backend, stats, files, diagnostics: r.diagnostics }
      }
    }
    return compile(node)
  }
  for (const node of o.nodes) {
    const problem = nodeNameProblem(node)
    if (problem) {
      process.stderr.write(`palisade compile: ${problem}: skipped\n`)
      o.setExit(2)
      continue
    }
    const run = owner.get(node)
    let out: CompileWorkerMessage | undefined = run ? await resultOf(run, node) : undefined
    if (run && out === undefined && !run.told) {
      run.told = true
      process.stderr.write(
        `palisade compile: warning: a worker thread failed (${run.failure}): its nodes are compiled by the main thread\n`,
      )
    }
    out ??= here(node)
    if ('error' in out) throw new Error(out.error)
    printDiagnostics(out.diagnostics, o.verbose)
    await writeRulesetFiles(join(o.dir, node), out.files)
    process.stderr.write(`${statsLine(out)} -> ${join(o.dir, node)}\n`)
  }
}
