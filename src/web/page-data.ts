/**
 * What the web page shows, as one JSON value (pure): each side's cluster (the page runs the engine on it
 * for the matrix, the graph and the explanations), the YAML excerpt of every policy, the lint findings,
 * and the reachability diff when there is a base. `serve` hands it out at /api/data; `report` inlines it.
 */
import { alignWorkloads, type DiffSides, diffClusters, diffToJSON } from '../diff/index.js'
import { lintLoaded } from '../lint/index.js'
import { findOmissions, type InputText, type LoadedCluster, parseDocuments } from '../load/index.js'
import type { ClusterState, Diagnostic, SourceRef } from '../model/index.js'
import { policyKey } from '../model/index.js'

/** Lines of a file around an object: what the page shows next to an explanation. */
export interface Excerpt {
  readonly file: string
  /** 1-based line of the first line shown. */
  readonly start: number
  readonly lines: readonly string[]
}

export interface PageSide {
  readonly label: string
  readonly cluster: ClusterState
  /** Policy 'namespace/name' -> the YAML (or JSON) it was read from. */
  readonly excerpts: Readonly<Record<string, Excerpt>>
  /** Objects or documents were left out: the page says so. */
  readonly partial: boolean
  readonly errors: number
}

export interface LintEntry {
  readonly severity: Diagnostic['severity']
  readonly code: string
  readonly message: string
  readonly object?: string
  readonly path: string
  readonly source?: string
  readonly excerpt?: Excerpt
}

export interface PageData {
  readonly version: 1
  readonly title: string
  /** Ports shown as tabs ('80/TCP'); empty = the ports the pods declare. */
  readonly ports: readonly string[]
  readonly current: PageSide
  readonly base?: PageSide
  readonly lint: readonly LintEntry[]
  readonly diff?: ReturnType<typeof diffToJSON>
}

/** The most lines an excerpt shows (a policy longer than this is cut, with its start kept). */
const MAX_EXCERPT_LINES = 80

export interface SideInput {
  readonly label: string
  readonly loaded: LoadedCluster
  readonly inputs: readonly InputText[]
}

/** Splits every input's text into lines once. */
function linesOf(inputs: readonly InputText[]): Map<string, string[]> {
  const decoder = new TextDecoder()
  const out = new Map<string, string[]>()
  for (const input of inputs) {
    const text = typeof input.text === 'string' ? input.text : decoder.decode(input.text)
    out.set(input.file, text.split(/\r?\n/))
  }
  return out
}

/**
 * Cuts the object that starts at `line` out of its file: a list item (`- kind: ...` in a kubectl dump)
 * ends where a line is indented no deeper than its dash; a document ends at `---` or at the end.
 */
export function excerptAt(lines: readonly string[], file: string, line: number): Excerpt {
  const first = Math.max(1, line)
  const head = lines[first - 1] ?? ''
  const dash = /^(\s*)- /.exec(head)
  let end = lines.length
  for (let i = first; i < lines.length; i++) {
    const l = lines[i] as string
    if (dash) {
      if (l.trim() === '' || l.trimStart().startsWith('#')) continue
      const indent = l.length - l.trimStart().length
      if (indent <= (dash[1] as string).length) {
        end = i
        break
      }
    } else if (/^(---|\.\.\.)(\s|$)/.test(l)) {
      end = i
      break
    }
  }
  while (end > first && (lines[end - 1] ?? '').trim() === '') end--
  return { file, start: first, lines: lines.slice(first - 1, Math.min(end, first - 1 + MAX_EXCERPT_LINES)) }
}

/** A few lines around a diagnostic's line. */
function around(lines: readonly string[], src: SourceRef): Excerpt | undefined {
  if (src.line === undefined) return undefined
  const start = Math.max(1, src.line - 3)
  return { file: src.file, start, lines: lines.slice(start - 1, Math.min(lines.length, src.line + 3)) }
}

const where = (s: SourceRef | undefined): string | undefined =>
  s ? `${s.file}${s.line !== undefined ? `:${s.line}` : ''}` : undefined

/** Builds one side of the page. */
export function buildPageSide(side: SideInput): PageSide {
  const files = linesOf(side.inputs)
  const excerpts: Record<string, Excerpt> = {}
  for (const p of side.loaded.cluster.policies) {
    const src = p.source
    const lines = src ? files.get(src.file) : undefined
    if (src && lines && src.line !== undefined) excerpts[policyKey(p)] = excerptAt(lines, src.file, src.line)
  }
  return {
    label: side.label,
    cluster: side.loaded.cluster,
    excerpts,
    partial: findOmissions(side.loaded.diagnostics) !== undefined,
    errors: side.loaded.diagnostics.filter((d) => d.severity === 'error').length,
  }
}

/** Builds the page: the current side with its lint findings, and the base and the diff when given. */
export function buildPageData(opts: {
  readonly title: string
  readonly current: SideInput
  readonly base?: SideInput
  readonly ports?: readonly string[]
  /** Run the lint checks (default true); without them only load and validation findings are listed. */
  readonly lint?: boolean
}): PageData {
  let current = buildPageSide(opts.current)
  const files = linesOf(opts.current.inputs)
  const findings =
    opts.lint === false
      ? opts.current.loaded.diagnostics
      : lintLoaded({
          cluster: opts.current.loaded.cluster,
          diagnostics: opts.current.loaded.diagnostics,
          written: opts.current.inputs.flatMap((input) => parseDocuments(input).value),
          accepted: opts.current.loaded.objects,
        }).diagnostics
  const lint = findings.map((d): LintEntry => {
    const lines = d.source ? files.get(d.source.file) : undefined
    const excerpt = d.source && lines ? around(lines, d.source) : undefined
    const source = where(d.source)
    return {
      severity: d.severity,
      code: d.code,
      message: d.message,
      ...(d.object ? { object: d.object } : {}),
      path: d.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join(''),
      ...(source ? { source } : {}),
      ...(excerpt ? { excerpt } : {}),
    }
  })
  let base = opts.base ? buildPageSide(opts.base) : undefined
  if (base) {
    // The diff view compares pods by name: a template lines up with the running pods it stands for.
    const aligned = alignWorkloads(base.cluster, current.cluster)
    base = { ...base, cluster: aligned.a }
    current = { ...current, cluster: aligned.b }
  }
  const sides: DiffSides | undefined = base ? { old: base.label, new: current.label } : undefined
  return {
    version: 1,
    title: opts.title,
    ports: opts.ports ?? [],
    current,
    ...(base ? { base } : {}),
    lint,
    ...(base && sides ? { diff: diffToJSON(diffClusters(base.cluster, current.cluster), sides) } : {}),
  }
}

/** Serialises page data for an inline <script type="application/json"> (no `</script>` can end it). */
export function pageDataJSON(data: PageData): string {
  return JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}
