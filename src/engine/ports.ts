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

/** A port given by name (`http`, `http/TCP`), as an IANA_SVC_NAME: resolved on the destination pod. */
export interface NamedPortSpec {
  readonly name: string
  readonly protocol?: Protocol
}

/** Parses `http` or `http/TCP` (a name has a letter, as IANA_SVC_NAME requires); undefined otherwise. */
export function parseNamedPortSpec(text: string): NamedPortSpec | undefined {
  const m = /^([a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?)(?:\/(tcp|udp|sctp))?$/i.exec(text.trim())
  if (!m || !/[a-z]/i.test(m[1] as string)) return undefined
  const name = m[1] as string
  return m[3] === undefined ? { name } : { name, protocol: (m[3] as string).toUpperCase() as Protocol }
}

/**
 * Resolves a named port on a pod, as a rule's named port resolves on the destination (src/semantics): the
 * container port with that name (and protocol, when given). Returns an error message naming what the pod
 * declares when none matches.
 */
export function resolveNamedPort(pod: Pod, spec: NamedPortSpec): PortQuery | string {
  const found = pod.ports.find(
    (p) => p.name === spec.name && (spec.protocol === undefined || p.protocol === spec.protocol),
  )
  if (found) return { port: found.containerPort, protocol: found.protocol }
  const named = pod.ports.filter((p) => p.name !== undefined)
  const declared =
    named.length === 0
      ? 'it declares no named port'
      : `it declares: ${named.map((p) => `${p.name} ${p.containerPort}/${p.protocol}`).join(', ')}`
  const what = spec.protocol === undefined ? `"${spec.name}"` : `"${spec.name}" of protocol ${spec.protocol}`
  return `${pod.namespace}/${pod.name} declares no container port named ${what} (${declared})`
}
