/**
 * Validated RawObjects -> ClusterState: defaulting exactly as the API server does it
 * (pkg/apis/networking/v1/defaults.go), namespaces implied by their objects, one representative
 * pod per workload, and the legacy DefaultDeny annotation as a synthetic policy.
 */
import {
  type ClusterNetworkPolicy,
  type ClusterPolicyPeer,
  type ClusterPolicyPort,
  type ClusterPolicyRule,
  type ClusterPolicySubject,
  type ClusterState,
  type ContainerPort,
  canonicalCIDR,
  canonicalIP,
  compareClusterPolicies,
  type Diagnostic,
  type DiagnosticCode,
  defaultDenyAnnotationPolicy,
  describeObject,
  type FieldPath,
  type IPBlock,
  type JsonObject,
  type JsonValue,
  kindInfo,
  type LabelSelector,
  type LabelSelectorRequirement,
  type Labels,
  LEGACY_ISOLATION_ANNOTATION,
  type Namespace,
  type NetworkPolicy,
  type Node,
  type Pod,
  type PodOwner,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
  type PolicyType,
  PROTOCOLS,
  type Protocol,
  parseIP,
  type RawObject,
  type ReadKind,
  type Result,
  type SelectorOperator,
  type SourceRef,
  setOwn,
  WORKLOAD_KINDS,
  type WorkloadKind,
  type WorkloadObjectInfo,
} from '../model/index.js'
import { parseCIDRSloppy } from '../validate/cidr.js'
import { classifyKind, objectKeyParts } from './kinds.js'
import { otherPolicyEnforcer } from './other-policies.js'
import { readNodePodRanges } from './pod-ranges.js'
import {
  activeChildren,
  controllerRef,
  findWorkload,
  idleReason,
  podControllers,
  type WorkloadObject,
  type WorkloadObjects,
  workloadFate,
  workloadKey,
} from './workloads.js'

const NAME_LABEL = 'kubernetes.io/metadata.name'
const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist']
/** Namespaces every cluster has: using them without declaring them is not worth a warning. */
const BUILT_IN_NAMESPACES: ReadonlySet<string> = new Set([
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
])

