/**
 * The port dispatches as the kernel gets them (docs/dataplane.md#port-dispatch): a server selected by
 * Admin and Baseline ClusterNetworkPolicies and NetworkPolicies, most of them for their own ports, a few
 * for every port or a named port. Goldens under test/golden/compile/{nftables,iptables}/dispatch-*
 * (the nftables one is checked by `nft -c` in nftables-kernel-check.test.ts, which reads the folder);
 * the iptables one here by `ipset restore` and `iptables-restore --test` with both variants. The rulesets
 * decide every pair and port like the engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileNode } from '../../src/backends/index.js'
import { buildIndex, evaluate } from '../../src/engine/index.js'
import type {
  ClusterNetworkPolicy,
  ClusterPolicyRule,
  ClusterState,
  LabelSelector,
  NetworkPolicy,
  Pod,
  Protocol,
} from '../../src/model/index.js'
import { compareClusterPolicies } from '../../src/model/index.js'
import { createNetns, removeNetns, sh } from '../backends/iptables/netns.js'
import { IMPLEMENTATIONS } from '../conformance/implementations.js'
import { expectGolden } from '../golden.js'
import { kernelSkipReason } from './netns.js'

const sel = (matchLabels: Record<string, string>): LabelSelector => ({ matchLabels, matchExpressions: [] })
const pod = (name: string, ip: string, labels: Record<string, string>): Pod => ({
  namespace: 'shop',
  name,
  labels,
  ips: [ip],
  ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
  nodeName: 'node-1',
  hostNetwork: false,
})
const peer = (role: string) =>
  ({ kind: 'pods', namespaceSelector: sel({}), podSelector: sel({ role }) }) as const
const cnp = (
  name: string,
  tier: 'Admin' | 'Baseline',
  priority: number,
  ingress: ClusterPolicyRule[],
): ClusterNetworkPolicy => ({
  name,
  apiVersion: 'policy.networking.k8s.io/v1beta1',
  tier,
  priority,
  subject: { kind: 'pods', namespaceSelector: sel({}), podSelector: sel({ app: 'server' }) },
  ingress,
  egress: [],
})
const tcpPort = (port: number, endPort?: number) =>
  ({ kind: 'port', protocol: 'TCP', port, ...(endPort !== undefined ? { endPort } : {}) }) as const
const np = (name: string, role: string, ports: NetworkPolicy['ingress'][number]['ports']): NetworkPolicy => ({
  namespace: 'shop',
  name,
  origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
  podSelector: sel({ app: 'server' }),
  policyTypes: ['Ingress'],
  ingress: [{ peers: [{ podSelector: sel({ role }) }], ...(ports ? { ports } : {}) }],
  egress: [],
})

const DISPATCH_CLUSTER: ClusterState = {
  namespaces: [
    {
      name: 'shop',
      labels: { 'kubernetes.io/metadata.name': 'shop' },
      declared: true,
      defaultDenyIngress: false,
    },
  ],
  pods: [
    pod('server', '10.240.1.10', { app: 'server' }),
    pod('web', '10.240.1.11', { role: 'web' }),
    pod('ops', '10.240.1.12', { role: 'ops' }),
    pod('batch', '10.240.1.13', { role: 'batch' }),
  ],
  policies: [
    np('web-80', 'web', [{ protocol: 'TCP', port: 80 }]),
    np('ops-range', 'ops', [{ protocol: 'TCP', port: 80, endPort: 90 }]),
    np('batch-dns', 'batch', [{ protocol: 'UDP', port: 53 }]),
    np('ops-http', 'ops', [{ protocol: 'TCP', port: 'http' }]),
  ],
  nodes: [],
  clusterPolicies: [
    cnp('deny-batch-80', 'Admin', 10, [{ action: 'Deny', peers: [peer('batch')], ports: [tcpPort(80)] }]),
    cnp('pass-ops', 'Admin', 20, [{ action: 'Pass', peers: [peer('ops')], ports: [tcpPort(80, 90)] }]),
    cnp('accept-web-81', 'Admin', 30, [{ action: 'Accept', peers: [peer('web')], ports: [tcpPort(81)] }]),
    cnp('deny-batch-all', 'Admin', 40, [{ action: 'Deny', peers: [peer('batch')] }]),
    cnp('accept-ops-85', 'Admin', 50, [{ action: 'Accept', peers: [peer('ops')], ports: [tcpPort(85)] }]),
    cnp('baseline-a', 'Baseline', 10, [{ action: 'Deny', peers: [peer('web')], ports: [tcpPort(80)] }]),
    cnp('baseline-b', 'Baseline', 20, [{ action: 'Accept', peers: [peer('web')], ports: [tcpPort(443)] }]),
  ].sort(compareClusterPolicies),
}

describe('port dispatch goldens', () => {
  it('nftables', async () => {
    const r = compileNode(DISPATCH_CLUSTER, 'node-1', 'nftables')
    expect(r.value.files['palisade.nft']).toContain('tdisp_')
    await expectGolden('compile/nftables/dispatch.node-1.nft', r.value.files['palisade.nft'] ?? '')
  })

  it('iptables', async () => {
    const r = compileNode(DISPATCH_CLUSTER, 'node-1', 'iptables')
    expect(r.value.files['iptables.rules']).toContain('Admin tier dispatch')
    expect(r.value.files['iptables.rules']).toContain('NetworkPolicy dispatch')
    await expectGolden('compile/iptables/dispatch.node-1.rules', r.value.files['iptables.rules'] ?? '')
  })

  it('the rulesets decide every pair and port like the engine', () => {
    const index = buildIndex(DISPATCH_CLUSTER)
    const impls = IMPLEMENTATIONS.map((i) => ({ name: i.name, decide: i.prepare(DISPATCH_CLUSTER) }))
    const wrong: string[] = []
    let allowed = 0
    let denied = 0
    for (const a of DISPATCH_CLUSTER.pods)
      for (const b of DISPATCH_CLUSTER.pods) {
        if (a === b) continue
        for (const protocol of ['TCP', 'UDP'] as Protocol[])
          for (const port of [53, 79, 80, 81, 84, 85, 86, 90, 91, 443, 8080]) {
            const q = { port, protocol }
            const expected = evaluate(index, { kind: 'pod', pod: a }, { kind: 'pod', pod: b }, q).allowed
            if (expected) allowed++
            else denied++
            for (const i of impls)
              if (i.decide(a, b, q) !== expected)
                wrong.push(`${a.name} -> ${b.name} ${port}/${protocol}: ${i.name}`)
          }
      }
    expect(wrong).toEqual([])
    expect(allowed).toBeGreaterThan(0)
    expect(denied).toBeGreaterThan(0)
  })
})

const skip = await kernelSkipReason()
describe.skipIf(skip !== undefined)('the port dispatch loads into the real iptables tools', () => {
  let netns = ''
  beforeAll(async () => {
    netns = await createNetns('disp-ipt')
  }, 30_000)
  afterAll(async () => {
    if (netns) await removeNetns(netns)
  }, 30_000)
  it.each(['nft', 'legacy'] as const)('ipset restore and iptables-%s-restore --test', async (variant) => {
    const rs = compileNode(DISPATCH_CLUSTER, 'node-1', 'iptables').value
    await sh(netns, ['ipset', 'restore', '-exist'], rs.files['ipset.restore'])
    try {
      await sh(netns, [`iptables-${variant}-restore`, '--test', '--noflush'], rs.files['iptables.rules'])
    } finally {
      await sh(netns, ['ipset', 'destroy'])
    }
  })
})
