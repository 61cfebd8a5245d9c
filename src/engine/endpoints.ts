/**
 * Turns what a user typed (--from / --to / --pod) into endpoints of the cluster, with kubectl's names
 * (docs/semantics.md#workload-names): `ns/NAME`, `ns/KIND/NAME`, `KIND/NAME` and a bare `NAME` (these two
 * in the namespace of -n, default `default`), `node/NAME[=IP]`, or an IP address (a pod's, a node's, or
 * outside the cluster; docs/semantics.md#node-addresses).
 */
import type { Pod, PodOwner } from '../model/index.js'
import { canonicalIP, formatIP, type ParsedIP, parseCIDR, parseIP, podKey } from '../model/index.js'
import { isTerminated } from '../semantics/index.js'
import type { ClusterIndex } from './cluster-index.js'
import type { Endpoint } from './types.js'

/** kubectl's names for the kinds an endpoint may name (singular, plural, short), lower case. */
const KIND_ALIAS_LIST: Readonly<Record<string, string>> = {
  po: 'Pod',
  pod: 'Pod',
  pods: 'Pod',
  deploy: 'Deployment',
  deployment: 'Deployment',
  deployments: 'Deployment',
  rs: 'ReplicaSet',
  replicaset: 'ReplicaSet',
  replicasets: 'ReplicaSet',
  sts: 'StatefulSet',
  statefulset: 'StatefulSet',
  statefulsets: 'StatefulSet',
  ds: 'DaemonSet',
  daemonset: 'DaemonSet',
  daemonsets: 'DaemonSet',
  job: 'Job',
  jobs: 'Job',
  cj: 'CronJob',
  cronjob: 'CronJob',
  cronjobs: 'CronJob',
  rc: 'ReplicationController',
  replicationcontroller: 'ReplicationController',
  replicationcontrollers: 'ReplicationController',
}

/** A Map, so that no name typed by a user reaches Object.prototype (`constructor/web`). */
const KIND_ALIASES: ReadonlyMap<string, string> = new Map(Object.entries(KIND_ALIAS_LIST))

/** Which kind a bare workload name means when several kinds carry it (top-level workloads first). */
const KIND_ORDER: readonly string[] = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'CronJob',
  'Job',
  'ReplicaSet',
  'ReplicationController',
]

const NODE_PREFIXES: ReadonlySet<string> = new Set(['node', 'nodes', 'no'])

export interface ResolveOptions {
  /** -n: the namespace of `KIND/NAME` and bare names (default `default`). */
  readonly namespace?: string
}

/** What a name stands for: one endpoint, or the pods of a workload (every one of them). */
export interface Resolved {
  /** The endpoints, the most typical first (a running pod with an address before a pending one). */
  readonly endpoints: readonly Endpoint[]
  /** 'Deployment shop/web' when a workload was named. */
  readonly workload?: string
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Orders a workload's pods: live pods with an address first, then by name. */
function byTypical(a: Pod, b: Pod): number {
  const rank = (p: Pod) => (isTerminated(p) ? 2 : p.ips.length === 0 ? 1 : 0)
  return rank(a) - rank(b) || compare(a.name, b.name)
}

/** Returns the nodes that own an address (docs/semantics.md#node-addresses). */
function nodesWithAddress(index: ClusterIndex, canonical: string): string[] {
  return (index.cluster.nodes ?? []).filter((n) => n.addresses.includes(canonical)).map((n) => n.name)
}

/** Returns the controllers a pod is named by (a representative pod's workload included). */
function ownersOf(p: Pod): readonly PodOwner[] {
  if (p.controllers) return p.controllers
  return p.workload ? [p.workload] : []
}

/**
 * Resolves a name to every endpoint it stands for: a pod, every pod of a workload, a node, an address.
 * Returns an error message when nothing matches.
 */
export function resolveEndpoints(
  index: ClusterIndex,
  spec: string,
  opts: ResolveOptions = {},
): Resolved | string {
  const name = parseEndpointName(spec, opts)
  switch (name.kind) {
    case 'error':
      return name.message
    case 'address':
      return resolveAddress(index, name.text, name.ip)
    case 'node':
      return resolveNode(index, name.text)
    default:
      return resolveNamed(index, name.namespace, name.workloadKind, name.name)
  }
}

/**
 * The namespace whose pods and workloads a name stands for; undefined for an address or a node (any
 * pod's, in any namespace) and for a name that is not valid (its error needs no cluster).
 */
export function endpointNamespace(spec: string, opts: ResolveOptions = {}): string | undefined {
  const name = parseEndpointName(spec, opts)
  return name.kind === 'named' ? name.namespace : undefined
}

/** What a name typed by a user is, before the cluster is looked at. */
type EndpointName =
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'address'; readonly text: string; readonly ip: ParsedIP }
  | { readonly kind: 'node'; readonly text: string }
  | {
      readonly kind: 'named'
      readonly namespace: string
      readonly workloadKind: string | undefined
      readonly name: string
    }

