/**
 * End to end: real `palisade agent` processes, one per lab node, fed by the test API server with the
 * ClusterNetworkPolicy CRD served, enforce ClusterNetworkPolicies (issue 13, the agent part). After every
 * step, real TCP and UDP probes across the lab must equal the engine's matrix of what the API holds:
 * an Admin Deny overriding a NetworkPolicy allow, an Admin Pass that hands a connection back to the
 * NetworkPolicies past a later Admin Deny, a Baseline Deny, a `nodes` peer (an Admin egress Deny to the
 * addresses of Node objects), then updates (a Deny becomes an Accept, a Node is relabelled out of the
 * selector) and deletion. On nftables and iptables-nft.
 *
 * The `nodes` peer selects role=edge Nodes: the lab nodes' own Node objects (their addresses and pod
 * ranges; node-2 is role=edge, probed at its address from pods of both nodes), and a Node object `edge-1`
 * given the address of the lab's outside host inside web-egress's ipBlock (so the Admin Deny overrides that
 * NetworkPolicy allow too).
 */
import { existsSync } from 'node:fs'
import type { Server } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { FakeApiServer } from '../../harness/fake-apiserver.js'
import { CELL_ALLOWED } from '../../src/engine/index.js'
import {
  bridgeUnixToTcp,
  destroyLab,
  expectedLabMatrix,
  type Lab,
  type NodeAgent,
  nodeEndpoint,
  outsideEndpoint,
  startNodeAgents,
  upLab,
} from '../../src/lab/index.js'
import type {
  ClusterNetworkPolicy,
  ClusterPolicyAction,
  ClusterState,
  LabelSelector,
  NetworkPolicy,
  Node,
  Pod,
} from '../../src/model/index.js'
import { compareClusterPolicies } from '../../src/model/index.js'
import { pod as makePod } from '../fixtures.js'
import { converge, setApiState, viewOf } from './api-state.js'
import { hasCommand, labSkipReason } from './helpers.js'

const built = existsSync(fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url)))
const skip =
  labSkipReason() ??
  (hasCommand('nft') && hasCommand('iptables-nft') ? undefined : 'nft or iptables-nft missing') ??
  (built ? undefined : 'dist/ not built (npm ci builds it)')

const sel = (matchLabels: Record<string, string>): LabelSelector => ({ matchLabels, matchExpressions: [] })
const ports = [
  { name: 'http', containerPort: 80, protocol: 'TCP' as const },
  { name: 'dns', containerPort: 53, protocol: 'UDP' as const },
]
const pod = (namespace: string, name: string, nodeName: string, labels: Record<string, string>): Pod =>
  makePod(`${namespace}/${name}`, labels, [], { ports, nodeName })
