/** `palisade lint PATH... [-o text|json|sarif]`: validation diagnostics plus semantic smells; exit 1 on any error. */
import type { Command } from 'commander'
import { LINT_RULES, lintInputs, renderSarif } from '../../lint/index.js'
import { formatDiagnostic } from '../format.js'
import { addClusterOptions, addInputOptions, type InputOptions, readInputsFromOptions } from '../options.js'

interface LintOptions extends InputOptions {
  readonly output: string
  readonly listRules?: boolean
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/** Registers the lint command. */
export function registerLint(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('lint')
    .description('report validation errors and policy smells (stable ids lint.*); exit 1 when any error')
    .argument('[paths...]', 'manifest files or folders')
    .option('-o, --output <format>', 'text | json | sarif', 'text')
    .option('--list-rules', 'print every lint check with its documentation and exit')
  addClusterOptions(addInputOptions(cmd)).action(async (paths: string[], opts: LintOptions) => {
    if (opts.listRules) {
      for (const r of LINT_RULES) process.stdout.write(`${r.id} (${r.severity}): ${r.doc}\n`)
      return setExit(0)
    }
    if (!['text', 'json', 'sarif'].includes(opts.output)) {
      process.stderr.write(`palisade lint: -o must be text, json or sarif, not "${opts.output}"\n`)
      return setExit(2)
    }
    const read = await readInputsFromOptions('lint', paths, opts)
    if (!read) return setExit(2)
    const result = lintInputs(read.inputs, { validate: read.mode, maxBytes: read.maxBytes })
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
