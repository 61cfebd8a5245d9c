/**
 * The revocation scenario of `--revoke-established` (lab edge), shared by its lab test and `npm run
 * bench:revoke`: two clients hold established TCP and UDP flows (echoed, and TCP pushed by the server, the
 * reply direction) to a server on their own node and to one on the other node; a policy then admits only
 * client b to the servers. Client a's flows must stop, client b's must keep delivering.
 */
import type { ClusterState, NetworkPolicy, Pod } from '../model/index.js'
import { controlSocket, request } from './server.js'
import type { Lab } from './topology.js'

const NS = 'rvk'

const pod = (name: string, node: string, labels: Record<string, string>): Pod => ({
  namespace: NS,
  name,
  labels,
  ips: [],
  ports: [
    { name: 'http', containerPort: 80, protocol: 'TCP' },
    { name: 'dns', containerPort: 53, protocol: 'UDP' },
  ],
  nodeName: node,
  hostNetwork: false,
})

/** Clients a and b and server s1 on node-1, server s2 on node-2; no policy. */
export const REVOKE_CLUSTER: ClusterState = {
  namespaces: [
    {
      name: NS,
      labels: { 'kubernetes.io/metadata.name': NS },
      declared: true,
      defaultDenyIngress: false,
    },
  ],
  pods: [
    pod('a', 'node-1', { role: 'a' }),
    pod('b', 'node-1', { role: 'b' }),
    pod('s1', 'node-1', { app: 'server' }),
    pod('s2', 'node-2', { app: 'server' }),
  ],
  policies: [],
}

/** The change: the servers admit only role=b, on TCP 80 and UDP 53. */
export const REVOKE_POLICY: NetworkPolicy = {
  namespace: NS,
  name: 'servers-only-b',
  origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
  podSelector: { matchLabels: { app: 'server' }, matchExpressions: [] },
  policyTypes: ['Ingress'],
  ingress: [
    {
      peers: [{ podSelector: { matchLabels: { role: 'b' }, matchExpressions: [] } }],
      ports: [
        { protocol: 'TCP', port: 80 },
        { protocol: 'UDP', port: 53 },
      ],
    },
  ],
  egress: [],
}

export interface RevokeFlow {
  readonly from: string
  readonly to: string
  readonly proto: 'tcp' | 'udp'
  /** TCP pushed by the server (it sends, the client only reads). */
  readonly push: boolean
  /** True when REVOKE_POLICY refuses it. */
  readonly revoked: boolean
  /** Same node (node-1) or across nodes. */
  readonly sameNode: boolean
}

export interface RevokeFlowResult extends RevokeFlow {
  readonly sent: number
  readonly received: number
  /** Wall clock of the last new line delivered (null: none). */
  readonly lastReplyAt: number | null
  /** lastReplyAt minus the change's time (ms); null when nothing was delivered. */
  readonly stopMs: number | null
  readonly closed: string | null
}

/** Every flow of the scenario: from a and b, to s1 and s2, TCP echoed, TCP pushed, UDP echoed. */
export const REVOKE_FLOWS: readonly RevokeFlow[] = (['a', 'b'] as const).flatMap((from) =>
  (['s1', 's2'] as const).flatMap((to) =>
    (
      [
        ['tcp', false],
        ['tcp', true],
        ['udp', false],
      ] as const
    ).map(([proto, push]) => ({ from, to, proto, push, revoked: from === 'a', sameNode: to === 's1' })),
  ),
)

export interface RevokeRunOptions {
  /** How long each flow runs (default 3500 ms). */
  readonly durationMs?: number
  /** When the change happens after the flows started (default 1000 ms). */
  readonly changeAfterMs?: number
  /** Interval of the lines of each flow (default 20 ms). */
  readonly intervalMs?: number
}

/**
 * Opens every flow, runs `change` once they deliver (it resolves with the time of the change, e.g. the
 * API write or the commit), and returns each flow's outcome. The lab must run REVOKE_CLUSTER.
 */
export async function runRevocationFlows(
  lab: Lab,
  change: () => Promise<number>,
  o: RevokeRunOptions = {},
): Promise<{ readonly changeAt: number; readonly flows: readonly RevokeFlowResult[] }> {
  const durationMs = o.durationMs ?? 3500
  const intervalMs = o.intervalMs ?? 20
  const at = (name: string) => {
    const p = lab.plan.pods.find((x) => x.key === `${NS}/${name}`)
    if (!p) throw new Error(`the lab has no pod ${NS}/${name}: run it on REVOKE_CLUSTER`)
    return p
  }
  const runs = REVOKE_FLOWS.map((f, i) =>
    request(
      controlSocket(lab, at(f.from).netns),
      {
        op: 'stream',
        tag: `revoke-${i}`,
        proto: f.proto,
        ip: at(f.to).ip,
        port: f.proto === 'tcp' ? 80 : 53,
        intervalMs,
        durationMs,
        ...(f.push ? { push: true } : {}),
      },
      durationMs + 30_000,
    ),
  )
  await new Promise((r) => setTimeout(r, o.changeAfterMs ?? 1000))
  const changeAt = await change()
  const results = await Promise.all(runs)
  const flows = REVOKE_FLOWS.map((f, i) => {
    const r = (results[i] ?? []).find((x) => x.done === true)?.result as
      | { sent: number; received: number; lastReplyAt: number | null; closed: string | null }
      | undefined
    if (!r) throw new Error(`flow ${f.from} -> ${f.to} ${f.proto}: no result`)
    return {
      ...f,
      sent: r.sent,
      received: r.received,
      lastReplyAt: r.lastReplyAt,
      stopMs: r.lastReplyAt === null ? null : r.lastReplyAt - changeAt,
      closed: r.closed,
    }
  })
  return { changeAt, flows }
}
