/**
 * Peer matchers: one row per reading of a from/to element (docs/semantics.md, "Peers"), and canonical
 * keys: two peers share a key exactly when they match the same endpoints.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { randomCluster } from '../../src/gen/random-cluster.js'
import type { Pod, PolicyPeer } from '../../src/model/index.js'
import {
  ALL_PEERS,
  buildNamespaceIndex,
  matchPeer,
  matchPeerPod,
  type PeerMatcher,
  peerMatcher,
} from '../../src/semantics/index.js'
import { ns, pod, sel } from '../engine/build.js'

const namespaces = buildNamespaceIndex([ns('a', { team: 'a' }), ns('b', { team: 'b' })])
const web = pod('a/web', { app: 'web' }, ['10.0.1.10'])
const client = pod('b/client', { app: 'client' }, ['10.0.2.11'])
const host = pod('a/host', { app: 'web' }, ['10.0.1.99'], { hostNetwork: true })
const done = pod('a/done', { app: 'web' }, ['10.0.1.98'], { phase: 'Succeeded' })
const failed = pod('a/failed', { app: 'web' }, ['10.0.1.97'], { phase: 'Failed' })
const pending = pod('c/pending', { app: 'web' }, [])

interface Row {
  readonly name: string
  readonly peer: PolicyPeer
  readonly policyNamespace?: string
  readonly pod: Pod
  /** The address the connection uses on the pod's side; the pod's first address when absent. */
  readonly address?: string
  readonly matches: boolean
}

const rows: Row[] = [
  {
    name: 'podSelector alone selects pods of the policy namespace',
    peer: { podSelector: sel({ app: 'web' }) },
    pod: web,
    matches: true,
  },
  {
    name: 'podSelector alone never selects pods of another namespace',
    peer: { podSelector: sel({ app: 'client' }) },
    pod: client,
    matches: false,
  },
  {
    name: 'namespaceSelector alone selects every pod of the matching namespaces',
    peer: { namespaceSelector: sel({ team: 'b' }) },
    pod: client,
    matches: true,
  },
  {
    name: 'namespaceSelector and podSelector in one peer mean AND',
    peer: { namespaceSelector: sel({ team: 'b' }), podSelector: sel({ app: 'web' }) },
    pod: client,
    matches: false,
  },
  {
    name: 'every namespace carries its kubernetes.io/metadata.name label',
    peer: { namespaceSelector: sel({ 'kubernetes.io/metadata.name': 'b' }) },
    pod: client,
    matches: true,
  },
  {
    name: 'a namespace nobody declared still has its metadata.name label',
    peer: { namespaceSelector: sel({ 'kubernetes.io/metadata.name': 'c' }) },
    pod: pending,
    matches: true,
  },
  {
    name: 'a selector peer matches a pod without an address by its labels',
    peer: { namespaceSelector: sel() },
    pod: pending,
    matches: true,
  },
  {
    name: 'a selector peer never matches a hostNetwork pod',
    peer: { podSelector: sel() },
    pod: host,
    matches: false,
  },
  {
    name: 'a selector peer never matches a Succeeded pod',
    peer: { podSelector: sel() },
    pod: done,
    matches: false,
  },
  {
    name: 'a selector peer never matches a Failed pod',
    peer: { podSelector: sel() },
    pod: failed,
    matches: false,
  },
  {
    name: 'ipBlock matches the address a connection uses, pod or not',
    peer: { ipBlock: { cidr: '10.0.1.0/24', except: [] } },
    pod: web,
    matches: true,
  },
  {
    name: 'ipBlock matches a hostNetwork pod by its address',
    peer: { ipBlock: { cidr: '10.0.1.0/24', except: [] } },
    pod: host,
    matches: true,
  },
  {
    name: 'ipBlock except takes addresses out',
    peer: { ipBlock: { cidr: '10.0.1.0/24', except: ['10.0.1.8/29'] } },
    pod: web,
    matches: false,
  },
  {
    name: 'ipBlock with host bits set reads as its network',
    peer: { ipBlock: { cidr: '10.0.1.1/24', except: [] } },
    pod: web,
    matches: true,
  },
  {
    name: 'an IPv4 ipBlock never matches an IPv6 address',
    peer: { ipBlock: { cidr: '0.0.0.0/0', except: [] } },
    pod: web,
    address: 'fd00::1',
    matches: false,
  },
  {
    name: 'an invalid cidr matches nothing',
    peer: { ipBlock: { cidr: '10.0.1.0/33', except: [] } },
    pod: web,
    matches: false,
  },
  {
    name: 'ipBlock never matches a pod without an address',
    peer: { ipBlock: { cidr: '0.0.0.0/0', except: [] } },
    pod: pending,
    matches: false,
  },
]

