/**
 * Phase 3 of a node build: the elements of every declared set, cluster-wide. Which pods a pods set
 * holds is src/semantics' answer (the pod index and matchPodsPeer); this file only turns pods into
 * sorted addresses, from scratch or by patching the previous build's elements for the pods that changed.
 */
import { type Family, type Node, parseIP } from '../model/index.js'
import {
  declaresNamedPort,
  matchNamedPort,
  matchNodeLabels,
  matchPodsPeer,
  type NamespaceIndex,
  type PodAddress,
  type PodIndex,
  parseIPv4Number,
  podAddresses,
  renderSelector,
  selectGroups,
} from '../semantics/index.js'
import type { IRAddressSet, IRNamedPortSet, IRSet, IRSetOrigin } from './ir.js'
import { byAddress, sameItems } from './order.js'
import { type AddressIndex, holdersOf, type PodFacts } from './pod-facts.js'
import type { SetSpec } from './set-specs.js'

/** What filling sets reads. */
export interface FillContext {
  readonly node: string
  readonly local: readonly PodFacts[]
  /** The programmable pods (listed on first use). */
  readonly programmable: () => readonly PodFacts[]
  /** The pod index of the programmable pods, built (or brought up to date) on first use. */
  readonly podIndex: () => PodIndex<PodFacts>
  readonly namespaces: NamespaceIndex
  /** The cluster's Node objects (ClusterNetworkPolicy `nodes` peers). */
  readonly nodes: readonly Node[]
}

export type SetElements = IRAddressSet['elements'] | IRNamedPortSet['elements']

/** Returns true when the pod is in the pods set (the peer matches its namespace and labels). */
function inPodsSet(ctx: FillContext, s: SetSpec & { kind: 'pods' }, p: PodFacts): boolean {
  return matchPodsPeer(ctx.namespaces, s.matcher, p.pod)
}

/** Returns true when the pod contributes (its address, port) to the named-port set. */
function inNamedSet(ctx: FillContext, s: SetSpec & { kind: 'named' }, p: PodFacts, port: number): boolean {
  return (
    (s.scope === 'cluster' || p.pod.nodeName === ctx.node) &&
    declaresNamedPort(p.pod, s.portName, s.protocol, port)
  )
}

/** Returns the changed pods (added or removed since the last build) that are or were in the set. */
export function hitsOf(ctx: FillContext, s: SetSpec, changed: readonly PodFacts[]): PodFacts[] {
  if (s.kind === 'ipBlock' || s.kind === 'nodes') return []
  const hits: PodFacts[] = []
  for (const p of changed) {
    if (!p.ips.some((ip) => ip.family === s.family)) continue
    if (s.kind === 'named') {
      if (
        (s.scope === 'cluster' || p.pod.nodeName === ctx.node) &&
        declaresNamedPort(p.pod, s.portName, s.protocol)
      )
        hits.push(p)
    } else if (inPodsSet(ctx, s, p)) hits.push(p)
  }
  return hits
}

/** Returns the numeric value of a canonical address of `family` (elements of one set share it). */
function addressValue(family: Family, text: string): { num: number; big: bigint } {
  if (family === 4) return { num: parseIPv4Number(text) ?? 0, big: 0n }
  return { num: 0, big: parseIP(text)?.value ?? 0n }
}

