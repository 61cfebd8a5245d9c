/**
 * The port dispatches in the kernel (docs/dataplane.md#port-dispatch): a server selected by Admin and
 * Baseline ClusterNetworkPolicies and NetworkPolicies for overlapping ports (Deny, Pass, Accept; a rule
 * for every port and a named port among them), so that its tier and its NetworkPolicy pod chain are
 * reached through dispatches on both backends (checked on the rendered rulesets); every pair probed on
 * ports inside, between and beside the ranges must answer as the engine predicts.
 */

import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildDropIndex, DropCounters } from '../../src/agent/drop-counters.js'
import { compileNode, getBackend } from '../../src/backends/index.js'
import { buildNodeIR } from '../../src/compile/index.js'
import { destroyLab, labBackend, newLabPrefix, probeLab, upLab, verifyCluster } from '../../src/lab/index.js'
import {
  type ClusterNetworkPolicy,
  type ClusterPolicyRule,
  type ClusterState,
  compareClusterPolicies,
  type NetworkPolicy,
  type PolicyPort,
} from '../../src/model/index.js'
import { ns, pod, sel } from '../fixtures.js'
import { hasCommand, labSkipReason } from './helpers.js'

const skip = labSkipReason() ?? (hasCommand('nft') ? undefined : 'nft missing')

const peer = (role: string) =>
  ({ kind: 'pods', namespaceSelector: sel(), podSelector: sel({ role }) }) as const
const tcp = (port: number, endPort?: number) =>
  ({ kind: 'port', protocol: 'TCP', port, ...(endPort !== undefined ? { endPort } : {}) }) as const
const cnp = (name: string, tier: 'Admin' | 'Baseline', priority: number, rule: ClusterPolicyRule) =>
  ({
    name,
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    tier,
    priority,
    subject: { kind: 'pods', namespaceSelector: sel(), podSelector: sel({ app: 'server' }) },
    ingress: [rule],
    egress: [],
  }) satisfies ClusterNetworkPolicy
const np = (name: string, role: string, ports: PolicyPort[]): NetworkPolicy => ({
  namespace: 'shop',
  name,
  origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
  podSelector: sel({ app: 'server' }),
  policyTypes: ['Ingress'],
  ingress: [{ peers: [{ podSelector: sel({ role }) }], ports }],
  egress: [],
})
const http = { ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' as const }] }

const cluster: ClusterState = {
  namespaces: [ns('shop')],
  pods: [
    pod('shop/server', { app: 'server' }, '10.240.1.10', { ...http, nodeName: 'node-1' }),
    pod('shop/web', { role: 'web' }, '10.240.2.11', { ...http, nodeName: 'node-2' }),
    pod('shop/ops', { role: 'ops' }, '10.240.1.12', { ...http, nodeName: 'node-1' }),
    pod('shop/batch', { role: 'batch' }, '10.240.2.13', { ...http, nodeName: 'node-2' }),
  ],
  policies: [
    np('web-80', 'web', [{ protocol: 'TCP', port: 80 }]),
    np('ops-range', 'ops', [{ protocol: 'TCP', port: 80, endPort: 90 }]),
    np('web-443', 'web', [{ protocol: 'TCP', port: 443 }]),
    np('ops-http', 'ops', [{ protocol: 'TCP', port: 'http' }]),
  ],
  clusterPolicies: [
    cnp('deny-batch-80', 'Admin', 10, { action: 'Deny', peers: [peer('batch')], ports: [tcp(80)] }),
    cnp('pass-ops', 'Admin', 20, { action: 'Pass', peers: [peer('ops')], ports: [tcp(80, 90)] }),
    cnp('accept-web-81', 'Admin', 30, { action: 'Accept', peers: [peer('web')], ports: [tcp(81)] }),
    cnp('deny-web-all', 'Admin', 40, { action: 'Deny', peers: [peer('web')], ports: [tcp(85, 443)] }),
    cnp('accept-batch-85', 'Admin', 50, { action: 'Accept', peers: [peer('batch')], ports: [tcp(85)] }),
    cnp('deny-batch-any', 'Admin', 60, { action: 'Deny', peers: [peer('batch')] }),
  ].sort(compareClusterPolicies),
}

describe.skipIf(skip)('lab: port dispatch of tiers and NetworkPolicies in the kernel', () => {
  it.each(['nftables', 'iptables-nft'] as const)(
    '%s answers as the engine on ports inside, between and beside the ranges',
    async (backend) => {
      const rendered = JSON.stringify(
        compileNode(cluster, 'node-1', backend === 'nftables' ? 'nftables' : 'iptables').value,
      )
      if (backend === 'nftables') expect(rendered).toContain('tdisp_')
      else {
        expect(rendered).toContain('Admin tier dispatch')
        expect(rendered).toContain('NetworkPolicy dispatch')
      }
      const ports = [79, 80, 81, 85, 86, 90, 91, 443, 8080].map((port) => ({
        port,
        protocol: 'TCP' as const,
      }))
      const r = await verifyCluster(cluster, { mode: 'routed', backend, ports })
      expect(
        r.mismatches.map((m) => `${m.port} ${m.from} -> ${m.to}: engine ${m.expected ? 'allows' : 'denies'}`),
      ).toEqual([])
    },
    180_000,
  )
})

/** Every connection to the server that is refused is refused by an Admin Deny (no NetworkPolicy, no Baseline). */
const denyOnly: ClusterState = {
  namespaces: [ns('shop')],
  pods: cluster.pods,
  policies: [],
  clusterPolicies: [
    cnp('deny-batch', 'Admin', 10, { action: 'Deny', peers: [peer('batch')] }),
    cnp('deny-web-81', 'Admin', 20, { action: 'Deny', peers: [peer('web')], ports: [tcp(81)] }),
  ],
}

describe.skipIf(skip)('lab: a ClusterNetworkPolicy Deny is counted for the pod it protects', () => {
  it.each(['nftables', 'iptables-nft'] as const)(
    '%s: the server Deny chain counts one packet per refused TCP probe, the shared chains none',
    async (backend) => {
      const ports = [80, 81].map((port) => ({ port, protocol: 'TCP' as const }))
      const prefix = await newLabPrefix()
      try {
        const { lab } = await upLab(denyOnly, { mode: 'routed', backend, ports, prefix })
        const probed = await probeLab(lab)
        const refused = [...probed.details].filter(([k, d]) => k.endsWith('|shop/server') && !d.ok).length
        expect(refused).toBe(3) // batch on 80 and 81, web on 81
        const variant = labBackend(backend)
        const b = getBackend(variant.backend)
        const node = lab.plan.nodes.find((n) => n.name === 'node-1')
        if (!node) throw new Error('no node-1')
        const counters = await b
          .connect({ netns: node.netns, ...variant.target, stateDir: join(lab.stateDir, 'dataplane') })
          .dropCounters?.()
        const index = buildDropIndex(buildNodeIR(lab.plan.cluster, node.name), b.chainName)
        const drops = new DropCounters({ read: async () => counters ?? [], chainName: b.chainName })
        drops.setIndex(index, true)
        drops.absorb(counters ?? [])
        expect(drops.podSeries()).toEqual([
          { namespace: 'shop', pod: 'server', direction: 'ingress', packets: refused },
        ])
      } finally {
        await destroyLab(prefix)
      }
    },
    180_000,
  )
})
