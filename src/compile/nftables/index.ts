/** The nftables backend: NodeIR -> `palisade.nft` (one atomic `nft -f` file). */
export {
  createNftRenderCache,
  NFT_FAMILY,
  NFT_TABLE,
  type NftRenderCache,
  type NftRendered,
  type NftStats,
  nftComment,
  renderNftables,
} from './render.js'
