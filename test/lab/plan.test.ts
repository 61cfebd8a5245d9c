import { describe, expect, it } from 'vitest'
import { matchIPBlock } from '../../src/engine/index.js'
import { labPorts, planLab } from '../../src/lab/index.js'
import type { ClusterState } from '../../src/model/index.js'
import { smallCluster } from './helpers.js'

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
