/**
 * Proves a migration changed nothing: both sets are loaded and their engine matrices compared on every port
 * where a verdict can change (declared container ports, every port/endPort boundary of every rule, and one
 * port no rule names, per protocol). Verdicts are constant between those boundaries, so equal cells on them
 * mean equal matrices on every port.
 */
import {
  buildClasses,
  buildIndex,
  type CellDiff,
  type ClusterIndex,
  computeMatrix,
  declaredPorts,
  matrixPods,
  type PortQuery,
} from '../engine/index.js'
import { type InputText, loadCluster, type ValidationMode } from '../load/index.js'
import { type ClusterState, type Diagnostic, type Pod, PROTOCOLS, podKey } from '../model/index.js'

export interface MigrationProof {
  readonly equal: boolean
  readonly pods: number
  readonly ports: number
  /** The first differing cells (at most MAX_LISTED_DIFFS), in pod order per port. */
  readonly diffs: readonly CellDiff[]
  /** How many cells differ in all. */
  readonly differing: number
  /** Pods present on one side only (a migration must not add or drop pods). */
  readonly podsOnlyIn: { readonly original: readonly string[]; readonly migrated: readonly string[] }
  /** Errors the migrated set has that the original did not (e.g. a rewritten object the loader rejects). */
  readonly newErrors: readonly Diagnostic[]
}

/** Returns every port whose verdict may differ from its neighbours', sorted. */
export function boundaryPorts(clusters: readonly ClusterState[]): PortQuery[] {
  const seen = new Map<string, PortQuery>()
  const add = (protocol: PortQuery['protocol'], port: number): void => {
    if (port >= 1 && port <= 65535) seen.set(`${port}/${protocol}`, { port, protocol })
  }
  for (const c of clusters) {
    for (const q of declaredPorts(c.pods)) add(q.protocol, q.port)
    for (const pol of c.policies) {
      for (const rule of [...pol.ingress, ...pol.egress]) {
        for (const p of rule.ports ?? []) {
          if (typeof p.port !== 'number') continue
          add(p.protocol, p.port)
          add(p.protocol, (p.endPort ?? p.port) + 1)
        }
      }
    }
  }
  // One port per protocol that no rule names: stands for "every other port".
  for (const protocol of PROTOCOLS) {
    let port = 1
    while (seen.has(`${port}/${protocol}`) && port < 65535) port++
    add(protocol, port)
  }
  return [...seen.values()].sort(
    (a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0),
  )
}

const errorKey = (d: Diagnostic): string => `${d.code}|${d.object ?? ''}|${d.message}`

/** How many differing cells a proof lists (it counts them all). */
export const MAX_LISTED_DIFFS = 1000

/**
 * Loads both sets and compares their matrices on every boundary port. A cell of a matrix depends only on
 * the classes (src/engine/classes.ts) of its two pods, so the comparison runs over representatives: one
 * pod per pair of classes (its class in each set), two when the pair holds more pods (for the cells
 * between distinct pods of one class). That is exact, and costs classes² instead of pods² per port.
 */
export function proveMigration(
  original: readonly InputText[],
  migrated: readonly InputText[],
  validate: ValidationMode = 'warn',
): MigrationProof {
  const a = loadCluster(original, { validate })
  const b = loadCluster(migrated, { validate })
  const before = new Set(a.diagnostics.filter((d) => d.severity === 'error').map(errorKey))
  const newErrors = b.diagnostics.filter((d) => d.severity === 'error' && !before.has(errorKey(d)))
  const podsA = new Set(a.cluster.pods.map(podKey))
  const podsB = new Set(b.cluster.pods.map(podKey))
  const podsOnlyIn = {
    original: [...podsA].filter((p) => !podsB.has(p)).sort(),
    migrated: [...podsB].filter((p) => !podsA.has(p)).sort(),
  }
  const ports = boundaryPorts([a.cluster, b.cluster])
  const indexA = buildIndex(a.cluster)
  const indexB = buildIndex(b.cluster)
  // The pods both matrices show, in the original's order.
  const inB = new Map(matrixPods(indexB).map((p) => [podKey(p), p]))
  const shownA: Pod[] = []
  const shownB: Pod[] = []
  for (const p of matrixPods(indexA)) {
    const q = inB.get(podKey(p))
    if (q) {
      shownA.push(p)
      shownB.push(q)
    }
  }
  const { diffs, differing } = compareByClasses(indexA, indexB, shownA, shownB, ports)
  const equal =
    differing === 0 &&
    newErrors.length === 0 &&
    podsOnlyIn.original.length === 0 &&
    podsOnlyIn.migrated.length === 0
  return { equal, pods: shownA.length, ports: ports.length, diffs, differing, podsOnlyIn, newErrors }
}

