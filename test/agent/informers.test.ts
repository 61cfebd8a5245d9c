import https from 'node:https'
import { KubeConfig } from '@kubernetes/client-node'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeApiServer, selfSignedCert } from '../../harness/fake-apiserver.js'
import { startInformers } from '../../src/agent/informers.js'
import { ObjectStore } from '../../src/agent/object-store.js'
import { defaultPipeline } from '../../src/agent/pipeline.js'
import { allowFromJson, namespaceJson, podJson } from '../fixtures.js'
import { waitFor } from './fixtures.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function rig(o: { plainHttp?: boolean; lazyWatchHeaders?: boolean } = {}) {
  const api = new FakeApiServer({
    ...(o.plainHttp ? { plainHttp: true } : {}),
    ...(o.lazyWatchHeaders ? { lazyWatchHeaders: true, bookmarkIntervalMs: 0 } : {}),
  })
  await api.start()
  cleanups.push(() => api.stop())
  api.apply('Namespace', namespaceJson('shop', { team: 'a' }))
  api.apply('Pod', podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }))
  api.apply('NetworkPolicy', allowFromJson('shop', 'web-to-db', 'db', 'web'))
  const kc = new KubeConfig()
  kc.loadFromString(api.kubeconfig())
  const store = new ObjectStore(defaultPipeline)
  let signals = 0
  const errors: string[] = []
  const informers = startInformers(
    kc,
    store,
    { signal: () => signals++, onError: (kind, err) => errors.push(`${kind}: ${String(err)}`) },
    { backoffInitialMs: 20, backoffMaxMs: 200 },
  )
  cleanups.push(() => informers.stop())
  const lists = () => api.requests.filter((r) => r.query.watch === undefined && r.method === 'GET').length
  return { api, store, informers, errors, lists, signals: () => signals }
}

const podNames = (s: ObjectStore) =>
  s
    .snapshot()
    .value.pods.map((p) => p.name)
    .sort()

