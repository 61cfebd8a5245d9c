/** The iptables + ipset backend: NodeIR -> ipsets and filter chains as data -> ipset / iptables-restore files. */
import type { NodeIR } from '../../compile/index.js'
import type { Backend, Ruleset } from '../backend.js'
import { IPTABLES_FILES, iptablesStats, printIptables } from './print.js'
import { type IptablesRenderOptions, renderIptablesStructure } from './render.js'
import type { IptablesRuleset } from './structure.js'

export { IPSET_PREFIX, IPTABLES_CHAIN_PREFIX, MAX_CHAIN_NAME, MAX_SET_NAME } from './names.js'
export { filterLines, IPTABLES_FILES, ipsetOptions, iptablesStats, printIptables } from './print.js'
export {
  chainNameOf,
  DEFAULT_MARK_BIT,
  IPTABLES_ENTRY_CHAIN,
  type IptablesRenderOptions,
  ipsetName,
} from './render.js'
export * from './structure.js'

/** Renders a node's IR as an iptables ruleset (options: see IptablesRenderOptions). */
export function renderIptables(ir: NodeIR, options?: IptablesRenderOptions): Ruleset<IptablesRuleset> {
  const structure = renderIptablesStructure(ir, options)
  return { backend: 'iptables', node: ir.node, structure, stats: iptablesStats(structure) }
}

/** The iptables + ipset backend. */
export const iptablesBackend: Backend<IptablesRuleset> = {
  name: 'iptables',
  files: IPTABLES_FILES,
  render: (ir) => renderIptables(ir),
  // Rendering is cheap next to an iptables apply: nothing to remember.
  createRenderer: () => (ir) => renderIptables(ir),
  print: (rs) => printIptables(rs.structure),
}
