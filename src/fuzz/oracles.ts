/**
 * The oracles: what makes a run a crash, a hang, a missed rejection or a misread. Each failure has a class,
 * a sub-class and a signature (the failure with the case's particulars taken out) so that thousands of
 * failing cases group into the few distinct defects behind them.
 */
import { type InputText, loadCluster } from '../load/index.js'
import {
  type Diagnostic,
  describeObject,
  formatPath,
  type JsonObject,
  type JsonValue,
  type RawObject,
} from '../model/index.js'
import { decodeObject, goTypeOf } from './api-types.js'
import type { IntendedDoc } from './mutate.js'
import type { WrittenDoc } from './render.js'
import type { ValidationCase } from './tables.js'

export type FailureClass = 'crash' | 'hang' | 'missed-rejection' | 'misread'

export interface Failure {
  readonly cls: FailureClass
  readonly sub: string
  /** This case's particulars: the message, the object, the path. */
  readonly detail: string
  /** What identifies the defect across cases. */
  readonly signature: string
}

/** How one CLI run ended. */
export interface CliOutcome {
  readonly code?: number
  readonly signal?: string
  /** The exception main() rejected with (in-process runs). */
  readonly threw?: { readonly name: string; readonly message: string; readonly stack: string }
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
  /** CPU time the run used (the thread's, or the child process's), when /proc tells. */
  readonly cpuMs?: number
  /** Only the start of stdout was kept (a fresh process printed megabytes). */
  readonly stdoutTruncated?: boolean
  readonly timedOut: boolean
}

/** Takes the particulars out of a message: numbers, quoted text, long runs, paths of files. */
export function normalize(text: string, max = 140): string {
  return text
    .replace(/file:\/\/\S+?\/(src|dist)\//g, '')
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/'(?:[^'\\]|\\.)*'/g, "'…'")
    .replace(/\d+/g, 'N')
    .replace(/(.)\1{8,}/g, '$1…')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max)
}

const STACK_LINE = /\n\s+at (?:async )?([^\s(]+)? ?\(?((?:file:|node:|\/)[^)\n]*):\d+:\d+\)?/
const INTERNAL = /internal error: ?(.*)/

