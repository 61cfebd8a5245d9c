/**
 * Hand-written NodeIR values for the iptables renderer: every IR feature at least once, independent of the
 * node compiler (the shared cluster fixtures in test/compile/fixtures.ts cover compiler + renderer together).
 */
import type { IRChain, IRLocalPod, IRSet, NodeIR } from '../../../src/compile/ir.js'

const ref = (namespace: string, name: string) => ({ namespace, name, defaultDenyAnnotation: false })

/** The verified proof-of-concept node1 (dataplane-poc/policies.json): db and api ingress, client-a egress. */
export const pocNode1: NodeIR = {
  node: 'node1',
  families: [4],
  antiSpoofing: false,
  diagnostics: [],
  sets: [
    {
      kind: 'addresses',
      id: 'ipb4_dev_client-egress_e0p0',
      family: 4,
      origin: { kind: 'ipBlock', cidr: '10.240.0.0/16', except: ['10.240.2.0/28'] },
      elements: [
        '10.240.0.0/23',
        '10.240.2.16/28',
        '10.240.2.32/27',
        '10.240.2.64/26',
        '10.240.2.128/25',
        '10.240.3.0/24',
        '10.240.4.0/22',
        '10.240.8.0/21',
        '10.240.16.0/20',
        '10.240.32.0/19',
        '10.240.64.0/18',
        '10.240.128.0/17',
      ],
      interval: true,
      usedBy: ['dev/client-egress'],
    },
    {
      kind: 'addresses',
      id: 'pods4_frontend',
      family: 4,
      origin: { kind: 'pods', namespaceSelector: '', podSelector: 'role=frontend' },
      elements: ['10.240.1.12', '10.240.1.13', '10.240.2.11'],
      interval: false,
      usedBy: ['prod/allow-frontend-to-db'],
    },
  ],
  chains: [
    {
      id: 'pol_dev_client-egress_eg',
      policy: ref('dev', 'client-egress'),
      direction: 'Egress',
      rules: [{ rule: 0, peer: 0, family: 4, peerSet: 'ipb4_dev_client-egress_e0p0' }],
    },
    {
      id: 'pol_prod_allow-frontend-to-db_in',
      policy: ref('prod', 'allow-frontend-to-db'),
      direction: 'Ingress',
      rules: [
        {
          rule: 0,
          peer: 0,
          ports: [0],
          family: 4,
          peerSet: 'pods4_frontend',
          port: { kind: 'ports', protocol: 'TCP', ranges: [{ from: 80, to: 80 }] },
        },
      ],
    },
    {
      id: 'pol_prod_default-deny-ingress_in',
      policy: ref('prod', 'default-deny-ingress'),
      direction: 'Ingress',
      rules: [],
    },
  ],
  pods: [
    {
      namespace: 'dev',
      name: 'client-a',
      ips: [{ family: 4, address: '10.240.1.13' }],
      egress: { chain: 'eg_dev_client-a', policies: ['pol_dev_client-egress_eg'] },
    },
    {
      namespace: 'prod',
      name: 'api',
      ips: [{ family: 4, address: '10.240.1.12' }],
      ingress: { chain: 'in_prod_api', policies: ['pol_prod_default-deny-ingress_in'] },
    },
    {
      namespace: 'prod',
      name: 'db',
      ips: [{ family: 4, address: '10.240.1.11' }],
      ingress: {
        chain: 'in_prod_db',
        policies: ['pol_prod_allow-frontend-to-db_in', 'pol_prod_default-deny-ingress_in'],
      },
    },
  ],
}

const longNs = 'a-namespace-with-a-rather-long-name'
const longPod = 'payments-api-7d9f8b6c5d-x2x9q'

const dualSets: IRSet[] = [
  {
    kind: 'addresses',
    id: 'ipb4_shop_web_e1p0',
    family: 4,
    origin: { kind: 'ipBlock', cidr: '0.0.0.0/0', except: [] },
    elements: ['0.0.0.0/0'],
    interval: true,
    usedBy: ['shop/web'],
  },
  {
    kind: 'addresses',
    id: 'ipb6_shop_web_e1p1',
    family: 6,
    origin: { kind: 'ipBlock', cidr: '::/0', except: [] },
    elements: ['::/0'],
    interval: true,
    usedBy: ['shop/web'],
  },
  {
    kind: 'named-port',
    id: 'np4_tcp_http-metrics',
    family: 4,
    protocol: 'TCP',
    portName: 'http-metrics',
    elements: [
      { address: '10.1.0.5', port: 9090 },
      { address: '10.1.0.7', port: 9100 },
    ],
    usedBy: ['shop/web'],
  },
  {
    kind: 'named-port',
    id: 'np6_tcp_http-metrics',
    family: 6,
    protocol: 'TCP',
    portName: 'http-metrics',
    elements: [{ address: 'fd00::5', port: 9090 }],
    usedBy: ['shop/web'],
  },
  {
    kind: 'addresses',
    id: `pods4_${longNs}_every-pod-of-the-namespace`,
    family: 4,
    origin: { kind: 'pods', namespace: longNs, podSelector: '' },
    elements: ['10.1.0.5', '10.1.0.9'],
    interval: false,
    usedBy: ['shop/web'],
  },
  {
    kind: 'addresses',
    id: `pods6_${longNs}_every-pod-of-the-namespace`,
    family: 6,
    origin: { kind: 'pods', namespace: longNs, podSelector: '' },
    elements: ['fd00::5'],
    interval: false,
    usedBy: ['shop/web'],
  },
  {
    kind: 'addresses',
    id: 'pods4_empty',
    family: 4,
    origin: { kind: 'pods', namespace: 'shop', podSelector: 'app=nothing' },
    elements: [],
    interval: false,
    usedBy: ['shop/web'],
  },
]