const origin = { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' } as const

/** shop/db admits role=web pods on 80/TCP and 53/UDP. */
const dbIngress: NetworkPolicy = {
  namespace: 'shop',
  name: 'db-ingress',
  origin,
  podSelector: sel({ app: 'db' }),
  policyTypes: ['Ingress'],
  ingress: [
    {
      peers: [{ podSelector: sel({ role: 'web' }) }],
      ports: [
        { protocol: 'TCP', port: 80 },
        { protocol: 'UDP', port: 53 },
      ],
    },
  ],
  egress: [],
}

/** role=web pods may reach app=db on 80/TCP and 53/UDP, and an outside /24 minus its upper half. */
const webEgress: NetworkPolicy = {
  namespace: 'shop',
  name: 'web-egress',
  origin,
  podSelector: sel({ role: 'web' }),
  policyTypes: ['Egress'],
  ingress: [],
  egress: [
    {
      peers: [{ podSelector: sel({ app: 'db' }) }],
      ports: [
        { protocol: 'TCP', port: 80 },
        { protocol: 'UDP', port: 53 },
      ],
    },
    { peers: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.128/25'] } }] },
  ],
}

const universe: ClusterState = {
  namespaces: [
    {
      name: 'shop',
      labels: { 'kubernetes.io/metadata.name': 'shop', team: 'shop' },
      declared: true,
      defaultDenyIngress: false,
    },
    {
      name: 'ops',
      labels: { 'kubernetes.io/metadata.name': 'ops' },
      declared: true,
      defaultDenyIngress: false,
    },
  ],
  pods: [
    pod('shop', 'web', 'node-1', { role: 'web' }),
    pod('shop', 'db', 'node-2', { app: 'db' }),
    pod('shop', 'cache', 'node-1', { app: 'cache' }),
    pod('ops', 'prom', 'node-2', { app: 'prom' }),
  ],
  policies: [dbIngress, webEgress],
}

const apiVersion = 'policy.networking.k8s.io/v1beta1' as const
const webPods = {
  kind: 'pods' as const,
  namespaceSelector: sel({}),
  podSelector: sel({ role: 'web' }),
}

/** Admin, priority 5: no pod of a team=shop namespace takes connections from role=web pods. */
const guard = (action: ClusterPolicyAction): ClusterNetworkPolicy => ({
  name: 'guard',
  apiVersion,
  tier: 'Admin',
  priority: 5,
  subject: { kind: 'namespaces', namespaceSelector: sel({ team: 'shop' }) },
  ingress: [{ name: 'web', action, peers: [webPods] }],
  egress: [],
})

/** Admin, priority 1: connections from role=web pods to app=db go to the NetworkPolicies (past guard). */
const passWeb: ClusterNetworkPolicy = {
  name: 'pass-web',
  apiVersion,
  tier: 'Admin',
  priority: 1,
  subject: { kind: 'pods', namespaceSelector: sel({ team: 'shop' }), podSelector: sel({ app: 'db' }) },
  ingress: [{ action: 'Pass', peers: [webPods] }],
  egress: [],
}

/** Baseline: pods of team=shop namespaces (v2: only app=db pods) take nothing from the ops namespace (unless a NetworkPolicy says). */
const baseline = (v: 1 | 2): ClusterNetworkPolicy => ({
  name: 'baseline',
  apiVersion,
  tier: 'Baseline',
  priority: 10,
  subject:
    v === 1
      ? { kind: 'namespaces', namespaceSelector: sel({ team: 'shop' }) }
      : { kind: 'pods', namespaceSelector: sel({ team: 'shop' }), podSelector: sel({ app: 'db' }) },
  ingress: [
    {
      action: 'Deny',
      peers: [{ kind: 'namespaces', namespaceSelector: sel({ 'kubernetes.io/metadata.name': 'ops' }) }],
    },
  ],
  egress: [],
})

/** Admin, priority 3: nothing reaches the addresses of role=edge Nodes. */
const noEdge: ClusterNetworkPolicy = {
  name: 'no-edge',
  apiVersion,
  tier: 'Admin',
  priority: 3,
  subject: { kind: 'namespaces', namespaceSelector: sel({}) },
  ingress: [],
  egress: [{ action: 'Deny', peers: [{ kind: 'nodes', nodeSelector: sel({ role: 'edge' }) }] }],
}

const withCnps = (c: ClusterState, ...cps: ClusterNetworkPolicy[]): ClusterState => {
  const { clusterPolicies: _, ...rest } = c
  return cps.length > 0 ? { ...rest, clusterPolicies: [...cps].sort(compareClusterPolicies) } : rest
}

/** The engine's verdict of one cell (from -> to on a port), for the assertions that name what a step does. */
function allows(lab: Lab, state: ClusterState, from: string, to: string, port: string): boolean {
  const m = expectedLabMatrix(viewOf(lab, state))
  const pi = m.ports.indexOf(port)
  const fi = m.pods.indexOf(from)
  const ti = m.pods.indexOf(to)
  if (pi < 0 || fi < 0 || ti < 0)
    throw new Error(`no cell ${from} -> ${to} on ${port} (${m.pods.join(' ')}; ${m.ports.join(' ')})`)
  return (m.cells[pi] as Uint8Array)[fi * m.pods.length + ti] === CELL_ALLOWED
}

const prefixes: string[] = []
afterAll(async () => {
  for (const p of prefixes) await destroyLab(p)
})

describe.skipIf(skip)('node agents enforce ClusterNetworkPolicies, fed by the test API server', () => {
  it.each([
    ['nftables', undefined],
    ['iptables', 'nft'],
  ] as const)(
    'Admin Deny over a NetworkPolicy, Pass, Baseline Deny, a nodes peer, updates (%s %s)',
    { timeout: 300_000 },
    async (backend, iptables) => {
      const api = new FakeApiServer()
      api.crdVersion = 'v1beta1'
      await api.start()
      const up = await upLab(universe, {
        nodes: 2,
        rules: false,
        backend: backend === 'nftables' ? 'nftables' : 'iptables-nft',
      })
      const lab = up.lab
      prefixes.push(lab.plan.prefix)
      const socket = join(lab.stateDir, 'apiserver.sock')
      let bridge: Server | undefined
      let agents: NodeAgent[] = []
      try {
        // The outside host in web-egress's allowed lower half: the Node object edge-1 claims its address.
        const lower = lab.plan.outside?.addresses.find(
          (a) => /^203\.0\.113\.(\d+)$/.test(a.ip) && Number(a.ip.split('.')[3]) < 128,
        )
        expect(lower, 'an outside host in 203.0.113.0/25').toBeDefined()
        const edgeIP = lower?.ip as string
        const edge = (role: string): Node => ({
          name: 'edge-1',
          addresses: [edgeIP],
          declared: true,
          labels: { role },
        })
        bridge = await bridgeUnixToTcp(socket, Number(new URL(api.url).port))

        // The lab nodes' own Node objects (their addresses, their pod ranges): node-2 is role=edge too.
        const labNodes = (role2: string): Node[] =>
          lab.plan.nodes.map((n) => ({
            name: n.name,
            addresses: [n.ip],
            declared: true,
            podCIDRs: [n.podCidr],
            labels: { role: n.name === 'node-2' ? role2 : 'worker' },
          }))
        // S0: NetworkPolicies only (the CRD served, no ClusterNetworkPolicy yet), Node edge-1.
        const s0: ClusterState = { ...lab.plan.cluster, nodes: [edge('edge'), ...labNodes('edge')] }
        setApiState(api, undefined, s0)
        agents = await startNodeAgents(lab, {
          source: { apiSocket: socket, kubeconfig: api.kubeconfig() },
          backend,
          ...(iptables ? { iptables } : {}),
          syncPeriod: '3s',
          debounce: '20ms',
        })
        await converge(lab, s0, 'NetworkPolicies only', 30_000)
        const toEdge = outsideEndpoint(edgeIP)
        const toNode2 = nodeEndpoint('node-2')
        expect(allows(lab, s0, 'shop/web', 'shop/db', '80/TCP')).toBe(true)
        expect(allows(lab, s0, 'shop/web', toEdge, '80/TCP')).toBe(true)
        expect(allows(lab, s0, 'ops/prom', 'shop/cache', '80/TCP')).toBe(true)

        // S1: Admin Deny (guard), Baseline Deny, Admin Deny to role=edge Nodes.
        const s1 = withCnps(s0, guard('Deny'), baseline(1), noEdge)
        expect(allows(lab, s1, 'shop/web', 'shop/db', '80/TCP')).toBe(false) // Admin Deny over the NP allow
        expect(allows(lab, s1, 'shop/web', toEdge, '80/TCP')).toBe(false) // nodes peer
        expect(allows(lab, s1, 'shop/cache', toNode2, '80/TCP')).toBe(false) // nodes peer, a lab node
        expect(allows(lab, s1, 'ops/prom', 'shop/cache', '80/TCP')).toBe(false) // Baseline Deny
        setApiState(api, s0, s1)
        await converge(lab, s1, 'Admin Deny, Baseline Deny, nodes peer', 30_000)

        // S2: an Admin Pass before guard: web -> db goes to the NetworkPolicies again (80/TCP allowed).
        const s2 = withCnps(s0, guard('Deny'), baseline(1), noEdge, passWeb)
        expect(allows(lab, s2, 'shop/web', 'shop/db', '80/TCP')).toBe(true)
        expect(allows(lab, s2, 'shop/web', 'shop/cache', '80/TCP')).toBe(false)
        setApiState(api, s1, s2)
        await converge(lab, s2, 'Admin Pass', 30_000)

        // S3: updates: the Baseline subject narrowed to app=db; guard's Deny becomes an Accept; edge-1
        // relabelled out of the nodes selector.
        const s3 = {
          ...withCnps(s0, guard('Accept'), baseline(2), noEdge, passWeb),
          nodes: [edge('core'), ...labNodes('core')],
        }
        expect(allows(lab, s3, 'shop/cache', toNode2, '80/TCP')).toBe(true)
        expect(allows(lab, s3, 'ops/prom', 'shop/cache', '80/TCP')).toBe(true)
        expect(allows(lab, s3, 'ops/prom', 'shop/db', '80/TCP')).toBe(false)
        expect(allows(lab, s3, 'shop/web', toEdge, '80/TCP')).toBe(true)
        setApiState(api, s2, s3)
        await converge(lab, s3, 'guard updated, Node relabelled', 30_000)

        // S4: every ClusterNetworkPolicy deleted: the NetworkPolicies alone again.
        const s4 = { ...s0, nodes: [edge('core'), ...labNodes('core')] }
        expect(allows(lab, s4, 'ops/prom', 'shop/cache', '80/TCP')).toBe(true)
        setApiState(api, s3, s4)
        await converge(lab, s4, 'ClusterNetworkPolicies deleted', 30_000)
      } finally {
        await Promise.all(agents.map((a) => a.stop('SIGKILL')))
        await new Promise<void>((r) => (bridge ? bridge.close(() => r()) : r()))
        await api.stop()
        await destroyLab(lab.plan.prefix)
      }
    },
  )
})
