/**
 * Palisade's node agent in the lab (edge): one `palisade agent` process per lab node, started inside the
 * node's namespace the way the DaemonSet runs it with hostNetwork, programming that namespace's kernel.
 *
 * The agents read either a manifest folder (`--from-dir`) or an API server. An API server is reached at
 * 127.0.0.1:<apiPort> inside every node: the node's lab server forwards those connections to a Unix socket
 * the caller serves (the filesystem is not namespaced), so no traffic leaves lab namespaces or loopback.
 * Health and metrics are read from inside the node too (its loopback), through the same lab server.
 */

import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_HEALTH_PORT } from '../agent/options.js'
import { type BackendName, DEFAULT_BACKEND } from '../backends/index.js'
import { LabError, sleep, spawnNodeInNetns } from './exec.js'
import type { LabNode } from './plan.js'
import { controlSocket, request } from './server.js'
import { splice } from './splice.js'
import type { Lab } from './topology.js'

/** Where the agents get the cluster from. */
export type NodeAgentSource =
  | {
      /** A Unix socket that leads to the API server (see bridgeUnixToTcp). */
      readonly apiSocket: string
      /** A kubeconfig for the API server; its `server:` is rewritten to the lab's forwarded address. */
      readonly kubeconfig: string
    }
  | { readonly fromDir: string }

export interface NodeAgentsOptions {
  readonly source: NodeAgentSource
  readonly backend?: BackendName
  readonly iptables?: 'nft' | 'legacy'
  /** Agent flags, as durations ('5s', '20ms'). */
  readonly syncPeriod?: string
  readonly debounce?: string
  readonly logLevel?: string
  /** Agent --pod-interfaces (default none). */
  readonly podInterfaces?: 'none' | 'routes'
  /** Agent --unknown-pods (default: the agent's, drop). */
  readonly unknownPods?: 'drop' | 'allow'
  /** Give each agent its node's pod CIDR as --pod-cidr (default: no flag; the agents read their Node). */
  readonly podCidrFlag?: boolean
  /** Agent --revoke-established. */
  readonly revokeEstablished?: boolean
  /** Agent --log-drops with this rate limit (the agents' logs then hold one JSON line per dropped connection attempt). */
  readonly logDrops?: { readonly rate: number; readonly burst: number }
  /** Time for every agent to report healthy (default 60 s). */
  readonly readyTimeoutMs?: number
}

export interface HttpAnswer {
  /** 0 when nothing answered. */
  readonly status: number
  readonly body: string
}

export interface NodeAgent {
  readonly node: LabNode
  readonly logFile: string
  /** Pid of the running process, undefined when stopped. */
  readonly pid: () => number | undefined
  /** GET /healthz from inside the node. */
  readonly health: () => Promise<HttpAnswer>
  /** GET /metrics from inside the node. */
  readonly metrics: () => Promise<HttpAnswer>
  /** Resolves once /healthz answers 200 (rejects after timeoutMs, naming the log file). */
  readonly waitHealthy: (timeoutMs?: number) => Promise<void>
  /** Signals the process and waits for it to exit (SIGKILL after timeoutMs); resolves how it ended. */
  readonly stop: (
    signal?: NodeJS.Signals,
    timeoutMs?: number,
  ) => Promise<{ readonly code: number | null; readonly signal: string | null }>
  /** Starts the process again (after stop). */
  readonly start: () => Promise<void>
}

/** Ports inside each node; moved up when the lab probes the same TCP port. */
const API_PORT = 6443
const HEALTH_PORT = DEFAULT_HEALTH_PORT

function freePort(lab: Lab, want: number, taken: readonly number[] = []): number {
  const used = new Set([...lab.plan.ports.filter((q) => q.protocol === 'TCP').map((q) => q.port), ...taken])
  let p = want
  while (used.has(p)) p++
  return p
}

/** The `palisade` launcher of this checkout (runs dist/, built by `npm ci`). */
export function palisadeLauncher(): string {
  for (const up of ['../../bin/palisade.js', '../../../bin/palisade.js']) {
    const path = fileURLToPath(new URL(up, import.meta.url))
    if (existsSync(path)) {
      const main = join(path, '..', '..', 'dist', 'src', 'cli', 'main.js')
      if (!existsSync(main)) throw new LabError(`${main} is missing: run \`npm run build\` first`)
      return path
    }
  }
  throw new LabError('cannot find bin/palisade.js')
}

/** Returns the kubeconfig with every `server:` pointing at url. */
export function withServer(kubeconfig: string, url: string): string {
  return kubeconfig.replace(/^(\s*server:\s*)\S+\s*$/gm, `$1${url}`)
}

/**
 * Serves a Unix socket whose connections are piped to host:port on this machine's loopback (the lab's
 * bridge to an API server listening on 127.0.0.1). When nothing listens there, connections are closed at
 * once, as a dead API server's would be. Close the returned server to stop.
 */
