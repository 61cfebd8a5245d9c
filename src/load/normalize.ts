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
export function normalizeObjects(objects: readonly RawObject[], scope?: LoadScope): Result<ClusterState> {
  const n = createNormalizer(scope)
  for (const raw of objects) n.add(raw)
  return n.finish()
}

/**
 * Builds a cluster from objects handed in one at a time (the loader streams them: an object's data can
 * be dropped as soon as it is added). Each object is read when it is added; what depends on the other
 * objects (which definition of an object wins, pods' controllers, workloads' representatives, implied
 * namespaces) is decided by finish(), in input order, so the result and its diagnostics are exactly those
 * of reading every object at the end.
 */
export interface Normalizer {
  /** Adds one validated object; the normalizer keeps only what it read from it (all of a workload). */
  add(raw: RawObject): void
  /** The cluster and the diagnostics of every object added (and, with a scope, what it left out). */
  finish(): Result<ClusterState> & { readonly leftOut?: LeftOut }
}

/**
 * The namespaces whose pods (real and representative) and NetworkPolicies a cluster keeps: a command that
 * answers about a few namespaces (check, matrix -n) need not hold the rest of a large cluster. Every other
 * object is still read, checked and counted: the diagnostics are those of the whole input, and what the
 * rest of the cluster needs of a pod left out (its node's addresses, its controllers) is kept. The cluster
 * is the whole input's with only the pods and policies of other namespaces taken out.
 */
export interface LoadScope {
  readonly namespaces: ReadonlySet<string>
}

/** How many pods and policies of the whole cluster a scoped load left out (what "nothing to show" says). */
export interface LeftOut {
  readonly pods: number
  readonly hostNetworkPods: number
  readonly policies: number
}

/**
 * An object kept for finish(): its slim raw and what reading it gave (one shape for every kind: the
 * fields of other kinds stay undefined). Workloads are kept whole and read by finish().
 */
class Entry {
  ns: ReadNamespace | undefined = undefined
  node: NodeData | undefined = undefined
  nodeProblems: readonly Diagnostic[] = NO_DIAGNOSTICS
  pod: Pod | undefined = undefined
  /** The pod's own controller reference (its controllers are found by finish()). */
  podOwner: PodOwner | undefined = undefined
  policy: NetworkPolicy | undefined = undefined
  clusterPolicy: ClusterNetworkPolicy | undefined = undefined

  constructor(
    readonly raw: RawObject,
    readonly readKind: ReadKind,
    /** The context it was read in (its diagnostics); undefined for a workload. */
    readonly ctx: Context | undefined,
  ) {}
}

/**
 * A Pod or NetworkPolicy outside the scope, read when added and kept only as what finish() needs of it: its
 * diagnostics (in the order finish() would give them) and, for a live pod, a pod with only the fields the
 * rest of the cluster depends on (its node's addresses, its controllers).
 */
class Outside {
  constructor(
    readonly readKind: ReadKind,
    readonly namespace: string,
    readonly name: string,
    /** raw.source: where a later definition says this one was. */
    readonly source: SourceRef,
    readonly diagnostics: readonly Diagnostic[],
    /** Whether the whole cluster has it (read without errors; a pod not terminated). */
    readonly inWhole: boolean,
    /** The pod, when the whole cluster has it: only what the others need of it, and its controller reference. */
    readonly pod: { readonly pod: Pod; readonly owner: PodOwner | undefined } | undefined,
    /**
     * The slim raw, kept when no Namespace object declared the namespace yet: the object may be the first
     * user named by an implied-namespace diagnostic.
     */
    readonly raw: RawObject | undefined,
  ) {}
}

const NO_DIAGNOSTICS: readonly Diagnostic[] = Object.freeze([])
const NO_PORTS: readonly ContainerPort[] = Object.freeze([])
const NO_LABELS: Labels = Object.freeze({})
const NO_IPS: readonly string[] = Object.freeze([])
/** Stands for a real pod outside the scope where finish() looks for a pod by key (it is no workload's). */
const OUTSIDE_POD: Pod = Object.freeze({
  namespace: '',
  name: '',
  labels: NO_LABELS,
  ips: NO_IPS,
  ports: NO_PORTS,
  hostNetwork: false,
})

