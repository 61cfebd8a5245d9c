/** `palisade agent`: the node agent (enforce NetworkPolicies on this node until SIGTERM). */
import type { Command } from 'commander'
// The agent (and with it @kubernetes/client-node, ~1.5 s to load) is imported only when `agent` runs,
// so every other command starts fast.
import type { Agent } from '../../agent/index.js'
import {
  DEFAULT_HEALTH_PORT,
  type ListenAddress,
  parseDuration,
  parseListenAddress,
} from '../../agent/options.js'
import { BACKENDS, DEFAULT_BACKEND, parseBackendName } from '../../backends/index.js'
import { nodeNameProblem } from '../../compile/index.js'
import { addPodRangeOptions, parsePodRangeOptions } from './compile.js'

interface AgentCliOptions {
  readonly nodeName?: string
  readonly kubeconfig?: string
  readonly backend: string
  readonly syncPeriod: string
  readonly cacheSyncTimeout: string
  readonly healthAddr: string
  readonly metricsAddr?: string
  readonly debounce: string
  readonly fromDir?: string
  readonly netns?: string
  readonly cleanupOnExit?: boolean
  readonly iptables: string
  readonly logLevel: string
  readonly stateDir?: string
  readonly podInterfaces: string
  readonly podCidr?: string[]
  readonly unknownPods: string
  readonly revokeEstablished?: boolean
  readonly logDrops?: boolean
  readonly logDropsGroup: string
  readonly logDropsRate: string
  readonly logDropsBurst: string
}

/** Default NFLOG group of --log-drops: none of Calico (1, 2), kube-router (100) or Antrea uses it. */
export const DEFAULT_DROP_LOG_GROUP = 9745

/** Parses an integer flag in [min, max]; undefined (with a message) otherwise. */
function integer(flag: string, value: string, min: number, max: number): number | undefined {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN
  return Number.isInteger(n) && n >= min && n <= max
    ? n
    : fail(`${flag} must be an integer from ${min} to ${max}, not "${value}"`)
}

const fail = (msg: string): undefined => {
  process.stderr.write(`palisade agent: ${msg}\n`)
  return undefined
}

/** Prints a usage problem and sets exit code 2. */
function usage(setExit: (code: number) => void, msg: string): void {
  fail(msg)
  setExit(2)
}

function duration(flag: string, value: string): number | undefined {
  const ms = parseDuration(value)
  return ms === undefined ? fail(`${flag} must be a duration like 50ms, 5m or 1h30m, not "${value}"`) : ms
}

function address(flag: string, value: string): ListenAddress | undefined {
  const a = parseListenAddress(value)
  return a === undefined ? fail(`${flag} must be [HOST]:PORT, not "${value}"`) : a
}

/**
 * Installs the agent's process-level policy: `uncaughtException` and `unhandledRejection` go to onFault
 * instead of ending the process. Returns the function that removes both listeners.
 */
export function installFaultPolicy(
  proc: NodeJS.EventEmitter,
  onFault: (kind: 'uncaughtException' | 'unhandledRejection', err: unknown) => void,
): () => void {
  const onException = (err: unknown) => onFault('uncaughtException', err)
  const onRejection = (reason: unknown) => onFault('unhandledRejection', reason)
  proc.on('uncaughtException', onException)
  proc.on('unhandledRejection', onRejection)
  return () => {
    proc.off('uncaughtException', onException)
    proc.off('unhandledRejection', onRejection)
  }
}