/** The first stack frame of ours (function name and file), for grouping exceptions by where they were thrown. */
function topFrame(stack: string): string {
  const m = STACK_LINE.exec(stack)
  if (!m) return ''
  const file = (m[2] ?? '').replace(/^.*\/(src|dist\/src|node_modules)\//, '$1/')
  return `${m[1] ?? '<anonymous>'} (${file})`
}

/** JSON output formats per command (their stdout must parse when the command succeeded). */
export function isJsonOutput(args: readonly string[]): boolean {
  const i = args.indexOf('-o')
  const f = i >= 0 ? args[i + 1] : undefined
  return f === 'json' || f === 'sarif'
}

/** CPU time allowed per MiB of input on top of the hang bound. */
export const HANG_MS_PER_MIB = 1000

/**
 * The CPU bound of a case: `--hang-ms`, plus HANG_MS_PER_MIB for each MiB of input. A hang is a cost
 * out of proportion with the input; reading a 30 MiB string is linear but not free. Measured on a 30 MiB
 * quoted string (3, 10, 30 MiB): lint 0.9, 2.4, 7.7 s and migrate 1.8,
 * 7.1, 19.7 s of CPU, about 0.65 s per MiB at worst, most of it garbage collection while the YAML
 * libraries build the scalar. So a big input gets 1 s per MiB (35 s at 30 MiB), about 1.5 times the worst
 * measured rate: a super-linear path still overruns it. Inputs under 100 KiB gain under 0.1 s.
 */
export function hangBoundMs(hangMs: number, inputBytes: number): number {
  return Math.round(hangMs + (inputBytes / (1 << 20)) * HANG_MS_PER_MIB)
}

/** Crashes and hangs of one CLI run. */
export function crashOracle(
  o: CliOutcome,
  command: string,
  family: string,
  args: readonly string[],
  hangMs: number,
): Failure[] {
  const out: Failure[] = []
  const crash = (sub: string, detail: string, sig: string): void => {
    out.push({ cls: 'crash', sub, detail, signature: `crash/${sub}/${sig}` })
  }
  // The bound is on CPU time: waiting for a core on a busy machine is not a hang.
  const spent = o.cpuMs ?? o.ms
  if (o.timedOut || spent > hangMs) {
    out.push({
      cls: 'hang',
      sub: command,
      detail: `${command} used ${Math.round(spent)} ms of CPU in ${Math.round(o.ms)} ms (bound ${hangMs} ms of CPU)${o.timedOut ? ', killed' : ''}`,
      signature: `hang/${family}/${command}`,
    })
    if (o.timedOut) return out
  }
  if (o.threw) {
    const frame = topFrame(o.threw.stack)
    crash(
      'exception',
      `${o.threw.name}: ${o.threw.message}\n${o.threw.stack}`,
      `${o.threw.name}: ${normalize(o.threw.message)} @ ${frame}`,
    )
    return out
  }
  if (o.signal) {
    crash(
      `signal-${o.signal}`,
      `killed by ${o.signal}\n${o.stderr.slice(0, 2000)}`,
      `${command}/${normalize(firstErrorLine(o.stderr))}`,
    )
    return out
  }
  if (o.code !== undefined && ![0, 1, 2].includes(o.code)) {
    crash(
      `exit-${o.code}`,
      `exit code ${o.code}\n${o.stderr.slice(0, 2000)}`,
      `${command}/${normalize(firstErrorLine(o.stderr))}`,
    )
    return out
  }
  const internal = INTERNAL.exec(o.stderr) ?? INTERNAL.exec(o.stdout)
  if (internal) {
    const text = o.stderr.slice(internal.index)
    crash('internal-error', text.slice(0, 2000), `${normalize(internal[1] ?? '')} @ ${topFrame(text)}`)
    return out
  }
  const stack = STACK_LINE.exec(o.stderr)
  if (stack) {
    const text = o.stderr.slice(Math.max(0, stack.index - 300), stack.index + 500)
    crash('stack-trace', text, `${normalize(firstErrorLine(o.stderr))} @ ${topFrame(o.stderr)}`)
    return out
  }
  if (isJsonOutput(args) && (o.code === 0 || o.code === 1) && !o.stdoutTruncated) {
    try {
      JSON.parse(o.stdout)
    } catch (e) {
      crash(
        'bad-output',
        `-o ${args[args.indexOf('-o') + 1]}: stdout is not JSON: ${(e as Error).message}`,
        command,
      )
    }
  }
  return out
}

function firstErrorLine(stderr: string): string {
  const lines = stderr.split('\n')
  return lines.find((l) => /Error|error|abort|Abort|fatal|FATAL/.test(l)) ?? lines[0] ?? ''
}

// --- Acceptance: missed rejections and misreads ---

/** Own-property deep equality (numbers by ===, so -0 equals 0). */
export function sameValue(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return firstDifference(a, b) === undefined
}

/** The first path where two values differ, or undefined when equal. */
export function firstDifference(
  a: JsonValue | undefined,
  b: JsonValue | undefined,
  path: (string | number)[] = [],
): (string | number)[] | undefined {
  const stack: { a: JsonValue | undefined; b: JsonValue | undefined; path: (string | number)[] }[] = [
    { a, b, path },
  ]
  while (stack.length > 0) {
    const { a: x, b: y, path: p } = stack.pop()!
    if (x === y) continue
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return p
    if (Array.isArray(x) !== Array.isArray(y)) return p
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return p
      for (let i = x.length - 1; i >= 0; i--) stack.push({ a: x[i], b: y[i], path: [...p, i] })
      continue
    }
    const xo = x as JsonObject
    const yo = y as JsonObject
    const kx = Object.keys(xo)
    const ky = Object.keys(yo)
    if (kx.length !== ky.length) return p
    for (const k of kx) {
      if (!Object.hasOwn(yo, k)) return [...p, k]
      stack.push({ a: xo[k], b: yo[k], path: [...p, k] })
    }
  }
  return undefined
}

const valueAt = (v: JsonValue | undefined, path: readonly (string | number)[]): JsonValue | undefined => {
  let cur = v
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    if (Array.isArray(cur)) cur = typeof seg === 'number' ? cur[seg] : undefined
    else cur = typeof seg === 'string' && Object.hasOwn(cur, seg) ? cur[seg] : undefined
  }
  return cur
}

const kindOf = (v: JsonValue | undefined): string =>
  v === undefined ? 'absent' : v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v

/** A path with its particulars out: indices as [], map keys under labels/annotations as *. */
function pathPattern(path: readonly (string | number)[]): string {
  const out: (string | number)[] = []
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] as string | number
    const prev = path[i - 1]
    if (typeof seg === 'number') out.push(-1)
    else if (
      [
        'labels',
        'annotations',
        'matchLabels',
        'nodeSelector',
        'limits',
        'requests',
        'overhead',
        'allocatedResources',
      ].includes(String(prev))
    )
      out.push('*')
    else out.push(seg)
  }
  return formatPath(out.map((s) => (s === -1 ? 0 : s))).replace(/\[0\]/g, '[]')
}

