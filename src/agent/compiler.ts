/**
 * The agent's compiler (edge): this node's incremental compiler, and with `--pod-interfaces routes` the
 * pod interfaces it needs for anti-spoofing, found from the node's routes. Routes change when this node's
 * pods do (the CNI adds them before the pod reports its address): they are read again only then, and at
 * every resync; the compiler is rebuilt when the interfaces it knows change (anti-spoofing is on from the
 * start, with whatever is known). The node's pod ranges (docs/semantics.md#unknown-local-pods) are read
 * at every compile and rebuild the compiler when they change; once known they are never forgotten.
 */
import type { Logger } from 'pino'
import {
  type BackendName,
  createNodeCompiler,
  execCommand,
  type NodeCompileResult,
} from '../backends/index.js'
import type { CompileOptions, NodeIR, UnknownPodsMode } from '../compile/index.js'
import type { ClusterState } from '../model/index.js'
import { parseHostRoutes, podInterfacesFromRoutes } from './pod-interfaces.js'

export interface AgentCompiler {
  /** Compiles the cluster for the node; `resync` also reads the routes again. */
  compile(cluster: ClusterState, resync: boolean): Promise<NodeCompileResult>
  /** The IR of the last compile. */
  ir(): NodeIR | undefined
}

/** Returns the reader of `ip -j route show` (IPv4, then IPv6) of a network namespace's main table. */
export function hostRoutesReader(netns: string | undefined): () => Promise<string> {
  const ns = netns !== undefined ? ['-n', netns] : []
  return async () => {
    const rs = await Promise.all(
      ['-4', '-6'].map((f) => execCommand('ip', [...ns, '-j', f, 'route', 'show', 'table', 'main'], {})),
    )
    const bad = rs.find((r) => r.code !== 0)
    if (bad) throw new Error(`ip route: ${bad.stderr.trim()}`)
    return rs.map((r) => r.stdout.trim()).join('\n')
  }
}

/** Creates the agent's compiler for a node and backend. */
export function createAgentCompiler(o: {
  readonly node: string
  readonly backend: BackendName
  /** 'routes': find pod interfaces from routes (anti-spoofing); absent: no interface is known. */
  readonly podInterfaces?: 'routes'
  /** --revoke-established (CompileOptions.revokeEstablished). */
  readonly revokeEstablished?: boolean
  readonly listRoutes: () => Promise<string>
  readonly log: Logger
  /**
   * The node's pod ranges in force (--pod-cidr, or the Node's spec.podCIDRs as watched): read at every
   * compile; the compiler is rebuilt when they change. Absent or undefined = unknown.
   */
  readonly podRanges?: () => readonly string[] | undefined
  /** docs/semantics.md#unknown-local-pods (default 'drop'). */
  readonly unknownPods?: UnknownPodsMode
  /** --log-drops: the drop-log statements to render (absent: none). */
  readonly logDrops?: CompileOptions['logDrops']
}): AgentCompiler {
  const routes = o.podInterfaces === 'routes'
  let interfaces: Readonly<Record<string, string>> | undefined = routes ? {} : undefined
  let ranges: readonly string[] | undefined = o.podRanges?.()
  const options = (): CompileOptions => ({
    ...(interfaces ? { podInterfaces: interfaces } : {}),
    ...(ranges !== undefined ? { podRanges: ranges } : {}),
    ...(o.revokeEstablished === true ? { revokeEstablished: true } : {}),
    ...(o.logDrops ? { logDrops: o.logDrops } : {}),
    ...(o.unknownPods === 'allow' ? { unknownPods: 'allow' as const } : {}),
  })
  let compiler = createNodeCompiler(o.node, o.backend, options())
  let interfacesKey = '[]'
  let localPodsKey: string | undefined
  let saidUnknown = false
  const checkRanges = () => {
    const now = o.podRanges?.()
    if (now !== undefined && (ranges === undefined || now.join(' ') !== ranges.join(' '))) {
      ranges = now
      compiler = createNodeCompiler(o.node, o.backend, options())
      o.log.info({ podCIDRs: ranges }, 'pod ranges in force: unknown local pod addresses are dropped')
    }
    if (ranges === undefined && o.unknownPods !== 'allow' && !saidUnknown) {
      saidUnknown = true
      o.log.warn(
        { node: o.node },
        'pod ranges unknown (no Node spec.podCIDRs, no --pod-cidr): a pod address not programmed yet is forwarded unfiltered',
      )
    }
  }

  const refreshInterfaces = async (cluster: ClusterState, force: boolean): Promise<void> => {
    const local: string[] = []
    for (const p of cluster.pods)
      if (p.nodeName === o.node && !p.hostNetwork) local.push(`${p.namespace}/${p.name}=${p.ips.join(',')}`)
    const key = local.sort().join(' ')
    if (!force && key === localPodsKey) return
    let text: string
    try {
      text = await o.listRoutes()
    } catch (err) {
      o.log.warn({ err: String(err) }, 'cannot read routes: pod interfaces unchanged')
      return
    }
    localPodsKey = key
    const map = podInterfacesFromRoutes(cluster, o.node, parseHostRoutes(text))
    const mapKey = JSON.stringify(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    if (mapKey === interfacesKey) return
    interfacesKey = mapKey
    interfaces = map
    compiler = createNodeCompiler(o.node, o.backend, options())
    o.log.info({ pods: Object.keys(map).length }, 'pod interfaces from routes changed (anti-spoofing)')
  }

  return {
    async compile(cluster, resync) {
      checkRanges()
      if (routes) await refreshInterfaces(cluster, resync)
      return compiler.compile(cluster)
    },
    ir: () => compiler.ir(),
  }
}
