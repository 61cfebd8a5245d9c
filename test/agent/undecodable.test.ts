/**
 * List items and watch events the agent cannot decode (issue 14, items 2 and 3): each is skipped and
 * counted, never crashes the agent, never removes anything enforced, and a partial list never deletes.
 */
import { KubeConfig } from '@kubernetes/client-node'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeApiServer } from '../../harness/fake-apiserver.js'
import { decodeObject, decodeWatchLine } from '../../src/agent/decode.js'
import { type Agent, startAgent } from '../../src/agent/index.js'
import { startInformers } from '../../src/agent/informers.js'
import { ObjectStore } from '../../src/agent/object-store.js'
import { defaultPipeline } from '../../src/agent/pipeline.js'
import { denyAllJson, namespaceJson, podJson } from '../fixtures.js'
import { recordingKernel, waitFor } from './fixtures.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe('decoding', () => {
  it.each([
    { name: 'null', item: null, problem: /the object is null/ },
    { name: 'an array', item: [], problem: /an array/ },
    { name: 'no metadata', item: { spec: {} }, problem: /metadata is missing/ },
    { name: 'metadata a string', item: { metadata: 'x' }, problem: /metadata is a string/ },
    { name: 'no name', item: { metadata: { namespace: 'a' } }, problem: /metadata\.name is an? undefined/ },
    {
      name: 'an empty name',
      item: { metadata: { name: '', namespace: 'a' } },
      problem: /metadata\.name is empty/,
    },
    {
      name: 'a numeric name',
      item: { metadata: { name: 7, namespace: 'a' } },
      problem: /metadata\.name is a number/,
    },
    { name: 'no namespace on a Pod', item: { metadata: { name: 'p' } }, problem: /metadata\.namespace/ },
    {
      name: 'a numeric resourceVersion',
      item: { metadata: { name: 'p', namespace: 'a', resourceVersion: 5 } },
      problem: /resourceVersion is a number/,
    },
  ])('a Pod list item with $name cannot be filed', ({ item, problem }) => {
    const d = decodeObject('Pod', item)
    expect('problem' in d ? d.problem : '').toMatch(problem)
  })

  it('a good item is filed without its managedFields', () => {
    const d = decodeObject('Pod', { metadata: { name: 'p', namespace: 'a', managedFields: [{}] } })
    expect(d).toEqual({ value: { metadata: { name: 'p', namespace: 'a' } } })
    expect(decodeObject('Namespace', { metadata: { name: 'a' } })).toEqual({
      value: { metadata: { name: 'a' } },
    })
    expect('problem' in decodeObject('Namespace', { metadata: { name: 'a', namespace: 'b' } })).toBe(true)
  })

  it.each([
    ['{"type":"ADDED","object":null}', /ADDED event: the object is null/],
    ['{"type":"ADDED","object":{"spec":{}}}', /metadata is missing/],
    ['{"type":"ERROR","object":null}', /ERROR event whose object is null/],
    ['{"type":"ADDED"}', /without an object/],
    ['{"type":"MODIFIED","object":{"metadata":"x"}}', /metadata is a string/],
    ['{"type":"DELETED","object":{}}', /metadata is missing/],
    ['{"type":"BOOKMARK","object":{}}', /BOOKMARK event without/],
    ['{"type":"SURPRISE","object":{}}', /unknown event type/],
    ['{"object":{}}', /event type is an? undefined/],
    ['[1,2]', /an array/],
    ['{"type":"ADDED","object":{"metad', /not JSON/],
  ])('watch line %s is undecodable', (line, problem) => {
    const ev = decodeWatchLine('Pod', line)
    expect('problem' in ev ? ev.problem : '').toMatch(problem)
  })

  it('decodes ERROR 410 and BOOKMARK', () => {
    expect(decodeWatchLine('Pod', '{"type":"ERROR","object":{"code":410,"message":"too old"}}')).toEqual({
      type: 'ERROR',
      code: 410,
      message: 'too old',
    })
    expect(
      decodeWatchLine('Pod', '{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}'),
    ).toEqual({
      type: 'BOOKMARK',
      resourceVersion: '9',
    })
  })
})