export async function bridgeUnixToTcp(path: string, port: number, host = '127.0.0.1'): Promise<net.Server> {
  if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost')
    throw new LabError(`the lab only bridges to loopback, not ${host}`)
  const server = net.createServer((c) => splice(c, net.connect({ host, port })))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => resolve())
  })
  return server
}

/** Starts one agent per lab node and waits until every one reports healthy. */
export async function startNodeAgents(lab: Lab, opts: NodeAgentsOptions): Promise<NodeAgent[]> {
  const launcher = palisadeLauncher()
  const dir = join(lab.stateDir, 'node-agents')
  await mkdir(dir, { recursive: true })
  const apiPort = freePort(lab, API_PORT)
  const healthPort = freePort(lab, HEALTH_PORT, [apiPort])
  const source = opts.source
  let sourceArgs: string[]
  if ('fromDir' in source) sourceArgs = ['--from-dir', source.fromDir]
  else {
    const scheme = /^\s*server:\s*(https?):/m.exec(source.kubeconfig)?.[1] ?? 'https'
    const kubeconfig = join(dir, 'kubeconfig')
    await writeFile(kubeconfig, withServer(source.kubeconfig, `${scheme}://127.0.0.1:${apiPort}`))
    sourceArgs = ['--kubeconfig', kubeconfig]
    await Promise.all(
      lab.plan.nodes.map((n) =>
        request(
          controlSocket(lab, n.netns),
          { op: 'forward', host: '127.0.0.1', port: apiPort, to: source.apiSocket },
          10_000,
        ),
      ),
    )
  }
  const agents = lab.plan.nodes.map((node) =>
    nodeAgent(lab, node, {
      launcher,
      logFile: join(dir, `${node.name}.log`),
      args: [
        'agent',
        '--node-name',
        node.name,
        ...sourceArgs,
        '--backend',
        opts.backend ?? DEFAULT_BACKEND,
        ...(opts.iptables ? ['--iptables', opts.iptables] : []),
        '--sync-period',
        opts.syncPeriod ?? '5s',
        '--debounce',
        opts.debounce ?? '20ms',
        '--health-addr',
        `127.0.0.1:${healthPort}`,
        '--state-dir',
        join(dir, `${node.name}.state`),
        '--log-level',
        opts.logLevel ?? 'info',
        '--pod-interfaces',
        opts.podInterfaces ?? 'none',
        ...(opts.unknownPods ? ['--unknown-pods', opts.unknownPods] : []),
        ...(opts.podCidrFlag ? ['--pod-cidr', node.podCidr] : []),
        ...(opts.revokeEstablished === true ? ['--revoke-established'] : []),
        ...(opts.logDrops
          ? [
              '--log-drops',
              '--log-drops-rate',
              String(opts.logDrops.rate),
              '--log-drops-burst',
              String(opts.logDrops.burst),
            ]
          : []),
      ],
      healthUrl: `http://127.0.0.1:${healthPort}`,
    }),
  )
  try {
    await Promise.all(agents.map((a) => a.start()))
    await Promise.all(agents.map((a) => a.waitHealthy(opts.readyTimeoutMs ?? 60_000)))
  } catch (err) {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')))
    throw err
  }
  return agents
}

interface AgentProcess {
  readonly launcher: string
  readonly logFile: string
  readonly args: readonly string[]
  readonly healthUrl: string
}

function nodeAgent(lab: Lab, node: LabNode, p: AgentProcess): NodeAgent {
  let child: ChildProcess | undefined
  let exited: Promise<{ code: number | null; signal: string | null }> | undefined
  const get = async (path: string): Promise<HttpAnswer> => {
    const r = await request(
      controlSocket(lab, node.netns),
      { op: 'http', url: `${p.healthUrl}${path}`, timeoutMs: 2000 },
      5000,
    )
    const result = r.find((x) => x.done === true)?.result as HttpAnswer | undefined
    return result ?? { status: 0, body: 'no answer' }
  }
  const agent: NodeAgent = {
    node,
    logFile: p.logFile,
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    health: () => get('/healthz'),
    metrics: () => get('/metrics'),
    async waitHealthy(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs
      let last: HttpAnswer = { status: 0, body: '' }
      while (Date.now() < deadline) {
        if (agent.pid() === undefined)
          throw new LabError(`the agent of ${node.name} exited (see ${p.logFile})`)
        last = await get('/healthz')
        if (last.status === 200) return
        await sleep(100)
      }
      throw new LabError(
        `the agent of ${node.name} was not healthy within ${timeoutMs} ms (last: ${last.status} ${last.body.slice(0, 200)}; see ${p.logFile})`,
      )
    },
    async start() {
      if (agent.pid() !== undefined) return
      const c = spawnNodeInNetns(node.netns, [p.launcher, ...p.args], p.logFile)
      child = c
      exited = new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })))
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      const c = child
      const done = exited
      if (!c || !done) return { code: null, signal: null }
      if (agent.pid() !== undefined) c.kill(signal)
      const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs)
      const how = await done
      clearTimeout(timer)
      child = undefined
      exited = undefined
      return how
    },
  }
  return agent
}
