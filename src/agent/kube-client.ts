/**
 * Raw JSON requests to the API server with the credentials of a KubeConfig (edge).
 *
 * The typed API of @kubernetes/client-node deserialises objects into model classes (Dates, renamed
 * fields); we want the objects exactly as the API server sends them. Lists, watches and event posts go
 * through node:http(s) with KubeConfig.applyToHTTPSOptions (the client's auth: tokens, client
 * certificates, exec plugins, proxies). The watch stream is read here too, line by line with a bounded
 * line length, so that every line (JSON or not) reaches the informer's decoder: the client library's
 * Watch drops lines it cannot parse without a word, and buffers a line of any length.
 */
import http from 'node:http'
import https from 'node:https'
import { KubeConfig } from '@kubernetes/client-node'

/** Loads a kubeconfig file, or the in-cluster service account when no file is given. */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig()
  if (file) kc.loadFromFile(file)
  else kc.loadFromCluster()
  return kc
}

export interface KubeResponse {
  readonly status: number
  readonly body: unknown
}

/** An HTTP error from the API server; `statusCode` is what the informer looks at (410 = relist). */
export class KubeHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message)
    this.name = 'KubeHttpError'
  }
}

/** Sends one request and parses the JSON answer; rejects on transport errors and after timeoutMs. */
export async function kubeRequest(
  kc: KubeConfig,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 60_000,
  signal?: AbortSignal,
): Promise<KubeResponse> {
  const cluster = kc.getCurrentCluster()
  if (!cluster) throw new Error('kubeconfig has no current cluster')
  const url = new URL(cluster.server.replace(/\/$/, '') + path)
  const opts: https.RequestOptions = { method, headers: { accept: 'application/json' } }
  await kc.applyToHTTPSOptions(opts)
  const payload = body === undefined ? undefined : JSON.stringify(body)
  if (payload !== undefined) {
    opts.headers = {
      ...opts.headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
    }
  }
  const mod = url.protocol === 'http:' ? http : https
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error(`${method} ${path}: aborted`))
    const req = mod.request(url, opts, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let parsed: unknown = text
        try {
          parsed = text === '' ? undefined : JSON.parse(text)
        } catch {
          // not JSON: keep the text for the error message
        }
        resolve({ status: res.statusCode ?? 0, body: parsed })
      })
    })
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)),
    )
    req.on('error', reject)
    signal?.addEventListener('abort', () => req.destroy(new Error(`${method} ${path}: aborted`)), {
      once: true,
    })
    req.end(payload)
  })
}

export interface WatchHandlers {
  /** One line of the stream (without its newline; blank lines are skipped). */
  readonly onLine: (line: string) => void
  /** A line longer than maxLineBytes was skipped (its length in bytes). */
  readonly onOverlong: (bytes: number) => void
  /** The stream ended: cleanly (no argument) or with an error (a KubeHttpError for a non-200 answer). Called once, never after close(). */
  readonly onDone: (err?: unknown) => void
}

export interface WatchOptions {
  /** Longest line kept (default 16 MiB; the API server's objects are at most ~1.5 MiB). */
  readonly maxLineBytes?: number
  /** The stream is cut when nothing arrives for this long (default 10 min). */
  readonly idleTimeoutMs?: number
}

export interface WatchHandle {
  /** Ends the watch; onDone is not called afterwards. */
  readonly close: () => void
}

