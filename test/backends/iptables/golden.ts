/** Golden files of the iptables backend (kept under compile/, where they always were): compile/iptables/<case>.<node>.{ipset,rules,rules6}. */
import type { CompiledRuleset } from '../../../src/backends/index.js'
import { expectGolden } from '../../golden.js'

/** Golden file suffix of each file of an iptables ruleset. */
export const GOLDEN_SUFFIX: Readonly<Record<string, string>> = {
  'ipset.restore': 'ipset',
  'iptables.rules': 'rules',
  'ip6tables.rules': 'rules6',
}

/** Checks the three files of a ruleset against compile/iptables/<name>.<node>.{ipset,rules,rules6}. */
export async function expectRulesetGolden(name: string, rs: CompiledRuleset): Promise<void> {
  for (const [file, suffix] of Object.entries(GOLDEN_SUFFIX)) {
    await expectGolden(`compile/iptables/${name}.${rs.node}.${suffix}`, rs.files[file] ?? '')
  }
}
