/** The agent learns its node's pod ranges from its own Node and never shrinks them (docs/semantics.md#unknown-local-pods). */
import { KubeConfig } from '@kubernetes/client-node'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeApiServer } from '../../harness/fake-apiserver.js'
import { type Agent, type AgentOptions, startAgent } from '../../src/agent/index.js'
import { nextPodRanges } from '../../src/agent/node-ranges.js'
import type { JsonObject } from '../../src/model/index.js'
import { allowFromJson, namespaceJson, podJson } from '../fixtures.js'
import { recordingKernel, waitFor } from './fixtures.js'

const nodeJson = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  spec,
})

describe('nextPodRanges', () => {
  it.each([
    {
      name: 'first valid ranges',
      prev: undefined,
      spec: { podCIDRs: ['10.0.1.0/24'] },
      ranges: ['10.0.1.0/24'],
      changed: true,
    },
    {
      name: 'same ranges',
      prev: ['10.0.1.0/24'],
      spec: { podCIDRs: ['10.0.1.0/24'] },
      ranges: ['10.0.1.0/24'],
      changed: false,
    },
    {
      name: 'a refused update keeps the last good',
      prev: ['10.0.1.0/24'],
      spec: { podCIDRs: ['bad'] },
      ranges: ['10.0.1.0/24'],
      changed: false,
    },
    {
      name: 'a missing field keeps the last good',
      prev: ['10.0.1.0/24'],
      spec: {},
      ranges: ['10.0.1.0/24'],
      changed: false,
    },
    { name: 'nothing known and nothing given', prev: undefined, spec: {}, ranges: undefined, changed: false },
    {
      name: 'new valid ranges replace',
      prev: ['10.0.1.0/24'],
      spec: { podCIDRs: ['10.0.1.0/24', 'fd00::/64'] },
      ranges: ['10.0.1.0/24', 'fd00::/64'],
      changed: true,
    },
  ])('$name', ({ prev, spec, ranges, changed }) => {
    const step = nextPodRanges(prev, nodeJson('n1', spec) as unknown as JsonObject)
    expect(step.ranges).toEqual(ranges)
    expect(step.changed).toBe(changed)
  })
})

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function rig(extra: Partial<AgentOptions>, node?: Record<string, unknown>) {
  const api = new FakeApiServer()
  await api.start()
  cleanups.push(() => api.stop())
  api.apply('Namespace', namespaceJson('shop'))
  api.apply('Pod', podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }))
  api.apply('Pod', podJson('shop', 'web', '10.0.2.3', 'n2', { role: 'web' }))
  api.apply('NetworkPolicy', allowFromJson('shop', 'web-to-db', 'db', 'web', 5432))
  api.apply('Node', nodeJson('n2', { podCIDRs: ['10.0.2.0/24'] }))
  if (node) api.apply('Node', node)
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
      cleanupOnExit: false,
      logger: pino({ level: 'silent' }),
      watchBackoffInitialMs: 20,
      retryInitialMs: 50,
      retryMaxMs: 200,
      ...extra,
    },
    { dataplane: k.dataplane },
  )
  cleanups.push(() => agent.stop())
  return { api, agent, k }
}

const DROP = /ip saddr @pod_ranges_v4 ip saddr != @local_pods_v4 counter drop/

describe('agent: pod ranges from its own Node', () => {
  it('applies the Node spec.podCIDRs from the first sync, and only its own Node', async () => {
    const { api, agent, k } = await rig({}, nodeJson('n1', { podCIDRs: ['10.0.1.0/24'] }))
    await agent.ready
    expect(k.full).toHaveLength(1)
    expect(k.text).toMatch(DROP)
    expect(k.text).toContain('10.0.1.0/24')
    expect(k.text).not.toContain('10.0.2.0/24')
    const nodeReqs = api.requests.filter((r) => r.path === '/api/v1/nodes')
    expect(nodeReqs.length).toBeGreaterThan(0)
    expect(nodeReqs.every((r) => r.query.fieldSelector === 'metadata.name=n1')).toBe(true)
  })

  it('learns ranges given later, and keeps them when an update is refused or the Node is deleted', async () => {
    const { api, agent, k } = await rig({}, nodeJson('n1', {}))
    await agent.ready
    expect(k.text).not.toMatch(DROP)
    expect(k.text).toContain('the node pod ranges are unknown')
    api.apply('Node', nodeJson('n1', { podCIDRs: ['10.0.1.0/24'] }))
    await waitFor(() => DROP.test(k.text), 5000, 'the ranges of the updated Node')
    api.apply('Node', nodeJson('n1', { podCIDRs: ['10.0.1.0/24', '10.9.0.0/16'] }))
    api.delete('Node', '', 'n1')
    api.apply('Pod', podJson('shop', 'db2', '10.0.1.4', 'n1', { app: 'db' }))
    await waitFor(() => k.text.includes('10.0.1.4'), 5000, 'the new pod')
    expect(k.text).toMatch(DROP)
    expect(k.text).toContain('10.0.1.0/24')
    expect(k.text).not.toContain('10.9.0.0/16')
  })

  it('--pod-cidr wins: the Node is not watched', async () => {
    const { api, agent, k } = await rig(
      { podRanges: ['10.0.0.0/16'] },
      nodeJson('n1', { podCIDRs: ['10.0.1.0/24'] }),
    )
    await agent.ready
    expect(k.text).toContain('10.0.0.0/16')
    expect(k.text).not.toContain('10.0.1.0/24')
    expect(api.requests.some((r) => r.path === '/api/v1/nodes')).toBe(false)
  })

  it('--unknown-pods allow: nothing dropped, the header says so', async () => {
    const { agent, k } = await rig({ unknownPods: 'allow' }, nodeJson('n1', { podCIDRs: ['10.0.1.0/24'] }))
    await agent.ready
    expect(k.text).not.toMatch(DROP)
    expect(k.text).toContain('Unknown pods: allowed')
  })
})
