/**
 * Reads a live cluster as manifest inputs (edge), for every command that analyses one (check, matrix,
 * explain, lint, diff, serve, report...): lists Namespaces, Nodes, Pods, NetworkPolicies, the workloads
 * (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs) and the policy kinds of other
 * vendors Palisade warns about, page by page (limit/continue), with the credentials of a kubeconfig or
 * of the in-cluster service account, through @kubernetes/client-node (KubeConfig: auth, TLS, exec
 * plugins, proxies). Each object comes back as one JSON input named `cluster/<kind>/<namespace>/<name>.json`,
 * exactly as the API server sent it, so that the loader, the validator and every file:line work as for files.
 */
import type { KubeConfig } from '@kubernetes/client-node'
import type { InputText } from '../load/index.js'
import { type Diagnostic, KINDS, kindPath } from '../model/index.js'
import type { ReadInputs } from './inputs.js'

export interface KubeInputsOptions {
  readonly kubeconfig: KubeConfig
  /** Per-request time limit (default 60 s). */
  readonly timeoutMs?: number
  /** Objects per page (default 500, as kubectl). */
  readonly pageSize?: number
  /** Called after each page with the kind and how many of its objects were read so far. */
  readonly onProgress?: (kind: string, count: number, done: boolean) => void
}

interface KindToList {
  readonly kind: string
  readonly apiVersion: string
  /** Path of the list over every namespace. */
  readonly path: string
  /**
   * What a failure means: 'required' is an error; 'optional' (a server or user without the apps, batch
   * or nodes API) a warning; 'crd' (another vendor's policy kind, usually not installed) nothing on 404.
   */
  readonly need: 'required' | 'optional' | 'crd'
}

/** Kinds every analysis needs: listing them may not fail. */
const REQUIRED: ReadonlySet<string> = new Set(['Namespace', 'Pod', 'NetworkPolicy'])

/**
 * What is listed: the kinds Palisade reads (from the one kinds table, src/model/kinds.ts; not
 * ReplicationControllers, long replaced by Deployments) and the policy kinds of other vendors.
 */
const LISTED: readonly KindToList[] = [
  ...KINDS.filter((k) => k.kind !== 'ReplicationController').map((k) => ({
    kind: k.kind,
    apiVersion: k.served,
    path: kindPath(k.kind),
    // ClusterNetworkPolicy is a CRD: a cluster without it simply has none.
    need: REQUIRED.has(k.kind)
      ? ('required' as const)
      : k.kind === 'ClusterNetworkPolicy'
        ? ('crd' as const)
        : ('optional' as const),
  })),
  ...(
    [
      // An older network-policy-api CRD serves ClusterNetworkPolicy in v1alpha2 only: read there when
      // v1beta1 is not served (the same objects otherwise; see below).
      ['policy.networking.k8s.io/v1alpha2', 'ClusterNetworkPolicy', 'clusternetworkpolicies'],
      ['policy.networking.k8s.io/v1alpha1', 'AdminNetworkPolicy', 'adminnetworkpolicies'],
      ['policy.networking.k8s.io/v1alpha1', 'BaselineAdminNetworkPolicy', 'baselineadminnetworkpolicies'],
      ['cilium.io/v2', 'CiliumNetworkPolicy', 'ciliumnetworkpolicies'],
      ['cilium.io/v2', 'CiliumClusterwideNetworkPolicy', 'ciliumclusterwidenetworkpolicies'],
      ['crd.projectcalico.org/v1', 'NetworkPolicy', 'networkpolicies'],
      ['crd.projectcalico.org/v1', 'GlobalNetworkPolicy', 'globalnetworkpolicies'],
      ['crd.antrea.io/v1beta1', 'NetworkPolicy', 'networkpolicies'],
      ['crd.antrea.io/v1beta1', 'ClusterNetworkPolicy', 'clusternetworkpolicies'],
    ] as const
  ).map(([apiVersion, kind, plural]) => ({
    kind,
    apiVersion,
    path: `/apis/${apiVersion}/${plural}`,
    need: 'crd' as const,
  })),
]

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Keeps ClusterNetworkPolicy lists of one version: v1alpha2 only when v1beta1 could not be listed (a server
 * with both serves the same objects twice; an older CRD serves v1alpha2 alone).
 */
export function oneClusterPolicyVersion<
  T extends { readonly k: { readonly kind: string; readonly apiVersion: string } },
>(listed: readonly T[]): T[] {
  const beta = listed.find((r) => r.k.kind === 'ClusterNetworkPolicy' && r.k.apiVersion.endsWith('/v1beta1'))
  const betaListed = beta !== undefined && 'items' in beta
  return listed.filter(
    (r) => !(betaListed && r.k.kind === 'ClusterNetworkPolicy' && r.k.apiVersion.endsWith('/v1alpha2')),
  )
}

