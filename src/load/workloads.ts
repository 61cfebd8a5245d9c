/**
 * Workloads and their pods (docs/semantics.md#workload-names, #phantom-pods): which workload a real pod
 * belongs to (ownerReferences, followed through the owners of the input; pod-template-hash when the
 * ReplicaSet is absent), which workloads run no pod at all (scaled to 0, finished, suspended), and which
 * workloads need a representative pod because none of their pods is in the input. Pure.
 */
import type { JsonObject, JsonValue, PodOwner } from '../model/index.js'
import { WORKLOAD_KINDS, type WorkloadKind } from '../model/index.js'

const asObject = (v: JsonValue | undefined): JsonObject | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined

/** Reads a path of plain fields; undefined when any step is absent or not an object. */
function at(root: JsonObject, ...path: string[]): JsonValue | undefined {
  let v: JsonValue | undefined = root
  for (const k of path) {
    const o = asObject(v)
    v = o && Object.hasOwn(o, k) ? o[k] : undefined
  }
  return v ?? undefined
}

/** Longest owner chain followed (a cycle in bad input stops here). */
const MAX_CHAIN = 8

/**
 * Returns the object's controller from metadata.ownerReferences: the reference with `controller: true`,
 * else the first reference to a workload kind (kubectl dumps trimmed by hand often drop `controller`).
 */
export function controllerRef(value: JsonObject): PodOwner | undefined {
  const refs = at(value, 'metadata', 'ownerReferences')
  if (!Array.isArray(refs)) return undefined
  let first: PodOwner | undefined
  for (const item of refs) {
    const r = asObject(item)
    if (!r || typeof r.kind !== 'string' || typeof r.name !== 'string' || r.name === '') continue
    if (r.controller === true) return { kind: r.kind, name: r.name }
    if (!first && (WORKLOAD_KINDS as readonly string[]).includes(r.kind))
      first = { kind: r.kind, name: r.name }
  }
  return first
}

/**
 * Returns why a workload runs no pod, or undefined when it may run some: `replicas: 0` (a Deployment's
 * old ReplicaSets, a Deployment or StatefulSet scaled down), a Job that finished (condition Complete or
 * Failed, or a completionTime), a suspended Job or CronJob.
 */
export function idleReason(kind: WorkloadKind, value: JsonObject): string | undefined {
  switch (kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'StatefulSet':
      return at(value, 'spec', 'replicas') === 0 ? 'replicas: 0' : undefined
    case 'DaemonSet':
      return undefined
    case 'CronJob':
      return at(value, 'spec', 'suspend') === true ? 'suspended' : undefined
    case 'Job': {
      const conditions = at(value, 'status', 'conditions')
      if (Array.isArray(conditions)) {
        for (const c of conditions) {
          const o = asObject(c)
          if (o && (o.type === 'Complete' || o.type === 'Failed') && o.status === 'True')
            return `finished (${o.type})`
        }
      }
      if (typeof at(value, 'status', 'completionTime') === 'string') return 'finished (Complete)'
      const active = at(value, 'status', 'active')
      if (at(value, 'spec', 'suspend') === true && !(typeof active === 'number' && active > 0))
        return 'suspended'
      return undefined
    }
  }
}

/** A workload object of the input, as the owner resolution needs it. */
export interface WorkloadObject {
  readonly kind: WorkloadKind
  readonly namespace: string
  readonly name: string
  /** Its own controller (a ReplicaSet's Deployment, a Job's CronJob). */
  readonly owner?: PodOwner
  readonly idle?: string
}

/** Workload objects by `Kind/namespace/name`. */
export type WorkloadObjects = ReadonlyMap<string, WorkloadObject>

const keyOf = (kind: string, namespace: string, name: string): string => `${kind}/${namespace}/${name}`

/** Returns the workload object of that kind, namespace and name in the input. */
export function findWorkload(
  objects: WorkloadObjects,
  namespace: string,
  owner: PodOwner,
): WorkloadObject | undefined {
  return objects.get(keyOf(owner.kind, namespace, owner.name))
}

