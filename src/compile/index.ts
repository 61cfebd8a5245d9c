/**
 * The node compiler: ClusterState -> NodeIR (backend-neutral) -> ruleset files for one backend.
 * Pure: no I/O. Applying a ruleset to the kernel lives in src/dataplane.
 */
import type { ClusterState, Result } from '../model/index.js'
import { buildNodeIR } from './build.js'
import { renderIptables } from './iptables/index.js'
import type { CompileOptions, NodeIR } from './ir.js'
import { type NftRenderCache, renderNftables } from './nftables/index.js'

export { buildNodeIR } from './build.js'
export { COMMENT_MAX, commentLine, commentText, nodeNameProblem } from './comment.js'
export { createNodeCompiler, type NodeCompiler, type NodeCompilerStats } from './incremental.js'
export type { CompileOptions, NodeIR } from './ir.js'
export * from './ir.js'
export { createNftRenderCache, type NftRenderCache, renderNftables } from './nftables/index.js'

export type Backend = 'nftables' | 'iptables'
export const BACKENDS: readonly Backend[] = ['nftables', 'iptables']

/** A rendered ruleset for one node and backend, ready for src/dataplane. */
export interface CompiledRuleset {
  readonly backend: Backend
  readonly node: string
  /** nftables: {'palisade.nft'}; iptables: {'ipset.restore', 'iptables.rules', 'ip6tables.rules'}. */
  readonly files: Readonly<Record<string, string>>
  readonly stats: {
    readonly rules: number
    readonly chains: number
    readonly sets: number
    readonly elements: number
  }
}

/** Returns the distinct spec.nodeName values of the cluster's pods, sorted. */
export function nodesOf(cluster: ClusterState): string[] {
  const names = new Set<string>()
  for (const p of cluster.pods) if (p.nodeName) names.add(p.nodeName)
  return [...names].sort()
}

/** Renders an IR with the given backend (`cache` reuses nftables blocks of IR objects seen before). */
export function renderNodeIR(ir: NodeIR, backend: Backend, cache?: NftRenderCache): CompiledRuleset {
  if (backend === 'iptables') return renderIptables(ir)
  const r = renderNftables(ir, cache)
  return { backend: 'nftables', node: ir.node, files: { 'palisade.nft': r.text }, stats: r.stats }
}

/** Compiles what `node` must enforce into a ruleset for `backend`; notes come back as diagnostics. */
export function compileNode(
  cluster: ClusterState,
  node: string,
  backend: Backend,
  opts?: CompileOptions,
): Result<CompiledRuleset> {
  const ir = buildNodeIR(cluster, node, opts)
  return { value: renderNodeIR(ir, backend), diagnostics: ir.diagnostics }
}
