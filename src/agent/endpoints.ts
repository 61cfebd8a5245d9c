/**
 * The agent's HTTP endpoints (edge): /healthz, and /metrics on the same address or on its own. An error
 * a server meets is a fault (reported, never fatal).
 */
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { type HealthReport, type RunningServer, serveEndpoints } from './http-server.js'
import type { ListenAddress } from './options.js'

export interface AgentEndpoints {
  /** Ports actually bound (0 when not serving). */
  readonly healthPort: number
  readonly metricsPort: number
  readonly close: () => Promise<void>
}

const where = (a: ListenAddress, port: number) =>
  `${a.host === '' ? '*' : a.host.includes(':') ? `[${a.host}]` : a.host}:${port}`

/** Starts the endpoints; when one cannot listen, closes what it opened and throws. */
export async function serveAgentEndpoints(o: {
  /** undefined = no health endpoint. */
  readonly healthAddr?: ListenAddress
  /** undefined = /metrics is served on the health endpoint. */
  readonly metricsAddr?: ListenAddress
  readonly health: () => HealthReport
  readonly registry: Registry
  readonly onError: (err: unknown) => void
  readonly log: Logger
}): Promise<AgentEndpoints> {
  const servers: RunningServer[] = []
  const close = async () => {
    for (const s of servers) await s.close()
  }
  let healthPort = 0
  let metricsPort = 0
  try {
    const serveOpts = { onError: o.onError }
    if (o.healthAddr) {
      const s = await serveEndpoints(
        o.healthAddr,
        { health: o.health, ...(o.metricsAddr ? {} : { metrics: o.registry }) },
        serveOpts,
      )
      servers.push(s)
      healthPort = s.port
      if (!o.metricsAddr) metricsPort = s.port
      o.log.info(
        {
          addr: where(o.healthAddr, s.port),
          paths: o.metricsAddr ? ['/healthz'] : ['/healthz', '/metrics'],
        },
        'serving',
      )
    }
    if (o.metricsAddr) {
      const s = await serveEndpoints(o.metricsAddr, { metrics: o.registry }, serveOpts)
      servers.push(s)
      metricsPort = s.port
      o.log.info({ addr: where(o.metricsAddr, s.port), paths: ['/metrics'] }, 'serving')
    }
  } catch (err) {
    await close()
    throw err
  }
  return { healthPort, metricsPort, close }
}
