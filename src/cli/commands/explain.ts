/** `palisade explain PATH... [--pod ns/name] [-o text|json]`: per pod, what isolates it and what it admits. */
import type { Command } from 'commander'
import { buildIndex, resolveEndpoint } from '../../engine/index.js'
import {
  explainPod,
  explainPods,
  type PodExplanation,
  partialJSON,
  renderPartialNotice,
  renderPodExplanations,
} from '../../explain/index.js'
import { findOmissions } from '../../load/index.js'
import { addInputOptions, type InputOptions, loadFromOptions } from '../options.js'

interface ExplainOptions extends InputOptions {
  readonly pod?: string
  readonly output: string
}

/** Registers the explain command. */
export function registerExplain(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('explain')
    .description('explain, per pod, which policies select it and what they admit (ingress and egress)')
    .argument('[paths...]', 'manifest files or folders')
    .option('--pod <ns/name>', 'explain only this pod (or workload)')
    .option('-o, --output <format>', 'text | json', 'text')
  addInputOptions(cmd).action(async (paths: string[], opts: ExplainOptions) => {
    if (opts.output !== 'text' && opts.output !== 'json') {
      process.stderr.write(`palisade explain: -o must be text or json, not "${opts.output}"\n`)
      return setExit(2)
    }
    const loaded = await loadFromOptions(paths, opts)
    if (!loaded) return setExit(2)
    const index = buildIndex(loaded.cluster)
    let explanations: PodExplanation[]
    if (opts.pod !== undefined) {
      const ep = resolveEndpoint(index, opts.pod)
      if (typeof ep === 'string' || ep.kind !== 'pod') {
        process.stderr.write(
          `palisade explain: --pod ${opts.pod}: ${typeof ep === 'string' ? ep : 'not a pod of the input'}\n`,
        )
        return setExit(2)
      }
      explanations = [explainPod(index, ep.pod)]
    } else {
      explanations = explainPods(index)
    }
    const omissions = findOmissions(loaded.diagnostics)
    if (opts.output === 'json')
      process.stdout.write(`${JSON.stringify({ pods: explanations, ...partialJSON(omissions) }, null, 2)}\n`)
    else {
      if (explanations.length === 0) process.stdout.write('no pods in the input\n')
      else process.stdout.write(renderPodExplanations(explanations))
      process.stdout.write(renderPartialNotice(omissions, 'explanations'))
    }
    setExit(0)
  })
}
