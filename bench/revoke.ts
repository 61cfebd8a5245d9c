/**
 * `--revoke-established` benchmark (root, nft, iptables-nft, conntrack).
 *
 * 1. Stop latency: the lab's revocation scenario (src/lab/revoke-scenario.ts: 12 established flows,
 *    TCP echoed, TCP pushed by the server, UDP, same node and across nodes) with real `palisade agent
 *    --revoke-established` processes fed by the test API server; the policy that refuses client a's 6
 *    flows is written to the API, then removed, `--runs` times per backend. Reported: the time from the
 *    API write to the last line each refused flow delivered (p50, p99, max) and the share of client b's
 *    flows that kept delivering to the end.
 * 2. Conntrack cost: a throwaway namespace holding N TCP entries (`--entries`, default 1000,10000,50000),
 *    from N/10 clients with 10 connections each, one client in ten refused by a synthetic node IR: time
 *    to list and judge (the stream the agent reads), the longest event-loop stall meanwhile, and time to
 *    delete the refused ones in one batch (one `conntrack -D` line per client: its 10 connections differ
 *    only by source port; conntrack dumps the table once per line).
 *
 * Run: npm run bench:revoke [-- --runs 10] [--entries 1000,10000] [--skip-lab] [--skip-conntrack]
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { FakeApiServer, type FakeKind } from '../harness/fake-apiserver.js'
import { conntrackIO, sweepConntrack } from '../src/backends/index.js'
import { buildNodeIR } from '../src/compile/index.js'
import {
  bridgeUnixToTcp,
  clusterManifests,
  destroyLab,
  type NodeAgent,
  REVOKE_CLUSTER,
  REVOKE_POLICY,
  runRevocationFlows,
  startNodeAgents,
  upLab,
} from '../src/lab/index.js'
import type { ClusterState, Pod } from '../src/model/index.js'

const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : undefined
}
const RUNS = Number(argValue('runs') ?? 10)
const ENTRIES = (argValue('entries') ?? '1000,10000,50000').split(',').map(Number)
const pct = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0
    ? Number.NaN
    : (s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number)
}
const ms = (x: number) => `${Math.round(x)} ms`
const sleep = (t: number) => new Promise((r) => setTimeout(r, t))

type Obj = Record<string, unknown> & { kind: FakeKind; metadata: { name: string; namespace?: string } }

async function stopLatency(backend: 'nftables' | 'iptables'): Promise<void> {
  const api = new FakeApiServer()
  await api.start()
  const up = await upLab(REVOKE_CLUSTER, {
    rules: false,
    backend: backend === 'nftables' ? 'nftables' : 'iptables-nft',
  })
  const lab = up.lab
  const socket = join(lab.stateDir, 'apiserver.sock')
  let bridge: Server | undefined
  let agents: NodeAgent[] = []
  const stops: number[] = []
  let kept = 0
  let keptTotal = 0
  let revokedOk = 0
  let revokedTotal = 0
  try {
    for (const o of clusterManifests(lab.plan.cluster) as Obj[]) api.apply(o.kind, o)
    bridge = await bridgeUnixToTcp(socket, Number(new URL(api.url).port))
    agents = await startNodeAgents(lab, {
      source: { apiSocket: socket, kubeconfig: api.kubeconfig() },
      backend,
      ...(backend === 'iptables' ? { iptables: 'nft' as const } : {}),
      revokeEstablished: true,
      syncPeriod: '1m',
      debounce: '20ms',
    })
    const policy = (clusterManifests({ ...lab.plan.cluster, policies: [REVOKE_POLICY] }) as Obj[]).find(
      (o) => o.kind === 'NetworkPolicy',
    ) as Obj
    for (let run = 0; run < RUNS; run++) {
      const r = await runRevocationFlows(lab, async () => {
        const t = Date.now()
        api.apply('NetworkPolicy', policy)
        return t
      })
      for (const f of r.flows) {
        if (f.revoked) {
          revokedTotal++
          if (f.stopMs !== null) stops.push(f.stopMs)
          if (f.stopMs !== null && f.stopMs < 1000) revokedOk++
          else
            console.log(
              `  run ${run}: ${f.from} -> ${f.to} ${f.proto}${f.push ? ' push' : ''} did not stop within 1 s (last line ${f.stopMs} ms after the write)`,
            )
        } else {
          keptTotal++
          const delivering = f.closed === null && (f.lastReplyAt ?? 0) > r.changeAt + 1500
          if (delivering && (f.push || f.received >= f.sent - 2)) kept++
          else
            console.log(
              `  run ${run}: ${f.from} -> ${f.to} ${f.proto}${f.push ? ' push' : ''} was cut (allowed)`,
            )
        }
      }
      api.delete('NetworkPolicy', policy.metadata.namespace ?? '', policy.metadata.name)
      await sleep(500)
    }
  } finally {
    await Promise.all(agents.map((a) => a.stop()))
    bridge?.close()
    await api.stop()
    await destroyLab(lab.plan.prefix)
  }
  console.log(
    `| ${backend.padEnd(9)} | ${RUNS} | ${revokedTotal} | ${ms(pct(stops, 50))} | ${ms(pct(stops, 99))} | ${ms(Math.max(...stops))} | ${revokedOk}/${revokedTotal} | ${kept}/${keptTotal} (${((100 * kept) / Math.max(1, keptTotal)).toFixed(1)} %) |`,
  )
}

/** A node with 200 local pods, a deny-all-but-one-port policy on one pod in ten. */
function syntheticCluster(): ClusterState {
  const pods: Pod[] = []
  for (let i = 0; i < 200; i++)
    pods.push({
      namespace: 'bench',
      name: `p${i}`,
      labels: { app: i % 10 === 0 ? 'locked' : 'open' },
      ips: [`10.200.${i >> 8}.${i & 255}`],
      ports: [],
      nodeName: 'node-1',
      hostNetwork: false,
    })
  return {
    namespaces: [
      {
        name: 'bench',
        labels: { 'kubernetes.io/metadata.name': 'bench' },
        declared: true,
        defaultDenyIngress: false,
      },
    ],
    pods,
    policies: [
      {
        namespace: 'bench',
        name: 'locked',
        origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
        podSelector: { matchLabels: { app: 'locked' }, matchExpressions: [] },
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ protocol: 'TCP', port: 443 }] }],
        egress: [],
      },
    ],
  }
}

