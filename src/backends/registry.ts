/**
 * The backends by name: the one place that maps a name (a flag value, a ruleset's `backend` field) to
 * the backend that implements it. Everything else holds a Backend and never asks which one it is.
 */

import type { NodeIR } from '../compile/index.js'
import type {
  ApplyResult,
  Backend,
  BackendName,
  BackendVariant,
  CleanupReport,
  CompiledRuleset,
  DataplaneTarget,
  Ruleset,
} from './backend.js'
import {
  iptablesBackend,
  iptablesTraceIndex,
  LEGACY_TRACE_REFUSAL,
  parseXtablesTrace,
  startIptablesTrace,
} from './iptables/index.js'
import { nftablesBackend, nftTraceIndex, parseNftTrace, startNftTrace } from './nftables/index.js'
import type { RawTrace, TraceIndex, TraceMatch, TraceSession } from './trace.js'

const ALL: readonly Backend[] = [nftablesBackend, iptablesBackend]
const BY_NAME: ReadonlyMap<string, Backend> = new Map(ALL.map((b) => [b.name, b]))

/** Every backend's name, the default (nftables) first. */
export const BACKENDS: readonly BackendName[] = ALL.map((b) => b.name)

/** The backend used when none is named. */
export const DEFAULT_BACKEND: BackendName = nftablesBackend.name

/** Every backend variant's name (`nftables`, `iptables-nft`, `iptables-legacy`), the default first. */
export const BACKEND_VARIANTS: readonly BackendVariant[] = ALL.flatMap((b) => b.variants)

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

/** Returns the variant a flag named (`iptables-legacy`), or undefined when there is none of that name. */
export function parseBackendVariant(text: string): BackendVariant | undefined {
  return BACKEND_VARIANTS.find((v) => v.name === text)
}

/** Returns a ruleset with its printed files. */
export function printRuleset<S>(rs: Ruleset<S>): CompiledRuleset<S> {
  return { ...rs, files: (getBackend(rs.backend) as Backend<S>).print(rs) }
}

/** Loads a ruleset with its backend, atomically; skips the load when it is already in force. */
export function applyRuleset(rs: Ruleset, target: DataplaneTarget = {}): Promise<ApplyResult> {
  return getBackend(rs.backend).connect(target).apply(rs)
}

/**
 * Removes what the named backends (default: every one) made in the target, and nothing else. Reports
 * what carries our prefix without a record: left in place. Every backend is tried; their errors come
 * back together.
 */
export async function cleanup(
  target: DataplaneTarget & { readonly backend?: BackendName | 'all' } = {},
): Promise<CleanupReport> {
  const chosen = target.backend === undefined || target.backend === 'all' ? ALL : [getBackend(target.backend)]
  const errors: string[] = []
  const left: string[] = []
  for (const b of chosen) {
    await b
      .connect(target)
      .cleanup()
      .then(
        (r) => left.push(...r.left),
        (e: unknown) => errors.push(String(e instanceof Error ? e.message : e)),
      )
  }
  if (errors.length > 0) throw new Error(errors.join('\n'))
  return { left }
}

/** How one backend variant traces a packet (`palisade trace`). */
export interface Tracer {
  /** What the monitor is, for messages ('nft monitor trace'). */
  readonly tool: string
  /** The kernel table our chains live in (a trace's steps elsewhere are not ours). */
  readonly table: string
  readonly index: (ir: NodeIR) => TraceIndex
  readonly parse: (text: string) => RawTrace[]
  readonly start: (
    target: { readonly netns?: string; readonly timeoutMs?: number },
    m: TraceMatch,
    tag?: string,
  ) => Promise<TraceSession>
}

/** Returns the tracer of a backend variant (`nftables`, `iptables-nft`), or why that variant cannot be traced. */
export function getTracer(variant: string): Tracer | string {
  if (variant === 'nftables')
    return {
      tool: 'nft monitor trace',
      table: 'palisade',
      index: nftTraceIndex,
      parse: parseNftTrace,
      start: startNftTrace,
    }
  if (variant === 'iptables-nft' || variant === 'iptables')
    return {
      tool: 'xtables-monitor --trace',
      table: 'filter',
      index: iptablesTraceIndex,
      parse: parseXtablesTrace,
      start: startIptablesTrace,
    }
  if (variant === 'iptables-legacy') return LEGACY_TRACE_REFUSAL
  return `unknown backend ${JSON.stringify(variant)}: one of ${BACKEND_VARIANTS.map((v) => v.name).join(', ')}`
}
