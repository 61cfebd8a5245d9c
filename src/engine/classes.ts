/**
 * Equivalence classes: pods that no policy, peer or port can tell apart share one class, so the
 * matrix costs classes^2, not pods^2. Two pods are equivalent when they have the same namespace,
 * labels, declared ports, hostNetwork flag, phase (terminated or not), address families and membership
 * in every ipBlock of every policy (ClusterNetworkPolicy networks included), in the nodes every
 * ClusterNetworkPolicy `nodes` peer selects (and, only when hostNetwork pods are present, the same node).
 */
import type { Pod } from '../model/index.js'
import { parseIP } from '../model/index.js'
import {
  addressOfFamily,
  clusterPeerMatchers,
  familiesOf,
  type IPBlockPeer,
  isTerminated,
  matchIPBlockAddress,
  matchNodesAddress,
  type NodesPeer,
  peerMatcher,
} from '../semantics/index.js'
import type { ClusterIndex } from './cluster-index.js'

export interface PodClass {
  readonly id: number
  /** The first pod of the class: every evaluation uses it. */
  readonly representative: Pod
  readonly families: readonly (4 | 6)[]
  readonly profile: string
  readonly size: number
}

export interface ClassPartition {
  readonly classes: readonly PodClass[]
  /** classOf[i] = class id of pods[i]. */
  readonly classOf: Int32Array
}

/** Returns every distinct ipBlock of every policy (by canonical key). */
function distinctIPBlocks(index: ClusterIndex): IPBlockPeer[] {
  const seen = new Map<string, IPBlockPeer>()
  for (const pol of index.cluster.policies) {
    for (const rule of [...pol.ingress, ...pol.egress]) {
      for (const peer of rule.peers ?? []) {
        const m = peerMatcher(peer, pol.namespace)
        if (m.kind === 'ipBlock') seen.set(m.key, m)
      }
    }
  }
  // ClusterNetworkPolicy networks entries are ipBlocks too.
  for (const m of clusterMatchers(index)) if (m.kind === 'ipBlock') seen.set(m.key, m)
  return [...seen.values()]
}

/** Every matcher of every ClusterNetworkPolicy peer. */
function clusterMatchers(index: ClusterIndex) {
  return (index.cluster.clusterPolicies ?? []).flatMap((pol) =>
    [...pol.ingress, ...pol.egress].flatMap((rule) => rule.peers.flatMap((p) => clusterPeerMatchers(p))),
  )
}

/** Every distinct ClusterNetworkPolicy `nodes` peer (pods whose address is a node's differ by it). */
function distinctNodePeers(index: ClusterIndex): NodesPeer[] {
  const seen = new Map<string, NodesPeer>()
  for (const m of clusterMatchers(index)) if (m.kind === 'nodes') seen.set(m.key, m)
  return [...seen.values()]
}

/** Splits the pods into equivalence classes. */
export function buildClasses(index: ClusterIndex, pods: readonly Pod[]): ClassPartition {
  const blocks = distinctIPBlocks(index)
  const nodePeers = distinctNodePeers(index)
  const withNode = pods.some((p) => p.hostNetwork)
  const byKey = new Map<
    string,
    { id: number; representative: Pod; families: (4 | 6)[]; profile: string; size: number }
  >()
  const classOf = new Int32Array(pods.length)
  pods.forEach((pod, i) => {
    const families = familiesOf(pod.ips)
    const profile = families.join('')
    let membership = ''
    if (blocks.length > 0) {
      const v4 = addressOfFamily(pod.ips, 4)
      const v6 = addressOfFamily(pod.ips, 6)
      const p4 = v4 === undefined ? undefined : parseIP(v4)
      const p6 = v6 === undefined ? undefined : parseIP(v6)
      for (const b of blocks) {
        membership +=
          (p4 && matchIPBlockAddress(b, p4) ? '1' : '0') + (p6 && matchIPBlockAddress(b, p6) ? '1' : '0')
      }
    }
    if (nodePeers.length > 0) {
      const v4 = addressOfFamily(pod.ips, 4)
      const v6 = addressOfFamily(pod.ips, 6)
      for (const m of nodePeers)
        membership +=
          (matchNodesAddress(index.nodes, m, v4) ? '1' : '0') +
          (matchNodesAddress(index.nodes, m, v6) ? '1' : '0')
    }
    const labels = Object.entries(pod.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const ports = pod.ports.map((p) => `${p.name ?? ''}:${p.containerPort}/${p.protocol}`).sort()
    const key = JSON.stringify([
      pod.namespace,
      labels,
      ports,
      pod.hostNetwork,
      isTerminated(pod),
      profile,
      membership,
      withNode ? (pod.nodeName ?? '') : '',
    ])
    let cls = byKey.get(key)
    if (!cls) {
      cls = { id: byKey.size, representative: pod, families, profile, size: 0 }
      byKey.set(key, cls)
    }
    cls.size++
    classOf[i] = cls.id
  })
  return { classes: [...byKey.values()], classOf }
}
