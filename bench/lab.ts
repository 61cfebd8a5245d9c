/**
 * Lab benchmark (root): bulk TCP throughput and new-connection rate between two pods on two nodes with
 * 0, 100, 1,000 and 5,000 policies installed on the server's node, measured in one run; ratios against 0 policies.
 * Two shapes: `spread` (default): policies select the node's pods as real clusters do, one in 100 selects the
 * server (10 at 1,000); `worst`: every policy selects the server and only the last one admits the client, so
 * each new connection walks every policy chain.
 * `--cnp`: the policies are Admin ClusterNetworkPolicies instead (issue 13): with `worst`, each selects the
 * server and Denies a peer the client is not, on its own port, and the last Accepts the client on 80, so each
 * new connection walks every Admin chain of the server; with `spread`, one in 100 selects the server.
 *   node dist/bench/lab.js [--shape spread|worst] [--cnp] [--seconds 3] [--backend nftables|iptables-nft|iptables-legacy] [--counts 0,100,1000,5000]
 * Absolute figures are noisy on a shared machine: read the ratios.
 * Every closed connection leaves the client a TIME_WAIT socket for 60 s; once they hold the even half of
 * the ephemeral port range (~14,100 with 32768-60999) every connect() scans it (__inet_hash_connect) and
 * the rate drops to ~100/s whatever the rules. So the client's TIME_WAIT sockets are removed before each
 * figure (`ss -K`) and the client may reuse them (tcp_tw_reuse=1): figures no longer depend on their order.
 */
import { join } from 'node:path'
import { applyRuleset, compileNode } from '../src/backends/index.js'
import { runInOk } from '../src/lab/exec.js'
import {
  controlSocket,
  destroyLab,
  type LabBackend,
  labBackend,
  podInterfacesOf,
  request,
  upLab,
} from '../src/lab/index.js'
import type {
  ClusterNetworkPolicy,
  ClusterState,
  LabelSelector,
  NetworkPolicy,
  Pod,
} from '../src/model/index.js'

const args = process.argv.slice(2)
const opt = (name: string, d: string) => (args.includes(name) ? (args[args.indexOf(name) + 1] ?? d) : d)
const seconds = Number(opt('--seconds', '3'))
const backend = opt('--backend', 'nftables') as LabBackend
const counts = opt('--counts', '0,100,1000,5000').split(',').map(Number)
const shape = opt('--shape', 'spread') as 'spread' | 'worst'
const cnp = args.includes('--cnp')
const OTHERS = 10

