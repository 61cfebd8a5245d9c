/**
 * End to end: one `palisade agent` PROCESS per lab node, inside the node's namespace, fed by the test API
 * server (the real @kubernetes/client-node on the agents' side, the real wire protocol on ours). Policies,
 * pods and namespace labels are created, updated and deleted through the API; after every step real TCP and
 * UDP probes across the lab must equal the engine's matrix of what the API holds. Then the faults: watches
 * cut mid-stream, the API server down (rules stay) and back with its history compacted (410 -> relist), an
 * agent killed and restarted, a policy the agents cannot read (enforced fail-closed), SIGTERM (rules
 * stay), cleanup.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { Server } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { FakeApiServer } from '../../harness/fake-apiserver.js'
import { cleanup } from '../../src/backends/index.js'
import {
  bridgeUnixToTcp,
  controlSocket,
  destroyLab,
  expectedLabMatrix,
  type Lab,
  type LabNode,
  type LabPod,
  listLabNamespaces,
  type NodeAgent,
  request,
  startNodeAgents,
  upLab,
} from '../../src/lab/index.js'
import type { ClusterState, LabelSelector, NetworkPolicy, Pod } from '../../src/model/index.js'
import { podKey } from '../../src/model/index.js'
import { waitFor } from '../agent/fixtures.js'
import { pod as makePod } from '../fixtures.js'
import { converge, setApiState, viewOf, wrongCells } from './api-state.js'
import { hasCommand, labSkipReason } from './helpers.js'

const built = existsSync(fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url)))
const skip =
  labSkipReason() ??
  (hasCommand('nft') && hasCommand('iptables-nft') && hasCommand('ipset')
    ? undefined
    : 'nft, iptables-nft or ipset missing') ??
  (built ? undefined : 'dist/ not built (npm ci builds it)')

const sel = (matchLabels: Record<string, string>): LabelSelector => ({ matchLabels, matchExpressions: [] })
const ports = [
  { name: 'http', containerPort: 80, protocol: 'TCP' as const },
  { name: 'dns', containerPort: 53, protocol: 'UDP' as const },
]
const pod = (namespace: string, name: string, nodeName: string, labels: Record<string, string>): Pod =>
  makePod(`${namespace}/${name}`, labels, [], { ports, nodeName })
const origin = { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' } as const

/** shop/db admits role=web pods on 80/TCP (v1), then also on 53/UDP, and pods of team=monitoring namespaces on 53/UDP (v2). */
const dbIngress = (v: 1 | 2): NetworkPolicy => ({
  namespace: 'shop',
  name: 'db-ingress',
  origin,
  podSelector: sel({ app: 'db' }),
  policyTypes: ['Ingress'],
  ingress: [
    {
      peers: [{ podSelector: sel({ role: 'web' }) }],
      ports: [{ protocol: 'TCP', port: 80 }, ...(v === 2 ? [{ protocol: 'UDP' as const, port: 53 }] : [])],
    },
    ...(v === 2
      ? [
          {
            peers: [{ namespaceSelector: sel({ team: 'monitoring' }) }],
            ports: [{ protocol: 'UDP' as const, port: 53 }],
          },
        ]
      : []),
  ],
  egress: [],
})

