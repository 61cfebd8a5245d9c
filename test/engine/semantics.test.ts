/**
 * One row per rule of the NetworkPolicy API (https://kubernetes.io/docs/concepts/services-networking/network-policies/)
 * and per deliberate choice in docs/semantics.md. Each row builds a small cluster and asks one question.
 */
import { describe, expect, it } from 'vitest'
import {
  buildIndex,
  type Endpoint,
  evaluate,
  type PortQuery,
  parsePortSpec,
  resolveEndpoint,
} from '../../src/engine/index.js'
import type { ClusterState, NetworkPolicy, Pod } from '../../src/model/index.js'
import { cluster, ns, pod, policy, rule, sel } from './build.js'

const namespaces = [ns('a', { team: 'a' }), ns('b', { team: 'b' })]
const pods: Pod[] = [
  pod('a/web', { app: 'web' }, ['10.0.1.10']),
  pod('a/db', { app: 'db' }, ['10.0.1.11']),
  pod('a/client', { app: 'client' }, ['10.0.2.10'], { nodeName: 'node-2' }),
  pod('b/client', { app: 'client' }, ['10.0.2.11'], { nodeName: 'node-2' }),
  pod('b/other', { app: 'other', tier: 'x' }, ['10.0.2.12']),
  pod('a/host', { app: 'host' }, ['192.168.0.1'], { hostNetwork: true }),
  pod('a/v6', { app: 'v6' }, ['fd00::10']),
]

interface Row {
  readonly name: string
  readonly policies: NetworkPolicy[]
  readonly from: string
  readonly to: string
  readonly port: string
  readonly allowed: boolean
  readonly rules?: string[]
}

const denyIngressA = policy('a/deny', sel(), { types: ['Ingress'] })
const denyEgressA = policy('a/deny-egress', sel(), { types: ['Egress'] })