export function createNormalizer(scope?: LoadScope): Normalizer {
  // Selection diagnostics (other kinds, duplicates) come first, in input order, then those of reading.
  const selection: Diagnostic[] = []
  // Kind, then namespace, then name -> the place of the winning definition in `kept` (nested maps of the
  // strings the objects hold: no key string is built per object). A later definition clears the earlier
  // one's place and takes a new place at the end, as deleting and re-adding a key of one Map would.
  const byKey = new Map<string, Map<string, Map<string, number>>>()
  const kept: (Entry | Outside | undefined)[] = []
  /** Namespaces a Namespace object read without errors declares so far (scoped loads only). */
  const declared = new Set<string>()
  return {
    add(raw) {
      const readKind = selectKind(raw, selection)
      if (!readKind) return
      const { namespace, name } = objectKeyParts(readKind, raw.value)
      let byNamespace = byKey.get(readKind)
      if (!byNamespace) {
        byNamespace = new Map()
        byKey.set(readKind, byNamespace)
      }
      let byName = byNamespace.get(namespace)
      if (!byName) {
        byName = new Map()
        byNamespace.set(namespace, byName)
      }
      const place = byName.get(name)
      const earlier = place === undefined ? undefined : kept[place]
      if (place !== undefined && earlier) {
        const at = earlier instanceof Outside ? earlier.source : earlier.raw.source
        selection.push({
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
      if (scope && (readKind === 'Pod' || readKind === 'NetworkPolicy') && !scope.namespaces.has(namespace)) {
        kept.push(readOutside(raw, readKind, namespace, name, !declared.has(namespace)))
        return
      }
      const entry = readEntry(raw, readKind)
      if (scope && readKind === 'Namespace') {
        if (entry.ns && entry.ctx?.errors.length === 0) declared.add(name)
        else declared.delete(name)
      }
      kept.push(entry)
    },
    finish() {
      return finishCluster(
        kept.filter((o): o is Entry | Outside => o !== undefined),
        selection,
        scope,
      )
    },
  }
}

/** Reads an object as it is added; a workload is kept whole (its reading depends on the other objects). */
function readEntry(full: RawObject, readKind: ReadKind): Entry {
  if (isWorkloadKind(readKind)) return new Entry(full, readKind, undefined)
  const ctx = newContext(full)
  const e = new Entry(slimRaw(full), readKind, ctx)
  if (readKind === 'Namespace') e.ns = readNamespace(ctx)
  else if (readKind === 'Node') {
    const { node, problems } = readNode(ctx)
    e.node = node
    if (problems.length > 0) e.nodeProblems = problems
  } else if (readKind === 'Pod') {
    e.pod = readPod(ctx)
    e.podOwner = controllerRef(full.value)
  } else if (readKind === 'NetworkPolicy') e.policy = readPolicy(ctx)
  else if (readKind === 'ClusterNetworkPolicy') e.clusterPolicy = readClusterPolicy(ctx)
  // The data is not needed any more: diagnostics and finish() read only the slim raw.
  ctx.raw = e.raw
  return e
}

/** Reads a Pod or NetworkPolicy outside the scope: its diagnostics, and what finish() needs of a live pod. */
function readOutside(
  full: RawObject,
  readKind: ReadKind,
  namespace: string,
  name: string,
  keepRaw: boolean,
): Outside {
  const ctx = newContext(full)
  const pod = readKind === 'Pod' ? readPod(ctx) : undefined
  const policy = readKind === 'Pod' ? undefined : readPolicy(ctx)
  const diagnostics: Diagnostic[] = []
  const ok = finish(ctx, diagnostics)
  let kept: Outside['pod']
  if (ok && pod) {
    const terminal = terminalNote(ctx, pod)
    if (terminal) diagnostics.push(terminal)
    else kept = { pod: slimPod(pod), owner: controllerRef(full.value) }
  }
  return new Outside(
    readKind,
    namespace,
    name,
    full.source,
    diagnostics.length > 0 ? diagnostics : NO_DIAGNOSTICS,
    kept !== undefined || (ok && policy !== undefined),
    kept,
    keepRaw ? slimRaw(full) : undefined,
  )
}

/** The note that leaves a pod out because it has ended (Succeeded or Failed: it has no network). */
function terminalNote(ctx: Context, pod: Pod): Diagnostic | undefined {
  return pod.phase === 'Succeeded' || pod.phase === 'Failed'
    ? note(ctx, 'load.terminal-pod', `pod is ${pod.phase}: it has no network and is left out`)
    : undefined
}

/** A pod with only what the cluster needs of a pod outside the scope: its node's addresses, its controllers. */
function slimPod(pod: Pod): Pod {
  const hash = pod.labels['pod-template-hash']
  return {
    namespace: pod.namespace,
    name: pod.name,
    labels: hash === undefined ? NO_LABELS : { 'pod-template-hash': hash },
    ips: pod.hostNetwork ? pod.ips : NO_IPS,
    ports: NO_PORTS,
    hostNetwork: pod.hostNetwork,
    ...(pod.nodeName === undefined ? {} : { nodeName: pod.nodeName }),
    ...(pod.hostIPs === undefined ? {} : { hostIPs: pod.hostIPs }),
  }
}

/** The parts of an object finish() and diagnostics read: apiVersion, kind, metadata's name and namespace. */
function slimRaw(raw: RawObject): RawObject {
  const v = raw.value
  const meta = v.metadata
  const value: JsonObject = {}
  if (Object.hasOwn(v, 'apiVersion')) value.apiVersion = v.apiVersion as JsonValue
  if (Object.hasOwn(v, 'kind')) value.kind = v.kind as JsonValue
  if (Object.hasOwn(v, 'metadata')) {
    const m = asObject(meta)
    if (!m) value.metadata = meta as JsonValue
    else {
      const slim: JsonObject = {}
      if (Object.hasOwn(m, 'name')) slim.name = m.name as JsonValue
      if (Object.hasOwn(m, 'namespace')) slim.namespace = m.namespace as JsonValue
      value.metadata = slim
    }
  }
  return { value, source: raw.source, locate: raw.locate }
}

/** What the cluster is made of, from the objects kept in input order (see Normalizer). */
function finishCluster(
  read: readonly (Entry | Outside)[],
  selection: readonly Diagnostic[],
  scope: LoadScope | undefined,
): Result<ClusterState> & { readonly leftOut?: LeftOut } {
  const diagnostics: Diagnostic[] = [...selection]
  const namespaces = new Map<string, Namespace>()
  const policies: NetworkPolicy[] = []
  const clusterPolicies: ClusterNetworkPolicy[] = []
  const realPods = new Map<string, Pod>()
  const workloads: { readonly pod: Pod; readonly raw: RawObject; readonly kind: WorkloadKind }[] = []
  /** Namespace name -> first object that lives in it (input order). */
  const used = new Map<string, RawObject | Outside>()
  const owners = workloadObjects(read)
  // The pods outside the scope that a workload's representative pod may meet (same namespace and name).
  const workloadNamespaces = new Set([...owners.values()].map((o) => o.namespace))
  const outsidePods = new Set<string>()
  /** Workload key -> the first live pod that names it among its controllers. */
  const withPods = new Map<string, string>()
  const nodes = new NodeAddresses()
  /** Counts a live pod (kept or not): its node's addresses, the workloads it is a pod of. */
  const live = (pod: Pod): void => {
    nodes.addPod(pod)
    for (const owner of pod.controllers ?? []) {
      const key = workloadKey(pod.namespace, owner)
      if (!withPods.has(key)) withPods.set(key, `Pod ${pod.namespace}/${pod.name}`)
    }
  }

  for (const e of read) {
    if (e instanceof Outside) {
      if (!used.has(e.namespace)) used.set(e.namespace, e)
      if (e.diagnostics.length > 0) diagnostics.push(...e.diagnostics)
      if (!e.pod) continue
      const pod = withControllers(e.pod.pod, e.pod.owner, owners)
      live(pod)
      if (workloadNamespaces.has(pod.namespace)) outsidePods.add(`${pod.namespace}/${pod.name}`)
      continue
    }
    const { raw, readKind, ctx } = e
    if (!kindInfo(readKind).clusterScoped && !used.has(namespaceOf(raw.value)))
      used.set(namespaceOf(raw.value), raw)
    if (!ctx) continue
    if (readKind === 'Namespace') {
      if (finish(ctx, diagnostics) && e.ns) {
        namespaces.set(e.ns.namespace.name, e.ns.namespace)
        if (e.ns.policy) policies.push(e.ns.policy)
      }
    } else if (readKind === 'Node') {
      if (e.node) nodes.addNode(e.node)
      if (e.nodeProblems.length > 0) diagnostics.push(...e.nodeProblems)
    } else if (readKind === 'Pod') {
      if (!finish(ctx, diagnostics) || !e.pod) continue
      const pod = withControllers(e.pod, e.podOwner, owners)
      const terminal = terminalNote(ctx, pod)
      if (terminal) {
        diagnostics.push(terminal)
        continue
      }
      live(pod)
      realPods.set(`${pod.namespace}/${pod.name}`, pod)
    } else if (readKind === 'NetworkPolicy') {
      if (finish(ctx, diagnostics) && e.policy) policies.push(e.policy)
    } else if (readKind === 'ClusterNetworkPolicy') {
      if (finish(ctx, diagnostics) && e.clusterPolicy) clusterPolicies.push(e.clusterPolicy)
    }
  }
  // Workloads after every pod: whether one needs a representative depends on the pods of the input.
  const children = activeChildren(owners)
  for (const e of read) {
    if (e instanceof Outside || !isWorkloadKind(e.readKind)) continue
    const { raw, readKind } = e
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
    const existing = pods.get(key) ?? (outsidePods.has(key) ? OUTSIDE_POD : undefined)
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

  for (const [name, used1] of used) {
    if (namespaces.has(name)) continue
    namespaces.set(name, { name, labels: { [NAME_LABEL]: name }, declared: false, defaultDenyIngress: false })
    const firstUser = used1 instanceof Outside ? (used1.raw ?? used1) : used1
    diagnostics.push({
      code: 'load.implied-namespace',
      severity: BUILT_IN_NAMESPACES.has(name) ? 'info' : 'warning',
      message: `namespace "${name}" is not declared in the input (first used by ${firstUser instanceof Outside ? describeObject({ kind: firstUser.readKind, metadata: { namespace: name, name: firstUser.name } }) : describeObject(firstUser.value)}): assumed to exist with only the ${NAME_LABEL} label`,
      object: `Namespace ${name}`,
      path: [],
      // An object outside the scope keeps its raw when its namespace was not declared when it was read;
      // a namespace declared then and not any more (a later definition of it refused) names the object.
      source: firstUser instanceof Outside ? firstUser.source : firstUser.locate(['metadata', 'namespace']),
    })
  }
  const inScope = (o: { readonly namespace: string }): boolean => !scope || scope.namespaces.has(o.namespace)
  const allPods = [...pods.values()]
  const podList = scope ? allPods.filter(inScope) : allPods
  const policyList = scope ? policies.filter(inScope) : policies

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
      pods: podList.sort(byKey),
      policies: policyList.sort(byKey),
      ...(clusterPolicies.length > 0
        ? { clusterPolicies: clusterPolicies.sort(compareClusterPolicies) }
        : {}),
      ...(nodeList.length > 0 ? { nodes: nodeList } : {}),
      ...(workloadList.length > 0 ? { workloads: workloadList } : {}),
    },
    diagnostics,
    ...(scope ? { leftOut: leftOut(read, allPods, podList, policies.length - policyList.length) } : {}),
  }
}

/** Counts what a scoped load left out: the pods and policies of other namespaces the whole cluster has. */
function leftOut(
  read: readonly (Entry | Outside)[],
  allPods: readonly Pod[],
  kept: readonly Pod[],
  policies: number,
): LeftOut {
  let pods = allPods.length - kept.length
  let hostNetworkPods = allPods.filter((p) => p.hostNetwork).length - kept.filter((p) => p.hostNetwork).length
  let outsidePolicies = policies
  for (const e of read) {
    if (!(e instanceof Outside) || !e.inWhole) continue
    if (e.readKind === 'NetworkPolicy') outsidePolicies++
    else {
      pods++
      if (e.pod?.pod.hostNetwork) hostNetworkPods++
    }
  }
  return { pods, hostNetworkPods, policies: outsidePolicies }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

// ---------------------------------------------------------------------------------------------
// Selection: kinds and duplicates

/** The kind an object is read as; undefined (with a diagnostic) when it is not read. */
function selectKind(raw: RawObject, diagnostics: Diagnostic[]): ReadKind | undefined {
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
    return undefined
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
    return undefined
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
    return undefined
  }
  return cls.readKind
}

/** Indexes the workload objects of the input with their own controller and whether they run no pod. */
function workloadObjects(
  read: readonly (Entry | Outside)[],
): Map<string, WorkloadObject & { source?: SourceRef }> {
  const out = new Map<string, WorkloadObject & { source?: SourceRef }>()
  for (const e of read) {
    if (e instanceof Outside || !isWorkloadKind(e.readKind)) continue
    const { raw, readKind } = e
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

/** What a Node object says of its node: name, pod ranges, labels, InternalIP and ExternalIP addresses. */
interface NodeData {
  readonly name: string
  readonly source: SourceRef
  readonly podCIDRs?: readonly string[]
  readonly labels?: Labels
  readonly addresses: readonly string[]
}

/** Reads a Node; its pod ranges' problems are warnings (the ranges are then unknown). */
function readNode(ctx: Context): { node: NodeData | undefined; problems: Diagnostic[] } {
  const raw = ctx.raw
  const pr = readNodePodRanges(raw.value)
  const problems = pr.problems.map(
    (problem): Diagnostic => ({
      code: 'load.invalid-pod-cidrs',
      severity: 'warning',
      message: `${problem.message} (the API server would refuse this Node): its pod ranges are taken as unknown`,
      object: ctx.object,
      path: problem.path,
      source: raw.locate(problem.path),
    }),
  )
  const name = asObject(raw.value.metadata)?.name
  if (typeof name !== 'string' || name === '') return { node: undefined, problems }
  const labels = asObject(asObject(raw.value.metadata)?.labels)
  let own: Record<string, string> | undefined
  if (labels) {
    own = {}
    for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') setOwn(own, k, v)
  }
  const addresses: string[] = []
  const list = asObject(raw.value.status)?.addresses
  if (Array.isArray(list))
    for (const item of list) {
      const a = asObject(item)
      if (!a || typeof a.address !== 'string') continue
      if (a.type === 'InternalIP' || a.type === 'ExternalIP') addresses.push(a.address)
    }
  return {
    node: {
      name,
      source: raw.source,
      ...(pr.ranges.length > 0 ? { podCIDRs: pr.ranges.map((r) => r.cidr) } : {}),
      ...(own ? { labels: own } : {}),
      addresses,
    },
    problems,
  }
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

  addNode(node: NodeData): void {
    const e = this.entry(node.name)
    e.declared = true
    e.source = node.source
    if (node.podCIDRs) e.podCIDRs = node.podCIDRs
    if (node.labels) e.labels = node.labels
    for (const ip of node.addresses) this.add(node.name, ip)
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

/** An object being read: its raw form, its name for diagnostics (worked out on first use), what was found. */
class Context {
  private name: string | undefined
  readonly errors: Diagnostic[] = []
  readonly notes: Diagnostic[] = []

  constructor(public raw: RawObject) {}

  get object(): string {
    this.name ??= describeObject(this.raw.value)
    return this.name
  }
}

function newContext(raw: RawObject): Context {
  return new Context(raw)
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
  return objectValue(ctx, get(ctx.raw.value, path), path)
}

function getArray(ctx: Context, path: FieldPath): readonly JsonValue[] {
  return arrayValue(ctx, get(ctx.raw.value, path), path)
}

function getString(ctx: Context, path: FieldPath): string | undefined {
  return stringValue(ctx, get(ctx.raw.value, path), path)
}

function getStringMap(ctx: Context, path: FieldPath): Labels {
  return stringMapValue(ctx, get(ctx.raw.value, path), path)
}

// Readers of a value already in hand (the hot paths: pods and policies). They behave as the get*
// functions above on the value get() would give at `base` followed by the segments a, b, c, and build
// that path only for a diagnostic: an object's fields are read without walking from its root or copying
// a path per field.

type Seg = string | number

function pathOf(base: FieldPath, a?: Seg, b?: Seg, c?: Seg): FieldPath {
  const path = [...base]
  if (a !== undefined) path.push(a)
  if (b !== undefined) path.push(b)
  if (c !== undefined) path.push(c)
  return path
}

/** One step of get(): a field of an object or an item of an array; absent or null is undefined. */
function child(v: JsonValue | readonly JsonValue[] | undefined, seg: Seg): JsonValue | undefined {
  let out: JsonValue | undefined
  if (typeof seg === 'number') out = Array.isArray(v) ? v[seg] : undefined
  else {
    const o = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined
    out = o && Object.hasOwn(o, seg) ? o[seg] : undefined
  }
  return out === null ? undefined : out
}

/** Reads a value of one JSON type: absent is undefined; another type is an error (named at base.a.b.c). */
type TypedReader<T> = (
  ctx: Context,
  v: JsonValue | undefined,
  base: FieldPath,
  a?: Seg,
  b?: Seg,
  c?: Seg,
) => T | undefined

function typedReader<T extends JsonValue>(is: (v: JsonValue) => v is T, expected: string): TypedReader<T> {
  return (ctx, v, base, a, b, c) => {
    if (v === undefined) return undefined
    if (is(v)) return v
    fail(ctx, pathOf(base, a, b, c), `expected ${expected}, got ${typeName(v)}`)
    return undefined
  }
}

const objectValue = typedReader((v): v is JsonObject => asObject(v) !== undefined, 'an object')
const stringValue = typedReader((v): v is string => typeof v === 'string', 'a string')
const optionalArray = typedReader((v): v is JsonValue[] => Array.isArray(v), 'an array')
const optionalBoolean = typedReader((v): v is boolean => typeof v === 'boolean', 'a boolean')

/** An array field; absent or of another type (an error) reads as empty. */
function arrayValue(
  ctx: Context,
  v: JsonValue | undefined,
  base: FieldPath,
  a?: Seg,
  b?: Seg,
  c?: Seg,
): readonly JsonValue[] {
  return optionalArray(ctx, v, base, a, b, c) ?? []
}

/** A boolean field; absent or of another type (an error) reads as false. */
function booleanValue(ctx: Context, v: JsonValue | undefined, base: FieldPath, a?: Seg): boolean {
  return optionalBoolean(ctx, v, base, a) ?? false
}

function stringMapValue(ctx: Context, v: JsonValue | undefined, base: FieldPath, a?: Seg, b?: Seg): Labels {
  const o = objectValue(ctx, v, base, a, b)
  const out: Record<string, string> = {}
  if (!o) return out
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue
    const value = o[k]
    if (typeof value === 'string') setOwn(out, k, value)
    else fail(ctx, [...pathOf(base, a, b), k], `expected a string, got ${typeName(value)}`)
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

/** A pod as its own object gives it: all but its controllers (withControllers adds them). */
function readPod(ctx: Context): Pod | undefined {
  const value = ctx.raw.value
  const spec = readPodSpecValue(ctx, child(value, 'spec'), SPEC)
  // A status that is not an object cannot be decoded: the pod is refused, never kept without an address.
  const status = objectValue(ctx, child(value, 'status'), STATUS)
  const phase = stringValue(ctx, child(status, 'phase'), STATUS, 'phase')
  const ips: string[] = []
  const podIPs = arrayValue(ctx, child(status, 'podIPs'), STATUS, 'podIPs')
  for (let i = 0; i < podIPs.length; i++) {
    const item = objectValue(ctx, child(podIPs, i), STATUS, 'podIPs', i)
    const ip = stringValue(ctx, child(item, 'ip'), STATUS, 'podIPs', i, 'ip')
    if (ip) ips.push(ip)
  }
  if (ips.length === 0) {
    const ip = stringValue(ctx, child(status, 'podIP'), STATUS, 'podIP')
    if (ip) ips.push(ip)
  }
  const hostIPs: string[] = []
  const hostList = child(status, 'hostIPs')
  if (Array.isArray(hostList)) {
    for (const item of hostList) {
      const ip = asObject(item)?.ip
      if (typeof ip === 'string' && ip !== '') hostIPs.push(ip)
    }
  }
  const hostIP = child(status, 'hostIP')
  if (hostIPs.length === 0 && typeof hostIP === 'string' && hostIP !== '') hostIPs.push(hostIP)
  const namespace = namespaceOf(value)
  const metadata = child(value, 'metadata')
  const labels = stringMapValue(ctx, child(metadata, 'labels'), METADATA, 'labels')
  return {
    namespace,
    name: stringValue(ctx, child(metadata, 'name'), METADATA, 'name') ?? '',
    labels,
    ips,
    ...spec,
    ...(phase ? { phase } : {}),
    ...(hostIPs.length > 0 ? { hostIPs } : {}),
    source: ctx.raw.source,
  }
}

const SPEC: FieldPath = ['spec']
const STATUS: FieldPath = ['status']
const METADATA: FieldPath = ['metadata']

/**
 * The pod with its controllers, found among the workloads of the input (the pod itself when it has no
 * controller reference), with its keys in the order the readers always give them.
 */
function withControllers(pod: Pod, direct: PodOwner | undefined, objects: WorkloadObjects): Pod {
  if (!direct) return pod
  const controllers = podControllers(objects, pod.namespace, direct, pod.labels)
  const { phase, hostIPs, source, ...rest } = pod
  return {
    ...rest,
    ...(phase ? { phase } : {}),
    controllers,
    ...(hostIPs ? { hostIPs } : {}),
    source,
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
  return readPodSpecValue(ctx, get(ctx.raw.value, spec), spec)
}

/** readPodSpec on the spec's value (`spec` is its path). */
function readPodSpecValue(
  ctx: Context,
  value: JsonValue | undefined,
  spec: FieldPath,
): Pick<Pod, 'ports' | 'hostNetwork' | 'nodeName'> {
  const ports: ContainerPort[] = []
  const containers = arrayValue(ctx, child(value, 'containers'), spec, 'containers')
  for (let i = 0; i < containers.length; i++) {
    readContainerPorts(ctx, child(containers, i), spec, 'containers', i, ports)
  }
  // Sidecars (init containers with restartPolicy Always) run beside the app and serve traffic.
  const inits = arrayValue(ctx, child(value, 'initContainers'), spec, 'initContainers')
  for (let i = 0; i < inits.length; i++) {
    const init = child(inits, i)
    if (child(init, 'restartPolicy') === 'Always')
      readContainerPorts(ctx, init, spec, 'initContainers', i, ports)
  }
  const nodeName = stringValue(ctx, child(value, 'nodeName'), spec, 'nodeName')
  return {
    ports,
    hostNetwork: booleanValue(ctx, child(value, 'hostNetwork'), spec, 'hostNetwork'),
    ...(nodeName ? { nodeName } : {}),
  }
}

/** Adds to `out` the ports of the container at spec.<list>[i] (its value is `container`). */
function readContainerPorts(
  ctx: Context,
  container: JsonValue | undefined,
  spec: FieldPath,
  list: string,
  i: number,
  out: ContainerPort[],
): void {
  const ports = arrayValue(ctx, child(container, 'ports'), spec, list, i, 'ports')
  // Fields are read straight from each item (as get() would); paths are built only for a diagnostic.
  for (let j = 0; j < ports.length; j++) {
    const item = asObject(ports[j])
    const port = field(item, 'containerPort')
    const at = (): FieldPath => [...spec, list, i, 'ports', j]
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      fail(
        ctx,
        [...at(), 'containerPort'],
        `Invalid value: ${JSON.stringify(port ?? null)}: must be between 1 and 65535, inclusive`,
      )
      continue
    }
    const rawProtocol = field(item, 'protocol')
    const protocol =
      rawProtocol === 'TCP' || rawProtocol === 'UDP' || rawProtocol === 'SCTP'
        ? rawProtocol
        : readProtocol(ctx, child(ports[j], 'protocol'), at(), 'protocol')
    const rawName = field(item, 'name')
    const name =
      typeof rawName === 'string' ? rawName : stringValue(ctx, child(ports[j], 'name'), at(), 'name')
    out.push({ containerPort: port, protocol, ...(name ? { name } : {}) })
  }
}

/** A field of an object as get() reads it: undefined when the object is absent or the value null. */
function field(o: JsonObject | undefined, key: string): JsonValue | undefined {
  const v = o && Object.hasOwn(o, key) ? o[key] : undefined
  return v === null ? undefined : v
}

/** Reads a protocol (the value at base.a.b.c); absent defaults to TCP, as the API server's defaulting does. */
function readProtocol(
  ctx: Context,
  v: JsonValue | undefined,
  base: FieldPath,
  a?: Seg,
  b?: Seg,
  c?: Seg,
): Protocol {
  if (v === undefined) return 'TCP'
  if (typeof v === 'string' && (PROTOCOLS as readonly string[]).includes(v)) return v as Protocol
  fail(
    ctx,
    pathOf(base, a, b, c),
    `Unsupported value: ${JSON.stringify(v)}: supported values: "SCTP", "TCP", "UDP"`,
  )
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
  const rules = arrayValue(ctx, child(child(ctx.raw.value, 'spec'), direction), SPEC, direction)
  const out: PolicyRule[] = []
  for (let i = 0; i < rules.length; i++) {
    const path: FieldPath = ['spec', direction, i]
    const rule = objectValue(ctx, child(rules, i), path)
    const peerList = arrayValue(ctx, child(rule, peersField), path, peersField)
    const peers: PolicyPeer[] = []
    for (let j = 0; j < peerList.length; j++)
      peers.push(readPeer(ctx, child(peerList, j), [...path, peersField, j]))
    const portList = arrayValue(ctx, child(rule, 'ports'), path, 'ports')
    const ports: PolicyPort[] = []
    for (let j = 0; j < portList.length; j++)
      ports.push(readPolicyPort(ctx, child(portList, j), path, 'ports', j))
    // An absent or empty from/to (ports) means every peer (port): both are left undefined.
    out.push({
      ...(peers.length > 0 ? { peers } : {}),
      ...(ports.length > 0 ? { ports } : {}),
      source: ctx.raw.locate(path),
    })
  }
  return out
}

function readPeer(ctx: Context, value: JsonValue | undefined, path: FieldPath): PolicyPeer {
  const peer = objectValue(ctx, value, path)
  const podSelector = readSelectorValue(ctx, child(peer, 'podSelector'), path, 'podSelector')
  const namespaceSelector = readSelectorValue(
    ctx,
    child(peer, 'namespaceSelector'),
    path,
    'namespaceSelector',
  )
  const ipBlock = readIPBlock(ctx, child(peer, 'ipBlock'), path, 'ipBlock')
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

function readIPBlock(
  ctx: Context,
  value: JsonValue | undefined,
  base: FieldPath,
  a: Seg,
): IPBlock | undefined {
  const block = objectValue(ctx, value, base, a)
  if (!block) return undefined
  const except: string[] = []
  const list = arrayValue(ctx, child(block, 'except'), base, a, 'except')
  for (let i = 0; i < list.length; i++) {
    const e = stringValue(ctx, child(list, i), base, a, 'except', i)
    if (e !== undefined) except.push(canonicalBlockCIDR(e))
  }
  return { cidr: canonicalBlockCIDR(stringValue(ctx, child(block, 'cidr'), base, a, 'cidr') ?? ''), except }
}

/** Reads a metav1.LabelSelector; undefined when absent (null counts as absent, as in Go). */
function readSelector(ctx: Context, path: FieldPath): LabelSelector | undefined {
  return readSelectorValue(ctx, get(ctx.raw.value, path), path)
}

/** readSelector on the selector's value (its path is base.a). */
function readSelectorValue(
  ctx: Context,
  value: JsonValue | undefined,
  base: FieldPath,
  a?: Seg,
): LabelSelector | undefined {
  const selector = objectValue(ctx, value, base, a)
  if (!selector) return undefined
  const matchExpressions: LabelSelectorRequirement[] = []
  const list = arrayValue(ctx, child(selector, 'matchExpressions'), base, a, 'matchExpressions')
  for (let i = 0; i < list.length; i++) {
    const p = pathOf(base, a, 'matchExpressions', i)
    const e = child(list, i)
    const operator = stringValue(ctx, child(e, 'operator'), p, 'operator')
    if (!operator || !(OPERATORS as readonly string[]).includes(operator)) {
      fail(
        ctx,
        [...p, 'operator'],
        `Invalid value: ${JSON.stringify(operator ?? '')}: not a valid selector operator`,
      )
      continue
    }
    const values: string[] = []
    const given = arrayValue(ctx, child(e, 'values'), p, 'values')
    for (let j = 0; j < given.length; j++) {
      const v = stringValue(ctx, child(given, j), p, 'values', j)
      if (v !== undefined) values.push(v)
    }
    matchExpressions.push({
      key: stringValue(ctx, child(e, 'key'), p, 'key') ?? '',
      operator: operator as SelectorOperator,
      values,
    })
  }
  return {
    matchLabels: stringMapValue(ctx, child(selector, 'matchLabels'), base, a, 'matchLabels'),
    matchExpressions,
  }
}

/** Reads a NetworkPolicyPort (the value at base.a.b): protocol defaults to TCP; port (number or name) and endPort kept as given. */
function readPolicyPort(
  ctx: Context,
  value: JsonValue | undefined,
  base: FieldPath,
  a: Seg,
  b: Seg,
): PolicyPort {
  const item = objectValue(ctx, value, base, a, b)
  const protocol = readProtocol(ctx, child(item, 'protocol'), base, a, b, 'protocol')
  const port = child(item, 'port')
  const endPort = child(item, 'endPort')
  if (port !== undefined && typeof port !== 'number' && typeof port !== 'string') {
    fail(ctx, pathOf(base, a, b, 'port'), `expected an integer or a string, got ${typeName(port)}`)
  }
  if (endPort !== undefined && typeof endPort !== 'number') {
    fail(ctx, pathOf(base, a, b, 'endPort'), `expected an integer, got ${typeName(endPort)}`)
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
