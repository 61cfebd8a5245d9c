/**
 * A fake Kubernetes API server for tests and benchmarks, speaking the real wire protocol for the
 * three resources the agent watches (and lists of Nodes and workloads, for the CLI's live-cluster reads):
 * - list: GET /api/v1/pods, /api/v1/namespaces, /apis/networking.k8s.io/v1/networkpolicies
 *   (items without kind/apiVersion, metadata.resourceVersion of the list) plus per-namespace paths;
 *   `limit` and `continue` page a list as the API server does (a token older than the compaction point
 *   is 410 Expired; metadata.continue and
 *   remainingItemCount while items remain);
 * - watch: the same paths with `?watch=true|1&resourceVersion=RV`: a chunked stream of JSON lines
 *   {"type":"ADDED|MODIFIED|DELETED","object":{...}}; `allowWatchBookmarks=true` adds BOOKMARK events;
 *   a resourceVersion older than the compaction point gets an ERROR event with a 410 Status
 *   ("too old resource version") and the stream ends, as etcd compaction makes the real one do;
 * - `fieldSelector=metadata.name=NAME` (the only field selector served) limits a list or watch to one object
 *   name (the agent watches its own Node so);
 * - POST /api/v1/namespaces/NS/events records Events (the agent reports invalid objects there);
 * - ClusterNetworkPolicies (a CRD): served only while `crdVersion` is set (v1beta1 or v1alpha2), at
 *   /apis/policy.networking.k8s.io/VERSION/clusternetworkpolicies, with discovery at
 *   /apis/policy.networking.k8s.io/VERSION (an APIResourceList; 404 for a version not served);
 *   `removeCrd()` deletes them all and ends their watches, as deleting the CRD does; `failDiscovery`
 *   makes discovery answer that status code.
 * HTTPS with a self-signed certificate made by the openssl CLI, on 127.0.0.1 only. Tests can drop
 * every watch mid-stream, compact history, and stop/restart the server on the same port.
 *
 * Faults (the agent's fault suite): `listExtras` adds raw items (anything JSON, e.g. an item without
 * metadata) to every list of a kind; `injectWatchLine` writes a raw line (JSON or not) to every open
 * watch of a kind; `forget` removes an object without telling watchers (as if its DELETED was lost).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type FakeKind =
  | 'Pod'
  | 'Namespace'
  | 'NetworkPolicy'
  | 'ClusterNetworkPolicy'
  | 'Node'
  | 'Deployment'
  | 'ReplicaSet'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'Job'
  | 'CronJob'
type Obj = Record<string, unknown> & { metadata: Record<string, unknown> }

interface StoredEvent {
  readonly rv: number
  readonly kind: FakeKind
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'
  readonly object: Obj
}

const RESOURCES: Readonly<
  Record<FakeKind, { group: string; plural: string; apiVersion: string; namespaced: boolean }>
> = {
  Pod: { group: '/api/v1', plural: 'pods', apiVersion: 'v1', namespaced: true },
  Namespace: { group: '/api/v1', plural: 'namespaces', apiVersion: 'v1', namespaced: false },
  NetworkPolicy: {
    group: '/apis/networking.k8s.io/v1',
    plural: 'networkpolicies',
    apiVersion: 'networking.k8s.io/v1',
    namespaced: true,
  },
  Node: { group: '/api/v1', plural: 'nodes', apiVersion: 'v1', namespaced: false },
  // The group of the CRD's served version: see FakeApiServer.resource().
  ClusterNetworkPolicy: {
    group: '/apis/policy.networking.k8s.io/v1beta1',
    plural: 'clusternetworkpolicies',
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    namespaced: false,
  },
  Deployment: { group: '/apis/apps/v1', plural: 'deployments', apiVersion: 'apps/v1', namespaced: true },
  ReplicaSet: { group: '/apis/apps/v1', plural: 'replicasets', apiVersion: 'apps/v1', namespaced: true },
  StatefulSet: { group: '/apis/apps/v1', plural: 'statefulsets', apiVersion: 'apps/v1', namespaced: true },
  DaemonSet: { group: '/apis/apps/v1', plural: 'daemonsets', apiVersion: 'apps/v1', namespaced: true },
  Job: { group: '/apis/batch/v1', plural: 'jobs', apiVersion: 'batch/v1', namespaced: true },
  CronJob: { group: '/apis/batch/v1', plural: 'cronjobs', apiVersion: 'batch/v1', namespaced: true },
}

export interface FakeApiServerOptions {
  /** Serve plain http (the client then needs skipTLSVerify: true). Default: https with a self-signed cert. */
  readonly plainHttp?: boolean
  /** Interval of BOOKMARK events on watches that allow them (default 1 s; 0 = never). */
  readonly bookmarkIntervalMs?: number
  /** Send a watch's response headers only with its first event, as a buffering proxy would (default: at once, like the API server). */
  readonly lazyWatchHeaders?: boolean
}

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
}

