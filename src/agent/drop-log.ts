/**
 * --log-drops (edge): one JSON line in the agent's log per dropped connection attempt.
 *
 * Delivery is NFLOG: the pod chains' log statements (rendered with CompileOptions.logDrops) send the
 * first packet of each refused attempt, within the node's rate limit, to an NFLOG group of the node's
 * network namespace. The kernel log is not an option for a pod network: from a non-init network
 * namespace it is silent unless the host-global sysctl net.netfilter.nf_log_all_netns=1, and it would
 * mix our records into the host's journal. Node has no netlink, so `tcpdump -i nflog:GROUP -U -w -`
 * (libpcap's nflog device, one small Debian package) reads the group and writes pcap to a pipe, parsed
 * in nflog.ts; ulogd2 would need its own configuration file, daemon and output file to tail.
 *
 * Bounded and never in the way: records wait in a queue of at most `queueMax` (what overflows is
 * counted, palisade_drop_logs_suppressed_total{reason="queue-full"}) and are logged in small batches
 * off the event loop's current turn. The same 5-tuple seen again within `dedupWindowMs` (a SYN the
 * client's kernel retransmits: dropped, its conntrack entry is never confirmed, so it is `ct state new`
 * again; a UDP datagram resent on the same socket) is counted as a duplicate, not logged. tcpdump
 * exiting (or missing) is logged and counted, and it is started again with backoff; the rules, the sync
 * loop and the process are never affected.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import type { Logger } from 'pino'
import { DROP_LOG_PREFIX } from '../compile/index.js'
import type { ClusterState } from '../model/index.js'
import { podAddresses } from '../semantics/index.js'
import { type DropIndex, isPodDropChain } from './drop-counters.js'
import type { AgentMetrics } from './metrics.js'
import { NflogPcapParser, type NflogRecord, parsePacketTuple } from './nflog.js'

export interface DropLogOptions {
  readonly group: number
  /** Network namespace to read in (`ip netns exec`); absent = the agent's own. */
  readonly netns?: string
  readonly queueMax?: number
  readonly dedupWindowMs?: number
  readonly backoffInitialMs?: number
  readonly backoffMaxMs?: number
  /** The reader's command (tests); default tcpdump on the nflog device. */
  readonly command?: readonly string[]
}

export interface DropLogDeps {
  readonly log: Logger
  readonly metrics: AgentMetrics
  /** Chain -> pod chain, as in force. */
  readonly index: () => DropIndex
  /** The cluster the agent holds (remote ends are named from its pods). */
  readonly cluster: () => ClusterState | undefined
}

/** A remote or local end of a dropped connection. */
export interface DropEnd {
  readonly ip: string
  readonly port?: number
  readonly namespace?: string
  readonly pod?: string
}

/** What one log line says. */
export interface DropEvent {
  /** When the kernel logged the packet (ISO 8601). */
  readonly packetTime: string
  readonly protocol: string
  readonly src: DropEnd
  readonly dst: DropEnd
  /** The isolated local pod's side: ingress (dst is the pod) or egress (src is the pod). */
  readonly direction: 'ingress' | 'egress'
  readonly namespace: string
  readonly pod: string
  /**
   * The policies isolating the pod in that direction, none of which admits the connection; empty when a
   * ClusterNetworkPolicy denied it (`clusterPolicy`).
   */
  readonly policies: readonly string[]
  /** The ClusterNetworkPolicy whose Deny rule decided, and its tier (absent for NetworkPolicy drops). */
  readonly clusterPolicy?: { readonly name: string; readonly tier: 'Admin' | 'Baseline' }
}

/** Returns the command that reads an NFLOG group as pcap on stdout. */
export function nflogReaderCommand(group: number, netns?: string): string[] {
  // -s 65535: libpcap's receive buffer is its snapshot length + 128, and the kernel sends NFLOG records
  // in batches: a short snapshot truncates a batch to its first record (the rules copy 128 bytes a packet).
  const tcpdump = [
    'tcpdump',
    '-i',
    `nflog:${group}`,
    '-U',
    '-w',
    '-',
    '-s',
    '65535',
    '--immediate-mode',
    '-Z',
    'root',
  ]
  // The reader dies with the agent (setpriv, util-linux, is in every Debian): an orphan would keep the
  // NFLOG group bound, and the next agent's reader could not bind it until the orphan next wrote a record.
  // -Z root keeps tcpdump's credentials unchanged, which would otherwise clear the parent-death signal.
  const inNetns = netns !== undefined ? ['ip', 'netns', 'exec', netns, ...tcpdump] : tcpdump
  return ['setpriv', '--pdeathsig', 'KILL', ...inNetns]
}

/** Turns records into events: attribution by the chain in the prefix, remote end by address. */
export function dropEventOf(
  r: NflogRecord,
  index: DropIndex,
  podsByAddress: ReadonlyMap<string, { namespace: string; name: string }>,
): DropEvent | undefined {
  if (!r.prefix.startsWith(DROP_LOG_PREFIX)) return undefined
  const chain = index.get(r.prefix.slice(DROP_LOG_PREFIX.length))
  const t = parsePacketTuple(r.payload)
  if (!chain || !t) return undefined
  const end = (ip: string, port: number | undefined): DropEnd => {
    const p = podsByAddress.get(ip)
    return {
      ip,
      ...(port !== undefined ? { port } : {}),
      ...(p ? { namespace: p.namespace, pod: p.name } : {}),
    }
  }
  const head = {
    packetTime: new Date(r.timeMs).toISOString(),
    protocol: t.protocol,
    src: end(t.src, t.srcPort),
    dst: end(t.dst, t.dstPort),
    direction: chain.direction,
  }
  if (isPodDropChain(chain))
    return { ...head, namespace: chain.namespace, pod: chain.pod, policies: chain.policies }
  // a ClusterNetworkPolicy chain is shared: the pod is the packet's local end
  const pod = podsByAddress.get(chain.direction === 'ingress' ? t.dst : t.src)
  if (!pod) return undefined
  return {
    ...head,
    namespace: pod.namespace,
    pod: pod.name,
    policies: [],
    clusterPolicy: { name: chain.policy, tier: chain.tier },
  }
}