describe('peer matchers', () => {
  it.each(rows)('$name', ({ peer, policyNamespace, pod, address, matches }) => {
    const m = peerMatcher(peer, policyNamespace ?? 'a')
    expect(matchPeer(namespaces, m, pod, address ?? pod.ips[0])).toBe(matches)
  })

  it('a rule without peers matches every pod and every address', () => {
    const m: PeerMatcher = ALL_PEERS
    expect(matchPeer(namespaces, m, undefined, '192.0.2.1')).toBe(true)
    expect(matchPeerPod(namespaces, m, host)).toBe(true)
  })

  it('lists pods an ipBlock covers by any of their addresses', () => {
    const dual = pod('a/dual', {}, ['fd00::5', '10.0.1.5'])
    const m = peerMatcher({ ipBlock: { cidr: '10.0.1.0/24', except: [] } }, 'a')
    expect(matchPeerPod(namespaces, m, dual)).toBe(true)
    expect(matchPeer(namespaces, m, dual, 'fd00::5')).toBe(false)
  })

  it('one peer object shared by policies of two namespaces reads each policy namespace', () => {
    const peer: PolicyPeer = { podSelector: sel({ app: 'web' }) }
    expect(matchPeer(namespaces, peerMatcher(peer, 'a'), web, undefined)).toBe(true)
    expect(matchPeer(namespaces, peerMatcher(peer, 'b'), web, undefined)).toBe(false)
    expect(peerMatcher(peer, 'a')).toBe(peerMatcher(peer, 'a'))
  })
})

describe('canonical keys', () => {
  const same: [string, PolicyPeer, PolicyPeer][] = [
    [
      'an absent podSelector and {} select the same pods',
      { namespaceSelector: sel() },
      { namespaceSelector: sel(), podSelector: sel() },
    ],
    [
      'matchLabels k=v is the requirement k In (v)',
      { podSelector: sel({ app: 'web' }) },
      { podSelector: sel({}, [{ key: 'app', operator: 'In', values: ['web'] }]) },
    ],
    [
      'the order of requirements and values does not matter',
      {
        podSelector: sel({}, [
          { key: 'a', operator: 'In', values: ['x', 'y'] },
          { key: 'b', operator: 'Exists', values: [] },
        ]),
      },
      {
        podSelector: sel({}, [
          { key: 'b', operator: 'Exists', values: [] },
          { key: 'a', operator: 'In', values: ['y', 'x', 'x'] },
        ]),
      },
    ],
    [
      'a cidr with host bits is its network',
      { ipBlock: { cidr: '10.0.0.1/8', except: [] } },
      { ipBlock: { cidr: '10.0.0.0/8', except: [] } },
    ],
    [
      'except order, duplicates and other-family excepts do not matter',
      { ipBlock: { cidr: '10.0.0.0/8', except: ['10.2.0.0/16', '10.1.0.0/16'] } },
      { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', 'fd00::/8', '10.2.0.0/16', '10.1.0.0/16'] } },
    ],
  ]
  it.each(same)('%s', (_name, a, b) => {
    expect(peerMatcher(a, 'a').key).toBe(peerMatcher(b, 'a').key)
  })

  const different: [string, PolicyPeer, string, PolicyPeer, string][] = [
    [
      'podSelector alone depends on the policy namespace',
      { podSelector: sel() },
      'a',
      { podSelector: sel() },
      'b',
    ],
    [
      'a namespaceSelector naming the policy namespace keeps a key of its own (set names stay stable)',
      { podSelector: sel() },
      'a',
      { namespaceSelector: sel({ 'kubernetes.io/metadata.name': 'a' }) },
      'a',
    ],
    [
      'excepts count',
      { ipBlock: { cidr: '10.0.0.0/8', except: [] } },
      'a',
      { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
      'a',
    ],
  ]
  it.each(different)('%s', (_name, a, nsA, b, nsB) => {
    expect(peerMatcher(a, nsA).key).not.toBe(peerMatcher(b, nsB).key)
  })
})

describe('canonical keys on random clusters', () => {
  it('peers with one key match the same pods and the same addresses', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (s) => {
        const cluster = randomCluster(s, { maxPods: 16, maxPolicies: 10, ipv6: true })
        const index = buildNamespaceIndex(cluster.namespaces)
        const byKey = new Map<string, PeerMatcher[]>()
        for (const pol of cluster.policies)
          for (const rule of [...pol.ingress, ...pol.egress])
            for (const peer of rule.peers ?? []) {
              const m = peerMatcher(peer, pol.namespace)
              byKey.set(m.key, [...(byKey.get(m.key) ?? []), m])
            }
        const addresses = [...cluster.pods.flatMap((p) => p.ips), '10.240.1.1', 'fd00:240:1::9', '192.0.2.1']
        for (const group of byKey.values()) {
          const [first, ...rest] = group as [PeerMatcher, ...PeerMatcher[]]
          for (const other of rest) {
            for (const pod of cluster.pods)
              expect(matchPeer(index, other, pod, undefined)).toBe(matchPeer(index, first, pod, undefined))
            for (const a of addresses)
              expect(matchPeer(index, other, undefined, a)).toBe(matchPeer(index, first, undefined, a))
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})
