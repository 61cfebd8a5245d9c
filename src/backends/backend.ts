/**
 * The seam to the kernel: what every backend (nftables, iptables + ipset, the next one) offers.
 *
 * A backend renders the node IR as a STRUCTURE (its tables, chains, sets and elements, each with a
 * stable identity), prints that structure as the exact files an operator reads and the kernel loads,
 * and computes the change between two structures. Nothing that crosses this seam is text we parse
 * back. Callers choose a backend by name through the registry (registry.ts) and otherwise never look
 * at which one they hold.
 */
import type { NodeIR } from '../compile/index.js'

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

/** One backend. Everything here is pure. */
export interface Backend<S = unknown> {
  readonly name: BackendName
  /** The names of the files `print` returns, in order. */
  readonly files: readonly string[]
  /** Renders a node's IR as this backend's structure. */
  render(ir: NodeIR): Ruleset<S>
  /** Returns a renderer with a memory of the IR objects it rendered (one per incremental compiler). */
  createRenderer(): Renderer<S>
  /** Prints a ruleset as its files, byte for byte what the kernel is given. */
  print(rs: Ruleset<S>): Readonly<Record<string, string>>
}
