/**
 * The node's pod ranges for the agent (docs/semantics.md#unknown-local-pods): a list+watch of this
 * node's own Node object only (`fieldSelector=metadata.name=NODE`; RBAC nodes get/list/watch), read with
 * the API server's checks (src/load/pod-ranges.ts). Never shrinks enforcement: a Node whose podCIDRs are
 * missing or refused, or a deleted Node, keeps the last good ranges (reported once per version).
 * The state transitions are pure (`nextPodRanges`); the loop is the edge.
 */
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { readNodePodRanges } from '../load/index.js'
import type { JsonObject } from '../model/index.js'
import { isRecord, KubeHttpError, kubeList, kubeWatch, type WatchHandle } from './kube-client.js'

/** What one Node version does to the ranges in force. */
export interface PodRangesStep {
  /** The ranges in force after this version (canonical CIDRs, IPv4 first); undefined = none known yet. */
  readonly ranges: readonly string[] | undefined
  /** The ranges changed. */
  readonly changed: boolean
  /** Why this version's ranges were not taken (empty when they were, or when it gave none). */
  readonly problems: readonly string[]
  /** This version gave no pod range at all (kept the previous ones, if any). */
  readonly missing: boolean
}

/** Returns the ranges in force after seeing `node` (pure): valid ones replace, bad or missing ones keep `prev`. */
export function nextPodRanges(prev: readonly string[] | undefined, node: JsonObject): PodRangesStep {
  const r = readNodePodRanges(node)
  if (r.problems.length > 0)
    return {
      ranges: prev,
      changed: false,
      problems: r.problems.map((p) => `${p.path.join('.')}: ${p.message}`),
      missing: false,
    }
  if (r.ranges.length === 0) return { ranges: prev, changed: false, problems: [], missing: true }
  const next = r.ranges.map((x) => x.cidr)
  const changed = prev === undefined || prev.join(' ') !== next.join(' ')
  return { ranges: changed ? next : prev, changed, problems: [], missing: false }
}

export interface NodeRangesWatcher {
  /** The ranges in force (undefined: none known yet). */
  readonly ranges: () => readonly string[] | undefined
  /** Resolves after the first list of the Node (whatever it held); never rejects. */
  readonly listed: Promise<void>
  readonly stop: () => void
}

/** Watches this node's Node object; `onChange` is called when the ranges in force change. */
export function watchNodeRanges(o: {
  readonly kc: KubeConfig
  readonly node: string
  readonly log: Logger
  readonly onChange: () => void
  readonly backoffInitialMs?: number
  readonly backoffMaxMs?: number
}): NodeRangesWatcher {
  const path = '/api/v1/nodes'
  const selector = `metadata.name=${o.node}`
  let ranges: readonly string[] | undefined
  let rv = ''
  let stopped = false
  let failures = 0
  let timer: NodeJS.Timeout | undefined
  let watch: WatchHandle | undefined
  let lastReported = ''
  let resolveListed: () => void = () => undefined
  const listed = new Promise<void>((resolve) => {
    resolveListed = resolve
  })

  const see = (node: unknown) => {
    if (!isRecord(node)) return
    const step = nextPodRanges(ranges, node as JsonObject)
    const version = JSON.stringify([step.problems, step.missing])
    if (step.changed) {
      ranges = step.ranges
      o.log.info({ node: o.node, podCIDRs: ranges }, 'node pod ranges (Node spec.podCIDRs)')
      o.onChange()
    } else if (version !== lastReported && (step.problems.length > 0 || step.missing)) {
      o.log.warn(
        { node: o.node, problems: step.problems, kept: ranges ?? null },
        step.missing
          ? 'Node gives no spec.podCIDRs: pod ranges kept as they were'
          : 'Node spec.podCIDRs would be refused by the API server: the last good pod ranges are kept',
      )
    }
    lastReported = version
  }
  const schedule = (ms: number) => {
    clearTimeout(timer)
    if (!stopped) timer = setTimeout(() => void cycle(), ms)
  }
  const failed = (err: unknown) => {
    failures++
    const base = Math.min(o.backoffMaxMs ?? 30_000, (o.backoffInitialMs ?? 200) * 2 ** (failures - 1))
    const retryInMs = Math.round(base * (0.8 + 0.4 * Math.random()))
    o.log.warn({ err: String(err instanceof Error ? err.message : err), retryInMs }, 'Node watch failed')
    schedule(retryInMs)
  }
  const cycle = async () => {
    if (stopped) return
    if (rv === '') {
      try {
        const res = await kubeList(o.kc, `${path}?fieldSelector=${encodeURIComponent(selector)}`)
        for (const item of res.items) see(item)
        rv = res.resourceVersion
        failures = 0
      } catch (err) {
        resolveListed()
        failed(err)
        return
      }
      resolveListed()
    }
    if (stopped) return
    const opened = Date.now()
    watch = kubeWatch(
      o.kc,
      path,
      { watch: 'true', resourceVersion: rv, fieldSelector: selector, timeoutSeconds: '300' },
      {
        onLine: (line) => {
          let ev: unknown
          try {
            ev = JSON.parse(line)
          } catch {
            return
          }
          if (!isRecord(ev)) return
          const obj = isRecord(ev.object) ? ev.object : undefined
          const meta = obj && isRecord(obj.metadata) ? obj.metadata : undefined
          if (typeof meta?.resourceVersion === 'string' && ev.type !== 'ERROR') rv = meta.resourceVersion
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED') see(obj)
          else if (ev.type === 'ERROR') {
            // 410 Gone and every other error: list again
            rv = ''
            watch?.close()
            watch = undefined
            schedule(obj?.code === 410 ? 0 : 1000)
          }
          // DELETED: the ranges stay (never shrink enforcement)
        },
        onOverlong: () => undefined,
        onDone: (err) => {
          watch = undefined
          if (stopped) return
          if (err !== undefined) {
            if (err instanceof KubeHttpError && err.statusCode === 410) rv = ''
            failed(err)
          } else if (Date.now() - opened < 1000)
            failed(new Error('the watch was closed by the server at once'))
          else schedule(0)
        },
      },
      { idleTimeoutMs: 360_000 },
    )
  }
  schedule(0)
  return {
    ranges: () => ranges,
    listed,
    stop: () => {
      stopped = true
      clearTimeout(timer)
      watch?.close()
      resolveListed()
    },
  }
}
