/**
 * A fuzz worker thread: runs the cases the pool sends it, one at a time, in-process (the CLI's main())
 * or in a fresh process, and posts back the result. The pool terminates it when a case overruns.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { loadCorpus } from './corpus.js'
import { threadTid } from './cputime.js'
import { prepareCase, runPrepared } from './execute.js'
import type { Failure } from './oracles.js'
import type { Recipe } from './recipe.js'

export interface WorkerConfig {
  readonly tmp: string
  readonly bin?: string
  readonly hangMs: number
  readonly modes: readonly string[]
}

export type ToWorker = { readonly id: number; readonly recipe: Recipe }
export type FromWorker =
  | {
      readonly type: 'started'
      readonly id: number
      readonly isolation: 'in-process' | 'process'
      readonly command: string
      readonly mode: string
      readonly argsTemplate: readonly string[]
      readonly inputName: string
      /** This worker's Linux thread id: the pool watches its CPU time. */
      readonly tid?: number
    }
  /** The case needs a fresh process: the pool runs it (so this worker is free for the next case). */
  | { readonly type: 'process'; readonly id: number }
  | { readonly type: 'done'; readonly id: number; readonly result: import('./execute.js').CaseResult }
  | { readonly type: 'harnessError'; readonly id: number; readonly error: string }

const config = workerData as WorkerConfig
const tid = threadTid()
const bases = loadCorpus()
let unhandled: unknown[] = []
process.on('unhandledRejection', (e) => {
  unhandled.push(e)
})

parentPort?.on('message', async (msg: ToWorker) => {
  const post = (m: FromWorker): void => parentPort?.postMessage(m)
  try {
    const p = prepareCase(msg.recipe, bases, config.modes)
    const isolation = p.isolation === 'process' && config.bin !== undefined ? 'process' : 'in-process'
    if (isolation === 'process') {
      post({ type: 'process', id: msg.id })
      return
    }
    post({
      type: 'started',
      id: msg.id,
      isolation,
      command: p.command,
      mode: p.mode,
      argsTemplate: p.argsTemplate,
      inputName: p.inputName,
      ...(tid === undefined ? {} : { tid }),
    })
    unhandled = []
    const result = await runPrepared(p, config)
    if (unhandled.length > 0) {
      const e = unhandled[0]
      const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
      const f: Failure = {
        cls: 'crash',
        sub: 'unhandled-rejection',
        detail: e instanceof Error ? (e.stack ?? text) : text,
        signature: `crash/unhandled-rejection/${text.replace(/\d+/g, 'N').slice(0, 120)}`,
      }
      post({
        type: 'done',
        id: msg.id,
        result: { ...result, failures: [...result.failures, f], input: p.bytes },
      })
    } else post({ type: 'done', id: msg.id, result })
  } catch (e) {
    post({ type: 'harnessError', id: msg.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) })
  }
})
