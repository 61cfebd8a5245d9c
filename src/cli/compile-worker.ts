/**
 * A worker thread of `compile --all-nodes --jobs N` (compile-all.ts): loads the inputs as the main
 * thread does (the same pure loader on the same texts: the same cluster), compiles its run of nodes with
 * one cluster compiler and posts each node's ruleset, in order. It prints nothing: the main thread
 * prints and writes everything, once.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createClusterCompiler } from '../backends/index.js'
import { nodesOf } from '../compile/index.js'
import { loadClusterState } from '../load/index.js'
import { type CompileWorkerInput, type CompileWorkerMessage, shareOf, writableNodes } from './compile-all.js'

const input = workerData as CompileWorkerInput
const post = (m: CompileWorkerMessage) => parentPort?.postMessage(m)
const { cluster } = loadClusterState(input.inputs, { validate: input.mode, maxBytes: input.maxBytes })
const compile = createClusterCompiler(cluster, input.backend, input.copts)
for (const node of shareOf(writableNodes(nodesOf(cluster)), input.share, input.jobs)) {
  try {
    const r = compile(node)
    const { backend, stats, files } = r.value
    post({ node, backend, stats, files, diagnostics: r.diagnostics })
  } catch (err) {
    post({ node, error: err instanceof Error ? err.message : String(err) })
    break
  }
}
