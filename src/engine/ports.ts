/** Port queries as a user types them, and the ports a matrix shows (how rules match ports: src/semantics). */
import type { Pod, Protocol } from '../model/index.js'
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
