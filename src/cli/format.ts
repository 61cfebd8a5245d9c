/** Formats diagnostics for people (text) once, at the edge. */
import { type Diagnostic, formatPath } from '../model/index.js'
import type { Colors } from './color.js'

/**
 * Formats one diagnostic: file:line:col: error: NetworkPolicy ns/name: spec.x[0].y: message [code]. With
 * colours (a terminal), the severity is red, yellow or cyan and the code dim.
 */
export function formatDiagnostic(d: Diagnostic, c?: Colors): string {
  const src = d.source
  const where = src ? [src.file, src.line, src.column].filter((x) => x !== undefined).join(':') : '<input>'
  const severity =
    c === undefined
      ? `${d.severity}:`
      : d.severity === 'error'
        ? c.bold(c.red('error:'))
        : d.severity === 'warning'
          ? c.yellow('warning:')
          : c.cyan(`${d.severity}:`)
  const parts = [`${where}: ${severity}`]
  if (d.object) parts.push(`${d.object}:`)
  if (d.path.length > 0) parts.push(`${formatPath(d.path)}:`)
  parts.push(d.message, c === undefined ? `[${d.code}]` : c.dim(`[${d.code}]`))
  return parts.join(' ')
}

/** Output formats of structured data: JSON, or the same document as YAML (kubectl's -o yaml). */
export type DataFormat = 'json' | 'yaml'

/**
 * Prints a document as JSON (indented unless `compact`) or YAML. The YAML library is loaded only for
 * -o yaml: `check` starts without it.
 */
export async function writeData(format: DataFormat, value: unknown, compact = false): Promise<void> {
  if (format === 'yaml') {
    const { stringify } = await import('yaml')
    process.stdout.write(stringify(value, { lineWidth: 0 }))
    return
  }
  process.stdout.write(`${compact ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`)
}
