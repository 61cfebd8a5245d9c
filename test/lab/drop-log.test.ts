/**
 * Drop counters and drop logs, proved in the lab: one `palisade agent --log-drops` process per node
 * (reading the cluster as manifests), an example with denials (seed-002, kube-router's cases 3-5), the
 * ClusterNetworkPolicy example (Admin and Baseline Denies, NetworkPolicies after a Pass) and upstream e2e
 * cases (one lab each, the policies switched between cases). For every measured probe round, on both
 * backends:
 * - every denied probe is logged exactly once (a UDP probe sends its datagram twice on the same socket:
 *   the second is a duplicate of the same 5-tuple), by the node that dropped it, naming the isolated
 *   pod, the direction and the policies isolating it (as the engine's verdict names them) or the
 *   ClusterNetworkPolicy and tier whose Deny decided, and the remote end (a pod by name, otherwise its
 *   address); no allowed probe is logged;
 * - palisade_dropped_packets_total of every pod and direction grew by exactly the denied probes'
 *   packets: 1 per TCP probe (the 800 ms probe gives up before the kernel's first SYN retransmit at
 *   1 s) and 2 per UDP probe (sent, and resent once at half the timeout);
 * - the kernel's log budget holds: 1,000 refused attempts at a 10/s limit (burst 20) give the burst plus
 *   the rate for the time they took, while the drop counter counts all 1,000;
 * - the counters never went down, though every case switch re-creates chains (iptables: reloads all
 *   of them, resetting the kernel's counters; nftables: a delta re-creates the pod chains that change).
 */

import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { nflogReaderCommand } from '../../src/agent/drop-log.js'
import { NflogPcapParser } from '../../src/agent/nflog.js'
import { compileNode, getBackend } from '../../src/backends/index.js'
import { buildIndex, CELL_DENIED, evaluate, formatPort, type PortQuery } from '../../src/engine/index.js'
import {
  compareLab,
  destroyLab,
  engineEndpoint,
  expectedLabMatrix,
  formatMismatch,
  type Lab,
  labEndpoints,
  listLabNamespaces,
  type NodeAgent,
  probeCells,
  probeLab,
  renderClusterYAML,
  startNodeAgents,
  upLab,
} from '../../src/lab/index.js'
import { type InputText, loadCluster } from '../../src/load/index.js'
import type { ClusterState } from '../../src/model/index.js'
import { caseInputs, listConformanceCases } from '../conformance/cases.js'
import { hasCommand, labSkipReason } from './helpers.js'

const built = existsSync(fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url)))
const skip =
  labSkipReason() ??
  (hasCommand('nft') && hasCommand('iptables-nft') && hasCommand('ipset') && hasCommand('tcpdump')
    ? undefined
    : 'nft, iptables-nft, ipset or tcpdump missing') ??
  (built ? undefined : 'dist/ not built (npm ci builds it)')

const examples = fileURLToPath(new URL('../../examples/', import.meta.url))
function readTree(...paths: string[]): InputText[] {
  const out: InputText[] = []
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e))
    else if (/\.(ya?ml|json)$/.test(p)) out.push({ file: p, text: readFileSync(p, 'utf8') })
  }
  for (const p of paths) walk(join(examples, p))
  return out
}
const load = (inputs: InputText[]): ClusterState => {
  const r = loadCluster(inputs, { validate: 'strict' })
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  return r.cluster
}

/** Groups of clusters with the same pods and namespaces (one lab each), differing in their policies. */
function groups(): { name: string; cases: { name: string; cluster: ClusterState }[]; ports?: PortQuery[] }[] {
  const seed = (c: string) => ({
    name: `seed-002 ${c}`,
    cluster: load(readTree('seed-002-kube-router/cluster.yaml', `seed-002-kube-router/${c}`)),
  })
  const upstream = listConformanceCases().filter((c) =>
    ['default-deny-ingress', 'ingress-and-egress-together', 'deny-egress-by-pod-selector'].includes(c.slug),
  )
  expect(upstream.length).toBe(3)
  return [
    {
      name: 'seed-002',
      cases: ['case-3-nsb-to-6379', 'case-4-egress-cidr', 'case-5-ingress-cidr'].map(seed),
    },
    {
      // Admin Deny and Pass, the Baseline tier's Deny, NetworkPolicies after a Pass: a tier's Deny is logged
      // naming its ClusterNetworkPolicy and tier, and counted in the pod's series
      name: 'cluster-network-policy',
      cases: [{ name: 'tiers', cluster: load(readTree('cluster-network-policy')) }],
    },
    {
      name: 'upstream',
      cases: upstream.map((c) => ({ name: c.slug, cluster: load(caseInputs(c)) })),
      ports: [
        { protocol: 'TCP', port: 80 },
        { protocol: 'TCP', port: 81 },
        { protocol: 'UDP', port: 80 },
        { protocol: 'UDP', port: 81 },
      ],
    },
  ]
}

