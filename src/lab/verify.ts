/**
 * `lab verify`: build the lab, load every node's compiled rules, probe, compare with the engine, tear
 * down. The lab proves analysis == kernel: any cell where they differ is reported with the policy and
 * rule that decided it.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Matrix, PortQuery } from '../engine/index.js'
import type { ClusterState, Diagnostic, Family } from '../model/index.js'
import { compareLab, expectedLabMatrix, formatMismatch, type Mismatch } from './compare.js'
import { renderClusterYAML } from './manifests.js'
import { startNodeAgents } from './node-agents.js'
import { type LabMode, planLab } from './plan.js'
import { cellKey, type ProbeOptions, type ProbeResult, probeCells, probeLab, subMatrix } from './probe.js'
import { applyLabRules, type LabBackend, labBackend } from './rules.js'
import { startAgents } from './server.js'
import { buildLab, destroyLab, type Lab, newLabPrefix, teardownOnSignals } from './topology.js'

export interface UpOptions {
  readonly mode?: LabMode
  /** Address family of the lab (default 4; 6 = every pod, node and outside host IPv6 only). */
  readonly family?: Family
  readonly backend?: LabBackend
  readonly nodes?: number
  /** Bridge mode: set net.bridge.bridge-nf-call-iptables (default true; the compiler requires it). */
  readonly bridgeNetfilter?: boolean
  /** Progress lines (to stderr in the CLI). */
  readonly log?: (line: string) => void
  /** Ports to serve and probe (default: declared container ports plus numeric policy ports). */
  readonly ports?: readonly PortQuery[]
  /** Namespace prefix to use (default: a fresh one). */
  readonly prefix?: string
  /** Load each node's compiled rules (default true); false leaves the nodes open, for agents to program. */
  readonly rules?: boolean
  /**
   * Enforce with one `palisade agent --from-dir` process per node (reading the lab's cluster as
   * manifests) instead of loading the compiled rules directly: proves the agent, not only the compiler.
   */
  readonly agents?: boolean
}

export interface UpResult {
  readonly lab: Lab
  readonly diagnostics: readonly Diagnostic[]
  readonly warnings: readonly string[]
  readonly timings: Readonly<Record<string, number>>
}

/** Builds a lab for the cluster, starts its agents and loads the compiled rules; tears down when a step fails. */
export async function upLab(cluster: ClusterState, opts: UpOptions = {}): Promise<UpResult> {
  const log = opts.log ?? (() => undefined)
  const backend = opts.backend ?? 'nftables'
  const timings: Record<string, number> = {}
  let t = Date.now()
  const lap = (name: string) => {
    timings[name] = Date.now() - t
    t = Date.now()
  }
  const prefix = opts.prefix ?? (await newLabPrefix())
  const plan = planLab(cluster, {
    prefix,
    mode: opts.mode ?? 'routed',
    ...(opts.family ? { family: opts.family } : {}),
    nodes: opts.nodes ?? 2,
    ...(opts.ports ? { ports: opts.ports } : {}),
  })
  for (const n of plan.notes) log(`note: ${n}`)
  const lab = await buildLab(plan, { backend, bridgeNetfilter: opts.bridgeNetfilter })
  lap('topologyMs')
  try {
    log(
      `lab ${prefix} up (${plan.mode}): ${plan.nodes.length} nodes, ${plan.pods.length} pods, ${plan.outside?.addresses.length ?? 0} outside addresses, ports ${plan.ports.map((p) => `${p.port}/${p.protocol}`).join(' ')}`,
    )
    await startAgents(lab)
    lap('agentsMs')
    if (opts.rules === false) return { lab, diagnostics: [], warnings: [], timings }
    if (opts.agents === true) {
      const dir = join(lab.stateDir, 'manifests')
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, 'cluster.yaml'), renderClusterYAML(plan.cluster))
      const agents = await startNodeAgents(lab, {
        source: { fromDir: dir },
        backend: labBackend(backend).backend,
        ...labBackend(backend).target,
        // routed nodes have one /32 (/128) route per pod veth, as Calico makes them: anti-spoofing on
        podInterfaces: plan.mode === 'routed' ? 'routes' : 'none',
      })
      lap('rulesMs')
      log(`${agents.length} palisade agents enforce ${dir} (logs in ${join(lab.stateDir, 'node-agents')})`)
      return { lab, diagnostics: [], warnings: [], timings }
    }
    const applied = await applyLabRules(lab, backend)
    lap('rulesMs')
    for (const w of applied.warnings) log(`warning: ${w}`)
    const s = applied.rulesets.reduce((a, r) => a + r.stats.rules, 0)
    log(`${backend} rules loaded on ${applied.rulesets.length} nodes (${s} rules)`)
    return { lab, diagnostics: applied.diagnostics, warnings: applied.warnings, timings }
  } catch (err) {
    await destroyLab(prefix)
    throw err
  }
}