const dualChains: IRChain[] = [
  {
    id: 'pol_shop_web_eg',
    policy: ref('shop', 'web'),
    direction: 'Egress',
    rules: [
      // rule 0: DNS over UDP and TCP to anyone (no peers): both families, no address match
      { rule: 0, ports: [0], port: { kind: 'ports', protocol: 'UDP', ranges: [{ from: 53, to: 53 }] } },
      { rule: 0, ports: [1], port: { kind: 'ports', protocol: 'TCP', ranges: [{ from: 53, to: 53 }] } },
      // rule 1: 0.0.0.0/0 and ::/0 on a port range and a list of ports
      {
        rule: 1,
        peer: 0,
        ports: [0, 1, 2],
        family: 4,
        peerSet: 'ipb4_shop_web_e1p0',
        port: {
          kind: 'ports',
          protocol: 'TCP',
          ranges: [
            { from: 443, to: 443 },
            { from: 8000, to: 8100 },
            { from: 9443, to: 9443 },
          ],
        },
      },
      {
        rule: 1,
        peer: 1,
        ports: [0],
        family: 6,
        peerSet: 'ipb6_shop_web_e1p1',
        port: { kind: 'ports', protocol: 'TCP', ranges: [{ from: 443, to: 443 }] },
      },
      // rule 2: SCTP, every port of the protocol
      { rule: 2, ports: [0], port: { kind: 'ports', protocol: 'SCTP', ranges: [] } },
      // rule 3: a named port towards the long namespace
      {
        rule: 3,
        peer: 0,
        ports: [0],
        family: 4,
        peerSet: `pods4_${longNs}_every-pod-of-the-namespace`,
        port: { kind: 'named', protocol: 'TCP', portName: 'http-metrics', set: 'np4_tcp_http-metrics' },
      },
      {
        rule: 3,
        peer: 0,
        ports: [0],
        family: 6,
        peerSet: `pods6_${longNs}_every-pod-of-the-namespace`,
        port: { kind: 'named', protocol: 'TCP', portName: 'http-metrics', set: 'np6_tcp_http-metrics' },
      },
      // rule 4: a peer that matches no pod today
      { rule: 4, peer: 0, family: 4, peerSet: 'pods4_empty' },
    ],
  },
  {
    id: 'pol_shop_web_in',
    policy: ref('shop', 'web'),
    direction: 'Ingress',
    rules: [
      // rule 0: 17 single ports: more than one multiport rule holds (15 slots each)
      {
        rule: 0,
        ports: [0],
        port: {
          kind: 'ports',
          protocol: 'TCP',
          ranges: Array.from({ length: 17 }, (_, i) => ({ from: 7000 + 2 * i, to: 7000 + 2 * i })),
        },
      },
      // rule 1: everything from everyone (an empty rule)
      { rule: 1 },
    ],
  },
  {
    id: `pol_${longNs}_deny-all-egress-and-ingress_eg`,
    policy: { namespace: longNs, name: '~default-deny-annotation', defaultDenyAnnotation: true },
    direction: 'Egress',
    rules: [],
  },
]

const dualPods: IRLocalPod[] = [
  {
    namespace: longNs,
    name: longPod,
    ips: [
      { family: 4, address: '10.1.0.5' },
      { family: 6, address: 'fd00::5' },
    ],
    interface: 'v-payments',
    egress: { chain: `eg_${longNs}_${longPod}`, policies: [`pol_${longNs}_deny-all-egress-and-ingress_eg`] },
  },
  {
    namespace: 'shop',
    name: 'web-0',
    ips: [
      { family: 4, address: '10.1.0.7' },
      { family: 6, address: 'fd00::7' },
    ],
    interface: 'v-web-0',
    ingress: { chain: 'in_shop_web-0', policies: ['pol_shop_web_in'] },
    egress: { chain: 'eg_shop_web-0', policies: ['pol_shop_web_eg'] },
  },
  {
    namespace: 'shop',
    name: 'not-isolated',
    ips: [{ family: 4, address: '10.1.0.8' }],
    interface: 'v-open',
  },
]

/** A dual-stack node: ranges, multiport split, SCTP, named ports, /0 blocks, long names, anti-spoofing. */
export const dualStack: NodeIR = {
  node: 'node-a',
  families: [4, 6],
  antiSpoofing: true,
  diagnostics: [],
  sets: [...dualSets].sort((a, b) => (a.id < b.id ? -1 : 1)),
  chains: dualChains,
  pods: [...dualPods].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)),
}

/** A node with no pods and no policies: only the skeleton. */
export const emptyNode: NodeIR = {
  node: 'node-empty',
  families: [],
  antiSpoofing: false,
  diagnostics: [],
  sets: [],
  chains: [],
  pods: [],
}

export const irCases: readonly { readonly name: string; readonly ir: NodeIR }[] = [
  { name: 'poc', ir: pocNode1 },
  { name: 'dual-stack', ir: dualStack },
  { name: 'empty', ir: emptyNode },
]
