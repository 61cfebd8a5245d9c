/**
 * `palisade diff OLD NEW`: what a change to manifests does to reachability. Exit 0 unchanged, 1 changed,
 * 2 on error, so that CI can gate on it.
 */
import type { Command } from 'commander'
import {
  diffClusters,
  diffToJSON,
  hasChanges,
  renderDiffCSV,
  renderDiffMarkdown,
  renderDiffSarif,
  renderDiffText,
} from '../../diff/index.js'
import { type PortQuery, parsePortSpec } from '../../engine/index.js'
import { partialJSON } from '../../explain/index.js'
import { findOmissions, VALIDATION_MODES, type ValidationMode } from '../../load/index.js'
import { hasErrors } from '../../model/index.js'
import { formatDiagnostic } from '../format.js'
import { type LoadedSide, loadSide, type SideSpec } from '../sides.js'

interface DiffOptions {
  readonly old?: string[]
  readonly new?: string[]
  readonly git?: string
  readonly kubeconfig?: string
  readonly context?: string
  readonly ports?: string
  readonly output: string
  readonly validate: string
  readonly strict?: boolean
  readonly verbose?: boolean
}

const FORMATS = ['text', 'json', 'md', 'csv', 'sarif']
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Parses a comma-separated port list; returns an error message on the first bad one. */
export function parsePortList(text: string): PortQuery[] | string {
  const out: PortQuery[] = []
  for (const part of text.split(',').filter((s) => s.trim() !== '')) {
    const p = parsePortSpec(part)
    if (typeof p === 'string') return p
    out.push(p)
  }
  return out
}

/**
 * Decides the two sides from the arguments: OLD from --git, --kubeconfig or --old or the first path;
 * NEW from --new or the remaining paths. Returns an error message when they do not make two sides.
 */
export function resolveSides(
  paths: readonly string[],
  opts: DiffOptions,
): { old: SideSpec; new: SideSpec } | string {
  const fromFlags = [opts.git, opts.kubeconfig, opts.old?.length ? 'old' : undefined].filter(Boolean).length
  if (fromFlags > 1) return 'give the old side once: --git, --kubeconfig or --old'
  let old: SideSpec | undefined
  let rest = [...paths]
  if (opts.git) old = { kind: 'git', spec: opts.git }
  else if (opts.kubeconfig)
    old = { kind: 'cluster', kubeconfig: opts.kubeconfig, ...(opts.context ? { context: opts.context } : {}) }
  else if (opts.old?.length) old = { kind: 'paths', paths: opts.old }
  else if (rest.length > 0) {
    old = { kind: 'paths', paths: [rest[0] as string] }
    rest = rest.slice(1)
  }
  const newPaths = [...(opts.new ?? []), ...rest]
  if (!old || newPaths.length === 0)
    return 'expected OLD and NEW: two paths, or --git REV:PATH / --kubeconfig FILE and the new paths'
  if (!opts.new?.length && !opts.git && !opts.kubeconfig && !opts.old?.length && newPaths.length > 1)
    return `expected two paths (OLD NEW), got ${paths.length}: use --old PATH and --new PATH (repeatable) for sets of several paths`
  return { old, new: { kind: 'paths', paths: newPaths } }
}