export interface VerifyOptions extends UpOptions {
  /** Leave the lab running afterwards (`lab down` removes it). */
  readonly keep?: boolean
  readonly probe?: ProbeOptions
  /** Probe differing cells a second time with a long timeout before calling them wrong (default true). */
  readonly recheck?: boolean
  /** Test hook: compare with this matrix instead of the engine's (proves the comparison can fail). */
  readonly expectedOverride?: (expected: Matrix) => Matrix
}

export interface VerifyReport {
  readonly prefix: string
  readonly expected: Matrix
  readonly observed: ProbeResult
  readonly mismatches: readonly Mismatch[]
  readonly diagnostics: readonly Diagnostic[]
  readonly warnings: readonly string[]
  readonly timings: Readonly<Record<string, number>>
  /** True when the lab was kept (not torn down). */
  readonly kept: boolean
}

/** Verifies that the kernel, running the compiled rules, does exactly what the engine predicts. */
export async function verifyCluster(cluster: ClusterState, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const t0 = Date.now()
  const prefix = opts.prefix ?? (await newLabPrefix())
  const unregister = teardownOnSignals(() => destroyLab(prefix))
  try {
    const up = await upLab(cluster, { ...opts, prefix })
    const tProbe = Date.now()
    let observed = await probeLab(up.lab, opts.probe)
    const probeMs = Date.now() - tProbe
    const engine = expectedLabMatrix(up.lab)
    const expected = opts.expectedOverride ? opts.expectedOverride(engine) : engine
    let mismatches = compareLab(up.lab, expected, observed.full, observed.details)
    if (mismatches.length > 0 && opts.recheck !== false) {
      // A busy machine can delay an allowed answer past the timeout: probe every differing cell again with a
      // long timeout; a cell is wrong only when the second look agrees with the first.
      const again = await probeCells(up.lab, mismatches, { timeoutMs: 3000 })
      const confirmed = mismatches.filter((m) => {
        const d = again.get(cellKey(m.port, m.from, m.to))
        return d === undefined || d.ok === m.observed
      })
      if (confirmed.length < mismatches.length) {
        opts.log?.(
          `${mismatches.length - confirmed.length} differing probes answered as predicted on a second look (slow machine?)`,
        )
        const full = withCells(
          observed.full,
          mismatches.filter((m) => !confirmed.includes(m)),
        )
        observed = {
          ...observed,
          full,
          pods: subMatrix(
            full,
            up.lab.plan.pods.map((p) => p.key),
          ),
        }
      }
      mismatches = confirmed
    }
    return {
      prefix,
      expected,
      observed,
      mismatches,
      diagnostics: up.diagnostics,
      warnings: up.warnings,
      timings: { ...up.timings, probeMs, totalMs: Date.now() - t0 },
      kept: opts.keep === true,
    }
  } finally {
    if (opts.keep !== true) await destroyLab(prefix)
    unregister()
  }
}

/** Returns a copy of the matrix with the given cells flipped (cells a second look answered the other way). */
function withCells(m: Matrix, flip: readonly Mismatch[]): Matrix {
  const cells = m.cells.map((c) => c.slice())
  const n = m.pods.length
  for (const f of flip) {
    const k = m.ports.indexOf(f.port)
    ;(cells[k] as Uint8Array)[m.pods.indexOf(f.from) * n + m.pods.indexOf(f.to)] = f.observed ? 0 : 1
  }
  return { ...m, cells }
}

/** Formats a verify report: a summary line, then every mismatch with the policy and rule that decided it. */
export function formatVerifyReport(r: VerifyReport): string {
  const o = r.observed
  const lines: string[] = []
  const allowed = o.full.cells.reduce((s, c) => s + c.filter((x) => x === 1).length, 0)
  lines.push(
    `lab ${r.prefix}: ${o.probes} probes (${allowed} allowed), ${o.probes - r.mismatches.length} as predicted, ${r.mismatches.length} wrong; probes took ${o.wallMs} ms, total ${r.timings.totalMs ?? 0} ms`,
  )
  for (const m of r.mismatches) lines.push(`MISMATCH ${formatMismatch(m)}`)
  if (r.kept)
    lines.push(
      `lab ${r.prefix} kept: \`palisade lab probe --lab ${r.prefix.replace(/-$/, '')}\`, \`palisade lab down\``,
    )
  return lines.join('\n')
}
