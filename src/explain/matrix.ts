/** Renders a reachability matrix as a table, CSV or Graphviz dot. Never recomputes. */
import type { Matrix } from '../engine/index.js'
import { CELL_ALLOWED, CELL_DENIED } from '../engine/index.js'

const mark = (v: number | undefined) => (v === CELL_ALLOWED ? '.' : v === CELL_DENIED ? 'X' : '?')

/**
 * Renders one grid per distinct matrix: sources are rows, destinations columns; '.' allowed, 'X' denied,
 * '?' not evaluated. Ports whose grids are identical share one grid headed by all of them (53/TCP and
 * 53/UDP usually do). Columns are numbered, with a legend, so wide clusters stay readable.
 */
export function renderMatrixTable(m: Matrix): string {
  const n = m.pods.length
  const out: string[] = []
  const width = Math.max(4, ...m.pods.map((p) => p.length))
  const num = String(Math.max(n, 1)).length
  const grids: { ports: string[]; cells: Uint8Array }[] = []
  const same = (a: Uint8Array, b: Uint8Array): boolean =>
    a.length === b.length && a.every((v, i) => v === b[i])
  m.ports.forEach((port, k) => {
    const cells = m.cells[k] as Uint8Array
    const g = grids.find((x) => same(x.cells, cells))
    if (g) g.ports.push(port)
    else grids.push({ ports: [port], cells })
  })
  for (const { ports, cells } of grids) {
    let allowed = 0
    for (let i = 0; i < n * n; i++) if (cells[i] === CELL_ALLOWED) allowed++
    out.push(
      `${ports.join(', ')}: ${allowed} of ${n * n} pairs allowed ('.' allowed, 'X' denied; rows = from, columns = to)`,
    )
    out.push(`${''.padEnd(width + num + 3)}${m.pods.map((_, j) => String(j + 1).padStart(num)).join(' ')}`)
    m.pods.forEach((src, i) => {
      const row = m.pods.map((_, j) => mark(cells[i * n + j]).padStart(num)).join(' ')
      out.push(`${String(i + 1).padStart(num)}  ${src.padEnd(width)} ${row}`)
    })
    out.push('')
  }
  return out.join('\n')
}

/** Renders `port,from,to,allowed` rows with a header. */
export function renderMatrixCSV(m: Matrix): string {
  const n = m.pods.length
  const lines = ['port,from,to,allowed']
  m.ports.forEach((port, k) => {
    const cells = m.cells[k] as Uint8Array
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = cells[i * n + j]
        lines.push(
          `${port},${m.pods[i]},${m.pods[j]},${v === CELL_ALLOWED ? 'true' : v === CELL_DENIED ? 'false' : ''}`,
        )
      }
    }
  })
  return `${lines.join('\n')}\n`
}

/** Renders a Graphviz digraph: one edge per allowed pair (self loops left out), labelled with its ports. */
export function renderMatrixDot(m: Matrix): string {
  const n = m.pods.length
  const q = (s: string) => `"${s.replace(/"/g, '\\"')}"`
  const lines = ['digraph reachability {', '  rankdir=LR;', '  node [shape=box];']
  const byNs = new Map<string, string[]>()
  for (const p of m.pods) {
    const ns = p.split('/')[0] as string
    byNs.set(ns, [...(byNs.get(ns) ?? []), p])
  }
  for (const [ns, pods] of byNs) {
    lines.push(`  subgraph ${q(`cluster_${ns}`)} {`, `    label=${q(ns)};`)
    for (const p of pods) lines.push(`    ${q(p)};`)
    lines.push('  }')
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue
      const ports = m.ports.filter((_, k) => (m.cells[k] as Uint8Array)[i * n + j] === CELL_ALLOWED)
      if (ports.length > 0)
        lines.push(`  ${q(m.pods[i] as string)} -> ${q(m.pods[j] as string)} [label=${q(ports.join(','))}];`)
    }
  }
  lines.push('}')
  return `${lines.join('\n')}\n`
}
