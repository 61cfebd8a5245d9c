/**
 * Which apiVersion/kind pairs we validate (every kind of the one table, src/model/kinds.ts, in each of
 * its versions), and the API server's answer (`no matches for kind ...`) for kinds and versions it would
 * not serve, in the API groups whose kinds we know.
 */

import { KINDS } from '../model/kinds.js'
import { shortened } from '../model/raw.js'

const VALIDATED = KINDS.filter((k) => k.validated !== false)

/** 'apiVersion/Kind' pairs validated by validateObject. */
export const SUPPORTED_KINDS: ReadonlySet<string> = new Set(
  VALIDATED.flatMap((k) => k.versions.map((version) => `${version}/${k.kind}`)),
)

const VALIDATED_KIND_NAMES: readonly string[] = VALIDATED.map((k) => k.kind).sort()

/**
 * Every other kind the groups below serve (or served): these are real, so never "unknown"; we simply
 * do not validate them.
 */
const OTHER_KINDS: Readonly<Record<string, readonly string[]>> = {
  '': [
    'Binding',
    'ComponentStatus',
    'ConfigMap',
    'Endpoints',
    'Event',
    'LimitRange',
    'List',
    'Node',
    'PersistentVolume',
    'PersistentVolumeClaim',
    'PodTemplate',
    'ResourceQuota',
    'Secret',
    'Service',
    'ServiceAccount',
    'Status',
    'DeleteOptions',
    'PodList',
    'NamespaceList',
    'ServiceList',
    'ConfigMapList',
    'SecretList',
    'EventList',
  ],
  apps: ['ControllerRevision', 'DeploymentList', 'StatefulSetList', 'DaemonSetList', 'ReplicaSetList'],
  extensions: ['Ingress', 'PodSecurityPolicy', 'ReplicationControllerDummy', 'Scale', 'NetworkPolicyList'],
  batch: ['JobList', 'CronJobList', 'JobTemplate'],
  // The network-policy-api (sig-network) CRDs: the v1alpha1 kinds ClusterNetworkPolicy replaced are
  // reported as policies we do not analyse (src/load/other-policies.ts).
  'policy.networking.k8s.io': [
    'AdminNetworkPolicy',
    'BaselineAdminNetworkPolicy',
    'AdminNetworkPolicyList',
    'BaselineAdminNetworkPolicyList',
    'ClusterNetworkPolicyList',
  ],
  'networking.k8s.io': [
    'Ingress',
    'IngressClass',
    'IPAddress',
    'ServiceCIDR',
    'ClusterCIDR',
    'NetworkPolicyList',
    'IngressList',
  ],
}

const KNOWN_GROUPS: ReadonlySet<string> = new Set(Object.keys(OTHER_KINDS))

/** Splits an apiVersion into group and version ('v1' -> core group ''). */
export function splitAPIVersion(apiVersion: string): { readonly group: string; readonly version: string } {
  const slash = apiVersion.lastIndexOf('/')
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) }
}

/**
 * Returns the Levenshtein distance of a and b when it is at most max, else max + 1, for "did you mean".
 * Only a band of 2 max + 1 cells per row of the shorter string is computed, and strings whose lengths
 * differ by more than max are answered at once: a 30 MiB kind costs nothing.
 */
export function editDistanceAtMost(s: string, t: string, max: number): number {
  const over = max + 1
  if (Math.abs(s.length - t.length) > max) return over
  const [a, b] = s.length >= t.length ? [s, t] : [t, s]
  const n = b.length
  let prev: number[] = Array.from({ length: n + 1 }, (_, j) => Math.min(j, over))
  let cur: number[] = new Array<number>(n + 1)
  for (let i = 1; i <= a.length; i++) {
    cur.fill(over)
    if (i <= max) cur[0] = i
    let best = cur[0] as number
    for (let j = Math.max(1, i - max); j <= Math.min(n, i + max); j++) {
      const v = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1),
      )
      cur[j] = Math.min(v, over)
      if (v < best) best = v
    }
    if (best >= over) return over
    ;[prev, cur] = [cur, prev]
  }
  return Math.min(prev[n] as number, over)
}

/** The group we treat an apiVersion's group as: a near miss of networking.k8s.io counts as it. */
function knownGroup(group: string): string | undefined {
  if (KNOWN_GROUPS.has(group)) return group
  if (group.includes('.') && editDistanceAtMost(group, 'networking.k8s.io', 2) <= 2)
    return 'networking.k8s.io'
  return undefined
}

/** The closest validated kind name, when close enough to be a typo (at most 2 edits). */
function suggestKind(kind: string): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of VALIDATED_KIND_NAMES) {
    const d =
      candidate.length === kind.length && candidate.toLowerCase() === kind.toLowerCase()
        ? 0
        : editDistanceAtMost(kind, candidate, 2)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

/** Quotes a value for a message as Go's %q would, shortened (a kind may be megabytes long). */
function quote(value: string): string {
  return JSON.stringify(shortened(value))
}

export type KindVerdict =
  | { readonly verdict: 'validate' }
  /** Not ours to judge (another group, a CRD, or a real kind we do not validate). */
  | { readonly verdict: 'skip' }
  | { readonly verdict: 'unknown-kind'; readonly message: string }
  | { readonly verdict: 'unknown-version'; readonly message: string }

/** Decides what to do with an object of this apiVersion and kind. */
export function classifyKind(apiVersion: string, kind: string): KindVerdict {
  if (SUPPORTED_KINDS.has(`${apiVersion}/${kind}`)) return { verdict: 'validate' }
  const group = knownGroup(splitAPIVersion(apiVersion).group)
  if (group === undefined) return { verdict: 'skip' }
  const noMatch = `no matches for kind ${quote(kind)} in version ${quote(apiVersion)}`
  if (VALIDATED_KIND_NAMES.includes(kind)) return { verdict: 'unknown-version', message: noMatch }
  if ((OTHER_KINDS[group] ?? []).includes(kind)) return { verdict: 'skip' }
  const suggestion = suggestKind(kind)
  if (suggestion !== undefined)
    return { verdict: 'unknown-kind', message: `${noMatch}; did you mean ${quote(suggestion)}?` }
  if (group === 'networking.k8s.io') return { verdict: 'unknown-kind', message: noMatch }
  return { verdict: 'skip' }
}
