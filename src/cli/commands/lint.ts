/** `palisade lint PATH... [-o text|json|sarif]`: validation diagnostics plus semantic smells; exit 1 on any error. */
import { type Command, Option } from 'commander'
import { LINT_RULES, lintInputs, renderSarif } from '../../lint/index.js'
import { DIAGNOSTICS_DOC } from '../../model/index.js'
import { colorsFor } from '../color.js'
import { formatDiagnostic, writeData } from '../format.js'
import { addClusterOptions, addInputOptions, type InputOptions, readInputsFromOptions } from '../options.js'

interface LintOptions extends InputOptions {
  readonly output: string
  readonly listChecks?: boolean
  readonly listRules?: boolean
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/** Prints the lint checks from the catalogue of codes as aligned text or JSON; returns the exit code. */
function listChecks(output: string): number {
  if (output === 'json') {
    const checks = LINT_RULES.map((r) => ({
      id: r.id,
      severity: r.severity,
      doc: r.doc,
      docs: `${DIAGNOSTICS_DOC}#${r.anchor}`,
    }))
    process.stdout.write(`${JSON.stringify({ checks }, null, 2)}\n`)
    return 0
  }
  if (output !== 'text') {
    process.stderr.write(`palisade lint: --list-checks prints text or json, not "${output}"\n`)
    return 2
  }
  const width = Math.max(...LINT_RULES.map((r) => r.id.length))
  for (const r of LINT_RULES)
    process.stdout.write(`${r.id.padEnd(width)}  ${r.severity.padEnd(7)}  ${r.doc}\n`)
  return 0
}

/** Registers the lint command. */
export function registerLint(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('lint')
    .description('report validation errors and policy smells (stable ids lint.*); exit 1 when any error')
    .argument('[paths...]', 'manifest files or folders')
    .option('-o, --output <format>', 'text | json | yaml | sarif', 'text')
    .option('--list-checks', 'print every lint check (id, default severity, one line) and exit; -o text|json')
    .addOption(new Option('--list-rules').hideHelp())
  addClusterOptions(addInputOptions(cmd)).action(async (paths: string[], opts: LintOptions) => {
    if (opts.listChecks || opts.listRules) return setExit(listChecks(opts.output))
    if (!['text', 'json', 'yaml', 'sarif'].includes(opts.output)) {
      process.stderr.write(`palisade lint: -o must be text, json, yaml or sarif, not "${opts.output}"\n`)
      return setExit(2)
    }
    const read = await readInputsFromOptions('lint', paths, opts)
    if (!read) return setExit(2)
    if (read.inputs.length === 0) {
      // Nothing was read (a missing file, an empty folder): say why, and stop as the other commands do.
      for (const d of read.diagnostics) process.stderr.write(`${formatDiagnostic(d, colorsFor('stderr'))}\n`)
      return setExit(2)
    }
    const result = lintInputs(read.inputs, { validate: read.mode, maxBytes: read.maxBytes })
    const diagnostics = [...read.diagnostics, ...result.diagnostics]
    const errors = result.counts.error + read.diagnostics.filter((d) => d.severity === 'error').length
    const leftOut = result.counts.leftOut
    if (opts.output === 'json' || opts.output === 'yaml') {
      const counts = { ...result.counts, error: errors }
      await writeData(opts.output, { diagnostics, counts })
    } else if (opts.output === 'sarif') {
      process.stdout.write(
        `${JSON.stringify(renderSarif(diagnostics, program.version() ?? '0.0.0'), null, 2)}\n`,
      )
    } else {
      // Notes (info) only with -v; the summary counts what was printed and says how many are hidden.
      const shown = diagnostics.filter((d) => d.severity !== 'info' || opts.verbose)
      const c = colorsFor('stdout')
      for (const d of shown) process.stdout.write(`${formatDiagnostic(d, c)}\n`)
      const hidden = diagnostics.length - shown.length
      const shownInfo = shown.filter((d) => d.severity === 'info').length
      const warnings = shown.filter((d) => d.severity === 'warning').length
      const parts = [
        `${plural(errors, 'error')}${leftOut > 0 ? ` (${plural(leftOut, 'object')} left out)` : ''}`,
        plural(warnings, 'warning'),
      ]
      if (shownInfo > 0) parts.push(`${shownInfo} info`)
      if (hidden > 0) parts.push(`${hidden} hidden (-v shows ${hidden === 1 ? 'it' : 'them'})`)
      process.stdout.write(`${parts.join(', ')}\n`)
    }
    setExit(errors + leftOut > 0 ? 1 : 0)
  })
}