/** GETs `path?query` and hands the response to the handlers line by line (a watch stream). */
export function kubeWatch(
  kc: KubeConfig,
  path: string,
  query: Readonly<Record<string, string>>,
  h: WatchHandlers,
  o: WatchOptions = {},
): WatchHandle {
  const maxLine = o.maxLineBytes ?? 16 * 1024 * 1024
  let closed = false
  let req: http.ClientRequest | undefined
  const finish = (err?: unknown) => {
    if (closed) return
    closed = true
    req?.destroy()
    h.onDone(err)
  }
  const start = async () => {
    const cluster = kc.getCurrentCluster()
    if (!cluster) throw new Error('kubeconfig has no current cluster')
    const url = new URL(cluster.server.replace(/\/$/, '') + path)
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v)
    const opts: https.RequestOptions = { method: 'GET', headers: { accept: 'application/json' } }
    await kc.applyToHTTPSOptions(opts)
    if (closed) return
    const mod = url.protocol === 'http:' ? http : https
    req = mod.request(url, opts, (res) => {
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => {
          if (size < 65_536) chunks.push(c)
          size += c.length
        })
        res.on('error', () => undefined)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let msg = text.slice(0, 500)
          try {
            const b: unknown = JSON.parse(text)
            if (isRecord(b) && typeof b.message === 'string') msg = b.message
          } catch {
            // not JSON: keep the text
          }
          finish(new KubeHttpError(res.statusCode ?? 0, `watch ${path}: ${res.statusCode} ${msg}`))
        })
        return
      }
      let pending: Buffer[] = []
      let pendingBytes = 0
      let skipping = 0
      const emit = (line: Buffer) => {
        const text = line.toString('utf8')
        if (text.trim() === '') return
        try {
          h.onLine(text)
        } catch (err) {
          finish(err)
        }
      }
      res.on('data', (chunk: Buffer) => {
        let from = 0
        while (!closed) {
          const nl = chunk.indexOf(10, from)
          const piece = chunk.subarray(from, nl < 0 ? chunk.length : nl)
          if (skipping > 0) {
            skipping += piece.length
          } else if (pendingBytes + piece.length > maxLine) {
            skipping = pendingBytes + piece.length
            pending = []
            pendingBytes = 0
          } else if (nl >= 0 || piece.length > 0) {
            pending.push(piece)
            pendingBytes += piece.length
          }
          if (nl < 0) return
          if (skipping > 0) {
            const bytes = skipping
            skipping = 0
            h.onOverlong(bytes)
          } else {
            const line = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending)
            pending = []
            pendingBytes = 0
            emit(line)
          }
          from = nl + 1
        }
      })
      res.on('end', () => {
        // A last line without its newline was cut off: hand it over, the decoder will say so.
        if (pendingBytes > 0 && !closed) emit(Buffer.concat(pending))
        finish()
      })
      res.on('aborted', () => finish(new Error(`watch ${path}: connection lost`)))
      res.on('error', (err) => finish(err))
    })
    const idle = o.idleTimeoutMs ?? 600_000
    req.setTimeout(idle, () => req?.destroy(new Error(`watch ${path}: nothing received for ${idle} ms`)))
    req.on('error', (err) => finish(err))
    req.end()
  }
  start().catch((err: unknown) => finish(err))
  return {
    close: () => {
      closed = true
      req?.destroy()
    },
  }
}

/** GETs a list and returns it, or throws a KubeHttpError carrying the status code. */
export async function kubeList(
  kc: KubeConfig,
  path: string,
  signal?: AbortSignal,
): Promise<{ items: unknown[]; resourceVersion: string }> {
  const { items, meta } = listBody(await kubeRequest(kc, 'GET', path, undefined, 60_000, signal), path)
  return { items, resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '' }
}

/** A list response's items and metadata, or the KubeHttpError of its status code. */
function listBody(res: KubeResponse, path: string): { items: unknown[]; meta: Record<string, unknown> } {
  if (res.status !== 200) {
    const msg =
      isRecord(res.body) && typeof res.body.message === 'string' ? res.body.message : String(res.body)
    throw new KubeHttpError(res.status, `GET ${path}: ${res.status} ${msg}`)
  }
  if (!isRecord(res.body) || !Array.isArray(res.body.items)) throw new Error(`GET ${path}: not a list`)
  return { items: res.body.items, meta: isRecord(res.body.metadata) ? res.body.metadata : {} }
}

/** Items per page of a paged list (client-go's reflector asks for 500 too). */
export const LIST_PAGE_SIZE = 500

/**
 * Lists a collection page by page (`limit` and `continue`, as client-go's reflector does), handing each
 * page's items to `onPage` before the next is fetched: a 100k-pod cluster is never held as one response
 * (hundreds of MiB of JSON text and its parse). Every page belongs to the snapshot of the first one (the API
 * server guarantees it); an expired `continue` token is a 410 error, and the caller lists again. Resolves
 * to the list's resourceVersion.
 */
export async function kubeListPages(
  kc: KubeConfig,
  path: string,
  onPage: (items: unknown[]) => void,
  signal?: AbortSignal,
  pageSize = LIST_PAGE_SIZE,
): Promise<string> {
  const sep = path.includes('?') ? '&' : '?'
  let token: string | undefined
  let resourceVersion = ''
  for (;;) {
    const page = `${path}${sep}limit=${pageSize}${token ? `&continue=${encodeURIComponent(token)}` : ''}`
    const { items, meta } = listBody(await kubeRequest(kc, 'GET', page, undefined, 60_000, signal), path)
    if (typeof meta.resourceVersion === 'string') resourceVersion = meta.resourceVersion
    onPage(items)
    token = typeof meta.continue === 'string' && meta.continue !== '' ? meta.continue : undefined
    if (!token) return resourceVersion
  }
}

/** Narrows unknown to a plain object. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
