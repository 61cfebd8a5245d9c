/**
 * `lab reload-test`: reloads every node's rules N times (alternating two rulesets that both allow the
 * running flows and both deny one port) while a TCP stream and a UDP stream run and a client keeps trying
 * a denied connection. Atomic reloads must leak no denied connection and break no allowed flow.
 */
import { join } from 'node:path'
import { applyRuleset, compileNode } from '../backends/index.js'
import type { ClusterState, LabelSelector, NetworkPolicy, Pod } from '../model/index.js'
import { type LabBackend, labBackend, podInterfacesOf } from './rules.js'
import { controlSocket, request } from './server.js'
import { destroyLab, type Lab } from './topology.js'
import { upLab } from './verify.js'

export interface ReloadOptions {
  readonly reloads: number
  readonly backend?: LabBackend
  readonly log?: (line: string) => void
}

export interface StreamSummary {
  readonly proto: string
  readonly target: string
  readonly sent: number
  readonly received: number
  readonly lost: number
  readonly maxGapMs: number
  readonly closed: string | null
}

export interface ReloadReport {
  readonly reloads: number
  readonly failedReloads: number
  readonly msPerReload: number
  readonly tcp: StreamSummary
  readonly udp: StreamSummary
  readonly denied: { readonly tries: number; readonly succeeded: number }
  /** Denied connection attempts that got through during reloads (must be 0). */
  readonly leakedDenied: number
  /** Lost stream messages plus broken stream connections (must be 0). */
  readonly brokenAllowed: number
}

