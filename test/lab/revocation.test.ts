/**
 * What happens to an established connection when a policy revoking it arrives (docs/semantics.md#established-connections):
 * the connection lives on (conntrack accepts established traffic first), while every NEW connection is
 * refused from the moment the ruleset is loaded. Both backends, real TCP in the kernel.
 */
import { describe, expect, it } from 'vitest'
import {
  applyLabRules,
  controlSocket,
  destroyLab,
  type LabBackend,
  request,
  upLab,
} from '../../src/lab/index.js'
import type { ClusterState, NetworkPolicy, Pod } from '../../src/model/index.js'
import { pod as makePod } from '../fixtures.js'
import { hasCommand, labSkipReason } from './helpers.js'

const skip =
  labSkipReason() ??
  (hasCommand('nft') && hasCommand('iptables-nft') ? undefined : 'nft or iptables-nft missing')

const pod = (name: string, nodeName: string): Pod =>
  makePod(`rev/${name}`, { app: name }, [], {
    ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
    nodeName,
  })
const base: ClusterState = {
  namespaces: [
    {
      name: 'rev',
      labels: { 'kubernetes.io/metadata.name': 'rev' },
      declared: true,
      defaultDenyIngress: false,
    },
  ],
  pods: [pod('client', 'node-1'), pod('server', 'node-2')],
  policies: [],
}
const denyServer: NetworkPolicy = {
  namespace: 'rev',
  name: 'deny-server',
  origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
  podSelector: { matchLabels: { app: 'server' }, matchExpressions: [] },
  policyTypes: ['Ingress'],
  ingress: [],
  egress: [],
}

const result = <T>(lines: Record<string, unknown>[]) => lines.find((r) => r.done === true)?.result as T

describe.skipIf(skip)('revoking a policy under an established connection', () => {
  it.each(['nftables', 'iptables-nft'] as LabBackend[])(
    '%s: the established TCP flow survives, new connections are refused',
    async (backend) => {
      const up = await upLab(base, { backend })
      const lab = up.lab
      try {
        const client = lab.plan.pods.find((p) => p.key === 'rev/client')!
        const server = lab.plan.pods.find((p) => p.key === 'rev/server')!
        const sock = controlSocket(lab, client.netns)
        const stream = request(
          sock,
          {
            op: 'stream',
            tag: 'flow',
            proto: 'tcp',
            ip: server.ip,
            port: 80,
            intervalMs: 20,
            durationMs: 3000,
          },
          40_000,
        )
        await new Promise((r) => setTimeout(r, 800))
        // The policy arrives while the flow runs: load the revoking ruleset on every node.
        await applyLabRules(
          { ...lab, plan: { ...lab.plan, cluster: { ...lab.plan.cluster, policies: [denyServer] } } },
          backend,
        )
        const tries = result<{ tries: number; succeeded: number }>(
          await request(
            sock,
            {
              op: 'conntry',
              tag: 'new',
              ip: server.ip,
              port: 80,
              everyMs: 50,
              durationMs: 1000,
              timeoutMs: 300,
            },
            30_000,
          ),
        )
        const flow = result<{ sent: number; received: number; closed: string | null }>(await stream)
        expect(tries.tries).toBeGreaterThan(5)
        expect(tries.succeeded).toBe(0) // new connections: refused at once
        expect(flow.closed).toBeNull() // the established connection was never cut
        expect(flow.sent).toBeGreaterThan(100)
        expect(flow.received).toBeGreaterThanOrEqual(flow.sent - 2) // every line sent after revocation still answered
      } finally {
        await destroyLab(lab.plan.prefix)
      }
    },
    90_000,
  )
})
