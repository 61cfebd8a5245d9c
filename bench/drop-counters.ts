/**
 * What a scrape of palisade_dropped_packets_total costs the kernel and the agent: one reading of the
 * drop rules' counters (nftables: `nft -j list table`; iptables: `iptables-save -c`, both families)
 * plus its parse, for N local pods each isolated in both directions (2N counted drops), in a throwaway
 * network namespace (root and nft needed; the namespace is removed also when the bench is killed).
 * Each reading is ALSO what the agent adds before an apply that re-creates chains.
 *
 *   npm run build && node dist/bench/drop-counters.js [--pods 1000] [--reads 20]
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compileNode, getBackend } from '../src/backends/index.js'
import type { ClusterState, NetworkPolicy, Pod } from '../src/model/index.js'

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}

function cluster(n: number, logDrops: boolean): ClusterState {
  const sel = { matchLabels: {}, matchExpressions: [] }
  const pods: Pod[] = []
  for (let i = 0; i < n; i++)
    pods.push({
      namespace: 'bench',
      name: `p${i}`,
      labels: { app: `a${i % 50}` },
      ips: [`10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`],
      nodeName: 'node-1',
      hostNetwork: false,
      containers: [],
    } as unknown as Pod)
  const policies: NetworkPolicy[] = [
    {
      namespace: 'bench',
      name: 'isolate',
      origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
      podSelector: sel,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { peers: [{ podSelector: { matchLabels: { app: 'a1' }, matchExpressions: [] } }], ports: [] },
      ],
      egress: [],
    } as unknown as NetworkPolicy,
  ]
  void logDrops
  return {
    namespaces: [{ name: 'bench', labels: {}, declared: true, defaultDenyIngress: false }],
    pods,
    policies,
  } as unknown as ClusterState
}

async function main(): Promise<void> {
  const pods = arg('pods', 1000)
  const reads = arg('reads', 20)
  const ns = `palbench-dc-${process.pid}`
  const stateDir = mkdtempSync(join(tmpdir(), 'palisade-bench-'))
  execFileSync('ip', ['netns', 'add', ns])
  const remove = () => {
    try {
      execFileSync('ip', ['netns', 'del', ns], { timeout: 10_000 })
    } catch {
      // already gone
    }
    rmSync(stateDir, { recursive: true, force: true })
  }
  process.once('SIGINT', () => {
    remove()
    process.exit(130)
  })
  try {
    for (const [backend, iptables] of [
      ['nftables', undefined],
      ['iptables', 'nft'],
    ] as const) {
      for (const logDrops of [false, true]) {
        const c = cluster(pods, logDrops)
        const rs = compileNode(
          c,
          'node-1',
          backend,
          logDrops ? { logDrops: { group: 9745, rate: 100, burst: 200 } } : {},
        )
        const dp = getBackend(backend).connect({ netns: ns, stateDir, ...(iptables ? { iptables } : {}) })
        await dp.apply(rs.value)
        const times: number[] = []
        let rules = 0
        for (let i = 0; i < reads; i++) {
          const t0 = performance.now()
          rules = (await dp.dropCounters?.())?.length ?? 0
          times.push(performance.now() - t0)
        }
        times.sort((a, b) => a - b)
        const q = (p: number) =>
          (times[Math.min(times.length - 1, Math.floor(p * times.length))] as number).toFixed(1)
        console.log(
          `${backend}${iptables ? `-${iptables}` : ''} ${pods} pods${logDrops ? ' --log-drops' : ''}: ${rs.value.stats.rules} rules, ${rules} counted drops read; one reading p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms`,
        )
        await dp.cleanup()
      }
    }
  } finally {
    remove()
  }
}

await main()
