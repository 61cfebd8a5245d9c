/**
 * The agent's HTTP endpoints (edge): /healthz, and /metrics on the same address or on its own. An error
 * a server meets is a fault (reported, never fatal). An address that cannot be bound (taken by another
 * hostNetwork daemon, or not permitted) is logged and retried with backoff: the agent keeps enforcing
 * without its endpoints rather than exiting and crash-looping.
 */
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import {
  type EndpointHandlers,
  type HealthReport,
  type RunningServer,
  serveEndpoints,
} from './http-server.js'
import type { ListenAddress } from './options.js'

export interface AgentEndpoints {
  /** Ports actually bound (0 when not serving, or not bound yet). */
  readonly healthPort: number
  readonly metricsPort: number
  readonly close: () => Promise<void>
}

/** Bind errors that another process or the node's policy causes: retried, never fatal. */
const RETRIED_BIND_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL'])

export interface BindRetry {
  /** First wait after a failed bind (default 1 s); doubled on each failure up to maxMs (default 30 s). */
  readonly initialMs: number
  readonly maxMs: number
}

const DEFAULT_RETRY: BindRetry = { initialMs: 1000, maxMs: 30_000 }

const where = (a: ListenAddress, port: number) =>
  `${a.host === '' ? '*' : a.host.includes(':') ? `[${a.host}]` : a.host}:${port}`

/**
 * Starts the endpoints. An address refused with EADDRINUSE, EACCES or EADDRNOTAVAIL is logged (one
 * warning per attempt, naming the address and the error) and retried in the background with backoff
 * until it binds or close() is called; any other listen error closes what was opened and throws.
 */
export async function serveAgentEndpoints(o: {
  /** undefined = no health endpoint. */
  readonly healthAddr?: ListenAddress
  /** undefined = /metrics is served on the health endpoint. */
  readonly metricsAddr?: ListenAddress
  readonly health: () => HealthReport
  readonly registry: Registry
  readonly onError: (err: unknown) => void
  readonly log: Logger
  readonly retry?: BindRetry
}): Promise<AgentEndpoints> {
  const retry = o.retry ?? DEFAULT_RETRY
  const servers: RunningServer[] = []
  const timers = new Set<NodeJS.Timeout>()
  let closed = false
  const close = async () => {
    closed = true
    for (const t of timers) clearTimeout(t)
    timers.clear()
    for (const s of servers) await s.close()
  }
  let healthPort = 0
  let metricsPort = 0
  const serveOpts = { onError: o.onError }

  /** Binds addr now, or logs and retries in the background; throws only on an error not retried. */
  const start = async (
    addr: ListenAddress,
    what: string,
    handlers: EndpointHandlers,
    paths: string[],
    bound: (port: number) => void,
  ): Promise<void> => {
    let waitMs = retry.initialMs
    const attempt = async (): Promise<boolean> => {
      try {
        const s = await serveEndpoints(addr, handlers, serveOpts)
        if (closed) {
          await s.close()
          return true
        }
        servers.push(s)
        bound(s.port)
        o.log.info({ addr: where(addr, s.port), paths }, 'serving')
        return true
      } catch (err) {
        const code = (err as NodeJS.ErrnoException | undefined)?.code
        if (code === undefined || !RETRIED_BIND_ERRORS.has(code)) throw err
        o.log.warn(
          { addr: where(addr, addr.port), code, retryInMs: waitMs, paths },
          `cannot listen on the ${what} address ${where(addr, addr.port)} (${code}${code === 'EADDRINUSE' ? ': another process on this node holds the port; choose another with --' + what + '-addr' : ''}): retrying, rules stay in force`,
        )
        return false
      }
    }
    if (await attempt()) return
    const again = () => {
      if (closed) return
      const t = setTimeout(() => {
        timers.delete(t)
        attempt().then(
          (ok) => {
            if (!ok) again()
          },
          (err: unknown) => o.onError(err),
        )
      }, waitMs)
      timers.add(t)
      waitMs = Math.min(waitMs * 2, retry.maxMs)
    }
    again()
  }

  try {
    if (o.healthAddr) {
      await start(
        o.healthAddr,
        'health',
        { health: o.health, ...(o.metricsAddr ? {} : { metrics: o.registry }) },
        o.metricsAddr ? ['/healthz', '/readyz'] : ['/healthz', '/readyz', '/metrics'],
        (port) => {
          healthPort = port
          if (!o.metricsAddr) metricsPort = port
        },
      )
    }
    if (o.metricsAddr) {
      await start(o.metricsAddr, 'metrics', { metrics: o.registry }, ['/metrics'], (port) => {
        metricsPort = port
      })
    }
  } catch (err) {
    await close()
    throw err
  }
  return {
    get healthPort() {
      return healthPort
    },
    get metricsPort() {
      return metricsPort
    },
    close,
  }
}
