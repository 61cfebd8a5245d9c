/**
 * A pool of worker threads running fuzz cases in parallel (edge). A case that overruns its time bound is
 * a hang: its worker is terminated (this interrupts even a synchronous loop) and replaced.
 */
import { Worker } from 'node:worker_threads'
import { loadCorpus } from './corpus.js'
import { tidCpuMs } from './cputime.js'
import { type CaseResult, prepareCase, runPrepared, WALL_FACTOR } from './execute.js'
import type { Executor } from './harness.js'
import type { Recipe } from './recipe.js'
import type { FromWorker, WorkerConfig } from './worker.js'

type Outcome = CaseResult | { readonly skipped: string } | { readonly harnessError: string }

interface Job {
  readonly id: number
  readonly recipe: Recipe
  readonly resolve: (o: Outcome) => void
  started?: Extract<FromWorker, { type: 'started' }>
  t0: number
  /** The worker thread's CPU time when the case started. */
  cpu0?: number
}

interface Slot {
  worker: Worker
  job?: Job
  timer?: NodeJS.Timeout
}

/** How often a running case's CPU time is read. */
const POLL_MS = 250

/** Extra time an in-process case gets beyond the hang bound (its oracles load the input again). */
const PREPARE_MS = 60_000

export class PoolExecutor implements Executor {
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private nextId = 0
  private closed = false
  /** Fresh-process cases run from this thread, at most `processLanes` at once. */
  private processRunning = 0
  private readonly processQueue: (() => void)[] = []

  constructor(
    size: number,
    private readonly config: WorkerConfig,
    private readonly workerUrl: URL = new URL('./worker.js', import.meta.url),
    private readonly processLanes = 1,
  ) {
    for (let i = 0; i < size; i++) {
      const slot = {} as Slot
      this.spawnInto(slot)
      this.slots.push(slot)
    }
  }

  /** Starts a worker for a slot (the listeners know the slot, whichever worker it has later). */
  private spawnInto(slot: Slot): void {
    slot.worker = new Worker(this.workerUrl, {
      workerData: this.config,
      resourceLimits: { maxOldGenerationSizeMb: 2048 },
      stdout: false,
      stderr: false,
    })
    const worker = slot.worker
    worker.on('message', (m: FromWorker) => this.onMessage(slot, m))
    worker.on('error', (e) =>
      this.finish(slot, { harnessError: `worker error: ${e.stack ?? e.message}` }, true),
    )
    worker.on('exit', (code) => {
      if (slot.worker === worker && slot.job)
        this.finish(slot, { harnessError: `worker exited with code ${code}` }, true)
    })
  }

  run(recipe: Recipe): Promise<Outcome> {
    return new Promise((resolve) => {
      this.queue.push({ id: ++this.nextId, recipe, resolve, t0: 0 })
      this.dispatch()
    })
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue
      const job = this.queue.shift() as Job
      slot.job = job
      job.t0 = performance.now()
      this.arm(slot, PREPARE_MS)
      slot.worker.postMessage({ id: job.id, recipe: job.recipe })
    }
  }

  /** Watches a slot: over `cpuMs` of the worker's CPU (wall time where /proc is missing), or WALL_FACTOR x that. */
  private arm(slot: Slot, cpuMs: number): void {
    clearInterval(slot.timer)
    const job = slot.job
    if (!job) return
    const tid = job.started?.tid
    const t0 = performance.now()
    const c0 = tid === undefined ? undefined : tidCpuMs(tid)
    slot.timer = setInterval(() => {
      const wall = performance.now() - t0
      const c1 = tid === undefined ? undefined : tidCpuMs(tid)
      const used = c0 === undefined || c1 === undefined ? wall : c1 - c0
      if (used > cpuMs || wall > cpuMs * WALL_FACTOR) this.overrun(slot, used)
    }, POLL_MS)
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    const job = slot.job
    if (!job || m.id !== job.id) return
    if (m.type === 'process') {
      // Free the worker; the case runs as a child process from here (its own time limit kills it).
      clearInterval(slot.timer)
      slot.job = undefined
      this.dispatch()
      void this.runProcessCase(job)
      return
    }
    if (m.type === 'started') {
      job.started = m
      const bound = this.config.hangMs
      // The command's own bound, plus its oracles (which load the input again).
      this.arm(slot, 2 * bound + 2_000)
      return
    }
    this.finish(slot, m.type === 'done' ? m.result : { harnessError: m.error }, false)
  }

  private async runProcessCase(job: Job): Promise<void> {
    if (this.processRunning >= this.processLanes) await new Promise<void>((r) => this.processQueue.push(r))
    this.processRunning++
    try {
      const p = prepareCase(job.recipe, loadCorpus(), this.config.modes)
      job.resolve(await runPrepared(p, this.config))
    } catch (e) {
      job.resolve({ harnessError: e instanceof Error ? (e.stack ?? e.message) : String(e) })
    } finally {
      this.processRunning--
      this.processQueue.shift()?.()
    }
  }

  /** The case overran: a hang. The worker is stopped (mid-computation) and replaced. */
  private overrun(slot: Slot, used: number): void {
    const job = slot.job
    if (!job) return
    const s = job.started
    const ms = performance.now() - job.t0
    if (!s) {
      this.finish(slot, { harnessError: `preparing a case took over ${PREPARE_MS} ms` }, true)
      return
    }
    const result: CaseResult = {
      failures: [
        {
          cls: 'hang',
          sub: s.command,
          detail: `${s.command} used ${Math.round(used)} ms of CPU in ${Math.round(ms)} ms without finishing (bound ${this.config.hangMs} ms of CPU, with its oracles ${2 * this.config.hangMs + 2000} ms): worker terminated`,
          signature: `hang/${job.recipe.family}/${s.command}`,
        },
      ],
      nft: [],
      iptables: [],
      ms,
      isolation: s.isolation,
      command: s.command as CaseResult['command'],
      mode: s.mode,
      argsTemplate: s.argsTemplate,
      inputName: s.inputName,
    }
    this.finish(slot, result, true)
  }

  private finish(slot: Slot, outcome: Outcome, replace: boolean): void {
    clearInterval(slot.timer)
    const job = slot.job
    slot.job = undefined
    if (replace) {
      const old = slot.worker
      old.removeAllListeners()
      old.on('error', () => undefined)
      void old.terminate()
      if (!this.closed) this.spawnInto(slot)
    }
    job?.resolve(outcome)
    this.dispatch()
  }

  async close(): Promise<void> {
    this.closed = true
    for (const slot of this.slots) {
      clearInterval(slot.timer)
      await slot.worker.terminate()
    }
  }
}
