import { describe, expect, it } from 'vitest'
import { buildIndex, type Endpoint, evaluate, type PortQuery, parsePortSpec } from '../../src/engine/index.js'
import { renderVerdict } from '../../src/explain/index.js'
import type { ClusterState, Pod } from '../../src/model/index.js'
import { ns, pod, policy, sel } from '../fixtures.js'
import { expectGolden } from '../golden.js'

/** Where the namespaces of these tests were written (explain names it). */
const NS = { source: { file: 'namespaces.yaml', line: 1 } }

/** Seed 001's "testing" namespace: deny-all, myapp admits nginx on 80 and kube-system; nginx admits all on 80. */
const nginx = pod('testing/nginx', { app: 'nginx' }, '10.244.1.2', {
  ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
  source: { file: 'pods.yaml', line: 1 },
})
const myapp = pod('testing/myapp', { app: 'myapp' }, '10.244.1.3', {
  ports: [{ containerPort: 80, protocol: 'TCP' }],
  source: { file: 'pods.yaml', line: 20 },
})
const debug = pod('default/debug', { run: 'debug' }, '10.244.2.9', {
  source: { file: 'pods.yaml', line: 40 },
})
const cluster: ClusterState = {
  namespaces: [ns('testing', {}, NS), ns('default', {}, NS), ns('kube-system', { ns: 'kube-system' }, NS)],
  pods: [nginx, myapp, debug],
  policies: [
    policy('testing/testing-default', sel(), {
      types: ['Ingress', 'Egress'],
      source: { file: 'policies.yaml', line: 1 },
    }),
    policy('testing/myapp-policy', sel({ app: 'myapp' }), {
      types: ['Ingress', 'Egress'],
      ingress: [
        { peers: [{ podSelector: sel({ app: 'nginx' }) }], ports: [{ protocol: 'TCP', port: 80 }] },
        { peers: [{ namespaceSelector: sel({ ns: 'kube-system' }) }] },
      ],
      egress: [
        { peers: [{ podSelector: sel({ app: 'nginx' }) }] },
        { peers: [{ namespaceSelector: sel({ ns: 'kube-system' }) }] },
      ],
      source: { file: 'policies.yaml', line: 20 },
    }),
    policy('testing/nginx-policy', sel({ app: 'nginx' }), {
      types: ['Ingress', 'Egress'],
      ingress: [{ ports: [{ protocol: 'TCP', port: 80 }] }],
      egress: [{}],
      source: { file: 'policies.yaml', line: 60 },
    }),
  ],
}
const index = buildIndex(cluster)
const P = (s: string): PortQuery => parsePortSpec(s) as PortQuery
const ep = (p: Pod): Endpoint => ({ kind: 'pod', pod: p })

const cases: {
  name: string
  golden: string
  src: Endpoint
  dst: Endpoint
  srcName: string
  dstName: string
  port: string
  allowed: boolean
}[] = [
  {
    name: 'nginx reaches myapp on 80: allowed by a rule on both sides',
    golden: 'nginx-to-myapp-80',
    src: ep(nginx),
    dst: ep(myapp),
    srcName: 'testing/nginx',
    dstName: 'testing/myapp',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'myapp may not send to debug: egress names the isolating policies',
    golden: 'myapp-to-debug-80',
    src: ep(myapp),
    dst: ep(debug),
    srcName: 'testing/myapp',
    dstName: 'default/debug',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'debug reaches nginx on 80: source not isolated',
    golden: 'debug-to-nginx-80',
    src: ep(debug),
    dst: ep(nginx),
    srcName: 'default/debug',
    dstName: 'testing/nginx',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: 'debug to nginx on 81 is denied at ingress',
    golden: 'debug-to-nginx-81',
    src: ep(debug),
    dst: ep(nginx),
    srcName: 'default/debug',
    dstName: 'testing/nginx',
    port: '81/TCP',
    allowed: false,
  },
  {
    name: 'a pod reaching itself is loopback',
    golden: 'myapp-to-myapp',
    src: ep(myapp),
    dst: ep(myapp),
    srcName: 'testing/myapp',
    dstName: 'testing/myapp',
    port: '9/UDP',
    allowed: true,
  },
  {
    name: 'an outside address has no policy on its side',
    golden: 'outside-to-nginx-80',
    src: { kind: 'ip', ip: '192.0.2.1' },
    dst: ep(nginx),
    srcName: '192.0.2.1',
    dstName: 'testing/nginx',
    port: '80/TCP',
    allowed: true,
  },
]

describe('renderVerdict', () => {
  it.each(cases)('$name', async ({ golden, src, dst, srcName, dstName, port, allowed }) => {
    const v = evaluate(index, src, dst, P(port))
    expect(v.allowed).toBe(allowed)
    const text = renderVerdict(v, srcName, dstName, port)
    expect(text.split('\n')[0]).toContain(allowed ? 'ALLOWED' : 'DENIED')
    await expectGolden(`explain/verdict/${golden}.txt`, text)
  })
})