/** Registers `agent`. */
export function registerAgent(program: Command, setExit: (code: number) => void): void {
  const cmd = program.command('agent')
  cmd
    .description(
      'enforce NetworkPolicies on this node: watch the API server (or --from-dir), compile, apply; keeps rules on exit',
    )
    .option('--node-name <name>', 'this node (default: $NODE_NAME)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster service account)')
    .option('--backend <backend>', BACKENDS.join(' | '), DEFAULT_BACKEND)
    .option('--iptables <variant>', 'iptables flavour for --backend iptables: nft | legacy', 'nft')
    .option('--sync-period <duration>', 'full resync period (drift repair)', '5m')
    .option(
      '--cache-sync-timeout <duration>',
      'give up when the caches have not synced by then (rules kept)',
      '1m',
    )
    .option(
      '--health-addr <[host]:port>',
      '/healthz, /readyz, and /metrics unless --metrics-addr (loopback by default: the DaemonSet probes 127.0.0.1; a port taken is logged and retried)',
      `127.0.0.1:${DEFAULT_HEALTH_PORT}`,
    )
    .option(
      '--metrics-addr <[host]:port>',
      'serve /metrics here instead (e.g. :9746 for Prometheus scraping the node address)',
    )
    .option(
      '--debounce <duration>',
      'window in which events that follow a sync are coalesced (a lone event is applied at once)',
      '50ms',
    )
    .option('--from-dir <dir>', 'read manifests from a folder instead of the API server')
    .option('--netns <name>', 'program this network namespace instead of the current one')
    .option('--state-dir <dir>', 'where the dataplane keeps its state (default /run/palisade/agent)')
    .option(
      '--pod-interfaces <mode>',
      'none | routes (find pod interfaces from /32 and /128 routes, as routed CNIs make them, and drop spoofed sources)',
      'none',
    )
  addPodRangeOptions(cmd)
  cmd
    .option(
      '--revoke-established',
      'after each commit, delete the conntrack entries of established flows the new rules refuse (default: they live on)',
    )
    .option(
      '--log-drops',
      'log each dropped connection attempt (one JSON line: 5-tuple, both pods, direction, isolating policies), read from NFLOG with tcpdump',
    )
    .option('--log-drops-group <n>', 'NFLOG group of --log-drops (0-65535)', String(DEFAULT_DROP_LOG_GROUP))
    .option(
      '--log-drops-rate <n>',
      '--log-drops: at most this many logged packets per second for the node',
      '100',
    )
    .option('--log-drops-burst <n>', '--log-drops: packets the limit lets through at once', '200')
    .option('--cleanup-on-exit', 'remove the rules when stopping (default: keep them in force)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug', 'info')
    .action(async (o: AgentCliOptions) => {
      const nodeName = o.nodeName ?? process.env.NODE_NAME
      if (!nodeName) return usage(setExit, '--node-name (or $NODE_NAME) is required')
      const nodeProblem = nodeNameProblem(nodeName)
      if (nodeProblem) return usage(setExit, `--node-name: ${nodeProblem}`)
      const backend = parseBackendName(o.backend)
      if (!backend) return usage(setExit, `--backend must be ${BACKENDS.join(' or ')}, not "${o.backend}"`)
      if (o.iptables !== 'nft' && o.iptables !== 'legacy')
        return usage(setExit, `--iptables must be nft or legacy, not "${o.iptables}"`)
      if (o.podInterfaces !== 'none' && o.podInterfaces !== 'routes')
        return usage(setExit, `--pod-interfaces must be none or routes, not "${o.podInterfaces}"`)
      const ranges = parsePodRangeOptions(o.podCidr, o.unknownPods)
      if (typeof ranges === 'string') return usage(setExit, ranges)
      const syncPeriodMs = duration('--sync-period', o.syncPeriod)
      const cacheSyncTimeoutMs = duration('--cache-sync-timeout', o.cacheSyncTimeout)
      const debounceMs = duration('--debounce', o.debounce)
      const healthAddr = address('--health-addr', o.healthAddr)
      const metricsAddr = o.metricsAddr === undefined ? undefined : address('--metrics-addr', o.metricsAddr)
      const logGroup = integer('--log-drops-group', o.logDropsGroup, 0, 65535)
      const logRate = integer('--log-drops-rate', o.logDropsRate, 1, 1_000_000)
      const logBurst = integer('--log-drops-burst', o.logDropsBurst, 1, 1_000_000)
      if (logGroup === undefined || logRate === undefined || logBurst === undefined) return void setExit(2)
      if (
        syncPeriodMs === undefined ||
        cacheSyncTimeoutMs === undefined ||
        debounceMs === undefined ||
        healthAddr === undefined ||
        (o.metricsAddr !== undefined && metricsAddr === undefined)
      ) {
        return void setExit(2)
      }
      const [{ pino }, { startAgent }] = await Promise.all([import('pino'), import('../../agent/index.js')])
      const logger = pino({ name: 'palisade-agent', level: o.logLevel })
      // Process-level policy: an error nothing handled is logged and counted, and the agent keeps
      // running with the last rules in force (exiting would only restart it into the same state).
      let agentRef: Agent | undefined
      const uninstall = installFaultPolicy(process, (kind, err) => {
        if (agentRef) agentRef.reportFault(kind, err)
        else
          logger.fatal(
            { kind, err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
            'unhandled error while starting: logged, rules kept in force',
          )
      })
      let agent: Agent
      try {
        agent = await startAgent({
          nodeName,
          backend,
          iptables: o.iptables,
          syncPeriodMs,
          cacheSyncTimeoutMs,
          debounceMs,
          healthAddr,
          ...(metricsAddr ? { metricsAddr } : {}),
          ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
          ...(o.fromDir ? { fromDir: o.fromDir } : {}),
          ...(o.netns ? { netns: o.netns } : {}),
          ...(o.stateDir ? { stateDir: o.stateDir } : {}),
          ...(o.podInterfaces === 'routes' ? { podInterfaces: 'routes' as const } : {}),
          ...(ranges.podRanges ? { podRanges: ranges.podRanges } : {}),
          ...(ranges.unknownPods ? { unknownPods: ranges.unknownPods } : {}),
          ...(o.revokeEstablished === true ? { revokeEstablished: true } : {}),
          ...(o.logDrops ? { logDrops: { group: logGroup, rate: logRate, burst: logBurst } } : {}),
          cleanupOnExit: o.cleanupOnExit === true,
          logger,
        })
      } catch (err) {
        uninstall()
        fail(err instanceof Error ? err.message : String(err))
        return void setExit(2)
      }
      agentRef = agent
      let code = 0
      await new Promise<void>((resolve) => {
        const onSignal = (sig: NodeJS.Signals) => {
          logger.info({ signal: sig }, 'stopping')
          process.off('SIGTERM', onSignal)
          process.off('SIGINT', onSignal)
          resolve()
        }
        process.on('SIGTERM', onSignal)
        process.on('SIGINT', onSignal)
        agent.ready.catch(() => {
          // Caches never synced: exit non-zero (the DaemonSet restarts us), rules untouched.
          code = 1
          process.off('SIGTERM', onSignal)
          process.off('SIGINT', onSignal)
          resolve()
        })
      })
      await agent.stop()
      uninstall()
      setExit(code)
      // The rules are kept and the logs written: do not let a client library's stray socket (a watch
      // aborted before its response arrived) keep the process alive after a SIGTERM.
      setTimeout(() => process.exit(code), 1000).unref()
    })
}
