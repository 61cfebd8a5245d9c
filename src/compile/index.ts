/**
 * The node compiler: ClusterState -> NodeIR, everything one node must enforce, independent of the
 * backend. Pure: no I/O. Rendering the IR for a backend, and applying it, live in src/backends.
 */
import type { ClusterState } from '../model/index.js'

export { buildNodeIR } from './build.js'
export { tierDenyChainId } from './cluster-chains.js'
export { COMMENT_MAX, commentLine, commentText, nodeNameProblem } from './comment.js'
export {
  allowsDirection,
  canonicalAddressSet,
  createIREvaluator,
  type FlowVerdict,
  type IREvaluator,
  type IRFlow,
  type IRPacket,
  judgeFlow,
} from './evaluate-ir.js'
export {
  type AllNodesIRBuilder,
  createAllNodesIRBuilder,
  createNodeIRBuilder,
  type NodeIRBuilder,
  type NodeIRBuilderStats,
} from './incremental.js'
export type { CompileOptions, NodeIR } from './ir.js'
export * from './ir.js'
export { hash8 } from './names.js'
export * from './port-dispatch.js'
export { unknownPodsNotes } from './unknown-pods.js'

/** Returns the distinct spec.nodeName values of the cluster's pods, sorted. */
export function nodesOf(cluster: ClusterState): string[] {
  const names = new Set<string>()
  for (const p of cluster.pods) if (p.nodeName) names.add(p.nodeName)
  return [...names].sort()
}
