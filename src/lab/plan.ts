/**
 * The lab's layout, computed from a cluster before anything touches the kernel (pure): nodes, pod
 * addresses, "outside" addresses for the ipBlocks the policies name, the ports to serve and probe, and
 * the adjusted ClusterState (addresses and nodes filled in) that the engine and the compiler must see.
 */

import type { PortQuery } from '../engine/index.js'
import { declaredPorts } from '../engine/index.js'
import type { ClusterState, Pod, PolicyRule } from '../model/index.js'
import {
  canonicalIP,
  cidrContainsIP,
  type Family,
  formatIP,
  type ParsedCIDR,
  parseCIDR,
  parseIP,
  podKey,
} from '../model/index.js'

export type LabMode = 'routed' | 'bridge'

export interface LabNode {
  readonly name: string
  /** 1-based: underlay 10.240.0.<index>, pod CIDR 10.240.<index>.0/24. */
  readonly index: number
  readonly netns: string
  /** Underlay address (eth0): the source of node-to-pod probes. */
  readonly ip: string
  readonly podCidr: string
  /** Bridge mode: address of cbr0 (the pods' gateway). */
  readonly gateway: string
}

export interface LabPod {
  /** 'namespace/name' */
  readonly key: string
  readonly node: string
  readonly ip: string
  readonly netns: string
  /** Host-side veth in the node namespace. */
  readonly hostIf: string
  /** True when the address came from the manifest (else assigned by the lab). */
  readonly manifestIP: boolean
}

export interface OutsideAddress {
  readonly ip: string
  /** Why the address exists: 'inside 0.0.0.0/0 of prod/allow-web' or 'inside except 10.0.0.0/8 of ...'. */
  readonly reasons: readonly string[]
}

export interface LabOutside {
  readonly netns: string
  /** The node the outside namespace hangs off (its traffic enters the cluster there). */
  readonly node: string
  readonly hostIf: string
  readonly addresses: readonly OutsideAddress[]
}

export interface LabPlan {
  /** 'pl1a2b-': every namespace of this lab starts with it. */
  readonly prefix: string
  readonly mode: LabMode
  /** Address family of every lab address (absent in state files of older labs: 4). */
  readonly family?: Family
  readonly underlay: string
  readonly nodes: readonly LabNode[]
  readonly pods: readonly LabPod[]
  readonly outside?: LabOutside
  /** Ports served by every pod and node and probed on every pair (SCTP included: reported as not probed). */
  readonly ports: readonly PortQuery[]
  /** The cluster with lab addresses and nodes: what the engine evaluates and the compiler compiles. */
  readonly cluster: ClusterState
  /** Notes for the user: reassigned addresses, ipBlocks without an outside address, IPv6 left out. */
  readonly notes: readonly string[]
}

export interface PlanOptions {
  readonly prefix: string
  readonly mode?: LabMode
  /** Minimum number of nodes; pods without spec.nodeName are spread over them (default 2). */
  readonly nodes?: number
  /** Most outside addresses (default 16). */
  readonly maxOutside?: number
  /** Ports to serve and probe instead of labPorts(cluster). */
  readonly ports?: readonly PortQuery[]
  /** Address family of the lab (default 4): an IPv6 lab gives every pod, node and outside host IPv6 only. */
  readonly family?: Family
}

/** Lab namespace prefixes look like 'pl1a2b-'. */
export const LAB_PREFIX_PATTERN = /^pl[0-9a-f]{4}-$/
export const MAX_NODES = 200

/** Where a lab of one address family puts its nodes, pods and outside hosts. */
interface Scheme {
  readonly family: Family
  readonly bits: number
  /** The switch between nodes (node K has host K on it). */
  readonly underlay: ParsedCIDR
  /** Every node's pod CIDR lies inside it. */
  readonly labRange: ParsedCIDR
  /** Addresses no lab host may use: this-network, loopback, link-local, multicast, reserved. */
  readonly special: readonly ParsedCIDR[]
  /** Preferred outside addresses (documentation ranges first), tried before scanning a CIDR. */
  readonly preferred: readonly string[]
  readonly nodeIP: (k: number) => string
  readonly podCidr: (k: number) => string
  /** Host part of the last usable pod address of a node CIDR. */
  readonly maxHost: bigint
}

