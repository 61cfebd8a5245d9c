/** The nftables backend: NodeIR -> `palisade.nft` (one atomic `nft -f` file). */
export {
  NFT_FAMILY,
  NFT_TABLE,
  type NftRendered,
  type NftStats,
  nftComment,
  renderNftables,
} from './render.js'