/**
 * Returns a pod's controllers, direct owner first, top-level workload last. An owner of the input is
 * followed to its own owner; a ReplicaSet that is not in the input but whose name is
 * `<name>-<pod-template-hash>` is a Deployment's (the Deployment controller names them so); a Job that is
 * not in the input but is named `<cronjob>-<digits>` after a CronJob of the input is that CronJob's.
 */
export function podControllers(
  objects: WorkloadObjects,
  namespace: string,
  direct: PodOwner | undefined,
  labels: Readonly<Record<string, string>>,
): PodOwner[] {
  const chain: PodOwner[] = []
  let ref = direct
  while (ref && chain.length < MAX_CHAIN) {
    chain.push(ref)
    const object = findWorkload(objects, namespace, ref)
    if (object) {
      ref = object.owner
      continue
    }
    ref = chain.length === 1 ? inferOwner(objects, namespace, ref, labels) : undefined
  }
  return chain
}

/** The owner of an owner that is absent from the input, from the names the controllers give. */
function inferOwner(
  objects: WorkloadObjects,
  namespace: string,
  ref: PodOwner,
  labels: Readonly<Record<string, string>>,
): PodOwner | undefined {
  if (ref.kind === 'ReplicaSet') {
    const hash = labels['pod-template-hash']
    if (hash && ref.name.length > hash.length + 1 && ref.name.endsWith(`-${hash}`))
      return { kind: 'Deployment', name: ref.name.slice(0, -hash.length - 1) }
    return undefined
  }
  if (ref.kind === 'Job') {
    const m = /^(.+)-\d+$/.exec(ref.name)
    if (m && objects.has(keyOf('CronJob', namespace, m[1] as string)))
      return { kind: 'CronJob', name: m[1] as string }
  }
  return undefined
}

/** Returns the key under which a workload is counted as having pods. */
export function workloadKey(namespace: string, owner: PodOwner): string {
  return keyOf(owner.kind, namespace, owner.name)
}

/** What becomes of a workload object: a representative pod, or none and why. */
export type WorkloadFate =
  | { readonly kind: 'representative'; readonly controllers: readonly PodOwner[] }
  | { readonly kind: 'has-pods'; readonly by: string }
  | { readonly kind: 'idle'; readonly reason: string }

/**
 * Decides, for a workload object, whether it needs a representative pod: not when it runs no pod
 * (idleReason), not when a live pod of the input names it among its controllers (`withPods`: workload key
 * -> the first such pod), not when another workload of the input that may run pods is its child (that
 * child stands for it). Otherwise yes, with its own chain of owners (itself first).
 */
export function workloadFate(
  objects: WorkloadObjects,
  object: WorkloadObject,
  withPods: ReadonlyMap<string, string>,
  activeChildren: ReadonlyMap<string, string>,
): WorkloadFate {
  if (object.idle) return { kind: 'idle', reason: object.idle }
  const key = keyOf(object.kind, object.namespace, object.name)
  const pod = withPods.get(key)
  if (pod) return { kind: 'has-pods', by: pod }
  const child = activeChildren.get(key)
  if (child) return { kind: 'has-pods', by: child }
  const self: PodOwner = { kind: object.kind, name: object.name }
  const above = object.owner ? podControllers(objects, object.namespace, object.owner, {}) : []
  return { kind: 'representative', controllers: [self, ...above] }
}

/** Maps each workload to the first active workload of the input it controls ('Kind ns/name'). */
export function activeChildren(objects: WorkloadObjects): Map<string, string> {
  const out = new Map<string, string>()
  for (const o of objects.values()) {
    if (o.idle || !o.owner) continue
    const key = keyOf(o.owner.kind, o.namespace, o.owner.name)
    if (!out.has(key)) out.set(key, `${o.kind} ${o.namespace}/${o.name}`)
  }
  return out
}
