/**
 * What the engine predicts for the lab (same endpoints, ports and shape as the probed matrix) and the
 * readable difference between prediction and observation, with the policy and rule that decided each cell.
 */
import {
  buildIndex,
  CELL_ALLOWED,
  CELL_DENIED,
  CELL_UNKNOWN,
  type ClusterIndex,
  computeMatrix,
  type DirectionVerdict,
  diffMatrices,
  type Endpoint,
  evaluate,
  type Matrix,
  type PolicyRef,
  type PortQuery,
  parsePortSpec,
  type RuleRef,
  type Verdict,
} from '../engine/index.js'
import type { Pod, SourceRef } from '../model/index.js'
import { cellKey, isProbedPair, type LabEndpoint, labEndpoints, type ProbeDetail } from './probe.js'
import type { Lab } from './topology.js'

/** Returns the engine endpoint of a lab endpoint. */
export function engineEndpoint(index: ClusterIndex, e: LabEndpoint, nodeName?: string): Endpoint {
  if (e.kind === 'pod') return { kind: 'pod', pod: index.podsByKey.get(e.name) as Pod }
  if (e.kind === 'node') return { kind: 'node', node: nodeName ?? e.name.slice('node/'.length), ip: e.ip }
  return { kind: 'ip', ip: e.ip }
}

/** Computes the engine's matrix over the lab's endpoints: the fast matrix for pods, evaluate for the rest. */
export function expectedLabMatrix(lab: Lab, index: ClusterIndex = buildIndex(lab.plan.cluster)): Matrix {
  const endpoints = labEndpoints(lab)
  const ports = lab.plan.ports
  const pods = lab.plan.pods.map((p) => index.podsByKey.get(p.key) as Pod)
  const podMatrix = computeMatrix(index, ports, pods)
  const np = pods.length
  const n = endpoints.length
  const cells = ports.map((port, k) => {
    const out = new Uint8Array(n * n).fill(CELL_UNKNOWN)
    const pm = podMatrix.cells[k] as Uint8Array
    endpoints.forEach((from, i) => {
      endpoints.forEach((to, j) => {
        if (!isProbedPair(from, to, port)) return
        if (i < np && j < np) out[i * n + j] = pm[i * np + j] as number
        else
          out[i * n + j] = evaluate(index, engineEndpoint(index, from), engineEndpoint(index, to), port)
            .allowed
            ? CELL_ALLOWED
            : CELL_DENIED
      })
    })
    return out
  })
  return { pods: endpoints.map((e) => e.name), ports: podMatrix.ports, cells }
}

export interface Mismatch {
  readonly port: string
  readonly from: string
  readonly to: string
  readonly expected: boolean
  readonly observed: boolean
  /** What the probe saw ('timeout', the answer line, ...), when known. */
  readonly detail?: string
  /** The engine's verdict for the cell. */
  readonly verdict?: Verdict
}

/** Lists the cells where the observed matrix differs from the expected one (cells not probed are skipped). */
export function compareLab(
  lab: Lab,
  expected: Matrix,
  observed: Matrix,
  details: ReadonlyMap<string, ProbeDetail> = new Map(),
): Mismatch[] {
  const index = buildIndex(lab.plan.cluster)
  const byName = new Map(labEndpoints(lab).map((e) => [e.name, e]))
  return diffMatrices(expected, observed).map((d) => {
    const from = byName.get(d.from)
    const to = byName.get(d.to)
    const q = parsePortSpec(d.port)
    const verdict =
      from && to && typeof q !== 'string'
        ? evaluate(index, engineEndpoint(index, from), engineEndpoint(index, to), q as PortQuery)
        : undefined
    return {
      port: d.port,
      from: d.from,
      to: d.to,
      expected: d.expected === CELL_ALLOWED,
      observed: d.actual === CELL_ALLOWED,
      detail: details.get(cellKey(d.port, d.from, d.to))?.detail,
      verdict,
    }
  })
}

function where(s: SourceRef | undefined): string {
  if (!s) return ''
  return ` (${s.file}${s.line !== undefined ? `:${s.line}` : ''})`
}

function ruleText(r: RuleRef): string {
  return `${r.policy} ${r.direction.toLowerCase()}[${r.rule}]${where(r.ruleSource ?? r.source)}`
}

function policyText(p: PolicyRef): string {
  return `${p.policy}${where(p.source)}`
}

/** Describes how the engine decided one direction. */
export function describeDirection(name: 'egress' | 'ingress', d: DirectionVerdict): string {
  switch (d.note) {
    case 'not-a-pod':
      return `${name}: not a pod (no policy applies)`
    case 'host-network':
      return `${name}: hostNetwork pod (no policy applies)`
    case 'not-isolated':
      return `${name}: not isolated`
    case 'allowed-by-rule':
      return `${name}: allowed by ${d.allowedBy.map(ruleText).join(', ')}`
    case 'no-rule-matched':
      return `${name}: isolated by ${d.selectedBy.map(policyText).join(', ')}; no rule matched`
    case 'same-node-host':
      return `${name}: isolated by ${d.selectedBy.map(policyText).join(', ')}; the pod's own node always reaches it`
    case 'cluster-policy-accept':
    case 'cluster-policy-deny': {
      const r = d.decidedBy
      const rule = r
        ? `${r.tier} ClusterNetworkPolicy ${r.policy} ${r.direction.toLowerCase()}[${r.rule}]`
        : ''
      return `${name}: ${d.note === 'cluster-policy-accept' ? 'accepted' : 'denied'} by ${rule}${where(r?.ruleSource ?? r?.source)}`
    }
  }
}

/** Formats one mismatch as a line a person can act on. */
export function formatMismatch(m: Mismatch): string {
  const word = (b: boolean) => (b ? 'allowed' : 'denied')
  const head = `${m.from} -> ${m.to} ${m.port}: expected ${word(m.expected)}, observed ${word(m.observed)}${m.detail ? ` (${m.detail})` : ''}`
  const v = m.verdict
  if (!v) return head
  if (v.note === 'loopback') return `${head}\n    engine: a pod always reaches itself`
  if (v.note === 'same-node-host') return `${head}\n    engine: a node always reaches its own pods`
  return `${head}\n    engine: ${describeDirection('egress', v.egress)}\n            ${describeDirection('ingress', v.ingress)}`
}

/** Returns a mismatch as plain JSON (without the engine verdict): for `lab verify -o json` and saved fuzz cases. */
export function mismatchJSON(m: Mismatch) {
  return {
    port: m.port,
    from: m.from,
    to: m.to,
    expected: m.expected,
    observed: m.observed,
    detail: m.detail,
  }
}
