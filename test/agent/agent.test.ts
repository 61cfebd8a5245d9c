import http from 'node:http'
import net from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeApiServer } from '../../harness/fake-apiserver.js'
import { type Agent, type AgentDeps, type AgentOptions, startAgent } from '../../src/agent/index.js'
import { printRuleset } from '../../src/backends/index.js'
import { allowFromJson, badPolicyJson, denyAllJson, namespaceJson, podJson } from '../fixtures.js'
import { recordingKernel, waitFor } from './fixtures.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function fakeKernel() {
  const k = recordingKernel()
  return { k, deps: { dataplane: k.dataplane } }
}

async function rig(extra: Partial<AgentOptions> = {}, extraDeps: Partial<AgentDeps> = {}) {
  const api = new FakeApiServer()
  await api.start()
  cleanups.push(() => api.stop())
  api.apply('Namespace', namespaceJson('shop'))
  api.apply('Pod', podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }))
  api.apply('Pod', podJson('shop', 'web', '10.0.2.3', 'n2', { role: 'web' }))
  api.apply('NetworkPolicy', allowFromJson('shop', 'web-to-db', 'db', 'web', 5432))
  const kc = new KubeConfig()
  kc.loadFromString(api.kubeconfig())
  const { k, deps } = fakeKernel()
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
      retryInitialMs: 50,
      retryMaxMs: 200,
      ...extra,
    },
    { ...deps, ...extraDeps },
  )
  cleanups.push(() => agent.stop())
  return { api, agent, k }
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`http://127.0.0.1:${port}${path}`, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => {
          body += c.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      .on('error', reject)
  })
}

