/**
 * Whether the API server serves ClusterNetworkPolicies, and the informers that follow from it (edge,
 * with the decisions in a pure step function; docs/semantics.md#agent-cnp-discovery).
 *
 * The agent asks discovery for `policy.networking.k8s.io` `clusternetworkpolicies`, v1beta1 first, then
 * v1alpha2. Served: the Node informer starts, then (once the Nodes are listed, so that a `nodes` peer is
 * never compiled without them) the ClusterNetworkPolicy informer; readiness waits for both first lists (a
 * first ruleset without an Admin Deny would enforce less). Not served: the agent enforces
 * NetworkPolicy alone, says so once, and asks again with backoff (30 s doubling to 5 min), so a CRD
 * installed later is picked up without a restart. Discovery failing (network, 403, 5xx) is no answer:
 * what is known stays (at start, readiness waits for an answer).
 *
 * A CRD removed later: the informer's list or watch answers 404 and it stops; the ClusterNetworkPolicies
 * stay in force while discovery is asked again. Deleting a CRD deletes its objects, so an empty set is
 * then the truth, but one 404 may be transient (an aggregated API server restarting, a proxy): they are
 * dropped only when discovery has said "not served" twice, `confirmMs` apart (default 30 s).
 */
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import type { InformerSet } from './informers.js'
import { isRecord, kubeRequest } from './kube-client.js'
import type { ObjectStore } from './object-store.js'

export const CNP_GROUP = 'policy.networking.k8s.io'
/** The versions asked, preferred first. */
export const CNP_VERSIONS = ['v1beta1', 'v1alpha2'] as const
export type CnpVersion = (typeof CNP_VERSIONS)[number]

/** What discovery said. */
export type DiscoveryAnswer =
  | { readonly kind: 'served'; readonly version: CnpVersion }
  | { readonly kind: 'not-served' }
  | { readonly kind: 'failed'; readonly error: string }

/** Asks the API server which version of ClusterNetworkPolicy it serves (edge). */
export async function discoverClusterPolicies(kc: KubeConfig, timeoutMs = 15_000): Promise<DiscoveryAnswer> {
  for (const version of CNP_VERSIONS) {
    let res: Awaited<ReturnType<typeof kubeRequest>>
    try {
      res = await kubeRequest(kc, 'GET', `/apis/${CNP_GROUP}/${version}`, undefined, timeoutMs)
    } catch (err) {
      return { kind: 'failed', error: err instanceof Error ? err.message : String(err) }
    }
    // 404: this version (or the whole group) is not served; anything else but 200 is no answer.
    if (res.status === 404) continue
    if (res.status !== 200)
      return { kind: 'failed', error: `GET /apis/${CNP_GROUP}/${version}: ${res.status}` }
    const resources = isRecord(res.body) && Array.isArray(res.body.resources) ? res.body.resources : undefined
    if (!resources)
      return { kind: 'failed', error: `GET /apis/${CNP_GROUP}/${version}: not an APIResourceList` }
    if (resources.some((r) => isRecord(r) && r.name === 'clusternetworkpolicies'))
      return { kind: 'served', version }
  }
  return { kind: 'not-served' }
}

/** What the agent knows. */
export interface CnpState {
  /** The version informed now; undefined when no informer runs. */
  readonly informing?: CnpVersion
  /** The last answer that was one (undefined: none yet). */
  readonly known?: 'served' | 'not-served'
  /** ClusterNetworkPolicies (and Nodes) are in the store from an informer that stopped (404). */
  readonly held: boolean
  /** When discovery first said "not served" while `held` (confirmation pending). */
  readonly notServedSince?: number
  /** Consecutive answers of the same kind (backoff). */
  readonly streak: number
}

export const INITIAL_CNP_STATE: CnpState = { held: false, streak: 0 }