/** role=web pods may only reach app=db on 80/TCP and an outside /24 minus its upper half. */
const webEgress: NetworkPolicy = {
  namespace: 'shop',
  name: 'web-egress',
  origin,
  podSelector: sel({ role: 'web' }),
  policyTypes: ['Egress'],
  ingress: [],
  egress: [
    { peers: [{ podSelector: sel({ app: 'db' }) }], ports: [{ protocol: 'TCP', port: 80 }] },
    { peers: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.128/25'] } }] },
  ],
}

/** Every pod and policy the test will ever use: the lab is built once for all of them. */
const universe: ClusterState = {
  namespaces: [
    {
      name: 'shop',
      labels: { 'kubernetes.io/metadata.name': 'shop', team: 'shop' },
      declared: true,
      defaultDenyIngress: false,
    },
    {
      name: 'ops',
      labels: { 'kubernetes.io/metadata.name': 'ops' },
      declared: true,
      defaultDenyIngress: false,
    },
  ],
  pods: [
    pod('shop', 'web', 'node-1', { role: 'web' }),
    pod('shop', 'db', 'node-2', { app: 'db' }),
    pod('shop', 'cache', 'node-1', { app: 'cache' }),
    pod('ops', 'prom', 'node-2', { app: 'prom' }),
    pod('shop', 'newbie', 'node-2', { role: 'web' }),
  ],
  policies: [dbIngress(2), webEgress],
}

// --- state edits -------------------------------------------------------------------------------

const withPolicies = (c: ClusterState, ...ps: NetworkPolicy[]): ClusterState => ({ ...c, policies: ps })
const withoutPod = (c: ClusterState, key: string): ClusterState => ({
  ...c,
  pods: c.pods.filter((p) => podKey(p) !== key),
})
const withPodLabels = (c: ClusterState, key: string, labels: Record<string, string>): ClusterState => ({
  ...c,
  pods: c.pods.map((p) => (podKey(p) === key ? { ...p, labels } : p)),
})
const withNamespaceLabels = (
  c: ClusterState,
  name: string,
  labels: Record<string, string>,
): ClusterState => ({
  ...c,
  namespaces: c.namespaces.map((n) =>
    n.name === name ? { ...n, labels: { 'kubernetes.io/metadata.name': name, ...labels } } : n,
  ),
})

/** Asserts that a step changes what the engine predicts (else converging to it would prove nothing). */
function expectChange(lab: Lab, before: ClusterState, after: ClusterState): void {
  const a = expectedLabMatrix(viewOf(lab, before))
  const b = expectedLabMatrix(viewOf(lab, after))
  expect(JSON.stringify({ p: b.pods, c: b.cells.map((c) => [...c]) })).not.toBe(
    JSON.stringify({ p: a.pods, c: a.cells.map((c) => [...c]) }),
  )
}

/** Asserts the kernel does what the engine says of `state` right now (no waiting). */
async function holds(lab: Lab, state: ClusterState, what: string): Promise<void> {
  const wrong = await wrongCells(lab, state)
  if (wrong.length > 0) throw new Error(`${what}: ${wrong.length} cells wrong:\n${wrong.join('\n')}`)
}

const metric = (text: string, name: string): number =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)

/**
 * The agents found each pod's interface from the routes: a packet leaving shop/web with shop/cache's
 * address is dropped by the anti-spoofing rule (rp_filter, which would drop it first, is turned off).
 */
async function spoofIsDropped(lab: Lab): Promise<void> {
  const at = (key: string) => lab.plan.pods.find((p) => p.key === key) as LabPod
  const [web, cache, db] = [at('shop/web'), at('shop/cache'), at('shop/db')]
  const node = lab.plan.nodes.find((n) => n.name === web.node) as LabNode
  const inNode = (...argv: string[]) =>
    execFileSync('ip', ['netns', 'exec', node.netns, ...argv], { encoding: 'utf8', timeout: 10_000 })
  await waitFor(
    () =>
      inNode('nft', 'list', 'set', 'inet', 'palisade', 'pod_sources_v4').includes(
        `"${web.hostIf}" . ${web.ip}`,
      ),
    10_000,
    'pod interfaces found from routes',
  )
  const dropped = () =>
    Number(
      /counter packets (\d+) bytes \d+ drop comment "anti-spoofing: IPv4/.exec(
        inNode('nft', 'list', 'chain', 'inet', 'palisade', 'egress'),
      )?.[1] ?? Number.NaN,
    )
  const before = dropped()
  expect(before).toBeGreaterThanOrEqual(0)
  inNode('sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0', `net.ipv4.conf.${web.hostIf}.rp_filter=0`)
  execFileSync('ip', ['netns', 'exec', web.netns, 'ip', 'addr', 'add', `${cache.ip}/32`, 'dev', 'eth0'])
  try {
    const r = await request(
      controlSocket(lab, web.netns),
      {
        op: 'probe',
        probes: [{ id: 'spoof', ip: db.ip, port: 53, proto: 'udp', expect: db.key, local: cache.ip }],
        timeoutMs: 800,
      },
      10_000,
    )
    expect(r.find((x) => x.id === 'spoof')?.ok).toBe(false)
    expect(dropped()).toBeGreaterThan(before)
  } finally {
    execFileSync('ip', ['netns', 'exec', web.netns, 'ip', 'addr', 'del', `${cache.ip}/32`, 'dev', 'eth0'])
    inNode('sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1', `net.ipv4.conf.${web.hostIf}.rp_filter=1`)
  }
}

const prefixes: string[] = []
afterAll(async () => {
  for (const p of prefixes) await destroyLab(p)
})

