/** `palisade lab`: a cluster of network namespaces that proves the engine's analysis equals the kernel's. */
import type { Command } from 'commander'
import { nodeNameProblem, nodesOf } from '../../compile/index.js'
import { matrixToJSON, type PortQuery, parsePortSpec } from '../../engine/index.js'
import { renderMatrixTable } from '../../explain/index.js'
import {
  destroyAllLabs,
  destroyLab,
  formatVerifyReport,
  fuzzLab,
  LAB_BACKENDS,
  type LabBackend,
  type LabMode,
  listLabIds,
  mismatchJSON,
  newLabPrefix,
  probeLab,
  readLab,
  runReloadTest,
  teardownOnSignals,
  upLab,
  verifyCluster,
} from '../../lab/index.js'
import type { ClusterState, Family } from '../../model/index.js'
import { formatDiagnostic } from '../format.js'
import { addInputOptions, type InputOptions, loadFromOptions } from '../options.js'
import { registerLabTrace } from './trace.js'

interface LabOptions extends InputOptions {
  readonly mode: string
  readonly backend: string
  readonly nodes: string
  readonly ports?: string
  readonly keep?: boolean
  readonly output?: string
  readonly agents?: boolean
  readonly family?: string
}

/** Node names become agent flags and ruleset comments: the API server's rule (RFC 1123 subdomain) applies. */
function nodeProblem(cluster: ClusterState): string | undefined {
  for (const node of nodesOf(cluster)) {
    const problem = nodeNameProblem(node)
    if (problem) return `spec.nodeName: ${problem}`
  }
  return undefined
}

const MODES: readonly LabMode[] = ['routed', 'bridge']
const err = (s: string) => process.stderr.write(`${s}\n`)

/** Checks the shared lab options; returns an error message or the parsed values. */
function parseLabOptions(opts: LabOptions):
  | {
      mode: LabMode
      backend: LabBackend
      nodes: number
      agents: boolean
      family: Family
      ports?: PortQuery[]
    }
  | string {
  if (!MODES.includes(opts.mode as LabMode)) return `--mode must be routed or bridge, not "${opts.mode}"`
  if (!LAB_BACKENDS.includes(opts.backend as LabBackend))
    return `--backend must be one of ${LAB_BACKENDS.join(', ')}, not "${opts.backend}"`
  const family = Number(opts.family ?? '4')
  if (family !== 4 && family !== 6) return `--family must be 4 or 6, not "${opts.family}"`
  const nodes = Number(opts.nodes)
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 200)
    return `--nodes must be an integer from 1 to 200, not "${opts.nodes}"`
  let ports: PortQuery[] | undefined
  if (opts.ports !== undefined) {
    ports = []
    for (const text of opts.ports.split(',').filter((s) => s.trim() !== '')) {
      const p = parsePortSpec(text)
      if (typeof p === 'string') return `--ports: ${p}`
      ports.push(p)
    }
  }
  return {
    mode: opts.mode as LabMode,
    backend: opts.backend as LabBackend,
    nodes,
    agents: opts.agents === true,
    family,
    ...(ports ? { ports } : {}),
  }
}

function labOptions(cmd: Command): Command {
  return addInputOptions(
    cmd
      .option(
        '--mode <mode>',
        'routed (/32 + proxy ARP, Calico style) | bridge (cbr0 + br_netfilter)',
        'routed',
      )
      .option('--backend <backend>', LAB_BACKENDS.join(' | '), 'nftables')
      .option('--nodes <n>', 'at least this many nodes; pods without spec.nodeName are spread over them', '2')
      .option(
        '--ports <list>',
        'ports to serve and probe, e.g. 80/TCP,53/UDP (default: declared + policy ports)',
      )
      .option('--family <4|6>', 'address family of every lab address (6: an IPv6-only lab)', '4')
      .option(
        '--agents',
        'enforce with one `palisade agent --from-dir` process per node instead of loading the compiled rules',
      ),
  )
}

/** Finds the lab `probe` and `down --lab` mean: the one named, else the only one running. */
async function pickLab(id: string | undefined): Promise<string | undefined> {
  if (id) return id
  const ids = await listLabIds()
  if (ids.length === 1) return ids[0]
  err(
    ids.length === 0
      ? 'palisade lab: no lab is running (palisade lab up PATH...)'
      : `palisade lab: several labs run (${ids.join(', ')}): pick one with --lab ID`,
  )
  return undefined
}

