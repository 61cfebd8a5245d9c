/** `palisade check`: may A reach B on port P? Exit 0 allowed, 1 denied, 2 error. */
import type { Command } from 'commander'
import {
  buildIndex,
  type DirectionVerdict,
  evaluate,
  formatPort,
  parseNamedPortSpec,
  parsePortSpec,
  type RuleRef,
  resolveEndpoint,
  resolveNamedPort,
  type Verdict,
} from '../../engine/index.js'
import { partialJSON, renderPartialNotice, renderVerdict } from '../../explain/index.js'
import { findOmissions } from '../../load/index.js'
import type { SourceRef } from '../../model/index.js'
import { colorsFor } from '../color.js'
import { writeData } from '../format.js'
import { addInputOptions, type InputOptions, loadFromOptions } from '../options.js'

interface CheckOptions extends InputOptions {
  readonly from?: string
  readonly to?: string
  readonly port?: string
  readonly output: 'text' | 'json' | 'yaml'
}

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
    ...(v.family === undefined ? {} : { family: v.family }),
    egress: directionJSON(v.egress),
    ingress: directionJSON(v.ingress),
  }
}

/** Registers `check`. */
export function registerCheck(program: Command, setExit: (code: number) => void): void {
  addInputOptions(
    program
      .command('check')
      .description(
        'decide whether --from may open a connection to --to on --port (exit 0 allowed, 1 denied, 2 error)',
      )
      .argument('[paths...]', 'manifest files or folders')
      // Checked in the action, not as required options: commander checks required options before unknown
      // ones, so a typo (--form) would be reported as a missing --from.
      .option(
        '--from <endpoint>',
        'namespace/pod, namespace/workload, node/NAME[=IP] or an IP outside the cluster (required)',
      )
      .option(
        '--to <endpoint>',
        'namespace/pod, namespace/workload, node/NAME[=IP] or an IP outside the cluster (required)',
      )
      .option(
        '--port <port>',
        'PORT[/PROTOCOL], e.g. 80/TCP, 53/UDP (protocol defaults to TCP), or a named port (http) of the destination pod (required)',
      )
      .option('-o, --output <format>', 'text | json | yaml', 'text'),
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
    const loaded = await loadFromOptions(paths, opts, 'check')
    if (!loaded) return setExit(2)
    const index = buildIndex(loaded.cluster)
    const src = resolveEndpoint(index, opts.from)
    const dst = resolveEndpoint(index, opts.to)
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
    let port = numeric
    if (named) {
      // A named port means the number the destination pod gives that name (as in a rule's ports).
      if (dst.kind !== 'pod') {
        process.stderr.write(
          `palisade check: --port ${opts.port}: a named port is resolved on the destination pod, and --to ${opts.to} is not a pod\n`,
        )
        return setExit(2)
      }
      const resolved = resolveNamedPort(dst.pod, named)
      if (typeof resolved === 'string') {
        process.stderr.write(`palisade check: --port ${opts.port}: ${resolved}\n`)
        return setExit(2)
      }
      port = resolved
    }
    if (port === undefined) return setExit(2)
    const verdict = evaluate(index, src, dst, port)
    const portText = formatPort(port)
    // A verdict on a partial input says so next to it (the errors themselves went to stderr).
    const omissions = findOmissions(loaded.diagnostics)
    if (opts.output === 'json' || opts.output === 'yaml') {
      const json = {
        ...verdictJSON(verdict, opts.from, opts.to, portText),
        ...(named ? { portName: named.name } : {}),
        ...partialJSON(omissions),
      }
      await writeData(opts.output, json)
    } else {
      const shown = named ? `${portText} (${named.name})` : portText
      const text = renderVerdict(verdict, opts.from, opts.to, shown)
      const c = colorsFor('stdout')
      // The answer word of the first line in colour on a terminal: green allowed, red denied.
      process.stdout.write(
        text.replace(
          /: (ALLOWED|DENIED|NO SUCH CONNECTION)\n/,
          (_, w: string) =>
            `: ${w === 'ALLOWED' ? c.green(c.bold(w)) : w === 'DENIED' ? c.red(c.bold(w)) : c.yellow(c.bold(w))}\n`,
        ),
      )
      process.stdout.write(renderPartialNotice(omissions, 'verdict'))
    }
    setExit(verdict.allowed ? 0 : 1)
  })
}
