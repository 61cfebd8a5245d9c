/**
 * The first-packet scenario (docs/semantics.md#unknown-local-pods), shared by the lab test
 * (test/lab/first-packet.test.ts, a small count in CI) and the benchmark (bench/first-packet.ts, >= 200
 * pod starts per backend): one `palisade agent` process per lab node fed by the fake API server, which
 * holds the lab's Node objects with their spec.podCIDRs. Namespace `open` holds two listening peers (no
 * policy: they accept from anyone), one per node; namespace `fresh` has a default deny for ingress and
 * egress, plus an egress allow for pods labelled role=allowed.
 *
 * Leak phase: pods of `fresh` start in batches (half on each node). Each runs a sender from before its
 * interface exists (UDP datagrams and TCP SYNs to both peers, every 2 ms), gets its interface, and is
 * written to the API server only `reportDelayMs` later (the kubelet reports a pod's IP after the CNI is
 * done); the senders keep going for `sendAfterMs`. What the peers received from those pods (nft counters in
 * the peers' own namespaces, by source address) is the leak: under the default deny it must be 0.
 * Allowed phase: pods labelled role=allowed, written to the API at once: the window from "interface up"
 * to the first accepted TCP connection, next to the pod-add latency (API write -> the pod's address in
 * the node's set of known pods, polled in the kernel).
 */
import { readFile } from 'node:fs/promises'
import type { Server } from 'node:net'
import { join } from 'node:path'
import { runIn, runInOk } from '../src/lab/exec.js'
import {
  bridgeUnixToTcp,
  clusterManifests,
  createRuntimePods,
  destroyLab,
  type Lab,
  labNodeObjects,
  type NodeAgent,
  plugRuntimePods,
  type RuntimePod,
  removeRuntimePods,
  runtimePod,
  runtimePodObject,
  startNodeAgents,
  startSender,
  upLab,
} from '../src/lab/index.js'
import type { ClusterState, LabelSelector, NetworkPolicy, Pod } from '../src/model/index.js'
import { FakeApiServer, type FakeKind } from './fake-apiserver.js'

export interface FirstPacketOptions {
  readonly backend: 'nftables' | 'iptables'
  readonly iptables?: 'nft' | 'legacy'
  readonly unknownPods?: 'drop' | 'allow'
  /** Pods started in the leak phase (rounded up to whole batches). */
  readonly starts: number
  /** Pods started at once (half per node). */
  readonly batch: number
  /** Pods started in the allowed phase (0: none). */
  readonly allowedStarts: number
  /** Interface up -> Pod written to the API server, in the leak phase (default 300 ms). */
  readonly reportDelayMs?: number
  /** How long senders go on after their Pod was written (default 700 ms). */
  readonly sendAfterMs?: number
  readonly log?: (line: string) => void
}

export interface FirstPacketResult {
  readonly backend: string
  readonly unknownPods: 'drop' | 'allow'
  readonly starts: number
  /** What the peers received from the leak phase's pods. */
  readonly leaked: { readonly udp: number; readonly tcpSyn: number }
  /** What the leak phase's senders sent (proof that they did). */
  readonly sent: { readonly udp: number; readonly tcpAttempts: number }
  /** A node reached a pod of its own that no agent knew yet (ping from the node's namespace). */
  readonly nodeReachedUnknownPod: boolean
  /**
   * Allowed phase: interface up -> first accepted connection, per pod (ms): the first UDP answer or
   * accepted TCP connection from a peer, whichever came first (UDP is tried every 2 ms; a TCP attempt
   * whose SYN was dropped holds one of 16 slots for 100 ms, so TCP sees the opening later).
   */
  readonly windowsMs: readonly number[]
  /** The same for TCP connections only. */
  readonly tcpWindowsMs: readonly number[]
  /**
   * Allowed phase: API write -> rules in force with the pod (ms): the time its agent logged for the last
   * apply before the kernel was seen holding the pod's address (polled): an upper bound, as bench/agent.ts's
   * "pod add" (API write -> apply done) but through a real agent process.
   */
  readonly podAddMs: readonly number[]
  /** Allowed pods that never got a connection through although their rules were in force. */
  readonly allowedFailed: number
  /** Allowed pods their node's ruleset never held within the phase's deadline (20 s after the API write). */
  readonly allowedUnseen: number
  readonly wallMs: number
}