/** Registers `lab up|probe|verify|down|fuzz|reload-test`. */
export function registerLab(program: Command, setExit: (code: number) => void): void {
  const fail = (message: string): void => {
    err(message)
    setExit(2)
  }
  const lab = program
    .command('lab')
    .description(
      'a netns cluster on this machine: compiled rules in the kernel, probed, compared with the analysis (root)',
    )

  labOptions(
    lab
      .command('up')
      .description('build the lab, start servers in every pod, load the compiled rules; leave it running')
      .argument('[paths...]', 'manifest files or folders'),
  ).action(async (paths: string[], opts: LabOptions) => {
    const o = parseLabOptions(opts)
    if (typeof o === 'string') return fail(`palisade lab up: ${o}`)
    const loaded = await loadFromOptions(paths, opts, 'lab')
    if (!loaded) return setExit(2)
    const badNode = nodeProblem(loaded.cluster)
    if (badNode) return fail(`palisade lab: ${badNode}`)
    const prefix = await newLabPrefix()
    const unregister = teardownOnSignals(() => destroyLab(prefix))
    const up = await upLab(loaded.cluster, { ...o, prefix, log: err })
      .catch((e: unknown) => {
        err(`palisade lab up: ${e instanceof Error ? e.message : String(e)}`)
        return undefined
      })
      .finally(unregister)
    if (!up) return setExit(2)
    for (const d of up.diagnostics) err(formatDiagnostic(d))
    const p = up.lab.plan
    process.stdout.write(`${p.prefix.replace(/-$/, '')}\n`)
    err(
      `lab ${p.prefix.replace(/-$/, '')} is up in ${Object.values(up.timings).reduce((a, b) => a + b, 0)} ms; pods:`,
    )
    for (const pod of p.pods)
      err(`  ${pod.key.padEnd(32)} ${pod.ip.padEnd(15)} ${pod.node}  netns ${pod.netns}`)
    for (const a of p.outside?.addresses ?? []) err(`  outside ${a.ip.padEnd(15)} ${a.reasons.join('; ')}`)
    setExit(0)
  })

  lab
    .command('probe')
    .description(
      'probe every pair of a running lab and print the observed matrix (same shape as `matrix -o json`)',
    )
    .option('--lab <id>', 'lab id printed by `lab up` (default: the only running lab)')
    .option('-o, --output <format>', 'json | table', 'json')
    .option('--all', 'include nodes and outside addresses as rows and columns')
    .action(async (opts: { lab?: string; output: string; all?: boolean }) => {
      const id = await pickLab(opts.lab)
      if (!id) return setExit(2)
      const l = await readLab(id)
      if (!l) return fail(`palisade lab probe: no lab ${id}`)
      const r = await probeLab(l).catch((e: unknown) => {
        err(`palisade lab probe: ${e instanceof Error ? e.message : String(e)}`)
        return undefined
      })
      if (!r) return setExit(2)
      const m = opts.all ? r.full : r.pods
      process.stdout.write(
        opts.output === 'table' ? renderMatrixTable(m) : `${JSON.stringify(matrixToJSON(m))}\n`,
      )
      err(`${r.probes} probes in ${r.wallMs} ms`)
      setExit(0)
    })

  labOptions(
    lab
      .command('verify')
      .description(
        'build a lab, load the compiled rules, probe every pair, compare with the analysis; exit 1 on any difference',
      )
      .argument('[paths...]', 'manifest files or folders')
      .option('--keep', 'leave the lab running afterwards (remove it with `lab down`)')
      .option('-o, --output <format>', 'text | json', 'text'),
  ).action(async (paths: string[], opts: LabOptions) => {
    const o = parseLabOptions(opts)
    if (typeof o === 'string') return fail(`palisade lab verify: ${o}`)
    const loaded = await loadFromOptions(paths, opts, 'lab')
    if (!loaded) return setExit(2)
    const badNode = nodeProblem(loaded.cluster)
    if (badNode) return fail(`palisade lab: ${badNode}`)
    if (!loaded.cluster.pods.some((p) => !p.hostNetwork)) {
      return fail(
        'palisade lab verify: nothing to verify: the input has no pod (add Pod or workload manifests)',
      )
    }
    const r = await verifyCluster(loaded.cluster, { ...o, keep: opts.keep === true, log: err }).catch(
      (e: unknown) => {
        err(`palisade lab verify: ${e instanceof Error ? e.message : String(e)}`)
        return undefined
      },
    )
    if (!r) return setExit(2)
    for (const d of r.diagnostics) err(formatDiagnostic(d))
    if (opts.output === 'json') {
      process.stdout.write(
        `${JSON.stringify({
          lab: r.prefix.replace(/-$/, ''),
          probes: r.observed.probes,
          mismatches: r.mismatches.map(mismatchJSON),
          timings: r.timings,
          expected: matrixToJSON(r.expected),
          observed: matrixToJSON(r.observed.full),
        })}\n`,
      )
    } else {
      process.stdout.write(`${formatVerifyReport(r)}\n`)
    }
    setExit(r.mismatches.length > 0 ? 1 : 0)
  })

  registerLabTrace(lab, setExit)

  lab
    .command('down')
    .description('remove labs: processes, namespaces, state (every lab, also after a crash, unless --lab)')
    .option('--lab <id>', 'remove only this lab')
    .action(async (opts: { lab?: string }) => {
      let removed: string[]
      if (opts.lab) {
        await destroyLab(opts.lab)
        removed = [opts.lab]
      } else {
        removed = await destroyAllLabs()
      }
      err(removed.length === 0 ? 'no lab to remove' : `removed ${removed.join(', ')}`)
      setExit(0)
    })

  lab
    .command('fuzz')
    .description(
      'random clusters through compiler -> kernel -> probes; shrink and save every mismatch under test/lab/regressions/',
    )
    .option('--seed <n>', 'first seed', '1')
    .option('--cases <k>', 'number of clusters', '10')
    .option('--mode <mode>', 'routed | bridge', 'routed')
    .option('--backend <backend>', LAB_BACKENDS.join(' | '), 'nftables')
    .option('--family <4|6>', 'address family of the lab (6 also draws IPv6 ipBlocks)', '4')
    .option(
      '--cluster-policies <n>',
      'also draw up to n ClusterNetworkPolicies per cluster (Admin and Baseline, with Node objects)',
      '0',
    )
    .option('--out <dir>', 'where failing cases are saved', 'test/lab/regressions')
    .action(
      async (opts: {
        seed: string
        cases: string
        mode: string
        backend: string
        family: string
        clusterPolicies: string
        out: string
      }) => {
        const seed = Number(opts.seed)
        const cases = Number(opts.cases)
        const o = parseLabOptions({ mode: opts.mode, backend: opts.backend, nodes: '2', family: opts.family })
        if (typeof o === 'string') return fail(`palisade lab fuzz: ${o}`)
        if (!Number.isInteger(seed) || !Number.isInteger(cases) || cases < 1)
          return fail('palisade lab fuzz: --seed and --cases must be integers, --cases >= 1')
        const clusterPolicies = Number(opts.clusterPolicies)
        if (!/^\d+$/.test(opts.clusterPolicies) || clusterPolicies > 25)
          return fail(
            `palisade lab fuzz: --cluster-policies must be an integer 0..25, not "${opts.clusterPolicies}"`,
          )
        const r = await fuzzLab({
          seed,
          cases,
          mode: o.mode,
          backend: o.backend,
          family: o.family,
          ...(clusterPolicies > 0 ? { clusterPolicies } : {}),
          outDir: opts.out,
          log: err,
        })
        process.stdout.write(
          `${r.cases} cases, ${r.probes} probes, ${r.failures.length} failing, ${r.ms} ms\n`,
        )
        for (const f of r.failures)
          process.stdout.write(`seed ${f.seed}: ${f.mismatches} mismatches, saved ${f.files.join(' ')}\n`)
        setExit(r.failures.length > 0 ? 1 : 0)
      },
    )

  lab
    .command('reload-test')
    .description(
      'reload the rules many times under TCP/UDP streams and denied connection attempts; count leaks and broken flows',
    )
    .option('--reloads <n>', 'number of reloads', '1000')
    .option('--backend <backend>', LAB_BACKENDS.join(' | '), 'nftables')
    .action(async (opts: { reloads: string; backend: string }) => {
      const o = parseLabOptions({ mode: 'routed', backend: opts.backend, nodes: '2' })
      if (typeof o === 'string') return fail(`palisade lab reload-test: ${o}`)
      const reloads = Number(opts.reloads)
      if (!Number.isInteger(reloads) || reloads < 1)
        return fail('palisade lab reload-test: --reloads must be a positive integer')
      const unregister = teardownOnSignals(async () => undefined)
      try {
        const r = await runReloadTest({ reloads, backend: o.backend, log: err })
        process.stdout.write(`${JSON.stringify(r)}\n`)
        setExit(r.leakedDenied === 0 && r.brokenAllowed === 0 && r.failedReloads === 0 ? 0 : 1)
      } finally {
        unregister()
      }
    })
}
