/**
 * The nftables ruleset as data: one table, and in it sets, maps and chains, each identified by its kind
 * and name (sets and maps share one namespace in the kernel). The renderer builds it from the IR, the
 * printer turns it into the `nft -f` file, and the delta compares two of them: nothing is ever parsed
 * back from text.
 */

/** A verdict as a verdict map holds it. */
export type NftVerdict =
  | { readonly kind: 'jump' | 'goto'; readonly chain: string }
  | { readonly kind: 'accept' | 'drop' }

/** A named set: `elements` as nft writes them (`10.0.0.1`, `10.0.0.0/8`, `10.0.0.1 . 80`, `"veth0"`). */
export interface NftSet {
  readonly kind: 'set'
  readonly name: string
  /** The set's `type` (e.g. `ipv4_addr`, `ifname . ipv4_addr`). */
  readonly type: string
  /** e.g. `interval`; absent = no flags. */
  readonly flags?: string
  /** Raw comment text (the printer quotes and bounds it). */
  readonly comment: string
  readonly elements: readonly string[]
}

/** One element of a verdict map: key (as nft writes it) -> verdict. */
export interface NftMapElement {
  readonly key: string
  readonly verdict: NftVerdict
}

/** A named verdict map. */
export interface NftMap {
  readonly kind: 'map'
  readonly name: string
  /** The map's `type` (e.g. `ipv4_addr : verdict`). */
  readonly type: string
  readonly flags?: string
  readonly comment: string
  readonly elements: readonly NftMapElement[]
}

/** The hook of a base chain (`type filter hook forward priority filter; policy accept;`). */
export interface NftHook {
  readonly type: 'filter'
  readonly hook: 'forward'
  /** As nft writes it: `filter`, `filter + 10`. */
  readonly priority: string
  readonly policy: 'accept' | 'drop'
}

/** A chain; a base chain has a hook. */
export interface NftChain {
  readonly kind: 'chain'
  readonly name: string
  readonly hook?: NftHook
  readonly comment: string
  /** Rule statements in order, as nft writes them (each one line). */
  readonly rules: readonly string[]
  /**
   * Names of the sets, maps and chains its rules refer to (`@set`, `vmap @map`, `jump chain`), sorted:
   * what must let go of an object before it can be deleted and re-created.
   */
  readonly refs: readonly string[]
}

export type NftObject = NftSet | NftMap | NftChain

/** A named limit (a stateful object shared by every rule naming it): `limit NAME { rate R/second burst B packets }`. */
export interface NftLimit {
  readonly name: string
  /** Packets per second. */
  readonly rate: number
  readonly burst: number
}

/** The one table Palisade owns, whole. */
export interface NftTable {
  readonly family: 'inet'
  readonly name: string
  /** Lines of the file's `#` header: for the reader of the file, never part of the kernel's table. */
  readonly notes: readonly string[]
  readonly comment: string
  /** Named limits, declared before the objects (absent: none; --log-drops adds the node's drop-log limit). */
  readonly limits?: readonly NftLimit[]
  /** In print order: sets, policy chains, pod chains with their port maps, dispatch maps, base chains. */
  readonly objects: readonly NftObject[]
}

// The constructors give every object of a kind the same fields in the same order (one hidden class):
// the renderer makes hundreds of them per sync and the delta reads them all.

/** Returns a named set. */
export function nftSet(
  name: string,
  type: string,
  comment: string,
  elements: readonly string[],
  flags?: string,
): NftSet {
  return { kind: 'set', name, type, flags, comment, elements }
}

/** Returns a named verdict map. */
export function nftMap(
  name: string,
  type: string,
  comment: string,
  elements: readonly NftMapElement[],
  flags?: string,
): NftMap {
  return { kind: 'map', name, type, flags, comment, elements }
}

/** Returns a chain (a base chain when `hook` is given). */
export function nftChain(
  name: string,
  comment: string,
  rules: readonly string[],
  refs: readonly string[],
  hook?: NftHook,
): NftChain {
  return { kind: 'chain', name, hook, comment, rules, refs }
}

/** Returns the identity of an object in its table: `chain:NAME` or `set:NAME` (sets and maps share names). */
export function nftObjectKey(o: NftObject): string {
  return `${o.kind === 'chain' ? 'chain' : 'set'}:${o.name}`
}
