/**
 * The nftables edge against the real kernel, inside a throwaway network namespace: apply, skip an
 * unchanged reload, apply a change, keep the previous ruleset when a load fails, repair drift, clean up
 * without touching a foreign table.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CompiledRuleset, compileNode } from '../../src/backends/index.js'
import { applyRuleset, cleanup, execCommand, nftTableHandle } from '../../src/dataplane/index.js'
import { CASES } from '../compile/fixtures.js'
import { createNetns, deleteNetns, kernelSkipReason } from '../compile/netns.js'

const skip = await kernelSkipReason()

function rulesetOf(name: string): CompiledRuleset {
  const c = CASES.find((x) => x.name === name)
  if (!c) throw new Error(`no case ${name}`)
  return compileNode(c.cluster, 'node-1', 'nftables').value
}

describe.skipIf(skip !== undefined)(`nftables apply and cleanup${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let ns = ''
  let stateDir = ''
  const list = async (table = 'palisade'): Promise<string> =>
    (await execCommand('nft', ['list', 'table', 'inet', table], { netns: ns })).stdout
  beforeAll(async () => {
    ns = await createNetns('apply')
    stateDir = await mkdtemp(join(tmpdir(), 'pz-state-'))
    const r = await execCommand('nft', ['add', 'table', 'inet', 'other'], { netns: ns })
    expect(r.code).toBe(0)
    await execCommand('nft', ['add', 'chain', 'inet', 'other', 'keep'], { netns: ns })
  })
  afterAll(async () => {
    if (ns) await deleteNetns(ns)
    if (stateDir) await rm(stateDir, { recursive: true, force: true })
  })

  it('applies a ruleset into an empty namespace', async () => {
    const r = await applyRuleset(rulesetOf('default-deny'), { netns: ns, stateDir })
    expect(r.changed).toBe(true)
    const text = await list()
    expect(text).toContain('chain pod_in_prod_db')
    expect(text).toContain('10.240.1.11 : jump pod_in_prod_db')
  })

  it('does not reload an unchanged ruleset', async () => {
    const before = await nftTableHandle({ netns: ns })
    const r = await applyRuleset(rulesetOf('default-deny'), { netns: ns, stateDir })
    expect(r.changed).toBe(false)
    expect(await nftTableHandle({ netns: ns })).toBe(before)
  })

  it('applies a changed ruleset in one transaction', async () => {
    const before = await nftTableHandle({ netns: ns })
    const r = await applyRuleset(rulesetOf('allow-from-pod-selector'), { netns: ns, stateDir })
    expect(r.changed).toBe(true)
    expect(await nftTableHandle({ netns: ns })).not.toBe(before)
    const text = await list()
    expect(text).toContain('chain pol_prod_allow-frontend-to-db_in')
    expect(text).not.toContain('pol_prod_default-deny-ingress_in')
  })

  it('leaves the previous ruleset in force when a load fails', async () => {
    const good = await list()
    const handle = await nftTableHandle({ netns: ns })
    const valid = rulesetOf('default-deny')
    const text = valid.files['palisade.nft'] ?? ''
    const broken: CompiledRuleset = {
      ...valid,
      files: {
        'palisade.nft': text.replace('counter drop comment', 'ip saddr @no_such_set counter drop comment'),
      },
    }
    await expect(applyRuleset(broken, { netns: ns, stateDir })).rejects.toThrow(/no_such_set|No such file/)
    expect(await nftTableHandle({ netns: ns })).toBe(handle)
    expect(await list()).toBe(good)
  })

  it('repairs a table deleted behind its back even when the text did not change', async () => {
    const rs = rulesetOf('allow-from-pod-selector')
    expect((await applyRuleset(rs, { netns: ns, stateDir })).changed).toBe(false)
    await execCommand('nft', ['delete', 'table', 'inet', 'palisade'], { netns: ns })
    expect(await nftTableHandle({ netns: ns })).toBeUndefined()
    expect((await applyRuleset(rs, { netns: ns, stateDir })).changed).toBe(true)
    expect(await list()).toContain('chain pol_prod_allow-frontend-to-db_in')
  })

  it('cleanup removes only table inet palisade, and twice is fine', async () => {
    await cleanup({ netns: ns, backend: 'nftables', stateDir })
    expect(await nftTableHandle({ netns: ns })).toBeUndefined()
    await cleanup({ netns: ns, backend: 'nftables', stateDir })
    const tables = (await execCommand('nft', ['list', 'tables'], { netns: ns })).stdout
    expect(tables).toContain('table inet other')
    expect(await list('other')).toContain('chain keep')
    // after cleanup the next apply loads again (the state file went with the table)
    expect((await applyRuleset(rulesetOf('default-deny'), { netns: ns, stateDir })).changed).toBe(true)
    await cleanup({ netns: ns, backend: 'nftables', stateDir })
  })
})
