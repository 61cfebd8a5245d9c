/** `palisade check`: may A reach B on port P? Exit 0 allowed, 1 denied, 2 error. */
import type { Command } from 'commander'
import {
  buildIndex,
  type DirectionVerdict,
  evaluate,
  formatPort,
  parsePortSpec,
  type RuleRef,
  resolveEndpoint,
  type Verdict,
} from '../../engine/index.js'
import { partialJSON, renderPartialNotice, renderVerdict } from '../../explain/index.js'
import { findOmissions } from '../../load/index.js'
import type { SourceRef } from '../../model/index.js'
import { addInputOptions, type InputOptions, loadFromOptions } from '../options.js'

interface CheckOptions extends InputOptions {
  readonly from: string
  readonly to: string
  readonly port: string
  readonly output: string
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
      .requiredOption(
        '--from <endpoint>',
        'namespace/pod, namespace/workload, node/NAME[=IP] or an IP outside the cluster',
      )
      .requiredOption(
        '--to <endpoint>',
        'namespace/pod, namespace/workload, node/NAME[=IP] or an IP outside the cluster',
      )
      .requiredOption('--port <port>', 'PORT[/PROTOCOL], e.g. 80/TCP, 53/UDP (protocol defaults to TCP)')
      .option('-o, --output <format>', 'text | json', 'text'),
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
    const verdict = evaluate(index, src, dst, port)
    const portText = formatPort(port)
    // A verdict on a partial input says so next to it (the errors themselves went to stderr).
    const omissions = findOmissions(loaded.diagnostics)
    if (opts.output === 'json') {
      const json = { ...verdictJSON(verdict, opts.from, opts.to, portText), ...partialJSON(omissions) }
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
    } else {
      process.stdout.write(renderVerdict(verdict, opts.from, opts.to, portText))
      process.stdout.write(renderPartialNotice(omissions, 'verdict'))
    }
    setExit(verdict.allowed ? 0 : 1)
  })
}
