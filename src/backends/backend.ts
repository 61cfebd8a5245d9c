/**
 * The seam to the kernel: what every backend (nftables, iptables + ipset, the next one) offers.
 *
 * A backend renders the node IR as a STRUCTURE (its tables, chains, sets and elements, each with a
 * stable identity), prints that structure as the exact files an operator reads and the kernel loads,
 * and computes the change between two structures. Its dataplane (`connect`) applies a structure whole
 * and atomically, applies a change, checks the kernel for drift and removes what it made. Nothing that
 * crosses this seam is text we parse back. Callers choose a backend by name through the registry
 * (registry.ts) and otherwise never look at which one they hold.
 */
import type { NodeIR } from '../compile/index.js'

/** Where `palisade apply` keeps its state (the agent: DEFAULT_STATE_DIR/agent). */
export const DEFAULT_STATE_DIR = '/run/palisade'

/** The backends the registry knows. Branching on this name happens only in registry.ts. */
export type BackendName = 'nftables' | 'iptables'

/** Sizes of a ruleset (metrics, logs, `palisade compile`). */
export interface RulesetStats {
  readonly rules: number
  readonly chains: number
  readonly sets: number
  readonly elements: number
}

/** A node's ruleset as its backend's structure `S`. */
export interface Ruleset<S = unknown> {
  readonly backend: BackendName
  readonly node: string
  readonly structure: S
  readonly stats: RulesetStats
}

/** A ruleset with its printed files (what `palisade compile` writes and the lab loads). */
export interface CompiledRuleset<S = unknown> extends Ruleset<S> {
  /** File name -> content, e.g. {'palisade.nft'} or {'ipset.restore', 'iptables.rules', 'ip6tables.rules'}. */
  readonly files: Readonly<Record<string, string>>
}

/** Renders IR objects it has seen before as the very objects it returned then. */
export type Renderer<S> = (ir: NodeIR) => Ruleset<S>

/** What a delta touches (logs, metrics). */
export interface DeltaStats {
  /** Set and map elements added and deleted. */
  readonly added: number
  readonly deleted: number
  /** Chains flushed (refilled, re-created or deleted) or created. */
  readonly chains: number
  /** Of those, chains flushed (refilled, re-created or deleted): their rules' counters restart. */
  readonly flushed?: number
  /**
   * Of the flushed chains, those whose previous rules keep a counter (drop counters): the only ones whose
   * counts are lost. Absent: unknown (treat every flushed chain as counted).
   */
  readonly counted?: number
  /** Sets and maps whose elements changed, or that were created, re-created or deleted. */
  readonly sets: number
}

/** How the kernel gets from one ruleset to the next. */
export type Change<D> =
  /** The kernel already holds the next ruleset (at most a comment outside the kernel changed). */
  | { readonly kind: 'none' }
  /** `delta` takes the kernel there in one transaction. */
  | { readonly kind: 'delta'; readonly delta: D; readonly stats: DeltaStats }
  /** Only a full apply is correct; `reason` says why when a delta was conceivable. */
  | { readonly kind: 'full'; readonly reason?: string }

/** Where a dataplane works: a network namespace, its state folder, time limits, the tool flavour. */
export interface DataplaneTarget {
  /** Network namespace to program (`ip netns exec`); absent = the current one. */
  readonly netns?: string
  /** Where the hash of the last applied ruleset and the ownership records are kept; default /run/palisade. */
  readonly stateDir?: string
  /** Cleanup: every state folder whose records count (default [stateDir]). */
  readonly stateDirs?: readonly string[]
  /** Time limit of each command in ms. */
  readonly timeoutMs?: number
  /** iptables flavour for the iptables backend (default nft); other backends ignore it. */
  readonly iptables?: 'nft' | 'legacy'
  /** nftables: apply deltas through one long-lived `nft -i` (docs/dataplane.md#nft-session); default true. */
  readonly nftSession?: boolean
}

