/** Compiles each lab node's rules with Palisade's compiler and loads them into the node namespace. */
import { join } from 'node:path'
import {
  applyRuleset,
  BACKEND_VARIANTS,
  type BackendVariant,
  type CompiledRuleset,
  compileNode,
  conntrackIO,
  parseBackendVariant,
  type RevokeReport,
  revokeEstablished as revokeFlows,
} from '../backends/index.js'
import { buildNodeIR, type CompileOptions } from '../compile/index.js'
import type { Diagnostic } from '../model/index.js'
import { LabError, withTimeout } from './exec.js'
import type { Lab } from './topology.js'

/** How the lab loads rules: a backend variant (nftables, or iptables + ipset through either iptables flavour). */
export type LabBackend = 'nftables' | 'iptables-nft' | 'iptables-legacy'
/** Every backend variant the registry knows, the default first. */
export const LAB_BACKENDS = BACKEND_VARIANTS.map((v) => v.name) as readonly LabBackend[]

/** Returns the backend and its target options (the iptables flavour) of a lab backend. */
export function labBackend(b: LabBackend): BackendVariant {
  const v = parseBackendVariant(b)
  if (!v) throw new LabError(`unknown backend ${JSON.stringify(b)}: one of ${LAB_BACKENDS.join(', ')}`)
  return v
}

/** Returns the pod key -> host-side interface map of one node (the compiler's anti-spoofing input). */
export function podInterfacesOf(lab: Lab, node: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of lab.plan.pods) if (p.node === node) out[p.key] = p.hostIf
  return out
}

export interface AppliedRules {
  readonly rulesets: readonly CompiledRuleset[]
  readonly diagnostics: readonly Diagnostic[]
  readonly warnings: readonly string[]
  /** With revokeEstablished: when every node's rules were committed (Date.now()), and each node's sweep. */
  readonly committedAt?: number
  readonly revoked?: readonly (RevokeReport & { readonly node: string })[]
}

export interface LabRulesOptions {
  readonly timeoutMs?: number
  /**
   * As `palisade apply --revoke-established`: the rules refuse TCP picked up mid-stream, and once every
   * node's rules are committed each node deletes the conntrack entries of the flows they refuse.
   */
  readonly revokeEstablished?: boolean
}

/** Compiles and applies the rules of every node of the lab (in parallel, each with a time limit). */
export async function applyLabRules(
  lab: Lab,
  backend: LabBackend,
  o: number | LabRulesOptions = {},
): Promise<AppliedRules> {
  const { timeoutMs = 30_000, revokeEstablished = false } = typeof o === 'number' ? { timeoutMs: o } : o
  const variant = labBackend(backend)
  const optionsOf = (node: string): CompileOptions => ({
    podInterfaces: podInterfacesOf(lab, node),
    ...(revokeEstablished ? { revokeEstablished: true } : {}),
  })
  const compiled = lab.plan.nodes.map((n) =>
    compileNode(lab.plan.cluster, n.name, variant.backend, optionsOf(n.name)),
  )
  const warnings: string[] = []
  await Promise.all(
    lab.plan.nodes.map(async (n, i) => {
      const rs = (compiled[i] as (typeof compiled)[number]).value
      const r = await withTimeout(
        `loading rules into ${n.netns}`,
        timeoutMs,
        applyRuleset(rs, {
          netns: n.netns,
          ...variant.target,
          stateDir: join(lab.stateDir, 'dataplane'),
          timeoutMs,
        }),
      ).catch((e: unknown) => {
        throw new LabError(
          `node ${n.name}: ${backend} rules did not load: ${e instanceof Error ? e.message : String(e)}`,
        )
      })
      for (const w of r.warnings) warnings.push(`node ${n.name}: ${w}`)
    }),
  )
  const base = {
    rulesets: compiled.map((c) => c.value),
    diagnostics: compiled.flatMap((c) => c.diagnostics),
    warnings,
  }
  if (!revokeEstablished) return base
  const committedAt = Date.now()
  const revoked = await Promise.all(
    lab.plan.nodes.map(async (n) => ({
      node: n.name,
      ...(await revokeFlows(
        conntrackIO({ netns: n.netns, timeoutMs }),
        buildNodeIR(lab.plan.cluster, n.name, optionsOf(n.name)),
      )),
    })),
  )
  return { ...base, committedAt, revoked }
}