describe('agent (fake API server, recorded kernel)', () => {
  it('applies the node ruleset once the caches synced', async () => {
    const { agent, k } = await rig()
    await agent.ready
    expect(k.full).toHaveLength(1)
    const r = await get(agent.healthPort, '/readyz')
    expect(r.status).toBe(200)
    expect(r.body).toMatch(/^ready\n/)
    expect(k.text).toContain('chain pod_in_shop_db')
    expect(k.text).toContain('10.0.2.3')
  })

  it('adds a new peer pod as an element update, not a reload', async () => {
    const { api, agent, k } = await rig()
    await agent.ready
    api.apply('Pod', podJson('shop', 'web2', '10.0.2.4', 'n2', { role: 'web' }))
    await waitFor(() => k.scripts.some((s) => s.includes('10.0.2.4')), 5000, 'element batch')
    expect(k.full).toHaveLength(1)
    const metrics = await get(agent.metricsPort, '/metrics')
    expect(metrics.body).toMatch(/palisade_incremental_updates_total 1/)
    expect(metrics.body).toMatch(/palisade_event_to_enforced_seconds_count\{path="incremental"\} 1/)
  })

  it('applies a new policy as one chain-level batch, without a full reload', async () => {
    const { api, agent, k } = await rig()
    await agent.ready
    api.apply('NetworkPolicy', denyAllJson('shop'))
    await waitFor(() => k.scripts.length === 1, 5000, 'incremental batch')
    expect(k.scripts[0]).toMatch(/^\tchain pol_shop_deny-all_in \{$/m)
    expect(k.full).toHaveLength(1)
  })

  it('fails closed on a policy it cannot read, reports it as an Event, and still enforces the others', async () => {
    const { api, agent, k } = await rig()
    await agent.ready
    api.apply('NetworkPolicy', badPolicyJson('shop', 'broken'))
    api.apply('NetworkPolicy', denyAllJson('shop'))
    await waitFor(() => k.text.includes('pol_shop_deny-all_in'), 5000, 'good policy enforced')
    await waitFor(() => k.text.includes('pol_shop_broken_in'), 5000, 'bad policy enforced fail-closed')
    // its chain admits nothing: no accept rule names it
    expect(k.text).not.toMatch(/comment "shop\/broken ingress\[/)
    await waitFor(() => api.events.length > 0, 5000, 'event posted')
    const ev = api.events[0] as Record<string, Record<string, unknown>>
    expect(ev.involvedObject).toMatchObject({ kind: 'NetworkPolicy', namespace: 'shop', name: 'broken' })
    expect(ev.reason).toBe('PalisadeFailClosed')
    expect(String(ev.message)).toMatch(/fails closed.*isolated for Ingress with no allow rule/)
    expect(String(ev.message)).toMatch(/spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr/)
    const metrics = (await get(agent.metricsPort, '/metrics')).body
    expect(metrics).toMatch(/palisade_invalid_objects 1/)
    expect(metrics).toMatch(/palisade_fail_closed_policies 1/)
  })

  it('counts an invalid object at the next scrape although it triggers no sync', async () => {
    const { api, agent, k } = await rig()
    await agent.ready
    const scripts = k.scripts.length
    expect((await get(agent.metricsPort, '/metrics')).body).toMatch(/palisade_invalid_objects 0/)
    api.apply('Pod', podJson('shop', 'broken', '10.0.2.9', 'n2', { role: 'not a label value!' }))
    await waitFor(() => api.events.length > 0, 5000, 'event posted')
    expect((await get(agent.metricsPort, '/metrics')).body).toMatch(/palisade_invalid_objects 1/)
    expect((await get(agent.metricsPort, '/metrics')).body).toMatch(
      /palisade_objects_watched\{kind="Pod"\} 3/,
    )
    // nothing was applied for it
    expect(k.scripts.length).toBe(scripts)
    expect(k.full).toHaveLength(1)
  })

  it('with --pod-interfaces routes, checks pod sources on the interfaces the routes name, and follows them', async () => {
    let routes = JSON.stringify([{ dst: '10.0.1.3', dev: 'cali-db', scope: 'link', flags: [] }])
    const { api, agent, k } = await rig({ podInterfaces: 'routes' }, { listRoutes: async () => routes })
    await agent.ready
    expect(k.text).toMatch(/"cali-db" \. 10\.0\.1\.3/)
    // A pod of this node arrives (its route with it) and db moved behind another interface: read again.
    routes = JSON.stringify([
      { dst: '10.0.1.3', dev: 'cali-db2', scope: 'link', flags: [] },
      { dst: '10.0.1.4', dev: 'cali-db3', scope: 'link', flags: [] },
    ])
    api.apply('Pod', podJson('shop', 'db3', '10.0.1.4', 'n1', { app: 'db' }))
    await waitFor(() => /"cali-db3" \. 10\.0\.1\.4/.test(k.text), 5000, 'new local pod mapped')
    const script = k.scripts.find((x) => x.includes('cali-db3')) as string
    expect(script).toMatch(/delete element inet palisade pod_sources_v4 \{[^}]*"cali-db" \. 10\.0\.1\.3/)
    expect(script).toMatch(/"cali-db2" \. 10\.0\.1\.3/)
    // A pod of another node does not make the agent read the routes again.
    const seen = k.scripts.length
    routes = JSON.stringify([{ dst: '10.0.1.3', dev: 'cali-zzz', scope: 'link', flags: [] }])
    api.apply('Pod', podJson('shop', 'web9', '10.0.2.9', 'n2', { role: 'web' }))
    await waitFor(() => k.scripts.length > seen, 5000, 'remote pod applied')
    expect(k.text).not.toContain('cali-zzz')
    expect(k.full).toHaveLength(1)
  })

  it('without --pod-interfaces, the ruleset says it relies on rp_filter', async () => {
    const { agent, k } = await rig()
    await agent.ready
    expect(k.text).toContain('pod interfaces unknown')
    expect(k.text).not.toContain('pod_sources_v4')
  })

  it('keeps the previous rules when an apply fails, retries, and recovers', async () => {
    const { api, agent, k } = await rig()
    await agent.ready
    k.failing = true
    api.apply('NetworkPolicy', denyAllJson('shop'))
    await waitFor(() => agent.loop.status().consecutiveFailures >= 2, 5000, 'failed retries')
    expect(k.full).toHaveLength(1) // the first ruleset is still the one in force
    const current = agent.current()
    expect(current && printRuleset(current).files['palisade.nft']).not.toContain('deny-all')
    expect((await get(agent.metricsPort, '/metrics')).body).toMatch(/palisade_apply_errors_total [2-9]/)
    k.failing = false
    await waitFor(() => k.text.includes('pol_shop_deny-all_in'), 5000, 'recovered')
  })

  it('enforces while its health port is taken, and serves it once freed (no exit)', async () => {
    const blocker = net.createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()))
    const port = (blocker.address() as net.AddressInfo).port
    const { agent, k } = await rig({ healthAddr: { host: '127.0.0.1', port } })
    await agent.ready
    expect(k.full).toHaveLength(1) // the rules are in force without the endpoint
    expect(agent.healthPort).toBe(0)
    await new Promise<void>((r) => blocker.close(() => r()))
    await waitFor(() => agent.healthPort === port, 10_000, 'bound once freed')
    expect((await get(port, '/readyz')).status).toBe(200)
  })

  it('turns unhealthy when no apply succeeds within the health window', async () => {
    const { api, agent, k } = await rig({ healthMinWindowMs: 300, syncPeriodMs: 100 })
    await agent.ready
    // A 300 ms window: on a loaded machine a scrape can land just outside it, so wait for the first 200.
    await waitFor(async () => (await get(agent.healthPort, '/healthz')).status === 200, 5000, 'healthy')
    k.failing = true
    api.apply('NetworkPolicy', denyAllJson('shop'))
    await waitFor(async () => (await get(agent.healthPort, '/healthz')).status === 503, 5000, 'unhealthy')
    // ready = the first ruleset was applied: a later failure is liveness's business, not readiness's
    expect((await get(agent.healthPort, '/readyz')).status).toBe(200)
    k.failing = false
    await waitFor(async () => (await get(agent.healthPort, '/healthz')).status === 200, 5000, 'healthy again')
  })

  it('is unhealthy until the caches synced, and keeps the kernel untouched meanwhile', async () => {
    const api = new FakeApiServer()
    await api.start()
    cleanups.push(() => api.stop())
    api.failLists = 503
    const kc = new KubeConfig()
    kc.loadFromString(api.kubeconfig())
    const { k, deps } = fakeKernel()
    const agent = await startAgent(
      {
        nodeName: 'n1',
        kubeConfig: kc,
        backend: 'nftables',
        syncPeriodMs: 60_000,
        cacheSyncTimeoutMs: 400,
        debounceMs: 10,
        healthAddr: { host: '127.0.0.1', port: 0 },
        cleanupOnExit: false,
        logger: pino({ level: 'silent' }),
        watchBackoffInitialMs: 20,
      },
      deps,
    )
    cleanups.push(() => agent.stop())
    const h = await get(agent.healthPort, '/healthz')
    expect(h.status).toBe(503)
    expect(h.body).toContain('caches synced: no')
    const r = await get(agent.healthPort, '/readyz')
    expect(r.status).toBe(503)
    expect(r.body).toMatch(/^not ready\n/)
    await expect(agent.ready).rejects.toThrow(/caches not synced/)
    expect(k.full).toHaveLength(0)
  })

  it('keeps the rules in force when the API server goes away, and follows it again after a restart', async () => {
    const { api, agent, k } = await rig()
    await agent.ready
    await api.stop()
    await new Promise((r) => setTimeout(r, 300))
    expect(k.full).toHaveLength(1)
    expect(k.cleaned).toBe(0)
    api.apply('NetworkPolicy', denyAllJson('shop'))
    await api.start()
    await waitFor(() => k.text.includes('pol_shop_deny-all_in'), 10_000, 'change made while away')
  })

  it('repairs drift at resync', async () => {
    const { agent, k } = await rig({ syncPeriodMs: 200 })
    await agent.ready
    // Someone deleted our table: the drift check says so, and the next resync reloads in full.
    const before = k.full.length
    k.tampered = true
    await waitFor(() => k.full.length >= before + 1, 5000, 'repair')
    expect(k.tampered).toBe(false)
    expect((await get(agent.metricsPort, '/metrics')).body).toMatch(
      /palisade_resyncs_total\{result="repaired"\} [1-9]/,
    )
  })

  it.each([
    { name: 'stop keeps the rules in force by default', cleanupOnExit: false, cleaned: 0 },
    { name: 'stop removes the rules with --cleanup-on-exit', cleanupOnExit: true, cleaned: 1 },
  ])('$name', async ({ cleanupOnExit, cleaned }) => {
    const { agent, k } = await rig({ cleanupOnExit })
    await agent.ready
    await agent.stop()
    expect(k.cleaned).toBe(cleaned)
  })
})
