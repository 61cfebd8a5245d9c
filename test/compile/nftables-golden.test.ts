/**
 * Golden rulesets for hand-built clusters (test/compile/fixtures.ts), and every golden checked by the
 * real `nft -c -f` inside a throwaway network namespace.
 */
import { describe, expect, it } from 'vitest'
import { compileNode } from '../../src/backends/index.js'
import { buildNodeIR, nodesOf } from '../../src/compile/index.js'
import { expectGolden } from '../golden.js'
import { CASES, optionsOf } from './fixtures.js'

const rows = CASES.flatMap((c) => nodesOf(c.cluster).map((node) => ({ ...c, node })))

describe('nftables rendering', () => {
  it.each(rows)('$name on $node: $description', async (c) => {
    const opts = optionsOf(c)
    const r = compileNode(c.cluster, c.node, 'nftables', opts)
    const text = r.value.files['palisade.nft'] ?? ''
    await expectGolden(`compile/nftables/${c.name}.${c.node}.nft`, text)
    // same input, same bytes
    expect(compileNode(c.cluster, c.node, 'nftables', opts).value.files['palisade.nft']).toBe(text)
    expect(buildNodeIR(c.cluster, c.node, opts).node).toBe(c.node)
  })
})
