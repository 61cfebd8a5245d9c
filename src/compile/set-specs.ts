/**
 * Set declarations: the address set behind every distinct peer (cluster-wide, one per family, shared
 * by every policy with an equal peer) and the named-port sets, keyed by the peer matchers' canonical
 * keys from src/semantics. Their elements are filled later (set-elements.ts).
 */
import {
  canonicalCIDR,
  type Diagnostic,
  type Family,
  type NetworkPolicy,
  type PolicyPeer,
  type PolicyPort,
  PROTOCOLS,
  type Protocol,
  policyKey,
  type SourceRef,
} from '../model/index.js'
import {
  type IPBlockPeer,
  isEmptySelector,
  type NodesPeer,
  type PeerMatcher,
  type PodsPeer,
  peerMatcher,
  renderSelector,
} from '../semantics/index.js'
import type { IRPortMatch, IRPortRange, IRRule } from './ir.js'
import type { NameRegistry } from './names.js'
import { byString } from './order.js'
import { isWholeFamily, mergePortRanges, subtractCIDRs } from './ranges.js'

/** A set to declare: its key, id and what fills it, computed once every rule is known. */
export type SetSpec =
  | {
      readonly kind: 'pods'
      readonly key: string
      readonly id: string
      readonly family: Family
      /** The peer of the first rule that asked for the set (every other one has the same key). */
      readonly matcher: PodsPeer
      readonly usedBy: Set<string>
    }
  | {
      readonly kind: 'ipBlock'
      readonly key: string
      readonly id: string
      readonly family: Family
      readonly cidr: string
      readonly except: readonly string[]
      readonly elements: readonly string[]
      readonly usedBy: Set<string>
    }
  | {
      readonly kind: 'nodes'
      readonly key: string
      readonly id: string
      readonly family: Family
      readonly matcher: NodesPeer
      readonly usedBy: Set<string>
    }
  | {
      readonly kind: 'named'
      readonly key: string
      readonly id: string
      readonly family: Family
      readonly protocol: Protocol
      readonly portName: string
      readonly scope: 'local' | 'cluster'
      readonly usedBy: Set<string>
    }

/** Mutable state of the structure phase. */
export interface Builder {
  readonly names: NameRegistry
  readonly families: readonly Family[]
  readonly sets: Map<string, SetSpec>
  readonly diagnostics: Diagnostic[]
  /** When present, every name and set a compilation asks for is noted here (replayBuild repeats them). */
  readonly record?: BuildOp[]
}

/** One step of a compilation that touches the build's shared state (names, set declarations). */
export type BuildOp =
  | {
      readonly kind: 'name'
      readonly args: readonly [string, string, string, string | undefined, string | undefined]
      readonly id: string
    }
  | {
      readonly kind: 'set'
      readonly key: string
      readonly owner: string
      /** Declares the set when no one declared it before (this compilation is then its first user). */
      readonly make: (b: Builder) => SetSpec
      readonly id: string
    }

/** Returns the registry's id for `key` (NameRegistry.name), noting the call when recording. */
export function nameOf(
  b: Builder,
  key: string,
  prefix: string,
  readable: string,
  suffix?: string,
  hashKey?: string,
): string {
  const id = b.names.name(key, prefix, readable, suffix, hashKey)
  b.record?.push({ kind: 'name', args: [key, prefix, readable, suffix, hashKey], id })
  return id
}

/** Returns the set declared under `key` (declared by `make` on first use), with `owner` among its users. */
function useSet(b: Builder, key: string, owner: string, make: (b: Builder) => SetSpec): SetSpec {
  let spec = b.sets.get(key)
  if (!spec) {
    spec = make(b)
    b.sets.set(key, spec)
  }
  spec.usedBy.add(owner)
  b.record?.push({ kind: 'set', key, owner, make, id: spec.id })
  return spec
}

/**
 * Repeats a recorded compilation's steps on `b`: the same registry calls and set declarations in the
 * same order, so the build's names and sets end as the compilation itself would leave them. Returns
 * true when every id came out as recorded (the compilation's output, which depends on nothing else of
 * the build, is then what it would compute now).
 */
export function replayBuild(b: Builder, ops: readonly BuildOp[]): boolean {
  let same = true
  for (const op of ops) {
    if (op.kind === 'name') {
      if (b.names.name(...op.args) !== op.id) same = false
    } else if (useSetQuiet(b, op).id !== op.id) same = false
  }
  return same
}

function useSetQuiet(b: Builder, op: BuildOp & { kind: 'set' }): SetSpec {
  let spec = b.sets.get(op.key)
  if (!spec) {
    spec = op.make(b)
    b.sets.set(op.key, spec)
  }
  spec.usedBy.add(op.owner)
  return spec
}