export interface AcceptanceInput {
  readonly inputs: readonly InputText[]
  readonly mode: string
  /** Line ranges of the written documents (undefined when text mutations moved them). */
  readonly docs?: readonly WrittenDoc[]
  /** What kubectl reads from each document (undefined when unknown). */
  readonly intended?: readonly IntendedDoc[]
  /** Validation cases applied per document. */
  readonly expects?: readonly (readonly ValidationCase[])[]
}

/**
 * Loads the input as every analysing command does (loadCluster in the case's mode) and checks:
 * - decode: an analysed object the API server cannot decode (api-types.ts);
 * - validate: an analysed object carrying a value the API server's validation refuses;
 * - undecodable-document: an analysed object from a document kubectl cannot read at all;
 * - silent-drop: an object of a modelled kind neither analysed nor reported (no error or warning);
 * - misread: an analysed object that differs from what kubectl reads from the same text.
 */
export function acceptanceOracle(input: AcceptanceInput): Failure[] {
  const failures: Failure[] = []
  let loaded: ReturnType<typeof loadCluster>
  try {
    loaded = loadCluster(input.inputs, { validate: input.mode as 'strict' })
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e))
    return [
      {
        cls: 'crash',
        sub: 'core-exception',
        detail: `loadCluster threw ${err.name}: ${err.message}\n${err.stack ?? ''}`,
        signature: `crash/core-exception/${err.name}: ${normalize(err.message)} @ ${topFrame(err.stack ?? '')}`,
      },
    ]
  }
  const key = (file: string | undefined, doc: number | undefined, object: string): string =>
    `${file}|${doc}|${object}`
  const analysedIn = (l: ReturnType<typeof loadCluster>): RawObject[] => {
    const errorsByObject = new Set<string>()
    for (const d of l.diagnostics)
      if (d.severity === 'error' && d.object !== undefined)
        errorsByObject.add(key(d.source?.file, d.source?.doc, d.object))
    return l.objects.filter(
      (o) => !errorsByObject.has(key(o.source.file, o.source.doc, describeObject(o.value))),
    )
  }
  const analysed = analysedIn(loaded)
  const docOf = (line: number | undefined): number | undefined => {
    if (line === undefined || !input.docs) return undefined
    const i = input.docs.findIndex((d) => line >= d.firstLine && line <= d.lastLine)
    return i < 0 ? undefined : i
  }

  // decode. Outside strict mode, an object strict refuses is the mode's fault ("only warned"); one strict also
  // keeps is a field Palisade does not check at all.
  let strictKeys: Set<string> | undefined
  const strictAnalyses = (o: RawObject): boolean => {
    if (input.mode === 'strict') return true
    if (!strictKeys) {
      let l: ReturnType<typeof loadCluster> | undefined
      try {
        l = loadCluster(input.inputs, { validate: 'strict' })
      } catch {
        l = undefined
      }
      strictKeys = new Set(
        (l ? analysedIn(l) : []).map((x) => key(x.source.file, x.source.doc, describeObject(x.value))),
      )
    }
    return strictKeys.has(key(o.source.file, o.source.doc, describeObject(o.value)))
  }
  for (const o of analysed) {
    if (isNestedList(o.value)) continue
    const problems = decodeObject(o.value)
    if (!problems || problems.length === 0) continue
    const p = problems[0]!
    const name = describeObject(o.value)
    const gap = strictAnalyses(o)
    failures.push({
      cls: 'missed-rejection',
      sub: 'decode',
      detail: `${name} analysed in --validate ${input.mode}, but the API server cannot decode it: ${formatPath(p.path)}: ${p.reason}`,
      signature: gap
        ? `missed-rejection/decode/not checked in any mode: ${o.value.kind}.${section(p.path)}: ${p.expected}`
        : `missed-rejection/decode/wrong type only a warning under --validate ${input.mode}: ${p.expected}`,
    })
  }
  // A List inside a List is kept as one object of kind List: its items are never read.
  for (const o of analysed) {
    if (!isNestedList(o.value)) continue
    failures.push({
      cls: 'missed-rejection',
      sub: 'silent-drop',
      detail: `a ${o.value.kind} inside a List is kept as an object (its items are neither analysed nor reported)`,
      signature: 'missed-rejection/silent-drop/List inside a List',
    })
  }
  if (!input.docs || !input.intended) return failures

  const analysedByDoc = new Map<number, RawObject[]>()
  for (const o of analysed) {
    const i = docOf(o.source.line)
    if (i === undefined) continue
    const list = analysedByDoc.get(i) ?? []
    list.push(o)
    analysedByDoc.set(i, list)
  }
  const reported = new Set<number>()
  let fileLevel = false
  for (const d of loaded.diagnostics) {
    if (d.severity === 'info') continue
    const i = docOf(d.source?.line)
    if (i === undefined) fileLevel = true
    else reported.add(i)
  }

  input.intended.forEach((intended, i) => {
    const here = analysedByDoc.get(i) ?? []
    if (intended.refused !== undefined) {
      for (const o of here)
        failures.push({
          cls: 'missed-rejection',
          sub: 'undecodable-document',
          detail: `${describeObject(o.value)} analysed, but kubectl cannot read its document: ${intended.refused}`,
          signature: `missed-rejection/undecodable-document/${normalize(intended.refused)}`,
        })
      return
    }
    if (intended.unjudged !== undefined) return
    // validate
    for (const c of input.expects?.[i] ?? []) {
      for (const leaf of intended.leaves) {
        if (!c.kinds.includes(String(leaf.kind)) || !sameValue(valueAt(leaf, c.path), c.value)) continue
        const name = describeObject(leaf)
        if (here.some((o) => describeObject(o.value) === name))
          failures.push({
            cls: 'missed-rejection',
            sub: 'validate',
            detail: `${name} analysed, but the API server refuses it: ${c.why}`,
            signature: `missed-rejection/validate/${normalize(c.why)}`,
          })
      }
    }
    // silent drop
    if (!reported.has(i) && !fileLevel) {
      intended.leaves.forEach((leaf, n) => {
        if (!goTypeOf(leaf.apiVersion, leaf.kind)) return
        const name = describeObject(leaf)
        const depth = intended.depths[n] ?? 0
        const where = depth === 0 ? '' : depth === 1 ? ' in a List' : ' in a List inside a List'
        // Same kind and name is enough: a namespace read differently is a misread, reported as such.
        if (!here.some((o) => describeObject(o.value) === name || sameKindAndName(o.value, leaf)))
          failures.push({
            cls: 'missed-rejection',
            sub: 'silent-drop',
            detail: `${name}${where} is neither analysed nor reported (no error or warning names its document)`,
            signature: `missed-rejection/silent-drop/${leaf.kind}${where}`,
          })
      })
    }
    // misread
    for (const o of here) {
      if (isNestedList(o.value)) continue
      if (intended.leaves.some((leaf) => sameValue(leaf, o.value))) continue
      const name = describeObject(o.value)
      const twin = intended.leaves.find((leaf) => describeObject(leaf) === name) ?? intended.leaves[0]
      const at = twin ? (firstDifference(twin, o.value) ?? []) : []
      const want = twin ? valueAt(twin, at) : undefined
      const got = valueAt(o.value, at)
      failures.push({
        cls: 'misread',
        sub: 'value',
        detail: `${name}: ${formatPath(at) || '(object)'}: kubectl reads ${preview(want)}, Palisade read ${preview(got)}`,
        signature: `misread/${misreadPattern(want, got, at)}`,
      })
    }
  })
  return failures
}

