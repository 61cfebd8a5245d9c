/**
 * Drop counters without a kernel: the readers of both backends' listings (nft -j list table, iptables-save
 * -c), the attribution of a rule to its pod chain (names from the IR, as each backend gives them), and
 * the agent's sums: monotonic across a reload or a re-created chain, series of pods that went away
 * dropped, other drops by reason, the kernel read at most once per maxAgeMs.
 */

import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import {
  buildDropIndex,
  DropCounters,
  exportDropCounters,
  mergeDropIndex,
} from '../../src/agent/drop-counters.js'
import { createMetrics } from '../../src/agent/metrics.js'
import { compileNode, getBackend, type KernelDropCounter } from '../../src/backends/index.js'
import { dropCountersOfSave } from '../../src/backends/iptables/index.js'
import { dropCountersOfListing } from '../../src/backends/nftables/index.js'
import { buildNodeIR } from '../../src/compile/index.js'
import type { ClusterState } from '../../src/model/index.js'
import { CASES } from '../compile/fixtures.js'
import { ns, pod, sel } from '../fixtures.js'

const dual = CASES.find((c) => c.name === 'dual-stack')?.cluster
if (!dual) throw new Error('fixture dual-stack missing')

describe('kernel listings', () => {
  it('nftables: every counted drop rule, by table handle, chain and rule handle', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { json_schema_version: 1 } },
        { table: { family: 'inet', name: 'palisade', handle: 7 } },
        {
          rule: {
            chain: 'pod_in_prod_db',
            handle: 12,
            comment: 'ingress isolated: prod/db',
            expr: [{ counter: { packets: 5, bytes: 300 } }, { drop: null }],
          },
        },
        {
          rule: {
            chain: 'egress',
            handle: 4,
            expr: [
              { match: { op: 'in', left: { ct: { key: 'state' } }, right: 'invalid' } },
              { counter: { packets: 2, bytes: 80 } },
              { drop: null },
            ],
          },
        },
        // accept rules and drops without a counter are not counters
        { rule: { chain: 'pol_x', handle: 3, expr: [{ accept: null }] } },
        { rule: { chain: 'egress', handle: 5, expr: [{ drop: null }] } },
      ],
    })
    expect(dropCountersOfListing(json)).toEqual([
      {
        id: '7/pod_in_prod_db/12',
        chain: 'pod_in_prod_db',
        reason: 'ingress isolated: prod/db',
        packets: 5,
        bytes: 300,
      },
      { id: '7/egress/4', chain: 'egress', reason: 'ct state invalid', packets: 2, bytes: 80 },
    ])
  })

  it('iptables: the DROP rules of our chains, by apply generation, family, chain and place', () => {
    const save = [
      '*nat',
      '[9:9] -A PAL-X -j DROP',
      'COMMIT',
      '*filter',
      ':FORWARD ACCEPT [0:0]',
      '[3:180] -A FORWARD -j DROP',
      '[4:240] -A PAL-FORWARD -m conntrack --ctstate INVALID -j DROP',
      '[0:0] -A PAL-FORWARD -m set --match-set pal-PODIF-4 src,src -m comment --comment "anti-spoofing: source address is not the pod\'s" -j DROP',
      '[7:420] -A PAL-pod_in_prod_db -m comment --comment "ingress isolated: prod/db" -j DROP',
      '[1:60] -A PAL-pod_in_prod_db -j NFLOG --nflog-group 5',
      'COMMIT',
    ].join('\n')
    expect(dropCountersOfSave(save, 4, 3)).toEqual([
      { id: '3/4/PAL-FORWARD/0', chain: 'PAL-FORWARD', reason: 'ct state invalid', packets: 4, bytes: 240 },
      {
        id: '3/4/PAL-FORWARD/1',
        chain: 'PAL-FORWARD',
        reason: "anti-spoofing: source address is not the pod's",
        packets: 0,
        bytes: 0,
      },
      {
        id: '3/4/PAL-pod_in_prod_db/0',
        chain: 'PAL-pod_in_prod_db',
        reason: 'ingress isolated: prod/db',
        packets: 7,
        bytes: 420,
      },
    ])
  })
})

