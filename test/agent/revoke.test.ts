/**
 * --revoke-established in the agent, with a recorded kernel and a fake conntrack table
 * (docs/semantics.md#established-connections): after each commit exactly the flows the new rules refuse
 * are deleted, never an allowed flow, a node flow or a flow between two other nodes' pods; a failing
 * `conntrack` is logged and counted and never breaks enforcement; without the flag nothing is deleted and
 * the ruleset is today's. The kernel side (real conntrack, real flows) is test/lab/revoke-established.test.ts.
 */
import { KubeConfig } from '@kubernetes/client-node'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeApiServer } from '../../harness/fake-apiserver.js'
import { type Agent, startAgent } from '../../src/agent/index.js'
import {
  type ConntrackEntry,
  deleteLine,
  parseConntrackLine,
  printRuleset,
  type RevokeIO,
} from '../../src/backends/index.js'
import { allowFromJson, denyAllJson, namespaceJson, podJson } from '../fixtures.js'
import { recordingKernel, waitFor } from './fixtures.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** conntrack -L -o extended lines: the orig tuple, then the reply tuple. */
const line = (proto: 'tcp' | 'udp', src: string, dst: string, sport: number, dport: number, replySrc = dst) =>
  `${src.includes(':') ? 'ipv6     10' : 'ipv4     2'} ${proto}      ${proto === 'tcp' ? '6 431999 ESTABLISHED' : '17 29'} src=${src} dst=${dst} sport=${sport} dport=${dport} src=${replySrc} dst=${src} sport=${dport} dport=${sport} [ASSURED] mark=0 use=1`

// n1 runs db (10.0.1.3); web (10.0.2.3) runs on n2. web-to-db admits role=web to app=db on TCP 5432.
const TABLE = {
  allowed: line('tcp', '10.0.2.3', '10.0.1.3', 40001, 5432),
  viaService: line('tcp', '10.0.2.3', '10.96.0.10', 40002, 5432, '10.0.1.3'),
  otherPort: line('tcp', '10.0.2.3', '10.0.1.3', 40003, 22),
  otherPeer: line('tcp', '10.0.3.9', '10.0.1.3', 40004, 5432),
  udp: line('udp', '10.0.2.3', '10.0.1.3', 40005, 5432),
  serviceDenied: line('tcp', '10.0.3.9', '10.96.0.10', 40006, 5432, '10.0.1.3'),
  kubelet: line('tcp', '10.0.1.1', '10.0.1.3', 40007, 8080),
  remoteToRemote: line('tcp', '10.0.2.3', '10.0.3.9', 40008, 5432),
  outbound: line('udp', '10.0.1.3', '8.8.8.8', 40009, 53),
  icmp: 'ipv4     2 icmp     1 29 src=10.0.3.9 dst=10.0.1.3 type=8 code=0 id=7 src=10.0.1.3 dst=10.0.3.9 type=0 code=0 id=7 mark=0 use=1',
}

/** A conntrack table in memory: listing streams it, deleting removes by the exact delete line. */
function fakeConntrack(lines: readonly string[]) {
  const table = new Map(lines.map((l) => [l, parseConntrackLine(l)]))
  const t = {
    failing: false,
    deleted: [] as string[],
    get lines() {
      return [...table.keys()]
    },
    io: {
      list: async (onEntry: (e: ConntrackEntry) => void) => {
        if (t.failing) throw new Error('conntrack -L exited 1: conntrack v1.4.7: Operation failed')
        let entries = 0
        for (const e of table.values()) {
          if (!e) continue
          entries++
          onEntry(e)
        }
        return { lines: table.size, entries }
      },
      remove: async (entries: readonly ConntrackEntry[]) => {
        const want = new Set(entries.map(deleteLine))
        let deleted = 0
        for (const [l, e] of table)
          if (e && want.has(deleteLine(e))) {
            table.delete(l)
            t.deleted.push(l)
            deleted++
          }
        return { deleted }
      },
      nodeAddresses: async () => ['127.0.0.1', '10.0.1.1', '::1'],
    } satisfies RevokeIO,
  }
  return t
}

async function rig(revokeEstablished: boolean, lines: readonly string[]) {
  const api = new FakeApiServer()
  await api.start()
  cleanups.push(() => api.stop())
  api.apply('Namespace', namespaceJson('shop'))
  api.apply('Pod', podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }))
  api.apply('Pod', podJson('shop', 'web', '10.0.2.3', 'n2', { role: 'web' }))
  api.apply('NetworkPolicy', allowFromJson('shop', 'web-to-db', 'db', 'web', 5432))
  const kc = new KubeConfig()
  kc.loadFromString(api.kubeconfig())
  const k = recordingKernel()
  const ct = fakeConntrack(lines)
  const agent: Agent = await startAgent(
    {
      nodeName: 'n1',
      kubeConfig: kc,
      backend: 'nftables',
      syncPeriodMs: 60_000,
      cacheSyncTimeoutMs: 10_000,
      debounceMs: 10,
      healthAddr: { host: '127.0.0.1', port: 0 },
      cleanupOnExit: false,
      logger: pino({ level: 'silent' }),
      revokeEstablished,
    },
    { dataplane: k.dataplane, conntrack: ct.io },
  )
  cleanups.push(() => agent.stop())
  return { api, agent, k, ct }
}

