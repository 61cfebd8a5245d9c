/** Input options shared by every command that reads manifests: -f PATH (repeatable, - = stdin) and positional paths. */
import type { Command } from 'commander'
import {
  DEFAULT_MAX_BYTES,
  type InputText,
  type LoadedClusterState,
  type LoadScope,
  loadClusterState,
  VALIDATION_MODES,
  type ValidationMode,
} from '../load/index.js'
import { type Diagnostic, hasErrors } from '../model/index.js'
import { colorsFor } from './color.js'
import { formatDiagnostic } from './format.js'
import { readInputs } from './inputs.js'

export interface InputOptions {
  readonly filename?: string[]
  readonly validate?: ValidationMode
  readonly strict?: boolean
  readonly verbose?: boolean
  /** --kubeconfig [FILE]: read the live cluster (true: the default kubeconfig or in-cluster config). */
  readonly kubeconfig?: string | boolean
  /** --context NAME: a context of the kubeconfig (implies reading the cluster). */
  readonly context?: string
  /** --max-input-size SIZE: the per-input limit (default DEFAULT_MAX_BYTES). */
  readonly maxInputSize?: string
}

/** The largest input any limit allows: V8's longest string (2^29 - 24 UTF-16 units), as one input is decoded into one. */
export const MAX_INPUT_SIZE_CEILING = 2 ** 29 - 24

/**
 * Parses a size: bytes, or a number with Ki, Mi, Gi (also KiB, MiB, GiB; K, M, G are powers of 1000, as
 * in Kubernetes quantities). Returns an error message when it is not one or is beyond the ceiling.
 */
