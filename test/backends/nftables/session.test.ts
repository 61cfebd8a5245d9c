/**
 * The long-lived `nft -i` session (docs/dataplane.md#nft-session): its protocol against stand-in
 * processes (a shell script that answers like nft, or does not), and on a REAL kernel (a throwaway
 * netns, when root with nft) that a rejected batch changes nothing, that the session keeps working
 * after it, and that the dataplane falls back to a one-shot `nft -f` when no session can start.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileNode, type Ruleset } from '../../../src/backends/index.js'
import { NFT_SESSION_MAX_LINE, NftSession, NftSessionError } from '../../../src/backends/nft-session.js'
import { NFT_SESSION_RETRY_MS } from '../../../src/backends/nftables/apply.js'
import { connectNftables, diffNftTables, type NftTable } from '../../../src/backends/nftables/index.js'
import { normalizeObjects } from '../../../src/load/index.js'
import { type JsonObject, rawFromValue } from '../../../src/model/index.js'
import { canRunNftInNetns, nftIn } from '../../agent/fixtures.js'
import { allowFromJson, namespaceJson, podJson } from '../../fixtures.js'

/** A stand-in for `nft -i`: answers every line that cannot parse (the sentinel) like nft does. */
const answering = (onBatch: string): string[] => [
  'sh',
  '-c',
  `while read -r l; do case "$l" in palisade_sync_*) printf 'Error: syntax error, unexpected newline\\n%s\\n     ^\\n' "$l" >&2 ;; add\\ element*Palisade_Warm_Up_No_Such_Set*) printf 'Error: No such file or directory\\n%s\\n ^^^\\n' "$l" >&2 ;; *) ${onBatch} ;; esac; done`,
]

const outcome = async (p: Promise<void>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof NftSessionError ? e.outcome : `other: ${String(e)}`),
  )

describe('nft -i session protocol (stand-in processes)', () => {
  it.each([
    { name: 'a batch nft takes silently is applied', onBatch: 'true', want: 'ok' },
    {
      name: 'a batch nft answers with an error is rejected',
      onBatch: `printf 'Error: Could not process rule: No such file or directory\\n%s\\n' "$l" >&2`,
      want: 'rejected',
    },
    {
      name: 'a warning alone is not a failure',
      onBatch: `printf 'Warning: something\\n' >&2`,
      want: 'ok',
    },
    {
      name: 'a process that ends during a batch leaves the outcome unknown',
      onBatch: 'exit 0',
      want: 'unknown',
    },
    { name: 'a batch not answered in time leaves the outcome unknown', onBatch: 'sleep 5', want: 'unknown' },
  ])('$name', async ({ onBatch, want }) => {
    const s = new NftSession({ command: answering(onBatch), timeoutMs: 1500 })
    try {
      expect(await outcome(s.run('add element inet palisade s { 10.0.0.1 }'))).toBe(want)
    } finally {
      await s.close()
    }
  })

  it("a rejected batch's error is nft's first line", async () => {
    const s = new NftSession({
      command: answering(
        `printf 'Error: Could not process rule: No such file or directory\\n%s\\n' "$l" >&2`,
      ),
    })
    try {
      await expect(s.run('add rule inet palisade x accept')).rejects.toThrow(
        /^Error: Could not process rule: No such file or directory$/,
      )
    } finally {
      await s.close()
    }
  })

  it('a process that never answers is unavailable: nothing was sent to it', async () => {
    const s = new NftSession({ command: ['sh', '-c', 'cat >/dev/null'], timeoutMs: 500 })
    try {
      expect(await outcome(s.run('add element inet palisade s { 10.0.0.1 }'))).toBe('unavailable')
    } finally {
      await s.close()
    }
  })

  it('a command that does not exist is unavailable', async () => {
    const s = new NftSession({ command: ['/nonexistent/palisade-nft'], timeoutMs: 2000 })
    try {
      expect(await outcome(s.run('add element inet palisade s { 10.0.0.1 }'))).toBe('unavailable')
    } finally {
      await s.close()
    }
  })

  it('after a lost process, the next batch starts a new one', async () => {
    const marker = mkdtempSync(join(tmpdir(), 'palisade-session-'))
    // The first process dies on its first batch; the second takes batches.
    const s = new NftSession({
      command: answering(`if [ -e ${marker}/seen ]; then true; else touch ${marker}/seen; exit 0; fi`),
      timeoutMs: 2000,
    })
    try {
      expect(await outcome(s.run('add element inet palisade s { 10.0.0.1 }'))).toBe('unknown')
      expect(await outcome(s.run('add element inet palisade s { 10.0.0.2 }'))).toBe('ok')
    } finally {
      await s.close()
      rmSync(marker, { recursive: true, force: true })
    }
  })

  it('batches are replaced after maxBatches and keep working', async () => {
    const s = new NftSession({ command: answering('true'), maxBatches: 2 })
    try {
      for (let i = 0; i < 5; i++)
        expect(await outcome(s.run(`add element inet palisade s { 10.0.0.${i} }`))).toBe('ok')
    } finally {
      await s.close()
    }
  })

  it.each([
    { line: 'flush chain inet palisade a; add rule inet palisade a accept', fits: true },
    { line: 'flush chain inet palisade a\nadd rule inet palisade a accept', fits: false },
    { line: 'add rule inet palisade a accept \\', fits: false },
    {
      line: `add element inet palisade s { ${'1.2.3.4, '.repeat(NFT_SESSION_MAX_LINE / 9)}5.6.7.8 }`,
      fits: false,
    },
  ])('fits($line.length chars) = $fits', ({ line, fits }) => {
    expect(NftSession.fits(line)).toBe(fits)
  })
})

