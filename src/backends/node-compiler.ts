/**
 * ClusterState -> a node's ruleset for a backend: the IR from src/compile, rendered by the backend.
 * `compileNode` does it once; `createNodeCompiler` keeps what it built and rendered, for the agent.
 */
import {
  buildNodeIR,
  type CompileOptions,
  createAllNodesIRBuilder,
  createNodeIRBuilder,
  type NodeIR,
  type NodeIRBuilderStats,
} from '../compile/index.js'
import type { ClusterState, Result } from '../model/index.js'
import type { BackendName, CompiledRuleset, Ruleset } from './backend.js'
import { getBackend, printRuleset } from './registry.js'

/** Renders an IR with the given backend, printed. */
export function renderNodeIR(ir: NodeIR, backend: BackendName): CompiledRuleset {
  return printRuleset(getBackend(backend).render(ir))
}

/** Compiles what `node` must enforce into a ruleset for `backend`; notes come back as diagnostics. */
export function compileNode(
  cluster: ClusterState,
  node: string,
  backend: BackendName,
  opts?: CompileOptions,
): Result<CompiledRuleset> {
  const ir = buildNodeIR(cluster, node, opts)
  return { value: renderNodeIR(ir, backend), diagnostics: ir.diagnostics }
}

/**
 * Compiles every node of one cluster in turn: `compile(node)` equals compileNode(cluster, node, backend,
 * opts), and what does not depend on the node (pod facts and indexes, sorted policies, the elements of
 * cluster-wide sets) is computed once for all of them (`compile --all-nodes`).
 */
export function createClusterCompiler(
  cluster: ClusterState,
  backend: BackendName,
  opts?: CompileOptions,
): (node: string) => Result<CompiledRuleset> {
  const builder = createAllNodesIRBuilder(opts)
  return (node) => {
    const ir = builder.build(cluster, node)
    return { value: renderNodeIR(ir, backend), diagnostics: ir.diagnostics }
  }
}

/** How much the last compile reused (for tests, benchmarks and debug logs). */
export type NodeCompilerStats = NodeIRBuilderStats

/** A node's ruleset with the IR it was rendered from (the agent judges established flows on it). */
export type NodeCompileResult = Result<Ruleset> & { readonly ir: NodeIR }

/** A compiler for one node and backend that remembers its previous call. */
export interface NodeCompiler {
  readonly node: string
  readonly backend: BackendName
  /**
   * Compiles `cluster` for the node: compileNode(cluster, node, backend, opts) before printing. Objects
   * the previous call rendered and that did not change are the same objects (the delta skips them).
   */
  compile(cluster: ClusterState): NodeCompileResult
  /** What the last compile reused. */
  stats(): NodeCompilerStats
  /** The IR of the last compile (the agent names pods and policies of drop counters and logs from it). */
  ir(): NodeIR | undefined
}

/** Creates an incremental compiler for `node` and `backend` (the options are fixed for its lifetime). */
export function createNodeCompiler(
  node: string,
  backend: BackendName,
  opts: CompileOptions = {},
): NodeCompiler {
  const builder = createNodeIRBuilder(node, opts)
  const render = getBackend(backend).createRenderer()
  let last: { readonly ir: NodeIR; readonly result: NodeCompileResult } | undefined
  return {
    node,
    backend,
    compile(cluster) {
      const ir = builder.build(cluster)
      if (last?.ir === ir) return last.result
      const result: NodeCompileResult = { value: render(ir), diagnostics: ir.diagnostics, ir }
      last = { ir, result }
      return result
    },
    stats: () => builder.stats(),
    ir: () => last?.ir,
  }
}
