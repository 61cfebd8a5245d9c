/**
 * Reachability matrices. `computeMatrix` is the fast path (classes x classes with bitsets);
 * `referenceMatrix` asks `evaluate` about every pod pair. Property tests prove they agree.
 */
import type {
  ClusterNetworkPolicy,
  ClusterPolicyRule,
  ClusterPolicyTier,
  NetworkPolicy,
  Pod,
  PolicyRule,
  PolicyType,
} from '../model/index.js'
import { podKey } from '../model/index.js'
import {
  addressOfFamily,
  type ClusterPeerMatcher,
  clusterPeerMatchers,
  clusterPolicySelectsPod,
  clusterRulesOf,
  effectiveRule,
  matchClusterPeer,
  matchClusterPorts,
  matchRulePorts,
  type PeerMatcher,
  pairFamily,
  peerMatcher,
} from '../semantics/index.js'
import {
  andAndNot,
  type Bitset,
  emptyBits,
  fullBits,
  hasBit,
  isEmptyBits,
  orAndInto,
  orInto,
  setBit,
} from './bitset.js'
import { buildClasses, type PodClass } from './classes.js'
import type { ClusterIndex } from './cluster-index.js'
import { evaluate, selectingPolicies } from './evaluate.js'
import { CELL_ALLOWED, CELL_DENIED, formatPort, type Matrix, type PortQuery } from './types.js'

/** Returns the pods a matrix shows by default: every pod except hostNetwork ones (docs/semantics.md#hostnetwork-pods). */
export function matrixPods(index: ClusterIndex): Pod[] {
  return index.cluster.pods.filter((p) => !p.hostNetwork)
}

/** Computes the matrix by evaluating every pod pair (the reference). */
export function referenceMatrix(
  index: ClusterIndex,
  ports: readonly PortQuery[],
  pods: readonly Pod[] = matrixPods(index),
): Matrix {
  const n = pods.length
  const cells = ports.map((port) => {
    const out = new Uint8Array(n * n)
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = evaluate(
          index,
          { kind: 'pod', pod: pods[i] as Pod },
          { kind: 'pod', pod: pods[j] as Pod },
          port,
        )
        out[i * n + j] = v.allowed ? CELL_ALLOWED : CELL_DENIED
      }
    }
    return out
  })
  return { pods: pods.map(podKey), ports: ports.map(formatPort), cells }
}

/** Per-run caches of the fast path. */
class FastMatrix {
  readonly k: number
  private readonly peerCache = new Map<string, Bitset>()
  private readonly ingressSelecting: NetworkPolicy[][]
  private readonly egressSelecting: NetworkPolicy[][]
  /** Per tier, per class: the ClusterNetworkPolicies that select the class, in evaluation order. */
  private readonly tierSelecting: Record<ClusterPolicyTier, ClusterNetworkPolicy[][]>
  constructor(
    private readonly index: ClusterIndex,
    private readonly classes: readonly PodClass[],
  ) {
    this.k = classes.length
    this.ingressSelecting = classes.map((c) => selectingPolicies(index, c.representative, 'Ingress'))
    this.egressSelecting = classes.map((c) => selectingPolicies(index, c.representative, 'Egress'))
    const selecting = (tier: ClusterPolicyTier) =>
      classes.map((c) =>
        index.tiers[tier].filter((p) => clusterPolicySelectsPod(index.namespaces, p, c.representative)),
      )
    this.tierSelecting = { Admin: selecting('Admin'), Baseline: selecting('Baseline') }
  }

