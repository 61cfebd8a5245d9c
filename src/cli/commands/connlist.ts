/**
 * `palisade connlist PATH...`: the allowed connections per workload (replicas folded), to and from outside
 * addresses, with their ports, as netpol-analyzer's `list` prints them; `--exposure` adds who may reach
 * each workload and whom it may reach.
 */
import type { Command } from 'commander'
import {
  buildConnlist,
  buildExposure,
  type Connection,
  connlistToJSON,
  exposureDotLines,
  exposureToJSON,
  renderConnlistCSV,
  renderConnlistDot,
  renderConnlistMarkdown,
  renderConnlistText,
  renderExposureCSV,
  renderExposureMarkdown,
  renderExposureText,
  workloadPeer,
} from '../../connlist/index.js'
import { partialJSON, renderPartialNotice } from '../../explain/index.js'
import { findOmissions } from '../../load/index.js'
import { emptyReason } from '../empty.js'
import { writeData } from '../format.js'
import { addClusterOptions, addInputOptions, type InputOptions, loadFromOptions } from '../options.js'
import { parsePortList } from './diff.js'

interface ConnlistOptions extends InputOptions {
  readonly ports?: string
  readonly namespace?: string[]
  readonly exposure?: boolean
  readonly output: 'text' | 'json' | 'yaml' | 'csv' | 'md' | 'dot'
}

const FORMATS = ['text', 'json', 'yaml', 'csv', 'md', 'dot']
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Keeps the connections that touch one of the namespaces (every policy still counts). */
function inNamespaces(connections: readonly Connection[], namespaces: ReadonlySet<string>): Connection[] {
  const touches = (c: Connection) =>
    (c.src.kind === 'workload' && namespaces.has(c.src.namespace)) ||
    (c.dst.kind === 'workload' && namespaces.has(c.dst.namespace))
  return connections.filter(touches)
}

/** Registers `connlist`. */
export function registerConnlist(program: Command, setExit: (code: number) => void): void {
  addClusterOptions(
    addInputOptions(
      program
        .command('connlist')
        .description(
          'list the allowed connections per workload (replicas folded) and with outside addresses, with their ports',
        )
        .argument('[paths...]', 'manifest files or folders')
        .option('--ports <list>', 'only these ports, e.g. 80/TCP,53/UDP (default: every port, exactly)')
        .option(
          '-n, --namespace <name>',
          'only connections of workloads in this namespace (repeatable); every policy still counts',
          collect,
        )
        .option(
          '--exposure',
          'also list who may reach each workload and whom it may reach, from the rules (entire-cluster, a namespace, the internet...)',
        )
        .option('-o, --output <format>', FORMATS.join(' | '), 'text'),
    ),
  ).action(async (paths: string[], opts: ConnlistOptions) => {
    if (!FORMATS.includes(opts.output as string)) {
      process.stderr.write(
        `palisade connlist: -o must be one of ${FORMATS.join(', ')}, not "${opts.output}"\n`,
      )
      return setExit(2)
    }
    const ports = opts.ports === undefined ? undefined : parsePortList(opts.ports)
    if (typeof ports === 'string') {
      process.stderr.write(`palisade connlist: --ports: ${ports}\n`)
      return setExit(2)
    }
    const loaded = await loadFromOptions(paths, opts, 'connlist')
    if (!loaded) return setExit(2)
    const shown = loaded.cluster.pods.filter(
      (p) => !p.hostNetwork && (!opts.namespace?.length || opts.namespace.includes(p.namespace)),
    )
    const empty = emptyReason(loaded.cluster, shown, opts.namespace)
    if (empty) {
      process.stderr.write(`palisade connlist: ${empty}\n`)
      return setExit(2)
    }
    const list = buildConnlist(loaded.cluster, ports ? { ports } : {})
    let connections = list.connections
    let workloads = list.workloads
    if (opts.namespace && opts.namespace.length > 0) {
      const keep = new Set(opts.namespace)
      connections = inNamespaces(connections, keep)
      workloads = workloads.filter((w) => keep.has(w.namespace))
    }
    let exposure = opts.exposure ? buildExposure(loaded.cluster, list) : undefined
    if (exposure && opts.namespace && opts.namespace.length > 0) {
      const keep = new Set(workloads.map((w) => w.key))
      exposure = {
        lines: exposure.lines.filter((l) => keep.has(l.workload)),
        workloads: exposure.workloads.filter((w) => keep.has(w.workload)),
      }
    }
    const names = new Map(list.workloads.map((w) => [w.key, `${w.key}[${w.kind}]`]))
    const omissions = findOmissions(loaded.diagnostics)
    const notice = renderPartialNotice(omissions, 'connections')
    switch (opts.output) {
      case 'json':
      case 'yaml':
        await writeData(opts.output, {
          connections: connlistToJSON(connections),
          ...(exposure ? { exposure: exposureToJSON(exposure, names) } : {}),
          ...partialJSON(omissions),
        })
        break
      case 'csv':
        process.stdout.write(renderConnlistCSV(connections))
        if (exposure) process.stdout.write(`\n${renderExposureCSV(exposure, names)}`)
        process.stderr.write(notice)
        break
      case 'md':
        process.stdout.write(renderConnlistMarkdown(connections))
        if (exposure) process.stdout.write(`\n${renderExposureMarkdown(exposure, names)}`)
        process.stdout.write(notice)
        break
      case 'dot':
        process.stdout.write(
          renderConnlistDot(
            connections,
            workloads.map(workloadPeer),
            exposure ? exposureDotLines(exposure, names) : [],
          ),
        )
        process.stderr.write(notice)
        break
      default:
        process.stdout.write(renderConnlistText(connections))
        if (exposure) process.stdout.write(`\n${renderExposureText(exposure, names)}`)
        process.stdout.write(notice)
    }
    if (opts.verbose)
      process.stderr.write(
        `${list.stats.pods} pods in ${list.workloads.length} workloads and ${list.stats.classes} classes; ${list.stats.portGroups} port groups, ${list.stats.addressRanges} address ranges\n`,
      )
    setExit(0)
  })
}