async function conntrackCost(): Promise<void> {
  const ns = `pz-${process.pid}-revoke-bench`
  execFileSync('ip', ['netns', 'add', ns])
  const dir = mkdtempSync(join(tmpdir(), 'pz-revoke-bench-'))
  try {
    const ir = buildNodeIR(syntheticCluster(), 'node-1')
    for (const n of ENTRIES) {
      // n entries: n/10 clients (10.201.x.y) with 10 connections each to one of the 200 pods on port 80;
      // the connections to a `locked` pod (1 client in 10) are refused.
      execFileSync('ip', ['netns', 'exec', ns, 'conntrack', '-F'], { stdio: 'ignore' })
      const clients = Math.max(1, Math.floor(n / 10))
      const lines: string[] = []
      for (let i = 0; i < n; i++) {
        const c = i % clients
        lines.push(
          `-I -p tcp -s 10.201.${(c >> 8) & 255}.${c & 255} -d 10.200.0.${c % 200} --sport ${1024 + Math.floor(i / clients)} --dport 80 --state ESTABLISHED -t 3600 -u ASSURED`,
        )
      }
      writeFileSync(join(dir, 'insert'), `${lines.join('\n')}\n`)
      execFileSync('ip', ['netns', 'exec', ns, 'conntrack', '-R', join(dir, 'insert')], { stdio: 'ignore' })
      const io = conntrackIO({ netns: ns, timeoutMs: 300_000 })
      // List and judge without deleting (with the event-loop stall), then the real sweep.
      const h = monitorEventLoopDelay({ resolution: 5 })
      h.enable()
      const dry = await sweepConntrack({ ...io, remove: async () => ({ deleted: 0 }) }, ir)
      h.disable()
      const wet = await sweepConntrack(io, ir)
      if (wet.error) console.log(`(sweep error: ${wet.error})`)
      console.log(
        `| ${n} | ${dry.listed} | ${ms(dry.listMs)} | ${ms(h.max / 1e6)} | ${dry.denied} (${Math.ceil(clients / 10)} groups) | ${ms(wet.deleteMs)} | ${wet.deleted} |`,
      )
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    execFileSync('ip', ['netns', 'del', ns])
  }
}

console.log(`load: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`)
if (!process.argv.includes('--skip-lab')) {
  console.log('\nStop latency: API write -> last line delivered by each refused flow (agents, real kernel)\n')
  console.log(
    '| backend   | runs | refused flows | p50 | p99 | max | stopped < 1 s | allowed flows delivering to the end |',
  )
  console.log('|---|---|---|---|---|---|---|---|')
  await stopLatency('nftables')
  await stopLatency('iptables')
}
if (!process.argv.includes('--skip-conntrack')) {
  console.log('\nConntrack sweep cost (one tenth refused)\n')
  console.log(
    '| entries | listed | list + judge | longest event-loop stall | refused | delete (one batch) | deleted |',
  )
  console.log('|---|---|---|---|---|---|---|')
  await conntrackCost()
}
console.log(`load: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`)
