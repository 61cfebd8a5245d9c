import { describe, expect, it } from 'vitest'
import { parseHostRoutes, podInterfacesFromRoutes } from '../../src/agent/pod-interfaces.js'
import type { ClusterState, Pod } from '../../src/model/index.js'

const v4 = JSON.stringify([
  { dst: 'default', gateway: '10.0.0.1', dev: 'eth0', flags: [] },
  { dst: '10.0.0.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', flags: [] },
  { dst: '10.244.1.5', dev: 'cali1', scope: 'link', flags: [] },
  { dst: '10.244.1.6/32', dev: 'cali2', scope: 'link', flags: [] },
  { dst: '10.244.2.0/24', gateway: '10.0.0.12', dev: 'eth0', flags: [] },
  { dst: '10.244.1.9', gateway: '10.0.0.12', dev: 'eth0', flags: [] },
  { type: 'blackhole', dst: '10.244.1.0/26', flags: [] },
  { type: 'unreachable', dst: '10.244.1.77', dev: 'lo', flags: [] },
])
const v6 = JSON.stringify([
  { dst: 'fd00:244:1::5', dev: 'cali1', metric: 1024, flags: [] },
  { dst: 'fe80::/64', dev: 'cali1', metric: 256, flags: [] },
])

describe('host routes from `ip -j route`', () => {
  const routes = parseHostRoutes(`${v4}\n${v6}\n`)
  it.each([
    ['a /32 route without a gateway is a host route', '10.244.1.5', 'cali1'],
    ['an explicit /32 counts the same', '10.244.1.6', 'cali2'],
    ['an IPv6 /128 (printed bare) counts', 'fd00:244:1::5', 'cali1'],
    ['a host route through a gateway is not a local pod', '10.244.1.9', undefined],
    ['an unreachable route is not a pod route', '10.244.1.77', undefined],
    ['a network route is not a host route', '10.244.2.0', undefined],
  ])('%s', (_, addr, dev) => {
    expect(routes.get(addr)).toBe(dev)
  })
  it('garbage lines and entries are ignored', () => {
    expect(
      parseHostRoutes('not json\n{"dst":1}\n[]\n[null, 1, "x", {"dst": "10.0.0.1", "dev": 7}]').size,
    ).toBe(0)
  })
  it.each([
    ['a quote', 'a";flush'],
    ['a semicolon', 'a;b'],
    ['a space', 'a b'],
    ['more than 15 characters', 'abcdefghijklmnop'],
  ])('a device name with %s is left out (it is written into the ruleset)', (_, dev) => {
    expect(parseHostRoutes(JSON.stringify([{ dst: '10.0.0.1', dev, flags: [] }])).size).toBe(0)
  })
})

const pod = (name: string, ips: string[], nodeName = 'n1', hostNetwork = false): Pod => ({
  namespace: 'x',
  name,
  labels: {},
  ips,
  ports: [],
  nodeName,
  hostNetwork,
})
const cluster = (pods: Pod[]): ClusterState => ({ namespaces: [], pods, policies: [] })

describe('pod interfaces from host routes', () => {
  const routes = new Map([
    ['10.244.1.5', 'cali1'],
    ['fd00:244:1::5', 'cali1'],
    ['10.244.1.6', 'cali2'],
    ['10.244.1.7', 'cbr0'],
    ['10.244.1.8', 'cbr0'],
    ['10.244.1.10', 'cali4'],
    ['10.244.1.11', 'cali5'],
    ['10.244.1.12', 'cali6'],
    ['10.244.1.99', 'cali6'],
  ])
  const c = cluster([
    pod('dual', ['10.244.1.5', 'fd00:244:1::5']),
    pod('one', ['10.244.1.6']),
    pod('bridged-a', ['10.244.1.7']),
    pod('bridged-b', ['10.244.1.8']),
    pod('split', ['10.244.1.10', '10.244.1.11']),
    pod('shares-with-stranger', ['10.244.1.12']),
    pod('no-route', ['10.244.1.13']),
    pod('elsewhere', ['10.244.1.6'], 'n2'),
    pod('host', ['10.244.1.6'], 'n1', true),
  ])
  const got = podInterfacesFromRoutes(c, 'n1', routes)
  it.each([
    ['a dual-stack pod whose addresses route through one device gets it', 'x/dual', 'cali1'],
    ['a single-address pod gets its device', 'x/one', 'cali2'],
    ['pods behind one bridge get nothing (the device is shared)', 'x/bridged-a', undefined],
    ['addresses through two devices give nothing', 'x/split', undefined],
    [
      'a device that also routes an address of no local pod gives nothing',
      'x/shares-with-stranger',
      undefined,
    ],
    ['a pod without a host route gets nothing', 'x/no-route', undefined],
    ['pods of other nodes are not mapped', 'x/elsewhere', undefined],
    ['hostNetwork pods are not mapped', 'x/host', undefined],
  ])('%s', (_, key, dev) => {
    expect(got[key]).toBe(dev)
  })
})
