/**
 * Probes the lab: every pod pair on every port, node <-> pod and outside <-> pod, from inside the source
 * namespace (through its agent). A probe counts as allowed only when the RIGHT endpoint answered.
 */
import {
  CELL_ALLOWED,
  CELL_DENIED,
  CELL_UNKNOWN,
  formatPort,
  type Matrix,
  type PortQuery,
} from '../engine/index.js'
import { LabError, withTimeout } from './exec.js'
import { nodeEndpoint, outsideEndpoint } from './plan.js'
import { controlSocket, request } from './server.js'
import type { Lab } from './topology.js'

/** An endpoint of the lab's matrix. */
export interface LabEndpoint {
  /** 'ns/pod', 'node/NAME' or 'ip/ADDRESS' */
  readonly name: string
  readonly kind: 'pod' | 'node' | 'ip'
  readonly ip: string
  /** Namespace whose agent sends this endpoint's probes. */
  readonly netns: string
  /** Source address to bind (outside addresses share one namespace). */
  readonly local?: string
}

export interface ProbeDetail {
  readonly ok: boolean
  /** What came back: the answer line, 'timeout', 'ECONNREFUSED', ... */
  readonly detail: string
  readonly ms: number
}

export interface ProbeOptions {
  /** Per-probe time limit in ms (default 800; UDP is resent once at half of it). */
  readonly timeoutMs?: number
  /** Probes in flight per source namespace (default 128). */
  readonly concurrency?: number
}

export interface ProbeResult {
  /** Every endpoint (pods, then nodes, then outside addresses); pairs not probed are CELL_UNKNOWN. */
  readonly full: Matrix
  /** The pod x pod part: the same shape as the engine's matrix. */
  readonly pods: Matrix
  /** 'port|from|to' -> what the probe saw. */
  readonly details: ReadonlyMap<string, ProbeDetail>
  readonly probes: number
  readonly wallMs: number
}

/** Returns the endpoints of a lab in matrix order: pods, nodes, outside addresses. */
export function labEndpoints(lab: Lab): LabEndpoint[] {
  const p = lab.plan
  return [
    ...p.pods.map((x) => ({ name: x.key, kind: 'pod' as const, ip: x.ip, netns: x.netns })),
    ...p.nodes.map((n) => ({ name: nodeEndpoint(n.name), kind: 'node' as const, ip: n.ip, netns: n.netns })),
    ...(p.outside?.addresses ?? []).map((a) => ({
      name: outsideEndpoint(a.ip),
      kind: 'ip' as const,
      ip: a.ip,
      netns: p.outside?.netns as string,
      local: a.ip,
    })),
  ]
}

/** Returns true when the lab probes from -> to: any pair with a pod on at least one side. */
export function isProbedPair(from: LabEndpoint, to: LabEndpoint, port: PortQuery): boolean {
  if (port.protocol === 'SCTP') return false // no SCTP in the lab kernel: reported as not probed
  return from.kind === 'pod' || to.kind === 'pod'
}

/** Returns the key of one probe in ProbeResult.details. */
export function cellKey(port: string, from: string, to: string): string {
  return `${port}|${from}|${to}`
}

/** Returns the rows and columns of a matrix named in `names`, in that order. */
export function subMatrix(m: Matrix, names: readonly string[]): Matrix {
  const idx = names.map((n) => m.pods.indexOf(n))
  if (idx.some((i) => i < 0)) throw new RangeError('subMatrix: unknown endpoint')
  const n = names.length
  const N = m.pods.length
  const cells = m.cells.map((c) => {
    const out = new Uint8Array(n * n)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) out[i * n + j] = c[(idx[i] as number) * N + (idx[j] as number)] as number
    return out
  })
  return { pods: [...names], ports: [...m.ports], cells }
}

interface Probe {
  readonly id: string
  readonly ip: string
  readonly port: number
  readonly proto: 'tcp' | 'udp'
  readonly expect: string
  readonly local?: string
}

