/**
 * The upstream NetworkPolicy e2e suite, run against the engine: every case of test/conformance/cases
 * is loaded strictly, its matrix computed (fast path and per-pair reference) and compared cell by
 * cell with the truth table upstream states. See cases.ts for the file layout.
 */
import { describe, expect, it } from 'vitest'
import {
  buildIndex,
  CELL_ALLOWED,
  CELL_UNKNOWN,
  type CellDiff,
  computeMatrix,
  diffMatrices,
  type Matrix,
  referenceMatrix,
} from '../../src/engine/index.js'
import { loadCluster } from '../../src/load/index.js'
import type { Diagnostic } from '../../src/model/index.js'
import {
  applyReachability,
  type ConformanceCase,
  caseInputs,
  expectedMatrix,
  listConformanceCases,
  MODEL_PODS,
  UPSTREAM_IT_BLOCKS,
} from './cases.js'

const cases = listConformanceCases()
const runnable = cases.filter((c) => c.skip === undefined)
const skipped = cases.filter((c) => c.skip !== undefined)

const describeDiagnostic = (d: Diagnostic) =>
  `${d.source?.file ?? '?'}:${d.source?.line ?? '?'}: ${d.code}: ${d.object ?? ''} ${d.path.join('.')}: ${d.message}`
const describeDiff = (d: CellDiff) =>
  `${d.port} ${d.from} -> ${d.to}: upstream expects ${d.expected === CELL_ALLOWED ? 'allowed' : 'denied'}, engine says ${d.actual === CELL_ALLOWED ? 'allowed' : 'denied'}`

/** Loads a case strictly and returns the engine's two matrices over its ports. */
function engineMatrices(c: ConformanceCase): { errors: string[]; fast: Matrix; reference: Matrix } {
  const loaded = loadCluster(caseInputs(c), { validate: 'strict' })
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error').map(describeDiagnostic)
  const index = buildIndex(loaded.cluster)
  return { errors, fast: computeMatrix(index, c.ports), reference: referenceMatrix(index, c.ports) }
}

describe('upstream e2e cases (kubernetes test/e2e/network/netpol/network_policy.go)', () => {
  it.each(runnable)('$title', (c) => {
    const { errors, fast, reference } = engineMatrices(c)
    expect(errors, 'the manifests load without error diagnostics').toEqual([])
    // diffMatrices skips pods it cannot find: make sure the engine saw every model pod.
    expect([...fast.pods].sort()).toEqual([...MODEL_PODS].sort())
    const expected = expectedMatrix(c)
    expect(fast.ports, 'the engine computed every port the case checks').toEqual(expected.ports)
    expect(diffMatrices(expected, fast).map(describeDiff), 'computeMatrix vs upstream').toEqual([])
    expect(diffMatrices(expected, reference).map(describeDiff), 'referenceMatrix vs upstream').toEqual([])
    // Upstream ignores pod->self; Palisade always allows it (docs/semantics.md#pod-reaches-itself).
    for (const m of [fast, reference]) {
      m.cells.forEach((cells, k) => {
        m.pods.forEach((p, i) => {
          expect(cells[i * m.pods.length + i], `${m.ports[k]} ${p} -> itself`).toBe(CELL_ALLOWED)
        })
      })
    }
  })
  // A case that cannot be expressed stays listed with its reason (none so far).
  for (const c of skipped) it.skip(`${c.title}: ${c.skip}`, () => {})
})

describe('the transcription itself', () => {
  it('transcribes every upstream It() block at least once, with its line range', () => {
    const missing = UPSTREAM_IT_BLOCKS.filter(
      (b) =>
        !cases.some(
          (c) =>
            c.name === b.name &&
            c.context === b.context &&
            c.lines[0] === b.lines[0] &&
            c.lines[1] === b.lines[1],
        ),
    )
    expect(missing).toEqual([])
  })

  it('has no case that names an It() block upstream does not have', () => {
    const unknown = cases.filter(
      (c) => !UPSTREAM_IT_BLOCKS.some((b) => b.name === c.name && b.context === c.context),
    )
    expect(unknown.map((c) => c.slug)).toEqual([])
  })

  it('names every case differently', () => {
    const titles = cases.map((c) => c.title)
    expect(titles.filter((t, i) => titles.indexOf(t) !== i)).toEqual([])
  })

  it('cites ValidateOrFail lines inside the It() block', () => {
    const outside = cases.flatMap((c) =>
      c.tables
        .filter((t) => t.validate <= c.lines[0] || t.validate >= c.lines[1])
        .map((t) => `${c.slug}: ${t.validate}`),
    )
    expect(outside).toEqual([])
  })

  it('applies ExpectPeer, ExpectAllIngress, ExpectAllEgress and Expect in order, as truthtable.go does', () => {
    const cells = applyReachability({
      default: true,
      expect: [
        { ExpectPeer: { from: {}, to: { namespace: 'x' }, connected: false } },
        { ExpectAllEgress: { pod: 'y/a', connected: false } },
        { ExpectAllIngress: { pod: 'x/b', connected: true } },
        { Expect: { from: 'z/c', to: 'x/b', connected: false } },
      ],
    })
    const at = (from: string, to: string) =>
      cells[MODEL_PODS.indexOf(from) * MODEL_PODS.length + MODEL_PODS.indexOf(to)]
    expect([
      at('y/b', 'x/a'),
      at('y/a', 'z/c'),
      at('y/a', 'x/b'),
      at('z/c', 'x/b'),
      at('z/a', 'y/c'),
      at('x/a', 'x/a'),
    ]).toEqual([0, 0, 1, 0, 1, CELL_UNKNOWN])
  })

  // A table that any cluster satisfies would prove nothing: without its policies, every case that
  // expects a denied cell must disagree with the engine.
  const constraining = runnable.filter((c) => expectedMatrix(c).cells.some((cells) => cells.includes(0)))
  it.each(constraining)('$title: its table fails without its policies', (c) => {
    const loaded = loadCluster(caseInputs(c).slice(0, 1), { validate: 'strict' })
    const open = computeMatrix(buildIndex(loaded.cluster), c.ports)
    expect(diffMatrices(expectedMatrix(c), open).length).toBeGreaterThan(0)
  })
})
