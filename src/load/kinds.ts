/** Which kinds Palisade reads into the cluster, and in which API versions (as src/validate accepts them). */
import { type JsonObject, ownValue, shortened } from '../model/index.js'

export type WorkloadKind =
  | 'Deployment'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'ReplicaSet'
  | 'ReplicationController'
  | 'Job'
  | 'CronJob'

export type ReadKind = 'Namespace' | 'Pod' | 'NetworkPolicy' | WorkloadKind

/** API versions in which each kind we read is accepted. */
export const READ_KINDS: Readonly<Record<ReadKind, readonly string[]>> = {
  Namespace: ['v1'],
  Pod: ['v1'],
  NetworkPolicy: ['networking.k8s.io/v1', 'extensions/v1beta1'],
  Deployment: ['apps/v1', 'apps/v1beta1', 'apps/v1beta2', 'extensions/v1beta1'],
  StatefulSet: ['apps/v1', 'apps/v1beta1', 'apps/v1beta2'],
  DaemonSet: ['apps/v1', 'apps/v1beta2', 'extensions/v1beta1'],
  ReplicaSet: ['apps/v1', 'apps/v1beta2', 'extensions/v1beta1'],
  ReplicationController: ['v1'],
  Job: ['batch/v1'],
  CronJob: ['batch/v1', 'batch/v1beta1'],
}

export const WORKLOAD_KINDS: readonly WorkloadKind[] = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
  'CronJob',
]

export type KindClass =
  | { readonly kind: 'read'; readonly readKind: ReadKind }
  | { readonly kind: 'other' }
  | { readonly kind: 'no-match'; readonly message: string }

/**
 * Classifies an object: read by Palisade, skipped (another kind), or a kind we read in an apiVersion
 * that does not serve it. Typos and unknown versions are the validator's to report (validate.unknown-*);
 * this only guards normalizeObjects when it is handed objects that were not validated.
 */
export function classifyKind(value: JsonObject): KindClass {
  const apiVersion = typeof value.apiVersion === 'string' ? value.apiVersion : ''
  const kind = typeof value.kind === 'string' ? value.kind : ''
  const versions = ownValue<readonly string[]>(READ_KINDS, kind)
  if (!versions) return { kind: 'other' }
  if (versions.includes(apiVersion)) return { kind: 'read', readKind: kind as ReadKind }
  const message = `no matches for kind ${JSON.stringify(shortened(kind))} in version ${JSON.stringify(shortened(apiVersion))}`
  return { kind: 'no-match', message }
}

/** Returns the key under which two objects are the same API object (kind/namespace/name). */
export function objectKey(readKind: ReadKind, value: JsonObject): string {
  const meta = value.metadata
  const m = meta && typeof meta === 'object' && !Array.isArray(meta) ? meta : {}
  const name = typeof m.name === 'string' ? m.name : ''
  const ns =
    readKind === 'Namespace'
      ? ''
      : typeof m.namespace === 'string' && m.namespace !== ''
        ? m.namespace
        : 'default'
  return `${readKind}/${ns}/${name}`
}