describe('informers against the fake API server (real client, real wire protocol)', () => {
  it('lists every kind over HTTPS with a self-signed certificate, then reports synced', async () => {
    const r = await rig()
    await r.informers.synced(10_000)
    expect(r.store.counts()).toEqual({
      Pod: 1,
      Namespace: 1,
      NetworkPolicy: 1,
      ClusterNetworkPolicy: 0,
      Node: 0,
    })
    expect(r.informers.isSynced()).toBe(true)
    expect(r.errors).toEqual([])
  })

  it.each([
    ['at once (as the API server does)', false],
    ['only with the first event (a buffering proxy)', true],
  ])('stop ends every watch when the response headers arrive %s', async (_, lazy) => {
    const r = await rig({ lazyWatchHeaders: lazy })
    await r.informers.synced(10_000)
    await waitFor(() => r.api.openWatches === 3, 5000, 'three watches open')
    await r.informers.stop()
    // With lazy headers the client's watch call is still waiting: stop must end it all the same.
    if (lazy) r.api.apply('Pod', podJson('shop', 'late', '10.0.1.9', 'n1', { app: 'late' }))
    await waitFor(() => r.api.openWatches === 0, 5000, 'every watch closed after stop')
    await new Promise((res) => setTimeout(res, 200))
    expect(r.api.openWatches).toBe(0)
    expect(podNames(r.store)).not.toContain('late')
  })

  it('works over plain http when the kubeconfig sets insecure-skip-tls-verify', async () => {
    const r = await rig({ plainHttp: true })
    await r.informers.synced(10_000)
    expect(r.store.counts().Pod).toBe(1)
  })

  it('follows ADDED, MODIFIED and DELETED events and signals each change', async () => {
    const r = await rig()
    await r.informers.synced(10_000)
    await waitFor(() => r.api.openWatches === 3, 5000, 'three watches')
    const before = r.signals()
    r.api.apply('Pod', podJson('shop', 'web', '10.0.2.3', 'n2', { role: 'web' }))
    await waitFor(() => podNames(r.store).includes('web'), 5000, 'pod web added')
    r.api.apply('Pod', podJson('shop', 'web', '10.0.2.9', 'n2', { role: 'web' }))
    await waitFor(
      () => r.store.snapshot().value.pods.some((p) => p.ips[0] === '10.0.2.9'),
      5000,
      'pod web moved',
    )
    r.api.delete('Pod', 'shop', 'db')
    await waitFor(() => !podNames(r.store).includes('db'), 5000, 'pod db deleted')
    expect(r.signals() - before).toBe(3)
  })

  it('resumes a dropped watch from its resourceVersion without relisting', async () => {
    const r = await rig()
    await r.informers.synced(10_000)
    await waitFor(() => r.api.openWatches === 3, 5000, 'three watches')
    const lists = r.lists()
    r.api.dropWatches()
    r.api.apply('Pod', podJson('shop', 'late', '10.0.1.9', 'n1'))
    await waitFor(() => podNames(r.store).includes('late'), 5000, 'event after the drop')
    expect(r.lists()).toBe(lists)
    expect(r.errors.length).toBeGreaterThan(0)
  })

  it('relists after 410 Gone and forgets objects deleted while it was away', async () => {
    const r = await rig()
    await r.informers.synced(10_000)
    await waitFor(() => r.api.openWatches === 3, 5000, 'three watches')
    const lists = r.lists()
    await r.api.stop()
    r.api.delete('Pod', 'shop', 'db')
    r.api.apply('Pod', podJson('shop', 'new', '10.0.1.7', 'n1'))
    r.api.compact() // history gone: the resumed watch gets ERROR 410
    await r.api.start()
    await waitFor(() => podNames(r.store).join() === 'new', 10_000, 'relisted pods')
    expect(r.lists()).toBeGreaterThan(lists)
    expect(
      r.api.requests.some(
        (q) =>
          q.query.watch !== undefined &&
          q.query.resourceVersion !== '' &&
          Number(q.query.resourceVersion) < Number(r.api.resourceVersion),
      ),
    ).toBe(true)
  })

  it('lists page by page (limit 500 and continue, as client-go) and takes in every page', async () => {
    const r = await rig()
    for (let i = 0; i < 1200; i++)
      r.api.apply('Pod', podJson('shop', `p${i}`, `10.1.${i >> 8}.${i & 255}`, 'n1', { app: 'x' }))
    await r.informers.synced(10_000)
    const pages = r.api.requests.filter((q) => q.path === '/api/v1/pods' && q.query.watch === undefined)
    expect(pages.map((q) => [q.query.limit, q.query.continue !== undefined])).toEqual([
      ['500', false],
      ['500', true],
      ['500', true],
    ])
    expect(podNames(r.store)).toHaveLength(1201)
  })

  it('an expired continue token (410) lists again from the start; a failed list never removes an object', async () => {
    const r = await rig()
    for (let i = 0; i < 1200; i++)
      r.api.apply('Pod', podJson('shop', `p${i}`, `10.1.${i >> 8}.${i & 255}`, 'n1', { app: 'x' }))
    await r.informers.synced(10_000)
    await waitFor(() => r.api.openWatches === 3, 5000, 'three watches')
    // The next list's second page finds its snapshot compacted away.
    r.api.expireContinueTokens = 1
    const origin = r.api.requests.length
    const fewest = { pods: podNames(r.store).length }
    const poll = setInterval(() => {
      fewest.pods = Math.min(fewest.pods, podNames(r.store).length)
    }, 1)
    await r.api.stop()
    r.api.apply('Pod', podJson('shop', 'p0', '10.1.0.0', 'n1', { app: 'y' }))
    r.api.compact() // the resumed watches get 410: the informers list again
    await r.api.start()
    const continued = () =>
      r.api.requests.slice(origin).filter((q) => q.path === '/api/v1/pods' && q.query.continue !== undefined)
    try {
      // the expired page, then a whole list again (two continued pages)
      await waitFor(() => continued().length >= 3, 10_000, 'a list completed after the expired one')
      await waitFor(() => r.api.openWatches === 3, 5000, 'three watches again')
    } finally {
      clearInterval(poll)
    }
    expect(r.errors.some((e) => e.includes('410'))).toBe(true)
    expect(fewest.pods).toBe(1201)
    expect(podNames(r.store)).toHaveLength(1201)
  })

  it('keeps its cache while the API server is down and catches up when it returns', async () => {
    const r = await rig()
    await r.informers.synced(10_000)
    await r.api.stop()
    await new Promise((res) => setTimeout(res, 300))
    expect(r.store.counts().Pod).toBe(1) // fail-static: nothing forgotten
    r.api.apply('Pod', podJson('shop', 'web', '10.0.2.3', 'n2'))
    await r.api.start()
    await waitFor(() => podNames(r.store).includes('web'), 10_000, 'catch-up after restart')
    expect(r.errors.some((e) => /ECONNREFUSED|hang up|Premature close/.test(e))).toBe(true)
  })

  it('does not report synced while lists fail, and gives up after the timeout', async () => {
    const api = new FakeApiServer()
    await api.start()
    cleanups.push(() => api.stop())
    api.failLists = 500
    const kc = new KubeConfig()
    kc.loadFromString(api.kubeconfig())
    const informers = startInformers(
      kc,
      new ObjectStore(defaultPipeline),
      { signal: () => undefined },
      { backoffInitialMs: 20 },
    )
    cleanups.push(() => informers.stop())
    await expect(informers.synced(500)).rejects.toThrow(/caches not synced within 500 ms/)
    expect(informers.isSynced()).toBe(false)
    api.failLists = undefined
    await informers.synced(10_000)
  })
})

