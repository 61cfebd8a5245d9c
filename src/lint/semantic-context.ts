/** What the semantic lint checks share: their context, how they report, which pods a policy or peer selects. */
import type { ClusterIndex } from '../engine/index.js'
import type {
  ClusterState,
  Diagnostic,
  FieldPath,
  NetworkPolicy,
  Pod,
  PolicyPeer,
  PolicyType,
  RawObject,
  SourceRef,
} from '../model/index.js'
import { policyKey } from '../model/index.js'
import {
  buildPodIndex,
  matchPeerPod,
  type PodIndex,
  peerMatcher,
  policySelectsPod,
  selectPods,
} from '../semantics/index.js'
import { lintRule } from './rules.js'

const MAX_LISTED = 5

/** What every semantic check reads, and where it reports. */
export interface Ctx {
  readonly index: ClusterIndex
  readonly cluster: ClusterState
  readonly hasPods: boolean
  /** 'ns/name' -> raw object of the policy, for exact field positions. */
  readonly raws: ReadonlyMap<string, RawObject>
  readonly out: Diagnostic[]
  /** The pod index, built on first use. */
  podIndex?: PodIndex<Pod>
}

/** Lists pod keys, shortened after a few. */
export function listPods(pods: readonly string[]): string {
  const shown = pods.slice(0, MAX_LISTED).join(', ')
  return pods.length > MAX_LISTED ? `${shown} and ${pods.length - MAX_LISTED} more` : shown
}

/** Reports a finding on a policy, at the exact position of `path` when the raw object is known. */
export function report(
  ctx: Ctx,
  code: string,
  pol: NetworkPolicy,
  path: FieldPath,
  message: string,
  fallback?: SourceRef,
): void {
  const raw = ctx.raws.get(policyKey(pol))
  const source = raw ? raw.locate(path) : (fallback ?? pol.source)
  ctx.out.push({
    code,
    severity: lintRule(code)?.severity ?? 'warning',
    message,
    object: `NetworkPolicy ${policyKey(pol)}`,
    path,
    ...(source ? { source } : {}),
  })
}

export const field = (d: PolicyType): 'ingress' | 'egress' => (d === 'Ingress' ? 'ingress' : 'egress')
export const peerField = (d: PolicyType): 'from' | 'to' => (d === 'Ingress' ? 'from' : 'to')

/** Pods a policy selects (policy endpoints only). */
export function selectedPods(ctx: Ctx, pol: NetworkPolicy): Pod[] {
  return ctx.cluster.pods.filter((p) => policySelectsPod(pol, p))
}

/** Pods a peer matches (ipBlock: by any of their addresses), in the order of the input. */
export function peerPods(ctx: Ctx, peer: PolicyPeer, ns: string): Pod[] {
  const m = peerMatcher(peer, ns)
  if (m.kind !== 'pods') return ctx.cluster.pods.filter((pod) => matchPeerPod(ctx.index.namespaces, m, pod))
  ctx.podIndex ??= buildPodIndex(ctx.cluster.pods, (p) => p)
  const hits = new Set(selectPods(ctx.podIndex, ctx.index.namespaces, m))
  return hits.size === 0 ? [] : ctx.cluster.pods.filter((pod) => hits.has(pod))
}