describe.skipIf(skip)('node agents in the lab, fed by the test API server', () => {
  it.each([
    ['nftables', undefined],
    ['iptables', 'nft'],
  ] as const)(
    'keep every node right through API changes and faults (%s %s)',
    { timeout: 300_000 },
    async (backend, iptables) => {
      const api = new FakeApiServer()
      await api.start()
      const up = await upLab(universe, {
        nodes: 2,
        rules: false,
        backend: backend === 'nftables' ? 'nftables' : 'iptables-nft',
      })
      const lab = up.lab
      prefixes.push(lab.plan.prefix)
      const socket = join(lab.stateDir, 'apiserver.sock')
      let bridge: Server | undefined
      let agents: NodeAgent[] = []
      const timings: Record<string, number> = {}
      try {
        expect(lab.plan.outside?.addresses.length ?? 0).toBeGreaterThan(0)
        bridge = await bridgeUnixToTcp(socket, Number(new URL(api.url).port))

        // S0: everything but newbie, no policy: the agents start, sync and leave every path open.
        const planned = lab.plan.cluster
        const s0 = withoutPod(withPolicies(planned), 'shop/newbie')
        setApiState(api, undefined, s0)
        agents = await startNodeAgents(lab, {
          source: { apiSocket: socket, kubeconfig: api.kubeconfig() },
          backend,
          ...(iptables ? { iptables } : {}),
          // routed lab: one /32 route per pod veth, as Calico makes them: the agents find them
          podInterfaces: 'routes',
          syncPeriod: '3s',
          debounce: '20ms',
        })
        expect(agents.map((a) => a.node.name).sort()).toEqual(['node-1', 'node-2'])
        for (const a of agents) expect((await a.health()).status).toBe(200)
        timings.s0 = await converge(lab, s0, 'no policy')
        if (backend === 'nftables') await spoofIsDropped(lab)

        // S1: a policy is created.
        const s1 = withPolicies(s0, dbIngress(1))
        expectChange(lab, s0, s1)
        setApiState(api, s0, s1)
        timings.create = await converge(lab, s1, 'policy created')

        // S2: the policy is updated (one more port; a second rule whose namespaceSelector matches nothing yet).
        const s2 = withPolicies(s0, dbIngress(2))
        expectChange(lab, s1, s2)
        setApiState(api, s1, s2)
        timings.update = await converge(lab, s2, 'policy updated')

        // S3: namespace labels: ops joins team=monitoring, so ops/prom may now reach db on 53/UDP.
        const s3 = withNamespaceLabels(s2, 'ops', { team: 'monitoring' })
        expectChange(lab, s2, s3)
        setApiState(api, s2, s3)
        timings.nsLabels = await converge(lab, s3, 'namespace labels changed')

        // S4: pod labels: cache becomes role=web.
        const s4 = withPodLabels(s3, 'shop/cache', { app: 'cache', role: 'web' })
        expectChange(lab, s3, s4)
        setApiState(api, s3, s4)
        timings.podLabels = await converge(lab, s4, 'pod labels changed')

        // S5: a pod is added (its namespace already serves; the agents learn of it from the API).
        const s5 = { ...s4, pods: [...s4.pods, planned.pods.find((p) => podKey(p) === 'shop/newbie') as Pod] }
        expectChange(lab, s4, s5)
        setApiState(api, s4, s5)
        timings.podAdd = await converge(lab, s5, 'pod added')
        const m2 = await (agents.find((a) => a.node.name === 'node-2') as NodeAgent).metrics()
        // nftables: pod churn is an element update, not a reload.
        if (backend === 'nftables')
          expect(metric(m2.body, 'palisade_incremental_updates_total')).toBeGreaterThan(0)

        // S6: an egress policy with an ipBlock and an except (outside hosts).
        const s6 = withPolicies(s5, dbIngress(2), webEgress)
        expectChange(lab, s5, s6)
        setApiState(api, s5, s6)
        timings.egress = await converge(lab, s6, 'egress policy created')

        // F1: every watch is cut mid-stream and the pod is deleted right away: the agents re-watch and follow.
        api.dropWatches()
        const s7 = withoutPod(s6, 'shop/newbie')
        expectChange(lab, s6, s7)
        setApiState(api, s6, s7)
        timings.afterDrop = await converge(lab, s7, 'pod deleted while the watches were cut')

        // F2: the API server goes away: the rules stay in force.
        await api.stop()
        await holds(lab, s7, 'API server down')
        await new Promise((r) => setTimeout(r, 1500))
        await holds(lab, s7, 'API server still down')
        // Meanwhile the cluster changes and its history is compacted: the agents' next watch gets 410 Gone.
        const s8 = withPolicies(s7, dbIngress(2))
        expectChange(lab, s7, s8)
        setApiState(api, s7, s8)
        api.compact()
        await api.start()
        timings.afterRestart = await converge(lab, s8, 'policy deleted while the API server was down')
        // No leaked watches: each agent holds exactly one per kind again, and one of its own Node (pod ranges).
        const t0 = Date.now()
        while (api.openWatches !== 4 * agents.length && Date.now() - t0 < 10_000)
          await new Promise((r) => setTimeout(r, 100))
        expect(api.openWatches).toBe(4 * agents.length)
        for (const a of agents)
          expect(metric((await a.metrics()).body, 'palisade_watch_restarts_total')).toBeGreaterThan(0)

        // F3: node-2's agent is killed; its rules stay. The cluster changes while it is dead; a new agent catches up.
        const n2 = agents.find((a) => a.node.name === 'node-2') as NodeAgent
        expect((await n2.stop('SIGKILL')).signal).toBe('SIGKILL')
        await holds(lab, s8, 'agent killed')
        const s9 = withNamespaceLabels(s8, 'ops', {})
        expectChange(lab, s8, s9)
        setApiState(api, s8, s9)
        await n2.start()
        await n2.waitHealthy(60_000)
        timings.afterAgentRestart = await converge(lab, s9, 'agent restarted after a change')

        // F4: a policy the API server would reject (protocol "tcp") reaches the agents: reported, and
        // enforced fail-closed (docs/semantics.md#agent-fail-closed): its podSelector {} and (policyTypes
        // absent, no egress) Ingress isolate every shop pod with no allow rule; every other policy still
        // holds, the nodes stay healthy. Deleting it lifts the isolation again.
        const failClosed: NetworkPolicy = {
          namespace: 'shop',
          name: 'bad',
          origin,
          podSelector: sel({}),
          policyTypes: ['Ingress'],
          ingress: [],
          egress: [],
        }
        const s10: ClusterState = { ...s9, policies: [...s9.policies, failClosed] }
        expectChange(lab, s9, s10)
        api.apply('NetworkPolicy', {
          metadata: { namespace: 'shop', name: 'bad' },
          spec: { podSelector: {}, ingress: [{ ports: [{ protocol: 'tcp', port: 80 }] }] },
        })
        for (const a of agents) {
          const t1 = Date.now()
          while (
            metric((await a.metrics()).body, 'palisade_fail_closed_policies') !== 1 &&
            Date.now() - t1 < 10_000
          )
            await new Promise((r) => setTimeout(r, 100))
          expect(metric((await a.metrics()).body, 'palisade_invalid_objects')).toBe(1)
          expect(metric((await a.metrics()).body, 'palisade_fail_closed_policies')).toBe(1)
          expect((await a.health()).status).toBe(200)
        }
        timings.failClosed = await converge(lab, s10, 'an unreadable policy fails closed')
        api.delete('NetworkPolicy', 'shop', 'bad')
        timings.failClosedLifted = await converge(lab, s9, 'the unreadable policy deleted')

        // SIGTERM: the agents exit cleanly and the rules stay in force.
        for (const a of agents) expect(await a.stop('SIGTERM')).toEqual({ code: 0, signal: null })
        await holds(lab, s9, 'agents stopped')

        // `palisade cleanup` in each node: every path opens again.
        for (const n of lab.plan.nodes)
          await cleanup({ netns: n.netns, stateDir: join(lab.stateDir, 'node-agents', `${n.name}.state`) })
        await holds(lab, withPolicies(s9), 'rules removed')
        console.log(
          `agents e2e ${backend} convergence (ms, probe rounds included): ${JSON.stringify(timings)}`,
        )
      } finally {
        await Promise.all(agents.map((a) => a.stop('SIGKILL')))
        await new Promise<void>((r) => (bridge ? bridge.close(() => r()) : r()))
        await api.stop()
        await destroyLab(lab.plan.prefix)
        await rm(socket, { force: true })
      }
      // Nothing leaks: the lab's namespaces (and with them its processes and rules) are gone.
      expect((await listLabNamespaces()).filter((n) => n.startsWith(lab.plan.prefix))).toEqual([])
    },
  )
})