function parseEndpointName(spec: string, opts: ResolveOptions): EndpointName {
  let text = spec.trim()
  // [2001:db8::1] as in URLs, and a one-address CIDR (8.8.8.8/32, 2001:db8::1/128) are that address.
  const bracketed = /^\[([^\]]+)\]$/.exec(text)
  if (bracketed && parseIP(bracketed[1] as string)?.family === 6) text = bracketed[1] as string
  const cidr = text.includes('/') ? parseCIDR(text) : undefined
  if (cidr) {
    const single = cidr.prefix === (cidr.family === 4 ? 32 : 128)
    if (!single || cidr.hostBitsSet)
      return {
        kind: 'error',
        message: `${text} is a range of addresses: give one address (such as ${formatIP(cidr.family, cidr.base + (cidr.family === 4 && cidr.prefix < 31 ? 1n : 0n))})`,
      }
    text = text.slice(0, text.indexOf('/'))
  }
  const ip = parseIP(text)
  if (ip) return { kind: 'address', text, ip }
  const parts = text.split('/')
  if (parts.length === 2 && NODE_PREFIXES.has((parts[0] as string).toLowerCase()))
    return { kind: 'node', text }
  if (parts.some((p) => p === '') || parts.length > 3) return { kind: 'error', message: invalid(spec) }
  if (parts.length === 3) {
    const [namespace, k, name] = parts as [string, string, string]
    const workloadKind = KIND_ALIASES.get(k.toLowerCase())
    if (!workloadKind)
      return {
        kind: 'error',
        message: `unknown kind "${k}" in "${spec}": expected pod, deploy, sts, ds, rs, job, cronjob or rc`,
      }
    return { kind: 'named', namespace, workloadKind, name }
  }
  if (parts.length === 2) {
    const [first, name] = parts as [string, string]
    const workloadKind = KIND_ALIASES.get(first.toLowerCase())
    return {
      kind: 'named',
      namespace: workloadKind ? (opts.namespace ?? 'default') : first,
      workloadKind,
      name,
    }
  }
  return {
    kind: 'named',
    namespace: opts.namespace ?? 'default',
    workloadKind: undefined,
    name: parts[0] as string,
  }
}

/** An address: a pod's (not a hostNetwork one), a node's, or outside the cluster. */
function resolveAddress(index: ClusterIndex, text: string, ip: ParsedIP): Resolved | string {
  const pods = index.cluster.pods.filter(
    (p) =>
      !p.hostNetwork && p.ips.some((x) => parseIP(x)?.value === ip.value && parseIP(x)?.family === ip.family),
  )
  if (pods.length === 1) return { endpoints: [{ kind: 'pod', pod: pods[0] as Pod }] }
  if (pods.length > 1) return `address ${text} belongs to several pods: ${pods.map(podKey).join(', ')}`
  const nodes = nodesWithAddress(index, canonicalIP(ip))
  if (nodes.length > 1) return `address ${text} belongs to several nodes: ${nodes.join(', ')}`
  if (nodes.length === 1) return { endpoints: [{ kind: 'node', node: nodes[0] as string, ip: text }] }
  return { endpoints: [{ kind: 'ip', ip: text }] }
}

