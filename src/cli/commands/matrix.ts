/** `palisade matrix`: the reachability matrix of every pod pair on every port. */
import type { Command } from 'commander'
import {
  buildIndex,
  CELL_ALLOWED,
  computeMatrix,
  declaredPorts,
  evaluate,
  matrixPods,
  matrixToJSON,
  type PortQuery,
  parsePortSpec,
} from '../../engine/index.js'
import {
  partialJSON,
  renderMatrixCSV,
  renderMatrixDot,
  renderMatrixTable,
  renderPartialNotice,
  renderVerdict,
} from '../../explain/index.js'
import { findOmissions } from '../../load/index.js'
import { podKey } from '../../model/index.js'
import { emptyReason } from '../empty.js'
import { writeData } from '../format.js'
import { addClusterOptions, addInputOptions, type InputOptions, loadFromOptions } from '../options.js'

interface MatrixOptions extends InputOptions {
  readonly ports?: string
  readonly namespace?: string[]
  readonly output: 'table' | 'wide' | 'json' | 'yaml' | 'csv' | 'dot'
}

const FORMATS = ['table', 'wide', 'json', 'yaml', 'csv', 'dot']
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Registers `matrix`. */
export function registerMatrix(program: Command, setExit: (code: number) => void): void {
  addClusterOptions(
    addInputOptions(
      program
        .command('matrix')
        .description(
          'print which pod may reach which, per port (default ports: the container ports pods declare)',
        )
        .argument('[paths...]', 'manifest files or folders')
        .option('--ports <list>', 'comma-separated ports, e.g. 80/TCP,81/UDP')
        .option(
          '-n, --namespace <name>',
          'show only the pods of this namespace (repeatable); every policy still counts',
          collect,
        )
        .option('-o, --output <format>', `${FORMATS.join(' | ')}`, 'table'),
    ),
  ).action(async (paths: string[], opts: MatrixOptions) => {
    if (!FORMATS.includes(opts.output as string)) {
      process.stderr.write(`palisade matrix: -o must be one of ${FORMATS.join(', ')}, not "${opts.output}"\n`)
      return setExit(2)
    }
    let ports: PortQuery[] | undefined
    if (opts.ports !== undefined) {
      ports = []
      for (const text of opts.ports.split(',').filter((s) => s.trim() !== '')) {
        const p = parsePortSpec(text)
        if (typeof p === 'string') {
          process.stderr.write(`palisade matrix: --ports: ${p}\n`)
          return setExit(2)
        }
        ports.push(p)
      }
    }
    // With -n only those namespaces' pods are shown, and only their policies decide their cells: the pods
    // and policies of the others are read and checked, not kept (LoadScope).
    const names = opts.namespace ?? []
    const shown = names.length > 0 ? new Set(names) : undefined
    const loaded = await loadFromOptions(paths, opts, 'matrix', shown ? { scope: { namespaces: shown } } : {})
    if (!loaded) return setExit(2)
    const index = buildIndex(loaded.cluster)
    let pods = matrixPods(index)
    if (shown) {
      const unknown = names.filter((n) => !index.namespaceLabels.has(n))
      if (unknown.length > 0 && unknown.length < names.length)
        process.stderr.write(`palisade matrix: warning: no namespace ${unknown.join(', ')} in the input\n`)
      pods = pods.filter((p) => shown.has(p.namespace))
    }
    const empty = emptyReason(loaded.cluster, pods, opts.namespace, loaded.leftOut)
    if (empty) {
      process.stderr.write(`palisade matrix: ${empty}\n`)
      return setExit(2)
    }
    const chosen = ports ?? declaredPorts(pods)
    if (chosen.length === 0) {
      process.stderr.write(
        'palisade matrix: no port to evaluate: the pods declare no container port; give --ports 80/TCP,...\n',
      )
      return setExit(2)
    }
    const m = computeMatrix(index, chosen, pods)
    const omissions = findOmissions(loaded.diagnostics)
    const notice = renderPartialNotice(omissions, 'matrix')
    switch (opts.output) {
      case 'json':
      case 'yaml':
        await writeData(opts.output, { ...matrixToJSON(m), ...partialJSON(omissions) }, true)
        break
      case 'csv':
        process.stdout.write(renderMatrixCSV(m))
        process.stderr.write(notice) // the CSV stays a CSV
        break
      case 'dot':
        process.stdout.write(renderMatrixDot(m))
        process.stderr.write(notice)
        break
      case 'wide':
        // Every pair with the policies and rules that decided it (per-pair evaluation: slower, complete).
        for (const port of chosen) {
          for (const a of pods) {
            for (const b of pods) {
              const v = evaluate(index, { kind: 'pod', pod: a }, { kind: 'pod', pod: b }, port)
              process.stdout.write(renderVerdict(v, podKey(a), podKey(b), `${port.port}/${port.protocol}`))
            }
          }
        }
        process.stdout.write(notice)
        break
      default:
        process.stdout.write(renderMatrixTable(m))
        process.stdout.write(notice)
    }
    const cellsAllowed = m.cells.every((c) => c.every((x) => x === CELL_ALLOWED))
    if (opts.verbose)
      process.stderr.write(
        `${m.stats.pods} pods in ${m.stats.classes} classes; ${cellsAllowed ? 'everything allowed' : 'some pairs denied'}\n`,
      )
    setExit(0)
  })
}
