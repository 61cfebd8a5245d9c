/** `palisade check`: may A reach B on port P? Exit 0 allowed, 1 denied, 2 error. */
import type { Command } from 'commander'
import {
  buildIndex,
  type DirectionVerdict,
  type Endpoint,
  evaluate,
  formatPort,
  parsePortSpec,
  type Resolved,
  type RuleRef,
  resolveEndpoints,
  type Verdict,
} from '../../engine/index.js'
import { partialJSON, renderPartialNotice, renderVerdict } from '../../explain/index.js'
import { findOmissions } from '../../load/index.js'
import type { SourceRef } from '../../model/index.js'
import { addClusterOptions, addInputOptions, type InputOptions, loadFromOptions } from '../options.js'

interface CheckOptions extends InputOptions {
  readonly from: string
  readonly to: string
  readonly port: string
  readonly output: string
  readonly namespace?: string
}

/** Names an endpoint for people: 'shop/web-1', 'node/worker-1', '10.0.0.1'. */
function endpointName(e: Endpoint): string {
  if (e.kind === 'pod') return `${e.pod.namespace}/${e.pod.name}`
  if (e.kind === 'node') return `node/${e.node}`
  return e.ip
}

/** Most pod pairs a workload-to-workload check evaluates (the first pairs beyond are not looked at). */
const MAX_PAIRS = 100_000

const where = (s: SourceRef | undefined) =>
  s ? `${s.file}${s.line !== undefined ? `:${s.line}` : ''}` : undefined

const ruleJSON = (r: RuleRef) => ({
  policy: r.policy,
  kind: r.origin.kind,
  direction: r.direction,
  rule: r.rule,
  source: where(r.ruleSource ?? r.source),
})

const directionJSON = (d: DirectionVerdict) => ({
  allowed: d.allowed,
  isolated: d.isolated,
  note: d.note,
  selectedBy: d.selectedBy.map((p) => ({ policy: p.policy, kind: p.origin.kind, source: where(p.source) })),
  allowedBy: d.allowedBy.map(ruleJSON),
})

/** Returns the JSON document `check -o json` prints. */
export function verdictJSON(v: Verdict, from: string, to: string, port: string) {
  return {
    allowed: v.allowed,
    from,
    to,
    port,
    note: v.note ?? null,
    egress: directionJSON(v.egress),
    ingress: directionJSON(v.ingress),
  }
}

/** Registers `check`. */
export function registerCheck(program: Command, setExit: (code: number) => void): void {
  addClusterOptions(
    addInputOptions(
      program
        .command('check')
        .description(
          'decide whether --from may open a connection to --to on --port (exit 0 allowed, 1 denied, 2 error)',
        )
        .argument('[paths...]', 'manifest files or folders')
        .requiredOption(
          '--from <endpoint>',
          'ns/pod, ns/workload, [ns/]KIND/NAME (deploy/web, sts/db, ds, rs, job, cronjob, pod), NAME (-n), node/NAME[=IP] or an IP',
        )
        .requiredOption(
          '--to <endpoint>',
          'ns/pod, ns/workload, [ns/]KIND/NAME (deploy/web, sts/db, ds, rs, job, cronjob, pod), NAME (-n), node/NAME[=IP] or an IP',
        )
        .option('-n, --namespace <ns>', 'namespace of KIND/NAME and bare names (default: default)')
        .requiredOption('--port <port>', 'PORT[/PROTOCOL], e.g. 80/TCP, 53/UDP (protocol defaults to TCP)')
        .option('-o, --output <format>', 'text | json', 'text'),
    ),
  ).action(async (paths: string[], opts: CheckOptions) => {
    if (!['text', 'json'].includes(opts.output)) {
      process.stderr.write(`palisade check: -o must be text or json, not "${opts.output}"\n`)
      return setExit(2)
    }
    const port = parsePortSpec(opts.port)
    if (typeof port === 'string') {
      process.stderr.write(`palisade check: ${port}\n`)
      return setExit(2)
    }
    const loaded = await loadFromOptions(paths, opts)
    if (!loaded) return setExit(2)
    const index = buildIndex(loaded.cluster)
    const resolveOpts = opts.namespace === undefined ? {} : { namespace: opts.namespace }
    const src = resolveEndpoints(index, opts.from, resolveOpts)
    const dst = resolveEndpoints(index, opts.to, resolveOpts)
    for (const [flag, e] of [
      ['--from', src],
      ['--to', dst],
    ] as const) {
      if (typeof e === 'string') {
        process.stderr.write(`palisade check: ${flag}: ${e}\n`)
        return setExit(2)
      }
    }
    if (typeof src === 'string' || typeof dst === 'string') return setExit(2)
    // A workload is every one of its pods: the answer is the first denied pair, or the first pair.
    const pairs = comparePairs(index, src, dst, port)
    const shown = pairs.firstDenied ?? pairs.first
    const verdict = shown.verdict
    const portText = formatPort(port)
    const from = pairs.total > 1 ? endpointName(shown.from) : opts.from
    const to = pairs.total > 1 ? endpointName(shown.to) : opts.to
    // A verdict on a partial input says so next to it (the errors themselves went to stderr).
    const omissions = findOmissions(loaded.diagnostics)
    if (opts.output === 'json') {
      const json = {
        ...verdictJSON(verdict, from, to, portText),
        allowed: pairs.allowed === pairs.total,
        ...(pairs.total > 1
          ? { query: { from: opts.from, to: opts.to }, pairs: { total: pairs.total, allowed: pairs.allowed } }
          : {}),
        ...partialJSON(omissions),
      }
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
    } else {
      if (pairs.total > 1) {
        const all = pairs.allowed === pairs.total
        const head = `${opts.from} -> ${opts.to} on ${portText}: ${all ? 'ALLOWED' : 'DENIED'} (${pairs.allowed} of ${pairs.total} pod pairs allowed${pairs.truncated ? `, the first ${pairs.total} pairs looked at` : ''})`
        process.stdout.write(`${head}\n${all ? 'every pair alike; ' : 'the first denied pair: '}`)
      }
      // An address that is a node's is named as that node (docs/semantics.md#node-addresses).
      const named = (label: string, e: Endpoint) =>
        e.kind === 'node' && !label.startsWith('node') ? `${label} (node/${e.node})` : label
      process.stdout.write(renderVerdict(verdict, named(from, shown.from), named(to, shown.to), portText))
      process.stdout.write(renderPartialNotice(omissions, 'verdict'))
    }
    setExit(pairs.allowed === pairs.total ? 0 : 1)
  })
}

interface Pair {
  readonly from: Endpoint
  readonly to: Endpoint
  readonly verdict: Verdict
}

/** Evaluates every pair of endpoints (a workload is all its pods), counting those allowed. */
function comparePairs(
  index: ReturnType<typeof buildIndex>,
  src: Resolved,
  dst: Resolved,
  port: Exclude<ReturnType<typeof parsePortSpec>, string>,
): { first: Pair; firstDenied?: Pair; total: number; allowed: number; truncated: boolean } {
  let first: Pair | undefined
  let firstDenied: Pair | undefined
  let total = 0
  let allowed = 0
  let truncated = false
  outer: for (const from of src.endpoints) {
    for (const to of dst.endpoints) {
      if (total >= MAX_PAIRS) {
        truncated = true
        break outer
      }
      const verdict = evaluate(index, from, to, port)
      const pair = { from, to, verdict }
      first ??= pair
      total++
      if (verdict.allowed) allowed++
      else firstDenied ??= pair
    }
  }
  return { first: first as Pair, ...(firstDenied ? { firstDenied } : {}), total, allowed, truncated }
}
