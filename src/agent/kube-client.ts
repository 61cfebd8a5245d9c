/**
 * Raw JSON requests to the API server with the credentials of a KubeConfig (edge).
 *
 * The typed API of @kubernetes/client-node deserialises objects into model classes (Dates, renamed
 * fields); we want the objects exactly as the API server sends them, like the watch stream does,
 * so lists and event posts go through node:http(s) with KubeConfig.applyToHTTPSOptions.
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
    req.end(payload)
  })
}

/** GETs a list and returns it, or throws a KubeHttpError carrying the status code. */
export async function kubeList(
  kc: KubeConfig,
  path: string,
): Promise<{ items: unknown[]; resourceVersion: string }> {
  const res = await kubeRequest(kc, 'GET', path)
  if (res.status !== 200) {
    const msg =
      isRecord(res.body) && typeof res.body.message === 'string' ? res.body.message : String(res.body)
    throw new KubeHttpError(res.status, `GET ${path}: ${res.status} ${msg}`)
  }
  if (!isRecord(res.body) || !Array.isArray(res.body.items)) throw new Error(`GET ${path}: not a list`)
  const meta = isRecord(res.body.metadata) ? res.body.metadata : {}
  return {
    items: res.body.items,
    resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '',
  }
}

/** Narrows unknown to a plain object. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
