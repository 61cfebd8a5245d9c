/** Diagnostics: the core never throws for bad input, it returns values plus diagnostics. */
import type { DiagnosticCode } from './catalogue.js'

export type Severity = 'error' | 'warning' | 'info'

/** Where something came from, as the user named it. Lines and columns are 1-based. */
export interface SourceRef {
  readonly file: string
  readonly line?: number
  readonly column?: number
  /** 0-based document index in a multi-document file. */
  readonly doc?: number
}

export type FieldPath = readonly (string | number)[]

export interface Diagnostic {
  /** Stable kebab-case id grouped by area, from the catalogue (catalogue.ts): 'yaml.syntax', 'lint.no-pods-selected'. */
  readonly code: DiagnosticCode
  readonly severity: Severity
  /** API server wording where one exists. */
  readonly message: string
  /** 'NetworkPolicy team-a/allow-dns' */
  readonly object?: string
  readonly path: FieldPath
  readonly source?: SourceRef
}

export interface Result<T> {
  readonly value: T
  readonly diagnostics: readonly Diagnostic[]
}

/** Formats a field path the way the API server does: spec.ingress[0].ports[0].protocol */
export function formatPath(path: FieldPath): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else out += out === '' ? seg : `.${seg}`
  }
  return out
}

/** Returns true when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error')
}
