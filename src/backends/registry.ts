/**
 * The backends by name: the one place that maps a name (a flag value, a ruleset's `backend` field) to
 * the backend that implements it. Everything else holds a Backend and never asks which one it is.
 */
import type { Backend, BackendName, CompiledRuleset, Ruleset } from './backend.js'
import { iptablesBackend } from './iptables/index.js'
import { nftablesBackend } from './nftables/index.js'

const ALL: readonly Backend[] = [nftablesBackend, iptablesBackend]
const BY_NAME: ReadonlyMap<string, Backend> = new Map(ALL.map((b) => [b.name, b]))

/** Every backend's name, the default (nftables) first. */
export const BACKENDS: readonly BackendName[] = ALL.map((b) => b.name)

/** Returns the backend of that name. */
export function getBackend(name: BackendName): Backend {
  const b = BY_NAME.get(name)
  if (!b) throw new Error(`unknown backend ${JSON.stringify(name)}`)
  return b
}

/** Returns the backend name a flag gave, or undefined when no backend has that name. */
export function parseBackendName(text: string): BackendName | undefined {
  return BY_NAME.get(text)?.name
}

/** Returns a ruleset with its printed files. */
export function printRuleset<S>(rs: Ruleset<S>): CompiledRuleset<S> {
  return { ...rs, files: (getBackend(rs.backend) as Backend<S>).print(rs) }
}