const sel = (matchLabels: Record<string, string>): LabelSelector => ({ matchLabels, matchExpressions: [] })
const origin = { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' } as const
const ports = [
  { name: 'http', containerPort: 80, protocol: 'TCP' as const },
  { name: 'dns', containerPort: 53, protocol: 'UDP' as const },
]
const peer = (name: string, nodeName: string): Pod => ({
  namespace: 'open',
  name,
  labels: { app: 'peer' },
  ips: [],
  ports,
  nodeName,
  hostNetwork: false,
})
const denyAll: NetworkPolicy = {
  namespace: 'fresh',
  name: 'default-deny',
  origin,
  podSelector: sel({}),
  policyTypes: ['Ingress', 'Egress'],
  ingress: [],
  egress: [],
}
const allowEgress: NetworkPolicy = {
  namespace: 'fresh',
  name: 'allowed-egress',
  origin,
  podSelector: sel({ role: 'allowed' }),
  policyTypes: ['Egress'],
  ingress: [],
  egress: [{ peers: [{ namespaceSelector: sel({ 'kubernetes.io/metadata.name': 'open' }) }] }],
}
const ns = (name: string) => ({
  name,
  labels: { 'kubernetes.io/metadata.name': name },
  declared: true,
  defaultDenyIngress: false,
})
const UNIVERSE: ClusterState = {
  namespaces: [ns('open'), ns('fresh')],
  pods: [peer('peer-1', 'node-1'), peer('peer-2', 'node-2')],
  policies: [denyAll, allowEgress],
}

/** The port each runtime pod listens on (as a kubelet probe target). */
const PROBE_PORT = 8080
/** How long after the API write the allowed phase waits for a pod's rules to be in force. */
const ALLOWED_DEADLINE_MS = 20_000

/** Runtime pods use host numbers 20..219 of their node's /24 (the lab's own pods sit below 20). */
const FIRST_HOST = 20
const MAX_PER_NODE = 200

const pct = (xs: readonly number[], p: number): number => {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number
}

/** p50 and p99 of a sample. */
export function percentiles(xs: readonly number[]): { p50: number; p99: number; n: number } {
  return { p50: pct(xs, 50), p99: pct(xs, 99), n: xs.length }
}

/** The counters each peer keeps of what runtime pods sent it. */
function counterTable(lab: Lab): string {
  const ranges = lab.plan.nodes
    .map((n) => {
      const base = n.podCidr.replace(/\.0\/24$/, '')
      return `${base}.${FIRST_HOST}-${base}.${FIRST_HOST + MAX_PER_NODE - 1}`
    })
    .join(', ')
  return [
    'table inet fpcount {',
    `  set runtime { type ipv4_addr; flags interval; elements = { ${ranges} } }`,
    '  chain in {',
    '    type filter hook input priority -300; policy accept;',
    '    ip saddr @runtime udp dport 53 counter comment "udp"',
    '    ip saddr @runtime tcp dport 80 tcp flags & (syn | ack) == syn counter comment "syn"',
    '  }',
    '}',
  ].join('\n')
}

async function readCounters(netns: string): Promise<{ udp: number; tcpSyn: number }> {
  const text = await runInOk(netns, ['nft', 'list', 'chain', 'inet', 'fpcount', 'in'], { timeoutMs: 10_000 })
  const n = (what: string) =>
    Number(new RegExp(`counter packets (\\d+) bytes \\d+ comment "${what}"`).exec(text)?.[1] ?? Number.NaN)
  return { udp: n('udp'), tcpSyn: n('syn') }
}

/** The addresses the node's ruleset knows as local pods right now. */
async function knownPods(node: string, backend: 'nftables' | 'iptables'): Promise<Set<string>> {
  const r =
    backend === 'nftables'
      ? await runIn(node, ['nft', 'list', 'set', 'inet', 'palisade', 'local_pods_v4'], { timeoutMs: 5000 })
      : await runIn(node, ['ipset', 'list', 'pal-LOCAL-4'], { timeoutMs: 5000 })
  return new Set(r.stdout.match(/\d+\.\d+\.\d+\.\d+/g) ?? [])
}

/** Runs the scenario in a lab of its own; removes the lab, also on failure. */
export async function runFirstPacket(o: FirstPacketOptions): Promise<FirstPacketResult> {
  const log = o.log ?? (() => undefined)
  const mode = o.unknownPods ?? 'drop'
  const t0 = Date.now()
  const api = new FakeApiServer()
  await api.start()
  const up = await upLab(UNIVERSE, {
    nodes: 2,
    rules: false,
    backend:
      o.backend === 'nftables' ? 'nftables' : o.iptables === 'legacy' ? 'iptables-legacy' : 'iptables-nft',
  })
  const lab = up.lab
  let bridge: Server | undefined
  let agents: NodeAgent[] = []
  try {
    bridge = await bridgeUnixToTcp(join(lab.stateDir, 'apiserver.sock'), Number(new URL(api.url).port))
    for (const obj of [...labNodeObjects(lab), ...clusterManifests(lab.plan.cluster)])
      api.apply((obj as { kind: FakeKind }).kind, obj)
    agents = await startNodeAgents(lab, {
      source: { apiSocket: join(lab.stateDir, 'apiserver.sock'), kubeconfig: api.kubeconfig() },
      backend: o.backend,
      ...(o.iptables ? { iptables: o.iptables } : {}),
      unknownPods: mode,
      syncPeriod: '30s',
      debounce: '20ms',
      // info: each apply is logged ('rules in force', with its time): the pod-add latency reads it
      logLevel: 'info',
    })
    const [n1, n2] = lab.plan.nodes as [Lab['plan']['nodes'][0], Lab['plan']['nodes'][0]]
    const peers = lab.plan.pods
    const peerOf = (node: string) => peers.find((p) => p.node === node) as (typeof peers)[0]
    // The agents enforce from the Node's ranges (drop) before the first pod starts.
    if (mode === 'drop')
      for (const n of lab.plan.nodes) {
        const t = Date.now()
        for (;;) {
          const r =
            o.backend === 'nftables'
              ? await runIn(n.netns, ['nft', 'list', 'set', 'inet', 'palisade', 'pod_ranges_v4'])
              : await runIn(n.netns, ['ipset', 'list', 'pal-PODNET-4'])
          if (r.stdout.includes(n.podCidr)) break
          if (Date.now() - t > 20_000) throw new Error(`${n.name}: the agent never enforced its pod range`)
          await new Promise((r2) => setTimeout(r2, 50))
        }
      }
    for (const p of peers)
      await runInOk(p.netns, ['nft', '-f', '-'], { input: counterTable(lab), timeoutMs: 10_000 })

    let next = 0
    const used = { [n1.name]: 0, [n2.name]: 0 }
    const makeBatch = (size: number): RuntimePod[] =>
      Array.from({ length: size }, (_, i) => {
        const node = i % 2 === 0 ? n1 : n2
        const host = FIRST_HOST + (used[node.name] as number)
        used[node.name] = (used[node.name] as number) + 1
        if (host >= FIRST_HOST + MAX_PER_NODE) throw new Error('out of runtime pod addresses')
        return runtimePod(lab, next++, node, node.podCidr.replace(/0\/24$/, String(host)))
      })
    const targets = (p: RuntimePod) =>
      [peerOf(p.node.name), peerOf(p.node.name === n1.name ? n2.name : n1.name)].map((x) => ({
        ip: x.ip,
        tcpPort: 80,
        udpPort: 53,
      }))

    /** Starts one batch; returns the sender reports, the interface-up time, the API write time per pod. */
    const runBatch = async (
      pods: RuntimePod[],
      role: string,
      reportDelayMs: number,
      sendAfterMs: number,
      beforeReport?: (pods: RuntimePod[]) => Promise<void>,
      afterReport?: (pods: RuntimePod[], apiAt: number) => Promise<void>,
    ) => {
      await createRuntimePods(pods)
      try {
        const senders = await Promise.all(
          pods.map((p) => startSender(p.netns, targets(p), { listenPort: PROBE_PORT })),
        )
        await plugRuntimePods(pods)
        const upAt = Date.now()
        if (beforeReport) await beforeReport(pods)
        const wait = reportDelayMs - (Date.now() - upAt)
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        const apiAt = Date.now()
        for (const p of pods) api.apply('Pod', runtimePodObject(p, 'fresh', { role }))
        const after = afterReport ? afterReport(pods, apiAt) : Promise.resolve()
        await new Promise((r) => setTimeout(r, sendAfterMs))
        await after
        const reports = await Promise.all(senders.map((s) => s.stop()))
        return { reports, upAt, apiAt }
      } finally {
        for (const p of pods) api.delete('Pod', 'fresh', p.name)
        await removeRuntimePods(pods)
      }
    }

    // Leak phase.
    const before = await Promise.all(peers.map((p) => readCounters(p.netns)))
    const sent = { udp: 0, tcpAttempts: 0 }
    let nodeReachedUnknownPod = false
    let started = 0
    while (started < o.starts) {
      const pods = makeBatch(Math.min(o.batch, o.starts - started))
      const { reports } = await runBatch(
        pods,
        'new',
        o.reportDelayMs ?? 300,
        o.sendAfterMs ?? 700,
        started === 0
          ? async (ps) => {
              // kubelet probes: the node reaches a pod no agent knows yet (only FORWARD is filtered)
              const p = ps[0] as RuntimePod
              // a TCP connection from the node to the pod's listener (retried: a loaded machine may be slow)
              for (let i = 0; i < 3 && !nodeReachedUnknownPod; i++) {
                const r = await runIn(
                  p.node.netns,
                  ['timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${p.ip}/${PROBE_PORT}`],
                  { timeoutMs: 10_000 },
                )
                nodeReachedUnknownPod = r.code === 0
                if (r.code !== 0)
                  log(`node ${p.node.name} -> unknown pod ${p.ip}: exit ${r.code} ${r.stderr}`)
              }
            }
          : undefined,
      )
      for (const r of reports) {
        sent.udp += r.udpSent
        sent.tcpAttempts += r.tcpAttempts
      }
      started += pods.length
      log(`${o.backend} ${mode}: ${started}/${o.starts} pods started`)
    }
    const after = await Promise.all(peers.map((p) => readCounters(p.netns)))
    const leaked = {
      udp: after.reduce((s, c, i) => s + c.udp - (before[i]?.udp ?? 0), 0),
      tcpSyn: after.reduce((s, c, i) => s + c.tcpSyn - (before[i]?.tcpSyn ?? 0), 0),
    }

    // Allowed phase.
    const windowsMs: number[] = []
    const tcpWindowsMs: number[] = []
    const podAddMs: number[] = []
    let allowedFailed = 0
    let allowedUnseen = 0
    let allowed = 0
    while (allowed < o.allowedStarts) {
      const pods = makeBatch(Math.min(o.batch, o.allowedStarts - allowed))
      const seenAt = new Map<string, number>()
      const apiAtRef = { at: 0 }
      // The senders run at least 1.5 s, and on a loaded machine until every pod's rules are in force
      // (polled, up to 20 s after the API write) and 1 s more: a slow agent is measured, not failed.
      const { reports, upAt } = await runBatch(pods, 'allowed', 0, 1500, undefined, async (ps, apiAt) => {
        apiAtRef.at = apiAt
        const deadline = apiAt + ALLOWED_DEADLINE_MS
        await Promise.all(
          lab.plan.nodes.map(async (n) => {
            const mine = ps.filter((p) => p.node.name === n.name)
            while (mine.some((p) => !seenAt.has(p.ip)) && Date.now() < deadline) {
              const known = await knownPods(n.netns, o.backend)
              const now = Date.now()
              for (const p of mine) if (!seenAt.has(p.ip) && known.has(p.ip)) seenAt.set(p.ip, now)
            }
          }),
        )
        await new Promise((r) => setTimeout(r, 1000))
      })
      allowedUnseen += pods.filter((p) => !seenAt.has(p.ip)).length
      // The apply that programmed a pod: the last one its agent logged before the kernel was seen with it.
      const applies = new Map<string, number[]>()
      for (const a of agents) {
        const text = await readFile(a.logFile, 'utf8').catch(() => '')
        const times: number[] = []
        for (const line of text.split('\n')) {
          if (!line.includes('"rules in force"')) continue
          try {
            times.push((JSON.parse(line) as { time: number }).time)
          } catch {
            // not a log line
          }
        }
        applies.set(a.node.name, times)
      }
      for (const r of reports) {
        const tcp = Object.values(r.firstAccepted)
        const any = [...tcp, ...Object.values(r.firstReply)]
        if (any.length === 0) allowedFailed++
        else windowsMs.push(Math.min(...any) - upAt)
        if (tcp.length > 0) tcpWindowsMs.push(Math.min(...tcp) - upAt)
      }
      for (const p of pods) {
        const seen = seenAt.get(p.ip)
        if (seen === undefined) continue
        const t = (applies.get(p.node.name) ?? []).filter((x) => x >= apiAtRef.at && x <= seen)
        podAddMs.push((t.length > 0 ? Math.max(...t) : seen) - apiAtRef.at)
      }
      allowed += pods.length
      log(`${o.backend} ${mode}: ${allowed}/${o.allowedStarts} allowed pods started`)
    }
    return {
      backend: o.backend === 'iptables' ? `iptables-${o.iptables ?? 'nft'}` : 'nftables',
      unknownPods: mode,
      starts: started,
      leaked,
      sent,
      nodeReachedUnknownPod,
      windowsMs,
      tcpWindowsMs,
      podAddMs,
      allowedFailed,
      allowedUnseen,
      wallMs: Date.now() - t0,
    }
  } finally {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')))
    bridge?.close()
    await api.stop()
    await destroyLab(lab.plan.prefix)
  }
}
