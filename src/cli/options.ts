/** Input options shared by every command that reads manifests: -f PATH (repeatable, - = stdin) and positional paths. */
import type { Command } from 'commander'
import {
  type InputText,
  type LoadedCluster,
  loadCluster,
  VALIDATION_MODES,
  type ValidationMode,
} from '../load/index.js'
import { type Diagnostic, hasErrors } from '../model/index.js'
import { formatDiagnostic } from './format.js'
import { readInputs } from './inputs.js'

export interface InputOptions {
  readonly filename?: string[]
  readonly validate?: ValidationMode
  readonly strict?: boolean
  readonly verbose?: boolean
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Adds -f/--filename, --validate, --strict and -v to a command. */
export function addInputOptions(cmd: Command): Command {
  return cmd
    .option('-f, --filename <path>', 'manifest file or folder (repeatable; - reads stdin)', collect)
    .option(
      '--validate <mode>',
      'strict | warn | ignore, like kubectl --validate (unknown and duplicate fields); lenient: warn, and also analyse objects the API server would refuse for reasons that decide no verdict (container name or image...)',
      'strict',
    )
    .option('--strict', 'any error is fatal (exit 2)')
    .option('-v, --verbose', 'also list skipped kinds and informational notes')
}

export interface ReadInputsResult {
  readonly inputs: InputText[]
  readonly diagnostics: Diagnostic[]
  readonly mode: ValidationMode
}

/**
 * Checks --validate, gathers -f and positional paths and reads them. Returns undefined (after saying why)
 * when the run cannot start: a bad mode or no input at all; the caller exits 2.
 */
export async function readInputsFromOptions(
  command: string,
  paths: readonly string[],
  opts: InputOptions,
  defaultMode: ValidationMode = 'strict',
): Promise<ReadInputsResult | undefined> {
  const mode = opts.validate ?? defaultMode
  if (!VALIDATION_MODES.includes(mode)) {
    process.stderr.write(
      `palisade ${command}: --validate must be strict, warn, ignore or lenient, not "${mode}"\n`,
    )
    return undefined
  }
  const all = [...(opts.filename ?? []), ...paths]
  if (all.length === 0) {
    process.stderr.write('palisade: no input: give manifest paths or -f PATH (- for stdin)\n')
    return undefined
  }
  const read = await readInputs(all)
  return { inputs: read.inputs, diagnostics: read.diagnostics, mode }
}

/**
 * Reads and loads every input; prints diagnostics to stderr. Returns undefined when the run must
 * stop (no input, or an error under --strict): the caller exits 2.
 */
export async function loadFromOptions(
  paths: readonly string[],
  opts: InputOptions,
  command = 'load',
): Promise<LoadedCluster | undefined> {
  const read = await readInputsFromOptions(command, paths, opts)
  if (!read) return undefined
  const loaded = loadCluster(read.inputs, { validate: read.mode })
  const diagnostics = [...read.diagnostics, ...loaded.diagnostics]
  for (const d of diagnostics) {
    if (d.severity === 'info' && !opts.verbose) continue
    process.stderr.write(`${formatDiagnostic(d)}\n`)
  }
  if (read.inputs.length === 0) return undefined
  if (opts.strict && hasErrors(diagnostics)) return undefined
  return { ...loaded, diagnostics }
}