const cidr = (t: string) => parseCIDR(t) as ParsedCIDR
const SCHEMES: Record<Family, Scheme> = {
  4: {
    family: 4,
    bits: 32,
    underlay: cidr('10.240.0.0/24'),
    labRange: cidr('10.240.0.0/16'),
    special: ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/3'].map(cidr),
    preferred: [
      '203.0.113.10',
      '198.51.100.10',
      '192.0.2.10',
      '100.64.0.10',
      '172.16.0.10',
      '192.168.0.10',
      '10.0.0.10',
    ],
    nodeIP: (k) => `10.240.0.${k}`,
    podCidr: (k) => `10.240.${k}.0/24`,
    maxHost: 254n,
  },
  6: {
    family: 6,
    bits: 128,
    underlay: cidr('fd00:240::/64'),
    labRange: cidr('fd00:240::/32'),
    // unspecified, loopback and v4-mapped/compatible (::/8), link-local, multicast
    special: ['::/8', 'fe80::/10', 'ff00::/8'].map(cidr),
    preferred: ['2001:db8::10', 'fd00::10', 'fc00::10', '2001:db8:1::10'],
    nodeIP: (k) => `fd00:240::${k.toString(16)}`,
    podCidr: (k) => `fd00:240:${k.toString(16)}::/64`,
    maxHost: 0xfffen,
  },
}

/** Returns true when the lab never needs to program this pod: hostNetwork or finished. */
function isLabPod(p: Pod): boolean {
  return !p.hostNetwork && p.phase !== 'Succeeded' && p.phase !== 'Failed'
}

/** Returns the node names of a lab: the manifests' nodeNames, then generated ones up to `min`. */
function nodeNames(cluster: ClusterState, min: number): string[] {
  const names = [
    ...new Set(cluster.pods.map((p) => p.nodeName).filter((n): n is string => n !== undefined && n !== '')),
  ].sort()
  for (let k = 1; names.length < min; k++) if (!names.includes(`node-${k}`)) names.push(`node-${k}`)
  return names
}

/** Returns the ports every lab pod serves: declared container ports plus numeric ports the policies name. */
export function labPorts(cluster: ClusterState): PortQuery[] {
  const extra: Pod[] = []
  const fromRules = (rules: readonly PolicyRule[]) => {
    for (const r of rules) {
      for (const p of r.ports ?? []) {
        if (typeof p.port !== 'number') continue
        const nums = p.endPort !== undefined ? [p.port, p.endPort] : [p.port]
        for (const n of nums) extra.push(portHolder(n, p.protocol))
      }
    }
  }
  for (const pol of cluster.policies) {
    fromRules(pol.ingress)
    fromRules(pol.egress)
  }
  const ports = declaredPorts([...cluster.pods.filter(isLabPod), ...extra])
  return ports.length > 0 ? ports : [{ port: 80, protocol: 'TCP' }]
}

function portHolder(port: number, protocol: PortQuery['protocol']): Pod {
  return {
    namespace: '',
    name: '',
    labels: {},
    ips: [],
    ports: [{ containerPort: port, protocol }],
    hostNetwork: false,
  }
}

function inAny(ip: bigint, cidrs: readonly ParsedCIDR[], family: Family = 4): boolean {
  return cidrs.some((c) => cidrContainsIP(c, { family, value: ip }))
}

/**
 * Computes the lab's layout. Pod addresses: the manifest's address of the lab's family when it is usable
 * (unique, not special, not on the underlay, inside its node's pod CIDR when inside the lab range), else
 * the next free address of the node's CIDR. Addresses of the other family are dropped (a lab is single-stack;
 * `--family 6` builds an IPv6 one).
 */