export interface ApplyResult {
  /** False when the same ruleset was already loaded and intact: nothing was reloaded. */
  readonly changed: boolean
  /** Operator notes (e.g. a bridge without br_netfilter). */
  readonly warnings: readonly string[]
}

/** What the kernel holds next to what was applied. */
export type Drift =
  | { readonly kind: 'clean' }
  | { readonly kind: 'drifted'; readonly reason: string }
  /** This backend cannot check cheaply: reload to be sure. */
  | { readonly kind: 'unknown' }

export interface CleanupReport {
  /** Objects that carry our prefix but no record lists: left in place, named for the operator. */
  readonly left: readonly string[]
}

/**
 * One counted drop rule as the kernel holds it now (drop metrics). A rule the kernel re-created (a
 * reload, a flushed and refilled chain) has a new `id` and counts from 0 again.
 */
export interface KernelDropCounter {
  /** The rule's identity in the kernel, unique in one reading. */
  readonly id: string
  /** The chain holding the rule, as the backend names it (Backend.chainName of an IR chain id). */
  readonly chain: string
  /** Why the rule drops: its comment, or what it matches when it has none (`ct state invalid`). */
  readonly reason: string
  readonly packets: number
  readonly bytes: number
}

/**
 * A backend's edge, bound to one target. It remembers what it applied: the first full apply may skip a
 * load that its state file shows already in force (a restarted agent, a repeated `palisade apply`);
 * later ones always load, since deltas applied since then are not in the state file.
 */
export interface Dataplane<S = unknown, D = unknown> {
  /** Loads the ruleset whole, in one transaction; the previous rules stay in force when it throws. */
  apply(rs: Ruleset<S>): Promise<ApplyResult>
  /** Applies a delta in one transaction; the previous rules stay in force when it throws. */
  applyDelta(delta: D): Promise<void>
  /** Compares the kernel with the ruleset last applied. */
  drift(rs: Ruleset<S>): Promise<Drift>
  /** Removes what this backend made in the target, and nothing else. */
  cleanup(): Promise<CleanupReport>
  /** Reads the counters of our drop rules (one listing of the kernel's rules); absent on test doubles. */
  dropCounters?(): Promise<readonly KernelDropCounter[]>
  /** Ends what the dataplane keeps running (a long-lived `nft -i`); the rules stay. Absent: nothing to end. */
  close?(): Promise<void>
}

/** One backend. Everything but `connect`'s dataplane is pure. */
export interface Backend<S = unknown, D = unknown> {
  readonly name: BackendName
  /** The names of the files `print` returns, in order. */
  readonly files: readonly string[]
  /** Names a user may give for this backend with a target option each (`iptables-legacy`), for the lab. */
  readonly variants: readonly BackendVariant[]
  /** Renders a node's IR as this backend's structure. */
  render(ir: NodeIR): Ruleset<S>
  /** Returns a renderer with a memory of the IR objects it rendered (one per incremental compiler). */
  createRenderer(): Renderer<S>
  /** Prints a ruleset as its files, byte for byte what the kernel is given. */
  print(rs: Ruleset<S>): Readonly<Record<string, string>>
  /** The change from `prev` (in the kernel) to `next`. */
  diff(prev: Ruleset<S>, next: Ruleset<S>): Change<D>
  /** The name this backend gives the chain of an IR chain id (drop counters and drop logs name it). */
  chainName(irChainId: string): string
  /** Prints a delta as the kernel is given it (one transaction). */
  printDelta(delta: D): string
  /** Binds this backend's edge to a target. */
  connect(target: DataplaneTarget): Dataplane<S, D>
}

/** A name for a backend with target options (`iptables-legacy` = iptables through iptables-legacy). */
export interface BackendVariant {
  readonly name: string
  readonly backend: BackendName
  readonly target: Pick<DataplaneTarget, 'iptables'>
}