const rows: Row[] = [
  {
    name: 'a pod no policy selects allows everything',
    policies: [],
    from: 'b/client',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'a policy with no ingress rules isolates and denies all ingress',
    policies: [denyIngressA],
    from: 'b/client',
    to: 'a/web',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'ingress isolation does not restrict egress of the same pod',
    policies: [denyIngressA],
    from: 'a/web',
    to: 'b/client',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'egress isolation denies egress with no egress rules',
    policies: [denyEgressA],
    from: 'a/web',
    to: 'b/client',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'egress isolation of the source blocks even when the destination admits',
    policies: [denyEgressA, policy('b/allow', sel(), { ingress: [rule()] })],
    from: 'a/client',
    to: 'b/client',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'an empty rule ({}) admits every source and port',
    policies: [policy('a/all', sel(), { ingress: [rule()] })],
    from: 'b/client',
    to: 'a/web',
    port: '9999/UDP',
    allowed: true,
    rules: ['a/all ingress[0]'],
  },
  {
    name: 'policies are a union: one allowing policy is enough',
    policies: [
      denyIngressA,
      policy('a/allow-client', sel({ app: 'web' }), {
        ingress: [rule([{ podSelector: sel({ app: 'client' }) }])],
      }),
    ],
    from: 'a/client',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
    rules: ['a/allow-client ingress[0]'],
  },
  {
    name: 'podSelector alone in a peer means pods of the policy namespace only',
    policies: [
      policy('a/p', sel({ app: 'web' }), { ingress: [rule([{ podSelector: sel({ app: 'client' }) }])] }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'namespaceSelector alone admits every pod of matching namespaces',
    policies: [
      policy('a/p', sel({ app: 'web' }), { ingress: [rule([{ namespaceSelector: sel({ team: 'b' }) }])] }),
    ],
    from: 'b/other',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'namespaceSelector and podSelector in one peer mean AND (wrong pod)',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [rule([{ namespaceSelector: sel({ team: 'b' }), podSelector: sel({ app: 'client' }) }])],
      }),
    ],
    from: 'b/other',
    to: 'a/web',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'namespaceSelector and podSelector in one peer mean AND (right pod)',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [rule([{ namespaceSelector: sel({ team: 'b' }), podSelector: sel({ app: 'client' }) }])],
      }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'two separate peers mean OR',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [rule([{ namespaceSelector: sel({ team: 'b' }) }, { podSelector: sel({ app: 'client' }) }])],
      }),
    ],
    from: 'b/other',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'empty namespaceSelector selects pods of every namespace',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [rule([{ namespaceSelector: sel(), podSelector: sel({ app: 'client' }) }])],
      }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'kubernetes.io/metadata.name selects a namespace by name',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [rule([{ namespaceSelector: sel({ 'kubernetes.io/metadata.name': 'b' }) }])],
      }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'matchExpressions NotIn matches pods without the key',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [
          rule([
            {
              namespaceSelector: sel(),
              podSelector: sel({}, [{ key: 'tier', operator: 'NotIn', values: ['x'] }]),
            },
          ]),
        ],
      }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'matchExpressions NotIn excludes pods with a listed value',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [
          rule([
            {
              namespaceSelector: sel(),
              podSelector: sel({}, [{ key: 'tier', operator: 'NotIn', values: ['x'] }]),
            },
          ]),
        ],
      }),
    ],
    from: 'b/other',
    to: 'a/web',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'matchExpressions Exists',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [
          rule([
            {
              namespaceSelector: sel(),
              podSelector: sel({}, [{ key: 'tier', operator: 'Exists', values: [] }]),
            },
          ]),
        ],
      }),
    ],
    from: 'b/other',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'matchExpressions DoesNotExist',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [
          rule([
            {
              namespaceSelector: sel(),
              podSelector: sel({}, [{ key: 'tier', operator: 'DoesNotExist', values: [] }]),
            },
          ]),
        ],
      }),
    ],
    from: 'b/other',
    to: 'a/web',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'ports restrict a rule: another port is denied',
    policies: [
      policy('a/p', sel({ app: 'web' }), { ingress: [rule(undefined, [{ protocol: 'TCP', port: 80 }])] }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '81/TCP',
    allowed: false,
  },
  {
    name: 'a port without protocol-match is denied (UDP 80 vs TCP 80)',
    policies: [
      policy('a/p', sel({ app: 'web' }), { ingress: [rule(undefined, [{ protocol: 'TCP', port: 80 }])] }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '80/UDP',
    allowed: false,
  },
  {
    name: 'a port entry without port admits every port of its protocol',
    policies: [policy('a/p', sel({ app: 'web' }), { ingress: [rule(undefined, [{ protocol: 'SCTP' }])] })],
    from: 'b/client',
    to: 'a/web',
    port: '3868/SCTP',
    allowed: true,
  },
  {
    name: 'endPort makes an inclusive range (upper bound)',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [rule(undefined, [{ protocol: 'TCP', port: 8000, endPort: 8080 }])],
      }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '8080/TCP',
    allowed: true,
  },
  {
    name: 'endPort range excludes the next port',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [rule(undefined, [{ protocol: 'TCP', port: 8000, endPort: 8080 }])],
      }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '8081/TCP',
    allowed: false,
  },
  {
    name: 'a named ingress port resolves on the destination pod',
    policies: [
      policy('a/p', sel({ app: 'web' }), { ingress: [rule(undefined, [{ protocol: 'TCP', port: 'http' }])] }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'a named port does not match another number',
    policies: [
      policy('a/p', sel({ app: 'web' }), { ingress: [rule(undefined, [{ protocol: 'TCP', port: 'http' }])] }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '8080/TCP',
    allowed: false,
  },
  {
    name: 'a named port needs the same protocol on the container port',
    policies: [
      policy('a/p', sel({ app: 'web' }), { ingress: [rule(undefined, [{ protocol: 'TCP', port: 'dns' }])] }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '53/TCP',
    allowed: false,
  },
  {
    name: 'a named egress port resolves on the destination pod',
    policies: [
      policy('b/p', sel({ app: 'client' }), {
        types: ['Egress'],
        egress: [rule(undefined, [{ protocol: 'UDP', port: 'dns' }])],
      }),
    ],
    from: 'b/client',
    to: 'a/db',
    port: '53/UDP',
    allowed: true,
  },
  {
    name: 'a named egress port never matches an outside address',
    policies: [
      policy('b/p', sel({ app: 'client' }), {
        types: ['Egress'],
        egress: [rule(undefined, [{ protocol: 'UDP', port: 'dns' }])],
      }),
    ],
    from: 'b/client',
    to: '8.8.8.8',
    port: '53/UDP',
    allowed: false,
  },
  {
    name: 'ipBlock admits an outside address inside cidr',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [rule([{ ipBlock: { cidr: '172.16.0.0/16', except: ['172.16.8.0/24'] } }])],
      }),
    ],
    from: '172.16.4.8',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'ipBlock except removes a range',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [rule([{ ipBlock: { cidr: '172.16.0.0/16', except: ['172.16.8.0/24'] } }])],
      }),
    ],
    from: '172.16.8.9',
    to: 'a/web',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'ipBlock matches pod addresses too (docs/semantics.md)',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [rule([{ ipBlock: { cidr: '10.0.2.0/24', except: [] } }])],
      }),
    ],
    from: 'b/client',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'an IPv4 ipBlock never matches an IPv6 address',
    policies: [
      policy('a/p', sel({ app: 'web' }), {
        ingress: [rule([{ ipBlock: { cidr: '0.0.0.0/0', except: [] } }])],
      }),
    ],
    from: 'fd00::99',
    to: 'a/web',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'egress to an outside CIDR (seed 002 case 4)',
    policies: [
      policy('a/p', sel(), {
        types: ['Egress'],
        egress: [
          rule([{ ipBlock: { cidr: '14.215.0.0/16', except: [] } }], [{ protocol: 'TCP', port: 5978 }]),
        ],
      }),
    ],
    from: 'a/web',
    to: '14.215.3.4',
    port: '5978/TCP',
    allowed: true,
  },
  {
    name: 'egress elsewhere is denied by the same policy',
    policies: [
      policy('a/p', sel(), {
        types: ['Egress'],
        egress: [
          rule([{ ipBlock: { cidr: '14.215.0.0/16', except: [] } }], [{ protocol: 'TCP', port: 5978 }]),
        ],
      }),
    ],
    from: 'a/web',
    to: '1.1.1.1',
    port: '5978/TCP',
    allowed: false,
  },
  {
    name: 'a pod always reaches itself (loopback)',
    policies: [denyIngressA, denyEgressA],
    from: 'a/web',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'a node always reaches its own pods (kubelet probes)',
    policies: [denyIngressA],
    from: 'node/node-1',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'another node is an outside address for an isolated pod',
    policies: [denyIngressA],
    from: 'node/node-2=10.9.0.2',
    to: 'a/web',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'a hostNetwork pod is never selected by a policy',
    policies: [denyIngressA],
    from: 'b/client',
    to: 'a/host',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'a hostNetwork pod on another node is denied by podSelector-only rules',
    policies: [policy('a/p', sel({ app: 'client' }), { ingress: [rule([{ podSelector: sel() }])] })],
    from: 'a/host',
    to: 'a/client',
    port: '80/TCP',
    allowed: false,
  },
  {
    // The compiler's named-port sets hold policy endpoints only: a hostNetwork pod's ports are its node's.
    name: 'a named egress port never resolves on a hostNetwork destination',
    policies: [
      policy('b/p', sel({ app: 'client' }), {
        types: ['Egress'],
        egress: [rule(undefined, [{ protocol: 'TCP', port: 'http' }])],
      }),
    ],
    from: 'b/client',
    to: 'a/host',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'a hostNetwork pod on the same node counts as the node',
    policies: [denyIngressA],
    from: 'a/host',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'policyTypes Egress only leaves ingress open',
    policies: [policy('a/p', sel({ app: 'web' }), { types: ['Egress'] })],
    from: 'b/client',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'a policy of another namespace does not select',
    policies: [policy('b/deny', sel(), { types: ['Ingress'] })],
    from: 'b/client',
    to: 'a/web',
    port: '80/TCP',
    allowed: true,
  },
]

