/**
 * Policy kinds Palisade does not analyse (docs/semantics.md#other-policy-kinds): a warning on every
 * command, counted in lint's summary, and the answer marked partial; harmless kinds stay quiet (-v).
 */
import { describe, expect, it } from 'vitest'
import { runCli } from './run.js'

const dir = new URL('../../examples/other-vendors/', import.meta.url).pathname

const KINDS = [
  'policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy',
  'policy.networking.k8s.io/v1alpha1 BaselineAdminNetworkPolicy',
  'crd.antrea.io/v1beta1 ClusterNetworkPolicy',
  'crd.antrea.io/v1beta1 NetworkPolicy',
  'crd.projectcalico.org/v1 NetworkPolicy',
  'projectcalico.org/v3 GlobalNetworkPolicy',
  'projectcalico.org/v3 NetworkPolicy',
  'cilium.io/v2 CiliumNetworkPolicy',
  'cilium.io/v2 CiliumClusterwideNetworkPolicy',
]

describe('other vendors’ policy kinds', () => {
  it.each([
    ['check', '--from', 'shop/client', '--to', 'shop/web', '--port', '80'],
    ['matrix'],
    ['explain'],
    ['lint'],
  ])('%s warns about each one, never an error', async (...args) => {
    const r = await runCli([...args, dir])
    // lint prints its findings on stdout, the analysis commands their diagnostics on stderr.
    const out = `${r.stdout}${r.stderr}`
    const warnings = out.split('\n').filter((l) => l.includes('[load.unanalysed-policy]'))
    expect(warnings).toHaveLength(KINDS.length)
    for (const k of KINDS) expect(out).toContain(`${k} (enforced by`)
    expect(warnings.every((l) => /warning: .*not analysed: verdicts ignore it/.test(l))).toBe(true)
    expect(out).not.toMatch(/error:/)
    // A harmless kind is still only listed with -v.
    expect(out).not.toContain('Service shop/web')
  })

  it('marks the verdict partial, in text and JSON', async () => {
    const args = ['check', dir, '--from', 'shop/client', '--to', 'shop/web', '--port', '80']
    const text = await runCli(args)
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(
      'note: 9 policies of other kinds were not analysed: this verdict assumes the cluster holds only what was read',
    )
    const json = JSON.parse((await runCli([...args, '-o', 'json'])).stdout)
    expect(json.partial).toBe(true)
    expect(json.reasons).toHaveLength(9)
    expect(json.reasons[0]).toMatchObject({
      code: 'load.unanalysed-policy',
      source: expect.stringMatching(/:\d+$/),
    })
  })

  it('counts them in the lint summary', async () => {
    const r = await runCli(['lint', dir, '-o', 'json'])
    expect(JSON.parse(r.stdout).counts.warning).toBeGreaterThanOrEqual(9)
  })

  it('-v still lists harmless skipped kinds', async () => {
    const r = await runCli(['matrix', dir, '-v'])
    expect(r.stderr).toContain('v1 Service does not take part in network policy: skipped')
  })
})
