/** Formats diagnostics for people (text) once, at the edge. */
import { type Diagnostic, formatPath } from '../model/index.js'

/** Formats one diagnostic: file:line:col: error: NetworkPolicy ns/name: spec.x[0].y: message [code] */
export function formatDiagnostic(d: Diagnostic): string {
  const src = d.source
  const where = src ? [src.file, src.line, src.column].filter((x) => x !== undefined).join(':') : '<input>'
  const parts = [`${where}: ${d.severity}:`]
  if (d.object) parts.push(`${d.object}:`)
  if (d.path.length > 0) parts.push(`${formatPath(d.path)}:`)
  parts.push(d.message, `[${d.code}]`)
  return parts.join(' ')
}
