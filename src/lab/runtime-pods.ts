/**
 * Pods added to a running lab (edge): the lab builds all of its pods at once (topology.ts); these come and
 * go while node agents run, as pods do in a cluster. Each is made exactly as topology.ts makes a pod (its
 * own namespace, a veth whose node side is `r<k>`, the address, the routes; routed mode, IPv4), in two
 * steps so that a program can already run in the pod's namespace when its interface appears: `create`
 * (the empty namespace) then `plug` (the interface, up, addressed, routed). The namespaces are named with
 * the lab's prefix, so `destroyLab` (and `lab down`) removes them with the lab, also after a crash.
 *
 * A `FirstPacketSender` runs in a pod's namespace from before its interface exists and sends, as fast as
 * it can, UDP datagrams and TCP SYNs (connection attempts) to listening peers: the pod that "starts
 * sending the instant its interface exists" of docs/semantics.md#unknown-local-pods. It reports the time of
 * its first accepted TCP connection per peer, and can listen on a TCP port (a kubelet probe's target).
 */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { ipBatch, LabError, run, runInOk } from './exec.js'
import type { LabNode } from './plan.js'
import type { Lab } from './topology.js'

export interface RuntimePod {
  readonly name: string
  readonly node: LabNode
  /** An address of the node's pod CIDR no other pod of the lab holds. */
  readonly ip: string
  readonly netns: string
  /** Node side of the veth (`r<k>`). */
  readonly hostIf: string
}

/** Describes runtime pod number k (0-based, unique in the lab) on `node` with address `ip` (IPv4 only). */
export function runtimePod(lab: Lab, k: number, node: LabNode, ip: string): RuntimePod {
  if (lab.plan.family === 6 || lab.plan.mode !== 'routed')
    throw new LabError('runtime pods are made for the routed IPv4 lab only')
  if (lab.plan.pods.some((p) => p.ip === ip)) throw new LabError(`address ${ip} is a lab pod's`)
  return { name: `r${k}`, node, ip, netns: `${lab.plan.prefix}r${k}`, hostIf: `r${k}` }
}

/** Creates the pods' (empty) namespaces, with loopback up. */
export async function createRuntimePods(pods: readonly RuntimePod[], timeoutMs = 20_000): Promise<void> {
  if (pods.length === 0) return
  await ipBatch(
    undefined,
    pods.map((p) => `netns add ${p.netns}`),
    timeoutMs,
  )
  await Promise.all(pods.map((p) => ipBatch(p.netns, ['link set lo up'], timeoutMs)))
}

/**
 * Gives each pod its interface as topology.ts does in routed mode: veth (node side r<k>, pod side eth0),
 * up, the pod's /32 and default route, the node's /32 route to it, proxy ARP without delay. Returns when
 * every pod is up (one `ip -batch` per node and per pod).
 */
export async function plugRuntimePods(pods: readonly RuntimePod[], timeoutMs = 20_000): Promise<void> {
  const byNode = new Map<string, RuntimePod[]>()
  for (const p of pods) byNode.set(p.node.netns, [...(byNode.get(p.node.netns) ?? []), p])
  await Promise.all(
    [...byNode.entries()].map(async ([nodeNs, ps]) => {
      await ipBatch(
        nodeNs,
        ps.flatMap((p) => [
          `link add ${p.hostIf} type veth peer name eth0 netns ${p.netns}`,
          `link set ${p.hostIf} up`,
          `route add ${p.ip}/32 dev ${p.hostIf} scope link`,
        ]),
        timeoutMs,
      )
      await runInOk(nodeNs, ['sysctl', '-qw', ...ps.map((p) => `net.ipv4.neigh.${p.hostIf}.proxy_delay=0`)], {
        timeoutMs,
      })
    }),
  )
  await Promise.all(
    pods.map((p) =>
      ipBatch(
        p.netns,
        [`addr add ${p.ip}/32 dev eth0`, 'link set eth0 up', 'route add default dev eth0 scope link'],
        timeoutMs,
      ),
    ),
  )
}

/** Removes the pods: their processes (by pid), then their namespaces (their veths and routes go with them). */
export async function removeRuntimePods(pods: readonly RuntimePod[]): Promise<void> {
  for (const p of pods) {
    const r = await run(['ip', 'netns', 'pids', p.netns], { timeoutMs: 5000 })
    for (const s of r.stdout.split('\n')) {
      const pid = Number(s.trim())
      if (Number.isInteger(pid) && pid > 1 && pid !== process.pid)
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone
        }
    }
  }
  if (pods.length > 0)
    await run(['ip', '-force', '-batch', '-'], {
      input: `${pods.map((p) => `netns del ${p.netns}`).join('\n')}\n`,
      timeoutMs: 30_000,
    })
}

