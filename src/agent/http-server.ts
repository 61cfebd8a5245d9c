/**
 * The agent's HTTP endpoints: /healthz (liveness) and /metrics (Prometheus text). Edge.
 *
 * The agent runs with hostNetwork, so whatever this server binds is reachable from wherever the node
 * is: it reads only GET/HEAD without a body, parses the request target by hand (never `new URL` on
 * client input), holds a bounded number of connections for a bounded time, and answers 400/405/431/500
 * instead of throwing. Nothing a client sends can end the process.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import type { ListenAddress } from './options.js'

export interface HealthReport {
  readonly healthy: boolean
  /** Ready (/readyz) = the first ruleset was applied; it stays true (liveness watches staleness). */
  readonly ready?: boolean
  /** One line per check, e.g. "caches synced: yes". */
  readonly details: readonly string[]
}

export interface EndpointHandlers {
  readonly health?: () => HealthReport
  readonly metrics?: Registry
}

export interface ServeOptions {
  /** Connections held at once; more are closed at once (default 16). */
  readonly maxConnections?: number
  /** Time to receive the request headers (default 5 s). */
  readonly headersTimeoutMs?: number
  /** Time to receive the whole request (default 10 s). */
  readonly requestTimeoutMs?: number
  /** How often those two limits are checked (default 1 s). */
  readonly checkIntervalMs?: number
  /** Idle time before a kept-alive connection is closed (default 5 s). */
  readonly keepAliveMs?: number
  /** Largest request head accepted (default 8 KiB); larger gets 431. */
  readonly maxHeaderBytes?: number
  /** Told about a handler that threw (the client got a 500). */
  readonly onError?: (err: unknown) => void
}

export interface RunningServer {
  readonly port: number
  /** Connections open now. */
  readonly connections: () => number
  readonly close: () => Promise<void>
}

/** RFC 3986 pchar (unreserved, pct-encoded, sub-delims, ':' '@') plus '/' for path and '?' for query. */
const PATH = "[A-Za-z0-9\\-._~!$&'()*+,;=:@%/]"
const ORIGIN_FORM = new RegExp(`^(/${PATH}*)(?:\\?(?:${PATH}|\\?)*)?$`)
const ABSOLUTE_FORM = /^https?:\/\/[A-Za-z0-9\-._~!$&'()*+,;=:@%[\]]*(?=\/|\?|$)/i

/**
 * Returns the path of a request target (origin-form `/p?q`, or absolute-form `http://host/p` that
 * HTTP/1.1 servers must accept), or undefined when the target is malformed. Only characters RFC 3986
 * allows pass; percent escapes are left as they are (no endpoint has one in its path).
 */
export function requestPath(target: string): string | undefined {
  let t = target
  const abs = ABSOLUTE_FORM.exec(t)
  if (abs) {
    const host = abs[0].slice(abs[0].indexOf('//') + 2)
    // brackets only around a whole IPv6 literal
    if (/[[\]]/.test(host) && !/^\[[0-9A-Fa-f:.]+\](:\d*)?$/.test(host.replace(/^[^@]*@/, '')))
      return undefined
    t = t.slice(abs[0].length)
    if (t === '' || t.startsWith('?')) t = `/${t}`
  }
  const m = ORIGIN_FORM.exec(t)
  return m ? m[1] : undefined
}

function answer(
  res: http.ServerResponse,
  status: number,
  text: string,
  headers: http.OutgoingHttpHeaders = {},
) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers })
  res.end(text)
}

/** Serves the given endpoints on addr; resolves once listening. */
export async function serveEndpoints(
  addr: ListenAddress,
  h: EndpointHandlers,
  o: ServeOptions = {},
): Promise<RunningServer> {
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      answer(res, 405, 'method not allowed\n', { allow: 'GET, HEAD', connection: 'close' })
      return
    }
    const length = req.headers['content-length']
    if (req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) {
      answer(res, 400, 'a GET has no body\n', { connection: 'close' })
      return
    }
    const path = requestPath(req.url ?? '')
    if (path === undefined) {
      answer(res, 400, 'bad request target\n', { connection: 'close' })
      return
    }
    if (path === '/healthz' && h.health) {
      const r = h.health()
      answer(res, r.healthy ? 200 : 503, `${r.healthy ? 'ok' : 'unhealthy'}\n${r.details.join('\n')}\n`)
      return
    }
    if (path === '/readyz' && h.health) {
      const r = h.health()
      const ready = r.ready === true
      answer(res, ready ? 200 : 503, `${ready ? 'ready' : 'not ready'}\n${r.details.join('\n')}\n`)
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
          o.onError?.(err)
          if (!res.headersSent) answer(res, 500, 'metrics unavailable\n')
          else res.destroy()
        },
      )
      return
    }
    answer(res, 404, 'not found\n')
  }
  const server = http.createServer(
    {
      maxHeaderSize: o.maxHeaderBytes ?? 8192,
      headersTimeout: o.headersTimeoutMs ?? 5000,
      requestTimeout: o.requestTimeoutMs ?? 10_000,
      connectionsCheckingInterval: o.checkIntervalMs ?? 1000,
      keepAliveTimeout: o.keepAliveMs ?? 5000,
    },
    (req, res) => {
      try {
        handle(req, res)
      } catch (err) {
        o.onError?.(err)
        if (!res.headersSent) answer(res, 500, 'internal error\n', { connection: 'close' })
        else res.destroy()
      }
    },
  )
  server.maxConnections = o.maxConnections ?? 16
  server.maxRequestsPerSocket = 100
  // An idle connection (no request at all, so no request timeout yet) is closed too.
  server.setTimeout(o.requestTimeoutMs ?? 10_000, (socket) => socket.destroy())
  let open = 0
  server.on('connection', (socket) => {
    open++
    socket.once('close', () => open--)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    if (addr.host === '') server.listen(addr.port, () => resolve())
    else server.listen(addr.port, addr.host, () => resolve())
  })
  // After listening, a server error (EMFILE on accept...) is reported, never thrown.
  server.on('error', (err) => o.onError?.(err))
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => open,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
