import { afterAll, describe, expect, it } from 'vitest'
import { listLabIds, listLabNamespaces, runReloadTest } from '../../src/lab/index.js'
import { capture, labSkipReason } from './helpers.js'

const skip = labSkipReason()

describe.skipIf(skip !== undefined)(`palisade lab (CLI)${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const started: string[] = []
  afterAll(async () => {
    for (const id of started) await capture(['lab', 'down', '--lab', id])
  })

  it('lab fuzz --cluster-policies draws ClusterNetworkPolicies; a bad count is refused', async () => {
    const bad = await capture(['lab', 'fuzz', '--cluster-policies', 'x'])
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('palisade lab fuzz: --cluster-policies must be an integer 0..25, not "x"')
    const r = await capture(['lab', 'fuzz', '--seed', '1313', '--cases', '2', '--cluster-policies', '4'])
    expect(r.err).toMatch(
      /case seed=1313: \d+ pods, \d+ policies, \d+ ClusterNetworkPolicies, \d+ probes, 0 wrong/,
    )
    expect(r.out).toMatch(/^2 cases, \d+ probes, 0 failing/)
    expect(r.code).toBe(0)
  }, 120_000)

  it('lab verify on an example exits 0 and says every probe was as predicted', async () => {
    const r = await capture(['lab', 'verify', 'examples/seed-001-testing'])
    expect(r.err).not.toContain('MISMATCH')
    expect(r.out).toMatch(/128 probes \(\d+ allowed\), 128 as predicted, 0 wrong/)
    expect(r.code).toBe(0)
  })

  it('lab up, lab probe and lab down: the probed matrix has the shape of `matrix -o json` and nothing is left behind', async () => {
    const up = await capture(['lab', 'up', 'examples/seed-001-testing', '--mode', 'bridge'])
    expect(up.code).toBe(0)
    const id = up.out.trim()
    started.push(id)
    expect(await listLabIds()).toContain(id)
    const probe = await capture(['lab', 'probe', '--lab', id])
    expect(probe.code).toBe(0)
    const m = JSON.parse(probe.out) as {
      pods: string[]
      ports: string[]
      reachable: Record<string, Record<string, Record<string, boolean>>>
    }
    expect(m.pods).toContain('testing/nginx')
    expect(m.reachable['80/TCP']!['testing/myapp']!['default/debug']).toBe(false)
    expect(m.reachable['80/TCP']!['testing/nginx']!['testing/myapp']).toBe(true)
    const down = await capture(['lab', 'down', '--lab', id])
    expect(down.code).toBe(0)
    expect((await listLabNamespaces()).filter((n) => n.startsWith(`${id}-`))).toEqual([])
    expect(await listLabIds()).not.toContain(id)
  })

  it('bad options are usage errors (exit 2) before anything is built', async () => {
    expect((await capture(['lab', 'verify', 'examples/seed-001-testing', '--backend', 'pf'])).code).toBe(2)
    expect((await capture(['lab', 'verify', 'examples/seed-001-testing', '--mode', 'overlay'])).code).toBe(2)
    const empty = await capture(['lab', 'verify', 'examples/seed-001-typos', '--validate', 'warn'])
    expect(empty.err).toContain('nothing to verify')
    expect(empty.code).toBe(2)
  })

  it('40 atomic nftables reloads under streams leak no denied connection and break no allowed flow', async () => {
    const r = await runReloadTest({ reloads: 40, backend: 'nftables' })
    expect(r.failedReloads).toBe(0)
    expect(r.denied.tries).toBeGreaterThan(20)
    expect(r.tcp.sent).toBeGreaterThan(10)
    expect(r.leakedDenied).toBe(0)
    expect(r.brokenAllowed).toBe(0)
  })
})
