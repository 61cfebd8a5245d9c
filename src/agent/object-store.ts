/**
 * The agent's cache of API objects (edge state, pure logic): informer handlers put objects here,
 * each object is validated once when it changes, and `snapshot()` normalises the valid ones into
 * the ClusterState the compiler reads. Objects that fail validation are reported once per version
 * and skipped (an object that was valid before keeps its last valid version); every other object is
 * still enforced.
 */
import type {
  ClusterState,
  Diagnostic,
  JsonObject,
  JsonValue,
  Namespace,
  NetworkPolicy,
  Pod,
  RawObject,
  Result,
} from '../model/index.js'
import { rawFromValue } from '../model/index.js'

const NAME_LABEL = 'kubernetes.io/metadata.name'

export type WatchedKind = 'Pod' | 'Namespace' | 'NetworkPolicy'
export const WATCHED_KINDS: readonly WatchedKind[] = ['Namespace', 'Pod', 'NetworkPolicy']

/** apiVersion of each kind as we list it (list items carry no kind/apiVersion; we add them). */
export const KIND_API_VERSION: Readonly<Record<WatchedKind, string>> = {
  Pod: 'v1',
  Namespace: 'v1',
  NetworkPolicy: 'networking.k8s.io/v1',
}

/** The load pipeline the store uses: src/validate and src/load (injected so tests can fake them). */
export interface Pipeline {
  readonly validate: (raw: RawObject) => readonly Diagnostic[]
  readonly normalize: (objects: readonly RawObject[]) => Result<ClusterState>
}

/** An object rejected by validation, with the diagnostics that say why. */
export interface InvalidObject {
  readonly kind: WatchedKind
  readonly value: JsonObject
  readonly diagnostics: readonly Diagnostic[]
}

interface Entry {
  readonly raw: RawObject
  readonly valid: boolean
  /** The object normalised on its own (computed once per change; merged by snapshot()). */
  readonly normal?: ClusterState
  /** What the compiler can see of the object: a change elsewhere (status conditions) is not a change. */
  readonly fingerprint: string
}

/** Returns metadata.namespace/name of an API object ('' parts when absent). */
export function objectKey(value: JsonObject): string {
  const meta = asObject(value.metadata)
  const ns = typeof meta?.namespace === 'string' ? meta.namespace : ''
  const name = typeof meta?.name === 'string' ? meta.name : ''
  return `${ns}/${name}`
}

function asObject(v: JsonValue | undefined): JsonObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined
}

/**
 * Returns the parts of an object that can change the compiled rules: pods that only change status
 * conditions (every few seconds in a real cluster) must not cause a sync.
 */
export function fingerprintObject(kind: WatchedKind, value: JsonObject): string {
  const meta = asObject(value.metadata) ?? {}
  if (kind === 'NetworkPolicy') return JSON.stringify([value.apiVersion, meta.namespace, value.spec ?? null])
  if (kind === 'Namespace') return JSON.stringify([meta.labels ?? null, meta.annotations ?? null])
  const spec = asObject(value.spec) ?? {}
  const status = asObject(value.status) ?? {}
  const containers = Array.isArray(spec.containers) ? spec.containers : []
  const ports = containers.map((c) => asObject(c)?.ports ?? null)
  return JSON.stringify([
    meta.labels ?? null,
    spec.nodeName ?? null,
    spec.hostNetwork ?? null,
    ports,
    status.phase ?? null,
    status.podIP ?? null,
    status.podIPs ?? null,
  ])
}

/** Caches watched objects, validates each once per change, and builds ClusterState snapshots. */
export class ObjectStore {
  private readonly maps: Record<WatchedKind, Map<string, Entry>> = {
    Pod: new Map(),
    Namespace: new Map(),
    NetworkPolicy: new Map(),
  }
  private version = 0
  private cached: { readonly version: number; readonly result: Result<ClusterState> } | undefined

  constructor(
    private readonly pipeline: Pipeline,
    private readonly onInvalid: (invalid: InvalidObject) => void = () => undefined,
  ) {}

  /** Monotonic counter bumped on every change that can alter the compiled rules. */
  get generation(): number {
    return this.version
  }