/** Pod address -> pod, of every pod with its own addresses (hostNetwork pods share the node's). */
export function podsByAddressOf(c: ClusterState): Map<string, { namespace: string; name: string }> {
  const out = new Map<string, { namespace: string; name: string }>()
  for (const p of c.pods) {
    if (p.hostNetwork) continue
    for (const a of podAddresses(p.ips)) out.set(a.address, { namespace: p.namespace, name: p.name })
  }
  return out
}

export interface DropLogger {
  /** Handles records as the reader would (tests). */
  readonly handle: (records: readonly NflogRecord[]) => void
  readonly stop: () => Promise<void>
}

/** Starts reading the NFLOG group and logging drops. */
export function startDropLog(o: DropLogOptions, d: DropLogDeps): DropLogger {
  const queueMax = o.queueMax ?? 1024
  const windowMs = o.dedupWindowMs ?? 10_000
  const seen = new Map<string, number>()
  const queue: NflogRecord[] = []
  const log = d.log.child({ component: 'drop-log' })
  let draining = false
  let stopped = false
  let addrCluster: ClusterState | undefined
  let addrMap = new Map<string, { namespace: string; name: string }>()

  const drain = () => {
    draining = false
    const cluster = d.cluster()
    if (cluster && cluster !== addrCluster) {
      addrCluster = cluster
      addrMap = podsByAddressOf(cluster)
    }
    const index = d.index()
    const now = Date.now()
    for (const [k, at] of seen) {
      if (now - at <= windowMs && seen.size <= 4 * queueMax) break
      seen.delete(k)
    }
    for (let n = 0; n < 64 && queue.length > 0; n++) {
      const r = queue.shift() as NflogRecord
      const e = dropEventOf(r, index, addrMap)
      if (!e) {
        d.metrics.dropLogsSuppressed.inc({ reason: 'unattributed' })
        continue
      }
      const key = `${e.protocol} ${e.src.ip} ${e.src.port ?? ''} ${e.dst.ip} ${e.dst.port ?? ''} ${r.prefix}`
      const at = seen.get(key)
      if (at !== undefined && r.timeMs - at <= windowMs) {
        d.metrics.dropLogsSuppressed.inc({ reason: 'duplicate' })
        continue
      }
      seen.delete(key)
      seen.set(key, r.timeMs)
      d.metrics.dropLogs.inc()
      log.info({ drop: e }, 'connection dropped')
    }
    if (queue.length > 0) schedule()
  }
  const schedule = () => {
    if (draining || stopped) return
    draining = true
    setImmediate(drain)
  }
  const handle = (records: readonly NflogRecord[]) => {
    for (const r of records) {
      if (queue.length >= queueMax) d.metrics.dropLogsSuppressed.inc({ reason: 'queue-full' })
      else queue.push(r)
    }
    if (queue.length > 0) schedule()
  }

  let child: ChildProcess | undefined
  let timer: NodeJS.Timeout | undefined
  let backoff = o.backoffInitialMs ?? 1000
  const argv = o.command ?? nflogReaderCommand(o.group, o.netns)
  const start = () => {
    if (stopped) return
    const parser = new NflogPcapParser()
    const startedAt = Date.now()
    let stderr = ''
    let c: ChildProcess
    try {
      c = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (err) {
      restart(`cannot start ${argv[0]}: ${String(err)}`, startedAt)
      return
    }
    child = c
    c.stdout?.on('data', (chunk: Buffer) => {
      const records = parser.push(chunk)
      if (parser.error) {
        log.error({ error: parser.error }, 'drop log reader: unreadable output, restarting it')
        c.kill('SIGKILL')
      }
      handle(records)
    })
    c.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000)
    })
    let ended = false
    const end = (why: string) => {
      if (ended) return
      ended = true
      if (child === c) child = undefined
      restart(
        `${why}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
        startedAt,
      )
    }
    c.once('error', (err) => end(`cannot run ${argv[0]}: ${err.message}`))
    c.once('exit', (code, signal) => end(`${argv[0]} exited (${signal ?? `code ${code}`})`))
    log.info({ group: o.group, command: argv.join(' ') }, 'drop log reader started (NFLOG)')
  }
  const restart = (why: string, startedAt: number) => {
    if (stopped) return
    if (Date.now() - startedAt > 30_000) backoff = o.backoffInitialMs ?? 1000
    d.metrics.dropLogReaderRestarts.inc()
    log.error(
      { reason: why, retryInMs: backoff },
      'drop log reader stopped: drops are still counted, not logged',
    )
    timer = setTimeout(start, backoff)
    backoff = Math.min(backoff * 2, o.backoffMaxMs ?? 30_000)
  }
  start()

  return {
    handle,
    async stop() {
      stopped = true
      clearTimeout(timer)
      const c = child
      child = undefined
      if (c && c.exitCode === null && c.signalCode === null) {
        const exited = new Promise<void>((r) => c.once('exit', () => r()))
        c.kill('SIGTERM')
        const t = setTimeout(() => c.kill('SIGKILL'), 2000)
        await exited
        clearTimeout(t)
      }
    },
  }
}