const sel = (matchLabels: Record<string, string>): LabelSelector => ({ matchLabels, matchExpressions: [] })
const V1 = { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' } as const
const pod = (name: string, labels: Record<string, string>, nodeName: string): Pod => ({
  namespace: 'bench',
  name,
  labels,
  ips: [],
  ports: [{ containerPort: 80, protocol: 'TCP' }],
  nodeName,
  hostNetwork: false,
})

/**
 * worst: n policies select the server; the client matches only the last one, so every rule is passed first.
 * spread: policy i selects one of the node's other pods, except one in 100 (and the last) that select the server.
 */
function policies(n: number): NetworkPolicy[] {
  const out: NetworkPolicy[] = []
  for (let i = 0; i < n; i++) {
    const last = i === n - 1
    const target = shape === 'worst' || last || i % 100 === 0 ? 'server' : `other-${i % OTHERS}`
    out.push({
      namespace: 'bench',
      name: `p${i}`,
      origin: V1,
      podSelector: sel({ app: target }),
      policyTypes: ['Ingress'],
      ingress: [
        {
          peers: [
            { podSelector: sel({ peer: last ? 'client' : `c${i}` }) },
            { ipBlock: { cidr: `172.${16 + (i % 16)}.${(i >> 4) % 256}.0/24`, except: [] } },
          ],
          ports: [{ protocol: 'TCP', port: last ? 80 : 1000 + (i % 60000) }],
        },
      ],
      egress: [],
    })
  }
  return out
}

/** The same shapes as Admin ClusterNetworkPolicies (priority i: evaluated in order). */
function clusterPolicies(n: number): ClusterNetworkPolicy[] {
  const out: ClusterNetworkPolicy[] = []
  for (let i = 0; i < n; i++) {
    const last = i === n - 1
    const target = shape === 'worst' || last || i % 100 === 0 ? 'server' : `other-${i % OTHERS}`
    out.push({
      name: `cnp${String(i).padStart(5, '0')}`,
      apiVersion: 'policy.networking.k8s.io/v1beta1',
      tier: 'Admin',
      priority: Math.min(i, 1000),
      subject: { kind: 'pods', namespaceSelector: sel({}), podSelector: sel({ app: target }) },
      ingress: [
        {
          action: last ? 'Accept' : 'Deny',
          peers: [
            {
              kind: 'pods',
              namespaceSelector: sel({}),
              podSelector: sel({ peer: last ? 'client' : `c${i}` }),
            },
            { kind: 'networks', networks: [`172.${16 + (i % 16)}.${(i >> 4) % 256}.0/24`] },
          ],
          ports: [{ kind: 'port', protocol: 'TCP', port: last ? 80 : 1000 + (i % 60000) }],
        },
      ],
      egress: [],
    })
  }
  return out
}

const base: ClusterState = {
  namespaces: [
    {
      name: 'bench',
      labels: { 'kubernetes.io/metadata.name': 'bench' },
      declared: true,
      defaultDenyIngress: false,
    },
  ],
  pods: [
    pod('client', { peer: 'client' }, 'node-1'),
    pod('server', { app: 'server' }, 'node-2'),
    ...Array.from({ length: OTHERS }, (_, k) => pod(`other-${k}`, { app: `other-${k}` }, 'node-2')),
  ],
  policies: [],
}

const up = await upLab(base, { backend, log: (s) => process.stderr.write(`${s}\n`) })
const lab = up.lab
const rows: {
  policies: number
  compileMs: number
  applyMs: number
  rules: number
  mbps: number
  connPerSec: number
  failed: number
}[] = []
try {
  const client = lab.plan.pods.find((p) => p.key === 'bench/client')!
  const server = lab.plan.pods.find((p) => p.key === 'bench/server')!
  await runInOk(client.netns, ['sysctl', '-qw', 'net.ipv4.tcp_tw_reuse=1'], { timeoutMs: 5000 })
  for (const n of counts) {
    const cluster: ClusterState = cnp
      ? { ...lab.plan.cluster, clusterPolicies: clusterPolicies(n) }
      : { ...lab.plan.cluster, policies: policies(n) }
    const t0 = Date.now()
    const rs = lab.plan.nodes.map(
      (node) =>
        compileNode(cluster, node.name, labBackend(backend).backend, {
          podInterfaces: podInterfacesOf(lab, node.name),
        }).value,
    )
    const compileMs = Date.now() - t0
    const t1 = Date.now()
    await Promise.all(
      lab.plan.nodes.map((node, i) =>
        applyRuleset(rs[i]!, {
          netns: node.netns,
          ...labBackend(backend).target,
          stateDir: join(lab.stateDir, 'dataplane'),
          timeoutMs: 120_000,
        }),
      ),
    )
    const applyMs = Date.now() - t1
    const ms = seconds * 1000
    const sock = controlSocket(lab, client.netns)
    const bulk = (
      await request(sock, { op: 'bulk', ip: server.ip, port: 80, durationMs: ms }, ms + 30_000)
    ).find((r) => r.done)?.result as { bytes: number; ms: number }
    await runInOk(client.netns, ['ss', '-K', 'state', 'time-wait'], { timeoutMs: 10_000 })
    const rate = (
      await request(
        sock,
        { op: 'connrate', ip: server.ip, port: 80, durationMs: ms, concurrency: 16 },
        ms + 30_000,
      )
    ).find((r) => r.done)?.result as {
      connections: number
      failed: number
      ms: number
    }
    rows.push({
      policies: n,
      compileMs,
      applyMs,
      rules: rs.reduce((a, r) => a + r.stats.rules, 0),
      mbps: (bulk.bytes * 8) / 1e6 / (bulk.ms / 1000),
      connPerSec: rate.connections / (rate.ms / 1000),
      failed: rate.failed,
    })
    process.stderr.write(`${n} policies done\n`)
  }
} finally {
  await destroyLab(lab.plan.prefix)
}
const b0 = rows[0]!
process.stdout.write(
  `lab bench (${backend}, shape ${shape}${cnp ? ', Admin ClusterNetworkPolicies' : ''}, ${seconds} s per figure, client on node-1 -> server on node-2; ratios vs ${b0.policies} policies)\n`,
)
process.stdout.write(
  'policies  rules   compile ms  apply ms  TCP Mbit/s (ratio)   new conn/s (ratio)  failed\n',
)
for (const r of rows) {
  process.stdout.write(
    `${String(r.policies).padStart(8)}  ${String(r.rules).padStart(6)}  ${String(r.compileMs).padStart(10)}  ${String(r.applyMs).padStart(8)}  ${r.mbps.toFixed(0).padStart(10)} (${(r.mbps / b0.mbps).toFixed(2)})    ${r.connPerSec.toFixed(0).padStart(9)} (${(r.connPerSec / b0.connPerSec).toFixed(2)})  ${String(r.failed).padStart(6)}\n`,
  )
}
