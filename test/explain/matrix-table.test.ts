/** The matrix table prints each distinct grid once, naming every port that has it (issue 11: the demo repeated grids). */
import { describe, expect, it } from 'vitest'
import { renderMatrixTable } from '../../src/explain/index.js'
import { runCli } from '../cli/run.js'
import { expectGolden } from '../golden.js'

describe('renderMatrixTable', () => {
  it('ports with identical grids share one grid, in the order of their first port', () => {
    const a = Uint8Array.from([1, 0, 1, 1])
    const b = Uint8Array.from([1, 1, 1, 1])
    const t = renderMatrixTable({
      pods: ['x/a', 'x/b'],
      ports: ['53/TCP', '80/TCP', '53/UDP'],
      cells: [a, b, a],
    })
    expect(t.match(/pairs allowed/g)).toHaveLength(2)
    expect(t).toContain('53/TCP, 53/UDP: 3 of 4 pairs allowed')
    expect(t.indexOf('53/TCP, 53/UDP')).toBeLessThan(t.indexOf('80/TCP: 4 of 4'))
  })

  it('the demo (npm start) on seed 001 (golden)', async () => {
    const r = await runCli(['matrix', 'examples/seed-001-testing'])
    expect(r.code).toBe(0)
    expect(r.stdout.match(/pairs allowed/g)).toHaveLength(2)
    await expectGolden('explain/cli/seed-001-matrix.txt', r.stdout)
  })
})