/** What to do after an answer. */
export interface CnpStep {
  readonly state: CnpState
  /** Start (or restart in another version) the informers. */
  readonly start?: CnpVersion
  /** Drop the ClusterNetworkPolicies and Nodes stored (the CRD is gone, confirmed). */
  readonly drop: boolean
  /** Ask discovery again after this long (undefined: not until an informer reports 404). */
  readonly nextInMs?: number
  /** Something to log once (the state changed). */
  readonly say?: 'served' | 'not-served' | 'removed' | 'held' | 'failed'
}

export interface CnpTiming {
  /** First retry while not served (default 30 s); doubles up to maxMs. */
  readonly retryMs: number
  /** Longest wait between discovery calls (default 5 min). */
  readonly maxMs: number
  /** Retry after a failed discovery (default 1 s; doubles up to retryMs). */
  readonly failedMs: number
  /** The second "not served" needed to drop what an informer stored must come this long after the first. */
  readonly confirmMs: number
}

export const DEFAULT_CNP_TIMING: CnpTiming = {
  retryMs: 30_000,
  maxMs: 300_000,
  failedMs: 1000,
  confirmMs: 30_000,
}

/** The informer of ClusterNetworkPolicies answered 404: it stopped, what it stored stays (pure). */
export function cnpInformerGone(s: CnpState): CnpState {
  return { ...s, informing: undefined, held: true, streak: 0 }
}

/** Returns what follows a discovery answer (pure). */
export function nextCnpStep(s: CnpState, a: DiscoveryAnswer, now: number, t: CnpTiming): CnpStep {
  const backoff = (first: number, streak: number, max: number) => Math.min(max, first * 2 ** (streak - 1))
  if (a.kind === 'failed') {
    const streak = s.known === undefined || s.held ? s.streak + 1 : 1
    return {
      state: { ...s, streak },
      drop: false,
      // Nothing known, or a removal to confirm: ask again soon; otherwise the informer tells us.
      ...(s.known === undefined || s.held || s.known === 'not-served'
        ? { nextInMs: backoff(t.failedMs, streak, t.retryMs) }
        : {}),
      ...(streak === 1 ? { say: 'failed' as const } : {}),
    }
  }
  if (a.kind === 'served') {
    const start = s.informing === a.version ? undefined : a.version
    return {
      state: { informing: a.version, known: 'served', held: false, streak: 0 },
      ...(start ? { start } : {}),
      drop: false,
      ...(s.known !== 'served' || s.held ? { say: 'served' as const } : {}),
    }
  }
  // Not served.
  if (s.held) {
    if (s.notServedSince !== undefined && now - s.notServedSince >= t.confirmMs)
      return {
        state: { known: 'not-served', held: false, streak: 1 },
        drop: true,
        nextInMs: t.retryMs,
        say: 'removed',
      }
    const since = s.notServedSince ?? now
    return {
      state: { ...s, notServedSince: since },
      drop: false,
      nextInMs: Math.max(0, t.confirmMs - (now - since)),
      ...(s.notServedSince === undefined ? { say: 'held' as const } : {}),
    }
  }
  const streak = s.known === 'not-served' ? s.streak + 1 : 1
  return {
    state: { known: 'not-served', held: false, streak },
    drop: false,
    nextInMs: backoff(t.retryMs, streak, t.maxMs),
    ...(s.known !== 'not-served' ? { say: 'not-served' as const } : {}),
  }
}

export interface CnpDiscovery {
  /** 'served (v1beta1)', 'not served', 'unknown'... for /healthz. */
  readonly status: () => string
  readonly stop: () => void
}