describe('fake API server protocol', () => {
  /** Opens a raw watch and collects event types for a while. */
  function rawWatch(api: FakeApiServer, query: string, ms: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const types: string[] = []
      const req = https.get(
        `${api.url}/api/v1/pods?${query}`,
        { ca: selfSignedCert().cert, headers: { authorization: 'Bearer fake-token' } },
        (res) => {
          let buf = ''
          res.on('data', (c: Buffer) => {
            buf += c.toString('utf8')
            let nl = buf.indexOf('\n')
            while (nl >= 0) {
              types.push((JSON.parse(buf.slice(0, nl)) as { type: string }).type)
              buf = buf.slice(nl + 1)
              nl = buf.indexOf('\n')
            }
          })
          res.on('end', () => resolve(types))
          res.on('error', () => resolve(types))
        },
      )
      req.on('error', reject)
      setTimeout(() => {
        req.destroy()
        resolve(types)
      }, ms)
    })
  }

  it.each([
    {
      name: 'a watch from "0" starts with ADDED for every object',
      query: 'watch=1&resourceVersion=0',
      want: ['ADDED', 'ADDED'],
    },
    {
      name: 'a watch from an old version gets ERROR 410 and ends',
      query: 'watch=true&resourceVersion=1',
      compact: true,
      want: ['ERROR'],
    },
    {
      name: 'a watch that allows bookmarks gets BOOKMARK events',
      query: 'watch=true&resourceVersion=999999&allowWatchBookmarks=true',
      want: ['BOOKMARK'],
    },
  ])('$name', async ({ query, compact, want }) => {
    const api = new FakeApiServer({ bookmarkIntervalMs: 100 })
    await api.start()
    cleanups.push(() => api.stop())
    api.apply('Pod', podJson('a', 'p1', '10.0.0.1', 'n1'))
    api.apply('Pod', podJson('a', 'p2', '10.0.0.2', 'n1'))
    if (compact) api.compact()
    const types = await rawWatch(api, query, 350)
    expect(types.slice(0, want.length)).toEqual(want)
  })
})