export function planLab(cluster: ClusterState, opts: PlanOptions): LabPlan {
  const prefix = opts.prefix
  const mode = opts.mode ?? 'routed'
  const sc = SCHEMES[opts.family ?? 4]
  const fam = sc.family
  const notes: string[] = []
  const names = nodeNames(cluster, Math.max(1, opts.nodes ?? 2))
  if (names.length > MAX_NODES)
    throw new RangeError(`the lab supports at most ${MAX_NODES} nodes, not ${names.length}`)
  const nodes: LabNode[] = names.map((name, i) => {
    const own = parseCIDR(sc.podCidr(i + 1)) as ParsedCIDR
    return {
      name,
      index: i + 1,
      netns: `${prefix}n${i + 1}`,
      ip: sc.nodeIP(i + 1),
      podCidr: sc.podCidr(i + 1),
      gateway: formatIP(fam, own.base + 1n),
    }
  })
  const nodeByName = new Map(nodes.map((n) => [n.name, n]))
  const used = new Set<bigint>()
  for (const n of nodes) {
    used.add(parseIP(n.gateway)!.value)
  }
  // Spread pods without a node over the nodes, in input order.
  let spread = 0
  const nodeOfPod = new Map<Pod, LabNode>()
  for (const p of cluster.pods) {
    const named = p.nodeName ? nodeByName.get(p.nodeName) : undefined
    nodeOfPod.set(p, named ?? (nodes[spread++ % nodes.length] as LabNode))
  }
  const other = fam === 4 ? 'IPv6' : 'IPv4'
  // First pass: keep usable manifest addresses; second pass: assign the rest.
  const chosen = new Map<Pod, string>()
  for (const p of cluster.pods) {
    if (!isLabPod(p)) continue
    const node = nodeOfPod.get(p) as LabNode
    const addr = p.ips.map((s) => parseIP(s)).find((x) => x?.family === fam)
    if (!addr) continue
    const own = parseCIDR(node.podCidr) as ParsedCIDR
    const host = addr.value - own.base
    const ok =
      !used.has(addr.value) &&
      !inAny(addr.value, sc.special, fam) &&
      !inAny(addr.value, [sc.underlay], fam) &&
      (fam === 6 || addr.value !== 0xffffffffn) &&
      (!inAny(addr.value, [sc.labRange], fam) ||
        (inAny(addr.value, [own], fam) && host >= 2n && host <= sc.maxHost))
    if (ok) {
      used.add(addr.value)
      chosen.set(p, canonicalIP(addr))
    } else {
      notes.push(
        `pod ${podKey(p)}: address ${canonicalIP(addr)} is not usable in the lab (taken or reserved on node ${node.name}); assigned another`,
      )
    }
  }
  const next = new Map<string, bigint>()
  for (const p of cluster.pods) {
    if (!isLabPod(p) || chosen.has(p)) continue
    const node = nodeOfPod.get(p) as LabNode
    let host = next.get(node.name) ?? 10n
    const base = (parseCIDR(node.podCidr) as ParsedCIDR).base
    while (host <= sc.maxHost && used.has(base | host)) host++
    if (host > sc.maxHost) throw new RangeError(`node ${node.name} has more pods than its pod CIDR holds`)
    used.add(base | host)
    chosen.set(p, formatIP(fam, base | host))
    next.set(node.name, host + 1n)
    if (p.ips.some((s) => parseIP(s) !== undefined && parseIP(s)?.family !== fam))
      notes.push(
        `pod ${podKey(p)}: ${other} addresses dropped (the lab is ${fam === 4 ? 'IPv4' : 'IPv6'} only)`,
      )
  }
  const pods: LabPod[] = []
  const adjusted: Pod[] = cluster.pods.map((p) => {
    const node = nodeOfPod.get(p) as LabNode
    if (p.hostNetwork) return { ...p, nodeName: node.name, ips: [node.ip] }
    const ip = chosen.get(p)
    if (ip === undefined) return p
    const k = pods.length
    pods.push({
      key: podKey(p),
      node: node.name,
      ip,
      netns: `${prefix}p${k}`,
      hostIf: `v${k}`,
      manifestIP: p.ips.includes(ip),
    })
    return { ...p, nodeName: node.name, ips: [ip] }
  })
  const adjustedCluster: ClusterState = { ...cluster, pods: adjusted }
  const outside = planOutside(adjustedCluster, sc, prefix, nodes, used, opts.maxOutside ?? 16, notes)
  return {
    prefix,
    mode,
    ...(fam === 6 ? { family: 6 as const } : {}),
    underlay: `${prefix}u`,
    nodes,
    pods,
    outside,
    ports: opts.ports && opts.ports.length > 0 ? [...opts.ports] : labPorts(adjustedCluster),
    cluster: adjustedCluster,
    notes,
  }
}