/** The lab with `policies` in force (the lab's own pods and addresses). */
const withPolicies = (lab: Lab, c: ClusterState): Lab => ({
  ...lab,
  plan: { ...lab.plan, cluster: { ...lab.plan.cluster, policies: c.policies } },
})

/** Probes until the kernel does what the engine says (the agents have caught up). */
async function converge(lab: Lab, what: string, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now()
  for (;;) {
    const observed = await probeLab(lab)
    let wrong = compareLab(lab, expectedLabMatrix(lab), observed.full, observed.details)
    if (wrong.length > 0) {
      const again = await probeCells(lab, wrong, { timeoutMs: 3000 })
      wrong = wrong.filter((m) => {
        const d = again.get(`${m.port}|${m.from}|${m.to}`)
        return d === undefined || d.ok === m.observed
      })
    }
    if (wrong.length === 0) return
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`${what}: ${wrong.length} cells wrong:\n${wrong.map(formatMismatch).join('\n')}`)
    await new Promise((r) => setTimeout(r, 300))
  }
}

/** palisade_dropped_packets_total by 'namespace/pod direction'. */
function dropSeries(text: string): Map<string, number> {
  const out = new Map<string, number>()
  const re = /^palisade_dropped_packets_total\{([^}]*)\} (\d+(?:\.\d+)?(?:e\+\d+)?)$/gm
  for (const m of text.matchAll(re)) {
    const l = Object.fromEntries(
      [...(m[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1] as string, x[2] as string]),
    )
    const key = `${l.namespace}/${l.pod} ${l.direction}`
    out.set(key, (out.get(key) ?? 0) + Number(m[2]))
  }
  return out
}

interface LoggedDrop {
  readonly protocol: string
  readonly src: { ip: string; port?: number; namespace?: string; pod?: string }
  readonly dst: { ip: string; port?: number; namespace?: string; pod?: string }
  readonly direction: string
  readonly namespace: string
  readonly pod: string
  readonly policies: readonly string[]
  readonly clusterPolicy?: { readonly name: string; readonly tier: string }
}