  /**
   * Classes matched by a peer, seen from a subject class with the given address profile. Selector peers do
   * not depend on the subject; an ipBlock depends on the address family each pair uses.
   */
  private peerBits(m: PeerMatcher | ClusterPeerMatcher, subject: PodClass, subjectIsSource: boolean): Bitset {
    if (m.kind === 'all') return fullBits(this.k)
    if (m.kind === 'none') return emptyBits(this.k)
    const byAddress = m.kind === 'ipBlock' || m.kind === 'nodes'
    const key = byAddress ? `${m.key}|${subject.profile}|${subjectIsSource ? 's' : 'd'}` : m.key
    let bits = this.peerCache.get(key)
    if (bits) return bits
    bits = emptyBits(this.k)
    for (const c of this.classes) {
      const rep = c.representative
      let address: string | undefined
      if (byAddress) {
        const fam = subjectIsSource
          ? pairFamily(subject.families, c.families)
          : pairFamily(c.families, subject.families)
        address = addressOfFamily(rep.ips, fam)
      }
      if (matchClusterPeer(this.index, m, rep, address)) setBit(bits, c.id)
    }
    this.peerCache.set(key, bits)
    return bits
  }

  private ruleBits(rule: PolicyRule, policyNs: string, subject: PodClass, subjectIsSource: boolean): Bitset {
    if (rule.peers === undefined) return fullBits(this.k)
    const out = emptyBits(this.k)
    for (const peer of rule.peers)
      orInto(out, this.peerBits(peerMatcher(peer, policyNs), subject, subjectIsSource))
    return out
  }

  /**
   * Destination classes whose ports admit the query for this rule. Only named ports differ per destination;
   * a rule without them admits the port for every destination or for none.
   */
  private portBits(rule: PolicyRule, port: PortQuery): Bitset {
    if (rule.ports === undefined) return fullBits(this.k)
    if (!rule.ports.some((p) => typeof p.port === 'string')) {
      return matchRulePorts(rule.ports, port, undefined) ? fullBits(this.k) : emptyBits(this.k)
    }
    const out = emptyBits(this.k)
    for (const c of this.classes) if (matchRulePorts(rule.ports, port, c.representative)) setBit(out, c.id)
    return out
  }

  /** Remote classes a ClusterNetworkPolicy rule matches for the subject class (peers and protocols). */
  private clusterRuleBits(
    rule: ClusterPolicyRule,
    subject: PodClass,
    direction: PolicyType,
    port: PortQuery,
  ): Bitset {
    const eff = effectiveRule(rule)
    if (eff.kind === 'matches-nothing') return emptyBits(this.k)
    if (eff.kind === 'deny-all') return fullBits(this.k)
    const egress = direction === 'Egress'
    let ports: Bitset
    if (rule.ports === undefined) ports = fullBits(this.k)
    else if (!egress || !rule.ports.some((p) => p.kind === 'named'))
      // Ingress: the destination is the subject; egress without named ports: the same for every destination.
      ports = matchClusterPorts(rule.ports, port, egress ? undefined : subject.representative)
        ? fullBits(this.k)
        : emptyBits(this.k)
    else {
      ports = emptyBits(this.k)
      for (const c of this.classes)
        if (matchClusterPorts(rule.ports, port, c.representative)) setBit(ports, c.id)
    }
    if (isEmptyBits(ports)) return ports
    const peers = emptyBits(this.k)
    for (const peer of rule.peers)
      for (const m of clusterPeerMatchers(peer)) orInto(peers, this.peerBits(m, subject, egress))
    return andAndNot(peers, ports, emptyBits(this.k))
  }

  /**
   * Runs one ClusterNetworkPolicy tier for the subject class over the remote classes not yet stopped:
   * the first matching rule decides each remote class (Accept into `allowed`, Accept and Deny into
   * `final`); Pass stops the tier for it without a decision.
   */
  private runTier(
    tier: ClusterPolicyTier,
    subject: PodClass,
    direction: PolicyType,
    port: PortQuery,
    final: Bitset,
    allowed: Bitset,
  ): void {
    const policies = this.tierSelecting[tier][subject.id] as ClusterNetworkPolicy[]
    if (policies.length === 0) return
    const stop = Uint32Array.from(final)
    for (const pol of policies) {
      for (const rule of clusterRulesOf(pol, direction)) {
        const hit = andAndNot(this.clusterRuleBits(rule, subject, direction, port), fullBits(this.k), stop)
        if (isEmptyBits(hit)) continue
        const action = effectiveRule(rule).kind === 'deny-all' ? 'Deny' : rule.action
        orInto(stop, hit)
        if (action === 'Pass') continue
        orInto(final, hit)
        if (action === 'Accept') orInto(allowed, hit)
      }
    }
  }

