/**
 * The upstream NetworkPolicy e2e suite as ONE table, run against every implementation that needs no
 * root (implementations.ts): the engine (fast path and per-pair reference), the compiler's node IR, and
 * the nftables and iptables backends' structured rulesets. Every case of test/conformance/cases is
 * loaded strictly and compared cell by cell with the truth table upstream states (see cases.ts for the
 * file layout). The lab runs the same table in the kernel (test/lab/ci-suite.test.ts).
 */
import { describe, expect, it } from 'vitest'
import {
  buildIndex,
  CELL_ALLOWED,
  CELL_UNKNOWN,
  type CellDiff,
  computeMatrix,
  diffMatrices,
  formatPort,
  type Matrix,
  referenceMatrix,
} from '../../src/engine/index.js'
import { loadCluster } from '../../src/load/index.js'
import type { ClusterState, Diagnostic } from '../../src/model/index.js'
import {
  applyReachability,
  type ConformanceCase,
  caseInputs,
  expectedMatrix,
  listConformanceCases,
  MODEL_PODS,
  UPSTREAM_IT_BLOCKS,
} from './cases.js'
import { DATAPLANES, type Implementation } from './implementations.js'

const cases = listConformanceCases()
const runnable = cases.filter((c) => c.skip === undefined)
const skipped = cases.filter((c) => c.skip !== undefined)

const describeDiagnostic = (d: Diagnostic) =>
  `${d.source?.file ?? '?'}:${d.source?.line ?? '?'}: ${d.code}: ${d.object ?? ''} ${d.path.join('.')}: ${d.message}`
const describeDiff = (d: CellDiff) =>
  `${d.port} ${d.from} -> ${d.to}: upstream expects ${d.expected === CELL_ALLOWED ? 'allowed' : 'denied'}, got ${d.actual === CELL_ALLOWED ? 'allowed' : 'denied'}`

/** Loads a case strictly; its pods are spread over two nodes in input order, as the lab spreads them. */
function loadCase(c: ConformanceCase): { errors: string[]; cluster: ClusterState } {
  const loaded = loadCluster(caseInputs(c), { validate: 'strict' })
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error').map(describeDiagnostic)
  const pods = loaded.cluster.pods.map((p, i) => ({ ...p, nodeName: p.nodeName ?? `node-${(i % 2) + 1}` }))
  return { errors, cluster: { ...loaded.cluster, pods } }
}

/** The matrix one dataplane implementation decides over the model's pods (pod -> itself is not asked). */
function dataplaneMatrix(impl: Implementation, cluster: ClusterState, c: ConformanceCase): Matrix {
  const decide = impl.prepare(cluster)
  const byKey = new Map(cluster.pods.map((p) => [`${p.namespace}/${p.name}`, p]))
  const pods = MODEL_PODS.map((k) => {
    const p = byKey.get(k)
    if (!p) throw new Error(`the model has no pod ${k}`)
    return p
  })
  const cells = c.ports.map((port) => {
    const out = new Uint8Array(pods.length * pods.length)
    pods.forEach((from, i) => {
      pods.forEach((to, j) => {
        out[i * pods.length + j] = i === j ? CELL_UNKNOWN : decide(from, to, port) ? 1 : 0
      })
    })
    return out
  })
  return { pods: MODEL_PODS, ports: c.ports.map(formatPort), cells }
}

describe('upstream e2e cases (kubernetes test/e2e/network/netpol/network_policy.go)', () => {
  describe('engine', () => {
    it.each(runnable)('$title', (c) => {
      const { errors, cluster } = loadCase(c)
      expect(errors, 'the manifests load without error diagnostics').toEqual([])
      const index = buildIndex(cluster)
      const fast = computeMatrix(index, c.ports)
      const reference = referenceMatrix(index, c.ports)
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
  })

  for (const impl of DATAPLANES) {
    describe(impl.name, () => {
      it.each(runnable)('$title', (c) => {
        const { errors, cluster } = loadCase(c)
        expect(errors).toEqual([])
        const expected = expectedMatrix(c)
        const got = dataplaneMatrix(impl, cluster, c)
        expect(got.ports, 'every port the case checks was asked').toEqual(expected.ports)
        expect(diffMatrices(expected, got).map(describeDiff), `${impl.name} vs upstream`).toEqual([])
      })
    })
  }

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