/** What a misread is, independent of where: the value pair when it names the cause, else the path and kinds. */
function misreadPattern(
  want: JsonValue | undefined,
  got: JsonValue | undefined,
  at: readonly (string | number)[],
): string {
  if (
    typeof want === 'string' &&
    typeof got === 'string' &&
    Buffer.from(want, 'utf8').toString('base64') === got
  )
    return '!!binary scalar kept as its base64 text'
  if (typeof want === 'string' && typeof got === 'number')
    return `${JSON.stringify(want)} (a string for kubectl) read as the number ${got}`
  if (typeof want === 'number' && typeof got === 'string') return 'a number for kubectl read as a string'
  return `${pathPattern(at)}: ${kindOf(want)} -> ${kindOf(got)}`
}

function sameKindAndName(a: JsonObject, b: JsonObject): boolean {
  const name = (o: JsonObject): unknown =>
    typeof o.metadata === 'object' && o.metadata !== null && !Array.isArray(o.metadata)
      ? o.metadata.name
      : undefined
  return a.kind === b.kind && name(a) !== undefined && name(a) === name(b)
}

/** An object that is itself a list of objects (reported as a silent drop, not as a misread). */
function isNestedList(v: JsonObject): boolean {
  return typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)
}

/** Where a decode problem is, coarse enough to name one gap: status as a whole, else the path pattern. */
function section(path: readonly (string | number)[]): string {
  if (path[0] === 'status') return 'status.*'
  return pathPattern(path)
}

function preview(v: JsonValue | undefined): string {
  if (v === undefined) return '(absent)'
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v)
  if (typeof v !== 'object' || v === null) return String(v)
  try {
    const s = JSON.stringify(v)
    return s.length > 80 ? `${s.slice(0, 80)}...` : s
  } catch {
    return kindOf(v)
  }
}

/** Diagnostics printed for a case (for saved reports). */
export function diagnosticsText(ds: readonly Diagnostic[]): string {
  return ds
    .map((d) => `${d.severity} ${d.code} ${d.object ?? ''} ${formatPath(d.path)}: ${d.message}`)
    .join('\n')
}