const metric = async (agent: Agent, name: string): Promise<number> => {
  const text = await agent.metrics.registry.metrics()
  const l = text.split('\n').find((x) => x.startsWith(`${name} `))
  return l === undefined ? Number.NaN : Number(l.slice(name.length + 1))
}

describe('agent --revoke-established (recorded kernel, fake conntrack)', () => {
  it('deletes exactly the flows the committed rules refuse, after each commit', async () => {
    const { api, agent, k, ct } = await rig(true, Object.values(TABLE))
    const swept: number[] = []
    agent.onRevoked?.((r) => swept.push(r.deleted))
    await agent.ready
    await waitFor(() => swept.length >= 1, 5000, 'the first sweep')
    expect(k.full).toHaveLength(1)
    // Refused by web-to-db: another port, another peer (also through a Service address), UDP.
    expect(ct.deleted.sort()).toEqual(
      [TABLE.otherPort, TABLE.otherPeer, TABLE.udp, TABLE.serviceDenied].sort(),
    )
    // Kept: the admitted flow (also through a Service), the kubelet's, two other nodes' pods, db's own egress, ICMP.
    expect(ct.lines.sort()).toEqual(
      [
        TABLE.allowed,
        TABLE.viaService,
        TABLE.kubelet,
        TABLE.remoteToRemote,
        TABLE.outbound,
        TABLE.icmp,
      ].sort(),
    )
    expect(await metric(agent, 'palisade_revoked_connections_total')).toBe(4)
    expect(await metric(agent, 'palisade_conntrack_entries')).toBe(9)
    // The ruleset also refuses TCP picked up mid-stream.
    expect(k.text).toContain('ct state new tcp flags & (fin | syn | rst | ack) != syn counter drop')

    // A deny-all in the namespace: the admitted flows go too, the node's and the others stay.
    api.apply('NetworkPolicy', denyAllJson('shop'))
    api.delete('NetworkPolicy', 'shop', 'web-to-db')
    await waitFor(() => ct.lines.length === 4, 5000, 'the second sweep')
    expect(ct.lines.sort()).toEqual([TABLE.kubelet, TABLE.remoteToRemote, TABLE.outbound, TABLE.icmp].sort())
    // Counted when the sweep and its follow-ups are done.
    await waitFor(
      async () => (await metric(agent, 'palisade_revoked_connections_total')) === 6,
      5000,
      'the second sweep counted',
    )
  })

  it('a failing conntrack is logged and counted; the rules are in force and the agent healthy', async () => {
    const lines = Object.values(TABLE)
    const { api, agent, k, ct } = await rig(true, lines)
    ct.failing = true
    const reports: (string | undefined)[] = []
    agent.onRevoked?.((r) => reports.push(r.error))
    await agent.ready
    await waitFor(() => reports.length >= 1, 5000, 'the first sweep')
    expect(reports[0]).toMatch(/conntrack -L exited 1/)
    expect(k.full).toHaveLength(1)
    expect(agent.health().healthy).toBe(true)
    expect(await metric(agent, 'palisade_revocation_errors_total')).toBe(1)
    expect(await metric(agent, 'palisade_revoked_connections_total')).toBe(0)
    expect(ct.lines).toHaveLength(lines.length)
    // conntrack back: the next commit (a second web pod joins db's peer set) sweeps what the failed one left.
    ct.failing = false
    api.apply('Pod', podJson('shop', 'web2', '10.0.2.4', 'n2', { role: 'web' }))
    await waitFor(() => ct.deleted.length === 4, 5000, 'the sweep after conntrack recovered')
    expect(agent.health().healthy).toBe(true)
  })

  it('without the flag: no sweep, nothing deleted, and the ruleset is unchanged', async () => {
    const lines = Object.values(TABLE)
    const { api, agent, k, ct } = await rig(false, lines)
    await agent.ready
    expect(agent.onRevoked).toBeUndefined()
    api.apply('NetworkPolicy', denyAllJson('shop'))
    await waitFor(() => k.scripts.length + k.full.length >= 2, 5000, 'the deny-all applied')
    expect(ct.deleted).toEqual([])
    expect(ct.lines).toHaveLength(lines.length)
    expect(printRuleset(k.full[0]!).files['palisade.nft']).not.toContain('picked up mid-stream')
  })
})
