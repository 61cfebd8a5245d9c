/** Every ruleset the iptables tests render: the shared cluster fixtures (compiler + renderer) and the IR fixtures. */
import { buildNodeIR, nodesOf } from '../../../src/compile/index.js'
import type { NodeIR } from '../../../src/compile/ir.js'
import { CASES, optionsOf } from '../../compile/fixtures.js'
import { irCases } from './fixtures.js'

export interface IrRow {
  /** Golden stem: compile/iptables/<name>.<node>.* */
  readonly name: string
  readonly description: string
  readonly ir: NodeIR
}

/** Shared cluster cases compiled for each of their nodes, then the hand-written IR cases (prefixed 'ir-'). */
export const ROWS: readonly IrRow[] = [
  ...CASES.flatMap((c) =>
    nodesOf(c.cluster).map((node) => ({
      name: c.name,
      description: c.description,
      ir: buildNodeIR(c.cluster, node, optionsOf(c)),
    })),
  ),
  ...irCases.map((c) => ({ name: `ir-${c.name}`, description: `hand-written IR: ${c.name}`, ir: c.ir })),
]
