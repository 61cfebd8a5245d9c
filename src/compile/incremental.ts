/**
 * The incremental node compiler for the agent: the same output as compileNode, byte for byte, computed
 * from what the previous call already knew.
 *
 * The agent compiles the whole cluster after every debounced change, and most changes are one pod
 * (added, deleted, relabelled, given an IP) on another node. Each call reuses, by the identity of the
 * objects of the previous ClusterState (the agent's object store keeps unchanged objects):
 * - pod facts (parsed addresses, label signature) per Pod object;
 * - the structure (chains, pod chains, set declarations, names, diagnostics) when the policies, the
 *   pods on this node and the address families are the same objects;
 * - the elements of each set, unless a pod added or removed since the last call could be in it (its
 *   namespace and labels match the peer) or, for namespaceSelector peers, a namespace changed;
 * - the rendered nftables text of every set and policy chain whose IR object was reused.
 * The memo lives in the returned object (no module state, no clock): two compilers never share it.
 */
import type { ClusterState, Result } from '../model/index.js'
import { type BuildMemo, type BuildMemoStats, buildNodeIRWithMemo, createBuildMemo } from './build.js'
import type { Backend, CompiledRuleset } from './index.js'
import { renderIptables } from './iptables/index.js'
import type { CompileOptions } from './ir.js'
import { createNftRenderCache, renderNftables } from './nftables/index.js'

/** How much the last compile reused (for tests, benchmarks and debug logs). */
export interface NodeCompilerStats extends BuildMemoStats {
  /** True when the cluster was the very object of the previous call: the previous result was returned. */
  readonly sameCluster: boolean
}

/** A compiler for one node and backend that remembers its previous call. */
export interface NodeCompiler {
  readonly node: string
  readonly backend: Backend
  /** Compiles `cluster` for the node; equal to compileNode(cluster, node, backend, opts). */
  compile(cluster: ClusterState): Result<CompiledRuleset>
  /** What the last compile reused. */
  stats(): NodeCompilerStats
}

/** Creates an incremental compiler for `node` and `backend` (the options are fixed for its lifetime). */
export function createNodeCompiler(node: string, backend: Backend, opts: CompileOptions = {}): NodeCompiler {
  const memo: BuildMemo = createBuildMemo()
  const renderCache = createNftRenderCache()
  let last: { readonly cluster: ClusterState; readonly result: Result<CompiledRuleset> } | undefined
  let sameCluster = false
  return {
    node,
    backend,
    compile(cluster) {
      // The agent's store hands out the same snapshot object until something changes (resyncs).
      sameCluster = last?.cluster === cluster
      if (last && sameCluster) return last.result
      const ir = buildNodeIRWithMemo(memo, cluster, node, opts)
      let value: CompiledRuleset
      if (backend === 'iptables') value = renderIptables(ir)
      else {
        const r = renderNftables(ir, renderCache)
        value = { backend: 'nftables', node: ir.node, files: { 'palisade.nft': r.text }, stats: r.stats }
      }
      const result: Result<CompiledRuleset> = { value, diagnostics: ir.diagnostics }
      last = { cluster, result }
      return result
    },
    stats() {
      return { ...memo.stats, sameCluster }
    },
  }
}
