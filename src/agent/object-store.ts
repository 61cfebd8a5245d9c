/**
 * The agent's cache of API objects (edge state, pure logic): informer handlers put objects here,
 * each object is validated once when it changes, and `snapshot()` normalises the valid ones into
 * the ClusterState the compiler reads. Objects that fail validation are reported once per version.
 * A NetworkPolicy that fails validation fails closed: its pods are isolated with no allow rule
 * (src/agent/fail-closed.ts, docs/semantics.md#agent-fail-closed). A ClusterNetworkPolicy that fails
 * keeps its last valid version; one never valid is enforced as a Deny of everything for its subject at its
 * tier and priority (src/agent/fail-closed-cnp.ts, docs/semantics.md#agent-cnp-fail-closed). A Pod or
 * Namespace that fails keeps its last valid version, or is skipped when it never had one. Nodes are kept
 * as their name, labels and addresses only (what `nodes` peers read; docs/semantics.md#agent-cnp-nodes).
 * Every other object is still enforced.
 */
import { createHash } from 'node:crypto'
import type {
  ClusterNetworkPolicy,
  ClusterState,
  Diagnostic,
  JsonObject,
  JsonValue,
  Namespace,
  NetworkPolicy,
  Node,
  Pod,
  RawObject,
  Result,
} from '../model/index.js'
import {
  CORE_WATCHED_KINDS,
  compareClusterPolicies,
  kindInfo,
  rawFromValue,
  WATCHED_KINDS,
  type WatchedKind,
} from '../model/index.js'
import { buildFailClosedPolicy, type FailClosedPolicy } from './fail-closed.js'
import { buildFailClosedClusterPolicy, type FailClosedClusterPolicy } from './fail-closed-cnp.js'
import { ModelInterner } from './interner.js'

const NAME_LABEL = 'kubernetes.io/metadata.name'

export { CORE_WATCHED_KINDS, WATCHED_KINDS, type WatchedKind }

/** apiVersion of each kind as we list it (list items carry no kind/apiVersion; we add them). */
export const KIND_API_VERSION: Readonly<Record<WatchedKind, string>> = Object.fromEntries(
  WATCHED_KINDS.map((kind) => [kind, kindInfo(kind).served]),
) as Record<WatchedKind, string>

/**
 * `api:<kind>/`, the start of the source file of an API object (`api:Pod/shop/db`): one string per kind,
 * so each object's source is this string and its key joined (no copy of either is made).
 */
const API_FILE: Readonly<Record<WatchedKind, string>> = Object.fromEntries(
  WATCHED_KINDS.map((kind) => [kind, `api:${kind}/`]),
) as Record<WatchedKind, string>

/** The load pipeline the store uses: src/validate and src/load (injected so tests can fake them). */
export interface Pipeline {
  readonly validate: (raw: RawObject) => readonly Diagnostic[]
  readonly normalize: (objects: readonly RawObject[]) => Result<ClusterState>
}

/** An object rejected by validation, with the diagnostics that say why and what the agent does instead. */
export interface InvalidObject {
  readonly kind: WatchedKind
  readonly value: JsonObject
  readonly diagnostics: readonly Diagnostic[]
  /**
   * skipped: never valid, left out; kept-last-valid: the previous valid version stays in force;
   * fail-closed: a NetworkPolicy enforced as `failClosed` says, or a ClusterNetworkPolicy as
   * `failClosedCluster` says.
   */
  readonly action: 'skipped' | 'kept-last-valid' | 'fail-closed'
  readonly failClosed?: FailClosedPolicy
  readonly failClosedCluster?: FailClosedClusterPolicy
}

/**
 * What an object contributes to the cluster (its normalisation on its own): the pods and policies (their
 * equal parts shared by the store's ModelInterner), the Namespaces it declares, the names of the
 * namespaces it lives in (implied while no Namespace declares them), and its ClusterNetworkPolicies and
 * Nodes. Empty parts are one shared empty array.
 */
interface Contribution {
  readonly pods: readonly Pod[]
  readonly policies: readonly NetworkPolicy[]
  readonly declared: readonly Namespace[]
  readonly livesIn: readonly string[]
  readonly clusterPolicies: readonly ClusterNetworkPolicy[]
  readonly nodes: readonly Node[]
}

