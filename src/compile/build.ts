/**
 * ClusterState + node name -> NodeIR (see ir.ts for the shape and its guarantees).
 * Semantics follow docs/semantics.md; the numbers in comments refer to its rules.
 */
import {
  type ClusterState,
  canonicalCIDR,
  canonicalIP,
  DEFAULT_DENY_ANNOTATION_POLICY,
  type Diagnostic,
  type Family,
  type LabelSelector,
  type Labels,
  type NetworkPolicy,
  type ParsedCIDR,
  type Pod,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
  PROTOCOLS,
  type Protocol,
  parseCIDR,
  parseIP,
  podKey,
  policyKey,
} from '../model/index.js'
import { canonicalSelector, isEmptySelector, matchSelector, renderSelector } from '../selectors/index.js'
import type {
  CompileOptions,
  IRAddress,
  IRAddressSet,
  IRChain,
  IRLocalPod,
  IRNamedPortSet,
  IRPodDirection,
  IRPortMatch,
  IRPortRange,
  IRRule,
  IRSet,
  IRSetOrigin,
  NodeIR,
} from './ir.js'
import { createNameRegistry, type NameRegistry } from './names.js'
import { isWholeFamily, mergePortRanges, subtractCIDRs } from './ranges.js'

const FAMILIES: readonly Family[] = [4, 6]

/** A pod the dataplane can reference: an endpoint (not hostNetwork), running, with parsed addresses. */
interface ProgrammablePod {
  readonly pod: Pod
  readonly key: string
  readonly ips: readonly (IRAddress & { readonly value: bigint })[]
}

/** Pods of one namespace that share their labels: selectors are matched once per group. */
interface LabelGroup {
  readonly namespace: string
  readonly labels: Labels
  readonly pods: ProgrammablePod[]
}

/** Returns true for pods that are NetworkPolicy endpoints now (rules 7 and 8). */
function isEndpoint(p: Pod): boolean {
  return !p.hostNetwork && p.phase !== 'Succeeded' && p.phase !== 'Failed'
}

