/**
 * Renders a connection list as netpol-analyzer's `list` prints it (`src => dst : TCP 80,UDP 53`), as JSON,
 * CSV, Markdown and Graphviz dot. Never recomputes.
 */
import type { PortRange } from '../diff/index.js'
import type { Protocol } from '../model/index.js'
import type { Connection, ConnPeer } from './connlist.js'
import { peerName } from './connlist.js'
import type { Exposure, ExposureLevel, ExposureLine, ExposurePorts, WorkloadExposure } from './exposure.js'

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
export function renderConnlistDot(
  connections: readonly Connection[],
  all: readonly ConnPeer[] = [],
  extra: readonly string[] = [],
): string {
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
  out.push(...extra, '}')
  return `${out.join('\n')}\n`
}

/** Formats exposure ports: the numeric ranges as `formatConn`, then egress named ports (`TCP named http`). */
export function formatExposurePorts(p: ExposurePorts): string {
  const parts: string[] = []
  if (p.ranges.length > 0) parts.push(formatConn(p.ranges))
  for (const n of p.named) parts.push(`${n.protocol} named ${n.name}`)
  return parts.join(',')
}

const LEVEL_WORDS: Readonly<Record<ExposureLevel, string>> = {
  unprotected: 'not protected: any pod and any address',
  'entire-cluster': 'the entire cluster',
  namespaces: 'every pod of some namespaces',
  'selected-pods': 'selected pods only',
  none: 'no pod',
}

/** One phrase per direction: `the entire cluster, the internet`, `selected pods only, private addresses`. */
export function describeExposure(e: WorkloadExposure): string {
  const tiers = e.clusterPolicies
    ? `; ClusterNetworkPolicies ${e.clusterPolicies.join(', ')} also decide (the lines above read NetworkPolicy rules only; the connection list is exact)`
    : ''
  if (e.level === 'unprotected') return `${LEVEL_WORDS.unprotected}${tiers}`
  const outside = e.internet ? 'the internet' : e.outside ? 'private addresses only' : 'no outside address'
  return `${LEVEL_WORDS[e.level]}; ${outside}${tiers}`
}

const arrow = (d: ExposureLine['direction']) => (d === 'Ingress' ? '<=' : '=>')

const exposureConn = (l: ExposureLine): string => {
  const partial =
    l.count !== undefined && l.of !== undefined && l.count !== l.of ? ` (${l.count} of ${l.of} pods)` : ''
  const today = l.today.length > 0 ? ` (today: ${l.today.join(', ')})` : ''
  return `${formatExposurePorts(l.ports)}${partial}${today}`
}

/** The exposure section of `connlist --exposure`, netpol-analyzer's layout plus a summary per workload. */
export function renderExposureText(e: Exposure, names: ReadonlyMap<string, string>): string {
  const name = (key: string) => names.get(key) ?? key
  const width = Math.max(0, ...e.lines.map((l) => name(l.workload).length))
  const out = [
    'Exposure (from the rules of the policies that select each workload: pods and namespaces that do not exist yet count):',
  ]
  for (const direction of ['Ingress', 'Egress'] as const) {
    out.push(`${direction} Exposure:`)
    for (const l of e.lines.filter((x) => x.direction === direction))
      out.push(`${name(l.workload).padEnd(width)} ${arrow(direction)} ${l.peerText} : ${exposureConn(l)}`)
    out.push('')
  }
  out.push('Summary (who may reach each workload; whom it may reach):')
  const keys = [...new Set(e.workloads.map((w) => w.workload))]
  for (const key of keys) {
    const of = (d: 'Ingress' | 'Egress') => e.workloads.find((w) => w.workload === key && w.direction === d)
    const ing = of('Ingress')
    const eg = of('Egress')
    out.push(
      `${name(key).padEnd(width)} ingress from ${ing ? describeExposure(ing) : '?'}; egress to ${eg ? describeExposure(eg) : '?'}`,
    )
  }
  return `${out.join('\n')}\n`
}

/** The exposure as data (JSON, YAML). */
export function exposureToJSON(e: Exposure, names: ReadonlyMap<string, string>) {
  return {
    lines: e.lines.map((l) => ({
      workload: names.get(l.workload) ?? l.workload,
      direction: l.direction,
      peer: l.peerText,
      conn: formatExposurePorts(l.ports),
      ports: l.ports.ranges.map((r) => ({ protocol: r.protocol, from: r.from, to: r.to })),
      namedPorts: l.ports.named,
      today: l.today,
      ...(l.count === undefined ? {} : { count: l.count, of: l.of }),
    })),
    workloads: e.workloads.map((w) => ({
      workload: names.get(w.workload) ?? w.workload,
      direction: w.direction,
      level: w.level,
      internet: w.internet,
      outside: w.outside,
      summary: describeExposure(w),
    })),
  }
}

/** The exposure as Markdown tables (after the connection table). */
export function renderExposureMarkdown(e: Exposure, names: ReadonlyMap<string, string>): string {
  const name = (key: string) => names.get(key) ?? key
  const out = ['## Exposure']
  for (const direction of ['Ingress', 'Egress'] as const) {
    out.push(`### ${direction} Exposure`, '| workload | peer | conn |', '|-----|-----|------|')
    for (const l of e.lines.filter((x) => x.direction === direction))
      out.push(`| ${mdCell(name(l.workload))} | ${mdCell(l.peerText)} | ${mdCell(exposureConn(l))} |`)
    out.push('')
  }
  out.push('### Summary', '| workload | ingress from | egress to |', '|-----|-----|------|')
  for (const key of [...new Set(e.workloads.map((w) => w.workload))]) {
    const of = (d: 'Ingress' | 'Egress') => e.workloads.find((w) => w.workload === key && w.direction === d)
    const ing = of('Ingress')
    const eg = of('Egress')
    out.push(
      `| ${mdCell(name(key))} | ${ing ? describeExposure(ing) : ''} | ${eg ? describeExposure(eg) : ''} |`,
    )
  }
  return `${out.join('\n')}\n`
}

/** The exposure as CSV rows: direction,workload,peer,conn,count,of. */
export function renderExposureCSV(e: Exposure, names: ReadonlyMap<string, string>): string {
  const rows = [['direction', 'workload', 'peer', 'conn', 'count', 'of']]
  for (const l of e.lines)
    rows.push([
      l.direction,
      names.get(l.workload) ?? l.workload,
      l.peerText,
      formatExposurePorts(l.ports),
      l.count === undefined ? '' : String(l.count),
      l.of === undefined ? '' : String(l.of),
    ])
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`
}

/** Exposure edges for the dot graph: dashed, from or to a diamond per selector peer. */
export function exposureDotLines(e: Exposure, names: ReadonlyMap<string, string>): string[] {
  const out: string[] = []
  const peers = new Set<string>()
  for (const l of e.lines) {
    if (l.peer.kind === 'external') continue // outside addresses are already edges of the connection list
    peers.add(l.peerText)
    const w = dotQuote(names.get(l.workload) ?? l.workload)
    const p = dotQuote(l.peerText)
    const [from, to] = l.direction === 'Ingress' ? [p, w] : [w, p]
    out.push(
      `\t${from} -> ${to} [label=${dotQuote(exposureConn(l))} color="darkorange2" fontcolor="darkgreen" style=dashed]`,
    )
  }
  return [
    ...[...peers]
      .sort(compare)
      .map((p) => `\t${dotQuote(p)} [label=${dotQuote(p)} color="red2" fontcolor="red2" shape=diamond]`),
    ...out,
  ]
}
