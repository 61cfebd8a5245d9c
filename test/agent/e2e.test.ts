/**
 * End to end: the agent with the fake API server and the REAL nftables backend inside a throwaway
 * network namespace. Every namespace is created under a unique prefix and deleted in afterEach.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FakeApiServer } from '../../harness/fake-apiserver.js'
import { type Agent, startAgent } from '../../src/agent/index.js'
import { main } from '../../src/cli/main.js'
import { allowFromJson, namespaceJson, podJson } from '../fixtures.js'
import { canRunNftInNetns, waitFor } from './fixtures.js'

const canRun = canRunNftInNetns()

let ns = ''
let stateDir = ''
const cleanups: (() => Promise<void>)[] = []

const nft = (...args: string[]): string => {
  try {
    return execFileSync('ip', ['netns', 'exec', ns, 'nft', ...args], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
  } catch {
    return ''
  }
}
const table = () => nft('list', 'table', 'inet', 'palisade')

beforeEach(() => {
  if (!canRun) return
  ns = `palagent-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  execFileSync('ip', ['netns', 'add', ns], { timeout: 10_000 })
  stateDir = mkdtempSync(join(tmpdir(), 'palisade-agent-state-'))
})

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined)
  if (!canRun) return
  try {
    execFileSync('ip', ['netns', 'del', ns], { timeout: 10_000 })
  } catch {
    // already gone
  }
  rmSync(stateDir, { recursive: true, force: true })
})

const nsSelectorPolicy = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: 'shop', name: 'from-monitoring' },
  spec: {
    podSelector: { matchLabels: { app: 'db' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { purpose: 'monitoring' } } }] }],
  },
}

describe.skipIf(!canRun)('agent end to end (fake API server, real nftables in a netns)', () => {
  it('follows policies, pods and namespace labels, survives API restarts and repairs drift', async () => {
    const api = new FakeApiServer()
    await api.start()
    cleanups.push(() => api.stop())
    api.apply('Namespace', namespaceJson('shop'))
    api.apply('Namespace', namespaceJson('ops'))
    api.apply('Pod', podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }))
    api.apply('Pod', podJson('shop', 'web', '10.0.2.3', 'n2', { role: 'web' }))
    api.apply('Pod', podJson('ops', 'prom', '10.0.2.50', 'n2', { app: 'prom' }))
    const kc = new KubeConfig()
    kc.loadFromString(api.kubeconfig())
    const agent: Agent = await startAgent({
      nodeName: 'n1',
      kubeConfig: kc,
      backend: 'nftables',
      syncPeriodMs: 700,
      cacheSyncTimeoutMs: 10_000,
      debounceMs: 20,
      cleanupOnExit: true,
      netns: ns,
      stateDir,
      logger: pino({ level: process.env.E2E_LOG ?? 'silent' }),
      watchBackoffInitialMs: 50,
      watchBackoffMaxMs: 300,
    })
    cleanups.push(() => agent.stop())
    await agent.ready
    // No policy yet: the table exists with empty dispatch maps.
    expect(table()).toContain('chain ingress')
    expect(table()).not.toContain('pod_in_shop_db')

    // Create a policy: the local pod gets its chain.
    api.apply('NetworkPolicy', allowFromJson('shop', 'web-to-db', 'db', 'web', 5432))
    await waitFor(() => table().includes('chain pod_in_shop_db'), 10_000, 'policy enforced')
    expect(table()).toMatch(/elements = \{ 10\.0\.2\.3 \}/)

    // A new peer pod: one element batch (incremental), visible in the kernel set.
    const incrementalBefore = (await agent.metrics.incrementalUpdates.get()).values[0]?.value ?? 0
    api.apply('Pod', podJson('shop', 'web2', '10.0.2.4', 'n2', { role: 'web' }))
    await waitFor(() => table().includes('10.0.2.4'), 10_000, 'pod added to the peer set')
    await waitFor(
      async () => ((await agent.metrics.incrementalUpdates.get()).values[0]?.value ?? 0) > incrementalBefore,
      2000,
      'the pod add applied as an element update',
    )

    // Pod deleted: its address leaves the set.
    api.delete('Pod', 'shop', 'web2')
    await waitFor(() => !table().includes('10.0.2.4'), 10_000, 'pod removed from the peer set')

    // Namespace labels: a namespaceSelector peer follows them.
    api.apply('NetworkPolicy', nsSelectorPolicy)
    await waitFor(() => table().includes('pol_shop_from-monitoring_in'), 10_000, 'namespaceSelector policy')
    expect(table()).not.toContain('10.0.2.50')
    api.apply('Namespace', namespaceJson('ops', { purpose: 'monitoring' }))
    await waitFor(() => table().includes('10.0.2.50'), 10_000, 'namespace label change')

    // Kill every watch mid-stream, then restart the API server: rules stay, the agent recovers.
    api.dropWatches()
    await api.stop()
    await new Promise((r) => setTimeout(r, 400))
    expect(table()).toContain('chain pod_in_shop_db')
    api.delete('NetworkPolicy', 'shop', 'web-to-db')
    api.compact()
    await api.start()
    await waitFor(
      () => !table().includes('pol_shop_web-to-db_in'),
      15_000,
      'policy deletion after API restart',
    )
    expect(table()).toContain('pol_shop_from-monitoring_in')

    // Someone deletes our table: the periodic resync puts it back.
    nft('delete', 'table', 'inet', 'palisade')
    expect(table()).toBe('')
    await waitFor(() => table().includes('pol_shop_from-monitoring_in'), 10_000, 'drift repaired')
    await waitFor(
      async () =>
        /result="repaired"\} [1-9]/.test(
          await agent.metrics.registry.getSingleMetricAsString('palisade_resyncs_total'),
        ),
      2000,
      'repair counted',
    )

    // --cleanup-on-exit: stopping removes the table.
    await agent.stop()
    expect(table()).toBe('')
  })

  it('with --state-dir and the iptables backend, resyncs touch only the agent state files there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-agent-dir-'))
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(
      join(dir, 'cluster.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          namespaceJson('shop'),
          podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }),
          allowFromJson('shop', 'p', 'db', 'web'),
        ],
      }),
    )
    // Files beside the state that are not the agent's (issue 14, item 5: every resync ran rm -rf DIR).
    writeFileSync(join(stateDir, 'notes.txt'), 'mine')
    mkdirSync(join(stateDir, 'other'))
    writeFileSync(join(stateDir, 'other', 'keep.json'), '{}')
    const agent = await startAgent({
      nodeName: 'n1',
      fromDir: dir,
      backend: 'iptables',
      iptables: 'nft',
      syncPeriodMs: 150,
      cacheSyncTimeoutMs: 10_000,
      debounceMs: 10,
      cleanupOnExit: true,
      netns: ns,
      stateDir,
      logger: pino({ level: process.env.E2E_LOG ?? 'silent' }),
    })
    cleanups.push(() => agent.stop())
    await agent.ready
    await waitFor(
      async () =>
        /result="(clean|repaired)"\} [3-9]/.test(
          await agent.metrics.registry.getSingleMetricAsString('palisade_resyncs_total'),
        ),
      15_000,
      'three resyncs',
    )
    expect(readFileSync(join(stateDir, 'notes.txt'), 'utf8')).toBe('mine')
    expect(readFileSync(join(stateDir, 'other', 'keep.json'), 'utf8')).toBe('{}')
    const ipt = execFileSync('ip', ['netns', 'exec', ns, 'iptables-nft-save', '-t', 'filter'], {
      encoding: 'utf8',
    })
    expect(ipt).toContain('-A FORWARD -j PAL-FORWARD')
    await agent.stop()
    expect(readFileSync(join(stateDir, 'notes.txt'), 'utf8')).toBe('mine')
  })

  it('palisade agent --from-dir keeps the rules in force after SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-agent-dir-'))
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }))
    const docs = [
      namespaceJson('shop'),
      podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }),
      allowFromJson('shop', 'p', 'db', 'web'),
    ]
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }))
    const exit = main([
      'agent',
      '--node-name',
      'n1',
      '--from-dir',
      dir,
      '--netns',
      ns,
      '--health-addr',
      '127.0.0.1:0',
      '--debounce',
      '10ms',
      '--log-level',
      'silent',
    ])
    cleanups.push(async () => {
      process.emit('SIGTERM')
      await exit
      execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {
        input: 'table inet palisade\ndelete table inet palisade\n',
      })
    })
    await waitFor(() => table().includes('chain pod_in_shop_db'), 10_000, 'rules from the folder')
    // A new file in the folder is picked up.
    writeFileSync(
      join(dir, 'deny.json'),
      JSON.stringify({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { namespace: 'shop', name: 'deny-all' },
        spec: { podSelector: {}, policyTypes: ['Ingress'] },
      }),
    )
    await waitFor(() => table().includes('pol_shop_deny-all_in'), 10_000, 'new file enforced')
    process.emit('SIGTERM')
    expect(await exit).toBe(0)
    expect(table()).toContain('chain pod_in_shop_db')
  })
})
