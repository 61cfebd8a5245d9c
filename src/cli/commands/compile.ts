/** `palisade compile`: the nftables or iptables ruleset one node (or every node) must enforce. */
import type { Command } from 'commander'
import {
  BACKENDS,
  type BackendName as Backend,
  type CompiledRuleset,
  compileNode,
  DEFAULT_BACKEND,
  parseBackendName,
} from '../../backends/index.js'
import { type CompileOptions, nodeNameProblem, nodesOf } from '../../compile/index.js'
import { checkPodCIDRs } from '../../load/index.js'
import type { ClusterState } from '../../model/index.js'
import {
  compileAllNodes,
  MAX_JOBS,
  parseJobs,
  printDiagnostics,
  startCompileWorkers,
  statsLine,
  writeRulesetFiles,
} from '../compile-all.js'
import { addInputOptions, type InputOptions, loadFromOptions } from '../options.js'

export { printDiagnostics }

interface CompileCliOptions extends InputOptions {
  readonly node?: string
  readonly backend: string
  readonly output?: string
  readonly allNodes?: string
  readonly jobs?: string
  readonly podInterface?: string[]
  readonly podCidr?: string[]
  readonly unknownPods: string
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Parses repeated --pod-interface NAMESPACE/NAME=IFNAME; returns an error text on bad input. */
export function parsePodInterfaces(items: readonly string[] | undefined): CompileOptions | string {
  if (!items || items.length === 0) return {}
  const map: Record<string, string> = {}
  for (const item of items) {
    const m = /^([^/=\s]+\/[^/=\s]+)=([A-Za-z0-9_.@-]{1,15})$/.exec(item)
    if (!m)
      return `--pod-interface must look like NAMESPACE/NAME=IFNAME (IFNAME up to 15 characters), not "${item}"`
    map[m[1] as string] = m[2] as string
  }
  return { podInterfaces: map }
}

/**
 * Parses repeated --pod-cidr CIDR and --unknown-pods drop|allow (compile, apply, agent): the CIDRs are
 * checked as the API server checks Node.spec.podCIDRs (valid, at most one per family); returns an
 * error text on bad input. docs/semantics.md#unknown-local-pods.
 */
export function parsePodRangeOptions(
  podCidr: readonly string[] | undefined,
  unknownPods: string | undefined,
): Pick<CompileOptions, 'podRanges' | 'unknownPods'> | string {
  if (unknownPods !== undefined && unknownPods !== 'drop' && unknownPods !== 'allow')
    return `--unknown-pods must be drop or allow, not "${unknownPods}"`
  const mode = unknownPods === 'allow' ? { unknownPods: 'allow' as const } : {}
  if (!podCidr || podCidr.length === 0) return mode
  const r = checkPodCIDRs(podCidr, ['--pod-cidr'])
  if (r.problems.length > 0) return `--pod-cidr: ${(r.problems[0] as { message: string }).message}`
  return { ...mode, podRanges: r.ranges.map((x) => x.cidr) }
}

/** The --pod-cidr and --unknown-pods options (compile, apply, agent). */
export function addPodRangeOptions(cmd: Command): Command {
  return cmd
    .option(
      '--pod-cidr <cidr>',
      "the node's pod range (repeatable, one per family; wins over the Node's spec.podCIDRs)",
      collect,
    )
    .option(
      '--unknown-pods <mode>',
      'drop | allow: traffic from or to an address of the pod ranges that is no known pod',
      'drop',
    )
}

/** Returns the backend named on the command line, or undefined when it is not one. */
export function parseBackend(text: string): Backend | undefined {
  return parseBackendName(text)
}

/** Returns the ruleset as one text: the file itself for nftables, the files with headers otherwise. */
function asText(rs: CompiledRuleset): string {
  const names = Object.keys(rs.files)
  if (names.length === 1) return rs.files[names[0] as string] ?? ''
  return names.map((n) => `# ==> ${n} <==\n${rs.files[n]}`).join('\n')
}

/** Compiles one node, printing its diagnostics. */
function compileOne(
  cluster: ClusterState,
  node: string,
  backend: Backend,
  copts: CompileOptions,
  verbose?: boolean,
) {
  const r = compileNode(cluster, node, backend, copts)
  printDiagnostics(r.diagnostics, verbose)
  return r.value
}

/** Registers `compile`. */
export function registerCompile(program: Command, setExit: (code: number) => void): void {
  addInputOptions(
    addPodRangeOptions(
      program
        .command('compile')
        .description('print (or write) the ruleset a node must load to enforce the policies')
        .argument('[paths...]', 'manifest files or folders')
        .option('--node <name>', 'the node (spec.nodeName of its pods)')
        .option('--backend <name>', BACKENDS.join(' | '), DEFAULT_BACKEND)
        .option('-o, --output <dir>', 'write the files into DIR instead of printing them')
        .option('--all-nodes <dir>', 'write DIR/<node>/... for every node that runs pods')
        .option(
          '--jobs <n>',
          `with --all-nodes: threads compiling runs of nodes in parallel, each loading the input (1-${MAX_JOBS}; default 1)`,
        )
        .option(
          '--pod-interface <ns/name=ifname>',
          "a pod's host-side interface, for anti-spoofing (repeatable)",
          collect,
        ),
    ),
  ).action(async (paths: string[], opts: CompileCliOptions) => {
    const backend = parseBackend(opts.backend)
    if (!backend) {
      process.stderr.write(
        `palisade compile: --backend must be ${BACKENDS.join(' or ')}, not "${opts.backend}"\n`,
      )
      return setExit(2)
    }
    const ifs = parsePodInterfaces(opts.podInterface)
    const ranges = parsePodRangeOptions(opts.podCidr, opts.unknownPods)
    if (typeof ifs === 'string' || typeof ranges === 'string') {
      process.stderr.write(`palisade compile: ${typeof ifs === 'string' ? ifs : ranges}\n`)
      return setExit(2)
    }
    const copts: CompileOptions = { ...ifs, ...ranges }
    if (opts.podCidr !== undefined && opts.allNodes !== undefined) {
      process.stderr.write(
        "palisade compile: --pod-cidr names one node's ranges and cannot be used with --all-nodes (give Node objects with spec.podCIDRs)\n",
      )
      return setExit(2)
    }
    if (opts.node !== undefined && opts.allNodes !== undefined) {
      process.stderr.write(
        'palisade compile: --node and --all-nodes cannot be used together: give --node NAME (one node) or --all-nodes DIR (every node)\n',
      )
      return setExit(2)
    }
    if (opts.node === undefined && opts.allNodes === undefined) {
      process.stderr.write('palisade compile: give --node NAME or --all-nodes DIR\n')
      return setExit(2)
    }
    const nodeProblem = opts.node === undefined ? undefined : nodeNameProblem(opts.node)
    if (nodeProblem) {
      process.stderr.write(`palisade compile: --node: ${nodeProblem}\n`)
      return setExit(2)
    }
    const jobs = parseJobs(opts.jobs)
    if (typeof jobs === 'string') {
      process.stderr.write(`palisade compile: ${jobs}\n`)
      return setExit(2)
    }
    // --all-nodes --jobs N: the workers load the inputs while this thread does (they are started on
    // what was read, before it is loaded).
    let workers: ReturnType<typeof startCompileWorkers>
    try {
      // Only the cluster is kept: the parsed objects become garbage (less heap to scan per node at scale).
      const cluster = (
        await loadFromOptions(paths, opts, 'compile', {
          onRead: (read) => {
            if (opts.allNodes !== undefined)
              workers = startCompileWorkers({
                inputs: read.inputs,
                mode: read.mode,
                maxBytes: read.maxBytes,
                backend,
                copts,
                jobs,
              })
          },
        })
      )?.cluster
      if (!cluster) return setExit(2)
      return await compileTo(cluster, opts, backend, copts, workers, setExit)
    } finally {
      await workers?.stop()
    }
  })
}

/** Compiles every node (--all-nodes) or one (--node) of the loaded cluster. */
async function compileTo(
  cluster: ClusterState,
  opts: CompileCliOptions,
  backend: Backend,
  copts: CompileOptions,
  workers: ReturnType<typeof startCompileWorkers>,
  setExit: (code: number) => void,
): Promise<void> {
  const nodes = nodesOf(cluster)
  try {
    if (opts.allNodes !== undefined) {
      if (nodes.length === 0)
        process.stderr.write('palisade compile: warning: no pod has spec.nodeName: nothing to write\n')
      await compileAllNodes({
        cluster,
        nodes,
        backend,
        copts,
        dir: opts.allNodes,
        verbose: opts.verbose,
        workers,
        setExit,
      })
    }
    if (opts.node !== undefined) {
      if (!nodes.includes(opts.node)) {
        process.stderr.write(
          `palisade compile: warning: no pod runs on node "${opts.node}" (nodes: ${nodes.join(', ') || 'none'}); the ruleset isolates nothing\n`,
        )
      }
      const rs = compileOne(cluster, opts.node, backend, copts, opts.verbose)
      if (opts.output !== undefined) {
        await writeRulesetFiles(opts.output, rs.files)
        process.stderr.write(`${statsLine(rs)} -> ${opts.output}\n`)
      } else {
        process.stdout.write(asText(rs))
      }
    }
  } catch (err) {
    process.stderr.write(`palisade compile: ${err instanceof Error ? err.message : String(err)}\n`)
    return setExit(2)
  }
}