/**
 * What the store keeps of an object: whether it passed validation, what it contributes, and a digest of
 * what the compiler can see of it. Nothing of the object itself is kept (its key is the map's key): it was
 * read once (validated, normalised, reported), and keeping it would hold every field of every pod of the
 * cluster for nothing (docs/dataplane.md#agent-memory).
 */
interface Entry {
  /** The object passed validation. */
  readonly valid: boolean
  /**
   * The object normalised on its own (computed once per change; merged by snapshot()): what it contributes
   * (partsOf), kept as the Pod or NetworkPolicy itself when that is all (as most objects are).
   */
  readonly normal?: Kept
  /** Set when an invalid NetworkPolicy or ClusterNetworkPolicy contributes its fail-closed stand-in. */
  readonly failClosed: boolean
  /** Digest of fingerprintObject(): a change elsewhere (status conditions) is not a change. */
  readonly fingerprint: string
}

/** A contribution as kept: a lone pod or policy (living in its own namespace) is kept as itself. */
type Kept = Contribution | Pod | NetworkPolicy

const NONE: readonly never[] = Object.freeze([])
const orNone = <T>(xs: readonly T[] | undefined): readonly T[] => (xs && xs.length > 0 ? xs : NONE)
const NOTHING: Contribution = {
  pods: NONE,
  policies: NONE,
  declared: NONE,
  livesIn: NONE,
  clusterPolicies: NONE,
  nodes: NONE,
}

/** Returns what a kept contribution stands for. */
function partsOf(kept: Kept): Contribution {
  if ('livesIn' in kept) return kept
  if ('ips' in kept) return { ...NOTHING, pods: [kept], livesIn: [kept.namespace] }
  return { ...NOTHING, policies: [kept], livesIn: [kept.namespace] }
}

/** Returns the contribution as kept: the lone pod or policy itself when it is all there is. */
function keep(c: Contribution): Kept {
  const lone = (x: { readonly namespace: string }, others: readonly unknown[]) =>
    others.length === 0 &&
    c.declared.length === 0 &&
    c.clusterPolicies.length === 0 &&
    c.nodes.length === 0 &&
    c.livesIn.length === 1 &&
    c.livesIn[0] === x.namespace
  if (c.pods.length === 1 && lone(c.pods[0] as Pod, c.policies)) return c.pods[0] as Pod
  if (c.policies.length === 1 && lone(c.policies[0] as NetworkPolicy, c.pods))
    return c.policies[0] as NetworkPolicy
  return c
}

/**
 * Returns the digest the store keeps of a fingerprint: the first 128 bits of its SHA-256 (equal digests
 * are equal fingerprints), as a 16-character string.
 */
function digest(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest().toString('latin1', 0, 16)
}

/** The diagnostic of an object the pipeline threw on (a bug there must not take the agent down). */
function unreadable(raw: RawObject, step: string, err: unknown): Diagnostic {
  return {
    code: 'agent.unreadable',
    severity: 'error',
    message: `could not ${step} this object: ${err instanceof Error ? err.message : String(err)}`,
    path: [],
    ...(raw.source ? { source: raw.source } : {}),
  }
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
  if (kind === 'ClusterNetworkPolicy') return JSON.stringify([value.apiVersion, value.spec ?? null])
  if (kind === 'Node') return JSON.stringify([meta.labels ?? null, asObject(value.status)?.addresses ?? null])
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

/**
 * Returns what the agent keeps of a Node (docs/semantics.md#agent-cnp-nodes): its name, labels and
 * status.addresses, what `nodes` peers read. The rest (images, conditions, capacity: kilobytes per Node)
 * is dropped, so 5,000 Nodes stay small. spec.podCIDRs is dropped too: the node's own pod ranges come
 * from its own watch (src/agent/node-ranges.ts), which keeps the last good ones.
 */
export function trimNode(value: JsonObject): JsonObject {
  const meta = asObject(value.metadata) ?? {}
  const status = asObject(value.status)
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: meta.name ?? null,
      ...(meta.labels !== undefined ? { labels: meta.labels } : {}),
      ...(typeof meta.resourceVersion === 'string' ? { resourceVersion: meta.resourceVersion } : {}),
    },
    ...(status?.addresses !== undefined ? { status: { addresses: status.addresses } } : {}),
  }
}

type Keyed = { readonly namespace: string; readonly name: string }

