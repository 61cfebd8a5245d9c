// Writes docs/diagnostics.md from the catalogue of codes (src/model/catalogue.ts), built by tsc first:
// `npm run docs:diagnostics`. test/model/catalogue.test.ts fails when the committed file is stale.
import { writeFileSync } from 'node:fs'
import { renderDiagnosticsDoc } from '../dist/src/model/catalogue-doc.js'

const file = new URL('../docs/diagnostics.md', import.meta.url)
writeFileSync(file, renderDiagnosticsDoc())
process.stdout.write(`wrote ${file.pathname}\n`)