async function dropLines(file: string): Promise<LoggedDrop[]> {
  const text = await readFile(file, 'utf8').catch(() => '')
  const out: LoggedDrop[] = []
  for (const line of text.split('\n')) {
    if (!line.includes('"connection dropped"')) continue
    out.push((JSON.parse(line) as { drop: LoggedDrop }).drop)
  }
  return out
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Tally {
  denied: number
  logged: number
  misattributed: number
  missing: number
  extra: number
  packets: number
  /** Logged drops a ClusterNetworkPolicy Deny decided (named with its policy and tier). */
  tier: number
}

const newTally = (): Tally => ({
  denied: 0,
  logged: 0,
  misattributed: 0,
  missing: 0,
  extra: 0,
  packets: 0,
  tier: 0,
})

/** One measured round: probe, then compare the logs and counters with the engine's denied cells. */
async function measuredRound(
  lab: Lab,
  agents: readonly NodeAgent[],
  tally: Tally,
  what: string,
): Promise<void> {
  const byNode = new Map(agents.map((a) => [a.node.name, a]))
  const scrape = async () =>
    new Map(
      await Promise.all(
        agents.map(async (a) => [a.node.name, dropSeries((await a.metrics()).body)] as const),
      ),
    )
  // counters are read at most every 1.5 s: let the last reading age out, so both readings are fresh
  await sleep(1600)
  const before = await scrape()
  const logsBefore = new Map(
    await Promise.all(agents.map(async (a) => [a.node.name, (await dropLines(a.logFile)).length] as const)),
  )
  const observed = await probeLab(lab)
  const expected = expectedLabMatrix(lab)
  const wrong = compareLab(lab, expected, observed.full, observed.details)
  expect(wrong.map(formatMismatch), `${what}: probes as predicted`).toEqual([])

  // what the engine says of every denied probe: which node drops it, for which pod, direction, policies
  const index = buildIndex(lab.plan.cluster)
  const endpoints = new Map(labEndpoints(lab).map((e) => [e.name, e]))
  const nodeOfPod = new Map(lab.plan.pods.map((p) => [p.key, p.node]))
  const want = new Map<
    string,
    { node: string; pod: string; direction: string; policies: string[]; clusterPolicy?: string }
  >()
  const packets = new Map<string, number>()
  expected.ports.forEach((portText, k) => {
    const cells = expected.cells[k] as Uint8Array
    const port = lab.plan.ports.find((p) => formatPort(p) === portText) as PortQuery
    const n = expected.pods.length
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (cells[i * n + j] !== CELL_DENIED) continue
        const from = endpoints.get(expected.pods[i] as string)
        const to = endpoints.get(expected.pods[j] as string)
        if (!from || !to || !observed.details.has(`${portText}|${from.name}|${to.name}`)) continue
        const v = evaluate(index, engineEndpoint(index, from), engineEndpoint(index, to), port)
        const d = v.egress.allowed ? v.ingress : v.egress
        const pod = v.egress.allowed ? to.name : from.name
        const direction = v.egress.allowed ? 'ingress' : 'egress'
        const proto = port.protocol.toLowerCase()
        const key = `${proto} ${from.local ?? from.ip} ${to.ip} ${port.port}`
        want.set(key, {
          node: nodeOfPod.get(pod) as string,
          pod,
          direction,
          // a ClusterNetworkPolicy Deny names its policy and tier, no NetworkPolicy
          policies: d.decidedBy ? [] : d.selectedBy.map((p) => p.policy).sort(),
          ...(d.decidedBy ? { clusterPolicy: `${d.decidedBy.policy} ${d.decidedBy.tier}` } : {}),
        })
        const series = `${pod} ${direction}`
        packets.set(series, (packets.get(series) ?? 0) + (proto === 'udp' ? 2 : 1))
      }
  })
  expect(want.size, `${what}: the round has denied probes`).toBeGreaterThan(0)

  // logs: wait until every node logged what it should (or 5 s), then a little more for strays
  const expectedPerNode = new Map<string, number>()
  for (const w of want.values()) expectedPerNode.set(w.node, (expectedPerNode.get(w.node) ?? 0) + 1)
  const fresh = async () =>
    new Map(
      await Promise.all(
        agents.map(
          async (a) =>
            [a.node.name, (await dropLines(a.logFile)).slice(logsBefore.get(a.node.name) ?? 0)] as const,
        ),
      ),
    )
  const t0 = Date.now()
  let logs = await fresh()
  while (
    Date.now() - t0 < 5000 &&
    [...expectedPerNode].some(([node, n]) => (logs.get(node)?.length ?? 0) < n)
  ) {
    await sleep(200)
    logs = await fresh()
  }
  await sleep(1600)
  logs = await fresh()
  const seen = new Set<string>()
  for (const [node, lines] of logs) {
    for (const l of lines) {
      const key = `${l.protocol} ${l.src.ip} ${l.dst.ip} ${l.dst.port}`
      const w = want.get(key)
      if (!w) {
        tally.extra++
        console.log(`${what}: logged but not denied: ${JSON.stringify(l)}`)
        continue
      }
      if (seen.has(key)) {
        tally.extra++
        continue
      }
      seen.add(key)
      tally.logged++
      if (l.clusterPolicy && w.clusterPolicy) tally.tier++
      const remote = w.direction === 'ingress' ? l.src : l.dst
      const remoteName = remote.pod !== undefined ? `${remote.namespace}/${remote.pod}` : undefined
      const remoteWant = w.direction === 'ingress' ? key.split(' ')[1] : key.split(' ')[2]
      const remoteIsPod = lab.plan.pods.find((p) => p.ip === remoteWant)
      if (
        node !== w.node ||
        `${l.namespace}/${l.pod}` !== w.pod ||
        l.direction !== w.direction ||
        [...l.policies].sort().join(',') !== w.policies.join(',') ||
        (l.clusterPolicy ? `${l.clusterPolicy.name} ${l.clusterPolicy.tier}` : undefined) !==
          w.clusterPolicy ||
        remoteName !== remoteIsPod?.key
      ) {
        tally.misattributed++
        console.log(`${what}: misattributed ${JSON.stringify(l)} (want ${JSON.stringify(w)})`)
      }
    }
  }
  tally.denied += want.size
  tally.missing += want.size - seen.size
  if (seen.size < want.size) {
    const missing = [...want.keys()].filter((k) => !seen.has(k))
    console.log(`${what}: ${missing.length} not logged, e.g. ${missing.slice(0, 5).join('; ')}`)
    for (const a of agents)
      console.log(
        a.node.name,
        (await a.metrics()).body
          .split('\n')
          .filter((l) => l.startsWith('palisade_drop_log'))
          .join(' | '),
      )
  }

  // counters: exactly the denied probes' packets, per pod and direction, on the node that dropped them
  const after = await scrape()
  for (const [node, series] of after) {
    const prev = before.get(node) ?? new Map<string, number>()
    for (const [s, v] of series) {
      const grew = v - (prev.get(s) ?? 0)
      expect(grew, `${what}: ${node} ${s} never goes down`).toBeGreaterThanOrEqual(0)
      const podKey = s.split(' ')[0] as string
      if (nodeOfPod.get(podKey) !== node) continue
      expect(grew, `${what}: ${node} ${s} counted the denied probes' packets`).toBe(packets.get(s) ?? 0)
      tally.packets += grew
    }
  }
  for (const [s, n] of packets) {
    const node = nodeOfPod.get(s.split(' ')[0] as string) as string
    expect(after.get(node)?.has(s), `${what}: series ${s} exported by ${node} (${n} packets)`).toBe(true)
  }
  expect(byNode.size).toBe(agents.length)
}

