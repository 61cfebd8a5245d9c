/**
 * Every port, exactly: the ports of all protocols split into ranges on which no policy and no pod can
 * tell two ports apart, so that one evaluation per range stands for each of its ports.
 */
import type { PortQuery } from '../engine/index.js'
import type { ClusterState, Protocol } from '../model/index.js'
import { PROTOCOLS } from '../model/index.js'

export interface PortRange {
  readonly protocol: Protocol
  readonly from: number
  readonly to: number
}

/** A set of port ranges that behave alike, with the port that is evaluated for all of them. */
export interface PortGroup {
  readonly query: PortQuery
  readonly ranges: readonly PortRange[]
}

const MAX_PORT = 65535

/**
 * Splits 1-65535 of every protocol into ranges bounded by every numeric rule port and endPort (of
 * NetworkPolicies and ClusterNetworkPolicies) and every
 * declared container port (named ports resolve to those) of the given clusters, then groups the ranges
 * by signature: which rule ports match them and which container ports (by name) they are. Ranges of one
 * group get the same verdict for every pair, so the group's first port is evaluated for all of them.
 */
export function portGroups(clusters: readonly ClusterState[]): PortGroup[] {
  const ports: { protocol: Protocol; port?: number | string; endPort?: number }[] = []
  const named = new Map<string, Set<string>>() // 'PROTO/number' -> names of container ports
  for (const c of clusters) {
    for (const pol of c.policies)
      for (const rule of [...pol.ingress, ...pol.egress]) for (const p of rule.ports ?? []) ports.push(p)
    // ClusterNetworkPolicy protocols: a named port is a name of any protocol.
    for (const pol of c.clusterPolicies ?? [])
      for (const rule of [...pol.ingress, ...pol.egress])
        for (const p of rule.ports ?? []) {
          if (p.kind === 'named') for (const protocol of PROTOCOLS) ports.push({ protocol, port: p.name })
          else
            ports.push({
              protocol: p.protocol,
              port: p.port,
              ...(p.endPort === undefined ? {} : { endPort: p.endPort }),
            })
        }
    for (const pod of c.pods) {
      for (const cp of pod.ports) {
        const key = `${cp.protocol}/${cp.containerPort}`
        let names = named.get(key)
        if (!names) {
          names = new Set()
          named.set(key, names)
        }
        names.add(cp.name ?? '')
      }
    }
  }
  const groups = new Map<string, { query: PortQuery; ranges: PortRange[] }>()
  for (const protocol of PROTOCOLS) {
    const cuts = new Set<number>([1, MAX_PORT + 1])
    for (const p of ports) {
      if (p.protocol !== protocol || typeof p.port !== 'number') continue
      cuts.add(p.port)
      cuts.add((p.endPort ?? p.port) + 1)
    }
    for (const key of named.keys()) {
      const [proto, num] = key.split('/') as [string, string]
      if (proto !== protocol) continue
      cuts.add(Number(num))
      cuts.add(Number(num) + 1)
    }
    const sorted = [...cuts].filter((n) => n >= 1 && n <= MAX_PORT + 1).sort((a, b) => a - b)
    for (let i = 0; i + 1 < sorted.length; i++) {
      const from = sorted[i] as number
      const to = (sorted[i + 1] as number) - 1
      const sig = signature(protocol, from, ports, named)
      let g = groups.get(sig)
      if (!g) {
        g = { query: { protocol, port: from }, ranges: [] }
        groups.set(sig, g)
      }
      g.ranges.push({ protocol, from, to })
    }
  }
  return [...groups.values()]
}

/**
 * Which rule ports admit the port (the only input to a verdict besides the pods). A port some container
 * declares is its own group when a rule names ports of its protocol: a named port resolves to a number
 * per destination pod.
 */
function signature(
  protocol: Protocol,
  port: number,
  ports: readonly { protocol: Protocol; port?: number | string; endPort?: number }[],
  named: ReadonlyMap<string, ReadonlySet<string>>,
): string {
  let bits = ''
  let namedRule = false
  for (const p of ports) {
    if (p.protocol !== protocol) bits += '0'
    else if (p.port === undefined) bits += '1'
    else if (typeof p.port === 'number') bits += port >= p.port && port <= (p.endPort ?? p.port) ? '1' : '0'
    else {
      bits += '0'
      namedRule = true
    }
  }
  return namedRule && named.has(`${protocol}/${port}`) ? `${bits}|${protocol}/${port}` : bits
}

/** Turns explicit port queries into one group each (for --ports). */
export function explicitPortGroups(queries: readonly PortQuery[]): PortGroup[] {
  return queries.map((q) => ({ query: q, ranges: [{ protocol: q.protocol, from: q.port, to: q.port }] }))
}

/** Sorts ranges by protocol order then port and joins adjacent ones. */
export function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const order = (p: Protocol) => PROTOCOLS.indexOf(p)
  const sorted = [...ranges].sort((a, b) => order(a.protocol) - order(b.protocol) || a.from - b.from)
  const out: PortRange[] = []
  for (const r of sorted) {
    const last = out[out.length - 1]
    if (last && last.protocol === r.protocol && r.from <= last.to + 1) {
      out[out.length - 1] = { ...last, to: Math.max(last.to, r.to) }
    } else out.push(r)
  }
  return out
}

const rangeText = (r: { from: number; to: number }): string =>
  r.from === r.to ? String(r.from) : `${r.from}-${r.to}`

/**
 * Formats ranges for people: '80/TCP', '8000-8080/TCP', 'every TCP port', 'every TCP port except 80',
 * 'every port' (all three protocols whole).
 */
export function formatPortRanges(ranges: readonly PortRange[]): string {
  const merged = mergeRanges(ranges)
  const parts: string[] = []
  const whole: Protocol[] = []
  for (const protocol of PROTOCOLS) {
    const mine = merged.filter((r) => r.protocol === protocol)
    if (mine.length === 0) continue
    const count = mine.reduce((n, r) => n + r.to - r.from + 1, 0)
    if (count === MAX_PORT) {
      whole.push(protocol)
      continue
    }
    if (count > MAX_PORT / 2) {
      const holes: { from: number; to: number }[] = []
      let next = 1
      for (const r of mine) {
        if (r.from > next) holes.push({ from: next, to: r.from - 1 })
        next = r.to + 1
      }
      if (next <= MAX_PORT) holes.push({ from: next, to: MAX_PORT })
      parts.push(`every ${protocol} port except ${holes.map(rangeText).join(', ')}`)
    } else parts.push(mine.map((r) => `${rangeText(r)}/${protocol}`).join(', '))
  }
  if (whole.length === PROTOCOLS.length) return 'every port'
  const wholeText = whole.map((p) => `every ${p} port`)
  return [...wholeText, ...parts].join(', ')
}
