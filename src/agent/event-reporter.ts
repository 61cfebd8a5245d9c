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

/** Says what the agent does with an invalid object, for Events and logs. */
export function actionText(inv: InvalidObject, node: string): string {
  const cfc = inv.failClosedCluster
  if (inv.action === 'fail-closed' && cfc?.mode === 'as-written')
    return `palisade on node ${node} enforces this policy as written (only its metadata failed validation)`
  if (inv.action === 'fail-closed' && cfc) {
    const dirs = cfc.directions.length > 0 ? cfc.directions.join(' and ') : 'no direction (it has no rules)'
    return `palisade on node ${node} cannot read this ClusterNetworkPolicy and never could, so it fails closed: everything is denied for its subject (${JSON.stringify(cfc.subject)}${cfc.subjectExact ? '' : ', widened: a superset'}) in ${dirs}, in the ${cfc.tier} tier at priority ${cfc.priority} (docs/semantics.md#agent-cnp-fail-closed)`
  }
  const fc = inv.failClosed
  if (inv.action === 'fail-closed' && fc?.mode === 'as-written')
    return `palisade on node ${node} enforces this policy as written (only its metadata failed validation)`
  if (inv.action === 'fail-closed' && fc) {
    const sel = JSON.stringify(fc.podSelector)
    return `palisade on node ${node} cannot read this policy's rules, so it fails closed: the pods it selects (podSelector ${sel}${fc.selectorExact ? '' : ', the parts it could read: a superset'}) are isolated for ${fc.policyTypes.join(' and ')} with no allow rule (docs/semantics.md#agent-fail-closed)`
  }
  if (inv.action === 'kept-last-valid')
    return `palisade on node ${node} keeps enforcing the last valid version of this object`
  return `palisade skipped this object on node ${node}`
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
    reason: inv.action === 'fail-closed' ? 'PalisadeFailClosed' : 'PalisadeInvalidObject',
    message: `${actionText(inv, node)}: ${message}`,
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
        action: actionText(inv, o.node),
        diagnostics: inv.diagnostics.map((d) => ({
          code: d.code,
          path: formatPath(d.path),
          message: d.message,
          severity: d.severity,
        })),
      },
      inv.action === 'fail-closed' ? 'invalid policy enforced fail-closed' : `invalid object: ${inv.action}`,
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

/** Returns the Event (core/v1, on this Node) that reports a list item or watch event the agent could not decode. */
export function buildUndecodableEvent(
  u: { readonly kind: string; readonly source: 'list' | 'watch'; readonly problem: string },
  node: string,
  now: Date,
): JsonObject {
  const ts = now.toISOString()
  const what = u.source === 'list' ? `${u.kind} list item` : `${u.kind} watch event`
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${node}.`, namespace: 'default' },
    involvedObject: { apiVersion: 'v1', kind: 'Node', name: node },
    reason: 'PalisadeUndecodableObject',
    message: `palisade on node ${node} skipped a ${what} it could not decode (${u.problem.slice(0, 500)}); nothing enforced was removed for it`,
    type: 'Warning',
    source: { component: 'palisade-agent', host: node },
    reportingComponent: 'palisade-agent',
    reportingInstance: node,
    firstTimestamp: ts,
    lastTimestamp: ts,
    count: 1,
  }
}

/**
 * Makes the reporter of undecodable list items and watch events: a log line every time, an Event on the
 * Node at most once per kind, source and problem every 10 minutes (a broken stream must not flood events).
 */
export function createUndecodableReporter(o: {
  readonly log: Logger
  readonly node: string
  readonly kc?: KubeConfig
}): (kind: string, source: 'list' | 'watch', problem: string) => void {
  const last = new Map<string, number>()
  return (kind, source, problem) => {
    o.log.warn({ kind, source, problem }, 'undecodable object skipped: nothing enforced is removed for it')
    const kc = o.kc
    if (!kc) return
    const now = Date.now()
    const key = `${kind}|${source}|${problem.replace(/^item \d+: /, '')}`
    if (now - (last.get(key) ?? Number.NEGATIVE_INFINITY) < 10 * 60_000) return
    if (last.size > 1000) last.clear()
    last.set(key, now)
    const event = buildUndecodableEvent({ kind, source, problem }, o.node, new Date(now))
    kubeRequest(kc, 'POST', '/api/v1/namespaces/default/events', event, 10_000).then(
      (r) => {
        if (r.status >= 300) o.log.debug({ status: r.status }, 'event not recorded')
      },
      () => undefined,
    )
  }
}
