/**
 * The incremental IR builder for the agent: the same NodeIR as buildNodeIR, computed from what the
 * previous call already knew.
 *
 * The agent compiles the whole cluster after every debounced change, and most changes are one pod
 * (added, deleted, relabelled, given an IP) on another node. Each call reuses, by the identity of the
 * objects of the previous ClusterState (the agent's object store keeps unchanged objects):
 * - pod facts (parsed addresses, label signature) per Pod object;
 * - the structure (chains, pod chains, set declarations, names, diagnostics) when the policies, the
 *   pods on this node and the address families are the same objects;
 * - the elements of each set, unless a pod added or removed since the last call could be in it (its
 *   namespace and labels match the peer) or, for namespaceSelector peers, a namespace changed.
 * Reused IR objects are the previous objects, so a backend's renderer (src/backends) can hand back what
 * it rendered from them. The memo lives in the returned object (no module state, no clock).
 */
import type { ClusterState } from '../model/index.js'
import { type BuildMemo, type BuildMemoStats, buildNodeIRWithMemo, createBuildMemo } from './build.js'
import type { CompileOptions, NodeIR } from './ir.js'

/** How much the last build reused (for tests, benchmarks and debug logs). */
export interface NodeIRBuilderStats extends BuildMemoStats {
  /** True when the cluster was the very object of the previous call: the previous IR was returned. */
  readonly sameCluster: boolean
}

/** An IR builder for one node that remembers its previous call. */
export interface NodeIRBuilder {
  readonly node: string
  /** Builds the node's IR; equal to buildNodeIR(cluster, node, opts). */
  build(cluster: ClusterState): NodeIR
  /** What the last build reused. */
  stats(): NodeIRBuilderStats
}

/** Creates an incremental IR builder for `node` (the options are fixed for its lifetime). */
export function createNodeIRBuilder(node: string, opts: CompileOptions = {}): NodeIRBuilder {
  const memo: BuildMemo = createBuildMemo()
  let last: { readonly cluster: ClusterState; readonly ir: NodeIR } | undefined
  let sameCluster = false
  return {
    node,
    build(cluster) {
      // The agent's store hands out the same snapshot object until something changes (resyncs).
      sameCluster = last?.cluster === cluster
      if (last && sameCluster) return last.ir
      const ir = buildNodeIRWithMemo(memo, cluster, node, opts)
      last = { cluster, ir }
      return ir
    },
    stats() {
      return { ...memo.stats, sameCluster }
    },
  }
}

/** An IR builder for every node of a cluster in turn (`compile --all-nodes`). */
export interface AllNodesIRBuilder {
  /** Builds one node's IR; equal to buildNodeIR(cluster, node, opts). */
  build(cluster: ClusterState, node: string): NodeIR
  /** What the last build reused. */
  stats(): BuildMemoStats
}

/**
 * Creates an IR builder that compiles node after node and shares what does not depend on the node:
 * pod facts, the pod and address indexes, the sorted policies and the elements of every cluster-wide
 * set (pods, ipBlock, cluster named-port sets), each computed once while the cluster stays the same.
 * Only the structure (chains, local pods) and the local named-port sets are computed per node.
 */
export function createAllNodesIRBuilder(opts: CompileOptions = {}): AllNodesIRBuilder {
  const memo: BuildMemo = createBuildMemo(true)
  return {
    build: (cluster, node) => buildNodeIRWithMemo(memo, cluster, node, opts),
    stats: () => memo.stats,
  }
}
