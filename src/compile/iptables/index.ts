/** The iptables + ipset backend: NodeIR -> ipset restore file + iptables-restore / ip6tables-restore files. */
export { IPSET_PREFIX, IPTABLES_CHAIN_PREFIX, MAX_CHAIN_NAME, MAX_SET_NAME } from './names.js'
export {
  chainNameOf,
  DEFAULT_MARK_BIT,
  IPTABLES_ENTRY_CHAIN,
  IPTABLES_FILES,
  type IptablesRenderOptions,
  ipsetName,
  renderIptables,
} from './render.js'
