import { describe, expect, it } from 'vitest'
import { printRuleset } from '../../../src/backends/index.js'
import {
  type IptablesRenderOptions,
  MAX_CHAIN_NAME,
  MAX_SET_NAME,
  renderIptables as renderStructure,
} from '../../../src/backends/iptables/index.js'
import { boundedName, shortHash } from '../../../src/backends/iptables/names.js'
import type { NodeIR } from '../../../src/compile/ir.js'
import { ROWS } from './cases.js'
import { dualStack, pocNode1 } from './fixtures.js'
import { expectRulesetGolden } from './golden.js'

const renderIptables = (ir: NodeIR, o?: IptablesRenderOptions) => printRuleset(renderStructure(ir, o))

const lines = (text: string | undefined) => (text ?? '').split('\n')
const chainsOf = (text: string | undefined) =>
  lines(text)
    .filter((l) => l.startsWith(':'))
    .map((l) => l.slice(1).split(' ')[0] as string)
const setsOf = (text: string | undefined) =>
  lines(text)
    .filter((l) => l.startsWith('create '))
    .map((l) => l.split(' ')[1] as string)

describe('renderIptables goldens', () => {
  it.each(ROWS)('$name on $ir.node: $description', async ({ name, ir }) => {
    await expectRulesetGolden(name, renderIptables(ir))
  })
})

describe('renderIptables structure', () => {
  const all = ROWS.map((c) => ({ ...c, rs: renderIptables(c.ir) }))

  it.each(all)(
    '$name on $ir.node: every chain name fits the 28-character kernel limit and is unique',
    ({ rs }) => {
      for (const f of ['iptables.rules', 'ip6tables.rules']) {
        const chains = chainsOf(rs.files[f])
        expect(chains.every((c) => c.length <= MAX_CHAIN_NAME && c.startsWith('PAL-'))).toBe(true)
        expect(new Set(chains).size).toBe(chains.length)
      }
    },
  )

  it.each(all)(
    '$name on $ir.node: every ipset name fits the 31-character kernel limit and is unique',
    ({ rs }) => {
      const sets = setsOf(rs.files['ipset.restore'])
      expect(sets.every((s) => s.length <= MAX_SET_NAME && s.startsWith('pal-'))).toBe(true)
      expect(new Set(sets).size).toBe(sets.length)
    },
  )

  it.each(all)('$name on $ir.node: every set a rule uses is created by the ipset file', ({ rs }) => {
    const sets = new Set(setsOf(rs.files['ipset.restore']))
    for (const f of ['iptables.rules', 'ip6tables.rules']) {
      for (const m of (rs.files[f] ?? '').matchAll(/--match-set (\S+)/g)) expect(sets).toContain(m[1])
    }
  })

  it.each(all)('$name on $ir.node: every jump target is a declared chain or a built-in target', ({ rs }) => {
    for (const f of ['iptables.rules', 'ip6tables.rules']) {
      const chains = new Set(chainsOf(rs.files[f]))
      for (const m of (rs.files[f] ?? '').matchAll(/ -[jg] (\S+)/g)) {
        const t = m[1] as string
        expect(chains.has(t) || ['ACCEPT', 'DROP', 'RETURN', 'MARK'].includes(t)).toBe(true)
      }
    }
  })

  it.each(all)(
    '$name on $ir.node: a dispatch chain ends in DROP (a pod in the isolated set whose jump is not loaded yet stays isolated)',
    ({ rs }) => {
      for (const f of ['iptables.rules', 'ip6tables.rules']) {
        for (const chain of ['PAL-EGRESS', 'PAL-INGRESS']) {
          const rules = lines(rs.files[f]).filter((l) => l.startsWith(`-A ${chain} `))
          if (rules.length === 0) continue
          expect(rules[rules.length - 1]).toMatch(/ -j DROP$/)
        }
      }
    },
  )

  it('with unknown pods dropped, the dispatch chains are jumped to even before any pod is isolated', () => {
    const rs = renderIptables({ ...dualStack, pods: [], podRanges: [{ family: 4, cidr: '10.0.0.0/24' }] })
    const fwd = lines(rs.files['iptables.rules']).filter((l) => l.startsWith('-A PAL-FORWARD '))
    expect(fwd).toContain('-A PAL-FORWARD -j PAL-EGRESS')
    expect(fwd).toContain('-A PAL-FORWARD -j PAL-INGRESS')
    expect(setsOf(rs.files['ipset.restore'])).toEqual(
      expect.arrayContaining(['pal-EGRESS-4', 'pal-INGRESS-4', 'pal-LOCAL-4', 'pal-PODNET-4']),
    )
  })

  it('policy rules never ACCEPT: they go to PAL-ALLOW so that the other direction is still checked', () => {
    const rs = renderIptables(dualStack)
    const policyLines = lines(rs.files['iptables.rules']).filter((l) => l.startsWith('-A PAL-pol_'))
    expect(policyLines.length).toBeGreaterThan(0)
    expect(policyLines.every((l) => l.endsWith('-g PAL-ALLOW'))).toBe(true)
  })

  it('an isolated pod chain clears the mark, returns when a policy set it, and drops otherwise', () => {
    const rules = lines(renderIptables(pocNode1).files['iptables.rules']).filter((l) =>
      l.startsWith('-A PAL-in_prod_db '),
    )
    expect(rules[0]).toBe('-A PAL-in_prod_db -j MARK --set-xmark 0x0/0x400000')
    expect(rules.at(-1)).toBe('-A PAL-in_prod_db -m comment --comment "ingress isolated: prod/db" -j DROP')
    expect(rules.filter((l) => l.includes('-m mark --mark 0x400000/0x400000 -j RETURN'))).toHaveLength(2)
  })

  it('ingress is checked after egress, established first, and anti-spoofing before conntrack', () => {
    const fwd = lines(renderIptables(dualStack).files['iptables.rules']).filter((l) =>
      l.startsWith('-A PAL-FORWARD '),
    )
    const at = (re: RegExp) => fwd.findIndex((l) => re.test(l))
    expect(at(/anti-spoofing/)).toBe(0)
    expect(at(/ESTABLISHED/)).toBe(1)
    expect(at(/-j PAL-EGRESS$/)).toBeLessThan(at(/-j PAL-INGRESS$/))
  })

  it('a rule limited to IPv6 appears only in ip6tables.rules', () => {
    const rs = renderIptables(dualStack)
    expect(rs.files['ip6tables.rules']).toContain('pal-n6-ipb6_shop_web_e1p1 dst')
    expect(rs.files['iptables.rules']).not.toContain('pal-n6-')
    expect(rs.files['ip6tables.rules']).not.toContain('pal-n4-')
  })

  it('a rule without peers and ports allows everything, in both families', () => {
    const rs = renderIptables(dualStack)
    const want = '-A PAL-pol_shop_web_in -m comment --comment "shop/web ingress[1]" -g PAL-ALLOW'
    expect(lines(rs.files['iptables.rules'])).toContain(want)
    expect(lines(rs.files['ip6tables.rules'])).toContain(want)
  })

  it('more than 15 ports are split over several multiport rules', () => {
    const rs = renderIptables(dualStack)
    const mp = lines(rs.files['iptables.rules']).filter((l) => l.includes('ingress[0] ports[0]'))
    expect(mp).toHaveLength(2)
    expect(mp[0]?.match(/--dports (\S+)/)?.[1]?.split(',')).toHaveLength(15)
  })

  it('an ipBlock of the whole address space is stored as its two halves (hash:net refuses /0)', () => {
    const ipset = lines(renderIptables(dualStack).files['ipset.restore'])
    expect(ipset).toContain('add pal-n4-ipb4_shop_web_e1p0 0.0.0.0/1')
    expect(ipset).toContain('add pal-n4-ipb4_shop_web_e1p0 128.0.0.0/1')
    expect(ipset.some((l) => l.endsWith('/0'))).toBe(false)
  })

  it('named ports match destination address and port in a hash:ip,port set', () => {
    const rs = renderIptables(dualStack)
    expect(rs.files['ipset.restore']).toContain('create pal-p4-np4_tcp_http-metrics hash:ip,port family inet')
    expect(rs.files['ipset.restore']).toContain('add pal-p4-np4_tcp_http-metrics 10.1.0.7,tcp:9100')
    expect(rs.files['iptables.rules']).toContain(
      '-p tcp -m set --match-set pal-p4-np4_tcp_http-metrics dst,dst',
    )
  })

  it('allowAction RETURN never ACCEPTs, so the rest of FORWARD still decides', () => {
    const rs = renderIptables(dualStack, { allowAction: 'RETURN' })
    expect(rs.files['iptables.rules']).not.toContain('ACCEPT')
    expect(rs.files['iptables.rules']).toContain('--ctstate RELATED,ESTABLISHED -j RETURN')
  })

  it('a custom mark bit is used everywhere, and a mask of several bits is refused', () => {
    const rs = renderIptables(pocNode1, { markBit: 0x2000 })
    expect(rs.files['iptables.rules']).toContain('--set-xmark 0x2000/0x2000')
    expect(rs.files['iptables.rules']).not.toContain('0x400000')
    expect(() => renderIptables(pocNode1, { markBit: 0x3000 })).toThrow(/single bit/)
  })

  it('stats count rules, chains, sets and elements of the rendered files', () => {
    const rs = renderIptables(pocNode1)
    const count = (f: string, p: string) => lines(rs.files[f]).filter((l) => l.startsWith(p)).length
    expect(rs.stats).toEqual({
      rules: count('iptables.rules', '-A ') + count('ip6tables.rules', '-A '),
      chains: count('iptables.rules', ':') + count('ip6tables.rules', ':'),
      sets: count('ipset.restore', 'create '),
      elements: count('ipset.restore', 'add '),
    })
  })

  it('the same IR always renders the same bytes', () => {
    const copy = JSON.parse(JSON.stringify(dualStack)) as NodeIR
    expect(renderIptables(copy)).toEqual(renderIptables(dualStack))
  })
})