describe('attribution', () => {
  it.each(['nftables', 'iptables'] as const)('names each pod chain as %s does, with its policies', (b) => {
    const ir = buildNodeIR(dual, 'node-1')
    const index = buildDropIndex(ir, getBackend(b).chainName)
    const want =
      b === 'nftables' ? ['pod_eg_prod_db', 'pod_in_prod_db'] : ['PAL-pod_eg_prod_db', 'PAL-pod_in_prod_db']
    expect([...index.keys()].sort()).toEqual(want)
    expect(index.get(want[1] as string)).toEqual({
      namespace: 'prod',
      pod: 'db',
      direction: 'ingress',
      policies: ['prod/db-from-api'],
    })
  })
})

/** db is selected by an Admin ClusterNetworkPolicy that denies web; web by nothing. */
const tiered: ClusterState = {
  namespaces: [ns('shop')],
  pods: [pod('shop/web', { app: 'web' }, '10.0.1.5'), pod('shop/db', { app: 'db' }, '10.0.1.7')],
  policies: [],
  clusterPolicies: [
    {
      name: 'deny-web',
      apiVersion: 'policy.networking.k8s.io/v1beta1',
      tier: 'Admin',
      priority: 10,
      subject: { kind: 'pods', namespaceSelector: sel(), podSelector: sel({ app: 'db' }) },
      ingress: [
        {
          action: 'Deny',
          peers: [{ kind: 'pods', namespaceSelector: sel(), podSelector: sel({ app: 'web' }) }],
        },
      ],
      egress: [],
    },
  ],
}

describe('attribution of ClusterNetworkPolicy denials', () => {
  it.each([
    ['nftables', 'deny_in_shop_db', 'adm_deny-web_in'],
    ['iptables', 'PAL-deny_in_shop_db', 'PAL-adm_deny-web_in'],
  ] as const)(
    '%s: the pod Deny chain counts for the pod, the shared chain names the policy',
    (b, deny, shared) => {
      const index = buildDropIndex(buildNodeIR(tiered, 'node-1'), getBackend(b).chainName)
      expect(index.get(deny)).toEqual({
        namespace: 'shop',
        pod: 'db',
        direction: 'ingress',
        policies: ['deny-web'],
      })
      expect(index.get(shared)).toEqual({
        kind: 'cluster-policy',
        direction: 'ingress',
        tier: 'Admin',
        policy: 'deny-web',
      })
      // the rendered ruleset has that counted drop in that chain, and the shared chain drops nothing itself
      const rs = compileNode(tiered, 'node-1', b).value
      const text = b === 'nftables' ? (rs.files['palisade.nft'] ?? '') : (rs.files['iptables.rules'] ?? '')
      expect(text).toContain('ingress denied by a ClusterNetworkPolicy: shop/db')
      const drops = new DropCounters({ read: async () => [], chainName: getBackend(b).chainName })
      drops.setIndex(index, true)
      drops.absorb([c('1', deny, 3), c('2', shared, 5, 'never counted here')])
      expect(drops.podSeries()).toEqual([{ namespace: 'shop', pod: 'db', direction: 'ingress', packets: 3 }])
      expect(drops.otherSeries()).toEqual([{ reason: 'never counted here', packets: 5 }])
    },
  )
})

const c = (id: string, chain: string, packets: number, reason = 'x'): KernelDropCounter => ({
  id,
  chain,
  reason,
  packets,
  bytes: packets * 60,
})

