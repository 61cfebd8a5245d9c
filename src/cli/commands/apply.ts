/** `palisade apply` (load a node's ruleset into the kernel) and `palisade cleanup` (remove it). */

import { join } from 'node:path'
import type { Command } from 'commander'
import {
  applyRuleset,
  BACKENDS,
  cleanup,
  compileNode,
  conntrackIO,
  DEFAULT_BACKEND,
  DEFAULT_STATE_DIR,
  isValidNetnsName,
  revokeEstablished,
} from '../../backends/index.js'
import { buildNodeIR, nodeNameProblem, nodesOf } from '../../compile/index.js'
import { addInputOptions, type InputOptions, loadFromOptions } from '../options.js'
import {
  addPodRangeOptions,
  parseBackend,
  parsePodInterfaces,
  parsePodRangeOptions,
  printDiagnostics,
} from './compile.js'

interface ApplyCliOptions extends InputOptions {
  readonly node?: string
  readonly backend: string
  readonly netns?: string
  readonly iptables: string
  readonly stateDir?: string
  readonly podInterface?: string[]
  readonly podCidr?: string[]
  readonly unknownPods: string
  readonly revokeEstablished?: boolean
}

interface CleanupCliOptions {
  readonly netns?: string
  readonly backend: string
  readonly iptables: string
  readonly stateDir?: string
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Checks the options shared by apply and cleanup; returns an error text or undefined. */
function checkCommon(o: { netns?: string; iptables: string }): string | undefined {
  if (o.netns !== undefined && !isValidNetnsName(o.netns))
    return `--netns "${o.netns}" is not a valid namespace name`
  if (o.iptables !== 'nft' && o.iptables !== 'legacy')
    return `--iptables must be nft or legacy, not "${o.iptables}"`
  return undefined
}

/** Registers `apply` and `cleanup`. */
export function registerApply(program: Command, setExit: (code: number) => void): void {
  addInputOptions(
    addPodRangeOptions(
      program
        .command('apply')
        .description(
          "compile a node's ruleset and load it into the kernel in one transaction (skipped when unchanged)",
        )
        .argument('[paths...]', 'manifest files or folders')
        .option('--node <name>', 'the node (spec.nodeName of its pods; required)')
        .option('--backend <name>', BACKENDS.join(' | '), DEFAULT_BACKEND)
        .option('--netns <name>', 'program this network namespace instead of the current one')
        .option('--iptables <variant>', 'nft | legacy (iptables backend)', 'nft')
        .option('--state-dir <dir>', 'where the hash of the loaded ruleset is kept', '/run/palisade')
        .option(
          '--pod-interface <ns/name=ifname>',
          "a pod's host-side interface, for anti-spoofing (repeatable)",
          collect,
        )
        .option(
          '--revoke-established',
          'then delete the conntrack entries of established flows the loaded rules refuse (default: they live on)',
        ),
    ),
  ).action(async (paths: string[], opts: ApplyCliOptions) => {
    // Checked here, not as a required option: commander checks those before unknown options (a typo).
    if (opts.node === undefined) {
      process.stderr.write("error: required option '--node <name>' not specified\n")
      return setExit(2)
    }
    const backend = parseBackend(opts.backend)
    const problem = backend
      ? checkCommon(opts)
      : `--backend must be ${BACKENDS.join(' or ')}, not "${opts.backend}"`
    const ifs = parsePodInterfaces(opts.podInterface)
    const ranges = parsePodRangeOptions(opts.podCidr, opts.unknownPods)
    const copts = typeof ifs === 'string' ? ifs : typeof ranges === 'string' ? ranges : { ...ifs, ...ranges }
    const nodeProblem = nodeNameProblem(opts.node as string)
    if (problem || typeof copts === 'string' || !backend || nodeProblem) {
      process.stderr.write(`palisade apply: ${problem ?? (nodeProblem ? `--node: ${nodeProblem}` : copts)}\n`)
      return setExit(2)
    }
    const node = opts.node as string
    const loaded = await loadFromOptions(paths, opts, 'apply')
    if (!loaded) return setExit(2)
    if (!nodesOf(loaded.cluster).includes(node)) {
      process.stderr.write(
        `palisade apply: warning: no pod runs on node "${node}"; the ruleset isolates nothing\n`,
      )
    }
    const compileOpts = opts.revokeEstablished === true ? { ...copts, revokeEstablished: true } : copts
    const r = compileNode(loaded.cluster, node, backend, compileOpts)
    printDiagnostics(r.diagnostics, opts.verbose)
    try {
      const res = await applyRuleset(r.value, {
        ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
        iptables: opts.iptables as 'nft' | 'legacy',
        ...(opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}),
      })
      for (const w of res.warnings) process.stderr.write(`palisade apply: warning: ${w}\n`)
      const s = r.value.stats
      const where = opts.netns !== undefined ? ` in netns ${opts.netns}` : ''
      process.stdout.write(
        res.changed
          ? `applied ${backend} ruleset for ${node}${where}: ${s.rules} rules, ${s.chains} chains, ${s.sets} sets, ${s.elements} elements\n`
          : `unchanged: the ${backend} ruleset for ${node}${where} is already loaded\n`,
      )
      if (opts.revokeEstablished === true) {
        // The rules are committed: now the established flows they refuse. A failure leaves the rules as loaded.
        const rep = await revokeEstablished(
          conntrackIO(opts.netns !== undefined ? { netns: opts.netns } : {}),
          buildNodeIR(loaded.cluster, node, compileOpts),
        )
        if (rep.error !== undefined) {
          process.stderr.write(`palisade apply: revoking established flows failed: ${rep.error}\n`)
          return setExit(1)
        }
        process.stdout.write(
          `revoked ${rep.deleted} established flow${rep.deleted === 1 ? '' : 's'} the rules refuse (of ${rep.listed} tracked)\n`,
        )
      }
    } catch (err) {
      process.stderr.write(`palisade apply: ${err instanceof Error ? err.message : String(err)}\n`)
      process.stderr.write('palisade apply: the previously loaded ruleset (if any) is still in force\n')
      return setExit(2)
    }
  })

