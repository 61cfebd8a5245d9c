/**
 * applyIptables / cleanupIptables against the real kernel, in throwaway network namespaces, with both
 * iptables-nft and iptables-legacy: apply, unchanged re-apply, change, broken input, repair, cleanup.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Ruleset } from '../../../src/backends/index.js'
import {
  applyIptables,
  buildCleanup,
  buildCommit,
  buildIpsetFill,
  buildIpsetSwap,
  cleanupIptables,
  type Ipset,
  type IptablesRuleset,
  parseFilterSave,
  renderIptables,
} from '../../../src/backends/iptables/index.js'
import { dualStack, pocNode1 } from './fixtures.js'
import { createNetns, removeNetns, sh } from './netns.js'

const save = (netns: string, v: string, family: 4 | 6 = 4) =>
  sh(netns, [`${family === 4 ? 'iptables' : 'ip6tables'}-${v}-save`, '-t', 'filter']).then((t) =>
    t
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n'),
  )
const forwardRules = async (netns: string, v: string, family: 4 | 6 = 4) =>
  (await save(netns, v, family)).split('\n').filter((l) => l.startsWith('-A FORWARD '))
const setNames = async (netns: string) =>
  (await sh(netns, ['ipset', 'list', '-n'])).split('\n').filter(Boolean).sort()
const setSave = (netns: string, name: string) =>
  sh(netns, ['ipset', 'save', name]).then((t) =>
    t
      .split('\n')
      .filter((l) => l.startsWith('add '))
      .sort()
      .join('\n'),
  )

describe.each(['nft', 'legacy'] as const)('applyIptables with iptables-%s', (variant) => {
  let netns = ''
  let stateDir = ''
  const opts = () => ({ netns, iptables: variant, stateDir })
  beforeEach(async () => {
    netns = await createNetns(`ipt-${variant}`)
    stateDir = await mkdtemp(join(tmpdir(), 'pzi-ipt-state-'))
  }, 30_000)
  afterEach(async () => {
    if (netns) await removeNetns(netns)
    if (stateDir) await rm(stateDir, { recursive: true, force: true })
  }, 30_000)

  it('a first apply loads sets, chains and exactly one FORWARD jump, first in FORWARD', async () => {
    // a foreign rule already in FORWARD: ours must come before it and leave it alone
    await sh(netns, [`iptables-${variant}`, '-A', 'FORWARD', '-s', '192.0.2.1', '-j', 'DROP'])
    expect(await applyIptables(renderIptables(pocNode1), opts())).toEqual({ changed: true, warnings: [] })
    expect(await forwardRules(netns, variant)).toEqual([
      '-A FORWARD -j PAL-FORWARD',
      '-A FORWARD -s 192.0.2.1/32 -j DROP',
    ])
    expect(await forwardRules(netns, variant, 6)).toEqual(['-A FORWARD -j PAL-FORWARD'])
    const saved = await save(netns, variant)
    expect(saved).toContain(':PAL-in_prod_db - ')
    expect(saved).toContain('-A PAL-in_prod_db -m comment --comment "ingress isolated: prod/db" -j DROP')
    expect(await setSave(netns, 'pal-i4-pods4_frontend')).toBe(
      [
        'add pal-i4-pods4_frontend 10.240.1.12',
        'add pal-i4-pods4_frontend 10.240.1.13',
        'add pal-i4-pods4_frontend 10.240.2.11',
      ].join('\n'),
    )
    expect((await setNames(netns)).some((n) => n.includes('TMP'))).toBe(false)
  })

  it('re-applying the same ruleset changes nothing and reports changed=false', async () => {
    await applyIptables(renderIptables(pocNode1), opts())
    const before = await save(netns, variant)
    expect(await applyIptables(renderIptables(pocNode1), opts())).toEqual({ changed: false, warnings: [] })
    expect(await save(netns, variant)).toBe(before)
  })

  it('a changed ruleset replaces ours: new chains and sets in, stale ones out, still one jump', async () => {
    await applyIptables(renderIptables(pocNode1), opts())
    expect(await applyIptables(renderIptables(dualStack), opts())).toEqual({ changed: true, warnings: [] })
    const saved = await save(netns, variant)
    expect(saved).not.toContain('PAL-in_prod_db')
    expect(saved).toContain(':PAL-in_shop_web-0 - ')
    expect(await forwardRules(netns, variant)).toEqual(['-A FORWARD -j PAL-FORWARD'])
    const sets = await setNames(netns)
    expect(sets).not.toContain('pal-i4-pods4_frontend')
    expect(sets).toContain('pal-p4-np4_tcp_http-metrics')
    expect(await setSave(netns, 'pal-EGRESS-4')).toBe('add pal-EGRESS-4 10.1.0.5\nadd pal-EGRESS-4 10.1.0.7')
  })

  it('a set whose members change is swapped in place, keeping its name and the rules that use it', async () => {
    await applyIptables(renderIptables(pocNode1), opts())
    const changed = {
      ...pocNode1,
      sets: pocNode1.sets.map((s) =>
        s.id === 'pods4_frontend' && s.kind === 'addresses' ? { ...s, elements: ['10.240.9.9'] } : s,
      ),
    }
    expect(await applyIptables(renderIptables(changed), opts())).toEqual({ changed: true, warnings: [] })
    expect(await setSave(netns, 'pal-i4-pods4_frontend')).toBe('add pal-i4-pods4_frontend 10.240.9.9')
  })

  it('a broken rules file fails and leaves the previous rules and sets in force', async () => {
    await applyIptables(renderIptables(pocNode1), opts())
    const rules = await save(netns, variant)
    const good = renderIptables(dualStack)
    const filter4 = good.structure.filter4
    const broken: Ruleset<IptablesRuleset> = {
      ...good,
      structure: {
        ...good.structure,
        filter4: {
          ...filter4,
          rules: filter4.rules.map((r) => ({ ...r, spec: r.spec.replace('-j DROP', '-j NOSUCHTARGET') })),
        },
      },
    }
    await expect(applyIptables(broken, opts())).rejects.toThrow(/iptables-.*restore/)
    expect(await save(netns, variant)).toBe(rules)
    // the next good apply is not skipped
    expect(await applyIptables(good, opts())).toEqual({ changed: true, warnings: [] })
  })

  it('a broken ipset file fails before any set or rule changes, and leaves no temporary set', async () => {
    await applyIptables(renderIptables(pocNode1), opts())
    const rules = await save(netns, variant)
    const sets = await setNames(netns)
    const frontend = await setSave(netns, 'pal-i4-pods4_frontend')
    const good = renderIptables(pocNode1)
    // One set changes, and a later one holds an address ipset refuses.
    const edit: Record<string, [string, string]> = {
      'pal-i4-pods4_frontend': ['10.240.1.12', '10.240.1.99'],
      'pal-LOCAL-4': ['10.240.1.13', '10.240.1.300'],
    }
    const edited = good.structure.sets.map((s) => {
      const e = edit[s.name]
      return e ? { ...s, elements: s.elements.map((x) => (x === e[0] ? e[1] : x)) } : s
    })
    await expect(
      applyIptables({ ...good, structure: { ...good.structure, sets: edited } }, opts()),
    ).rejects.toThrow(/ipset restore/)
    expect(await save(netns, variant)).toBe(rules)
    expect(await setNames(netns)).toEqual(sets)
    expect(await setSave(netns, 'pal-i4-pods4_frontend')).toBe(frontend)
  })

  it('a removed or duplicated jump is repaired even when the ruleset did not change', async () => {
    const rs = renderIptables(pocNode1)
    await applyIptables(rs, opts())
    await sh(netns, [`iptables-${variant}`, '-D', 'FORWARD', '-j', 'PAL-FORWARD'])
    await sh(netns, [`iptables-${variant}`, '-A', 'FORWARD', '-j', 'ACCEPT'])
    await sh(netns, [`iptables-${variant}`, '-A', 'FORWARD', '-j', 'PAL-FORWARD'])
    await sh(netns, [`iptables-${variant}`, '-A', 'FORWARD', '-j', 'PAL-FORWARD'])
    expect(await applyIptables(rs, opts())).toEqual({ changed: true, warnings: [] })
    expect(await forwardRules(netns, variant)).toEqual(['-A FORWARD -j PAL-FORWARD', '-A FORWARD -j ACCEPT'])
  })

  it('the state file holds the hash of the applied ruleset', async () => {
    await applyIptables(renderIptables(pocNode1), opts())
    const state = await readFile(join(stateDir, `iptables-${netns}-${variant}.sha256`), 'utf8')
    expect(state).toMatch(/^[0-9a-f]{64}\n$/)
  })

  it('cleanup removes our jump, chains and sets and keeps foreign ones untouched', async () => {
    await sh(netns, [`iptables-${variant}`, '-N', 'FOREIGN'])
    await sh(netns, [`iptables-${variant}`, '-A', 'FOREIGN', '-j', 'RETURN'])
    await sh(netns, [`iptables-${variant}`, '-A', 'FORWARD', '-j', 'FOREIGN'])
    await sh(netns, ['ipset', 'create', 'foreign', 'hash:ip'])
    await sh(netns, ['ipset', 'add', 'foreign', '192.0.2.7'])
    await applyIptables(renderIptables(dualStack), opts())
    await cleanupIptables(opts())
    for (const family of [4, 6] as const) {
      const saved = await save(netns, variant, family)
      expect(saved).not.toContain('PAL-')
    }
    expect(await forwardRules(netns, variant)).toEqual(['-A FORWARD -j FOREIGN'])
    expect(await save(netns, variant)).toContain('-A FOREIGN -j RETURN')
    expect(await setNames(netns)).toEqual(['foreign'])
    expect(await setSave(netns, 'foreign')).toBe('add foreign 192.0.2.7')
    await expect(readFile(join(stateDir, `iptables-${netns}-${variant}.sha256`))).rejects.toThrow()
    // cleanup of a clean namespace is a no-op
    await cleanupIptables(opts())
  })
})

describe.each(['nft', 'legacy'] as const)(
  'with iptables-%s, only what palisade recorded is ever removed',
  (variant) => {
    let netns = ''
    let stateDir = ''
    const opts = () => ({ netns, iptables: variant, stateDir })
    const ipt = (...args: string[]) => sh(netns, [`iptables-${variant}`, ...args])
    beforeEach(async () => {
      netns = await createNetns(`own-${variant}`)
      stateDir = await mkdtemp(join(tmpdir(), 'pzi-own-state-'))
      // Someone else's chain and sets that happen to use our prefixes (issue 14, item 7).
      await ipt('-N', 'PAL-FOO')
      await ipt('-A', 'PAL-FOO', '-s', '192.0.2.9', '-j', 'RETURN')
      await ipt('-A', 'FORWARD', '-j', 'PAL-FOO')
      await sh(netns, ['ipset', 'create', 'pal-x', 'hash:ip'])
      await sh(netns, ['ipset', 'add', 'pal-x', '192.0.2.9'])
      await sh(netns, ['ipset', 'create', 'pal-TMP-0', 'hash:ip'])
      await sh(netns, ['ipset', 'add', 'pal-TMP-0', '192.0.2.10'])
    }, 30_000)
    afterEach(async () => {
      if (netns) await removeNetns(netns)
      if (stateDir) await rm(stateDir, { recursive: true, force: true })
    }, 30_000)

    const foreignIntact = async () => {
      const saved = await save(netns, variant)
      expect(saved).toContain(':PAL-FOO - ')
      expect(saved).toContain('-A PAL-FOO -s 192.0.2.9/32 -j RETURN')
      expect(await forwardRules(netns, variant)).toContain('-A FORWARD -j PAL-FOO')
      expect(await setSave(netns, 'pal-x')).toBe('add pal-x 192.0.2.9')
      expect(await setSave(netns, 'pal-TMP-0')).toBe('add pal-TMP-0 192.0.2.10')
    }

    it('apply, a changed apply and cleanup leave a foreign PAL-FOO chain, its jump and pal- sets alone', async () => {
      expect(await applyIptables(renderIptables(pocNode1), opts())).toEqual({ changed: true, warnings: [] })
      expect((await forwardRules(netns, variant))[0]).toBe('-A FORWARD -j PAL-FORWARD')
      await foreignIntact()
      expect(await applyIptables(renderIptables(dualStack), opts())).toEqual({ changed: true, warnings: [] })
      expect(await save(netns, variant)).not.toContain('PAL-in_prod_db')
      await foreignIntact()
      const report = await cleanupIptables(opts())
      await foreignIntact()
      expect(await save(netns, variant)).not.toContain('PAL-FORWARD')
      expect(await setNames(netns)).toEqual(['pal-TMP-0', 'pal-x'])
      // What looked like ours but was not recorded is named, not removed.
      expect(report.left).toEqual(['PAL-FOO', 'pal-TMP-0', 'pal-x'])
    })

    it('cleanup twice is fine and never touches what is not recorded', async () => {
      await applyIptables(renderIptables(pocNode1), opts())
      await cleanupIptables(opts())
      await foreignIntact()
      expect((await cleanupIptables(opts())).left).toEqual(['PAL-FOO', 'pal-TMP-0', 'pal-x'])
      await foreignIntact()
    })
  },
)

describe('applyIptables refuses what it cannot apply', () => {
  it('an nftables ruleset is refused', async () => {
    await expect(
      applyIptables({
        backend: 'nftables',
        node: 'n',
        structure: {} as IptablesRuleset,
        stats: { rules: 0, chains: 0, sets: 0, elements: 0 },
      }),
    ).rejects.toThrow(/nftables ruleset/)
  })
})

describe('restore input builders', () => {
  const live = parseFilterSave(
    [
      '# Warning: iptables-legacy tables present, use iptables-legacy-save to see them',
      '*nat',
      ':PAL-NAT - [0:0]',
      'COMMIT',
      '*filter',
      ':INPUT ACCEPT [0:0]',
      ':FORWARD ACCEPT [0:0]',
      ':PAL-FORWARD - [0:0]',
      ':PAL-old - [0:0]',
      ':PAL-FOO - [0:0]',
      ':KUBE-FORWARD - [0:0]',
      '-A FORWARD -j KUBE-FORWARD',
      '-A FORWARD -j PAL-FORWARD',
      '-A FORWARD -j PAL-FOO',
      'COMMIT',
    ].join('\n'),
  )
  /** What the ownership record lists: PAL-FOO is someone else's. */
  const owned = new Set(['PAL-FORWARD', 'PAL-old'])

  it('parses only the filter table: chains with our prefix and the FORWARD rules in order', () => {
    expect(live).toEqual({
      prefixed: ['PAL-FORWARD', 'PAL-old', 'PAL-FOO'],
      forward: ['-A FORWARD -j KUBE-FORWARD', '-A FORWARD -j PAL-FORWARD', '-A FORWARD -j PAL-FOO'],
    })
  })

  it('a commit flushes and deletes stale recorded chains and moves the jump first, inside the one COMMIT', () => {
    const out = buildCommit(
      { chains: ['PAL-FORWARD'], rules: [{ chain: 'PAL-FORWARD', spec: '-j RETURN' }] },
      live,
      owned,
    )
    expect(out).toBe(
      [
        '*filter',
        ':PAL-old - [0:0]',
        ':PAL-FORWARD - [0:0]',
        '-A PAL-FORWARD -j RETURN',
        '-D FORWARD -j PAL-FORWARD',
        '-I FORWARD 1 -j PAL-FORWARD',
        '-X PAL-old',
        'COMMIT',
        '',
      ].join('\n'),
    )
  })

  it('a commit leaves a jump that is already first and single alone', () => {
    const ok = { prefixed: ['PAL-FORWARD'], forward: ['-A FORWARD -j PAL-FORWARD', '-A FORWARD -j X'] }
    expect(buildCommit({ chains: ['PAL-FORWARD'], rules: [] }, ok, new Set())).toBe(
      '*filter\n:PAL-FORWARD - [0:0]\nCOMMIT\n',
    )
  })

  it('cleanup input deletes every recorded chain and the jumps to them, nothing else', () => {
    expect(buildCleanup(live, owned)).toBe(
      [
        '*filter',
        ':PAL-FORWARD - [0:0]',
        ':PAL-old - [0:0]',
        '-D FORWARD -j PAL-FORWARD',
        '-X PAL-FORWARD',
        '-X PAL-old',
        'COMMIT',
        '',
      ].join('\n'),
    )
    expect(buildCleanup({ prefixed: [], forward: ['-A FORWARD -j X'] }, owned)).toBe('')
    expect(buildCleanup(live, new Set())).toBe('')
  })

  it('swap input swaps existing sets, renames new ones, and refuses a type change', () => {
    const sets: Ipset[] = [
      { name: 'pal-a', type: 'hash:ip', family: 4, maxelem: 65536, comment: 'a', elements: ['1.2.3.4'] },
      { name: 'pal-b', type: 'hash:net', family: 6, maxelem: 65536, comment: 'b', elements: [] },
    ]
    expect(buildIpsetFill(sets)).toBe(
      [
        'destroy pal-TMP-0',
        'create pal-TMP-0 hash:ip family inet maxelem 65536',
        'add pal-TMP-0 1.2.3.4',
        'destroy pal-TMP-1',
        'create pal-TMP-1 hash:net family inet6 maxelem 65536',
        '',
      ].join('\n'),
    )
    expect(buildIpsetSwap(sets, [{ name: 'pal-a', type: 'hash:ip', family: 'inet' }])).toBe(
      'swap pal-TMP-0 pal-a\ndestroy pal-TMP-0\nrename pal-TMP-1 pal-b\n',
    )
    expect(() => buildIpsetSwap(sets, [{ name: 'pal-b', type: 'hash:ip', family: 'inet6' }])).toThrow(
      /exists as hash:ip/,
    )
  })
})