  /**
   * Returns, per class, the remote classes it may talk with in the direction, tier by tier
   * (docs/semantics.md#cnp-tiers); `networkPolicy` gives the NetworkPolicy tier's answer for an isolated class.
   */
  private tiered(direction: PolicyType, port: PortQuery, networkPolicy: (c: PodClass) => Bitset | undefined) {
    return this.classes.map((c) => {
      const final = emptyBits(this.k)
      const allowed = emptyBits(this.k)
      this.runTier('Admin', c, direction, port, final, allowed)
      const np = networkPolicy(c)
      if (np) {
        orAndInto(allowed, andAndNot(np, fullBits(this.k), final), fullBits(this.k))
        return allowed
      }
      this.runTier('Baseline', c, direction, port, final, allowed)
      orInto(allowed, andAndNot(fullBits(this.k), fullBits(this.k), final))
      return allowed
    })
  }

  /** Returns, per class, the bitset of classes it may send to (egress) on the port. */
  egress(port: PortQuery): Bitset[] {
    return this.tiered('Egress', port, (c) => this.networkPolicyEgress(c, port))
  }

  /** Returns, per class, the bitset of classes it may receive from (ingress) on the port. */
  ingress(port: PortQuery): Bitset[] {
    return this.tiered('Ingress', port, (c) => this.networkPolicyIngress(c, port))
  }

  private readonly portCaches = new Map<PortQuery, Map<PolicyRule, Bitset>>()

  /** The classes an egress-isolated class may send to by its NetworkPolicies; undefined when not isolated. */
  private networkPolicyEgress(c: PodClass, port: PortQuery): Bitset | undefined {
    let portCache = this.portCaches.get(port)
    if (!portCache) {
      portCache = new Map()
      this.portCaches.set(port, portCache)
    }
    {
      const selecting = this.egressSelecting[c.id] as NetworkPolicy[]
      if (selecting.length === 0) return undefined
      const out = emptyBits(this.k)
      for (const pol of selecting) {
        for (const rule of pol.egress) {
          let pb = portCache.get(rule)
          if (!pb) {
            pb = this.portBits(rule, port)
            portCache.set(rule, pb)
          }
          orAndInto(out, this.ruleBits(rule, pol.namespace, c, true), pb)
        }
      }
      return out
    }
  }

  /** The classes an ingress-isolated class may receive from by its NetworkPolicies; undefined when not isolated. */
  private networkPolicyIngress(c: PodClass, port: PortQuery): Bitset | undefined {
    const selecting = this.ingressSelecting[c.id] as NetworkPolicy[]
    if (selecting.length === 0) return undefined
    const out = emptyBits(this.k)
    for (const pol of selecting) {
      for (const rule of pol.ingress) {
        if (matchRulePorts(rule.ports, port, c.representative))
          orInto(out, this.ruleBits(rule, pol.namespace, c, false))
      }
    }
    return out
  }
}

export interface MatrixStats {
  readonly pods: number
  readonly classes: number
}