export function parseSize(text: string): number | string {
  const m = /^(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|KiB|MiB|GiB|K|M|G|k)?$/.exec(text.trim())
  if (!m) return `--max-input-size must be a size such as 512Mi, 1Gi or 100000000, not "${text}"`
  const unit = (m[2] ?? '').replace(/B$/, '')
  const factor =
    (
      { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1000, k: 1000, M: 1000 ** 2, G: 1000 ** 3 } as Record<
        string,
        number
      >
    )[unit] ?? 1
  const bytes = Math.floor(Number(m[1]) * factor)
  if (bytes < 1) return `--max-input-size must be at least 1 byte, not "${text}"`
  if (bytes > 512 * 1024 ** 2)
    return `--max-input-size ${text} is beyond what one input can hold (512Mi: the longest string Node can make): split the input into several files`
  return Math.min(bytes, MAX_INPUT_SIZE_CEILING)
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Adds -f/--filename, --validate, --strict and -v to a command. */
export function addInputOptions(cmd: Command): Command {
  return cmd
    .option('-f, --filename <path>', 'manifest file or folder (repeatable; - reads stdin)', collect)
    .option(
      '--validate <mode>',
      'strict | warn | ignore | lenient; the first three as kubectl --validate (unknown and duplicate fields); lenient: warn, and also analyse objects the API server would refuse for reasons that decide no verdict (container name or image...)',
      'strict',
    )
    .option('--strict', 'any error is fatal (exit 2)')
    .option(
      '--max-input-size <size>',
      `largest input read, per file (default ${DEFAULT_MAX_BYTES / 1024 / 1024}Mi; at most 512Mi)`,
    )
    .option('-v, --verbose', 'also list skipped kinds and informational notes')
}

/**
 * Adds --kubeconfig [FILE] and --context NAME: the command reads the live cluster (with paths as well:
 * the files come after the cluster's objects, so a file's version of an object wins, as `kubectl apply`
 * of it would).
 */
export function addClusterOptions(cmd: Command): Command {
  return cmd
    .option(
      '--kubeconfig [file]',
      'read the live cluster: this kubeconfig, or without FILE $KUBECONFIG, ~/.kube/config or the in-cluster service account',
    )
    .option('--context <name>', 'read the live cluster through this kubeconfig context')
}

/** Returns whether the options ask for the live cluster. */
export function wantsCluster(opts: InputOptions): boolean {
  return (opts.kubeconfig !== undefined && opts.kubeconfig !== false) || opts.context !== undefined
}

/**
 * Reads the live cluster the options name (the shared entry for every command that analyses one):
 * objects as inputs named cluster/<kind>/<ns>/<name>.json and diagnostics; a progress line on stderr
 * while a big cluster is listed.
 */
export async function loadFromCluster(
  opts: InputOptions,
): Promise<{ inputs: InputText[]; diagnostics: Diagnostic[] }> {
  const { readCluster } = await import('./kube-inputs.js')
  const tty = process.stderr.isTTY === true
  return readCluster(
    {
      ...(typeof opts.kubeconfig === 'string' ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.context !== undefined ? { context: opts.context } : {}),
    },
    (line, done) => {
      if (tty) process.stderr.write(`\r\x1b[K${line}${done ? '\n' : ''}`)
      else if (done) process.stderr.write(`palisade: ${line}\n`)
    },
  )
}

export interface ReadInputsResult {
  readonly inputs: InputText[]
  readonly diagnostics: Diagnostic[]
  readonly mode: ValidationMode
  /** The per-input limit in bytes. */
  readonly maxBytes: number
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
  const maxBytes = opts.maxInputSize === undefined ? DEFAULT_MAX_BYTES : parseSize(opts.maxInputSize)
  if (typeof maxBytes === 'string') {
    process.stderr.write(`palisade ${command}: ${maxBytes}\n`)
    return undefined
  }
  const all = [...(opts.filename ?? []), ...paths]
  const cluster = wantsCluster(opts)
  if (all.length === 0 && !cluster) {
    process.stderr.write(
      'palisade: no input: give manifest paths, -f PATH (- for stdin) or --kubeconfig [FILE]\n',
    )
    return undefined
  }
  const live = cluster ? await loadFromCluster(opts) : { inputs: [], diagnostics: [] }
  const read = all.length > 0 ? await readInputs(all, { maxBytes }) : { inputs: [], diagnostics: [] }
  return {
    inputs: [...live.inputs, ...read.inputs],
    diagnostics: [...live.diagnostics, ...read.diagnostics],
    mode,
    maxBytes,
  }
}

/** What a command may add to how its inputs are loaded. */
export interface LoadHooks {
  /**
   * Told what was read before it is loaded (`compile --all-nodes --jobs` starts its workers, which load
   * it too, meanwhile).
   */
  readonly onRead?: (read: ReadInputsResult) => void
  /** The namespaces whose pods and policies the command's answer depends on (LoadScope). */
  readonly scope?: LoadScope
}

/**
 * Reads and loads every input; prints diagnostics to stderr. Returns undefined when the run must
 * stop (no input, or an error under --strict): the caller exits 2.
 */
export async function loadFromOptions(
  paths: readonly string[],
  opts: InputOptions,
  command: string,
  { onRead, scope }: LoadHooks = {},
): Promise<LoadedClusterState | undefined> {
  const read = await readInputsFromOptions(command, paths, opts)
  if (!read) return undefined
  onRead?.(read)
  const count = read.inputs.length
  const progress = process.stderr.isTTY === true ? progressLine() : undefined
  // Each input's bytes are let go once it is read (nobody else holds them unless onRead kept `read`):
  // a dump of hundreds of MiB is then in memory once, as text, not twice.
  const loaded = loadClusterState(onRead ? read.inputs : consume(read.inputs), {
    validate: read.mode,
    maxBytes: read.maxBytes,
    ...(progress ? { onProgress: progress.update } : {}),
    ...(scope ? { scope } : {}),
  })
  progress?.done()
  const diagnostics = [...read.diagnostics, ...loaded.diagnostics]
  for (const d of diagnostics) {
    if (d.severity === 'info' && !opts.verbose) continue
    process.stderr.write(`${formatDiagnostic(d, colorsFor('stderr'))}\n`)
  }
  if (count === 0) return undefined
  if (opts.strict && hasErrors(diagnostics)) return undefined
  return { ...loaded, diagnostics }
}

/** The items of an array, each taken out of it as it is handed over (no variable here holds it after). */
function* consume<T>(items: T[]): Generator<T> {
  while (items.length > 0) yield items.shift() as T
}

/** Below this many milliseconds of reading, no progress line is shown. */
const PROGRESS_AFTER_MS = 1000

/**
 * A progress line on stderr (a terminal only: redirected stderr, scripts' and tests', stays clean) for
 * inputs whose reading takes more than a second: the file and the share of its text read, rewritten in
 * place at most ten times a second, erased when the reading ends.
 */
function progressLine(): { update: (file: string, done: number, total: number) => void; done: () => void } {
  const start = performance.now()
  let last = 0
  let shown = false
  return {
    update(file, done, total) {
      const now = performance.now()
      if (now - start < PROGRESS_AFTER_MS || now - last < 100) return
      last = now
      shown = true
      const share = total === 0 ? 100 : Math.floor((done / total) * 100)
      process.stderr.write(
        `\r\x1b[Kpalisade: reading ${file}: ${share}% of ${(total / 2 ** 20).toFixed(1)} MiB`,
      )
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K')
    },
  }
}
