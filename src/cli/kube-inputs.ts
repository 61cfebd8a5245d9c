/**
 * Reads a live cluster as manifest inputs (edge): lists Namespaces, Pods, NetworkPolicies and the
 * workloads that own pods through @kubernetes/client-node, and hands each object back as one YAML input
 * named `cluster/<kind>/<namespace>/<name>.yaml`, so the loader, the validator and every file:line work
 * exactly as for files. One function, meant to be replaced by the general live-cluster reader (issue 11).
 */
import { AppsV1Api, BatchV1Api, CoreV1Api, type KubeConfig, NetworkingV1Api } from '@kubernetes/client-node'
import { stringify } from 'yaml'
import type { InputText } from '../load/index.js'
import type { Diagnostic } from '../model/index.js'
import type { ReadInputs } from './inputs.js'

export interface KubeInputsOptions {
  readonly kubeconfig: KubeConfig
  /** Per-list time limit (default 30 s). */
  readonly timeoutMs?: number
}

interface Listed {
  readonly items?: readonly unknown[]
}

/** The typed client renames a few fields that are JavaScript words; the wire names come back here. */
const WIRE_NAMES: Readonly<Record<string, string>> = {
  _from: 'from',
  _continue: 'continue',
  _default: 'default',
  _enum: 'enum',
  _int: 'int',
}

/** Turns a typed client object back into the API server's JSON (wire names, dates as RFC 3339 text). */
function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z')
  if (Array.isArray(value)) return value.map(toWire)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue
      out[WIRE_NAMES[k] ?? k] = toWire(v)
    }
    return out
  }
  return value
}

const KINDS: readonly {
  readonly kind: string
  readonly apiVersion: string
  /** Workload kinds are optional: a server that does not serve them is not an error. */
  readonly optional: boolean
  readonly list: (kc: KubeConfig) => Promise<Listed>
}[] = [
  {
    kind: 'Namespace',
    apiVersion: 'v1',
    optional: false,
    list: (kc) => kc.makeApiClient(CoreV1Api).listNamespace(),
  },
  {
    kind: 'Pod',
    apiVersion: 'v1',
    optional: false,
    list: (kc) => kc.makeApiClient(CoreV1Api).listPodForAllNamespaces(),
  },
  {
    kind: 'NetworkPolicy',
    apiVersion: 'networking.k8s.io/v1',
    optional: false,
    list: (kc) => kc.makeApiClient(NetworkingV1Api).listNetworkPolicyForAllNamespaces(),
  },
  {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    optional: true,
    list: (kc) => kc.makeApiClient(AppsV1Api).listDeploymentForAllNamespaces(),
  },
  {
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    optional: true,
    list: (kc) => kc.makeApiClient(AppsV1Api).listReplicaSetForAllNamespaces(),
  },
  {
    kind: 'StatefulSet',
    apiVersion: 'apps/v1',
    optional: true,
    list: (kc) => kc.makeApiClient(AppsV1Api).listStatefulSetForAllNamespaces(),
  },
  {
    kind: 'DaemonSet',
    apiVersion: 'apps/v1',
    optional: true,
    list: (kc) => kc.makeApiClient(AppsV1Api).listDaemonSetForAllNamespaces(),
  },
  {
    kind: 'Job',
    apiVersion: 'batch/v1',
    optional: true,
    list: (kc) => kc.makeApiClient(BatchV1Api).listJobForAllNamespaces(),
  },
  {
    kind: 'CronJob',
    apiVersion: 'batch/v1',
    optional: true,
    list: (kc) => kc.makeApiClient(BatchV1Api).listCronJobForAllNamespaces(),
  },
]

const statusOf = (err: unknown): number | undefined => {
  const code = (err as { code?: unknown }).code
  return typeof code === 'number' ? code : undefined
}

/** Reads the cluster's objects as inputs, sorted by kind, namespace and name; failures become diagnostics. */
export async function readClusterInputs(opts: KubeInputsOptions): Promise<ReadInputs> {
  const server = opts.kubeconfig.getCurrentCluster()?.server ?? '<no cluster>'
  const inputs: InputText[] = []
  const diagnostics: Diagnostic[] = []
  const timeoutMs = opts.timeoutMs ?? 30_000
  const results = await Promise.all(
    KINDS.map(async (k) => {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
      })
      try {
        return { k, list: await Promise.race([k.list(opts.kubeconfig), timeout]) }
      } catch (err) {
        return { k, err }
      } finally {
        clearTimeout(timer)
      }
    }),
  )
  for (const r of results) {
    if ('err' in r) {
      const status = statusOf(r.err)
      // A server without the apps or batch API (or without the right to list it) still has pods.
      if (r.k.optional && (status === 404 || status === 403)) continue
      const message = r.err instanceof Error ? r.err.message.split('\n')[0] : String(r.err)
      diagnostics.push({
        code: 'input.unreadable',
        severity: 'error',
        message: `listing ${r.k.kind} objects failed${status ? ` (HTTP ${status})` : ''}: ${message}`,
        path: [],
        source: { file: server },
      })
      continue
    }
    for (const item of r.list.items ?? []) {
      const wire = toWire(item) as { metadata?: Record<string, unknown> } & Record<string, unknown>
      // A workload scaled to zero (old ReplicaSets of every Deployment) runs no pod: nothing to analyse.
      if (r.k.optional && (wire.spec as { replicas?: unknown } | undefined)?.replicas === 0) continue
      const metadata = { ...(wire.metadata ?? {}) }
      delete metadata.managedFields
      const object = { apiVersion: r.k.apiVersion, kind: r.k.kind, ...wire, metadata }
      const ns = typeof metadata.namespace === 'string' ? metadata.namespace : '_'
      const name = typeof metadata.name === 'string' ? metadata.name : '_'
      const file = `cluster/${r.k.kind.toLowerCase()}/${r.k.kind === 'Namespace' ? name : `${ns}/${name}`}.yaml`
      inputs.push({ file, text: new TextEncoder().encode(stringify(object, { lineWidth: 0 })) })
    }
  }
  inputs.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
  return { inputs, diagnostics }
}
