/** The iptables + ipset backend: NodeIR -> ipsets and filter chains as data -> ipset / iptables-restore files. */
import type { NodeIR } from '../../compile/index.js'
import type { Backend, Change, Ruleset } from '../backend.js'
import { connectIptables } from './apply.js'
import { IPTABLES_FILES, iptablesStats, printIptables } from './print.js'
import { chainNameOf, type IptablesRenderOptions, renderIptablesStructure } from './render.js'
import type { IptablesRuleset } from './structure.js'

export {
  applyIptables,
  cleanupIptables,
  connectIptables,
  dropCountersOfSave,
  type OwnedObjects,
  readOwned,
} from './apply.js'
export { type FilterTableView, type LiveSet, parseFilterSave, parseIpsetListTerse } from './kernel-view.js'
export { IPSET_PREFIX, IPTABLES_CHAIN_PREFIX, MAX_CHAIN_NAME, MAX_SET_NAME } from './names.js'
export { filterLines, IPTABLES_FILES, ipsetOptions, iptablesStats, printIptables } from './print.js'
export {
  chainNameOf,
  DEFAULT_MARK_BIT,
  IPTABLES_ENTRY_CHAIN,
  type IptablesRenderOptions,
  ipsetName,
} from './render.js'
export { buildCleanup, buildCommit, buildIpsetFill, buildIpsetSwap, tmpSetNames } from './restore.js'
export * from './structure.js'

/** Renders a node's IR as an iptables ruleset (options: see IptablesRenderOptions). */
export function renderIptables(ir: NodeIR, options?: IptablesRenderOptions): Ruleset<IptablesRuleset> {
  const structure = renderIptablesStructure(ir, options)
  return { backend: 'iptables', node: ir.node, structure, stats: iptablesStats(structure) }
}

/** The iptables + ipset backend. */
export const iptablesBackend: Backend<IptablesRuleset, never> = {
  name: 'iptables',
  files: IPTABLES_FILES,
  variants: [
    { name: 'iptables-nft', backend: 'iptables', target: { iptables: 'nft' } },
    { name: 'iptables-legacy', backend: 'iptables', target: { iptables: 'legacy' } },
  ],
  render: (ir) => renderIptables(ir),
  // Rendering is cheap next to an iptables apply: nothing to remember.
  createRenderer: () => (ir) => renderIptables(ir),
  print: (rs) => printIptables(rs.structure),
  // No delta yet (ipset add/del would be one): the same files need nothing, any other a full apply.
  diff(prev, next): Change<never> {
    const a: Record<string, string> = printIptables(prev.structure)
    const b: Record<string, string> = printIptables(next.structure)
    return IPTABLES_FILES.every((f) => a[f] === b[f]) ? { kind: 'none' } : { kind: 'full' }
  },
  printDelta: () => '',
  connect: connectIptables,
  chainName: chainNameOf,
}
export { listIptablesTraceRules, startIptablesTrace } from './apply.js'
export {
  iptablesTraceIndex,
  iptablesTraceRule,
  LEGACY_TRACE_REFUSAL,
  parseXtablesTrace,
} from './trace.js'
