/** Port queries and how a rule's ports match them (docs/semantics.md, "Ports"). */
import type { Pod, PolicyPort, Protocol } from '../model/index.js'
import type { PortQuery } from './types.js'

/**
 * Parses '80/TCP', '80' (TCP), 'udp/53' or '53/udp' into a port query; returns an error message otherwise.
 */
export function parsePortSpec(text: string): PortQuery | string {
  const t = text.trim()
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(t) ?? /^(tcp|udp|sctp)\/(\d+)$/i.exec(t)
  if (!m) return `invalid port "${text}": expected PORT[/PROTOCOL] such as 80/TCP, 53/UDP or 3868/SCTP`
  const [num, proto] = /^\d/.test(m[1] as string) ? [m[1], m[2]] : [m[2], m[1]]
  const port = Number(num)
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    return `invalid port "${text}": must be between 1 and 65535, inclusive`
  return { port, protocol: (proto ?? 'TCP').toUpperCase() as Protocol }
}

/**
 * Returns true when one rule port admits the query. A named port is resolved on the destination pod:
 * it must declare a container port with that name and protocol whose number is the queried one.
 */
export function matchPolicyPort(p: PolicyPort, q: PortQuery, destination: Pod | undefined): boolean {
  if (p.protocol !== q.protocol) return false
  if (p.port === undefined) return true
  if (typeof p.port === 'number') {
    return p.endPort === undefined ? q.port === p.port : q.port >= p.port && q.port <= p.endPort
  }
  if (!destination) return false
  return destination.ports.some(
    (cp) => cp.name === p.port && cp.protocol === q.protocol && cp.containerPort === q.port,
  )
}

/** Returns true when a rule's ports admit the query (ports absent = every port of every protocol). */
export function matchRulePorts(
  ports: readonly PolicyPort[] | undefined,
  q: PortQuery,
  destination: Pod | undefined,
): boolean {
  return ports === undefined || ports.some((p) => matchPolicyPort(p, q, destination))
}

/** Returns the ports the pods declare, deduplicated and sorted by number then protocol. */
export function declaredPorts(pods: readonly Pod[]): PortQuery[] {
  const seen = new Map<string, PortQuery>()
  for (const pod of pods)
    for (const cp of pod.ports)
      seen.set(`${cp.containerPort}/${cp.protocol}`, { port: cp.containerPort, protocol: cp.protocol })
  return [...seen.values()].sort(
    (a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0),
  )
}
