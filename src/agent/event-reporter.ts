/**
 * Reports objects that fail validation: one log line, and a Kubernetes Event on the object where
 * RBAC allows (create events in its namespace). Events are best effort: failures are ignored, and
 * each object version is reported once per agent.
 */
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { formatPath, type JsonObject } from '../model/index.js'
import { kubeRequest } from './kube-client.js'
import type { InvalidObject } from './object-store.js'

function meta(value: JsonObject): Record<string, string> {
  const m = value.metadata
  const out: Record<string, string> = {}
  if (m && typeof m === 'object' && !Array.isArray(m)) {
    for (const k of ['name', 'namespace', 'uid', 'resourceVersion']) {
      const v = m[k]
      if (typeof v === 'string') out[k] = v
    }
  }
  return out
}

/** Returns the Event object (core/v1) that reports an invalid object. */
export function buildInvalidObjectEvent(inv: InvalidObject, node: string, now: Date): JsonObject {
  const m = meta(inv.value)
  const errors = inv.diagnostics.filter((d) => d.severity === 'error')
  const message = errors
    .map((d) => `${formatPath(d.path)}: ${d.message}`)
    .join('; ')
    .slice(0, 1000)
  const namespace = m.namespace ?? 'default'
  const ts = now.toISOString()
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${m.name ?? 'object'}.`, namespace },
    involvedObject: {
      apiVersion: typeof inv.value.apiVersion === 'string' ? inv.value.apiVersion : '',
      kind: inv.kind,
      ...(m.name ? { name: m.name } : {}),
      ...(m.namespace ? { namespace: m.namespace } : {}),
      ...(m.uid ? { uid: m.uid } : {}),
      ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
    },
    reason: 'PalisadeInvalidObject',
    message: `palisade skipped this object on node ${node}: ${message}`,
    type: 'Warning',
    source: { component: 'palisade-agent', host: node },
    reportingComponent: 'palisade-agent',
    reportingInstance: node,
    firstTimestamp: ts,
    lastTimestamp: ts,
    count: 1,
  }
}

/** Makes the onInvalid callback of the object store. */
export function createInvalidObjectReporter(o: {
  readonly log: Logger
  readonly node: string
  readonly kc?: KubeConfig
}): (inv: InvalidObject) => void {
  const seen = new Set<string>()
  return (inv) => {
    const m = meta(inv.value)
    const id = `${inv.kind}/${m.namespace ?? ''}/${m.name ?? ''}@${m.resourceVersion ?? JSON.stringify(inv.value).length}`
    if (seen.has(id)) return
    if (seen.size > 10_000) seen.clear()
    seen.add(id)
    o.log.warn(
      {
        kind: inv.kind,
        object: `${m.namespace ? `${m.namespace}/` : ''}${m.name ?? ''}`,
        diagnostics: inv.diagnostics.map((d) => ({
          code: d.code,
          path: formatPath(d.path),
          message: d.message,
          severity: d.severity,
        })),
      },
      'invalid object skipped',
    )
    const kc = o.kc
    if (!kc) return
    const event = buildInvalidObjectEvent(inv, o.node, new Date())
    const ns = (event.metadata as Record<string, string>).namespace as string
    kubeRequest(kc, 'POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/events`, event, 10_000).then(
      (r) => {
        if (r.status >= 300) o.log.debug({ status: r.status }, 'event not recorded')
      },
      () => undefined,
    )
  }
}
