import { describe, expect, it } from 'vitest'
import { RulesetApplier } from '../../src/agent/applier.js'
import { type CompiledRuleset, compileNode } from '../../src/backends/index.js'
import type { ExecResult } from '../../src/dataplane/index.js'
import { normalizeObjects } from '../../src/load/index.js'
import { type JsonObject, rawFromValue } from '../../src/model/index.js'
import { allowFrom, denyAll, namespace, pod } from './fixtures.js'

const compile = (
  objects: readonly JsonObject[],
  backend: 'nftables' | 'iptables' = 'nftables',
): CompiledRuleset =>
  compileNode(
    normalizeObjects(objects.map((o, i) => rawFromValue(o, { file: `o${i}` }))).value,
    'n1',
    backend,
  ).value

const base: JsonObject[] = [
  namespace('shop'),
  pod('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }),
  pod('shop', 'web', '10.0.2.3', 'n2', { role: 'web' }),
  allowFrom('shop', 'web-to-db', 'db', 'web', 5432),
]
const withPod = [...base, pod('shop', 'web2', '10.0.2.4', 'n2', { role: 'web' })]

const ok: ExecResult = { code: 0, stdout: '', stderr: '', timedOut: false }

/** An applier whose kernel is a recorder. */
function rig(o: { nftFails?: boolean; fullFails?: boolean; listing?: () => ExecResult } = {}) {
  const full: CompiledRuleset[] = []
  const scripts: string[] = []
  const applier = new RulesetApplier({
    applyFull: async (rs) => {
      if (o.fullFails) throw new Error('nft: syntax error')
      full.push(rs)
      return { changed: true }
    },
    runNft: async (s) => {
      scripts.push(s)
      return o.nftFails ? { ...ok, code: 1, stderr: 'Error: interval overlaps with an existing one' } : ok
    },
    listTable: async () => (o.listing ? o.listing() : ok),
  })
  return { applier, full, scripts }
}

describe('apply path', () => {
  it('the first apply is full', async () => {
    const r = rig()
    expect((await r.applier.apply(compile(base))).path).toBe('full')
    expect(r.full).toHaveLength(1)
  })

  it('the same ruleset again is unchanged and touches nothing', async () => {
    const r = rig()
    await r.applier.apply(compile(base))
    expect(await r.applier.apply(compile(base))).toEqual({ path: 'unchanged', changed: false })
    expect(r.full).toHaveLength(1)
    expect(r.scripts).toHaveLength(0)
  })

  it('a pod joining a peer set is applied as one element batch', async () => {
    const r = rig()
    await r.applier.apply(compile(base))
    const out = await r.applier.apply(compile(withPod))
    expect(out.path).toBe('incremental')
    expect(r.full).toHaveLength(1)
    expect(r.scripts).toEqual([
      expect.stringMatching(/^add element inet palisade pods_[\w-]+_v4 \{ 10\.0\.2\.4 \}\n$/),
    ])
  })

  it('a new policy is applied as one chain-level batch', async () => {
    const r = rig()
    await r.applier.apply(compile(base))
    const out = await r.applier.apply(compile([...base, denyAll('shop')]))
    expect(out.path).toBe('incremental')
    expect(r.full).toHaveLength(1)
    expect(r.scripts).toHaveLength(1)
    expect(r.scripts[0]).toMatch(/^\tchain pol_shop_deny-all_in \{$/m)
  })

  it('a changed base chain declaration is applied in full', async () => {
    const r = rig()
    const first = compile(base)
    await r.applier.apply(first)
    const text = (first.files['palisade.nft'] as string).replace(
      'priority filter + 10;',
      'priority filter + 20;',
    )
    const out = await r.applier.apply({ ...first, files: { 'palisade.nft': text } })
    expect(out).toMatchObject({ path: 'full', note: 'table or base chain changed' })
    expect(r.full).toHaveLength(2)
    expect(r.scripts).toHaveLength(0)
  })

  it('a failed element batch falls back to a full reload', async () => {
    const r = rig({ nftFails: true })
    await r.applier.apply(compile(base))
    const out = await r.applier.apply(compile(withPod))
    expect(out.path).toBe('full')
    expect(out.note).toMatch(/incremental update failed/)
    expect(r.full).toHaveLength(2)
  })

  it('a failed full apply throws and keeps the previous ruleset as current', async () => {
    const r = rig()
    const first = compile(base)
    await r.applier.apply(first)
    const failing = rig({ fullFails: true })
    await expect(failing.applier.apply(first)).rejects.toThrow(/syntax error/)
    expect(failing.applier.current).toBeUndefined()
    expect(r.applier.current).toBe(first)
  })

  it('force reloads in full even when nothing changed', async () => {
    const r = rig()
    await r.applier.apply(compile(base))
    expect((await r.applier.apply(compile(base), true)).path).toBe('full')
  })

  it('the iptables backend always goes full', async () => {
    const r = rig()
    await r.applier.apply(compile(base, 'iptables'))
    expect((await r.applier.apply(compile(withPod, 'iptables'))).path).toBe('full')
    expect(r.scripts).toHaveLength(0)
  })
})

describe('drift', () => {
  const text = compile(base).files['palisade.nft'] as string
  it.each([
    {
      name: 'no drift when the kernel lists what we applied',
      listing: { ...ok, stdout: text },
      drift: undefined,
    },
    {
      name: 'a missing table is drift',
      listing: { ...ok, code: 1, stderr: 'No such file or directory' },
      drift: /missing/,
    },
    {
      name: 'a flushed set is drift',
      listing: { ...ok, stdout: text.replace(/elements = \{ 10\.0\.2\.3 \}/, '') },
      drift: /holds 0 elements instead of 1/,
    },
    {
      name: 'a flushed chain is drift',
      listing: { ...ok, stdout: text.replace(/(chain pol_shop_web-to-db_in \{\n[^\n]*\n)[^}]*\}/, '$1\t}') },
      drift: /chains differ/,
    },
  ])('$name', async ({ listing, drift }) => {
    const r = rig({ listing: () => listing })
    await r.applier.apply(compile(base))
    const got = await r.applier.drift()
    if (drift === undefined) expect(got).toBeUndefined()
    else expect(got).toMatch(drift)
  })
})