/** Returns the first index of sorted elements whose (address, port) is not below (ip, port). */
function lowerBound<E>(
  elements: readonly E[],
  family: Family,
  ip: PodAddress,
  port: number,
  parts: (e: E) => { readonly address: string; readonly port: number },
): number {
  let lo = 0
  let hi = elements.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const e = parts(elements[mid] as E)
    const below = byAddress(addressValue(family, e.address), ip) || e.port - port
    if (below < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Returns the set's elements updated for the changed pods that are or were in it: addresses of
 * pods still present are inserted, addresses of pods gone are removed unless another current pod
 * of the set holds them. Sorted as a refill would sort them.
 */
export function patchElements(
  ctx: FillContext,
  s: SetSpec,
  prev: SetElements,
  hits: readonly PodFacts[],
  epoch: number,
  byAddress: AddressIndex,
): SetElements {
  if (s.kind === 'ipBlock' || s.kind === 'nodes') return prev
  if (s.kind === 'named')
    return patchNamedElements(ctx, s, prev as IRNamedPortSet['elements'], hits, epoch, byAddress)
  const out = [...(prev as IRAddressSet['elements'])]
  for (const p of hits) {
    const present = p.seen === epoch
    for (const ip of p.ips) {
      if (ip.family !== s.family) continue
      const i = lowerBound(out, s.family, ip, 0, (address) => ({ address, port: 0 }))
      const found = out[i] === ip.address
      if (present) {
        if (!found) out.splice(i, 0, ip.address)
      } else if (found && !holdersOf(byAddress, ip.address).some((q) => inPodsSet(ctx, s, q))) {
        out.splice(i, 1)
      }
    }
  }
  return out
}

/** patchElements for a named-port set: (address, port) pairs. */
function patchNamedElements(
  ctx: FillContext,
  s: SetSpec & { kind: 'named' },
  prev: IRNamedPortSet['elements'],
  hits: readonly PodFacts[],
  epoch: number,
  byAddress: AddressIndex,
): IRNamedPortSet['elements'] {
  const out = [...prev]
  for (const p of hits) {
    const present = p.seen === epoch
    for (const cp of p.pod.ports) {
      if (!matchNamedPort(cp, s.portName, s.protocol)) continue
      const port = cp.containerPort
      for (const ip of p.ips) {
        if (ip.family !== s.family) continue
        const i = lowerBound(out, s.family, ip, port, (e) => e)
        const e = out[i]
        const found = e !== undefined && e.address === ip.address && e.port === port
        if (present) {
          if (!found) out.splice(i, 0, { address: ip.address, port })
        } else if (found && !holdersOf(byAddress, ip.address).some((q) => inNamedSet(ctx, s, q, port))) {
          out.splice(i, 1)
        }
      }
    }
  }
  return out
}

/** Returns the IR set of a spec with the given elements (of the spec's kind: set keys start with it). */
export function setOf(s: SetSpec, usedBy: readonly string[], elements: SetElements): IRSet {
  if (s.kind === 'named') {
    const set: IRNamedPortSet = {
      kind: 'named-port',
      id: s.id,
      family: s.family,
      protocol: s.protocol,
      portName: s.portName,
      scope: s.scope,
      elements: elements as IRNamedPortSet['elements'],
      usedBy,
    }
    return set
  }
  let origin: IRSetOrigin
  if (s.kind === 'ipBlock') origin = { kind: 'ipBlock', cidr: s.cidr, except: s.except }
  else if (s.kind === 'nodes') origin = { kind: 'nodes', nodeSelector: renderSelector(s.matcher.selector) }
  else {
    const scope = s.matcher.namespaces
    origin = {
      kind: 'pods',
      ...(scope.kind === 'namespace' ? { namespace: scope.namespace } : {}),
      ...(scope.kind === 'namespaceSelector' ? { namespaceSelector: renderSelector(scope.selector) } : {}),
      podSelector: renderSelector(s.matcher.podSelector),
    }
  }
  const set: IRAddressSet = {
    kind: 'addresses',
    id: s.id,
    family: s.family,
    origin,
    elements: elements as IRAddressSet['elements'],
    interval: s.kind === 'ipBlock',
    usedBy,
  }
  return set
}

/** Returns true when two sets are equal field by field (elements by reference). */
export function sameSet(a: IRSet, b: IRSet): boolean {
  if (a.id !== b.id || a.family !== b.family || a.elements !== b.elements || !sameItems(a.usedBy, b.usedBy))
    return false
  if (a.kind === 'named-port')
    return (
      b.kind === 'named-port' && a.protocol === b.protocol && a.portName === b.portName && a.scope === b.scope
    )
  if (b.kind !== 'addresses' || a.interval !== b.interval) return false
  const x = a.origin
  const y = b.origin
  if (x.kind === 'ipBlock') return y.kind === 'ipBlock' && x.cidr === y.cidr && sameItems(x.except, y.except)
  if (x.kind === 'nodes') return y.kind === 'nodes' && x.nodeSelector === y.nodeSelector
  return (
    y.kind === 'pods' &&
    x.namespace === y.namespace &&
    x.namespaceSelector === y.namespaceSelector &&
    x.podSelector === y.podSelector
  )
}

/** Returns the elements of a set: CIDRs, pod addresses or (address, port) pairs, sorted. */
export function elementsOf(ctx: FillContext, s: SetSpec): SetElements {
  if (s.kind === 'ipBlock') return s.elements
  if (s.kind === 'named') return namedElements(ctx, s)
  if (s.kind === 'nodes') return nodeElements(ctx, s)
  const found: PodAddress[] = []
  const seen = new Set<string>()
  for (const g of selectGroups(ctx.podIndex(), ctx.namespaces, s.matcher)) {
    for (const p of g.members) {
      for (const ip of p.ips) {
        if (ip.family !== s.family || seen.has(ip.address)) continue
        seen.add(ip.address)
        found.push(ip)
      }
    }
  }
  found.sort(byAddress)
  return found.map((x) => x.address)
}

/**
 * Returns the addresses of the Node objects whose labels match the selector, in the set's family, sorted
 * (docs/semantics.md#cnp-tiers: a `nodes` peer matches the connection's address).
 */
function nodeElements(ctx: FillContext, s: SetSpec & { kind: 'nodes' }): string[] {
  const found: PodAddress[] = []
  const seen = new Set<string>()
  for (const n of ctx.nodes) {
    if (!matchNodeLabels(s.matcher, n)) continue
    for (const ip of podAddresses(n.addresses)) {
      if (ip.family !== s.family || seen.has(ip.address)) continue
      seen.add(ip.address)
      found.push(ip)
    }
  }
  found.sort(byAddress)
  return found.map((x) => x.address)
}

/** Returns the (address, port) pairs of the pods declaring the set's port name and protocol, sorted. */
function namedElements(ctx: FillContext, s: SetSpec & { kind: 'named' }): IRNamedPortSet['elements'] {
  const seen = new Set<string>()
  const elements: { address: string; port: number; num: number; big: bigint }[] = []
  for (const p of s.scope === 'local' ? ctx.local : ctx.programmable()) {
    for (const cp of p.pod.ports) {
      if (!matchNamedPort(cp, s.portName, s.protocol)) continue
      for (const ip of p.ips) {
        if (ip.family !== s.family) continue
        const k = `${ip.address}|${cp.containerPort}`
        if (seen.has(k)) continue
        seen.add(k)
        elements.push({ address: ip.address, port: cp.containerPort, num: ip.num, big: ip.big })
      }
    }
  }
  elements.sort((x, y) => byAddress(x, y) || x.port - y.port)
  return elements.map(({ address, port }) => ({ address, port }))
}