/** Compares the two matrices over the same pods through representatives of their joint classes. */
function compareByClasses(
  indexA: ClusterIndex,
  indexB: ClusterIndex,
  podsA: readonly Pod[],
  podsB: readonly Pod[],
  ports: readonly PortQuery[],
): { diffs: CellDiff[]; differing: number } {
  const ca = buildClasses(indexA, podsA).classOf
  const cb = buildClasses(indexB, podsB).classOf
  const jointOf = new Int32Array(podsA.length)
  const ids = new Map<string, number>()
  const reps: number[][] = [] // per joint class: up to two pod indexes
  const sizes: number[] = []
  podsA.forEach((_, i) => {
    const key = `${ca[i]}|${cb[i]}`
    let id = ids.get(key)
    if (id === undefined) {
      id = ids.size
      ids.set(key, id)
      reps.push([])
      sizes.push(0)
    }
    jointOf[i] = id
    sizes[id] = (sizes[id] as number) + 1
    const r = reps[id] as number[]
    if (r.length < 2) r.push(i)
  })
  const order = reps.flat()
  const k = ids.size
  const n = order.length
  // Matrix rows/columns of each joint class's representatives (second: -1 for a class of one pod).
  const first = new Int32Array(k)
  const second = new Int32Array(k).fill(-1)
  let slot = 0
  reps.forEach((r, I) => {
    first[I] = slot++
    if (r.length > 1) second[I] = slot++
  })
  const podsOf = (pods: readonly Pod[]): Pod[] => order.map((i) => pods[i] as Pod)
  const diffs: CellDiff[] = []
  let differing = 0
  const differ = new Uint8Array(k * k)
  // A few ports at a time: a matrix over n pods holds n² cells per port.
  const batch = Math.max(1, Math.floor(64e6 / Math.max(1, n * n)))
  for (let from = 0; from < ports.length; from += batch) {
    const some = ports.slice(from, from + batch)
    const ma = computeMatrix(indexA, some, podsOf(podsA))
    const mb = computeMatrix(indexB, some, podsOf(podsB))
    some.forEach((_, p) => {
      const cellsA = ma.cells[p] as Uint8Array
      const cellsB = mb.cells[p] as Uint8Array
      differ.fill(0)
      let any = false
      for (let I = 0; I < k; I++) {
        const row = (first[I] as number) * n
        for (let J = 0; J < k; J++) {
          // The cell between distinct pods of classes I and J (a pod always reaches itself).
          const to = I === J ? (second[J] as number) : (first[J] as number)
          if (to < 0 || cellsA[row + to] === cellsB[row + to]) continue
          differ[I * k + J] = 1
          any = true
          differing += (sizes[I] as number) * ((sizes[J] as number) - (I === J ? 1 : 0))
        }
      }
      // The first differing cells, pod by pod.
      for (let i = 0; any && i < podsA.length && diffs.length < MAX_LISTED_DIFFS; i++) {
        for (let j = 0; j < podsA.length && diffs.length < MAX_LISTED_DIFFS; j++) {
          const I = jointOf[i] as number
          const J = jointOf[j] as number
          if (i === j || !differ[I * k + J]) continue
          const cell = (first[I] as number) * n + (I === J ? (second[J] as number) : (first[J] as number))
          diffs.push({
            port: ma.ports[p] as string,
            from: podKey(podsA[i] as Pod),
            to: podKey(podsA[j] as Pod),
            expected: cellsA[cell] as number,
            actual: cellsB[cell] as number,
          })
        }
      }
    })
  }
  return { diffs, differing }
}