/** Builds the cluster from validated objects; objects it cannot read are left out with a diagnostic. */
export function normalizeObjects(objects: readonly RawObject[]): Result<ClusterState> {
  const diagnostics: Diagnostic[] = []
  const read = selectObjects(objects, diagnostics)

  const namespaces = new Map<string, Namespace>()
  const policies: NetworkPolicy[] = []
  const clusterPolicies: ClusterNetworkPolicy[] = []
  const realPods = new Map<string, Pod>()
  const workloads: { readonly pod: Pod; readonly raw: RawObject; readonly kind: WorkloadKind }[] = []
  /** Namespace name -> first object that lives in it (input order). */
  const used = new Map<string, RawObject>()
  const owners = workloadObjects(read)
  /** Workload key -> the first live pod that names it among its controllers. */
  const withPods = new Map<string, string>()
  const nodes = new NodeAddresses()

  for (const { raw, readKind } of read) {
    const ctx = newContext(raw)
    if (!kindInfo(readKind).clusterScoped && !used.has(namespaceOf(raw.value)))
      used.set(namespaceOf(raw.value), raw)
    if (readKind === 'Namespace') {
      const ns = readNamespace(ctx)
      if (finish(ctx, diagnostics) && ns) {
        namespaces.set(ns.namespace.name, ns.namespace)
        if (ns.policy) policies.push(ns.policy)
      }
    } else if (readKind === 'Node') {
      nodes.addNode(raw)
      const pr = readNodePodRanges(raw.value)
      for (const problem of pr.problems)
        diagnostics.push({
          code: 'load.invalid-pod-cidrs',
          severity: 'warning',
          message: `${problem.message} (the API server would refuse this Node): its pod ranges are taken as unknown`,
          object: ctx.object,
          path: problem.path,
          source: raw.locate(problem.path),
        })
    } else if (readKind === 'Pod') {
      const pod = readPod(ctx, owners)
      if (!finish(ctx, diagnostics) || !pod) continue
      if (pod.phase === 'Succeeded' || pod.phase === 'Failed') {
        diagnostics.push(
          note(ctx, 'load.terminal-pod', `pod is ${pod.phase}: it has no network and is left out`),
        )
        continue
      }
      nodes.addPod(pod)
      for (const owner of pod.controllers ?? []) {
        const key = workloadKey(pod.namespace, owner)
        if (!withPods.has(key)) withPods.set(key, `Pod ${pod.namespace}/${pod.name}`)
      }
      realPods.set(`${pod.namespace}/${pod.name}`, pod)
    } else if (readKind === 'NetworkPolicy') {
      const policy = readPolicy(ctx)
      if (finish(ctx, diagnostics) && policy) policies.push(policy)
    } else if (readKind === 'ClusterNetworkPolicy') {
      const policy = readClusterPolicy(ctx)
      if (finish(ctx, diagnostics) && policy) clusterPolicies.push(policy)
    }
  }
  // Workloads after every pod: whether one needs a representative depends on the pods of the input.
  const children = activeChildren(owners)
  for (const { raw, readKind } of read) {
    if (!isWorkloadKind(readKind)) continue
    const ctx = newContext(raw)
    const pod = readWorkload(ctx, readKind)
    if (!finish(ctx, diagnostics) || !pod) continue
    const object = findWorkload(owners, pod.namespace, { kind: readKind, name: pod.name })
    if (!object) continue
    const fate = workloadFate(owners, object, withPods, children)
    if (fate.kind === 'idle') {
      diagnostics.push(note(ctx, 'load.workload-idle', `runs no pod (${fate.reason}): no representative pod`))
      continue
    }
    if (fate.kind === 'has-pods') {
      diagnostics.push(
        note(
          ctx,
          'load.workload-has-pods',
          `its pods are given by ${fate.by} in the input: no representative pod`,
        ),
      )
      continue
    }
    workloads.push({ pod: { ...pod, controllers: fate.controllers }, raw, kind: readKind })
  }

  // The real pods, then the workloads' representatives (the map is extended, not copied).
  const pods = realPods
  for (const { pod, raw } of workloads) {
    const key = `${pod.namespace}/${pod.name}`
    const existing = pods.get(key)
    if (!existing) {
      pods.set(key, pod)
      continue
    }
    const ctx = newContext(raw)
    if (!existing.workload) {
      diagnostics.push(
        note(
          ctx,
          'load.workload-pod-shadowed',
          `a real Pod ${key} exists: it is used instead of a representative pod`,
        ),
      )
    } else {
      diagnostics.push({
        ...note(
          ctx,
          'load.duplicate-pod',
          `its representative pod ${key} has the name of ${existing.workload.kind} ${key}'s: the first one is kept`,
        ),
        severity: 'warning',
      })
    }
  }

  for (const [name, firstUser] of used) {
    if (namespaces.has(name)) continue
    namespaces.set(name, { name, labels: { [NAME_LABEL]: name }, declared: false, defaultDenyIngress: false })
    diagnostics.push({
      code: 'load.implied-namespace',
      severity: BUILT_IN_NAMESPACES.has(name) ? 'info' : 'warning',
      message: `namespace "${name}" is not declared in the input (first used by ${describeObject(firstUser.value)}): assumed to exist with only the ${NAME_LABEL} label`,
      object: `Namespace ${name}`,
      path: [],
      source: firstUser.locate(['metadata', 'namespace']),
    })
  }

  const byKey = <T extends { readonly namespace: string; readonly name: string }>(a: T, b: T): number =>
    compare(a.namespace, b.namespace) || compare(a.name, b.name)
  const nodeList = nodes.list()
  const workloadList: WorkloadObjectInfo[] = [...owners.values()]
    .map((o) => ({
      namespace: o.namespace,
      kind: o.kind,
      name: o.name,
      ...(o.idle ? { idle: o.idle } : {}),
      ...(o.source ? { source: o.source } : {}),
    }))
    .sort((a, b) => byKey(a, b) || compare(a.kind, b.kind))
  return {
    value: {
      namespaces: [...namespaces.values()].sort((a, b) => compare(a.name, b.name)),
      pods: [...pods.values()].sort(byKey),
      policies: policies.sort(byKey),
      ...(clusterPolicies.length > 0
        ? { clusterPolicies: clusterPolicies.sort(compareClusterPolicies) }
        : {}),
      ...(nodeList.length > 0 ? { nodes: nodeList } : {}),
      ...(workloadList.length > 0 ? { workloads: workloadList } : {}),
    },
    diagnostics,
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

// ---------------------------------------------------------------------------------------------
// Selection: kinds and duplicates

interface ReadObject {
  readonly raw: RawObject
  readonly readKind: ReadKind
}

/** Keeps the objects we read, the later of two definitions of one object winning (kubectl apply updates). */
function selectObjects(objects: readonly RawObject[], diagnostics: Diagnostic[]): ReadObject[] {
  // Kind, then namespace, then name -> the place of the winning definition in `kept` (nested maps of the
  // strings the objects hold: no key string is built per object). A later definition clears the earlier
  // one's place and takes a new place at the end, as deleting and re-adding a key of one Map would.
  const byKey = new Map<string, Map<string, Map<string, number>>>()
  const kept: (ReadObject | undefined)[] = []
  for (const raw of objects) {
    const enforcer = otherPolicyEnforcer(raw.value)
    if (enforcer) {
      diagnostics.push({
        code: 'load.unanalysed-policy',
        severity: 'warning',
        message: `${String(raw.value.apiVersion)} ${String(raw.value.kind)} (enforced by ${enforcer}) not analysed: verdicts ignore it`,
        object: describeObject(raw.value),
        path: [],
        source: raw.source,
      })
      continue
    }
    const cls = classifyKind(raw.value)
    if (cls.kind === 'other') {
      diagnostics.push({
        code: 'load.skipped-kind',
        severity: 'info',
        message: `${String(raw.value.apiVersion)} ${String(raw.value.kind)} does not take part in network policy: skipped`,
        object: describeObject(raw.value),
        path: [],
        source: raw.source,
      })
      continue
    }
    if (cls.kind === 'no-match') {
      diagnostics.push({
        code: 'load.unknown-kind',
        severity: 'error',
        message: cls.message,
        object: describeObject(raw.value),
        path: ['kind'],
        source: raw.locate(['kind']),
      })
      continue
    }
    const { namespace, name } = objectKeyParts(cls.readKind, raw.value)
    let byNamespace = byKey.get(cls.readKind)
    if (!byNamespace) {
      byNamespace = new Map()
      byKey.set(cls.readKind, byNamespace)
    }
    let byName = byNamespace.get(namespace)
    if (!byName) {
      byName = new Map()
      byNamespace.set(namespace, byName)
    }
    const place = byName.get(name)
    const earlier = place === undefined ? undefined : kept[place]
    if (place !== undefined && earlier) {
      const at = earlier.raw.source
      diagnostics.push({
        code: 'load.duplicate-object',
        severity: 'warning',
        message: `defined again (first at ${at.file}${at.line ? `:${at.line}` : ''}): the later definition is used, as kubectl apply would update the object`,
        object: describeObject(raw.value),
        path: [],
        source: raw.source,
      })
      kept[place] = undefined // input order follows the winning definition
    }
    byName.set(name, kept.length)
    kept.push({ raw, readKind: cls.readKind })
  }
  return kept.filter((o): o is ReadObject => o !== undefined)
}

/** Indexes the workload objects of the input with their own controller and whether they run no pod. */
function workloadObjects(read: readonly ReadObject[]): Map<string, WorkloadObject & { source?: SourceRef }> {
  const out = new Map<string, WorkloadObject & { source?: SourceRef }>()
  for (const { raw, readKind } of read) {
    if (!isWorkloadKind(readKind)) continue
    const name = asObject(raw.value.metadata)?.name
    if (typeof name !== 'string') continue
    const namespace = namespaceOf(raw.value)
    const owner = controllerRef(raw.value)
    const idle = idleReason(readKind, raw.value)
    out.set(workloadKey(namespace, { kind: readKind, name }), {
      kind: readKind,
      namespace,
      name,
      ...(owner ? { owner } : {}),
      ...(idle ? { idle } : {}),
      source: raw.source,
    })
  }
  return out
}

const WORKLOAD_KIND_SET: ReadonlySet<string> = new Set(WORKLOAD_KINDS)

function isWorkloadKind(kind: ReadKind): kind is WorkloadKind {
  return WORKLOAD_KIND_SET.has(kind)
}

/**
 * The addresses that are a node's: a Node object's InternalIP and ExternalIP addresses, the hostIPs of
 * the pods scheduled on it, the addresses of its hostNetwork pods (docs/semantics.md#node-addresses).
 */
class NodeAddresses {
  private readonly byName = new Map<
    string,
    {
      addresses: Set<string>
      declared: boolean
      labels?: Labels
      source?: SourceRef
      podCIDRs?: readonly string[]
    }
  >()

  private entry(name: string) {
    let e = this.byName.get(name)
    if (!e) {
      e = { addresses: new Set(), declared: false }
      this.byName.set(name, e)
    }
    return e
  }

  private add(name: string, ip: string): void {
    const parsed = parseIP(ip)
    if (parsed) this.entry(name).addresses.add(canonicalIP(parsed))
  }

  addNode(raw: RawObject): void {
    const name = asObject(raw.value.metadata)?.name
    if (typeof name !== 'string' || name === '') return
    const e = this.entry(name)
    e.declared = true
    e.source = raw.source
    const ranges = readNodePodRanges(raw.value).ranges
    if (ranges.length > 0) e.podCIDRs = ranges.map((r) => r.cidr)
    const labels = asObject(asObject(raw.value.metadata)?.labels)
    if (labels) {
      const own: Record<string, string> = {}
      for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') setOwn(own, k, v)
      e.labels = own
    }
    const addresses = asObject(raw.value.status)?.addresses
    if (!Array.isArray(addresses)) return
    for (const item of addresses) {
      const a = asObject(item)
      if (!a || typeof a.address !== 'string') continue
      if (a.type === 'InternalIP' || a.type === 'ExternalIP') this.add(name, a.address)
    }
  }

  addPod(pod: Pod): void {
    if (!pod.nodeName) return
    for (const ip of pod.hostIPs ?? []) this.add(pod.nodeName, ip)
    if (pod.hostNetwork) for (const ip of pod.ips) this.add(pod.nodeName, ip)
  }

  list(): Node[] {
    return [...this.byName.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([name, e]) => ({
        name,
        addresses: [...e.addresses].sort(compare),
        declared: e.declared,
        ...(e.labels ? { labels: e.labels } : {}),
        ...(e.source ? { source: e.source } : {}),
        ...(e.podCIDRs ? { podCIDRs: e.podCIDRs } : {}),
      }))
  }
}

// ---------------------------------------------------------------------------------------------
// Reading fields

interface Context {
  readonly raw: RawObject
  readonly object: string
  readonly errors: Diagnostic[]
  readonly notes: Diagnostic[]
}

/** A context; the object's name (for diagnostics only) is worked out on first use. */
function newContext(raw: RawObject): Context {
  let object: string | undefined
  return {
    raw,
    get object() {
      object ??= describeObject(raw.value)
      return object
    },
    errors: [],
    notes: [],
  }
}

/** Moves the context's diagnostics out; returns false (object left out) when it had errors. */
function finish(ctx: Context, out: Diagnostic[]): boolean {
  if (ctx.notes.length > 0) out.push(...ctx.notes)
  if (ctx.errors.length === 0) return true
  out.push(...ctx.errors)
  out.push({
    code: 'load.rejected',
    severity: 'error',
    message: `${ctx.object} was left out: the API server would reject it`,
    object: ctx.object,
    path: [],
    source: ctx.raw.source,
  })
  return false
}

function note(ctx: Context, code: DiagnosticCode, message: string, path: FieldPath = []): Diagnostic {
  return { code, severity: 'info', message, object: ctx.object, path, source: ctx.raw.locate(path) }
}

function fail(ctx: Context, path: FieldPath, message: string): void {
  ctx.errors.push({
    code: 'load.invalid-field',
    severity: 'error',
    message,
    object: ctx.object,
    path,
    source: ctx.raw.locate(path),
  })
}

function asObject(v: JsonValue | undefined): JsonObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined
}

function typeName(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

/** Reads a field by path; undefined for absent or null (Go decodes both to the zero value). */
function get(root: JsonObject, path: FieldPath): JsonValue | undefined {
  let v: JsonValue | undefined = root
  for (const seg of path) {
    if (v === null || v === undefined) return undefined
    if (typeof seg === 'number') v = Array.isArray(v) ? v[seg] : undefined
    else {
      const o = asObject(v)
      v = o && Object.hasOwn(o, seg) ? o[seg] : undefined
    }
  }
  return v === null ? undefined : v
}

/** Reads an object field; a wrong type is an error (the API server cannot decode it). */
function getObject(ctx: Context, path: FieldPath): JsonObject | undefined {
  const v = get(ctx.raw.value, path)
  if (v === undefined) return undefined
  const o = asObject(v)
  if (!o) fail(ctx, path, `expected an object, got ${typeName(v)}`)
  return o
}

function getArray(ctx: Context, path: FieldPath): readonly JsonValue[] {
  const v = get(ctx.raw.value, path)
  if (v === undefined) return []
  if (!Array.isArray(v)) {
    fail(ctx, path, `expected an array, got ${typeName(v)}`)
    return []
  }
  return v
}

function getString(ctx: Context, path: FieldPath): string | undefined {
  const v = get(ctx.raw.value, path)
  if (v === undefined) return undefined
  if (typeof v !== 'string') {
    fail(ctx, path, `expected a string, got ${typeName(v)}`)
    return undefined
  }
  return v
}

function getBoolean(ctx: Context, path: FieldPath): boolean {
  const v = get(ctx.raw.value, path)
  if (v === undefined) return false
  if (typeof v !== 'boolean') {
    fail(ctx, path, `expected a boolean, got ${typeName(v)}`)
    return false
  }
  return v
}

function getStringMap(ctx: Context, path: FieldPath): Labels {
  const o = getObject(ctx, path)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(o ?? {})) {
    if (typeof v === 'string') setOwn(out, k, v)
    else fail(ctx, [...path, k], `expected a string, got ${typeName(v)}`)
  }
  return out
}

function namespaceOf(value: JsonObject): string {
  const ns = asObject(value.metadata)?.namespace
  return typeof ns === 'string' && ns !== '' ? ns : 'default'
}

function nameOf(ctx: Context): string {
  return getString(ctx, ['metadata', 'name']) ?? ''
}

// ---------------------------------------------------------------------------------------------
// Namespaces

interface ReadNamespace {
  readonly namespace: Namespace
  readonly policy?: NetworkPolicy
}

function readNamespace(ctx: Context): ReadNamespace | undefined {
  const name = nameOf(ctx)
  // The API server always sets kubernetes.io/metadata.name to the name, over any value given.
  const labels = { ...getStringMap(ctx, ['metadata', 'labels']), [NAME_LABEL]: name }
  const annotationPath = ['metadata', 'annotations', LEGACY_ISOLATION_ANNOTATION]
  const annotation = get(ctx.raw.value, annotationPath)
  let defaultDenyIngress = false
  if (annotation !== undefined) defaultDenyIngress = readIsolation(ctx, annotation, annotationPath)
  const namespace: Namespace = { name, labels, declared: true, defaultDenyIngress, source: ctx.raw.source }
  if (!defaultDenyIngress) return { namespace }
  const policy = defaultDenyAnnotationPolicy(name, ctx.raw.locate(annotationPath))
  return { namespace, policy }
}

/**
 * Reads the pre-v1 isolation annotation ({"ingress":{"isolation":"DefaultDeny"}}); anything else
 * isolates nothing. Text that is not such JSON is ignored with a warning (docs/semantics.md#legacy-default-deny).
 */
function readIsolation(ctx: Context, annotation: JsonValue, path: FieldPath): boolean {
  const warn = (message: string): false => {
    ctx.notes.push({ ...note(ctx, 'load.invalid-isolation-annotation', message, path), severity: 'warning' })
    return false
  }
  if (typeof annotation !== 'string')
    return warn(`${LEGACY_ISOLATION_ANNOTATION} must be a JSON string: ignored`)
  let parsed: unknown
  try {
    parsed = JSON.parse(annotation)
  } catch (err) {
    return warn(
      `${LEGACY_ISOLATION_ANNOTATION} is not valid JSON (${err instanceof Error ? err.message : String(err)}): ignored`,
    )
  }
  const ingress = asObject(asObject(parsed as JsonValue)?.ingress)
  const isolation = ingress?.isolation
  if (isolation === 'DefaultDeny') return true
  if (isolation === undefined || isolation === null || isolation === '') return false
  return warn(
    `${LEGACY_ISOLATION_ANNOTATION}: isolation ${JSON.stringify(isolation)} is not "DefaultDeny": ignored`,
  )
}

// ---------------------------------------------------------------------------------------------
// Pods and workloads

function readPod(ctx: Context, objects: WorkloadObjects): Pod | undefined {
  const spec = readPodSpec(ctx, ['spec'])
  // A status that is not an object cannot be decoded: the pod is refused, never kept without an address.
  getObject(ctx, ['status'])
  const phase = getString(ctx, ['status', 'phase'])
  const ips: string[] = []
  const podIPs = getArray(ctx, ['status', 'podIPs'])
  podIPs.forEach((_, i) => {
    getObject(ctx, ['status', 'podIPs', i])
    const ip = getString(ctx, ['status', 'podIPs', i, 'ip'])
    if (ip) ips.push(ip)
  })
  if (ips.length === 0) {
    const ip = getString(ctx, ['status', 'podIP'])
    if (ip) ips.push(ip)
  }
  const hostIPs: string[] = []
  const hostList = get(ctx.raw.value, ['status', 'hostIPs'])
  if (Array.isArray(hostList)) {
    for (const item of hostList) {
      const ip = asObject(item)?.ip
      if (typeof ip === 'string' && ip !== '') hostIPs.push(ip)
    }
  }
  const hostIP = get(ctx.raw.value, ['status', 'hostIP'])
  if (hostIPs.length === 0 && typeof hostIP === 'string' && hostIP !== '') hostIPs.push(hostIP)
  const namespace = namespaceOf(ctx.raw.value)
  const labels = getStringMap(ctx, ['metadata', 'labels'])
  const controllers = podControllers(objects, namespace, controllerRef(ctx.raw.value), labels)
  return {
    namespace,
    name: nameOf(ctx),
    labels,
    ips,
    ...spec,
    ...(phase ? { phase } : {}),
    ...(controllers.length > 0 ? { controllers } : {}),
    ...(hostIPs.length > 0 ? { hostIPs } : {}),
    source: ctx.raw.source,
  }
}

/** Makes the one pod that stands for every replica of a workload, from its pod template. */
function readWorkload(ctx: Context, kind: WorkloadKind): Pod | undefined {
  const template: FieldPath =
    kind === 'CronJob' ? ['spec', 'jobTemplate', 'spec', 'template'] : ['spec', 'template']
  const name = nameOf(ctx)
  const workload: PodOwner = { kind, name }
  return {
    namespace: namespaceOf(ctx.raw.value),
    name,
    labels: getStringMap(ctx, [...template, 'metadata', 'labels']),
    ips: [],
    ...readPodSpec(ctx, [...template, 'spec']),
    workload,
    source: ctx.raw.source,
  }
}

function readPodSpec(ctx: Context, spec: FieldPath): Pick<Pod, 'ports' | 'hostNetwork' | 'nodeName'> {
  const ports: ContainerPort[] = []
  getArray(ctx, [...spec, 'containers']).forEach((_, i) => {
    ports.push(...readContainerPorts(ctx, [...spec, 'containers', i]))
  })
  // Sidecars (init containers with restartPolicy Always) run beside the app and serve traffic.
  getArray(ctx, [...spec, 'initContainers']).forEach((_, i) => {
    if (get(ctx.raw.value, [...spec, 'initContainers', i, 'restartPolicy']) === 'Always') {
      ports.push(...readContainerPorts(ctx, [...spec, 'initContainers', i]))
    }
  })
  const nodeName = getString(ctx, [...spec, 'nodeName'])
  return { ports, hostNetwork: getBoolean(ctx, [...spec, 'hostNetwork']), ...(nodeName ? { nodeName } : {}) }
}

function readContainerPorts(ctx: Context, container: FieldPath): ContainerPort[] {
  const out: ContainerPort[] = []
  const ports = getArray(ctx, [...container, 'ports'])
  // Fields are read straight from each item (as get() would); paths are built only for a diagnostic.
  for (let j = 0; j < ports.length; j++) {
    const item = asObject(ports[j])
    const port = field(item, 'containerPort')
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      fail(
        ctx,
        [...container, 'ports', j, 'containerPort'],
        `Invalid value: ${JSON.stringify(port ?? null)}: must be between 1 and 65535, inclusive`,
      )
      continue
    }
    const rawProtocol = field(item, 'protocol')
    const protocol =
      rawProtocol === 'TCP' || rawProtocol === 'UDP' || rawProtocol === 'SCTP'
        ? rawProtocol
        : readProtocol(ctx, [...container, 'ports', j, 'protocol'])
    const rawName = field(item, 'name')
    const name = typeof rawName === 'string' ? rawName : getString(ctx, [...container, 'ports', j, 'name'])
    out.push({ containerPort: port, protocol, ...(name ? { name } : {}) })
  }
  return out
}