/** Computes the matrix over pod classes (fast path); same result as referenceMatrix. */
export function computeMatrix(
  index: ClusterIndex,
  ports: readonly PortQuery[],
  pods: readonly Pod[] = matrixPods(index),
): Matrix & { readonly stats: MatrixStats } {
  const n = pods.length
  const { classes, classOf } = buildClasses(index, pods)
  const fast = new FastMatrix(index, classes)
  const k = classes.length
  const hasHostNetwork = classes.some((c) => c.representative.hostNetwork)
  const cells = ports.map((port) => {
    const eg = fast.egress(port)
    const ing = fast.ingress(port)
    const cls = new Uint8Array(k * k)
    for (let a = 0; a < k; a++) {
      const ea = eg[a] as Bitset
      for (let b = 0; b < k; b++) cls[a * k + b] = hasBit(ea, b) && hasBit(ing[b] as Bitset, a) ? 1 : 0
    }
    // A node (hostNetwork pod) and the pods on its own node always talk (docs/semantics.md#node-and-local-pods).
    for (let a = 0; a < k && hasHostNetwork; a++) {
      for (let b = 0; b < k; b++) {
        const ra = (classes[a] as PodClass).representative
        const rb = (classes[b] as PodClass).representative
        if ((ra.hostNetwork || rb.hostNetwork) && ra.nodeName !== undefined && ra.nodeName === rb.nodeName)
          cls[a * k + b] = 1
      }
    }
    const out = new Uint8Array(n * n)
    for (let i = 0; i < n; i++) {
      const row = (classOf[i] as number) * k
      const base = i * n
      for (let j = 0; j < n; j++) out[base + j] = cls[row + (classOf[j] as number)] as number
      out[base + i] = CELL_ALLOWED // a pod always reaches itself (loopback)
    }
    return out
  })
  return { pods: pods.map(podKey), ports: ports.map(formatPort), cells, stats: { pods: n, classes: k } }
}

/** Returns one cell of a matrix. */
export function matrixCell(m: Matrix, port: string, src: string, dst: string): number | undefined {
  const k = m.ports.indexOf(port)
  const i = m.pods.indexOf(src)
  const j = m.pods.indexOf(dst)
  if (k < 0 || i < 0 || j < 0) return undefined
  return (m.cells[k] as Uint8Array)[i * m.pods.length + j]
}

export interface MatrixJSON {
  readonly pods: readonly string[]
  readonly ports: readonly string[]
  readonly reachable: Record<string, Record<string, Record<string, boolean | null>>>
}

/** Converts a matrix to the CLI's JSON shape (null = not evaluated/probed). */
export function matrixToJSON(m: Matrix): MatrixJSON {
  const n = m.pods.length
  const reachable: MatrixJSON['reachable'] = {}
  m.ports.forEach((port, k) => {
    const cells = m.cells[k] as Uint8Array
    const byPort: Record<string, Record<string, boolean | null>> = {}
    m.pods.forEach((src, i) => {
      const row: Record<string, boolean | null> = {}
      m.pods.forEach((dst, j) => {
        const v = cells[i * n + j]
        row[dst] = v === CELL_ALLOWED ? true : v === CELL_DENIED ? false : null
      })
      byPort[src] = row
    })
    reachable[port] = byPort
  })
  return { pods: m.pods, ports: m.ports, reachable }
}

export interface CellDiff {
  readonly port: string
  readonly from: string
  readonly to: string
  readonly expected: number
  readonly actual: number
}

/** Lists the cells where two matrices over the same pods and ports differ (unknown cells are skipped). */
export function diffMatrices(expected: Matrix, actual: Matrix): CellDiff[] {
  const out: CellDiff[] = []
  expected.ports.forEach((port, k) => {
    const ka = actual.ports.indexOf(port)
    if (ka < 0) return
    expected.pods.forEach((from, i) => {
      const ia = actual.pods.indexOf(from)
      if (ia < 0) return
      expected.pods.forEach((to, j) => {
        const ja = actual.pods.indexOf(to)
        if (ja < 0) return
        const e = (expected.cells[k] as Uint8Array)[i * expected.pods.length + j] as number
        const a = (actual.cells[ka] as Uint8Array)[ia * actual.pods.length + ja] as number
        if (e !== a && e !== 2 && a !== 2) out.push({ port, from, to, expected: e, actual: a })
      })
    })
  })
  return out
}