async function informerRig() {
  const api = new FakeApiServer({ bookmarkIntervalMs: 0 })
  await api.start()
  cleanups.push(() => api.stop())
  api.apply('Namespace', namespaceJson('shop'))
  api.apply('Pod', podJson('shop', 'a', '10.0.1.1', 'n1', { app: 'a' }))
  api.apply('Pod', podJson('shop', 'b', '10.0.1.2', 'n1', { app: 'b' }))
  const kc = new KubeConfig()
  kc.loadFromString(api.kubeconfig())
  const store = new ObjectStore(defaultPipeline)
  const undecodable: string[] = []
  const informers = startInformers(
    kc,
    store,
    {
      signal: () => undefined,
      onUndecodable: (kind, source, problem) => undecodable.push(`${kind} ${source}: ${problem}`),
    },
    { backoffInitialMs: 20, backoffMaxMs: 200, relistInitialMs: 50 },
  )
  cleanups.push(() => informers.stop())
  const pods = () =>
    store
      .snapshot()
      .value.pods.map((p) => p.name)
      .join(',')
  return { api, store, informers, undecodable, pods }
}

describe('informers with undecodable input', () => {
  it('a list with an item without metadata still files every other item, and says it is partial', async () => {
    const r = await informerRig()
    r.api.listExtras.Pod = [{ spec: {} }]
    await r.informers.synced(10_000)
    expect(r.pods()).toBe('a,b')
    expect(r.undecodable).toEqual(['Pod list: item 2: metadata is missing'])
    expect(r.informers.partialKinds()).toEqual(['Pod'])
  })

  it('a partial relist deletes nothing; the next complete one deletes what is gone', async () => {
    const r = await informerRig()
    await r.informers.synced(10_000)
    await waitFor(() => r.api.openWatches === 3, 5000, 'watches open')
    // b's list item becomes unreadable, and the API history is compacted: the agent must relist.
    r.api.forget('Pod', 'shop', 'b')
    r.api.listExtras.Pod = [{ metadata: 'b, garbled' }]
    r.api.apply('Namespace', namespaceJson('other')) // history moves on, then is compacted: 410 for pods
    r.api.compact()
    r.api.dropWatches()
    await waitFor(() => r.undecodable.length > 0, 5000, 'the partial relist')
    expect(r.pods()).toBe('a,b') // b may be the item it could not read: kept
    expect(r.informers.partialKinds()).toEqual(['Pod'])
    r.api.listExtras.Pod = []
    r.api.apply('Namespace', namespaceJson('other2'))
    r.api.compact()
    r.api.dropWatches()
    await waitFor(() => r.pods() === 'a', 5000, 'the complete relist removes b')
    expect(r.informers.partialKinds()).toEqual([])
  })

  it.each([
    '{"type":"ADDED","object":null}',
    '{"type":"ADDED","object":{"spec":{}}}',
    '{"type":"ERROR","object":null}',
    '{"type":"ADDED"}',
    '{"type":"MODIFIED","object":{"metadata":"x"}}',
    '{"type":"DELETED","object":{}}',
    '{"type":"DELETED","object":{"metadata":{"namespace":"shop"}}}',
    'not json at all',
    '{"type":"ADDED","object":{"metadata":{"name":"c","namespace":"shop"',
    '{"type":"SURPRISE","object":{}}',
  ])('watch line %s is skipped; nothing is removed and later events still arrive', async (line) => {
    const r = await informerRig()
    await r.informers.synced(10_000)
    await waitFor(() => r.api.openWatches === 3, 5000, 'watches open')
    expect(r.api.injectWatchLine('Pod', line)).toBe(1)
    await waitFor(() => r.undecodable.length === 1, 5000, 'the line counted')
    expect(r.pods()).toBe('a,b')
    r.api.apply('Pod', podJson('shop', 'c', '10.0.1.3', 'n1'))
    await waitFor(() => r.pods() === 'a,b,c', 5000, 'a later event applied')
  })

  it('a skipped event that carried a change is caught up by a relist', async () => {
    const r = await informerRig()
    await r.informers.synced(10_000)
    await waitFor(() => r.api.openWatches === 3, 5000, 'watches open')
    // The DELETED of b reaches the agent garbled: b stays until the relist shows it gone.
    r.api.forget('Pod', 'shop', 'b')
    r.api.injectWatchLine('Pod', '{"type":"DELETED","object":{"metadata":null}}')
    await waitFor(() => r.pods() === 'a', 5000, 'b removed after the relist')
  })

  it('a watch line over the size limit is skipped like any undecodable one', async () => {
    const api = new FakeApiServer({ bookmarkIntervalMs: 0 })
    await api.start()
    cleanups.push(() => api.stop())
    api.apply('Pod', podJson('shop', 'a', '10.0.1.1', 'n1'))
    const kc = new KubeConfig()
    kc.loadFromString(api.kubeconfig())
    const store = new ObjectStore(defaultPipeline)
    const undecodable: string[] = []
    const informers = startInformers(
      kc,
      store,
      { signal: () => undefined, onUndecodable: (_k, _s, p) => undecodable.push(p) },
      { relistInitialMs: 50, maxEventBytes: 1000 },
    )
    cleanups.push(() => informers.stop())
    await informers.synced(10_000)
    await waitFor(() => api.openWatches === 3, 5000, 'watches open')
    api.injectWatchLine('Pod', `{"type":"ADDED","object":{"pad":"${'x'.repeat(5000)}"}}`)
    await waitFor(() => undecodable.length === 1, 5000, 'counted')
    expect(undecodable[0]).toMatch(/over the limit/)
    api.apply('Pod', podJson('shop', 'b', '10.0.1.2', 'n1'))
    await waitFor(() => store.counts().Pod === 2, 5000, 'later events still arrive')
  })
})

