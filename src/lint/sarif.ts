/** SARIF 2.1.0 output for lint results (GitHub code scanning, IDEs). */
import type { Diagnostic, DiagnosticCode } from '../model/index.js'
import { formatPath } from '../model/index.js'
import { LINT_RULES } from './rules.js'

export interface SarifLog {
  readonly $schema: string
  readonly version: '2.1.0'
  readonly runs: readonly unknown[]
}

interface SarifRule {
  readonly id: DiagnosticCode
  readonly shortDescription: { readonly text: string }
  readonly defaultConfiguration: { readonly level: string }
}

const LEVEL = { error: 'error', warning: 'warning', info: 'note' } as const

/** Renders diagnostics as a SARIF 2.1.0 log: every lint rule is declared; other codes are added as seen. */
export function renderSarif(diagnostics: readonly Diagnostic[], toolVersion: string): SarifLog {
  const rules: SarifRule[] = LINT_RULES.map((r) => ({
    id: r.id,
    shortDescription: { text: r.doc },
    defaultConfiguration: { level: LEVEL[r.severity] },
  }))
  const ids = rules.map((r) => r.id)
  for (const d of diagnostics) {
    if (ids.includes(d.code)) continue
    ids.push(d.code)
    rules.push({
      id: d.code,
      shortDescription: { text: d.code },
      defaultConfiguration: { level: LEVEL[d.severity] },
    })
  }
  const results = diagnostics.map((d) => {
    const where = d.path.length > 0 ? `${formatPath(d.path)}: ` : ''
    const who = d.object ? `${d.object}: ` : ''
    const region =
      d.source?.line !== undefined
        ? {
            startLine: d.source.line,
            ...(d.source.column !== undefined ? { startColumn: d.source.column } : {}),
          }
        : undefined
    return {
      ruleId: d.code,
      ruleIndex: ids.indexOf(d.code),
      level: LEVEL[d.severity],
      message: { text: `${who}${where}${d.message}` },
      ...(d.source
        ? {
            locations: [
              {
                physicalLocation: { artifactLocation: { uri: d.source.file }, ...(region ? { region } : {}) },
              },
            ],
          }
        : {}),
    }
  })
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'palisade', version: toolVersion, rules } },
        results,
      },
    ],
  }
}