/**
 * The node's log budget: the rules of a node rendered with --log-drops at 10/s (burst 20) and loaded
 * as they are, 1,000 refused UDP attempts (each its own socket, so its own connection) from one pod: the
 * drop counter counts all of them, NFLOG gets the burst plus the rate for the time it took.
 */
async function rateLimited(lab: Lab, backend: 'nftables' | 'iptables-nft'): Promise<string> {
  const dst = lab.plan.pods.find((p) => p.key === 'nsa/web')
  const src = lab.plan.pods.find((p) => p.node === dst?.node && p.key === 'default/web')
  const node = lab.plan.nodes.find((n) => n.name === dst?.node)
  if (!dst || !src || !node) throw new Error('seed-002 pods missing')
  const name = backend === 'nftables' ? 'nftables' : 'iptables'
  const rs = compileNode(lab.plan.cluster, node.name, name, {
    logDrops: { group: 9745, rate: 10, burst: 20 },
  })
  const dp = getBackend(name).connect({
    netns: node.netns,
    stateDir: join(lab.stateDir, 'rate-limit'),
    ...(backend === 'iptables-nft' ? { iptables: 'nft' as const } : {}),
  })
  await dp.apply(rs.value)
  const parser = new NflogPcapParser()
  let records = 0
  const argv = nflogReaderCommand(9745, node.netns)
  const reader = spawn(argv[0] as string, argv.slice(1), {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  reader.stdout.on('data', (d: Buffer) => {
    records += parser.push(d).length
  })
  try {
    await sleep(1500)
    const dropped = async () =>
      (await dp.dropCounters?.())
        ?.filter((x) => x.reason === 'ingress isolated: nsa/web')
        .reduce((s, x) => s + x.packets, 0) ?? 0
    const before = await dropped()
    const t0 = Date.now()
    execFileSync(
      'ip',
      [
        'netns',
        'exec',
        src.netns,
        'bash',
        '-c',
        `for i in $(seq 1 1000); do echo x > /dev/udp/${dst.ip}/6379; done 2>/dev/null; true`,
      ],
      { timeout: 60_000 },
    )
    const secs = (Date.now() - t0) / 1000
    await sleep(1500)
    expect((await dropped()) - before).toBe(1000)
    expect(records).toBeGreaterThanOrEqual(20)
    expect(records).toBeLessThanOrEqual(20 + Math.ceil(10 * (secs + 0.5)))
    return `rate limit 10/s burst 20: ${records} of 1000 refused attempts in ${secs.toFixed(2)} s logged`
  } finally {
    reader.kill('SIGKILL')
  }
}

const prefixes: string[] = []
afterAll(async () => {
  for (const p of prefixes) await destroyLab(p)
})

describe.skipIf(skip)('drop counters and drop logs in the lab (agents with --log-drops)', () => {
  it.each(['nftables', 'iptables-nft'] as const)(
    'every denied probe is counted and logged once, naming its pod and policies (%s)',
    { timeout: 360_000 },
    async (backend) => {
      const t0 = Date.now()
      const tally = newTally()
      let lossyRounds = 0
      let rate = ''
      for (const g of groups()) {
        const first = g.cases[0]?.cluster as ClusterState
        const up = await upLab(first, {
          nodes: 2,
          rules: false,
          backend,
          ...(g.ports ? { ports: g.ports } : {}),
        })
        const lab = up.lab
        prefixes.push(lab.plan.prefix)
        let agents: NodeAgent[] = []
        try {
          const dir = join(lab.stateDir, 'manifests')
          const { mkdir } = await import('node:fs/promises')
          await mkdir(dir, { recursive: true })
          const write = (c: ClusterState) =>
            writeFile(
              join(dir, 'cluster.yaml'),
              renderClusterYAML({ ...lab.plan.cluster, policies: c.policies }),
            )
          await write(first)
          agents = await startNodeAgents(lab, {
            source: { fromDir: dir },
            backend: backend === 'nftables' ? 'nftables' : 'iptables',
            ...(backend === 'iptables-nft' ? { iptables: 'nft' as const } : {}),
            podInterfaces: 'routes',
            // No periodic reload during a measured round: an iptables resync reloads every chain, and
            // what is dropped between the agent's last reading and the reload's commit is not counted
            // (docs/dataplane.md#drop-counters-and-drop-logs). Each case switch is a reload (iptables) or
            // a delta re-creating chains (nftables): the counters must carry across those.
            syncPeriod: '5m',
            // high enough that no probe round meets the limit (the limit is checked in the rendering)
            logDrops: { rate: 10_000, burst: 10_000 },
          })
          for (const c of g.cases) {
            await write(c.cluster)
            const view = withPolicies(lab, c.cluster)
            const t1 = Date.now()
            await converge(view, `${g.name}: ${c.name}`)
            const t2 = Date.now()
            // NFLOG delivery is lossy by design (a netlink socket that overflows under load drops
            // records; the counters stay exact): a round that misses records, and only misses, is
            // measured once more, and at most one round per backend may need it.
            let round = newTally()
            await measuredRound(view, agents, round, `${backend} ${c.name}`)
            if (round.missing > 0 && round.misattributed === 0 && round.extra === 0) {
              lossyRounds++
              console.log(
                `${backend} ${c.name}: ${round.missing} record(s) lost in delivery; measuring again`,
              )
              round = newTally()
              await measuredRound(view, agents, round, `${backend} ${c.name} (again)`)
            }
            for (const k of Object.keys(tally) as (keyof Tally)[]) tally[k] += round[k]
            console.log(`${backend} ${c.name}: converged in ${t2 - t1} ms, measured in ${Date.now() - t2} ms`)
          }
          if (g.name === 'seed-002') {
            await Promise.all(agents.map((a) => a.stop('SIGKILL')))
            rate = await rateLimited(lab, backend)
          }
        } finally {
          await Promise.all(agents.map((a) => a.stop('SIGKILL')))
          await destroyLab(lab.plan.prefix)
        }
        expect((await listLabNamespaces()).filter((n) => n.startsWith(lab.plan.prefix))).toEqual([])
      }
      console.log(
        `drop logs ${backend}: ${tally.denied} denied probes, ${tally.logged} logged (${tally.tier} denied by a ClusterNetworkPolicy), ${tally.misattributed} misattributed, ${tally.missing} missing, ${tally.extra} extra, ${lossyRounds} round(s) measured again after a lost record; ${tally.packets} dropped packets counted; ${rate}; ${Date.now() - t0} ms`,
      )
      expect(tally).toMatchObject({ misattributed: 0, missing: 0, extra: 0 })
      expect(lossyRounds, 'at most one round per backend loses a record').toBeLessThanOrEqual(1)
      expect(tally.logged).toBe(tally.denied)
      expect(tally.tier, 'ClusterNetworkPolicy Deny drops logged with their policy and tier').toBeGreaterThan(
        0,
      )
    },
  )
})
