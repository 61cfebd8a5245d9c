/**
 * judgeFlow: what the rules a node just committed say of a flow conntrack holds
 * (docs/semantics.md#established-connections). The packet decision itself is checked against the engine
 * and both ruleset interpreters by the conformance suite; these rows pin what is ours to judge.
 */
import { describe, expect, it } from 'vitest'
import {
  buildNodeIR,
  canonicalAddressSet,
  createIREvaluator,
  type FlowVerdict,
  type IRFlow,
  judgeFlow,
} from '../../src/compile/index.js'
import { cluster, ns, pod, policy, rule, sel, tcp, udp } from '../fixtures.js'

// node-1: web (isolated for ingress: only app=api on TCP 80), api; node-2: other. db on node-1 is
// isolated for egress (UDP 53 to anything, IPv4 only by the ipBlock).
const state = cluster(
  [ns('a')],
  [
    pod('a/web', { app: 'web' }, ['10.0.1.10', 'fd00:1::10'], { nodeName: 'node-1' }),
    pod('a/api', { app: 'api' }, ['10.0.1.11', 'fd00:1::11'], { nodeName: 'node-1' }),
    pod('a/db', { app: 'db' }, ['10.0.1.12'], { nodeName: 'node-1' }),
    pod('a/other', { app: 'other' }, ['10.0.2.10', 'fd00:2::10'], { nodeName: 'node-2' }),
    pod('a/host', { app: 'host' }, ['192.168.0.1'], { nodeName: 'node-1', hostNetwork: true }),
  ],
  [
    policy('a/web-in', sel({ app: 'web' }), {
      ingress: [rule([{ podSelector: sel({ app: 'api' }) }], [tcp(80)])],
    }),
    policy('a/db-out', sel({ app: 'db' }), {
      types: ['Egress'],
      egress: [rule([{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.2.0/24'] } }], [udp(53)])],
    }),
  ],
)
const ev = createIREvaluator(buildNodeIR(state, 'node-1'))
const nodeAddresses = canonicalAddressSet(['192.168.0.1', '10.0.1.1', 'FD00:1:0:0::1'])

const flow = (src: string, dst: string, dport: number, protocol: IRFlow['protocol'] = 'TCP'): IRFlow => ({
  family: src.includes(':') ? 6 : 4,
  protocol,
  src,
  sport: 40000,
  dst,
  dport,
})

const cases: { name: string; flow: IRFlow; verdict: FlowVerdict }[] = [
  {
    name: 'a local pod admitted by its ingress policy',
    flow: flow('10.0.1.11', '10.0.1.10', 80),
    verdict: 'allowed',
  },
  {
    name: 'the same pair on a port the policy does not admit',
    flow: flow('10.0.1.11', '10.0.1.10', 81),
    verdict: 'denied',
  },
  {
    name: 'a remote pod the ingress policy does not select',
    flow: flow('10.0.2.10', '10.0.1.10', 80),
    verdict: 'denied',
  },
  {
    name: 'IPv6, written uncompressed, admitted',
    flow: flow('fd00:1:0:0:0:0:0:11', 'fd00:1::10', 80),
    verdict: 'allowed',
  },
  { name: 'IPv6 from a remote pod, refused', flow: flow('fd00:2::10', 'fd00:1::10', 80), verdict: 'denied' },
  {
    name: 'UDP to a port the ingress policy gives to TCP only',
    flow: flow('10.0.1.11', '10.0.1.10', 80, 'UDP'),
    verdict: 'denied',
  },
  {
    name: 'a local pod not isolated either way',
    flow: flow('10.0.1.10', '10.0.1.11', 80),
    verdict: 'allowed',
  },
  {
    name: 'egress inside the ipBlock on UDP 53',
    flow: flow('10.0.1.12', '10.0.1.11', 53, 'UDP'),
    verdict: 'allowed',
  },
  {
    name: 'egress into the except of the ipBlock',
    flow: flow('10.0.1.12', '10.0.2.10', 53, 'UDP'),
    verdict: 'denied',
  },
  {
    name: 'egress to an outside address on UDP 53',
    flow: flow('10.0.1.12', '8.8.8.8', 53, 'UDP'),
    verdict: 'allowed',
  },
  { name: 'egress on TCP, not admitted', flow: flow('10.0.1.12', '8.8.8.8', 53), verdict: 'denied' },
  {
    name: 'the node to a pod (kubelet probe, OUTPUT): never ours',
    flow: flow('10.0.1.1', '10.0.1.10', 8080),
    verdict: 'not-ours',
  },
  {
    name: 'IPv6 node address to a pod: never ours',
    flow: flow('fd00:1::1', 'fd00:1::10', 8080),
    verdict: 'not-ours',
  },
  {
    name: 'a hostNetwork pod (the node address) to a pod: never ours',
    flow: flow('192.168.0.1', '10.0.1.10', 9),
    verdict: 'not-ours',
  },
  { name: 'remote to remote: never ours', flow: flow('10.0.2.10', '10.0.3.10', 80), verdict: 'not-ours' },
  {
    name: 'outside to a remote pod: never ours',
    flow: flow('8.8.8.8', '10.0.2.10', 80),
    verdict: 'not-ours',
  },
]

describe('judgeFlow', () => {
  it.each(cases)('$name: $verdict', ({ flow: f, verdict }) => {
    expect(judgeFlow(ev, nodeAddresses, f)).toBe(verdict)
  })

  it('a flow whose address is not an address is never ours', () => {
    expect(judgeFlow(ev, nodeAddresses, { ...flow('10.0.1.11', '10.0.1.10', 80), src: 'nonsense' })).toBe(
      'not-ours',
    )
  })
})