/** A Node object for each lab node, with its pod CIDR as spec.podCIDRs (what the controller-manager sets). */
export function labNodeObjects(lab: Lab): Record<string, unknown>[] {
  return lab.plan.nodes.map((n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name },
    spec: { podCIDR: n.podCidr, podCIDRs: [n.podCidr] },
    status: { addresses: [{ type: 'InternalIP', address: n.ip }] },
  }))
}

/** A Pod object as the kubelet reports a runtime pod once it has its address. */
export function runtimePodObject(
  p: RuntimePod,
  namespace: string,
  labels: Record<string, string>,
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace, labels },
    spec: { nodeName: p.node.name, containers: [{ name: 'c', image: 'lab' }] },
    status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }] },
  }
}

export interface SenderTarget {
  readonly ip: string
  /** A listening TCP port: SYNs (connection attempts) go there. */
  readonly tcpPort: number
  /** A UDP port: datagrams go there. */
  readonly udpPort: number
}

export interface SenderReport {
  /** Epoch ms of the first accepted TCP connection per target ip (absent: none). */
  readonly firstAccepted: Readonly<Record<string, number>>
  /** Epoch ms of the first UDP answer per target ip (the datagram got there and back). */
  readonly firstReply: Readonly<Record<string, number>>
  readonly udpSent: number
  readonly tcpAttempts: number
}

export interface FirstPacketSender {
  /** Stops the sender and returns what it saw. */
  readonly stop: () => Promise<SenderReport>
}

/**
 * The sender: every `intervalMs`, one UDP datagram and (at most `maxOpen` open at once) one TCP connection
 * attempt to every target; sends that fail (no address or route yet) are retried at the next tick. On
 * SIGTERM it prints its report as one JSON line.
 */
const SENDER = `
const dgram = require('node:dgram'), net = require('node:net')
const [targets, intervalMs, maxOpen, listenPort] = JSON.parse(process.argv[1])
if (listenPort) net.createServer((c) => c.destroy()).listen(listenPort).on('error', () => {})
const first = {}; let udpSent = 0, tcpAttempts = 0, open = 0
const payload = Buffer.from('first-packet')
const firstReply = {}
let sock = dgram.createSocket('udp4'); sock.on('error', () => {})
sock.on('message', (m, r) => { if (firstReply[r.address] === undefined) firstReply[r.address] = Date.now() })
const tick = () => {
  for (const t of targets) {
    sock.send(payload, t.udpPort, t.ip, (err) => { if (!err) udpSent++ })
    if (open >= maxOpen) continue
    open++
    const c = net.connect({ host: t.ip, port: t.tcpPort })
    let done = false
    const end = () => { if (!done) { done = true; open--; c.destroy() } }
    c.setTimeout(100, () => { tcpAttempts++; end() })
    c.on('connect', () => { tcpAttempts++; if (first[t.ip] === undefined) first[t.ip] = Date.now(); end() })
    c.on('error', (e) => { if (e.code !== 'ENETUNREACH' && e.code !== 'EADDRNOTAVAIL') tcpAttempts++; end() })
  }
}
const timer = setInterval(tick, intervalMs)
process.on('SIGTERM', () => {
  clearInterval(timer)
  process.stdout.write(JSON.stringify({ firstAccepted: first, firstReply, udpSent, tcpAttempts }) + '\\n', () => process.exit(0))
})
process.stdout.write('ready\\n')
`

/** Starts a sender in a namespace; resolves once it runs. */
export async function startSender(
  netns: string,
  targets: readonly SenderTarget[],
  o: { readonly intervalMs?: number; readonly maxOpen?: number; readonly listenPort?: number } = {},
): Promise<FirstPacketSender> {
  const child: ChildProcess = spawn(
    'ip',
    [
      'netns',
      'exec',
      netns,
      process.execPath,
      '-e',
      SENDER,
      JSON.stringify([targets, o.intervalMs ?? 2, o.maxOpen ?? 16, o.listenPort ?? 0]),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 10_000
  while (!out.includes('ready\n')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new LabError(`the sender in ${netns} did not start`)
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  return {
    stop: async () => {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (!line) throw new LabError(`the sender in ${netns} gave no report`)
      return JSON.parse(line) as SenderReport
    },
  }
}
