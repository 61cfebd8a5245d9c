/**
 * `palisade lint`: every load/validation diagnostic plus semantic smells with stable ids (rules.ts).
 * Pure: texts in, sorted diagnostics out; the CLI formats them as text, JSON or SARIF.
 */
import { type InputText, loadCluster, type ValidationMode } from '../load/index.js'
import type { ClusterState, Diagnostic, RawObject } from '../model/index.js'
import { lintRawObjects } from './raw.js'
import { lintSemantics } from './semantic.js'

export { lintRawObjects } from './raw.js'
export { LINT_RULES, type LintRule, lintRule } from './rules.js'
export { renderSarif, type SarifLog } from './sarif.js'
export { lintSemantics } from './semantic.js'

export interface LintInput {
  readonly cluster: ClusterState
  /** Load and validation diagnostics (they are part of the lint result). */
  readonly diagnostics: readonly Diagnostic[]
  /** Every parsed object, also those validation rejected (raw checks read what was written). */
  readonly written: readonly RawObject[]
  /** Objects the loader accepted (exact positions for semantic findings). */
  readonly accepted: readonly RawObject[]
}

export interface LintResult {
  readonly diagnostics: readonly Diagnostic[]
  /**
   * Findings per severity; a rejected object's `load.rejected` line is the consequence of its error(s),
   * so it counts once, in `leftOut`, not again as an error.
   */
  readonly counts: {
    readonly error: number
    readonly warning: number
    readonly info: number
    readonly leftOut: number
  }
}

/**
 * Moves each `load.rejected` line ("X was left out") after the findings of the same object in the same
 * document: the cause first, then what it caused.
 */
export function placeRejections(ds: readonly Diagnostic[]): Diagnostic[] {
  const out = ds.filter((d) => d.code !== 'load.rejected')
  for (const r of ds) {
    if (r.code !== 'load.rejected') continue
    const same = (d: Diagnostic) =>
      d.object === r.object && d.source?.file === r.source?.file && d.source?.doc === r.source?.doc
    let at = -1
    out.forEach((d, i) => {
      if (same(d)) at = i
    })
    if (at >= 0) {
      out.splice(at + 1, 0, r)
      continue
    }
    // No finding of its own here: it keeps its place in the sorted order.
    const next = out.findIndex((d) => sortDiagnostics([r, d])[0] === r)
    out.splice(next < 0 ? out.length : next, 0, r)
  }
  return out
}

const cmp = (a: string | number | undefined, b: string | number | undefined): number => {
  if (a === b) return 0
  if (a === undefined) return -1
  if (b === undefined) return 1
  return a < b ? -1 : 1
}

const RANK = { error: 0, warning: 1, info: 2 } as const

/** Orders diagnostics by file, line, column, severity (causes first), code (deterministic output). */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort(
    (a, b) =>
      cmp(a.source?.file, b.source?.file) ||
      cmp(a.source?.line, b.source?.line) ||
      cmp(a.source?.column, b.source?.column) ||
      RANK[a.severity] - RANK[b.severity] ||
      cmp(a.code, b.code) ||
      cmp(a.message, b.message),
  )
}

/** Lints a loaded cluster: its diagnostics, raw-object checks and semantic checks, sorted. */
export function lintLoaded(input: LintInput): LintResult {
  const all = placeRejections(
    sortDiagnostics([
      ...input.diagnostics,
      ...lintRawObjects(input.written, input.diagnostics),
      ...lintSemantics(input.cluster, input.accepted),
    ]),
  )
  const counts = { error: 0, warning: 0, info: 0, leftOut: 0 }
  for (const d of all) {
    if (d.code === 'load.rejected') counts.leftOut++
    else counts[d.severity]++
  }
  return { diagnostics: all, counts }
}

/** Loads the inputs (with the given validation mode) and lints them: each input is parsed once. */
export function lintInputs(
  inputs: readonly InputText[],
  opts: { readonly validate: ValidationMode; readonly maxBytes?: number },
): LintResult {
  const loaded = loadCluster(inputs, {
    validate: opts.validate,
    ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }),
  })
  return lintLoaded({
    cluster: loaded.cluster,
    diagnostics: loaded.diagnostics,
    written: loaded.written,
    accepted: loaded.objects,
  })
}