/** A field of an object as get() reads it: undefined when the object is absent or the value null. */
function field(o: JsonObject | undefined, key: string): JsonValue | undefined {
  const v = o && Object.hasOwn(o, key) ? o[key] : undefined
  return v === null ? undefined : v
}

/** Reads a protocol; absent defaults to TCP, as the API server's defaulting does. */
function readProtocol(ctx: Context, path: FieldPath): Protocol {
  const v = get(ctx.raw.value, path)
  if (v === undefined) return 'TCP'
  if (typeof v === 'string' && (PROTOCOLS as readonly string[]).includes(v)) return v as Protocol
  fail(ctx, path, `Unsupported value: ${JSON.stringify(v)}: supported values: "SCTP", "TCP", "UDP"`)
  return 'TCP'
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicies

function readPolicy(ctx: Context): NetworkPolicy | undefined {
  const apiVersion =
    ctx.raw.value.apiVersion === 'extensions/v1beta1' ? 'extensions/v1beta1' : 'networking.k8s.io/v1'
  const ingress = readRules(ctx, 'ingress', 'from')
  const egress = readRules(ctx, 'egress', 'to')
  return {
    namespace: namespaceOf(ctx.raw.value),
    name: nameOf(ctx),
    origin: { kind: 'NetworkPolicy', apiVersion },
    podSelector: readSelector(ctx, ['spec', 'podSelector']) ?? { matchLabels: {}, matchExpressions: [] },
    policyTypes: readPolicyTypes(ctx, getArray(ctx, ['spec', 'egress']).length),
    ingress,
    egress,
    source: ctx.raw.source,
  }
}

/** policyTypes as given; when absent or empty: Ingress, plus Egress when spec.egress has a rule (defaults.go). */
function readPolicyTypes(ctx: Context, egressRules: number): readonly PolicyType[] {
  const given = getArray(ctx, ['spec', 'policyTypes'])
  if (given.length === 0) return egressRules > 0 ? ['Ingress', 'Egress'] : ['Ingress']
  const out: PolicyType[] = []
  given.forEach((t, i) => {
    if (t === 'Ingress' || t === 'Egress') out.push(t)
    else
      fail(
        ctx,
        ['spec', 'policyTypes', i],
        `Unsupported value: ${JSON.stringify(t)}: supported values: "Egress", "Ingress"`,
      )
  })
  return out
}

function readRules(ctx: Context, direction: 'ingress' | 'egress', peersField: 'from' | 'to'): PolicyRule[] {
  return getArray(ctx, ['spec', direction]).map((_, i) => {
    const path: FieldPath = ['spec', direction, i]
    getObject(ctx, path)
    const peers = getArray(ctx, [...path, peersField]).map((_, j) => readPeer(ctx, [...path, peersField, j]))
    const ports = getArray(ctx, [...path, 'ports']).map((_, j) => readPolicyPort(ctx, [...path, 'ports', j]))
    // An absent or empty from/to (ports) means every peer (port): both are left undefined.
    return {
      ...(peers.length > 0 ? { peers } : {}),
      ...(ports.length > 0 ? { ports } : {}),
      source: ctx.raw.locate(path),
    }
  })
}

function readPeer(ctx: Context, path: FieldPath): PolicyPeer {
  getObject(ctx, path)
  const podSelector = readSelector(ctx, [...path, 'podSelector'])
  const namespaceSelector = readSelector(ctx, [...path, 'namespaceSelector'])
  const ipBlock = readIPBlock(ctx, [...path, 'ipBlock'])
  return {
    ...(podSelector ? { podSelector } : {}),
    ...(namespaceSelector ? { namespaceSelector } : {}),
    ...(ipBlock ? { ipBlock } : {}),
  }
}

/**
 * Returns the network a CIDR denotes in canonical form (10.0.0.1/8 -> 10.0.0.0/8, 010.0.0.0/8 -> 10.0.0.0/8):
 * the API server accepts these sloppy forms (docs/semantics.md#ipblock-cidr-forms), the engine and compilers read canonical ones.
 */
function canonicalBlockCIDR(text: string): string {
  const parsed = parseCIDRSloppy(text)
  return parsed ? canonicalCIDR(parsed) : text
}

function readIPBlock(ctx: Context, path: FieldPath): IPBlock | undefined {
  if (!getObject(ctx, path)) return undefined
  const except: string[] = []
  getArray(ctx, [...path, 'except']).forEach((_, i) => {
    const e = getString(ctx, [...path, 'except', i])
    if (e !== undefined) except.push(canonicalBlockCIDR(e))
  })
  return { cidr: canonicalBlockCIDR(getString(ctx, [...path, 'cidr']) ?? ''), except }
}

/** Reads a metav1.LabelSelector; undefined when absent (null counts as absent, as in Go). */
function readSelector(ctx: Context, path: FieldPath): LabelSelector | undefined {
  if (!getObject(ctx, path)) return undefined
  const matchExpressions: LabelSelectorRequirement[] = []
  getArray(ctx, [...path, 'matchExpressions']).forEach((_, i) => {
    const p = [...path, 'matchExpressions', i]
    const operator = getString(ctx, [...p, 'operator'])
    if (!operator || !(OPERATORS as readonly string[]).includes(operator)) {
      fail(
        ctx,
        [...p, 'operator'],
        `Invalid value: ${JSON.stringify(operator ?? '')}: not a valid selector operator`,
      )
      return
    }
    const values: string[] = []
    getArray(ctx, [...p, 'values']).forEach((_, j) => {
      const v = getString(ctx, [...p, 'values', j])
      if (v !== undefined) values.push(v)
    })
    matchExpressions.push({
      key: getString(ctx, [...p, 'key']) ?? '',
      operator: operator as SelectorOperator,
      values,
    })
  })
  return { matchLabels: getStringMap(ctx, [...path, 'matchLabels']), matchExpressions }
}

/** Reads a NetworkPolicyPort: protocol defaults to TCP; port (number or name) and endPort kept as given. */
function readPolicyPort(ctx: Context, path: FieldPath): PolicyPort {
  getObject(ctx, path)
  const protocol = readProtocol(ctx, [...path, 'protocol'])
  const port = get(ctx.raw.value, [...path, 'port'])
  const endPort = get(ctx.raw.value, [...path, 'endPort'])
  if (port !== undefined && typeof port !== 'number' && typeof port !== 'string') {
    fail(ctx, [...path, 'port'], `expected an integer or a string, got ${typeName(port)}`)
  }
  if (endPort !== undefined && typeof endPort !== 'number') {
    fail(ctx, [...path, 'endPort'], `expected an integer, got ${typeName(endPort)}`)
  }
  return {
    protocol,
    ...(typeof port === 'number' || typeof port === 'string' ? { port } : {}),
    ...(typeof endPort === 'number' ? { endPort } : {}),
  }
}

// ---------------------------------------------------------------------------------------------
// ClusterNetworkPolicies (validated by src/validate/cluster-network-policy.ts)

const NO_SELECTOR: LabelSelector = { matchLabels: {}, matchExpressions: [] }
/** The peer fields we read; any other makes the peer fail closed (docs/semantics.md#cnp-fail-closed). */
const CNP_PEER_FIELDS: ReadonlySet<string> = new Set([
  'namespaces',
  'pods',
  'networks',
  'nodes',
  'domainNames',
])

function readClusterPolicy(ctx: Context): ClusterNetworkPolicy | undefined {
  const apiVersion =
    ctx.raw.value.apiVersion === 'policy.networking.k8s.io/v1alpha2'
      ? 'policy.networking.k8s.io/v1alpha2'
      : 'policy.networking.k8s.io/v1beta1'
  const tier = getString(ctx, ['spec', 'tier']) === 'Baseline' ? 'Baseline' : 'Admin'
  const priority = get(ctx.raw.value, ['spec', 'priority'])
  const subjectPath: FieldPath = ['spec', 'subject']
  const pods = getObject(ctx, [...subjectPath, 'pods'])
  const subject: ClusterPolicySubject = pods
    ? {
        kind: 'pods',
        namespaceSelector: readSelector(ctx, [...subjectPath, 'pods', 'namespaceSelector']) ?? NO_SELECTOR,
        podSelector: readSelector(ctx, [...subjectPath, 'pods', 'podSelector']) ?? NO_SELECTOR,
      }
    : {
        kind: 'namespaces',
        namespaceSelector: readSelector(ctx, [...subjectPath, 'namespaces']) ?? NO_SELECTOR,
      }
  return {
    name: nameOf(ctx),
    apiVersion,
    tier,
    priority: typeof priority === 'number' ? priority : 0,
    subject,
    ingress: readClusterRules(ctx, 'ingress', 'from'),
    egress: readClusterRules(ctx, 'egress', 'to'),
    source: ctx.raw.source,
  }
}

function readClusterRules(
  ctx: Context,
  direction: 'ingress' | 'egress',
  peersField: 'from' | 'to',
): ClusterPolicyRule[] {
  return getArray(ctx, ['spec', direction]).map((_, i) => {
    const path: FieldPath = ['spec', direction, i]
    const action = getString(ctx, [...path, 'action'])
    const name = getString(ctx, [...path, 'name'])
    const peers = getArray(ctx, [...path, peersField]).map((_, j) =>
      readClusterPeer(ctx, [...path, peersField, j]),
    )
    const protocols = getArray(ctx, [...path, 'protocols'])
    const ports = protocols.flatMap((_, j) => readClusterPort(ctx, [...path, 'protocols', j]))
    return {
      ...(name ? { name } : {}),
      action: action === 'Deny' || action === 'Pass' ? action : 'Accept',
      peers,
      ...(protocols.length > 0 ? { ports } : {}),
      source: ctx.raw.locate(path),
    }
  })
}

function readClusterPeer(ctx: Context, path: FieldPath): ClusterPolicyPeer {
  const o = getObject(ctx, path) ?? {}
  if (field(o, 'namespaces') !== undefined)
    return {
      kind: 'namespaces',
      namespaceSelector: readSelector(ctx, [...path, 'namespaces']) ?? NO_SELECTOR,
    }
  if (field(o, 'pods') !== undefined)
    return {
      kind: 'pods',
      namespaceSelector: readSelector(ctx, [...path, 'pods', 'namespaceSelector']) ?? NO_SELECTOR,
      podSelector: readSelector(ctx, [...path, 'pods', 'podSelector']) ?? NO_SELECTOR,
    }
  if (field(o, 'nodes') !== undefined)
    return { kind: 'nodes', nodeSelector: readSelector(ctx, [...path, 'nodes']) ?? NO_SELECTOR }
  if (field(o, 'networks') !== undefined) {
    const networks: string[] = []
    getArray(ctx, [...path, 'networks']).forEach((_, k) => {
      const cidr = getString(ctx, [...path, 'networks', k])
      if (cidr !== undefined) networks.push(canonicalBlockCIDR(cidr))
    })
    return { kind: 'networks', networks }
  }
  if (field(o, 'domainNames') !== undefined) {
    const domainNames = getArray(ctx, [...path, 'domainNames']).filter(
      (d): d is string => typeof d === 'string',
    )
    ctx.notes.push({
      ...note(
        ctx,
        'load.unsupported-peer',
        'domainNames peers are not supported: the peer matches no pod, node or address (docs/semantics.md#cnp-domain-names)',
        [...path, 'domainNames'],
      ),
      severity: 'warning',
    })
    return { kind: 'domainNames', domainNames }
  }
  const fields = Object.keys(o).filter((k) => !CNP_PEER_FIELDS.has(k))
  ctx.notes.push({
    ...note(
      ctx,
      'load.unknown-peer',
      `the peer has none of the fields Palisade knows${fields.length > 0 ? ` (it has ${fields.map((f) => JSON.stringify(f)).join(', ')})` : ''}: its rule fails closed (docs/semantics.md#cnp-fail-closed)`,
      path,
    ),
    severity: 'warning',
  })
  return { kind: 'unknown', fields }
}

/** A protocols entry: tcp/udp/sctp with a port or range, or a named port (any protocol). */
function readClusterPort(ctx: Context, path: FieldPath): ClusterPolicyPort[] {
  const o = getObject(ctx, path) ?? {}
  const named = field(o, 'destinationNamedPort')
  if (typeof named === 'string') return [{ kind: 'named', name: named }]
  const out: ClusterPolicyPort[] = []
  for (const [key, protocol] of [
    ['tcp', 'TCP'],
    ['udp', 'UDP'],
    ['sctp', 'SCTP'],
  ] as const) {
    const dp = getObject(ctx, [...path, key, 'destinationPort'])
    if (!dp) continue
    const num = field(dp, 'number')
    const rg = asObject(field(dp, 'range'))
    if (typeof num === 'number') out.push({ kind: 'port', protocol, port: num })
    else if (rg && typeof rg.start === 'number' && typeof rg.end === 'number')
      out.push({ kind: 'port', protocol, port: rg.start, endPort: rg.end })
  }
  return out
}
