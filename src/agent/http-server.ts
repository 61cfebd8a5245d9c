/** The agent's HTTP endpoints: /healthz (liveness) and /metrics (Prometheus text). Edge. */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import type { ListenAddress } from './options.js'

export interface HealthReport {
  readonly healthy: boolean
  /** One line per check, e.g. "caches synced: yes". */
  readonly details: readonly string[]
}

export interface EndpointHandlers {
  readonly health?: () => HealthReport
  readonly metrics?: Registry
}

export interface RunningServer {
  readonly port: number
  readonly close: () => Promise<void>
}

/** Serves the given endpoints on addr; resolves once listening. */
export async function serveEndpoints(addr: ListenAddress, h: EndpointHandlers): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end()
      return
    }
    if (path === '/healthz' && h.health) {
      const r = h.health()
      res.writeHead(r.healthy ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' })
      res.end(`${r.healthy ? 'ok' : 'unhealthy'}\n${r.details.join('\n')}\n`)
      return
    }
    if (path === '/metrics' && h.metrics) {
      const registry = h.metrics
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType })
          res.end(text)
        },
        (err: unknown) => {
          res.writeHead(500).end(String(err))
        },
      )
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    if (addr.host === '') server.listen(addr.port, () => resolve())
    else server.listen(addr.port, addr.host, () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
