/**
 * Ports: how a rule's ports admit a connection's port (docs/semantics.md, "Ports"), and named ports,
 * which are resolved on the destination pod of the connection ("Named ports").
 */
import type { ContainerPort, Pod, PolicyPort, Protocol } from '../model/index.js'
import { isPolicyEndpoint } from './endpoints.js'

/** A port to evaluate: a concrete number and protocol (named ports are resolved per destination pod). */
export interface PortQuery {
  readonly protocol: Protocol
  readonly port: number
}

/** Returns true when a container port carries the name and protocol a named rule port asks for. */
export function matchNamedPort(cp: ContainerPort, name: string, protocol: Protocol): boolean {
  return cp.name === name && cp.protocol === protocol
}

/** Returns true when the pod declares a container port with that name and protocol (and number, when given). */
export function declaresNamedPort(pod: Pod, name: string, protocol: Protocol, port?: number): boolean {
  return pod.ports.some(
    (cp) => matchNamedPort(cp, name, protocol) && (port === undefined || cp.containerPort === port),
  )
}

/**
 * Returns true when one rule port admits the query. A named port is resolved on the destination pod:
 * it must declare a container port with that name and protocol whose number is the queried one, and be
 * a policy endpoint (a hostNetwork pod's ports are its node's: docs/semantics.md, "Named ports").
 */
export function matchPolicyPort(p: PolicyPort, q: PortQuery, destination: Pod | undefined): boolean {
  if (p.protocol !== q.protocol) return false
  if (p.port === undefined) return true
  if (typeof p.port === 'number') {
    return p.endPort === undefined ? q.port === p.port : q.port >= p.port && q.port <= p.endPort
  }
  return (
    destination !== undefined &&
    isPolicyEndpoint(destination) &&
    declaresNamedPort(destination, p.port, q.protocol, q.port)
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
