/**
 * Renders a connection list as netpol-analyzer's `list` prints it (`src => dst : TCP 80,UDP 53`), as JSON,
 * CSV, Markdown and Graphviz dot. Never recomputes.
 */
import type { PortRange } from '../diff/index.js'
import type { Protocol } from '../model/index.js'
import type { Connection, ConnPeer } from './connlist.js'
import { peerName } from './connlist.js'

const MAX_PORT = 65535
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Formats ports as netpol-analyzer does: protocols in alphabetical order, each with its ranges
 * (`SCTP 1-65535,TCP 80,8080-8090`), and `All Connections` for every port of every protocol.
 */
export function formatConn(ports: readonly PortRange[]): string {
  const by = new Map<Protocol, PortRange[]>()
  for (const r of ports) {
    const list = by.get(r.protocol)
    if (list) list.push(r)
    else by.set(r.protocol, [r])
  }
  const whole = (rs: readonly PortRange[] | undefined) =>
    rs !== undefined && rs.reduce((n, r) => n + r.to - r.from + 1, 0) === MAX_PORT
  if (by.size === 3 && [...by.values()].every(whole)) return 'All Connections'
  return [...by.keys()]
    .sort(compare)
    .map((p) => {
      const rs = [...(by.get(p) as PortRange[])].sort((a, b) => a.from - b.from)
      return `${p} ${rs.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(',')}`
    })
    .join(',')
}

/** Says how many replicas a connection holds for, when not every one: ` (2 of 6 pod pairs)`. */
export function partialNote(c: Connection): string {
  if (c.count === c.of) return ''
  const unit = c.src.kind === 'workload' && c.dst.kind === 'workload' ? 'pod pairs' : 'pods'
  return ` (${c.count} of ${c.of} ${unit})`
}

/** One line per connection: `src => dst : conn`. */
export function renderConnlistText(connections: readonly Connection[]): string {
  if (connections.length === 0) return 'no connection is allowed\n'
  return connections
    .map((c) => `${peerName(c.src)} => ${peerName(c.dst)} : ${formatConn(c.ports)}${partialNote(c)}\n`)
    .join('')
}

const peerJSON = (p: ConnPeer) =>
  p.kind === 'workload'
    ? { kind: 'workload', namespace: p.namespace, name: p.name, workloadKind: p.workloadKind, pods: p.pods }
    : { kind: 'external', cidrs: p.cidrs }

/** The JSON entries: netpol-analyzer's `src`, `dst`, `conn`, and the structured facts behind them. */
export function connlistToJSON(connections: readonly Connection[]) {
  return connections.map((c) => ({
    src: peerName(c.src),
    dst: peerName(c.dst),
    conn: formatConn(c.ports),
    ports: c.ports.map((r) => ({ protocol: r.protocol, from: r.from, to: r.to })),
    count: c.count,
    of: c.of,
    srcPeer: peerJSON(c.src),
    dstPeer: peerJSON(c.dst),
  }))
}

const csvCell = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)

/** CSV with a header: src,dst,conn,count,of. */
export function renderConnlistCSV(connections: readonly Connection[]): string {
  const rows = [['src', 'dst', 'conn', 'count', 'of']]
  for (const c of connections)
    rows.push([peerName(c.src), peerName(c.dst), formatConn(c.ports), String(c.count), String(c.of)])
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`
}

const mdCell = (s: string): string => s.replace(/\|/g, '\\|')

/** A Markdown table: | src | dst | conn |. */
export function renderConnlistMarkdown(connections: readonly Connection[]): string {
  const lines = ['| src | dst | conn |', '|-----|-----|------|']
  for (const c of connections)
    lines.push(
      `| ${mdCell(peerName(c.src))} | ${mdCell(peerName(c.dst))} | ${mdCell(formatConn(c.ports) + partialNote(c))} |`,
    )
  return `${lines.join('\n')}\n`
}

const dotQuote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`

/** Graphviz dot: workloads grouped by namespace, outside addresses in red, edges labelled with the ports. */
export function renderConnlistDot(connections: readonly Connection[], all: readonly ConnPeer[] = []): string {
  const nodes = new Map<string, ConnPeer>()
  for (const p of all) nodes.set(peerName(p), p)
  for (const c of connections) {
    nodes.set(peerName(c.src), c.src)
    nodes.set(peerName(c.dst), c.dst)
  }
  const byNs = new Map<string, { id: string; label: string }[]>()
  const outside: string[] = []
  for (const [id, p] of [...nodes].sort(([a], [b]) => compare(a, b))) {
    if (p.kind === 'external') {
      outside.push(id)
      continue
    }
    const list = byNs.get(p.namespace) ?? []
    list.push({ id, label: `${p.name}[${p.workloadKind}]` })
    byNs.set(p.namespace, list)
  }
  const out = ['digraph {']
  for (const [ns, list] of [...byNs].sort(([a], [b]) => compare(a, b))) {
    out.push(`\tsubgraph ${dotQuote(`cluster_${ns}`)} {`)
    for (const n of list)
      out.push(`\t\t${dotQuote(n.id)} [label=${dotQuote(n.label)} color="blue" fontcolor="blue"]`)
    out.push(`\t\tlabel=${dotQuote(ns)}`, '\t}')
  }
  for (const id of outside)
    out.push(`\t${dotQuote(id)} [label=${dotQuote(id)} color="red2" fontcolor="red2"]`)
  for (const c of connections) {
    const label = formatConn(c.ports) + partialNote(c)
    out.push(
      `\t${dotQuote(peerName(c.src))} -> ${dotQuote(peerName(c.dst))} [label=${dotQuote(label)} color="gold2" fontcolor="darkgreen"]`,
    )
  }
  out.push('}')
  return `${out.join('\n')}\n`
}