let certCache: { key: string; cert: string } | undefined

/** Makes (once per process) a self-signed certificate for 127.0.0.1 with the openssl CLI. */
export function selfSignedCert(): { key: string; cert: string } {
  if (certCache) return certCache
  const dir = mkdtempSync(join(tmpdir(), 'palisade-fakeapi-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore', timeout: 20_000 },
    )
    certCache = {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    }
    return certCache
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Returns 'namespace/name' of an object. */
function keyOf(o: Obj): string {
  return `${String(o.metadata.namespace ?? '')}/${String(o.metadata.name ?? '')}`
}

export class FakeApiServer {
  private server: http.Server | https.Server | undefined
  private readonly sockets = new Set<Socket>()
  private readonly watches = new Set<{
    kind: FakeKind
    ns?: string
    name?: string
    res: http.ServerResponse
    bookmarks?: NodeJS.Timeout
    /** Index of the watch request in `requests`. */
    request: number
  }>()
  private readonly objects: Record<FakeKind, Map<string, Obj>> = {
    Pod: new Map(),
    Namespace: new Map(),
    NetworkPolicy: new Map(),
    ClusterNetworkPolicy: new Map(),
    Node: new Map(),
    Deployment: new Map(),
    ReplicaSet: new Map(),
    StatefulSet: new Map(),
    DaemonSet: new Map(),
    Job: new Map(),
    CronJob: new Map(),
  }
  private history: StoredEvent[] = []
  private rv = 1000
  /** Watches from a resourceVersion below this get 410 Gone. */
  private compactedRv = 0
  private port = 0
  private readonly tls: { key: string; cert: string } | undefined
  /** Every request received, in order (tests assert relists, query parameters...). */
  readonly requests: RecordedRequest[] = []
  /** Events POSTed by clients. */
  readonly events: Obj[] = []
  /** When set, list requests fail with this status code. */
  failLists: number | undefined
  /** The next this many list pages asked for with a `continue` token get 410 Expired (faults). */
  expireContinueTokens = 0
  /** Raw items appended to every list of a kind, exactly as given (faults). */
  readonly listExtras: Partial<Record<FakeKind, unknown[]>> = {}
  /** The version the ClusterNetworkPolicy CRD is served in; undefined = not installed (404). */
  crdVersion: 'v1beta1' | 'v1alpha2' | undefined
  /** When set, discovery of policy.networking.k8s.io answers this status code. */
  failDiscovery: number | undefined

  /** A kind's REST resource (ClusterNetworkPolicy: in the CRD's served version). */
  private resource(kind: FakeKind): (typeof RESOURCES)[FakeKind] {
    const r = RESOURCES[kind]
    if (kind !== 'ClusterNetworkPolicy') return r
    const v = this.crdVersion ?? 'v1beta1'
    return { ...r, group: `/apis/policy.networking.k8s.io/${v}`, apiVersion: `policy.networking.k8s.io/${v}` }
  }

  /** Deletes the CRD: its objects go (watchers are not told one by one) and its watches end. */
  removeCrd(): void {
    this.crdVersion = undefined
    this.objects.ClusterNetworkPolicy.clear()
    for (const w of [...this.watches]) {
      if (w.kind !== 'ClusterNetworkPolicy') continue
      clearInterval(w.bookmarks)
      this.watches.delete(w)
      w.res.end()
    }
  }

  constructor(private readonly opts: FakeApiServerOptions = {}) {
    this.tls = opts.plainHttp ? undefined : selfSignedCert()
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`
  }

  get resourceVersion(): string {
    return String(this.rv)
  }

  /** A kubeconfig (YAML) that points at this server and trusts its certificate. */
  kubeconfig(): string {
    const cluster = this.tls
      ? `certificate-authority-data: ${Buffer.from(this.tls.cert).toString('base64')}`
      : 'insecure-skip-tls-verify: true'
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${this.url}`,
      `    ${cluster}`,
      'users:',
      '- name: fake',
      '  user:',
      '    token: fake-token',
      'contexts:',
      '- name: fake',
      '  context: {cluster: fake, user: fake}',
      'current-context: fake',
      '',
    ].join('\n')
  }

  /** Listens on 127.0.0.1 (the same port again after a stop). */
  async start(): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res)
    const server = this.tls
      ? https.createServer({ key: this.tls.key, cert: this.tls.cert }, handler)
      : http.createServer(handler)
    server.on('connection', (s: Socket) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    server.on('tlsClientError', () => undefined)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as AddressInfo).port
    this.server = server
  }

  /** Stops listening and cuts every connection (watches end mid-stream). */
  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    this.dropWatches()
    for (const s of this.sockets) s.destroy()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Stops and starts again on the same port, keeping the stored objects and history. */
  async restart(downMs = 0): Promise<void> {
    await this.stop()
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs))
    await this.start()
  }

  /** Cuts every open watch connection abruptly (no final chunk), as a broken proxy or node would. */
  dropWatches(): void {
    for (const w of this.watches) {
      clearInterval(w.bookmarks)
      w.res.socket?.destroy()
    }
    this.watches.clear()
  }

  /** Forgets history up to now: watches from any older resourceVersion get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv
    this.history = []
  }

  /** Number of watch streams open now. */
  get openWatches(): number {
    return this.watches.size
  }

  /** Creates or replaces an object (kind taken from the object), notifying watchers. Returns its resourceVersion. */
  apply(kind: FakeKind, object: Record<string, unknown>): string {
    const meta = { ...((object.metadata as Record<string, unknown> | undefined) ?? {}) }
    const obj: Obj = { ...object, apiVersion: this.resource(kind).apiVersion, kind, metadata: meta }
    const key = keyOf(obj)
    const existing = this.objects[kind].get(key)
    meta.uid = existing?.metadata.uid ?? `uid-${kind.toLowerCase()}-${key.replace('/', '-')}-${this.rv}`
    meta.resourceVersion = String(++this.rv)
    meta.creationTimestamp = existing?.metadata.creationTimestamp ?? '2025-01-01T00:00:00Z'
    this.objects[kind].set(key, obj)
    this.publish({ rv: this.rv, kind, type: existing ? 'MODIFIED' : 'ADDED', object: obj })
    return String(this.rv)
  }

  /** Deletes an object by namespace/name ('' namespace for Namespaces); returns false when absent. */
  delete(kind: FakeKind, namespace: string, name: string): boolean {
    const key = `${namespace}/${name}`
    const existing = this.objects[kind].get(key)
    if (!existing) return false
    this.objects[kind].delete(key)
    const obj: Obj = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(++this.rv) } }
    this.publish({ rv: this.rv, kind, type: 'DELETED', object: obj })
    return true
  }

  /**
   * Writes one raw line (a newline is added) to every open watch of a kind whose request came at or after
   * index `since` of `requests` (older ones may be closing); returns how many got it.
   */
  injectWatchLine(kind: FakeKind, line: string, since = 0): number {
    let n = 0
    for (const w of this.watches) {
      if (w.kind !== kind || w.request < since || w.res.destroyed) continue
      w.res.write(`${line}\n`)
      n++
    }
    return n
  }

  /** Removes an object without an event or a new resourceVersion (watchers never hear of it). */
  forget(kind: FakeKind, namespace: string, name: string): boolean {
    return this.objects[kind].delete(`${namespace}/${name}`)
  }

  /** Returns a stored object. */
  get(kind: FakeKind, namespace: string, name: string): Record<string, unknown> | undefined {
    return this.objects[kind].get(`${namespace}/${name}`)
  }

  private publish(ev: StoredEvent): void {
    this.history.push(ev)
    // Bound the history like etcd compaction does (watches from older versions get 410).
    if (this.history.length > 200_000) {
      const cut = this.history.length - 100_000
      this.compactedRv = (this.history[cut - 1] as StoredEvent).rv
      this.history = this.history.slice(cut)
    }
    const line = `${JSON.stringify({ type: ev.type, object: ev.object })}\n`
    for (const w of this.watches) {
      if (w.kind !== ev.kind) continue
      if (w.ns !== undefined && ev.object.metadata.namespace !== w.ns) continue
      if (w.name !== undefined && ev.object.metadata.name !== w.name) continue
      w.res.write(line)
    }
  }

  private route(
    pathname: string,
  ): { kind: FakeKind; ns?: string } | { events: string } | { discovery: string } | undefined {
    const ev = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(pathname)
    if (ev) return { events: decodeURIComponent(ev[1] as string) }
    const disc = /^\/apis\/policy\.networking\.k8s\.io\/([^/]+)$/.exec(pathname)
    if (disc && disc[1] === this.crdVersion) return { discovery: disc[1] as string }
    for (const kind of Object.keys(RESOURCES) as FakeKind[]) {
      if (kind === 'ClusterNetworkPolicy' && this.crdVersion === undefined) continue
      const r = this.resource(kind)
      if (pathname === `${r.group}/${r.plural}`) return { kind }
      const m = new RegExp(`^${r.group}/namespaces/([^/]+)/${r.plural}$`).exec(pathname)
      if (m && r.namespaced) return { kind, ns: decodeURIComponent(m[1] as string) }
    }
    return undefined
  }

  private methodNotAllowed(res: http.ServerResponse): void {
    this.status(
      res,
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
    )
  }

  private status(res: http.ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message,
        reason,
        code,
      }),
    )
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x')
    const query = Object.fromEntries(url.searchParams)
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query })
    if (req.headers.authorization !== 'Bearer fake-token') {
      this.status(res, 401, 'Unauthorized', 'Unauthorized')
      return
    }
    if (this.failDiscovery !== undefined && url.pathname.startsWith('/apis/policy.networking.k8s.io/')) {
      const d = url.pathname.split('/').length === 4
      if (d) {
        this.status(res, this.failDiscovery, 'InternalError', 'discovery failed (test)')
        return
      }
    }
    const route = this.route(url.pathname)
    if (!route) {
      this.status(res, 404, 'NotFound', 'the server could not find the requested resource')
      return
    }
    if ('discovery' in route) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: `policy.networking.k8s.io/${route.discovery}`,
          resources: [
            {
              name: 'clusternetworkpolicies',
              singularName: 'clusternetworkpolicy',
              namespaced: false,
              kind: 'ClusterNetworkPolicy',
              verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
              shortNames: ['cnp'],
            },
            {
              name: 'clusternetworkpolicies/status',
              singularName: '',
              namespaced: false,
              kind: 'ClusterNetworkPolicy',
              verbs: ['get', 'patch', 'update'],
            },
          ],
        }),
      )
      return
    }
    if ('events' in route) {
      if (req.method !== 'POST') {
        this.methodNotAllowed(res)
        return
      }
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Obj
        this.events.push(body)
        res.writeHead(201, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body))
      })
      return
    }
    if (req.method !== 'GET') {
      this.methodNotAllowed(res)
      return
    }
    if (query.fieldSelector !== undefined && !/^metadata\.name=[^,=]+$/.test(query.fieldSelector)) {
      this.status(res, 400, 'BadRequest', `field label not supported: ${query.fieldSelector}`)
      return
    }
    const watch = query.watch === 'true' || query.watch === '1'
    if (watch) this.watch(route.kind, route.ns, query, res)
    else this.list(route.kind, route.ns, res, query)
  }

  private list(
    kind: FakeKind,
    ns: string | undefined,
    res: http.ServerResponse,
    query: Record<string, string> = {},
  ): void {
    if (this.failLists !== undefined) {
      this.status(res, this.failLists, 'InternalError', 'list failed (test)')
      return
    }
    const name = nameSelected(query)
    // Pages: `continue` is an opaque token (here the offset and the list's resourceVersion).
    const metadata: Record<string, unknown> = { resourceVersion: String(this.rv) }
    const limit = Number(query.limit ?? '0')
    const paged = Number.isInteger(limit) && limit > 0
    let offset = 0
    if (paged && query.continue) {
      const [o, rv] = Buffer.from(query.continue, 'base64').toString('utf8').split(':')
      // As etcd: a token whose snapshot was compacted away is 410 Expired.
      if (Number(rv) < this.compactedRv || this.expireContinueTokens > 0) {
        this.expireContinueTokens = Math.max(0, this.expireContinueTokens - 1)
        this.status(
          res,
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        )
        return
      }
      offset = Number(o)
      metadata.resourceVersion = rv
    }
    // Only the page's items are copied: a page of a 100k-object list costs the agent's benchmark (which
    // runs this server in its own process) no copy of the whole collection.
    const end = paged ? offset + limit : Number.POSITIVE_INFINITY
    const items: Record<string, unknown>[] = []
    let count = 0
    for (const o of this.objects[kind].values()) {
      if (ns !== undefined && o.metadata.namespace !== ns) continue
      if (name !== undefined && o.metadata.name !== name) continue
      if (count >= offset && count < end) {
        // List items carry no kind/apiVersion on the wire.
        const { kind: _k, apiVersion: _a, ...rest } = o
        items.push(rest)
      }
      count++
    }
    for (const extra of this.listExtras[kind] ?? []) {
      if (count >= offset && count < end) items.push(extra as Record<string, unknown>)
      count++
    }
    if (paged) {
      const rest = count - offset - limit
      if (rest > 0) {
        metadata.continue = Buffer.from(`${offset + limit}:${String(metadata.resourceVersion)}`).toString(
          'base64',
        )
        metadata.remainingItemCount = rest
      }
    }
    const r = this.resource(kind)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        kind: `${kind}List`,
        apiVersion: r.apiVersion,
        metadata,
        items,
      }),
    )
  }

  private watch(
    kind: FakeKind,
    ns: string | undefined,
    query: Record<string, string>,
    res: http.ServerResponse,
  ): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    // The API server flushes the headers at once (before any event), so a client's watch call returns.
    if (!this.opts.lazyWatchHeaders) res.flushHeaders()
    const from = query.resourceVersion ?? ''
    const send = (o: unknown) => res.write(`${JSON.stringify(o)}\n`)
    const name = nameSelected(query)
    const wanted = (o: Obj) =>
      (ns === undefined || o.metadata.namespace === ns) && (name === undefined || o.metadata.name === name)
    if (from === '' || from === '0') {
      // "Any version": start with synthetic ADDED events for every object, as the API server does.
      for (const o of this.objects[kind].values()) if (wanted(o)) send({ type: 'ADDED', object: o })
    } else {
      const n = Number(from)
      if (!Number.isFinite(n) || n < this.compactedRv) {
        send({
          type: 'ERROR',
          object: {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: `too old resource version: ${from} (${this.compactedRv})`,
            reason: 'Expired',
            code: 410,
          },
        })
        res.end()
        return
      }
      for (const ev of this.history) {
        if (ev.rv <= n || ev.kind !== kind) continue
        if (!wanted(ev.object)) continue
        send({ type: ev.type, object: ev.object })
      }
    }
    const w: {
      kind: FakeKind
      ns?: string
      name?: string
      res: http.ServerResponse
      bookmarks?: NodeJS.Timeout
      request: number
    } = {
      kind,
      res,
      request: this.requests.length - 1,
      ...(ns !== undefined ? { ns } : {}),
      ...(name !== undefined ? { name } : {}),
    }
    const every = this.opts.bookmarkIntervalMs ?? 1000
    if (query.allowWatchBookmarks === 'true' && every > 0) {
      w.bookmarks = setInterval(() => {
        send({
          type: 'BOOKMARK',
          object: {
            kind,
            apiVersion: this.resource(kind).apiVersion,
            metadata: { resourceVersion: String(this.rv) },
          },
        })
      }, every)
    }
    this.watches.add(w)
    res.on('close', () => {
      clearInterval(w.bookmarks)
      this.watches.delete(w)
    })
  }
}

/** The object name a `fieldSelector=metadata.name=NAME` query selects (undefined: no field selector). */
function nameSelected(query: Readonly<Record<string, string>>): string | undefined {
  const m = /^metadata\.name=([^,=]+)$/.exec(query.fieldSelector ?? '')
  return m ? (m[1] as string) : undefined
}
