// examples/cluster-network-policy through the CLI: check (text and JSON), explain --pod, matrix and lint,
// against goldens (the README shows the same output).

import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { diffClusters, diffToJSON, renderDiffText } from '../../src/diff/index.js'
import { loadCluster } from '../../src/load/index.js'
import { runCli } from '../cli/run.js'
import { expectGolden } from '../golden.js'

const dir = 'examples/cluster-network-policy'

describe('examples/cluster-network-policy', () => {
  it.each([
    ['check-pass-to-np', ['check', dir, '--from', 'acme-web/web', '--to', 'acme-db/db', '--port', '5432']],
    ['check-other-tenant', ['check', dir, '--from', 'globex/shop', '--to', 'acme-db/db', '--port', '5432']],
    ['check-metadata', ['check', dir, '--from', 'acme-web/web', '--to', '169.254.169.254', '--port', '80']],
    ['explain-db', ['explain', dir, '--pod', 'acme-db/db']],
    ['matrix', ['matrix', dir]],
    ['lint', ['lint', dir]],
  ])('%s', async (name, args) => {
    const r = await runCli(args)
    expect(r.stderr).toBe('')
    await expectGolden(`examples/cluster-network-policy/${name}.txt`, r.stdout)
  })

  it('check -o json carries the tier, the deciding rule and the Pass crossed', async () => {
    const r = await runCli([
      'check',
      dir,
      '--from',
      'acme-db/db',
      '--to',
      'acme-web/web',
      '--port',
      '8080',
      '-o',
      'json',
    ])
    await expectGolden('examples/cluster-network-policy/check-baseline.json', r.stdout)
    const v = JSON.parse(r.stdout)
    expect(v.allowed).toBe(false)
    expect(v.ingress.tier).toBe('Baseline')
    expect(v.ingress.decidedBy).toMatchObject({
      policy: 'default-deny',
      tier: 'Baseline',
      priority: 100,
      rule: 1,
      action: 'Deny',
    })
    expect(v.ingress.passedBy).toEqual([
      expect.objectContaining({ policy: 'tenant-acme', action: 'Pass', rule: 0 }),
    ])
  })

  it('compile enforces them with both backends (no warning; tier chains in the ruleset)', async () => {
    const nft = await runCli(['compile', dir, '--node', 'worker-1'])
    expect(nft.code).toBe(0)
    expect(nft.stderr).not.toContain('ClusterNetworkPolic')
    expect(nft.stdout).toContain('chain adm_tenant-acme_in {')
    const ipt = await runCli(['compile', dir, '--node', 'worker-1', '--backend', 'iptables'])
    expect(ipt.code).toBe(0)
    expect(ipt.stderr).not.toContain('ClusterNetworkPolic')
    expect(ipt.stdout).toContain('-A PAL-adm_tenant-acme_in ')
  })

  it('connlist --exposure says which ClusterNetworkPolicies decide beyond the NetworkPolicy rules it reads', async () => {
    const r = await runCli(['connlist', dir, '--exposure'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(
      'ClusterNetworkPolicies Admin tenant-acme, Baseline default-deny also decide (the lines above read NetworkPolicy rules only; the connection list is exact)',
    )
    expect(r.stdout).toContain('ClusterNetworkPolicies Admin deny-metadata-service also decide')
  })

  it('diff: adding the Admin tier names the rule that now decides (text and JSON)', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'))
    const load = (skip: string[]) =>
      loadCluster(
        files
          .filter((f) => !skip.includes(f))
          .map((f) => ({ file: `${dir}/${f}`, text: readFileSync(`${dir}/${f}`, 'utf8') })),
        { validate: 'strict' },
      ).cluster
    const before = load(['tenant-isolation.yaml'])
    const after = load([])
    const d = diffClusters(before, after)
    const sides = { old: 'without tenant-isolation.yaml', new: dir }
    const text = renderDiffText(d, sides)
    expect(text).toContain(
      'now denied by Admin ClusterNetworkPolicy tenant-acme (priority 20) ingress[2] "other-tenants": Deny (examples/cluster-network-policy/tenant-isolation.yaml:27)',
    )
    const json = diffToJSON(d, sides)
    const reasons = json.connections.flatMap((c) => c.reasons.map((r) => r.after))
    expect(reasons.some((r) => 'decidedBy' in r && String(r.decidedBy).includes('tenant-acme'))).toBe(true)
  })
})