/** Probes every pair with a pod on one side, concurrently per source namespace; returns the observed matrix. */
export async function probeLab(lab: Lab, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const t0 = Date.now()
  const endpoints = labEndpoints(lab)
  const ports = lab.plan.ports
  const n = endpoints.length
  const cells = ports.map(() => new Uint8Array(n * n).fill(CELL_UNKNOWN))
  const bySource = new Map<string, Probe[]>()
  const where = new Map<string, { k: number; i: number; j: number }>()
  ports.forEach((port, k) => {
    endpoints.forEach((from, i) => {
      endpoints.forEach((to, j) => {
        if (!isProbedPair(from, to, port)) return
        const id = `${k}:${i}:${j}`
        where.set(id, { k, i, j })
        const list = bySource.get(from.netns) ?? []
        list.push({
          id,
          ip: to.ip,
          port: port.port,
          proto: port.protocol === 'UDP' ? 'udp' : 'tcp',
          expect: to.name,
          ...(from.local ? { local: from.local } : {}),
        })
        bySource.set(from.netns, list)
      })
    })
  })
  const timeoutMs = opts.timeoutMs ?? 800
  const concurrency = opts.concurrency ?? 128
  const details = new Map<string, ProbeDetail>()
  await Promise.all(
    [...bySource.entries()].map(async ([netns, probes]) => {
      const budget = Math.ceil(probes.length / concurrency) * (timeoutMs + 200) + 10_000
      const replies = await withTimeout(
        `probes from ${netns}`,
        budget + 1000,
        request(controlSocket(lab, netns), { op: 'probe', probes, timeoutMs, concurrency }, budget),
      )
      for (const r of replies) {
        if (typeof r.id !== 'string') continue
        const w = where.get(r.id)
        if (!w) throw new LabError(`agent in ${netns} answered an unknown probe ${r.id}`)
        ;(cells[w.k] as Uint8Array)[w.i * n + w.j] = r.ok === true ? CELL_ALLOWED : CELL_DENIED
        const port = formatPort(ports[w.k] as PortQuery)
        details.set(
          cellKey(port, (endpoints[w.i] as LabEndpoint).name, (endpoints[w.j] as LabEndpoint).name),
          {
            ok: r.ok === true,
            detail: String(r.detail),
            ms: Number(r.ms),
          },
        )
      }
    }),
  )
  if (details.size !== where.size) throw new LabError(`probes: ${where.size} sent, ${details.size} answered`)
  const full: Matrix = { pods: endpoints.map((e) => e.name), ports: ports.map(formatPort), cells }
  return {
    full,
    pods: subMatrix(
      full,
      lab.plan.pods.map((p) => p.key),
    ),
    details,
    probes: where.size,
    wallMs: Date.now() - t0,
  }
}

/** Probes the given cells again (e.g. with a longer timeout, to tell a slow machine from a real difference). */
export async function probeCells(
  lab: Lab,
  cells: readonly { readonly port: string; readonly from: string; readonly to: string }[],
  opts: ProbeOptions = {},
): Promise<Map<string, ProbeDetail>> {
  const byName = new Map(labEndpoints(lab).map((e) => [e.name, e]))
  const bySource = new Map<string, Probe[]>()
  for (const c of cells) {
    const from = byName.get(c.from)
    const to = byName.get(c.to)
    const [num, proto] = c.port.split('/')
    if (!from || !to || (proto !== 'TCP' && proto !== 'UDP')) continue
    const list = bySource.get(from.netns) ?? []
    list.push({
      id: cellKey(c.port, c.from, c.to),
      ip: to.ip,
      port: Number(num),
      proto: proto === 'UDP' ? 'udp' : 'tcp',
      expect: to.name,
      ...(from.local ? { local: from.local } : {}),
    })
    bySource.set(from.netns, list)
  }
  const timeoutMs = opts.timeoutMs ?? 3000
  const out = new Map<string, ProbeDetail>()
  await Promise.all(
    [...bySource.entries()].map(async ([netns, probes]) => {
      const replies = await request(
        controlSocket(lab, netns),
        { op: 'probe', probes, timeoutMs, concurrency: opts.concurrency ?? 128 },
        timeoutMs * 2 + 10_000,
      )
      for (const r of replies)
        if (typeof r.id === 'string')
          out.set(r.id, { ok: r.ok === true, detail: String(r.detail), ms: Number(r.ms) })
    }),
  )
  return out
}