/** Returns the pod's valid addresses, canonical, deduplicated, primary first. */
function addressesOf(p: Pod): (IRAddress & { readonly value: bigint })[] {
  const out: (IRAddress & { value: bigint })[] = []
  const seen = new Set<string>()
  for (const text of p.ips) {
    const ip = parseIP(text)
    if (!ip) continue
    const address = canonicalIP(ip)
    if (seen.has(address)) continue
    seen.add(address)
    out.push({ family: ip.family, address, value: ip.value })
  }
  return out
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Pending set: its key, id and what fills it, computed once every rule is known. */
type SetSpec =
  | {
      readonly kind: 'pods'
      readonly id: string
      readonly family: Family
      readonly namespace?: string
      readonly namespaceSelector?: LabelSelector
      readonly podSelector: LabelSelector
      readonly usedBy: Set<string>
    }
  | {
      readonly kind: 'ipBlock'
      readonly id: string
      readonly family: Family
      readonly cidr: string
      readonly except: readonly string[]
      readonly elements: readonly string[]
      readonly usedBy: Set<string>
    }
  | {
      readonly kind: 'named'
      readonly id: string
      readonly family: Family
      readonly protocol: Protocol
      readonly portName: string
      readonly scope: 'local' | 'cluster'
      readonly usedBy: Set<string>
    }

/** The remote side of a rule: which family and which address set, if any. */
interface PeerMatch {
  readonly peer?: number
  readonly family?: Family
  readonly set?: string
}

/** A rule's port part before the family is known (named ports need one set per family). */
type PortPart =
  | { readonly ports?: undefined; readonly match?: undefined }
  | {
      readonly ports: readonly number[]
      readonly match: { kind: 'ports'; protocol: Protocol; ranges: IRPortRange[] }
    }
  | {
      readonly ports: readonly number[]
      readonly match: { kind: 'named'; protocol: Protocol; portName: string }
    }

/** Mutable state of one build. */
interface Builder {
  readonly cluster: ClusterState
  readonly names: NameRegistry
  readonly families: readonly Family[]
  readonly groups: ReadonlyMap<string, readonly LabelGroup[]>
  /** 'key\u0000value' -> groups (every namespace) whose labels have that pair: candidates for matchLabels. */
  readonly groupsByLabel: ReadonlyMap<string, readonly LabelGroup[]>
  readonly namespaceLabels: ReadonlyMap<string, Labels>
  readonly programmable: readonly ProgrammablePod[]
  /** Programmable pods on this node. */
  readonly local: ProgrammablePod[]
  readonly sets: Map<string, SetSpec>
  readonly diagnostics: Diagnostic[]
}

/** Builds everything `node` must enforce from the whole cluster (pure, deterministic). */
export function buildNodeIR(cluster: ClusterState, node: string, opts: CompileOptions = {}): NodeIR {
  const diagnostics: Diagnostic[] = []
  const programmable: ProgrammablePod[] = []
  for (const pod of cluster.pods) {
    if (!isEndpoint(pod)) continue
    const ips = addressesOf(pod)
    if (ips.length === 0) continue
    programmable.push({ pod, key: podKey(pod), ips })
  }
  programmable.sort((a, b) => byString(a.key, b.key))

  const namespaceLabels = new Map<string, Labels>()
  for (const ns of cluster.namespaces) namespaceLabels.set(ns.name, ns.labels)
  const groups = new Map<string, LabelGroup[]>()
  const groupIndex = new Map<string, LabelGroup>()
  for (const p of programmable) {
    const sig = `${p.pod.namespace}\u0000${JSON.stringify(Object.entries(p.pod.labels).sort(([a], [b]) => byString(a, b)))}`
    let g = groupIndex.get(sig)
    if (!g) {
      g = { namespace: p.pod.namespace, labels: p.pod.labels, pods: [] }
      groupIndex.set(sig, g)
      const list = groups.get(p.pod.namespace) ?? []
      list.push(g)
      groups.set(p.pod.namespace, list)
    }
    g.pods.push(p)
  }
  const groupsByLabel = new Map<string, LabelGroup[]>()
  for (const g of groupIndex.values()) {
    for (const [k, v] of Object.entries(g.labels)) {
      const pair = `${k}\u0000${v}`
      const list = groupsByLabel.get(pair)
      if (list) list.push(g)
      else groupsByLabel.set(pair, [g])
    }
  }
  const families = FAMILIES.filter((f) => programmable.some((p) => p.ips.some((ip) => ip.family === f)))

  const b: Builder = {
    cluster,
    names: createNameRegistry(),
    families,
    groups,
    groupsByLabel,
    namespaceLabels,
    programmable,
    local: [],
    sets: new Map(),
    diagnostics,
  }

  // Local pods (docs/semantics.md rule 8: pods without IP cannot be programmed).
  const local = b.local
  const byPod = new Map<Pod, ProgrammablePod>(programmable.map((p) => [p.pod, p]))
  const onNode = cluster.pods.filter((pod) => pod.nodeName === node && isEndpoint(pod))
  for (const pod of onNode.sort((x, y) => byString(podKey(x), podKey(y)))) {
    const found = byPod.get(pod)
    if (found) local.push(found)
    else
      diagnostics.push({
        code: 'compile.pod-without-ip',
        severity: 'info',
        message: `pod ${podKey(pod)} on node ${node} has no IP address yet: the dataplane cannot program it`,
        object: `Pod ${podKey(pod)}`,
        path: ['status', 'podIPs'],
        ...(pod.source ? { source: pod.source } : {}),
      })
  }

  // One chain per (policy, direction) selecting at least one local pod.
  const policies = [...cluster.policies].sort((x, y) => byString(policyKey(x), policyKey(y)))
  const chains: IRChain[] = []
  const podDirs = new Map<string, { Ingress: string[]; Egress: string[] }>()
  const seenPolicies = new Set<string>()
  const localByNamespace = new Map<string, ProgrammablePod[]>()
  for (const p of local)
    localByNamespace.set(p.pod.namespace, [...(localByNamespace.get(p.pod.namespace) ?? []), p])
  for (const pol of policies) {
    const key = policyKey(pol)
    if (seenPolicies.has(key)) {
      diagnostics.push({
        code: 'compile.duplicate-policy',
        severity: 'warning',
        message: `policy ${key} is given more than once; only the first is compiled`,
        object: `NetworkPolicy ${key}`,
        path: [],
        ...(pol.source ? { source: pol.source } : {}),
      })
      continue
    }
    seenPolicies.add(key)
    const selected = (localByNamespace.get(pol.namespace) ?? []).filter((p) =>
      matchSelector(pol.podSelector, p.pod.labels),
    )
    if (selected.length === 0) continue
    for (const direction of ['Ingress', 'Egress'] as const) {
      if (!pol.policyTypes.includes(direction)) continue
      const id = b.names.name(
        `chain|${key}|${direction}`,
        'pol_',
        `${pol.namespace}_${pol.name}`,
        direction === 'Ingress' ? '_in' : '_eg',
      )
      const rules = direction === 'Ingress' ? pol.ingress : pol.egress
      chains.push({
        id,
        policy: {
          namespace: pol.namespace,
          name: pol.name,
          defaultDenyAnnotation:
            pol.origin.kind === 'DefaultDenyAnnotation' || pol.name === DEFAULT_DENY_ANNOTATION_POLICY,
        },
        direction,
        rules: rules.flatMap((r, i) => compileRule(b, pol, direction, r, i)),
      })
      for (const p of selected) {
        let d = podDirs.get(p.key)
        if (!d) {
          d = { Ingress: [], Egress: [] }
          podDirs.set(p.key, d)
        }
        d[direction].push(id)
      }
    }
  }

  const pods: IRLocalPod[] = local.map((p) => {
    const d = podDirs.get(p.key)
    const dir = (direction: 'Ingress' | 'Egress'): IRPodDirection | undefined => {
      const ids = d?.[direction] ?? []
      if (ids.length === 0) return undefined
      const chain = b.names.name(
        `pod|${p.key}|${direction}`,
        direction === 'Ingress' ? 'pod_in_' : 'pod_eg_',
        `${p.pod.namespace}_${p.pod.name}`,
      )
      return { chain, policies: ids }
    }
    const iface = interfaceOf(p, opts, diagnostics)
    const ingress = dir('Ingress')
    const egress = dir('Egress')
    return {
      namespace: p.pod.namespace,
      name: p.pod.name,
      ips: p.ips.map(({ family, address }) => ({ family, address })),
      ...(iface !== undefined ? { interface: iface } : {}),
      ...(ingress ? { ingress } : {}),
      ...(egress ? { egress } : {}),
    }
  })

  const sets = [...b.sets.values()].map((s) => finishSet(b, s)).sort((x, y) => byString(x.id, y.id))
  return {
    node,
    families,
    sets,
    chains,
    pods,
    antiSpoofing: opts.podInterfaces !== undefined,
    diagnostics,
  }
}

/** Returns the pod's host-side interface when known and valid (Linux IFNAMSIZ 16 incl. NUL). */
function interfaceOf(
  p: ProgrammablePod,
  opts: CompileOptions,
  diagnostics: Diagnostic[],
): string | undefined {
  if (!opts.podInterfaces) return undefined
  const name = opts.podInterfaces[p.key]
  if (name === undefined) {
    diagnostics.push({
      code: 'compile.unknown-pod-interface',
      severity: 'warning',
      message: `no host interface known for pod ${p.key}: its source address is not checked (anti-spoofing)`,
      object: `Pod ${p.key}`,
      path: [],
    })
    return undefined
  }
  if (!/^[A-Za-z0-9_.@-]{1,15}$/.test(name)) {
    diagnostics.push({
      code: 'compile.invalid-pod-interface',
      severity: 'warning',
      message: `interface name "${name}" of pod ${p.key} is not a valid Linux interface name: ignored`,
      object: `Pod ${p.key}`,
      path: [],
    })
    return undefined
  }
  return name
}

/** Compiles one spec.ingress[i] / spec.egress[i] into matches (peers x port groups x families). */
function compileRule(
  b: Builder,
  pol: NetworkPolicy,
  direction: 'Ingress' | 'Egress',
  rule: PolicyRule,
  index: number,
): IRRule[] {
  const field = direction === 'Ingress' ? 'ingress' : 'egress'
  const peerField = direction === 'Ingress' ? 'from' : 'to'
  const owner = policyKey(pol)
  const peers: PeerMatch[] =
    rule.peers === undefined
      ? [{}]
      : rule.peers.flatMap((peer, j) => peerMatches(b, pol, peer, j, [`spec`, field, index, peerField, j]))
  const portParts: PortPart[] = rule.ports === undefined ? [{}] : portPartsOf(rule.ports)
  const out: IRRule[] = []
  for (const pm of peers) {
    for (const pp of portParts) {
      const base = {
        rule: index,
        ...(pm.peer !== undefined ? { peer: pm.peer } : {}),
        ...(pp.ports ? { ports: pp.ports } : {}),
      }
      if (pp.match?.kind === 'named') {
        // Rule 4: resolved on the destination pod, per family (a pod address . port set).
        const fams = pm.family !== undefined ? [pm.family] : b.families
        for (const f of fams) {
          // Ingress: the destination is a local pod, so only local pods need elements.
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

/** Returns the matches of one peer: one per family for pod peers, one for an ipBlock. */
function peerMatches(
  b: Builder,
  pol: NetworkPolicy,
  peer: PolicyPeer,
  j: number,
  path: readonly (string | number)[],
): PeerMatch[] {
  const owner = policyKey(pol)
  if (peer.ipBlock) {
    const cidr = parseCIDR(peer.ipBlock.cidr)
    if (!cidr) {
      b.diagnostics.push({
        code: 'compile.invalid-cidr',
        severity: 'error',
        message: `invalid CIDR address: ${peer.ipBlock.cidr} (peer left out: it matches nothing)`,
        object: `NetworkPolicy ${owner}`,
        path: [...path, 'ipBlock', 'cidr'],
        ...(pol.source ? { source: pol.source } : {}),
      })
      return []
    }
    const except = peer.ipBlock.except
      .map(parseCIDR)
      .filter((e): e is ParsedCIDR => e !== undefined && e.family === cidr.family)
    if (isWholeFamily(cidr) && except.length === 0) return [{ peer: j, family: cidr.family }]
    const canon = canonicalCIDR(cidr)
    const exceptCanon = [...new Set(except.map(canonicalCIDR))].sort(byString)
    const key = `cidr|${cidr.family}|${canon}|${exceptCanon.join(',')}`
    let spec = b.sets.get(key)
    if (!spec) {
      const readable = exceptCanon.length > 0 ? `${canon}_x${exceptCanon.length}` : canon
      spec = {
        kind: 'ipBlock',
        id: b.names.name(key, 'cidr_', readable, `_v${cidr.family}`, key.replace(/^cidr\|\d\|/, '')),
        family: cidr.family,
        cidr: canon,
        except: exceptCanon,
        elements: subtractCIDRs(cidr, except),
        usedBy: new Set(),
      }
      b.sets.set(key, spec)
    }
    spec.usedBy.add(owner)
    return [{ peer: j, family: cidr.family, set: spec.id }]
  }
  // Rule 2: podSelector only = the policy's namespace; namespaceSelector only = pods {} in matching namespaces.
  const podSelector = peer.podSelector ?? { matchLabels: {}, matchExpressions: [] }
  const scope = peer.namespaceSelector
    ? `nss=${canonicalSelector(peer.namespaceSelector)}`
    : `ns=${pol.namespace}`
  const podPart = isEmptySelector(podSelector) ? 'all' : renderSelector(podSelector)
  const readable = peer.namespaceSelector
    ? `ns_${isEmptySelector(peer.namespaceSelector) ? 'all' : renderSelector(peer.namespaceSelector)}_${podPart}`
    : `${pol.namespace}_${podPart}`
  return b.families.map((f) => {
    const key = `pods|${f}|${scope}|pod=${canonicalSelector(podSelector)}`
    let spec = b.sets.get(key)
    if (!spec) {
      spec = {
        kind: 'pods',
        id: b.names.name(key, 'pods_', readable, `_v${f}`, `${scope}|pod=${canonicalSelector(podSelector)}`),
        family: f,
        ...(peer.namespaceSelector
          ? { namespaceSelector: peer.namespaceSelector }
          : { namespace: pol.namespace }),
        podSelector,
        usedBy: new Set(),
      }
      b.sets.set(key, spec)
    }
    spec.usedBy.add(owner)
    return { peer: j, family: f, set: spec.id }
  })
}

/** Groups a rule's ports: numeric ports and bare protocols per protocol, named ports per (protocol, name). */
function portPartsOf(ports: readonly PolicyPort[]): PortPart[] {
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
function namedSet(
  b: Builder,
  f: Family,
  protocol: Protocol,
  portName: string,
  owner: string,
  scope: 'local' | 'cluster',
): string {
  const key = `named|${scope}|${f}|${protocol}|${portName}`
  let spec = b.sets.get(key)
  if (!spec) {
    spec = {
      kind: 'named',
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
    }
    b.sets.set(key, spec)
  }
  spec.usedBy.add(owner)
  return spec.id
}

const byValue = (a: { value: bigint }, b: { value: bigint }): number =>
  a.value < b.value ? -1 : a.value > b.value ? 1 : 0

/** Returns the groups that can match: the shortest matchLabels posting list, else a namespace's or all groups. */
function candidateGroups(
  b: Builder,
  namespace: string | undefined,
  podSelector: LabelSelector,
): readonly LabelGroup[] {
  let best: readonly LabelGroup[] | undefined
  for (const [k, v] of Object.entries(podSelector.matchLabels)) {
    const list = b.groupsByLabel.get(`${k}\u0000${v}`) ?? []
    if (!best || list.length < best.length) best = list
  }
  if (namespace !== undefined) {
    const inNs = b.groups.get(namespace) ?? []
    if (!best || inNs.length < best.length) best = inNs
  }
  return best ?? [...b.groups.values()].flat()
}

/** Fills a set with its elements (cluster-wide). */
function finishSet(b: Builder, s: SetSpec): IRSet {
  const usedBy = [...s.usedBy].sort(byString)
  if (s.kind === 'ipBlock') {
    const origin: IRSetOrigin = { kind: 'ipBlock', cidr: s.cidr, except: s.except }
    const set: IRAddressSet = {
      kind: 'addresses',
      id: s.id,
      family: s.family,
      origin,
      elements: s.elements,
      interval: true,
      usedBy,
    }
    return set
  }
  if (s.kind === 'named') {
    const seen = new Set<string>()
    const elements: { address: string; port: number; value: bigint }[] = []
    for (const p of s.scope === 'local' ? b.local : b.programmable) {
      for (const cp of p.pod.ports) {
        if (cp.name !== s.portName || cp.protocol !== s.protocol) continue
        for (const ip of p.ips) {
          if (ip.family !== s.family) continue
          const k = `${ip.address}|${cp.containerPort}`
          if (seen.has(k)) continue
          seen.add(k)
          elements.push({ address: ip.address, port: cp.containerPort, value: ip.value })
        }
      }
    }
    elements.sort((x, y) => byValue(x, y) || x.port - y.port)
    const set: IRNamedPortSet = {
      kind: 'named-port',
      id: s.id,
      family: s.family,
      protocol: s.protocol,
      portName: s.portName,
      scope: s.scope,
      elements: elements.map(({ address, port }) => ({ address, port })),
      usedBy,
    }
    return set
  }
  const found: { address: string; value: bigint }[] = []
  const seen = new Set<string>()
  const nsMatch = new Map<string, boolean>()
  const namespaceMatches = (ns: string): boolean => {
    if (s.namespace !== undefined) return ns === s.namespace
    const sel = s.namespaceSelector
    if (!sel) return true
    let m = nsMatch.get(ns)
    if (m === undefined) {
      m = matchSelector(sel, b.namespaceLabels.get(ns) ?? { 'kubernetes.io/metadata.name': ns })
      nsMatch.set(ns, m)
    }
    return m
  }
  for (const g of candidateGroups(b, s.namespace, s.podSelector)) {
    if (!namespaceMatches(g.namespace) || !matchSelector(s.podSelector, g.labels)) continue
    for (const p of g.pods) {
      for (const ip of p.ips) {
        if (ip.family !== s.family || seen.has(ip.address)) continue
        seen.add(ip.address)
        found.push({ address: ip.address, value: ip.value })
      }
    }
  }
  found.sort(byValue)
  const origin: IRSetOrigin = {
    kind: 'pods',
    ...(s.namespace !== undefined ? { namespace: s.namespace } : {}),
    ...(s.namespaceSelector ? { namespaceSelector: renderSelector(s.namespaceSelector) } : {}),
    podSelector: renderSelector(s.podSelector),
  }
  const set: IRAddressSet = {
    kind: 'addresses',
    id: s.id,
    family: s.family,
    origin,
    elements: found.map((x) => x.address),
    interval: false,
    usedBy,
  }
  return set
}