const canRun = canRunNftInNetns()
const ns = `palses-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
const nft = nftIn(ns)
const rules = (objects: readonly JsonObject[]): Ruleset<NftTable> =>
  compileNode(
    normalizeObjects(objects.map((o, i) => rawFromValue(o, { file: `o${i}` }))).value,
    'n1',
    'nftables',
  ).value as Ruleset<NftTable>
const base: JsonObject[] = [
  namespaceJson('shop', { tier: 'front' }),
  podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }),
  podJson('shop', 'web', '10.0.2.3', 'n2', { role: 'web' }),
  allowFromJson('shop', 'web-to-db', 'db', 'web', 5432),
]
const more = [...base, podJson('shop', 'web2', '10.0.2.4', 'n2', { role: 'web' })]

describe.skipIf(!canRun)('nft -i session (real nftables in a netns)', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'palisade-session-state-'))
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', ns], { timeout: 10_000 })
  })
  afterAll(() => {
    try {
      execFileSync('ip', ['netns', 'del', ns], { timeout: 10_000 })
    } catch {
      // already gone
    }
    rmSync(stateDir, { recursive: true, force: true })
  })

  it('a rejected batch leaves the previous table in force, and the session keeps working', async () => {
    const s = new NftSession({ netns: ns, timeoutMs: 20_000 })
    try {
      const dp = connectNftables({ netns: ns, stateDir })
      await dp.apply(rules(base))
      // The first command would succeed alone; the second fails: nothing of the batch is applied.
      const peers = rules(base).structure.objects.find((o) => o.name.startsWith('pods_shop_role_web'))
      expect(peers?.kind).toBe('set')
      const broken = `add element inet palisade ${peers?.name} { 10.0.2.77 }; add rule inet palisade no_such_chain accept`
      expect(await outcome(s.run(`add element inet palisade ${peers?.name} { 10.0.2.78 }`))).toBe('ok')
      const before = nft('', 'list', 'table', 'inet', 'palisade')
      expect(before).toContain('10.0.2.78')
      expect(await outcome(s.run(broken))).toBe('rejected')
      expect(nft('', 'list', 'table', 'inet', 'palisade')).toBe(before)
      expect(before).not.toContain('10.0.2.77')
      const c = diffNftTables(rules(base).structure, rules(more).structure)
      expect(c.kind).toBe('delta')
      if (c.kind === 'delta') await dp.applyDelta(c.delta)
      expect(nft('', 'list', 'table', 'inet', 'palisade')).toContain('10.0.2.4')
      await dp.close?.()
    } finally {
      await s.close()
    }
  })

  it('the warm-up line changes nothing in the kernel', async () => {
    const dp = connectNftables({ netns: ns, stateDir })
    await dp.apply(rules(base))
    const before = nft('', 'list', 'ruleset')
    const s = new NftSession({ netns: ns })
    try {
      s.warm()
      // An empty batch: resolves once the warm-up line before it was answered.
      await s.run('')
    } finally {
      await s.close()
    }
    expect(nft('', 'list', 'ruleset')).toBe(before)
    await dp.close?.()
  })

  it('a session that could not start is tried again later; deltas go one-shot meanwhile', async () => {
    const marker = mkdtempSync(join(tmpdir(), 'palisade-session-retry-'))
    // Starts only once the marker exists; then answers like nft and logs each batch (it applies nothing).
    const script = answering(`echo "$l" >> ${marker}/log`)[2] as string
    const session = new NftSession({ command: ['sh', '-c', `[ -e ${marker}/up ] || exit 1; ${script}`] })
    let clock = 1_000_000
    const dp = connectNftables({ netns: ns, stateDir }, { session, now: () => clock })
    const step = (from: readonly JsonObject[], to: readonly JsonObject[]) => {
      const c = diffNftTables(rules(from).structure, rules(to).structure)
      if (c.kind !== 'delta') throw new Error(`expected a delta, got ${c.kind}`)
      return dp.applyDelta(c.delta)
    }
    const table = () => nft('', 'list', 'table', 'inet', 'palisade')
    const logged = () => (existsSync(`${marker}/log`) ? readFileSync(`${marker}/log`, 'utf8') : '')
    const more2 = [...more, podJson('shop', 'web3', '10.0.2.5', 'n2', { role: 'web' })]
    const more3 = [...more2, podJson('shop', 'web4', '10.0.2.6', 'n2', { role: 'web' })]
    try {
      await dp.apply(rules(base))
      await step(base, more) // the session cannot start: one-shot
      expect(table()).toContain('10.0.2.4')
      writeFileSync(`${marker}/up`, '')
      await step(more, more2) // it could start now, but is not tried before its time: one-shot
      expect(table()).toContain('10.0.2.5')
      expect(logged()).toBe('')
      clock += NFT_SESSION_RETRY_MS
      await step(more2, more3) // tried again: the batch goes to the session, not to a one-shot nft
      expect(logged()).toContain('10.0.2.6')
      expect(table()).not.toContain('10.0.2.6')
    } finally {
      await dp.close?.()
      rmSync(marker, { recursive: true, force: true })
    }
  })

  it('with the session off, deltas go through a one-shot nft -f and reach the same table', async () => {
    for (const nftSession of [true, false]) {
      const dp = connectNftables({ netns: ns, stateDir, nftSession })
      await dp.apply(rules(base))
      const c = diffNftTables(rules(base).structure, rules(more).structure)
      if (c.kind === 'delta') await dp.applyDelta(c.delta)
      expect(nft('', 'list', 'table', 'inet', 'palisade')).toContain('10.0.2.4')
      await dp.close?.()
    }
  })
})
