/** `palisade explain PATH... [--pod ns/name] [-o text|json]`: per pod, what isolates it and what it admits. */
import type { Command } from 'commander'
import { buildIndex, resolveEndpoints } from '../../engine/index.js'
import {
  explainPod,
  explainPods,
  type PodExplanation,
  partialJSON,
  renderPartialNotice,
  renderPodExplanations,
} from '../../explain/index.js'
import { findOmissions } from '../../load/index.js'
import { emptyReason } from '../empty.js'
import { writeData } from '../format.js'
import { addClusterOptions, addInputOptions, type InputOptions, loadFromOptions } from '../options.js'

interface ExplainOptions extends InputOptions {
  readonly pod?: string
  readonly output: string
  readonly namespace?: string
}

/** Registers the explain command. */
export function registerExplain(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('explain')
    .description('explain, per pod, which policies select it and what they admit (ingress and egress)')
    .argument('[paths...]', 'manifest files or folders')
    .option(
      '--pod <name>',
      'explain only this pod, or every pod of this workload: ns/NAME, [ns/]KIND/NAME (deploy/web), NAME (-n)',
    )
    .option('-n, --namespace <ns>', 'namespace of --pod KIND/NAME and bare names (default: default)')
    .option('-o, --output <format>', 'text | json | yaml', 'text')
  addClusterOptions(addInputOptions(cmd)).action(async (paths: string[], opts: ExplainOptions) => {
    if (opts.output !== 'text' && opts.output !== 'json' && opts.output !== 'yaml') {
      process.stderr.write(`palisade explain: -o must be text, json or yaml, not "${opts.output}"\n`)
      return setExit(2)
    }
    const loaded = await loadFromOptions(paths, opts, 'explain')
    if (!loaded) return setExit(2)
    const index = buildIndex(loaded.cluster)
    let explanations: PodExplanation[]
    if (opts.pod !== undefined) {
      const r = resolveEndpoints(
        index,
        opts.pod,
        opts.namespace === undefined ? {} : { namespace: opts.namespace },
      )
      const pods = typeof r === 'string' ? [] : r.endpoints.flatMap((e) => (e.kind === 'pod' ? [e.pod] : []))
      if (typeof r === 'string' || pods.length === 0) {
        process.stderr.write(
          `palisade explain: --pod ${opts.pod}: ${typeof r === 'string' ? r : 'not a pod of the input'}\n`,
        )
        return setExit(2)
      }
      explanations = pods.map((p) => explainPod(index, p))
    } else {
      explanations = explainPods(index)
    }
    const omissions = findOmissions(loaded.diagnostics)
    if (opts.output === 'json' || opts.output === 'yaml')
      await writeData(opts.output, { pods: explanations, ...partialJSON(omissions) })
    else {
      if (explanations.length === 0)
        process.stdout.write(`${emptyReason(loaded.cluster, []) ?? 'no pod in the input'}\n`)
      else process.stdout.write(renderPodExplanations(explanations))
      process.stdout.write(renderPartialNotice(omissions, 'explanations'))
    }
    setExit(0)
  })
}