function compareKeys(a: Keyed, b: Keyed): number {
  return a.namespace < b.namespace
    ? -1
    : a.namespace > b.namespace
      ? 1
      : a.name < b.name
        ? -1
        : a.name > b.name
          ? 1
          : 0
}

/** First index of `xs` (sorted by namespace/name) whose key is not before `x`'s. */
function lowerBound(xs: readonly Keyed[], x: Keyed): number {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareKeys(xs[mid] as Keyed, x) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Inserts `x` into `xs` (sorted by namespace/name) after the items of equal key. */
function insertSorted<T extends Keyed>(xs: T[], x: T): void {
  let i = lowerBound(xs, x)
  while (i < xs.length && compareKeys(xs[i] as T, x) === 0) i++
  xs.splice(i, 0, x)
}

/** Removes the very object `x` from `xs` (sorted by namespace/name). */
function removeSorted<T extends Keyed>(xs: T[], x: T): void {
  for (let i = lowerBound(xs, x); i < xs.length && compareKeys(xs[i] as T, x) === 0; i++) {
    if (xs[i] === x) {
      xs.splice(i, 1)
      return
    }
  }
}

/** Up to this many pending changes are patched in by binary search; more are merged in one pass. */
const PATCH_LIMIT = 32

/**
 * Objects kept sorted by namespace/name (objects of equal key in insertion order), published as
 * immutable arrays: view() returns the same array until the content changes. Changes wait until the
 * next view(), so a burst (the initial list, a rescan) costs one sort of the new objects and one merge.
 */
class SortedList<T extends Keyed> {
  private items: T[] = []
  private published: readonly T[] = []
  private readonly adds = new Set<T>()
  private readonly removes = new Set<T>()

  /** Adds a new object (one never added before: a changed object is a new one). */
  add(x: T): void {
    this.adds.add(x)
  }

  remove(x: T): void {
    if (!this.adds.delete(x)) this.removes.add(x)
  }

  view(): readonly T[] {
    if (this.adds.size === 0 && this.removes.size === 0) return this.published
    if (this.adds.size + this.removes.size <= PATCH_LIMIT) {
      for (const x of this.removes) removeSorted(this.items, x)
      for (const x of this.adds) insertSorted(this.items, x)
    } else {
      const kept = this.removes.size === 0 ? this.items : this.items.filter((x) => !this.removes.has(x))
      const added = [...this.adds].sort(compareKeys)
      const merged: T[] = []
      let i = 0
      let j = 0
      while (i < kept.length && j < added.length) {
        merged.push(compareKeys(added[j] as T, kept[i] as T) < 0 ? (added[j++] as T) : (kept[i++] as T))
      }
      while (i < kept.length) merged.push(kept[i++] as T)
      while (j < added.length) merged.push(added[j++] as T)
      this.items = merged
    }
    this.adds.clear()
    this.removes.clear()
    this.published = this.items.slice()
    return this.published
  }
}

/**
 * Caches watched objects, validates each once per change, and builds ClusterState snapshots.
 *
 * Snapshots are incremental: the normalised pods and policies of the valid objects are kept sorted by
 * namespace/name, patched by binary search (a few changes) or merged (a burst) at the next snapshot,
 * which copies only the arrays that changed since the previous one. Unchanged objects keep their identity from snapshot to
 * snapshot, and an unchanged cache returns the very same ClusterState, which is what the incremental
 * compiler (src/compile/incremental.ts) reuses its work by.
 */
export class ObjectStore {
  private readonly maps: Record<WatchedKind, Map<string, Entry>> = {
    Pod: new Map(),
    Namespace: new Map(),
    NetworkPolicy: new Map(),
    ClusterNetworkPolicy: new Map(),
    Node: new Map(),
  }
  private version = 0
  private invalid = 0
  private failClosedCount = 0
  /** Normalised pods and policies of every valid object, sorted by namespace/name. */
  private readonly pods = new SortedList<Pod>()
  private readonly policies = new SortedList<NetworkPolicy>()
  /** Namespace name -> number of valid non-Namespace objects that live in it. */
  private readonly uses = new Map<string, number>()
  /** Implied namespaces by name, kept so an implied namespace keeps its identity. */
  private readonly implied = new Map<string, Namespace>()
  /** Shares the equal parts of the pods and policies kept. */
  private readonly interner = new ModelInterner()
  /** True when the namespace list may have changed since the last snapshot. */
  private namespacesDirty = false
  /** True when the ClusterNetworkPolicies (or the Nodes) may have changed since the last snapshot. */
  private clusterPoliciesDirty = false
  private nodesDirty = false
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
      kind === 'Node'
        ? trimNode(input)
        : input.kind === kind && typeof input.apiVersion === 'string'
          ? input
          : { ...input, kind, apiVersion: KIND_API_VERSION[kind] }
    const key = objectKey(value)
    const fingerprint = digest(fingerprintObject(kind, value))
    const map = this.maps[kind]
    const old = map.get(key)
    if (old && old.fingerprint === fingerprint) return false
    const raw =
      parsed && parsed.value === value
        ? parsed
        : rawFromValue(
            value,
            parsed?.source ?? { file: `${API_FILE[kind]}${key.startsWith('/') ? key.slice(1) : key}` },
          )
    let diagnostics = this.validate(raw)
    // Pods, policies and namespaces normalise independently of each other (only implied namespaces
    // need the whole set, and snapshot() adds those), so each object is normalised once, here.
    let normal: ClusterState | undefined
    if (!diagnostics.some((d) => d.severity === 'error')) {
      try {
        normal = this.pipeline.normalize([raw]).value
      } catch (err) {
        diagnostics = [...diagnostics, unreadable(raw, 'normalise', err)]
      }
    }
    const valid = normal !== undefined
    let failClosed: FailClosedPolicy | FailClosedClusterPolicy | undefined
    if (!valid && (kind === 'NetworkPolicy' || (kind === 'ClusterNetworkPolicy' && !old?.valid))) {
      // A policy we cannot read fails closed (skipping it, or keeping an older version that may allow
      // what the new one forbids, would lift isolation). A ClusterNetworkPolicy read before keeps its
      // last valid version instead (docs/semantics.md#agent-cnp-fail-closed).
      const fc =
        kind === 'NetworkPolicy'
          ? buildFailClosedPolicy(value, (r) => this.validate(r))
          : buildFailClosedClusterPolicy(value, (r) => this.validate(r))
      if (fc) {
        try {
          normal = this.pipeline.normalize([fc.raw]).value
          failClosed = fc
        } catch (err) {
          diagnostics = [...diagnostics, unreadable(fc.raw, 'normalise the fail-closed stand-in of', err)]
        }
      }
    }
    if (!valid) {
      this.onInvalid({
        kind,
        value,
        diagnostics,
        action: failClosed ? 'fail-closed' : old?.valid ? 'kept-last-valid' : 'skipped',
        ...(failClosed && 'podSelector' in failClosed ? { failClosed } : {}),
        ...(failClosed && 'subject' in failClosed ? { failClosedCluster: failClosed } : {}),
      })
    }
    if (!normal) {
      // Fail-static per object: an invalid update of a Pod or Namespace we enforced keeps its last
      // valid version (dropping it would take it out of peer sets); a never-valid object is skipped.
      if (old?.valid) return false
      const entry: Entry = { valid: false, failClosed: false, fingerprint }
      if (old) this.withdraw(kind, old)
      map.set(key, entry)
      this.contribute(kind, entry)
      if (!old?.normal) return false
      this.version++
      return true
    }
    const entry: Entry = {
      valid,
      fingerprint,
      normal: keep(this.contribution(kind, normal)),
      failClosed: failClosed !== undefined,
    }
    if (old) this.withdraw(kind, old)
    map.set(key, entry)
    this.contribute(kind, entry)
    this.version++
    return true
  }

  /** Runs the validator; a validator that throws rejects the object (errors are values here). */
  private validate(raw: RawObject): readonly Diagnostic[] {
    try {
      return this.pipeline.validate(raw)
    } catch (err) {
      return [unreadable(raw, 'validate', err)]
    }
  }

  /**
   * Returns what an object normalised on its own contributes, its pods and policies shared with equal
   * parts of the others (ModelInterner; withdraw() gives them back).
   */
  private contribution(kind: WatchedKind, normal: ClusterState): Contribution {
    const declared: Namespace[] = []
    const livesIn: string[] = []
    for (const ns of normal.namespaces) {
      if (ns.declared) declared.push(ns)
      else livesIn.push(ns.name)
    }
    return {
      pods: normal.pods.length > 0 ? normal.pods.map((p) => this.interner.pod(p)) : NONE,
      policies: normal.policies.length > 0 ? normal.policies.map((p) => this.interner.policy(p)) : NONE,
      declared: orNone(declared),
      livesIn: orNone(livesIn),
      // a pod's normalisation also tells of its node: the store's Nodes are those of Node objects
      clusterPolicies: kind === 'ClusterNetworkPolicy' ? orNone(normal.clusterPolicies) : NONE,
      nodes: kind === 'Node' ? orNone(normal.nodes) : NONE,
    }
  }

  /** Removes an object; returns true when the compiled rules may change. */
  remove(kind: WatchedKind, value: JsonObject): boolean {
    return this.removeKey(kind, objectKey(value))
  }

  private removeKey(kind: WatchedKind, key: string): boolean {
    const old = this.maps[kind].get(key)
    if (!old) return false
    this.maps[kind].delete(key)
    this.withdraw(kind, old)
    if (!old.normal) return false
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
    for (const key of [...this.maps[kind].keys()]) {
      if (!keep.has(key) && this.removeKey(kind, key)) changed = true
    }
    return changed
  }

  /**
   * Takes in a list of every object of a kind (an informer's list). A complete list also removes the
   * objects it does not show; a partial one (some items could not be decoded) removes nothing, since
   * a missing object may be one of those items. Returns true when the compiled rules may change.
   */
  relist(kind: WatchedKind, values: readonly JsonObject[], complete: boolean): boolean {
    const keep = new Set<string>()
    const changed = this.relistPage(kind, values, keep)
    return this.relistEnd(kind, keep, complete) || changed
  }

  /** Takes in one page of a paged list; adds the keys it shows to `keep`. Returns true on any change. */
  relistPage(kind: WatchedKind, values: readonly JsonObject[], keep: Set<string>): boolean {
    let changed = false
    for (const v of values) {
      keep.add(objectKey(v))
      if (this.upsert(kind, v)) changed = true
    }
    return changed
  }

  /**
   * Ends a list whose pages showed the keys `keep`: a complete list removes the objects it did not show;
   * a partial one (an item could not be read) removes nothing. Returns true on any change.
   */
  relistEnd(kind: WatchedKind, keep: ReadonlySet<string>, complete: boolean): boolean {
    if (!complete) return false
    let changed = false
    for (const key of [...this.maps[kind].keys()]) {
      if (!keep.has(key) && this.removeKey(kind, key)) changed = true
    }
    return changed
  }

  /** Number of cached objects per kind (valid and invalid). */
  counts(): Readonly<Record<WatchedKind, number>> {
    return {
      Pod: this.maps.Pod.size,
      Namespace: this.maps.Namespace.size,
      NetworkPolicy: this.maps.NetworkPolicy.size,
      ClusterNetworkPolicy: this.maps.ClusterNetworkPolicy.size,
      Node: this.maps.Node.size,
    }
  }

  /** Number of distinct values shared between the pods and policies kept (label maps, selectors...; for tests). */
  shared(): number {
    return this.interner.size
  }

  /** Number of cached objects whose current version failed validation (skipped, or enforced fail-closed). */
  invalidCount(): number {
    return this.invalid
  }

  /** Number of NetworkPolicies and ClusterNetworkPolicies enforced fail-closed because they could not be read. */
  failClosedPolicies(): number {
    return this.failClosedCount
  }

  /**
   * Returns the cluster as the compiler sees it: every valid object, normalised, merged. Namespaces
   * used but not (yet) seen are implied with only their name label, as src/load does; output is
   * sorted by namespace/name so equal caches give equal states. Unchanged objects (and arrays) are
   * the same objects as in the previous snapshot; with no change since, it is the same snapshot.
   */
  snapshot(): Result<ClusterState> {
    const last = this.cached?.result
    if (last && this.cached?.version === this.version) return last
    const pods = this.pods.view()
    const policies = this.policies.view()
    const namespaces = !last || this.namespacesDirty ? this.namespaceList() : last.value.namespaces
    this.namespacesDirty = false
    const clusterPolicies =
      !last || this.clusterPoliciesDirty ? this.clusterPolicyList() : last.value.clusterPolicies
    this.clusterPoliciesDirty = false
    const nodes = !last || this.nodesDirty ? this.nodeList() : last.value.nodes
    this.nodesDirty = false
    const result: Result<ClusterState> =
      last &&
      pods === last.value.pods &&
      policies === last.value.policies &&
      namespaces === last.value.namespaces &&
      clusterPolicies === last.value.clusterPolicies &&
      nodes === last.value.nodes
        ? last
        : {
            value: {
              namespaces,
              pods,
              policies,
              ...(clusterPolicies ? { clusterPolicies } : {}),
              ...(nodes ? { nodes } : {}),
            },
            diagnostics: [],
          }
    this.cached = { version: this.version, result }
    return result
  }

  /** Adds what an entry contributes to the sorted lists (and counts it when invalid). */
  private contribute(kind: WatchedKind, entry: Entry): void {
    if (!entry.valid) this.invalid++
    if (entry.failClosed) this.failClosedCount++
    if (!entry.normal) return
    const normal = partsOf(entry.normal)
    for (const p of normal.pods) this.pods.add(p)
    for (const p of normal.policies) this.policies.add(p)
    if (kind === 'ClusterNetworkPolicy') this.clusterPoliciesDirty = true
    if (kind === 'Node') this.nodesDirty = true
    this.useNamespaces(kind, normal, 1)
  }

  /** Takes what an entry contributes out of the sorted lists (and out of the counts). */
  private withdraw(kind: WatchedKind, entry: Entry): void {
    if (!entry.valid) this.invalid--
    if (entry.failClosed) this.failClosedCount--
    if (!entry.normal) return
    const normal = partsOf(entry.normal)
    for (const p of normal.pods) {
      this.pods.remove(p)
      this.interner.releasePod(p)
    }
    for (const p of normal.policies) {
      this.policies.remove(p)
      this.interner.releasePolicy(p)
    }
    if (kind === 'ClusterNetworkPolicy') this.clusterPoliciesDirty = true
    if (kind === 'Node') this.nodesDirty = true
    this.useNamespaces(kind, normal, -1)
  }

  /**
   * Counts the namespaces an entry declares or lives in. As in src/load, every pod or policy read
   * (a terminal pod too) implies its namespace, which is what its own normalisation implied.
   */
  private useNamespaces(kind: WatchedKind, normal: Contribution, delta: 1 | -1): void {
    if (kind === 'Namespace') {
      if (normal.declared.length > 0) this.namespacesDirty = true
    } else for (const name of normal.livesIn) this.use(name, delta)
  }

  /** Counts an object in (or out of) a namespace; the namespace list changes at 0. */
  private use(namespace: string, delta: 1 | -1): void {
    const n = (this.uses.get(namespace) ?? 0) + delta
    if (n <= 0) {
      this.uses.delete(namespace)
      this.implied.delete(namespace)
      this.namespacesDirty = true
    } else {
      if (n === 1 && delta === 1) this.namespacesDirty = true
      this.uses.set(namespace, n)
    }
  }

  /** The ClusterNetworkPolicies in force (valid ones and fail-closed stand-ins), in evaluation order; undefined when none. */
  private clusterPolicyList(): readonly ClusterNetworkPolicy[] | undefined {
    const out: ClusterNetworkPolicy[] = []
    for (const e of this.maps.ClusterNetworkPolicy.values())
      if (e.normal) out.push(...partsOf(e.normal).clusterPolicies)
    return out.length > 0 ? out.sort(compareClusterPolicies) : undefined
  }

  /** The Nodes (name, labels, addresses), sorted by name; undefined when none. */
  private nodeList(): readonly Node[] | undefined {
    const out: Node[] = []
    for (const e of this.maps.Node.values()) if (e.normal) out.push(...partsOf(e.normal).nodes)
    return out.length > 0 ? out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) : undefined
  }

  /** Declared namespaces of valid Namespace objects plus implied ones, sorted by name. */
  private namespaceList(): Namespace[] {
    const namespaces = new Map<string, Namespace>()
    for (const e of this.maps.Namespace.values()) {
      if (!e.valid || !e.normal) continue
      for (const ns of partsOf(e.normal).declared) namespaces.set(ns.name, ns)
    }
    for (const name of this.uses.keys()) {
      if (namespaces.has(name)) continue
      let ns = this.implied.get(name)
      if (!ns) {
        ns = { name, labels: { [NAME_LABEL]: name }, declared: false, defaultDenyIngress: false }
        this.implied.set(name, ns)
      }
      namespaces.set(name, ns)
    }
    return [...namespaces.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }
}