describe('the agent sums', () => {
  const pc = (pod: string, direction: 'ingress' | 'egress' = 'ingress') => ({
    namespace: 'ns',
    pod,
    direction,
    policies: ['ns/p'],
  })

  it('never go down: a re-created rule (new identity) or a restarted counter counts from 0 again', async () => {
    const readings: KernelDropCounter[][] = [
      [c('1/pod_a/5', 'pod_a', 10), c('1/egress/2', 'egress', 1, 'ct state invalid')],
      [c('1/pod_a/5', 'pod_a', 15)],
      // full reload: new table handle, counters restart
      [c('2/pod_a/5', 'pod_a', 3), c('2/egress/2', 'egress', 4, 'ct state invalid')],
      // the same identity counting less than before: restarted (iptables without a generation bump)
      [c('2/pod_a/5', 'pod_a', 1)],
    ]
    let i = 0
    const d = new DropCounters({ read: async () => readings[i++] ?? [], chainName: (x) => x })
    d.setIndex(new Map([['pod_a', pc('a')]]), true)
    const totals: number[] = []
    for (let k = 0; k < readings.length; k++) {
      await d.collect(true)
      totals.push(d.podSeries()[0]?.packets ?? 0)
    }
    expect(totals).toEqual([10, 15, 18, 19])
    expect(d.otherSeries()).toEqual([{ reason: 'ct state invalid', packets: 5 }])
  })

  it('drops the series of a pod that went away, and attributes both chains during an apply', async () => {
    const d = new DropCounters({
      read: async () => [c('1/pod_a/1', 'pod_a', 2), c('1/pod_b/1', 'pod_b', 3)],
      chainName: (x) => x,
    })
    const before = new Map([['pod_a', pc('a')]])
    const after = new Map([['pod_b', pc('b')]])
    d.setIndex(mergeDropIndex(before, after), false)
    await d.collect(true)
    expect(d.podSeries().map((s) => [s.pod, s.packets])).toEqual([
      ['a', 2],
      ['b', 3],
    ])
    d.setIndex(after, true)
    expect(d.podSeries().map((s) => s.pod)).toEqual(['b'])
  })

  it('reads the kernel at most once per maxAgeMs (scrapes share a reading), and exports the sums', async () => {
    let reads = 0
    let now = 0
    const d = new DropCounters({
      read: async () => {
        reads++
        return [c(`1/pod_a/1`, 'pod_a', reads * 10)]
      },
      chainName: (x) => x,
      maxAgeMs: 1500,
      now: () => now,
    })
    d.setIndex(new Map([['pod_a', pc('a', 'egress')]]), true)
    const metrics = createMetrics()
    const log = pino({ level: 'silent' })
    await exportDropCounters(d, metrics, log)
    now = 1000
    await exportDropCounters(d, metrics, log)
    expect(reads).toBe(1)
    now = 2000
    await exportDropCounters(d, metrics, log)
    expect(reads).toBe(2)
    const text = await metrics.registry.getSingleMetricAsString('palisade_dropped_packets_total')
    expect(text).toContain('palisade_dropped_packets_total{namespace="ns",pod="a",direction="egress"} 20')
  })

  it('a slow reading is reused for ten times its duration (scrapes spend at most a tenth of the time reading)', async () => {
    let reads = 0
    let now = 0
    const d = new DropCounters({
      read: async () => {
        reads++
        now += 4000 // the whole table listed: 4 s
        return []
      },
      chainName: (x) => x,
      maxAgeMs: 1500,
      now: () => now,
    })
    await d.collect()
    expect([reads, d.lastReadMs]).toEqual([1, 4000])
    now += 39_000
    await d.collect()
    expect(reads).toBe(1)
    now += 1000
    await d.collect()
    expect(reads).toBe(2)
    // an apply that re-creates chains reads anyway
    await d.collect(true)
    expect(reads).toBe(3)
  })

  it('a reading under a second keeps the plain maxAge (a scrape after it sees fresh counts)', async () => {
    let reads = 0
    let now = 0
    const d = new DropCounters({
      read: async () => {
        reads++
        now += 900
        return []
      },
      chainName: (x) => x,
      maxAgeMs: 1500,
      now: () => now,
    })
    await d.collect()
    now += 1600
    await d.collect()
    expect(reads).toBe(2)
  })

  it('a failed reading before the first apply (no table yet) is a debug line, after it a warning', async () => {
    const lines: { level: number; msg: string }[] = []
    const log = pino(
      { level: 'debug' },
      {
        write: (l: string) => {
          lines.push(JSON.parse(l))
        },
      },
    )
    const d = new DropCounters({
      read: async () => {
        throw new Error('nft: no such table')
      },
      chainName: (x) => x,
      maxAgeMs: 0,
    })
    const metrics = createMetrics()
    await exportDropCounters(d, metrics, log)
    d.setIndex(new Map([['pod_a', pc('a')]]), true)
    await exportDropCounters(d, metrics, log)
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [20, 'cannot read drop counters'],
      [40, 'cannot read drop counters'],
    ])
  })

  it('a failed reading is logged, and the sums stay', async () => {
    let fail = false
    const d = new DropCounters({
      read: async () => {
        if (fail) throw new Error('nft: no such table')
        return [c('1/pod_a/1', 'pod_a', 4)]
      },
      chainName: (x) => x,
      maxAgeMs: 0,
    })
    d.setIndex(new Map([['pod_a', pc('a')]]), true)
    const metrics = createMetrics()
    const log = pino({ level: 'silent' })
    await exportDropCounters(d, metrics, log)
    fail = true
    await exportDropCounters(d, metrics, log)
    expect(await metrics.registry.getSingleMetricAsString('palisade_dropped_packets_total')).toContain('} 4')
  })
})
