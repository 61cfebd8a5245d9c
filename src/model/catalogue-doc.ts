/** Renders docs/diagnostics.md from the catalogue of codes (`npm run docs:diagnostics` writes it). */
import { CODE_AREAS, type CodeArea, DIAGNOSTICS_DOC, listCodes } from './catalogue.js'

const cell = (text: string): string => text.replaceAll('|', '\\|')

/** Returns the text of docs/diagnostics.md: one table per area, one anchored row per code. */
export function renderDiagnosticsDoc(): string {
  const codes = listCodes()
  const out: string[] = [
    '# Diagnostic codes',
    '',
    `<!-- Generated from src/model/catalogue.ts by \`npm run docs:diagnostics\`: do not edit by hand. test/model/catalogue.test.ts fails when ${DIAGNOSTICS_DOC} is stale. -->`,
    '',
    'Every diagnostic Palisade reports (`file:line:column: severity: object: path: message [code]` in text, `code` in',
    'JSON, `ruleId` in SARIF), every lint check and every finding of `palisade diff` carries one of these stable codes. A code is never',
    'renamed; link to one as `docs/diagnostics.md#<code with a dash for the dot>` (`#lint-no-pods-selected`).',
    '',
    'The severity is the default. `--validate` changes it for `schema.*` (strict: error; warn and lenient: warning;',
    'ignore: dropped) and, under `lenient`, for the `validate.*` errors that decide no verdict (warning); the agent',
    'reports an unknown field outside a NetworkPolicy spec as a warning. `palisade lint --list-checks` prints the',
    'lint checks (`-o json` too).',
    '',
  ]
  for (const area of Object.keys(CODE_AREAS) as CodeArea[]) {
    out.push(`## ${area}`, '', CODE_AREAS[area], '', '| code | severity | meaning |', '|---|---|---|')
    for (const c of codes.filter((x) => x.area === area))
      out.push(`| <a id="${c.anchor}"></a>\`${c.code}\` | ${c.severity} | ${cell(c.doc)} |`)
    out.push('')
  }
  return out.join('\n')
}
