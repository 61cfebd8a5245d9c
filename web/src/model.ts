/**
 * What the page computes in the browser with the engine itself (the same code as the CLI): class
 * matrices per port, rows grouped by namespace (collapsible), aggregates of collapsed groups, workload
 * edges for the graph. The engine's classes keep this at classes², not pods².
 */
import {
  buildClasses,
  buildIndex,
  type ClusterIndex,
  computeMatrix,
  evaluate,
  matrixPods,
  type PortQuery,
} from '../../src/engine/index.js'
import type { ClusterState, Labels, Pod } from '../../src/model/index.js'
import { podKey } from '../../src/model/index.js'

export interface SideModel {
  readonly index: ClusterIndex
  /** The pods a matrix shows (hostNetwork pods left out), sorted by namespace and name. */
  readonly pods: readonly Pod[]
  readonly byKey: ReadonlyMap<string, Pod>
}

/** Indexes one side of the page. */
export function sideModel(cluster: ClusterState): SideModel {
  const index = buildIndex(cluster)
  const pods = matrixPods(index)
  return { index, pods, byKey: new Map(pods.map((p) => [podKey(p), p])) }
}

/**
 * Reachability over the shown pods on one port, by class: cell(i, j) = after[classOf[i] * k + classOf[j]]
 * for i != j (a pod reaches itself). With a base, `before` holds the base's cells for the same classes
 * (joint classes: pods neither side can tell apart).
 */
export interface Grid {
  readonly keys: readonly string[]
  readonly classOf: Int32Array
  readonly k: number
  readonly after: Uint8Array
  readonly before?: Uint8Array
}

/** One side's matrix over class representatives; a class's own cell is evaluated between two of its pods. */
function repMatrix(
  side: SideModel,
  pods: readonly Pod[],
  members: readonly number[][],
  q: PortQuery,
): Uint8Array {
  const reps = members.map((m) => pods[m[0] as number] as Pod)
  const cells = computeMatrix(side.index, [q], reps).cells[0] as Uint8Array
  const k = reps.length
  members.forEach((m, j) => {
    if (m.length < 2) return
    const v = evaluate(
      side.index,
      { kind: 'pod', pod: pods[m[0] as number] as Pod },
      { kind: 'pod', pod: pods[m[1] as number] as Pod },
      q,
    )
    cells[j * k + j] = v.allowed ? 1 : 0
  })
  return cells
}

/** Computes the grid of the given pod keys (present on the side, and on the base when given). */
export function computeGrid(keys: readonly string[], q: PortQuery, side: SideModel, base?: SideModel): Grid {
  const pods = keys.map((k) => side.byKey.get(k) as Pod)
  const a = buildClasses(side.index, pods).classOf
  const basePods = base ? keys.map((k) => base.byKey.get(k) as Pod) : undefined
  const b = base && basePods ? buildClasses(base.index, basePods).classOf : undefined
  const classOf = new Int32Array(keys.length)
  const joint = new Map<string, number>()
  const members: number[][] = []
  keys.forEach((_, i) => {
    const id = b ? `${a[i]}|${b[i]}` : String(a[i])
    let j = joint.get(id)
    if (j === undefined) {
      j = members.length
      joint.set(id, j)
      members.push([])
    }
    classOf[i] = j
    ;(members[j] as number[]).push(i)
  })
  const after = repMatrix(side, pods, members, q)
  const before = base && basePods ? repMatrix(base, basePods, members, q) : undefined
  return { keys, classOf, k: members.length, after, ...(before ? { before } : {}) }
}

/** A row (and column) of the heat map: one pod, or a collapsed namespace. */
export interface Unit {
  readonly label: string
  readonly namespace: string
  readonly collapsed: boolean
  /** Indices into grid.keys. */
  readonly members: readonly number[]
  /** Class id -> number of members of that class. */
  readonly hist: ReadonlyMap<number, number>
}

/** Builds the rows: pods grouped by namespace, a collapsed namespace as one row. */
export function buildUnits(grid: Grid, collapsed: ReadonlySet<string>): Unit[] {
  const units: Unit[] = []
  let i = 0
  const n = grid.keys.length
  while (i < n) {
    const ns = (grid.keys[i] as string).split('/')[0] as string
    let j = i
    while (j < n && (grid.keys[j] as string).startsWith(`${ns}/`)) j++
    const idx = Array.from({ length: j - i }, (_, x) => i + x)
    if (collapsed.has(ns)) units.push(unitOf(grid, `${ns} (${idx.length} pods)`, ns, true, idx))
    else
      for (const x of idx)
        units.push(unitOf(grid, (grid.keys[x] as string).slice(ns.length + 1), ns, false, [x]))
    i = j
  }
  return units
}

function unitOf(grid: Grid, label: string, namespace: string, collapsed: boolean, members: number[]): Unit {
  const hist = new Map<number, number>()
  for (const m of members) {
    const c = grid.classOf[m] as number
    hist.set(c, (hist.get(c) ?? 0) + 1)
  }
  return { label, namespace, collapsed, members, hist }
}

/** Pod pairs between two units: total, allowed now, added and removed (against the base). */
export interface Aggregate {
  readonly total: number
  readonly allowed: number
  readonly added: number
  readonly removed: number
}

/** Aggregates the cells between two units (a pod always reaches itself). */
export function aggregate(grid: Grid, u: Unit, v: Unit, same: boolean): Aggregate {
  const k = grid.k
  let total = 0
  let allowed = 0
  let added = 0
  let removed = 0
  for (const [a, ca] of u.hist) {
    for (const [b, cb] of v.hist) {
      // Within one unit, pairs of one class are ca*(ca-1) distinct pods plus ca self pairs.
      const pairs = same && a === b ? ca * (ca - 1) : ca * cb
      const self = same && a === b ? ca : 0
      const cell = a * k + b
      const now = grid.after[cell] as number
      total += pairs + self
      allowed += now * pairs + self
      if (grid.before) {
        const was = grid.before[cell] as number
        if (now === 1 && was === 0) added += pairs
        else if (now === 0 && was === 1) removed += pairs
      }
    }
  }
  return { total, allowed, added, removed }
}

/** Parses a label filter: `app=web`, `tier!=db`, `team`, `!team`, `env in (a,b)`, `env notin (a)`; commas AND. */
export function parseLabelFilter(text: string): ((labels: Labels) => boolean) | string {
  const terms: ((l: Labels) => boolean)[] = []
  const re =
    /\s*(?:(!)?([A-Za-z0-9_./-]+)\s*(?:(!=|==|=)\s*([A-Za-z0-9_.-]*)|\s+(in|notin)\s*\(([^)]*)\))?)\s*(?:,|$)/y
  let pos = 0
  const t = text.trim()
  while (pos < t.length) {
    re.lastIndex = pos
    const m = re.exec(t)
    if (!m || m[0] === '')
      return `cannot read "${t.slice(pos)}": use key=value, key!=value, key, !key or key in (a,b)`
    pos = re.lastIndex
    const [, not, key, op, value, setOp, set] = m as unknown as (string | undefined)[]
    const k = key as string
    if (op) terms.push(op === '!=' ? (l) => l[k] !== value : (l) => l[k] === value)
    else if (setOp) {
      const values = (set ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
      terms.push(
        setOp === 'in' ? (l) => values.includes(l[k] ?? '\0') : (l) => !values.includes(l[k] ?? '\0'),
      )
    } else terms.push(not ? (l) => !(k in l) : (l) => k in l)
  }
  return (labels) => terms.every((f) => f(labels))
}
