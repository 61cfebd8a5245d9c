/** `palisade lint PATH... [-o text|json|sarif]`: validation diagnostics plus semantic smells; exit 1 on any error. */
import { type Command, Option } from 'commander'
import { LINT_RULES, lintInputs, renderSarif } from '../../lint/index.js'
import { DIAGNOSTICS_DOC } from '../../model/index.js'
import { formatDiagnostic } from '../format.js'
import { addInputOptions, type InputOptions, readInputsFromOptions } from '../options.js'

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
    .option('-o, --output <format>', 'text | json | sarif', 'text')
    .option('--list-checks', 'print every lint check (id, default severity, one line) and exit; -o text|json')
    .addOption(new Option('--list-rules').hideHelp())
  addInputOptions(cmd).action(async (paths: string[], opts: LintOptions) => {
    if (opts.listChecks || opts.listRules) return setExit(listChecks(opts.output))
    if (!['text', 'json', 'sarif'].includes(opts.output)) {
      process.stderr.write(`palisade lint: -o must be text, json or sarif, not "${opts.output}"\n`)
      return setExit(2)
    }
    const read = await readInputsFromOptions('lint', paths, opts)
    if (!read) return setExit(2)
    const result = lintInputs(read.inputs, { validate: read.mode })
    const diagnostics = [...read.diagnostics, ...result.diagnostics]
    const errors = result.counts.error + read.diagnostics.filter((d) => d.severity === 'error').length
    if (opts.output === 'json') {
      const counts = { ...result.counts, error: errors }
      process.stdout.write(`${JSON.stringify({ diagnostics, counts }, null, 2)}\n`)
    } else if (opts.output === 'sarif') {
      process.stdout.write(
        `${JSON.stringify(renderSarif(diagnostics, program.version() ?? '0.0.0'), null, 2)}\n`,
      )
    } else {
      // Informational notes of the loader (skipped kinds, built-in namespaces) only with -v; lint notes always.
      const shown = diagnostics.filter(
        (d) => d.severity !== 'info' || opts.verbose || d.code.startsWith('lint.'),
      )
      for (const d of shown) process.stdout.write(`${formatDiagnostic(d)}\n`)
      const { warning, info } = result.counts
      process.stdout.write(`${plural(errors, 'error')}, ${plural(warning, 'warning')}, ${info} info\n`)
    }
    setExit(errors > 0 ? 1 : 0)
  })
}
