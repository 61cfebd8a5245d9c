/**
 * The local web server of `palisade serve` (edge). It serves its own page, script and styles and a small
 * JSON API, nothing else: no file is served by path. Bad requests are answered (400, 404, 405, 414, 421)
 * and never crash it; requests whose Host header is not this server's are refused, so that a web page
 * elsewhere cannot read the cluster through DNS rebinding.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { WebAssets } from './assets.js'
import { renderServedPage } from './html.js'
import type { PageData } from './page-data.js'

export interface WebServerOptions {
  readonly host: string
  readonly port: number
  readonly title: string
  readonly assets: WebAssets
}

/** The state the page reads: the last data that loaded, and the error of the last load if it failed. */
export interface ServedState {
  readonly data?: PageData
  readonly error?: string
  /** Increases at every reload (the page fetches /api/data again when it changes). */
  readonly generation: number
}

const MAX_URL = 2048
const MAX_EVENT_STREAMS = 32

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

export class WebServer {
  private server: http.Server | undefined
  private readonly streams = new Set<http.ServerResponse>()
  private state: ServedState = { generation: 0 }
  private dataJSON: string | undefined
  private readonly page: string

  constructor(private readonly opts: WebServerOptions) {
    this.page = renderServedPage(opts.title)
  }

  /** The address the server listens on, e.g. http://127.0.0.1:8080/. */
  get url(): string {
    const addr = this.server?.address() as AddressInfo | null | undefined
    if (!addr) return ''
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
    return `http://${host}:${addr.port}/`
  }

  /** Replaces what the page shows and tells every open page to reload it. */
  update(state: { data?: PageData; error?: string }): void {
    const generation = this.state.generation + 1
    this.state = {
      ...(state.data ? { data: state.data } : this.state.data ? { data: this.state.data } : {}),
      ...(state.error ? { error: state.error } : {}),
      generation,
    }
    this.dataJSON = this.state.data ? JSON.stringify(this.state.data) : undefined
    for (const res of this.streams) res.write(`event: reload\ndata: ${generation}\n\n`)
  }

  /** Starts listening; rejects when the address is taken or cannot be bound. */
  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      try {
        this.handle(req, res)
      } catch (err) {
        // A bug in a handler answers 500; the server goes on.
        if (!res.headersSent)
          this.text(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`)
        else res.destroy()
      }
    })
    server.requestTimeout = 30_000
    server.headersTimeout = 10_000
    server.keepAliveTimeout = 5_000
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n')
      else socket.destroy()
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    this.server = server
  }

  /** Closes every event stream and stops listening. */
  async stop(): Promise<void> {
    for (const res of this.streams) res.end()
    this.streams.clear()
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Whether the Host header names this server (its address, localhost or a loopback address, with its port). */
  private hostAllowed(host: string | undefined): boolean {
    if (!host) return false
    const addr = this.server?.address() as AddressInfo | null | undefined
    if (!addr) return false
    const names = new Set([
      'localhost',
      '127.0.0.1',
      '[::1]',
      addr.family === 'IPv6' ? `[${addr.address}]` : addr.address,
    ])
    if (this.opts.host !== '' && this.opts.host !== '0.0.0.0' && this.opts.host !== '::')
      names.add(this.opts.host)
    const m = /^(.*):(\d+)$/.exec(host.toLowerCase())
    if (!m || Number(m[2]) !== addr.port) return false
    return names.has(m[1] as string) || this.opts.host === '0.0.0.0' || this.opts.host === '::'
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const raw = req.url ?? '/'
    if (raw.length > MAX_URL) return this.text(res, 414, 'URL too long')
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return this.text(res, 405, 'only GET and HEAD')
    }
    let path: string
    try {
      path = decodeURIComponent(new URL(raw, 'http://palisade.invalid').pathname)
    } catch {
      return this.text(res, 400, 'malformed URL')
    }
    if (!this.hostAllowed(req.headers.host))
      return this.text(res, 421, 'this server answers only to its own address')
    switch (path) {
      case '/':
      case '/index.html':
        return this.send(res, 200, 'text/html; charset=utf-8', this.page)
      case '/app.js':
        return this.send(res, 200, 'text/javascript; charset=utf-8', this.opts.assets.script)
      case '/app.css':
        return this.send(res, 200, 'text/css; charset=utf-8', this.opts.assets.css)
      case '/api/data':
        if (!this.dataJSON)
          return this.send(
            res,
            503,
            'application/json',
            JSON.stringify({ error: this.state.error ?? 'loading', generation: this.state.generation }),
          )
        return this.send(res, 200, 'application/json', this.dataJSON)
      case '/api/status':
        return this.send(
          res,
          200,
          'application/json',
          JSON.stringify({
            generation: this.state.generation,
            ...(this.state.error ? { error: this.state.error } : {}),
          }),
        )
      case '/api/events':
        return this.events(req, res)
      default:
        return this.text(res, 404, 'not found')
    }
  }

  /** Server-sent events: `reload` whenever the data changes (bounded number of streams). */
  private events(req: http.IncomingMessage, res: http.ServerResponse) {
    if (this.streams.size >= MAX_EVENT_STREAMS) return this.text(res, 503, 'too many open pages')
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' })
    res.write(`retry: 2000\nevent: hello\ndata: ${this.state.generation}\n\n`)
    if (req.method === 'HEAD') return void res.end()
    this.streams.add(res)
    req.socket.setTimeout(0)
    const done = () => this.streams.delete(res)
    res.on('close', done)
    res.on('error', done)
  }

  private send(res: http.ServerResponse, status: number, type: string, body: string): void {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'content-type': type,
      'content-length': Buffer.byteLength(body),
    })
    res.end(res.req.method === 'HEAD' ? undefined : body)
  }

  private text(res: http.ServerResponse, status: number, message: string): void {
    this.send(res, status, 'text/plain; charset=utf-8', `${message}\n`)
  }
}