/** Runs discovery and the ClusterNetworkPolicy and Node informers it calls for (edge). */
export function startCnpDiscovery(o: {
  readonly kc: KubeConfig
  readonly informers: InformerSet
  readonly store: ObjectStore
  readonly log: Logger
  /** Called when the store changed here (dropped policies). */
  readonly signal: (at: number) => void
  readonly timing?: Partial<CnpTiming>
  /** Discovery (tests may fake it); default discoverClusterPolicies. */
  readonly discover?: () => Promise<DiscoveryAnswer>
}): CnpDiscovery {
  const t: CnpTiming = { ...DEFAULT_CNP_TIMING, ...o.timing }
  const discover = o.discover ?? (() => discoverClusterPolicies(o.kc))
  let state = INITIAL_CNP_STATE
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  // Readiness waits for the first answer (and, when served, for the first lists).
  let release: (() => void) | undefined = o.informers.hold('ClusterNetworkPolicy discovery')
  const releaseOnce = () => {
    release?.()
    release = undefined
  }
  const schedule = (ms: number) => {
    clearTimeout(timer)
    if (!stopped) timer = setTimeout(() => void run(), ms)
  }
  const onNotFound = (err: unknown) => {
    if (stopped) return
    state = cnpInformerGone(state)
    o.log.warn(
      { err: String(err instanceof Error ? err.message : err) },
      'ClusterNetworkPolicies answer 404: those in force are kept while discovery is asked again',
    )
    void o.informers.remove('ClusterNetworkPolicy').then(() => {
      releaseOnce()
      schedule(0)
    })
  }
  const startInformers = async (version: CnpVersion) => {
    await o.informers.remove('ClusterNetworkPolicy')
    // The Nodes first: a `nodes` peer is never compiled before the Nodes are listed.
    await o.informers.add('Node')
    if (stopped || state.informing !== version) return
    void o.informers.add('ClusterNetworkPolicy', {
      path: `/apis/${CNP_GROUP}/${version}/clusternetworkpolicies`,
      apiVersion: `${CNP_GROUP}/${version}`,
      onNotFound,
    })
    // Its first list holds readiness now (informers.synced counts it); the discovery hold can go.
    releaseOnce()
  }
  const run = async () => {
    if (stopped) return
    const answer = await discover()
    if (stopped) return
    const step = nextCnpStep(state, answer, Date.now(), t)
    state = step.state
    switch (step.say) {
      case 'served':
        o.log.info(
          { version: `${CNP_GROUP}/${state.informing}` },
          'ClusterNetworkPolicies are served: watching them and the Nodes',
        )
        break
      case 'not-served':
        o.log.info(
          { retryInMs: step.nextInMs },
          'ClusterNetworkPolicies are not served (no CRD): enforcing NetworkPolicies only; discovery is retried with backoff',
        )
        break
      case 'held':
        o.log.warn(
          { confirmInMs: step.nextInMs },
          'ClusterNetworkPolicies are no longer served: those in force are kept until a second answer confirms it',
        )
        break
      case 'removed':
        o.log.warn('ClusterNetworkPolicies are no longer served (CRD removed): they are no longer enforced')
        break
      case 'failed':
        o.log.warn(
          { err: answer.kind === 'failed' ? answer.error : '', retryInMs: step.nextInMs },
          'ClusterNetworkPolicy discovery failed: what is known stays; retrying',
        )
        break
    }
    if (step.drop) {
      await o.informers.remove('Node')
      const changed = [
        o.store.relist('ClusterNetworkPolicy', [], true),
        o.store.relist('Node', [], true),
      ].some(Boolean)
      if (changed) o.signal(Date.now())
    }
    if (answer.kind === 'not-served' && state.informing === undefined && !state.held) {
      // Nothing to wait for: the agent enforces NetworkPolicies alone.
      await o.informers.remove('Node')
      releaseOnce()
    }
    if (step.start) await startInformers(step.start)
    if (step.nextInMs !== undefined) schedule(step.nextInMs)
  }
  schedule(0)
  return {
    status: () =>
      state.informing !== undefined
        ? `served (${CNP_GROUP}/${state.informing})`
        : state.held
          ? 'answered 404: the last ones kept until discovery confirms'
          : state.known === 'not-served'
            ? 'not served (NetworkPolicy only)'
            : 'unknown (discovery has not answered)',
    stop: () => {
      stopped = true
      clearTimeout(timer)
      releaseOnce()
    },
  }
}