/**
 * Resolves a name to one endpoint: the pod, the node or the address it names, or for a workload its most
 * typical pod (a running one with an address). Returns an error message when nothing matches.
 */
export function resolveEndpoint(
  index: ClusterIndex,
  spec: string,
  opts: ResolveOptions = {},
): Endpoint | string {
  const r = resolveEndpoints(index, spec, opts)
  return typeof r === 'string' ? r : (r.endpoints[0] as Endpoint)
}

function invalid(spec: string): string {
  return `invalid endpoint "${spec}": expected namespace/pod, namespace/workload, KIND/NAME (deploy/web; -n for the namespace), node/NAME or an IP address`
}

/** node/NAME takes the node's known address, so that it and its address give one verdict. */
function resolveNode(index: ClusterIndex, text: string): Resolved | string {
  const m = /^[^/]+\/([^=]+)(?:=(.+))?$/.exec(text)
  if (!m) return invalid(text)
  const node = m[1] as string
  const addr = m[2]
  if (addr !== undefined) {
    if (!parseIP(addr)) return `invalid node address "${addr}" in "${text}"`
    return { endpoints: [{ kind: 'node', node, ip: addr }] }
  }
  const known = (index.cluster.nodes ?? []).find((n) => n.name === node)?.addresses[0]
  return { endpoints: [known === undefined ? { kind: 'node', node } : { kind: 'node', node, ip: known }] }
}

function resolveNamed(
  index: ClusterIndex,
  namespace: string,
  kind: string | undefined,
  name: string,
): Resolved | string {
  if (kind === undefined || kind === 'Pod') {
    const exact = index.podsByKey.get(`${namespace}/${name}`)
    if (exact) return { endpoints: [{ kind: 'pod', pod: exact }] }
  }
  if (kind !== 'Pod') {
    const byKind = new Map<string, Pod[]>()
    for (const p of index.cluster.pods) {
      if (p.namespace !== namespace) continue
      for (const o of ownersOf(p)) {
        if (o.name !== name || (kind !== undefined && o.kind !== kind)) continue
        const list = byKind.get(o.kind) ?? []
        list.push(p)
        byKind.set(o.kind, list)
      }
    }
    const found = [...byKind.keys()].sort((a, b) => rankKind(a) - rankKind(b) || compare(a, b))[0]
    if (found) {
      const pods = [...(byKind.get(found) as Pod[])].sort(byTypical)
      return {
        endpoints: pods.map((pod) => ({ kind: 'pod', pod })),
        workload: `${found} ${namespace}/${name}`,
      }
    }
    const idle = (index.cluster.workloads ?? []).find(
      (w) =>
        w.namespace === namespace && w.name === name && (kind === undefined || w.kind === kind) && w.idle,
    )
    if (idle)
      return `${idle.kind} ${namespace}/${name} runs no pod (${idle.idle}): there is nothing to connect`
  }
  return notFound(index, namespace, kind, name)
}

function rankKind(kind: string): number {
  const i = KIND_ORDER.indexOf(kind)
  return i < 0 ? KIND_ORDER.length : i
}

function notFound(index: ClusterIndex, namespace: string, kind: string | undefined, name: string): string {
  const inNs = index.cluster.pods.filter((p) => p.namespace === namespace)
  const workloads = new Set<string>()
  for (const p of inNs) {
    const top = ownersOf(p).at(-1)
    if (top) workloads.add(`${top.kind.toLowerCase()}/${top.name}`)
  }
  const names = [...inNs.map((p) => p.name), ...[...workloads].sort(compare)]
  const hint =
    names.length > 0
      ? `; in ${namespace}: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''}`
      : index.namespaceLabels.has(namespace)
        ? `; namespace ${namespace} has no pod`
        : `; no namespace ${namespace} in the input`
  const what = kind === undefined ? 'pod or workload' : kind
  return `no ${what} "${name}" in namespace "${namespace}"${hint}`
}
