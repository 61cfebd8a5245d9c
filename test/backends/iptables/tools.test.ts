/**
 * Every rendered iptables ruleset is accepted by the real tools: `ipset restore` loads the sets, then
 * `iptables-restore --test` / `ip6tables-restore --test` check the rules against them, with both
 * iptables-nft and iptables-legacy, inside a throwaway network namespace (never the host's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { printRuleset } from '../../../src/backends/index.js'
import {
  type IptablesRenderOptions,
  renderIptables as renderStructure,
} from '../../../src/backends/iptables/index.js'
import type { NodeIR } from '../../../src/compile/ir.js'
import { ROWS } from './cases.js'
import { pocNode1 } from './fixtures.js'
import { createNetns, removeNetns, sh } from './netns.js'

const renderIptables = (ir: NodeIR, o?: IptablesRenderOptions) => printRuleset(renderStructure(ir, o))

const variants = ['nft', 'legacy'] as const
const rows = ROWS.flatMap((c) =>
  variants.flatMap((variant) => [
    { ...c, variant, allowAction: 'ACCEPT' as const },
    { ...c, variant, allowAction: 'RETURN' as const },
  ]),
)

describe('rendered rulesets load into the kernel tools', () => {
  let netns = ''
  beforeAll(async () => {
    netns = await createNetns('ipt-tools')
  }, 30_000)
  afterAll(async () => {
    if (netns) await removeNetns(netns)
  }, 30_000)

  it.each(rows)(
    '$name ($allowAction) passes ipset restore and iptables-$variant-restore --test',
    async (row) => {
      const rs = renderIptables(row.ir, { allowAction: row.allowAction })
      await sh(netns, ['ipset', 'restore', '-exist'], rs.files['ipset.restore'])
      try {
        for (const [tool, file] of [
          [`iptables-${row.variant}-restore`, 'iptables.rules'],
          [`ip6tables-${row.variant}-restore`, 'ip6tables.rules'],
        ] as const) {
          await sh(netns, [tool, '--test', '--noflush'], rs.files[file])
        }
        // --test committed nothing: no chain of ours exists afterwards
        const saved = await sh(netns, [`iptables-${row.variant}-save`, '-t', 'filter'])
        expect(saved).not.toContain(':PAL-')
      } finally {
        await sh(netns, ['ipset', 'destroy'])
      }
    },
  )

  it.each(variants)('a broken rules file is refused by the same check with iptables-%s', async (variant) => {
    const rs = renderIptables(pocNode1)
    await sh(netns, ['ipset', 'restore', '-exist'], rs.files['ipset.restore'])
    try {
      const broken = (rs.files['iptables.rules'] ?? '').replace('--match-set pal-', '--match-set nosuch-')
      await expect(sh(netns, [`iptables-${variant}-restore`, '--test', '--noflush'], broken)).rejects.toThrow(
        /nosuch/,
      )
    } finally {
      await sh(netns, ['ipset', 'destroy'])
    }
  })
})