  program
    .command('cleanup')
    .description("remove Palisade's table (nftables) and chains/sets (iptables); nothing else is touched")
    .option('--netns <name>', 'clean this network namespace instead of the current one')
    .option('--backend <name>', `${BACKENDS.join(' | ')} | all`, 'all')
    .option('--iptables <variant>', 'nft | legacy (iptables backend)', 'nft')
    .option(
      '--state-dir <dir>',
      'where apply or the agent kept their state (default: both /run/palisade and /run/palisade/agent)',
    )
    .action(async (opts: CleanupCliOptions) => {
      const backend = opts.backend === 'all' ? 'all' : parseBackend(opts.backend)
      const problem = backend
        ? checkCommon(opts)
        : `--backend must be ${BACKENDS.join(', ')} or all, not "${opts.backend}"`
      if (problem || !backend) {
        process.stderr.write(`palisade cleanup: ${problem}\n`)
        return setExit(2)
      }
      try {
        // Without --state-dir, the records of `palisade apply` and of `palisade agent` both count.
        const report = await cleanup({
          backend,
          ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
          iptables: opts.iptables as 'nft' | 'legacy',
          ...(opts.stateDir !== undefined
            ? { stateDir: opts.stateDir }
            : { stateDirs: [DEFAULT_STATE_DIR, join(DEFAULT_STATE_DIR, 'agent')] }),
        })
        process.stdout.write(
          `removed palisade ${backend === 'all' ? BACKENDS.join(' and ') : backend} objects\n`,
        )
        if (report.left.length > 0)
          process.stderr.write(
            `palisade cleanup: left in place (named like ours, but no palisade record lists them): ${report.left.join(', ')}\n`,
          )
      } catch (err) {
        process.stderr.write(`palisade cleanup: ${err instanceof Error ? err.message : String(err)}\n`)
        return setExit(2)
      }
    })
}
