/**
 * The nftables edge against the real kernel, inside a throwaway network namespace: apply, skip an
 * unchanged reload, apply a change, keep the previous ruleset when a load fails, repair drift, clean up
 * without touching a foreign table; a dataplane's drift check reads the kernel's structure.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  applyRuleset,
  type CompiledRuleset,
  cleanup,
  compileNode,
  execCommand,
  getBackend,
} from '../../../src/backends/index.js'
import { type NftTable, nftTableHandle } from '../../../src/backends/nftables/index.js'
import { CASES, optionsOf } from '../../compile/fixtures.js'
import { createNetns, deleteNetns, kernelSkipReason } from '../../compile/netns.js'

const skip = await kernelSkipReason()

function rulesetOf(name: string, node = 'node-1'): CompiledRuleset<NftTable> {
  const c = CASES.find((x) => x.name === name)
  if (!c) throw new Error(`no case ${name}`)
  return compileNode(c.cluster, node, 'nftables', optionsOf(c)).value as CompiledRuleset<NftTable>
}

/** The ruleset with every rule of every chain rewritten by `f`. */
function withRules(rs: CompiledRuleset<NftTable>, f: (rule: string) => string): CompiledRuleset<NftTable> {
  const objects = rs.structure.objects.map((o) => (o.kind === 'chain' ? { ...o, rules: o.rules.map(f) } : o))
  return { ...rs, structure: { ...rs.structure, objects } }
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
    const broken = withRules(rulesetOf('default-deny'), (r) =>
      r.replace('counter drop comment', 'ip saddr @no_such_set counter drop comment'),
    )
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

  it('a dataplane loads through its checks once, then in one `nft -f` each time', async () => {
    await applyRuleset(rulesetOf('default-deny'), { netns: ns, stateDir })
    const dp = getBackend('nftables').connect({ netns: ns, stateDir })
    // The first apply of a dataplane trusts the state file: this ruleset is in force.
    expect(await dp.apply(rulesetOf('default-deny'))).toEqual({ changed: false, warnings: [] })
    // The same ruleset again: this dataplane applied it itself, and loads it when asked (drift repair).
    const handle = await nftTableHandle({ netns: ns })
    expect(await dp.apply(rulesetOf('default-deny'))).toEqual({ changed: true, warnings: [] })
    expect(await nftTableHandle({ netns: ns })).not.toBe(handle)
    await expect(
      dp.apply(withRules(rulesetOf('default-deny'), (r) => r.replace('accept', 'acept'))),
    ).rejects.toThrow(/nft -f failed/)
    expect(await list()).toContain('chain pod_in_prod_db')
  })
})

describe.skipIf(skip !== undefined)(`nftables drift${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let ns = ''
  let stateDir = ''
  const nft = async (...args: string[]) => {
    const r = await execCommand('nft', args, { netns: ns })
    if (r.code !== 0) throw new Error(r.stderr)
  }
  beforeAll(async () => {
    ns = await createNetns('drift')
    stateDir = await mkdtemp(join(tmpdir(), 'pz-state-'))
  })
  afterAll(async () => {
    if (ns) await deleteNetns(ns)
    if (stateDir) await rm(stateDir, { recursive: true, force: true })
  })

  const rows = CASES.flatMap((c) => ['node-1', 'node-2'].map((node) => ({ name: c.name, node })))
  it.each(rows)('$name on $node: the kernel holds what was applied', async ({ name, node }) => {
    const dp = getBackend('nftables').connect({ netns: ns, stateDir })
    const rs = rulesetOf(name, node)
    await dp.apply(rs)
    expect(await dp.drift(rs)).toEqual({ kind: 'clean' })
  })

  it.each([
    {
      name: 'a flushed chain is drift',
      tamper: () => nft('flush', 'chain', 'inet', 'palisade', 'pod_in_prod_db'),
      reason: /chains differ/,
    },
    {
      name: 'a flushed set is drift',
      tamper: () => nft('flush', 'map', 'inet', 'palisade', 'ingress_pods_v4'),
      reason: /set ingress_pods_v4 holds 0 elements instead of 2/,
    },
    {
      name: 'a missing table is drift',
      tamper: () => nft('delete', 'table', 'inet', 'palisade'),
      reason: /table inet palisade is missing/,
    },
  ])('$name', async ({ name, tamper, reason }) => {
    // A state folder of its own: the first apply must load, whatever an earlier row left.
    const dp = getBackend('nftables').connect({ netns: ns, stateDir: join(stateDir, name) })
    const rs = rulesetOf('default-deny')
    await dp.apply(rs)
    await tamper()
    const d = await dp.drift(rs)
    expect(d.kind).toBe('drifted')
    expect(d.kind === 'drifted' ? d.reason : '').toMatch(reason)
  })
})