describe('the agent with undecodable input', () => {
  async function agentRig(setup: (api: FakeApiServer) => void = () => undefined) {
    const api = new FakeApiServer({ bookmarkIntervalMs: 0 })
    await api.start()
    cleanups.push(() => api.stop())
    api.apply('Namespace', namespaceJson('shop'))
    api.apply('Pod', podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }))
    api.apply('Pod', podJson('shop', 'web', '10.0.1.4', 'n1', { app: 'web' }))
    api.apply('NetworkPolicy', denyAllJson('shop'))
    setup(api)
    const kc = new KubeConfig()
    kc.loadFromString(api.kubeconfig())
    const k = recordingKernel()
    const agent: Agent = await startAgent(
      {
        nodeName: 'n1',
        kubeConfig: kc,
        backend: 'nftables',
        syncPeriodMs: 60_000,
        cacheSyncTimeoutMs: 10_000,
        debounceMs: 10,
        healthAddr: { host: '127.0.0.1', port: 0 },
        cleanupOnExit: false,
        logger: pino({ level: 'silent' }),
        watchBackoffInitialMs: 20,
        relistInitialMs: 50,
      },
      { dataplane: k.dataplane },
    )
    cleanups.push(() => agent.stop())
    return { api, agent, k }
  }
  const isolated = (text: string) => [...text.matchAll(/chain (pod_in_\S+) \{/g)].map((m) => m[1]).sort()

  it('a pod list with an item without metadata: every other pod is isolated, and /healthz says the list was partial', async () => {
    const { agent, k } = await agentRig((api) => {
      api.listExtras.Pod = [{ spec: { nodeName: 'n1' } }]
    })
    await agent.ready
    expect(isolated(k.text)).toEqual(['pod_in_shop_db', 'pod_in_shop_web'])
    const h = agent.health()
    expect(h.healthy).toBe(true)
    expect(h.details.join('\n')).toMatch(/last list incomplete .*: Pod/)
    expect(
      await agent.metrics.registry.getSingleMetricAsString('palisade_undecodable_objects_total'),
    ).toMatch(/kind="Pod",source="list"\} 1/)
  })

  it('each malformed watch event of the issue is survived and changes no rule', async () => {
    const { api, agent, k } = await agentRig()
    await agent.ready
    // one watch per kind, and the agent's own Node (its pod ranges)
    await waitFor(() => api.openWatches === 4, 5000, 'watches open')
    const before = isolated(k.text)
    expect(before).toEqual(['pod_in_shop_db', 'pod_in_shop_web'])
    const lines = [
      '{"type":"ADDED","object":null}',
      '{"type":"ADDED","object":{"spec":{}}}',
      '{"type":"ERROR","object":null}',
      '{"type":"ADDED"}',
      '{"type":"MODIFIED","object":{"metadata":"x"}}',
      '{"type":"DELETED","object":{}}',
    ]
    let since = 0
    for (const [i, line] of lines.entries()) {
      // Each undecodable event makes its kind list again and open a new watch: inject into that one.
      for (const kind of ['Pod', 'NetworkPolicy', 'Namespace'] as const) {
        await waitFor(
          () => api.injectWatchLine(kind, line, since) === 1,
          5000,
          `a ${kind} watch to inject into`,
        )
      }
      since = api.requests.length
      await waitFor(
        async () =>
          (await agent.metrics.registry.getSingleMetricAsString('palisade_undecodable_objects_total'))
            .split('\n')
            .filter((l) => /source="watch"\} /.test(l))
            .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0) ===
          3 * (i + 1),
        5000,
        `line ${i} counted for every kind`,
      )
      expect(isolated(k.text)).toEqual(before)
      expect(agent.health().healthy).toBe(true)
    }
  })
})