/** The remote side of a rule: which family and which address set, if any. */
export interface PeerMatch {
  readonly peer?: number
  readonly family?: Family
  readonly set?: string
}

/** A rule's port part before the family is known (named ports need one set per family). */
export type PortPart =
  | { readonly ports?: undefined; readonly match?: undefined }
  | {
      readonly ports: readonly number[]
      readonly match: { kind: 'ports'; protocol: Protocol; ranges: IRPortRange[] }
    }
  | {
      readonly ports: readonly number[]
      readonly match: { kind: 'named'; protocol: Protocol; portName: string }
    }

/** The policy a set is declared for: its key in usedBy, and how diagnostics name it. */
export interface SetOwner {
  /** 'namespace/name' for a NetworkPolicy, 'cnp:name' for a ClusterNetworkPolicy. */
  readonly key: string
  /** 'NetworkPolicy ns/name', 'ClusterNetworkPolicy name'. */
  readonly object: string
  readonly source?: SourceRef
}

/** The owner of a NetworkPolicy's sets. */
export function policyOwner(pol: NetworkPolicy): SetOwner {
  const key = policyKey(pol)
  return { key, object: `NetworkPolicy ${key}`, ...(pol.source ? { source: pol.source } : {}) }
}

/** Returns the matches of one peer (index j of from/to): one per family for pod peers, one for an ipBlock. */
export function peerMatches(
  b: Builder,
  pol: NetworkPolicy,
  peer: PolicyPeer,
  j: number,
  path: readonly (string | number)[],
): PeerMatch[] {
  const m: PeerMatcher = peerMatcher(peer, pol.namespace)
  switch (m.kind) {
    case 'all':
      return [{ peer: j }]
    case 'ipBlock':
      return ipBlockMatches(b, policyOwner(pol), m, j, [...path, 'ipBlock', 'cidr'])
    case 'pods':
      return podsMatches(b, policyKey(pol), m, j)
  }
}

/** Returns the match of an ipBlock peer: its family and the set of cidr minus except (none for a whole family). */
export function ipBlockMatches(
  b: Builder,
  o: SetOwner,
  m: IPBlockPeer,
  j: number,
  cidrPath: readonly (string | number)[],
): PeerMatch[] {
  const owner = o.key
  const cidr = m.cidr
  if (!cidr) {
    b.diagnostics.push({
      code: 'compile.invalid-cidr',
      severity: 'error',
      message: `invalid CIDR address: ${m.block.cidr} (peer left out: it matches nothing)`,
      object: o.object,
      path: [...cidrPath],
      ...(o.source ? { source: o.source } : {}),
    })
    return []
  }
  if (isWholeFamily(cidr) && m.except.length === 0) return [{ peer: j, family: cidr.family }]
  const canon = canonicalCIDR(cidr)
  const exceptCanon = m.exceptKeys
  const key = `cidr|${cidr.family}|${canon}|${exceptCanon.join(',')}`
  const spec = useSet(b, key, owner, (b) => {
    const readable = exceptCanon.length > 0 ? `${canon}_x${exceptCanon.length}` : canon
    return {
      kind: 'ipBlock',
      key,
      id: b.names.name(key, 'cidr_', readable, `_v${cidr.family}`, key.replace(/^cidr\|\d\|/, '')),
      family: cidr.family,
      cidr: canon,
      except: exceptCanon,
      elements: subtractCIDRs(cidr, m.except),
      usedBy: new Set(),
    }
  })
  return [{ peer: j, family: cidr.family, set: spec.id }]
}

/** Returns the matches of a selector peer: one pods set per family the cluster has. */
export function podsMatches(b: Builder, owner: string, m: PodsPeer, j: number): PeerMatch[] {
  const scope = m.namespaces
  const keyPart = `${scope.key}|pod=${m.podSelectorKey}`
  let readable: string | undefined
  return b.families.map((f) => {
    const key = `pods|${f}|${keyPart}`
    const spec = useSet(b, key, owner, (b) => {
      if (readable === undefined) {
        const podPart = isEmptySelector(m.podSelector) ? 'all' : renderSelector(m.podSelector)
        readable =
          scope.kind === 'namespaceSelector'
            ? `ns_${isEmptySelector(scope.selector) ? 'all' : renderSelector(scope.selector)}_${podPart}`
            : `${scope.namespace}_${podPart}`
      }
      return {
        kind: 'pods',
        key,
        id: b.names.name(key, 'pods_', readable, `_v${f}`, keyPart),
        family: f,
        matcher: m,
        usedBy: new Set(),
      }
    })
    return { peer: j, family: f, set: spec.id }
  })
}