describe('bounded names', () => {
  const rows = [
    {
      name: 'a short clean body is kept as it is',
      prefix: 'PAL-',
      body: 'in_prod_db',
      max: 28,
      want: 'PAL-in_prod_db',
    },
    {
      name: 'a long body is cut and suffixed with a hash of the whole body',
      prefix: 'PAL-',
      body: 'pol_prod_allow-frontend-to-db_in',
      max: 28,
      want: `PAL-pol_prod_allow-${shortHash('pol_prod_allow-frontend-to-db_in')}`,
    },
    {
      name: 'a body with characters iptables would not like is hashed even when short',
      prefix: 'PAL-',
      body: 'ns/~x',
      max: 28,
      want: `PAL-ns__x-${shortHash('ns/~x')}`,
    },
  ]
  it.each(rows)('$name', ({ prefix, body, max, want }) => {
    const got = boundedName(prefix, body, max)
    expect(got).toBe(want)
    expect(got.length).toBeLessThanOrEqual(max)
  })

  it('two long bodies that share their first characters get different names', () => {
    const a = boundedName('pal-i4-', `${'x'.repeat(40)}-a`, 31)
    const b = boundedName('pal-i4-', `${'x'.repeat(40)}-b`, 31)
    expect(a).not.toBe(b)
    expect(a.length).toBeLessThanOrEqual(31)
  })
})
