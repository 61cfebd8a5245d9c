/** Inputs of `serve` and `report` (edge): the side shown, an optional base for the diff view, the page data. */
import type { Command } from 'commander'
import { VALIDATION_MODES, type ValidationMode } from '../load/index.js'
import { buildPageData, type PageData } from '../web/index.js'
import { parsePortList } from './commands/diff.js'
import { formatDiagnostic } from './format.js'
import { describeSide, loadSide, type SideSpec } from './sides.js'

export interface PageOptions {
  readonly filename?: string[]
  readonly base?: string[]
  readonly git?: string
  readonly kubeconfig?: string
  readonly context?: string
  readonly ports?: string
  readonly validate: string
  readonly title?: string
  readonly verbose?: boolean
  readonly lint?: boolean
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Adds the options `serve` and `report` share. */
export function addPageOptions(cmd: Command): Command {
  return cmd
    .argument('[paths...]', 'manifest files or folders (- reads stdin)')
    .option('-f, --filename <path>', 'manifest file or folder (repeatable)', collect)
    .option(
      '--kubeconfig <file>',
      'read the live cluster of this kubeconfig: it is shown when no path is given, else it is the base of the diff view',
    )
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('--base <path>', 'the base of the diff view: manifests before the change (repeatable)', collect)
    .option('--git <rev:path>', 'the base of the diff view is PATH at git revision REV (e.g. main:deploy/)')
    .option('--ports <list>', 'port tabs, e.g. 80/TCP,53/UDP (default: the container ports the pods declare)')
    .option('--validate <mode>', 'strict | warn | ignore | lenient (as for the other commands)', 'strict')
    .option('--title <text>', 'the page title')
    .option(
      '--no-lint',
      'list only load and validation findings (the lint checks take most of the time on large inputs)',
    )
    .option('-v, --verbose', 'also print informational notes')
}

export interface PageSpecs {
  readonly current: SideSpec
  readonly base?: SideSpec
  readonly mode: ValidationMode
  readonly ports: readonly string[]
  readonly title: string
  /** Paths to watch for changes (files and folders of both sides). */
  readonly watched: readonly string[]
  readonly cluster: boolean
  readonly lint: boolean
}

/** Decides what the page shows from the arguments; an error message when they make no sense. */
export function resolvePageSpecs(paths: readonly string[], opts: PageOptions): PageSpecs | string {
  if (!VALIDATION_MODES.includes(opts.validate as ValidationMode))
    return `--validate must be strict, warn, ignore or lenient, not "${opts.validate}"`
  let ports: string[] = []
  if (opts.ports !== undefined) {
    const parsed = parsePortList(opts.ports)
    if (typeof parsed === 'string') return `--ports: ${parsed}`
    ports = parsed.map((p) => `${p.port}/${p.protocol}`)
  }
  const all = [...(opts.filename ?? []), ...paths]
  const cluster: SideSpec | undefined = opts.kubeconfig
    ? { kind: 'cluster', kubeconfig: opts.kubeconfig, ...(opts.context ? { context: opts.context } : {}) }
    : undefined
  const bases = [
    opts.base?.length ? 'base' : '',
    opts.git ? 'git' : '',
    cluster && all.length > 0 ? 'cluster' : '',
  ]
  if (bases.filter(Boolean).length > 1) return 'give one base: --base, --git or --kubeconfig with paths'
  let current: SideSpec
  let base: SideSpec | undefined
  if (all.length === 0) {
    if (!cluster) return 'no input: give manifest paths, -f PATH or --kubeconfig FILE'
    current = cluster
  } else {
    current = { kind: 'paths', paths: all }
    if (cluster) base = cluster
  }
  if (opts.base?.length) base = { kind: 'paths', paths: opts.base }
  if (opts.git) base = { kind: 'git', spec: opts.git }
  const title = opts.title ?? `Palisade: ${describeSide(current)}`
  return {
    current,
    ...(base ? { base } : {}),
    mode: opts.validate as ValidationMode,
    ports,
    title,
    watched: [...all, ...(opts.base ?? [])],
    cluster: current.kind === 'cluster' || base?.kind === 'cluster',
    lint: opts.lint !== false,
  }
}

/** Loads both sides and builds the page data; load diagnostics go to stderr. Undefined when a side has no input. */
export async function loadPageData(
  specs: PageSpecs,
  verbose: boolean,
  command: string,
): Promise<PageData | string> {
  const current = await loadSide(specs.current, specs.mode)
  const base = specs.base ? await loadSide(specs.base, specs.mode) : undefined
  for (const [name, side] of [
    ['', current],
    ['base: ', base],
  ] as const) {
    if (!side) continue
    for (const d of side.diagnostics) {
      if (d.severity === 'info' && !verbose) continue
      process.stderr.write(`palisade ${command}: ${name}${formatDiagnostic(d)}\n`)
    }
    if (side.inputs.length === 0) return `${name ? 'the base' : 'the input'} (${side.label}) has no manifest`
  }
  return buildPageData({
    title: specs.title,
    current: { label: current.label, loaded: current, inputs: current.inputs },
    ...(base ? { base: { label: base.label, loaded: base, inputs: base.inputs } } : {}),
    ports: specs.ports,
    lint: specs.lint,
  })
}