/** Returns the matches of a ClusterNetworkPolicy `nodes` peer: one set of Node addresses per family. */
export function nodesMatches(b: Builder, owner: string, m: NodesPeer, j: number): PeerMatch[] {
  const selector = renderSelector(m.selector)
  return b.families.map((f) => {
    const key = `${m.key}|${f}`
    const spec = useSet(b, key, owner, (b) => ({
      kind: 'nodes',
      key,
      id: b.names.name(key, 'nodes_', isEmptySelector(m.selector) ? 'all' : selector, `_v${f}`, m.key),
      family: f,
      matcher: m,
      usedBy: new Set(),
    }))
    return { peer: j, family: f, set: spec.id }
  })
}

/** Groups a rule's ports: numeric ports and bare protocols per protocol, named ports per (protocol, name). */
export function portPartsOf(ports: readonly PolicyPort[]): PortPart[] {
  const numeric = new Map<Protocol, { idx: number[]; ranges: IRPortRange[]; all: boolean }>()
  const named = new Map<string, { idx: number[]; protocol: Protocol; portName: string }>()
  ports.forEach((p, i) => {
    if (typeof p.port === 'string') {
      const k = `${p.protocol}|${p.port}`
      const e = named.get(k) ?? { idx: [], protocol: p.protocol, portName: p.port }
      e.idx.push(i)
      named.set(k, e)
      return
    }
    const e = numeric.get(p.protocol) ?? { idx: [], ranges: [], all: false }
    e.idx.push(i)
    if (p.port === undefined) e.all = true
    else
      e.ranges.push({ from: p.port, to: p.endPort !== undefined && p.endPort >= p.port ? p.endPort : p.port })
    numeric.set(p.protocol, e)
  })
  const out: (PortPart & { readonly ports: readonly number[] })[] = []
  for (const protocol of PROTOCOLS) {
    const e = numeric.get(protocol)
    if (!e) continue
    out.push({
      ports: e.idx,
      match: { kind: 'ports', protocol, ranges: e.all ? [] : mergePortRanges(e.ranges) },
    })
  }
  for (const k of [...named.keys()].sort(byString)) {
    const e = named.get(k)!
    out.push({ ports: e.idx, match: { kind: 'named', protocol: e.protocol, portName: e.portName } })
  }
  // in the order the manifest lists them (first port index), so comments read top-down
  return out.sort((x, y) => (x.ports[0] ?? 0) - (y.ports[0] ?? 0))
}

/** Returns the id of the named-port set of (family, protocol, name), creating it on first use. */
export function namedSet(
  b: Builder,
  f: Family,
  protocol: Protocol,
  portName: string,
  owner: string,
  scope: 'local' | 'cluster',
): string {
  const key = `named|${scope}|${f}|${protocol}|${portName}`
  const spec = useSet(b, key, owner, (b) => ({
    kind: 'named',
    key,
    id: b.names.name(
      key,
      'np_',
      `${scope === 'local' ? 'local_' : ''}${protocol.toLowerCase()}_${portName}`,
      `_v${f}`,
    ),
    family: f,
    protocol,
    portName,
    scope,
    usedBy: new Set(),
  }))
  return spec.id
}

/**
 * Returns the matches of one rule: every peer match with every port group; a named port needs one
 * named-port set per family (Ingress: resolved on local pods only, the destination is one of them).
 */
export function crossMatches(
  b: Builder,
  owner: string,
  direction: 'Ingress' | 'Egress',
  index: number,
  peers: readonly PeerMatch[],
  portParts: readonly PortPart[],
): IRRule[] {
  const out: IRRule[] = []
  for (const pm of peers) {
    for (const pp of portParts) {
      const base = {
        rule: index,
        ...(pm.peer !== undefined ? { peer: pm.peer } : {}),
        ...(pp.ports ? { ports: pp.ports } : {}),
      }
      if (pp.match?.kind === 'named') {
        const fams = pm.family !== undefined ? [pm.family] : b.families
        for (const f of fams) {
          const scope = direction === 'Ingress' ? 'local' : 'cluster'
          const set = namedSet(b, f, pp.match.protocol, pp.match.portName, owner, scope)
          const port: IRPortMatch = {
            kind: 'named',
            protocol: pp.match.protocol,
            portName: pp.match.portName,
            set,
          }
          out.push({ ...base, family: f, ...(pm.set ? { peerSet: pm.set } : {}), port })
        }
        continue
      }
      out.push({
        ...base,
        ...(pm.family !== undefined ? { family: pm.family } : {}),
        ...(pm.set ? { peerSet: pm.set } : {}),
        ...(pp.match ? { port: pp.match } : {}),
      })
    }
  }
  return out
}