/** Picks one outside address inside every ipBlock cidr (outside its excepts) and one inside every except. */
function planOutside(
  cluster: ClusterState,
  sc: Scheme,
  prefix: string,
  nodes: readonly LabNode[],
  used: Set<bigint>,
  max: number,
  notes: string[],
): LabOutside | undefined {
  const fam = sc.family
  for (const n of nodes) used.add(parseIP(n.ip)!.value)
  const reserved = [sc.underlay, ...sc.special]
  const picked: { value: bigint; reasons: string[] }[] = []
  const wanted = new Map<string, { inside: ParsedCIDR; outsideOf: ParsedCIDR[]; reason: string }>()
  for (const pol of cluster.policies) {
    for (const rule of [...pol.ingress, ...pol.egress]) {
      for (const peer of rule.peers ?? []) {
        const b = peer.ipBlock
        if (!b) continue
        const block = parseCIDR(b.cidr)
        if (block?.family !== fam) {
          if (block)
            notes.push(
              `ipBlock ${b.cidr} of ${pol.namespace}/${pol.name}: ${fam === 4 ? 'IPv6' : 'IPv4'} is not probed (the lab is ${fam === 4 ? 'IPv4' : 'IPv6'} only)`,
            )
          continue
        }
        const excepts = b.except.map((e) => parseCIDR(e)).filter((e): e is ParsedCIDR => e?.family === fam)
        const key = `${b.cidr}|${b.except.join(',')}`
        if (!wanted.has(key))
          wanted.set(key, {
            inside: block,
            outsideOf: excepts,
            reason: `inside ${b.cidr} of ${pol.namespace}/${pol.name}`,
          })
        for (const e of b.except) {
          const ec = parseCIDR(e)
          if (ec?.family === fam && !wanted.has(`except|${e}`))
            wanted.set(`except|${e}`, {
              inside: ec,
              outsideOf: [],
              reason: `inside except ${e} of ${pol.namespace}/${pol.name}`,
            })
        }
      }
    }
  }
  const fits = (v: bigint, w: { inside: ParsedCIDR; outsideOf: ParsedCIDR[] }) =>
    cidrContainsIP(w.inside, { family: fam, value: v }) && !inAny(v, w.outsideOf, fam)
  // v4: no .0 or .255 host; v6: no subnet-router anycast (::0 of a /112) and no ::ffff
  const lowMask = fam === 4 ? 0xffn : 0xffffn
  for (const w of wanted.values()) {
    const again = picked.find((p) => fits(p.value, w))
    if (again) {
      again.reasons.push(w.reason)
      continue
    }
    if (picked.length >= max) {
      notes.push(`no outside address ${w.reason}: at most ${max} outside addresses`)
      continue
    }
    const v = pickAddress(
      sc,
      w.inside,
      (x) =>
        fits(x, w) &&
        !used.has(x) &&
        !inAny(x, reserved, fam) &&
        (x & lowMask) !== lowMask &&
        (x & lowMask) !== 0n,
    )
    if (v === undefined) {
      notes.push(`no outside address ${w.reason}: every candidate is a pod, a node or reserved`)
      continue
    }
    used.add(v)
    picked.push({ value: v, reasons: [w.reason] })
  }
  if (picked.length === 0) return undefined
  const attach = nodes[0] as LabNode
  return {
    netns: `${prefix}x`,
    node: attach.name,
    hostIf: 'vx',
    addresses: picked.map((p) => ({ ip: formatIP(fam, p.value), reasons: p.reasons })),
  }
}

/** Returns an address of the CIDR accepted by ok: preferred ones first, then from both ends of the range. */
function pickAddress(sc: Scheme, c: ParsedCIDR, ok: (v: bigint) => boolean): bigint | undefined {
  for (const s of sc.preferred) {
    const v = parseIP(s)!.value
    if (cidrContainsIP(c, { family: sc.family, value: v }) && ok(v)) return v
  }
  const size = 1n << BigInt(sc.bits - c.prefix)
  const tries = size < 512n ? size : 512n
  for (let i = 0n; i < tries; i++) {
    const lo = c.base + (size > 2n ? (i + 1n) % size : i)
    if (ok(lo)) return lo
    const hi = c.base + size - 1n - i
    if (ok(hi)) return hi
  }
  return undefined
}

/** Returns the endpoint name of a node in a lab matrix: 'node/NAME'. */
export function nodeEndpoint(node: string): string {
  return `node/${node}`
}

/** Returns the endpoint name of an outside address in a lab matrix: 'ip/ADDRESS'. */
export function outsideEndpoint(ip: string): string {
  return `ip/${ip}`
}