/** Registers `diff`. */
export function registerDiff(program: Command, setExit: (code: number) => void): void {
  program
    .command('diff')
    .description(
      'compare reachability between two manifest sets (exit 0 unchanged, 1 changed, 2 error): connections added and removed per workload and port with the rule that made the difference, isolation changes, new exposure to outside addresses',
    )
    .argument('[paths...]', 'OLD NEW: files, folders or - (stdin)')
    .option('--old <path>', 'a path of the old side (repeatable)', collect)
    .option('--new <path>', 'a path of the new side (repeatable)', collect)
    .option(
      '--git <rev:path>',
      'the old side is PATH at git revision REV (e.g. main:deploy/); paths give the new side',
    )
    .option(
      '--kubeconfig <file>',
      'the old side is the live cluster of this kubeconfig; paths give the new side',
    )
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('--ports <list>', 'compare only these ports, e.g. 80/TCP,53/UDP (default: every port, exactly)')
    .option('-o, --output <format>', FORMATS.join(' | '), 'text')
    .option('--validate <mode>', 'strict | warn | ignore | lenient (as for the other commands)', 'strict')
    .option('--strict', 'any load error is fatal (exit 2)')
    .option('-v, --verbose', 'also print informational notes and the size of the computation')
    .action(async (paths: string[], opts: DiffOptions) => {
      const fail = (message: string) => {
        process.stderr.write(`palisade diff: ${message}\n`)
        setExit(2)
      }
      if (!FORMATS.includes(opts.output))
        return fail(`-o must be one of ${FORMATS.join(', ')}, not "${opts.output}"`)
      if (!VALIDATION_MODES.includes(opts.validate as ValidationMode))
        return fail(`--validate must be strict, warn, ignore or lenient, not "${opts.validate}"`)
      let ports: PortQuery[] | undefined
      if (opts.ports !== undefined) {
        const parsed = parsePortList(opts.ports)
        if (typeof parsed === 'string') return fail(`--ports: ${parsed}`)
        ports = parsed
      }
      const sides = resolveSides(paths, opts)
      if (typeof sides === 'string') return fail(sides)
      const mode = opts.validate as ValidationMode
      const loaded: LoadedSide[] = []
      for (const [name, spec] of [
        ['old', sides.old],
        ['new', sides.new],
      ] as const) {
        const side = await loadSide(spec, mode)
        for (const d of side.diagnostics) {
          if (d.severity === 'info' && !opts.verbose) continue
          process.stderr.write(`${name}: ${formatDiagnostic(d)}\n`)
        }
        if (side.inputs.length === 0) return fail(`the ${name} side (${side.label}) has no input`)
        if (opts.strict && hasErrors(side.diagnostics)) return fail(`errors in the ${name} side (--strict)`)
        loaded.push(side)
      }
      const [before, after] = loaded as [LoadedSide, LoadedSide]
      const d = diffClusters(before.cluster, after.cluster, ports ? { ports } : {})
      const names = { old: before.label, new: after.label }
      const omitted = [findOmissions(before.diagnostics), findOmissions(after.diagnostics)]
      const note =
        omitted[0] || omitted[1]
          ? `note: ${[omitted[0] ? 'the old side' : '', omitted[1] ? 'the new side' : ''].filter(Boolean).join(' and ')} left objects out (see the errors above): this diff assumes each side holds only what was read\n`
          : ''
      switch (opts.output) {
        case 'json':
          process.stdout.write(
            `${JSON.stringify(
              {
                ...diffToJSON(d, names),
                oldInput: partialJSON(omitted[0]),
                newInput: partialJSON(omitted[1]),
              },
              null,
              2,
            )}\n`,
          )
          break
        case 'md':
          process.stdout.write(renderDiffMarkdown(d, names))
          if (note) process.stdout.write(`\n> [!NOTE]\n> ${note.replace(/^note: /, '')}`)
          break
        case 'csv':
          process.stdout.write(renderDiffCSV(d))
          process.stderr.write(note)
          break
        case 'sarif':
          process.stdout.write(
            `${JSON.stringify(renderDiffSarif(d, names, program.version() ?? '0.0.0'), null, 2)}\n`,
          )
          process.stderr.write(note)
          break
        default:
          process.stdout.write(renderDiffText(d, names))
          process.stdout.write(note)
      }
      if (opts.verbose)
        process.stderr.write(
          `${d.stats.pods} pods in both, ${d.stats.jointClasses} joint classes, ${d.stats.portGroups} port groups, ${d.stats.addressRanges} outside address ranges\n`,
        )
      setExit(hasChanges(d) ? 1 : 0)
    })
}
