import { describe, expect, it } from 'vitest'
import { labPorts, planLab } from '../../src/lab/index.js'
import type { ClusterState } from '../../src/model/index.js'
import { matchIPBlock } from '../../src/semantics/index.js'
import { smallCluster, smallCluster6 } from './helpers.js'

const withIPs = (c: ClusterState, ips: Record<string, string[]>): ClusterState => ({
  ...c,
  pods: c.pods.map((p) => ({ ...p, ips: ips[`${p.namespace}/${p.name}`] ?? p.ips })),
})

describe('lab plan (pure)', () => {
  const plan = planLab(smallCluster(), { prefix: 'pl0001-' })

  it('pods without an address get the next free one of their node CIDR and the adjusted cluster carries it', () => {
    expect(plan.pods.map((p) => [p.key, p.node, p.ip])).toEqual([
      ['prod/db', 'node-1', '10.240.1.10'],
      ['prod/api', 'node-1', '10.240.1.11'],
      ['dev/client-a', 'node-1', '10.240.1.12'],
      ['prod/web', 'node-2', '10.240.2.10'],
      ['dev/client-b', 'node-2', '10.240.2.11'],
    ])
    expect(plan.cluster.pods.map((p) => p.ips)).toEqual(plan.pods.map((p) => [p.ip]))
  })

  it('every namespace name carries the lab prefix', () => {
    for (const ns of [
      plan.underlay,
      ...plan.nodes.map((n) => n.netns),
      ...plan.pods.map((p) => p.netns),
      plan.outside!.netns,
    ]) {
      expect(ns.startsWith('pl0001-')).toBe(true)
    }
  })

  it('an outside address lies inside each ipBlock cidr but outside its excepts, and one inside each except', () => {
    const addrs = plan.outside!.addresses.map((a) => a.ip)
    const block = { cidr: '10.240.0.0/16', except: ['10.240.2.0/28'] }
    expect(addrs.some((a) => matchIPBlock(block, a))).toBe(true)
    expect(addrs.some((a) => matchIPBlock({ cidr: '10.240.2.0/28', except: [] }, a))).toBe(true)
    expect(addrs).toContain('203.0.113.10')
    for (const a of addrs) expect(plan.pods.map((p) => p.ip)).not.toContain(a)
    for (const a of addrs) expect(a.startsWith('10.240.0.')).toBe(false)
  })

  it('manifest addresses are kept when usable, replaced when duplicated or on the underlay', () => {
    const c = withIPs(smallCluster(), {
      'prod/db': ['10.244.7.7'],
      'prod/api': ['10.244.7.7'],
      'prod/web': ['10.240.0.5'],
      'dev/client-b': ['10.240.2.99', 'fd00::1'],
    })
    const p = planLab(c, { prefix: 'pl0002-' })
    const ip = (k: string) => p.pods.find((x) => x.key === k)!.ip
    expect(ip('prod/db')).toBe('10.244.7.7')
    expect(ip('prod/api')).not.toBe('10.244.7.7')
    expect(ip('prod/web').startsWith('10.240.2.')).toBe(true)
    expect(ip('dev/client-b')).toBe('10.240.2.99')
    expect(p.notes.some((n) => n.includes('prod/api'))).toBe(true)
  })

  it('pods without spec.nodeName are spread over --nodes nodes', () => {
    const c = { ...smallCluster(), pods: smallCluster().pods.map(({ nodeName: _, ...p }) => p) }
    const p = planLab(c, { prefix: 'pl0003-', nodes: 3 })
    expect(p.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3'])
    expect(new Set(p.pods.map((x) => x.node)).size).toBe(3)
  })

  it('ports are the declared container ports plus numeric ports the policies name', () => {
    expect(labPorts(smallCluster()).map((q) => `${q.port}/${q.protocol}`)).toEqual(['53/UDP', '80/TCP'])
    const c = smallCluster()
    const pol = {
      ...c.policies[1]!,
      ingress: [{ ports: [{ protocol: 'TCP' as const, port: 8000, endPort: 8080 }] }],
    }
    expect(labPorts({ ...c, policies: [pol] }).map((q) => `${q.port}/${q.protocol}`)).toEqual([
      '53/UDP',
      '80/TCP',
      '8000/TCP',
      '8080/TCP',
    ])
  })
})

describe('IPv6 lab plan (pure)', () => {
  const c = withIPs(smallCluster6(), {
    'prod/db': ['10.0.0.5', 'fd00:240:1::77'],
    'prod/web': ['fd00:240:1::99'],
    'dev/client-b': ['2001:db8:5::5'],
  })
  const plan = planLab(c, { prefix: 'pl0006-', family: 6 })
  const ip = (k: string) => plan.pods.find((x) => x.key === k)!.ip

  it('nodes get fd00:240::K on the underlay and fd00:240:K::/64 for pods', () => {
    expect(plan.family).toBe(6)
    expect(plan.nodes.map((n) => [n.ip, n.podCidr, n.gateway])).toEqual([
      ['fd00:240::1', 'fd00:240:1::/64', 'fd00:240:1::1'],
      ['fd00:240::2', 'fd00:240:2::/64', 'fd00:240:2::1'],
    ])
  })

  it.each([
    [
      'a usable IPv6 manifest address inside its node CIDR is kept (IPv4 dropped)',
      'prod/db',
      'fd00:240:1::77',
    ],
    ['an IPv6 address inside another node CIDR is replaced', 'prod/web', 'fd00:240:2::a'],
    ['an IPv6 address outside the lab range is kept', 'dev/client-b', '2001:db8:5::5'],
    ['a pod without an IPv6 address gets the next free one', 'prod/api', 'fd00:240:1::a'],
  ])('%s', (_, key, want) => {
    expect(ip(key)).toBe(want)
    expect(plan.cluster.pods.find((p) => `${p.namespace}/${p.name}` === key)!.ips).toEqual([want])
  })

  it('outside addresses are IPv6, inside each ipBlock but outside its excepts, and one inside each except', () => {
    const addrs = plan.outside!.addresses.map((a) => a.ip)
    expect(addrs).toContain('2001:db8::10')
    expect(addrs.some((a) => matchIPBlock({ cidr: 'fd00:240::/32', except: ['fd00:240:2::/120'] }, a))).toBe(
      true,
    )
    expect(addrs.some((a) => matchIPBlock({ cidr: 'fd00:240:2::/120', except: [] }, a))).toBe(true)
    for (const a of addrs) {
      expect(a).toContain(':')
      expect(plan.pods.map((p) => p.ip)).not.toContain(a)
      expect(a.startsWith('fd00:240::')).toBe(false)
    }
  })

  it('IPv4 ipBlocks of an IPv6 lab are named as not probed', () => {
    const p4 = planLab(smallCluster(), { prefix: 'pl0007-', family: 6 })
    expect(p4.outside).toBeUndefined()
    expect(p4.notes.filter((n) => n.includes('IPv4 is not probed (the lab is IPv6 only)'))).toHaveLength(2)
  })
})
