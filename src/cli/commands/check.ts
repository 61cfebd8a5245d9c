/** `palisade check`: may A reach B on port P? Exit 0 allowed, 1 denied, 2 error. */
import type { Command } from 'commander'
import {
  buildIndex,
  type ClusterRuleRef,
  type DirectionVerdict,
  type Endpoint,
  endpointNamespace,
  evaluate,
  formatPort,
  type NamedPortSpec,
  type PortQuery,
  parseNamedPortSpec,
  parsePortSpec,
  type Resolved,
  type RuleRef,
  resolveEndpoints,
  resolveNamedPort,
  type Verdict,
} from '../../engine/index.js'
import { partialJSON, renderPartialNotice, renderVerdict } from '../../explain/index.js'
import { findOmissions } from '../../load/index.js'
import type { SourceRef } from '../../model/index.js'
import { colorsFor } from '../color.js'
import { writeData } from '../format.js'
import { addClusterOptions, addInputOptions, type InputOptions, loadFromOptions } from '../options.js'

interface CheckOptions extends InputOptions {
  readonly from?: string
  readonly to?: string
  readonly port?: string
  readonly output: 'text' | 'json' | 'yaml'
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

const clusterRuleJSON = (r: ClusterRuleRef) => ({
  policy: r.policy,
  kind: 'ClusterNetworkPolicy',
  tier: r.tier,
  priority: r.priority,
  direction: r.direction,
  rule: r.rule,
  ...(r.ruleName === undefined ? {} : { name: r.ruleName }),
  action: r.action,
  ...(r.failClosed ? { failClosed: true } : {}),
  source: where(r.ruleSource ?? r.source),
})

const directionJSON = (d: DirectionVerdict) => ({
  allowed: d.allowed,
  isolated: d.isolated,
  note: d.note,
  tier: d.tier ?? null,
  ...(d.decidedBy ? { decidedBy: clusterRuleJSON(d.decidedBy) } : {}),
  ...(d.passedBy ? { passedBy: d.passedBy.map(clusterRuleJSON) } : {}),
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
    ...(v.family === undefined ? {} : { family: v.family }),
    egress: directionJSON(v.egress),
    ingress: directionJSON(v.ingress),
  }
}

/** Registers `check`. */
export function registerCheck(program: Command, setExit: (code: number) => void): void {
  const endpointHelp =
    'ns/pod, ns/workload, [ns/]KIND/NAME (deploy/web, sts/db, ds, rs, job, cronjob, pod), NAME (-n), node/NAME[=IP] or an IP (required)'
  addClusterOptions(
    addInputOptions(
      program
        .command('check')
        .description(
          'decide whether --from may open a connection to --to on --port (exit 0 allowed, 1 denied, 2 error)',
        )
        .argument('[paths...]', 'manifest files or folders')
        // Checked in the action, not as required options: commander checks required options before unknown
        // ones, so a typo (--form) would be reported as a missing --from.
        .option('--from <endpoint>', endpointHelp)
        .option('--to <endpoint>', endpointHelp)
        .option('-n, --namespace <ns>', 'namespace of KIND/NAME and bare names (default: default)')
        .option(
          '--port <port>',
          'PORT[/PROTOCOL], e.g. 80/TCP, 53/UDP (protocol defaults to TCP), or a named port (http) of the destination pod (required)',
        )
        .option('-o, --output <format>', 'text | json | yaml', 'text'),
    ),
  ).action(async (paths: string[], given: CheckOptions) => {
    for (const [flag, value] of [
      ['--from <endpoint>', given.from],
      ['--to <endpoint>', given.to],
      ['--port <port>', given.port],
    ] as const) {
      if (value === undefined) {
        process.stderr.write(`error: required option '${flag}' not specified\n`)
        return setExit(2)
      }
    }
    const opts = given as CheckOptions & { readonly from: string; readonly to: string; readonly port: string }
    if (!['text', 'json', 'yaml'].includes(opts.output)) {
      process.stderr.write(`palisade check: -o must be text, json or yaml, not "${opts.output}"\n`)
      return setExit(2)
    }
    const named = /^\d/.test(opts.port.trim()) ? undefined : parseNamedPortSpec(opts.port)
    const numeric = named ? undefined : parsePortSpec(opts.port)
    if (typeof numeric === 'string') {
      process.stderr.write(`palisade check: ${numeric}\n`)
      return setExit(2)
    }
    const resolveOpts = opts.namespace === undefined ? {} : { namespace: opts.namespace }
    // Two named endpoints: only their namespaces' pods and policies decide, the others' are read and checked,
    // not kept (LoadScope). An address or a node may be any pod's: then the whole cluster is kept.
    const namespaces = [opts.from, opts.to]
      .map((e) => endpointNamespace(e, resolveOpts))
      .filter((n): n is string => n !== undefined)
    const scoped = namespaces.length === 2
    const loaded = await loadFromOptions(
      paths,
      opts,
      'check',
      scoped ? { scope: { namespaces: new Set(namespaces) } } : {},
    )
    if (!loaded) return setExit(2)
    const index = buildIndex(loaded.cluster)
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
    const portOf = portResolver(numeric, named, opts)
    if (typeof portOf === 'string') {
      process.stderr.write(`palisade check: ${portOf}\n`)
      return setExit(2)
    }
    const unresolved = dst.endpoints.map(portOf).find((p) => typeof p === 'string')
    if (typeof unresolved === 'string') {
      process.stderr.write(`palisade check: ${unresolved}\n`)
      return setExit(2)
    }
    // A workload is every one of its pods: the answer is the first denied pair, or the first pair.
    const pairs = comparePairs(index, src, dst, (e) => portOf(e) as PortQuery)
    const shown = pairs.firstDenied ?? pairs.first
    const verdict = shown.verdict
    const portText = formatPort(portOf(shown.to) as PortQuery)
    const from = pairs.total > 1 ? endpointName(shown.from) : opts.from
    const to = pairs.total > 1 ? endpointName(shown.to) : opts.to
    // A verdict on a partial input says so next to it (the errors themselves went to stderr).
    const omissions = findOmissions(loaded.diagnostics)
    if (opts.output === 'json' || opts.output === 'yaml') {
      const json = {
        ...verdictJSON(verdict, from, to, portText),
        allowed: pairs.allowed === pairs.total,
        ...(named ? { portName: named.name } : {}),
        ...(pairs.total > 1
          ? { query: { from: opts.from, to: opts.to }, pairs: { total: pairs.total, allowed: pairs.allowed } }
          : {}),
        ...partialJSON(omissions),
      }
      await writeData(opts.output, json)
    } else {
      const c = colorsFor('stdout')
      // The answer word in colour on a terminal: green allowed, red denied.
      const paint = (text: string) =>
        text.replace(
          /: (ALLOWED|DENIED|NO SUCH CONNECTION)(\n| \()/,
          (_, w: string, after: string) =>
            `: ${w === 'ALLOWED' ? c.green(c.bold(w)) : w === 'DENIED' ? c.red(c.bold(w)) : c.yellow(c.bold(w))}${after}`,
        )
      const portShown = named ? `${portText} (${named.name})` : portText
      if (pairs.total > 1) {
        const all = pairs.allowed === pairs.total
        const head = `${opts.from} -> ${opts.to} on ${portShown}: ${all ? 'ALLOWED' : 'DENIED'} (${pairs.allowed} of ${pairs.total} pod pairs allowed${pairs.truncated ? `, the first ${pairs.total} pairs looked at` : ''})`
        process.stdout.write(`${paint(head)}\n${all ? 'every pair alike; ' : 'the first denied pair: '}`)
      }
      // An address that is a node's is named as that node (docs/semantics.md#node-addresses).
      const label = (text: string, e: Endpoint) =>
        e.kind === 'node' && !text.startsWith('node') ? `${text} (node/${e.node})` : text
      process.stdout.write(
        paint(renderVerdict(verdict, label(from, shown.from), label(to, shown.to), portShown)),
      )
      process.stdout.write(renderPartialNotice(omissions, 'verdict'))
    }
    setExit(pairs.allowed === pairs.total ? 0 : 1)
  })
}

/**
 * The port of a pair by its destination: a number as given, or a named port resolved on the destination
 * pod as a rule's named port is (every replica of a workload has its own).
 */
function portResolver(
  numeric: PortQuery | undefined,
  named: NamedPortSpec | undefined,
  opts: { readonly port: string; readonly to: string },
): ((dst: Endpoint) => PortQuery | string) | string {
  if (numeric) return () => numeric
  if (!named) return `--port ${opts.port}: not a port`
  return (dst) =>
    dst.kind !== 'pod'
      ? `--port ${opts.port}: a named port is resolved on the destination pod, and --to ${opts.to} is not a pod`
      : ((r) => (typeof r === 'string' ? `--port ${opts.port}: ${r}` : r))(resolveNamedPort(dst.pod, named))
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
  portOf: (dst: Endpoint) => PortQuery,
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
      const verdict = evaluate(index, from, to, portOf(to))
      const pair = { from, to, verdict }
      first ??= pair
      total++
      if (verdict.allowed) allowed++
      else firstDenied ??= pair
    }
  }
  return { first: first as Pair, ...(firstDenied ? { firstDenied } : {}), total, allowed, truncated }
}
