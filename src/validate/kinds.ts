/**
 * Which apiVersion/kind pairs we validate, and the API server's answer (`no matches for kind ...`)
 * for kinds and versions it would not serve, in the API groups whose kinds we know.
 */

/** Kinds we validate, by apiVersion. */
const VALIDATED: Readonly<Record<string, readonly string[]>> = {
  v1: ['Namespace', 'Pod', 'ReplicationController'],
  'apps/v1': ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  'apps/v1beta1': ['Deployment', 'StatefulSet'],
  'apps/v1beta2': ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  'extensions/v1beta1': ['Deployment', 'DaemonSet', 'ReplicaSet', 'NetworkPolicy'],
  'batch/v1': ['Job', 'CronJob'],
  'batch/v1beta1': ['CronJob'],
  'networking.k8s.io/v1': ['NetworkPolicy'],
}

/** 'apiVersion/Kind' pairs validated by validateObject. */
export const SUPPORTED_KINDS: ReadonlySet<string> = new Set(
  Object.entries(VALIDATED).flatMap(([version, kinds]) => kinds.map((k) => `${version}/${k}`)),
)

const VALIDATED_KIND_NAMES: readonly string[] = [...new Set(Object.values(VALIDATED).flat())].sort()

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

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
    }
    prev = cur
  }
  return prev[b.length] as number
}

/** The group we treat an apiVersion's group as: a near miss of networking.k8s.io counts as it. */
function knownGroup(group: string): string | undefined {
  if (KNOWN_GROUPS.has(group)) return group
  if (group.includes('.') && editDistance(group, 'networking.k8s.io') <= 2) return 'networking.k8s.io'
  return undefined
}

/** The closest validated kind name, when close enough to be a typo. */
function suggestKind(kind: string): string | undefined {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of VALIDATED_KIND_NAMES) {
    const d = candidate.toLowerCase() === kind.toLowerCase() ? 0 : editDistance(kind, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return bestDistance <= 2 ? best : undefined
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
  const noMatch = `no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}`
  if (VALIDATED_KIND_NAMES.includes(kind)) return { verdict: 'unknown-version', message: noMatch }
  if ((OTHER_KINDS[group] ?? []).includes(kind)) return { verdict: 'skip' }
  const suggestion = suggestKind(kind)
  if (suggestion !== undefined)
    return { verdict: 'unknown-kind', message: `${noMatch}; did you mean ${JSON.stringify(suggestion)}?` }
  if (group === 'networking.k8s.io') return { verdict: 'unknown-kind', message: noMatch }
  return { verdict: 'skip' }
}
