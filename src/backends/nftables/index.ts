/** The nftables backend: NodeIR -> `table inet palisade` as data -> `palisade.nft` (one atomic `nft -f` file). */
import type { Backend, Ruleset } from '../backend.js'
import { connectNftables } from './apply.js'
import { diffNftTables, type NftDelta, printNftDelta } from './delta.js'
import { NFT_FILE, nftStats, printNftables } from './print.js'
import { createNftRenderer, renderNftables } from './render.js'
import type { NftTable } from './structure.js'

export {
  applyNftables,
  cleanupNftables,
  connectNftables,
  dropCountersOfListing,
  type NftShape,
  nftTableHandle,
  shapeDrift,
  shapeOfListing,
  shapeOfTable,
} from './apply.js'
export {
  diffIndexed,
  diffNftTables,
  type NftDelta,
  type NftElement,
  printNftDelta,
  printNftDeltaLine,
} from './delta.js'
export {
  NFT_FILE,
  nftComment,
  nftStats,
  printMapElement,
  printNftables,
  printNftObject,
  printNftObjectLine,
} from './print.js'
export { createNftRenderer, NFT_FAMILY, NFT_TABLE, type NftRenderer, renderNftables } from './render.js'
export * from './structure.js'

const ruleset = (node: string, structure: NftTable): Ruleset<NftTable> => ({
  backend: 'nftables',
  node,
  structure,
  stats: nftStats(structure),
})

/** The nftables backend. */
export const nftablesBackend: Backend<NftTable, NftDelta> = {
  name: 'nftables',
  files: [NFT_FILE],
  variants: [{ name: 'nftables', backend: 'nftables', target: {} }],
  render: (ir) => ruleset(ir.node, renderNftables(ir)),
  createRenderer() {
    const render = createNftRenderer()
    return (ir) => ruleset(ir.node, render(ir))
  },
  print: (rs) => ({ [NFT_FILE]: printNftables(rs.structure) }),
  diff: (prev, next) => diffNftTables(prev.structure, next.structure),
  printDelta: printNftDelta,
  connect: connectNftables,
  chainName: (id) => id,
}
export { listNftTraceTables, startNftTrace } from './apply.js'
export {
  NFT_TRACE_TABLE_PREFIX,
  nftTraceIndex,
  nftTraceTable,
  parseNftTrace,
  renderNftTraceTable,
} from './trace.js'
