/**
 * `palisade lint`: every load/validation diagnostic plus semantic smells with stable ids (rules.ts).
 * Pure: texts in, sorted diagnostics out; the CLI formats them as text, JSON or SARIF.
 */
import { type InputText, loadCluster, parseDocuments, type ValidationMode } from '../load/index.js'
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
  readonly counts: { readonly error: number; readonly warning: number; readonly info: number }
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
  const all = sortDiagnostics([
    ...input.diagnostics,
    ...lintRawObjects(input.written, input.diagnostics),
    ...lintSemantics(input.cluster, input.accepted),
  ])
  const counts = { error: 0, warning: 0, info: 0 }
  for (const d of all) counts[d.severity]++
  return { diagnostics: all, counts }
}

/** Loads the inputs (with the given validation mode) and lints them. */
export function lintInputs(
  inputs: readonly InputText[],
  opts: { readonly validate: ValidationMode; readonly maxBytes?: number },
): LintResult {
  const loaded = loadCluster(inputs, {
    validate: opts.validate,
    ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }),
  })
  const written = inputs.flatMap(
    (input) => parseDocuments(input, opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }).value,
  )
  return lintLoaded({
    cluster: loaded.cluster,
    diagnostics: loaded.diagnostics,
    written,
    accepted: loaded.objects,
  })
}