const sel = (matchLabels: Record<string, string>): LabelSelector => ({ matchLabels, matchExpressions: [] })
const V1 = { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' } as const

function reloadPod(namespace: string, name: string, labels: Record<string, string>, nodeName: string): Pod {
  const ports = [
    { containerPort: 80, protocol: 'TCP' as const },
    { containerPort: 81, protocol: 'TCP' as const },
    { containerPort: 53, protocol: 'UDP' as const },
  ]
  return { namespace, name, labels, ips: [], ports, nodeName, hostNetwork: false }
}

/** The reload cluster: version 'b' additionally opens db 8080 to frontends; both deny client -> db:81. */
export function reloadCluster(version: 'a' | 'b'): ClusterState {
  const policies: NetworkPolicy[] = [
    {
      namespace: 'prod',
      name: 'default-deny',
      origin: V1,
      podSelector: sel({}),
      policyTypes: ['Ingress'],
      ingress: [],
      egress: [],
    },
    {
      namespace: 'prod',
      name: 'db-from-frontend',
      origin: V1,
      podSelector: sel({ app: 'db' }),
      policyTypes: ['Ingress'],
      ingress: [
        {
          peers: [{ namespaceSelector: sel({}), podSelector: sel({ role: 'frontend' }) }],
          ports:
            version === 'a'
              ? [{ protocol: 'TCP', port: 80 }]
              : [
                  { protocol: 'TCP', port: 80 },
                  { protocol: 'TCP', port: 8080 },
                ],
        },
      ],
      egress: [],
    },
    {
      namespace: 'dev',
      name: 'client-egress',
      origin: V1,
      podSelector: sel({ app: 'client' }),
      policyTypes: ['Egress'],
      egress: [
        {
          peers: [{ namespaceSelector: sel({}) }],
          ...(version === 'b' ? { ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP' }] } : {}),
        },
      ],
      ingress: [],
    },
  ]
  const ns = (name: string) => ({
    name,
    labels: { 'kubernetes.io/metadata.name': name },
    declared: true,
    defaultDenyIngress: false,
  })
  return {
    namespaces: [ns('prod'), ns('dev')],
    pods: [
      reloadPod('prod', 'db', { app: 'db' }, 'node-1'),
      reloadPod('dev', 'client-a', { app: 'client', role: 'frontend' }, 'node-1'),
      reloadPod('prod', 'web', { app: 'web', role: 'frontend' }, 'node-2'),
      reloadPod('dev', 'client-b', { app: 'client' }, 'node-2'),
    ],
    policies,
  }
}

/** Runs the reload test on a fresh lab and tears it down. */
export async function runReloadTest(opts: ReloadOptions): Promise<ReloadReport> {
  const log = opts.log ?? (() => undefined)
  const backend = opts.backend ?? 'nftables'
  const up = await upLab(reloadCluster('a'), { backend, log })
  const lab = up.lab
  try {
    return await reloadUnderLoad(lab, backend, opts.reloads, log)
  } finally {
    await destroyLab(lab.plan.prefix)
  }
}

async function reloadUnderLoad(
  lab: Lab,
  backend: LabBackend,
  reloads: number,
  log: (s: string) => void,
): Promise<ReloadReport> {
  const pod = (key: string) => lab.plan.pods.find((p) => p.key === key)!
  const variant = labBackend(backend)
  // version b compiled against the same lab addresses (the lab's cluster with b's policies)
  const versions = (['a', 'b'] as const).map((v) => {
    const c: ClusterState = { ...lab.plan.cluster, policies: reloadCluster(v).policies }
    return lab.plan.nodes.map(
      (n) => compileNode(c, n.name, variant.backend, { podInterfaces: podInterfacesOf(lab, n.name) }).value,
    )
  })
  const applyOpts = (netns: string) => ({
    netns,
    ...variant.target,
    stateDir: join(lab.stateDir, 'dataplane'),
    timeoutMs: 20_000,
  })
  let failed = 0
  const reloadOnce = async (i: number) => {
    const set = versions[i % 2] as (typeof versions)[number]
    await Promise.all(
      lab.plan.nodes.map((n, k) =>
        applyRuleset(set[k] as (typeof set)[number], applyOpts(n.netns)).catch((e: unknown) => {
          failed++
          log(`reload ${i} on ${n.name} failed: ${e instanceof Error ? e.message : String(e)}`)
        }),
      ),
    )
  }
  // warm-up: measure a reload to size the streams, end on version a
  const tw = Date.now()
  for (let i = 1; i <= 10; i++) await reloadOnce(i)
  const per = (Date.now() - tw) / 10
  // an upper bound: the streams are stopped (op 'stop') as soon as the last reload is done
  const durationMs = Math.ceil(per * reloads * 4) + 10_000
  log(
    `one reload of ${lab.plan.nodes.length} nodes takes ~${per.toFixed(1)} ms; streams run until the last reload (at most ${durationMs} ms)`,
  )
  const db = pod('prod/db')
  const budget = durationMs + 30_000
  const tcp = request(
    controlSocket(lab, pod('prod/web').netns),
    { op: 'stream', tag: 'tcp', proto: 'tcp', ip: db.ip, port: 80, intervalMs: 20, durationMs },
    budget,
  )
  const udp = request(
    controlSocket(lab, pod('dev/client-a').netns),
    {
      op: 'stream',
      tag: 'udp',
      proto: 'udp',
      ip: pod('dev/client-b').ip,
      port: 53,
      intervalMs: 20,
      durationMs,
    },
    budget,
  )
  const denied = request(
    controlSocket(lab, pod('dev/client-b').netns),
    { op: 'conntry', tag: 'deny', ip: db.ip, port: 81, everyMs: 10, durationMs, timeoutMs: 300 },
    budget,
  )
  await new Promise((r) => setTimeout(r, 500))
  const t0 = Date.now()
  for (let i = 1; i <= reloads; i++) await reloadOnce(i)
  const reloadMs = Date.now() - t0
  // streams ran through every reload: stop them now (plus one interval so the last reload is covered)
  await new Promise((r) => setTimeout(r, 200))
  await Promise.all(
    [
      [pod('prod/web').netns, 'tcp'],
      [pod('dev/client-a').netns, 'udp'],
      [pod('dev/client-b').netns, 'deny'],
    ].map(([netns, tag]) => request(controlSocket(lab, netns as string), { op: 'stop', tag }, 5000)),
  )
  const [t, u, d] = await Promise.all([tcp, udp, denied])
  const result = (x: Record<string, unknown>[]) =>
    x.find((r) => r.done === true)?.result as Record<string, unknown>
  const ts = result(t) as unknown as StreamSummary
  const us = result(u) as unknown as StreamSummary
  const ds = result(d) as unknown as { tries: number; succeeded: number }
  if (reloadMs > durationMs)
    log(`warning: reloads took ${reloadMs} ms, longer than the streams (${durationMs} ms)`)
  return {
    reloads,
    failedReloads: failed,
    msPerReload: Math.round((reloadMs / reloads) * 10) / 10,
    tcp: ts,
    udp: us,
    denied: ds,
    leakedDenied: ds.succeeded,
    brokenAllowed: ts.lost + us.lost + (ts.closed ? 1 : 0) + (us.closed ? 1 : 0),
  }
}