/** Reads the cluster's objects as inputs, sorted by file name; failures become diagnostics. */
export async function readClusterInputs(opts: KubeInputsOptions): Promise<ReadInputs> {
  const { kubeRequest } = await import('../agent/kube-client.js')
  const kc = opts.kubeconfig
  const server = kc.getCurrentCluster()?.server ?? '<no cluster>'
  const timeoutMs = opts.timeoutMs ?? 60_000
  const limit = opts.pageSize ?? 500
  const inputs: InputText[] = []
  const diagnostics: Diagnostic[] = []
  const encoder = new TextEncoder()

  /** Lists one kind page by page; returns its items or throws with the status code. */
  const listAll = async (k: KindToList): Promise<unknown[]> => {
    const items: unknown[] = []
    let token = ''
    do {
      const query = new URLSearchParams({ limit: String(limit) })
      if (token) query.set('continue', token)
      const res = await kubeRequest(kc, 'GET', `${k.path}?${query}`, undefined, timeoutMs)
      if (res.status !== 200) {
        const msg = isRecord(res.body) && typeof res.body.message === 'string' ? res.body.message : ''
        throw Object.assign(new Error(msg || `HTTP ${res.status}`), { status: res.status })
      }
      const body = res.body
      if (!isRecord(body) || !Array.isArray(body.items)) throw new Error('the answer is not a list')
      items.push(...body.items)
      const meta = isRecord(body.metadata) ? body.metadata : {}
      token = typeof meta.continue === 'string' ? meta.continue : ''
      opts.onProgress?.(k.kind, items.length, token === '')
    } while (token)
    return items
  }

  const listed = await Promise.all(
    LISTED.map(async (k) => {
      try {
        return { k, items: await listAll(k) }
      } catch (err) {
        return { k, err }
      }
    }),
  )
  // ClusterNetworkPolicy in v1alpha2 only when v1beta1 could not be listed (one object, two versions).
  const beta = listed.find((r) => r.k.kind === 'ClusterNetworkPolicy' && r.k.apiVersion.endsWith('/v1beta1'))
  const results = listed.filter(
    (r) =>
      !(
        r.k.kind === 'ClusterNetworkPolicy' &&
        r.k.apiVersion.endsWith('/v1alpha2') &&
        beta &&
        'items' in beta
      ),
  )
  for (const r of results) {
    if ('err' in r) {
      const status = (r.err as { status?: unknown }).status
      if (r.k.need === 'crd' && (status === 404 || status === 403)) continue
      const message = r.err instanceof Error ? (r.err.message.split('\n')[0] ?? '') : String(r.err)
      diagnostics.push({
        code: 'input.unreadable',
        severity: r.k.need === 'required' ? 'error' : 'warning',
        message: `listing ${r.k.kind} objects failed${typeof status === 'number' ? ` (HTTP ${status})` : ''}: ${message}${r.k.need === 'required' ? '' : `: the analysis goes on without ${r.k.kind} objects`}`,
        path: [],
        source: { file: server },
      })
      continue
    }
    const group = r.k.apiVersion.includes('/')
      ? `.${r.k.apiVersion.slice(0, r.k.apiVersion.indexOf('/'))}`
      : ''
    for (const item of r.items) {
      if (!isRecord(item)) continue
      const metadata = isRecord(item.metadata) ? { ...item.metadata } : {}
      delete metadata.managedFields
      // List items carry no kind/apiVersion on the wire: they are the list's.
      const object = { ...item, apiVersion: r.k.apiVersion, kind: r.k.kind, metadata }
      const ns = typeof metadata.namespace === 'string' ? metadata.namespace : ''
      const name = typeof metadata.name === 'string' ? metadata.name : '_'
      const kindDir = `${r.k.kind.toLowerCase()}${r.k.need === 'crd' ? group : ''}`
      const file = `cluster/${kindDir}/${ns === '' ? name : `${ns}/${name}`}.json`
      inputs.push({ file, text: encoder.encode(`${JSON.stringify(object, null, 2)}\n`) })
    }
  }
  inputs.sort((a, b) => compare(a.file, b.file))
  return { inputs, diagnostics }
}

/** Where the cluster comes from: a kubeconfig file (or the default rules), a context. */
export interface ClusterSource {
  /** A kubeconfig file; undefined or '' = $KUBECONFIG, ~/.kube/config, else the in-cluster service account. */
  readonly kubeconfig?: string
  readonly context?: string
}

/**
 * Loads the kubeconfig of a source (the official client's loading rules). Returns an error message when
 * it cannot be loaded or names no cluster.
 */
export async function loadKubeConfigFrom(source: ClusterSource): Promise<KubeConfig | string> {
  const { KubeConfig } = await import('@kubernetes/client-node')
  const kc = new KubeConfig()
  try {
    if (source.kubeconfig) kc.loadFromFile(source.kubeconfig)
    else kc.loadFromDefault()
    if (source.context) {
      if (!kc.getContextObject(source.context)) throw new Error(`no context "${source.context}"`)
      kc.setCurrentContext(source.context)
    }
    if (!kc.getCurrentCluster())
      throw new Error('no current cluster (no kubeconfig found, and not running in a cluster)')
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
  return kc
}

/**
 * Reads a live cluster as inputs (the shared entry for every command): a kubeconfig that cannot be
 * loaded is a diagnostic, not an exception. `progress` receives one line per update for big clusters.
 */
export async function readCluster(
  source: ClusterSource,
  progress?: (line: string, done: boolean) => void,
  pageSize?: number,
): Promise<ReadInputs> {
  const kc = await loadKubeConfigFrom(source)
  if (typeof kc === 'string') {
    return {
      inputs: [],
      diagnostics: [
        {
          code: 'input.unreadable',
          severity: 'error',
          message: `kubeconfig: ${kc}`,
          path: [],
          source: { file: source.kubeconfig || 'kubeconfig' },
        },
      ],
    }
  }
  const counts = new Map<string, number>()
  let shown = false
  const report = (kind: string, count: number, done: boolean) => {
    counts.set(kind, count)
    const total = [...counts.values()].reduce((a, b) => a + b, 0)
    // Only a cluster big enough to need several pages gets a progress line.
    if (!progress || (!shown && done)) return
    shown = true
    const pods = counts.get('Pod') ?? 0
    progress(`reading ${kc.getCurrentCluster()?.server}: ${total} objects (${pods} pods)`, false)
  }
  const read = await readClusterInputs({
    kubeconfig: kc,
    onProgress: report,
    ...(pageSize === undefined ? {} : { pageSize }),
  })
  if (shown && progress)
    progress(`read ${read.inputs.length} objects from ${kc.getCurrentCluster()?.server}`, true)
  return read
}