const run = (c: ClusterState, from: string, to: string, port: string) => {
  const index = buildIndex(c)
  const src = resolveEndpoint(index, from)
  const dst = resolveEndpoint(index, to)
  const q = parsePortSpec(port)
  if (typeof src === 'string' || typeof dst === 'string' || typeof q === 'string')
    throw new Error(`bad row: ${String(src)} ${String(dst)} ${String(q)}`)
  return evaluate(index, src as Endpoint, dst as Endpoint, q as PortQuery)
}

describe('NetworkPolicy semantics', () => {
  it.each(rows)('$name', ({ policies, from, to, port, allowed, rules }) => {
    const v = run(cluster(namespaces, pods, policies), from, to, port)
    expect(v.allowed).toBe(allowed)
    if (rules)
      expect(
        [...v.egress.allowedBy, ...v.ingress.allowedBy].map(
          (r) => `${r.policy} ${r.direction.toLowerCase()}[${r.rule}]`,
        ),
      ).toEqual(rules)
  })

  it('a verdict names every admitting rule, not only the first', () => {
    const v = run(
      cluster(namespaces, pods, [
        policy('a/one', sel({ app: 'web' }), {
          ingress: [rule(), rule(undefined, [{ protocol: 'TCP', port: 80 }])],
        }),
        policy('a/two', sel(), { ingress: [rule()] }),
      ]),
      'b/client',
      'a/web',
      '80/TCP',
    )
    expect(v.ingress.allowedBy.map((r) => `${r.policy}[${r.rule}]`)).toEqual([
      'a/one[0]',
      'a/one[1]',
      'a/two[0]',
    ])
    expect(v.ingress.selectedBy.map((r) => r.policy)).toEqual(['a/one', 'a/two'])
  })
})

describe('port specs', () => {
  it.each([
    ['80/TCP', { port: 80, protocol: 'TCP' }],
    ['53/udp', { port: 53, protocol: 'UDP' }],
    ['SCTP/3868', { port: 3868, protocol: 'SCTP' }],
    ['8080', { port: 8080, protocol: 'TCP' }],
  ])('%s parses', (text, want) => expect(parsePortSpec(text)).toEqual(want))
  it.each(['0/TCP', '65536', 'http', '80/ICMP', ''])('%s is rejected', (text) =>
    expect(typeof parsePortSpec(text)).toBe('string'),
  )
})