  /** Adds or replaces an object; returns true when the compiled rules may change. */
  upsert(kind: WatchedKind, input: JsonObject, parsed?: RawObject): boolean {
    // Lists omit kind/apiVersion on items; the validator needs them.
    const value: JsonObject =
      input.kind === kind && typeof input.apiVersion === 'string'
        ? input
        : { ...input, kind, apiVersion: KIND_API_VERSION[kind] }
    const key = objectKey(value)
    const fingerprint = fingerprintObject(kind, value)
    const map = this.maps[kind]
    const old = map.get(key)
    if (old && old.fingerprint === fingerprint) {
      map.set(key, { ...old, raw: parsed ?? rawFromValue(value, old.raw.source) })
      return false
    }
    const raw =
      parsed && parsed.value === value
        ? parsed
        : rawFromValue(
            value,
            parsed?.source ?? { file: `api:${kind}/${key.startsWith('/') ? key.slice(1) : key}` },
          )
    const diagnostics = this.pipeline.validate(raw)
    const valid = !diagnostics.some((d) => d.severity === 'error')
    if (!valid) {
      this.onInvalid({ kind, value, diagnostics })
      // Fail-static per object: an invalid update of an object we enforced keeps its last valid
      // version (dropping a policy would lift its isolation); a never-valid object is skipped.
      if (old?.valid) return false
      map.set(key, { raw, valid, fingerprint })
      return false
    }
    // Pods, policies and namespaces normalise independently of each other (only implied namespaces
    // need the whole set, and snapshot() adds those), so each object is normalised once, here.
    map.set(key, { raw, valid, fingerprint, normal: this.pipeline.normalize([raw]).value })
    this.version++
    return true
  }

  /** Removes an object; returns true when the compiled rules may change. */
  remove(kind: WatchedKind, value: JsonObject): boolean {
    const key = objectKey(value)
    const old = this.maps[kind].get(key)
    if (!old) return false
    this.maps[kind].delete(key)
    if (!old.valid) return false
    this.version++
    return true
  }

  /** Replaces every object of a kind (used by --from-dir rescans); returns true on any change. */
  replaceAll(kind: WatchedKind, raws: readonly RawObject[]): boolean {
    let changed = false
    const keep = new Set<string>()
    for (const r of raws) {
      keep.add(objectKey(r.value))
      if (this.upsert(kind, r.value, r)) changed = true
    }
    for (const [key, entry] of [...this.maps[kind]]) {
      if (!keep.has(key) && this.remove(kind, entry.raw.value)) changed = true
    }
    return changed
  }

  /** Number of cached objects per kind (valid and invalid). */
  counts(): Readonly<Record<WatchedKind, number>> {
    return {
      Pod: this.maps.Pod.size,
      Namespace: this.maps.Namespace.size,
      NetworkPolicy: this.maps.NetworkPolicy.size,
    }
  }

  /** Number of cached objects that failed validation and are skipped. */
  invalidCount(): number {
    let n = 0
    for (const kind of WATCHED_KINDS) for (const e of this.maps[kind].values()) if (!e.valid) n++
    return n
  }

  /**
   * Returns the cluster as the compiler sees it: every valid object, normalised, merged (cached per
   * generation). Namespaces used but not (yet) seen are implied with only their name label, as
   * src/load does; output is sorted so equal caches give equal states.
   */
  snapshot(): Result<ClusterState> {
    if (this.cached?.version === this.version) return this.cached.result
    const namespaces = new Map<string, Namespace>()
    const pods: Pod[] = []
    const policies: NetworkPolicy[] = []
    for (const kind of WATCHED_KINDS) {
      for (const e of this.maps[kind].values()) {
        if (!e.valid || !e.normal) continue
        if (kind === 'Namespace')
          for (const ns of e.normal.namespaces) if (ns.declared) namespaces.set(ns.name, ns)
        if (kind === 'Pod') pods.push(...e.normal.pods)
        policies.push(...e.normal.policies)
      }
    }
    for (const o of [...pods, ...policies]) {
      if (!namespaces.has(o.namespace)) {
        namespaces.set(o.namespace, {
          name: o.namespace,
          labels: { [NAME_LABEL]: o.namespace },
          declared: false,
          defaultDenyIngress: false,
        })
      }
    }
    const byKey = (a: { namespace: string; name: string }, b: { namespace: string; name: string }) =>
      a.namespace < b.namespace
        ? -1
        : a.namespace > b.namespace
          ? 1
          : a.name < b.name
            ? -1
            : a.name > b.name
              ? 1
              : 0
    const result: Result<ClusterState> = {
      value: {
        namespaces: [...namespaces.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        pods: pods.sort(byKey),
        policies: policies.sort(byKey),
      },
      diagnostics: [],
    }
    this.cached = { version: this.version, result }
    return result
  }
}
