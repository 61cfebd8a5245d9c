/**
 * The lab tests that run real agents (agents-e2e, agents-cnp): the test API server made to hold a cluster
 * state, and the lab probed until the kernel does what the engine says of that state.
 */
import type { FakeApiServer, FakeKind } from '../../harness/fake-apiserver.js'
import {
  clusterManifests,
  compareLab,
  expectedLabMatrix,
  formatMismatch,
  type Lab,
  probeCells,
  probeLab,
} from '../../src/lab/index.js'
import type { ClusterState } from '../../src/model/index.js'
import { podKey } from '../../src/model/index.js'

type Obj = Record<string, unknown> & { kind: FakeKind; metadata: { name: string; namespace?: string } }
const objKey = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`
const objectsOf = (c: ClusterState) => new Map((clusterManifests(c) as Obj[]).map((o) => [objKey(o), o]))

/** Makes the API hold exactly `next` (creates, updates and deletes through the API, like kubectl apply --prune). */
export function setApiState(api: FakeApiServer, prev: ClusterState | undefined, next: ClusterState): void {
  const before = prev ? objectsOf(prev) : new Map<string, Obj>()
  const after = objectsOf(next)
  for (const [k, o] of after) {
    const old = before.get(k)
    if (!old || JSON.stringify(old) !== JSON.stringify(o)) api.apply(o.kind, o)
  }
  for (const [k, o] of before)
    if (!after.has(k)) api.delete(o.kind, o.metadata.namespace ?? '', o.metadata.name)
}

/** The lab as the engine must see it for a state: its cluster, and only the pods the API holds. */
export function viewOf(lab: Lab, state: ClusterState): Lab {
  const keys = new Set(state.pods.map(podKey))
  return { ...lab, plan: { ...lab.plan, cluster: state, pods: lab.plan.pods.filter((p) => keys.has(p.key)) } }
}

/** Probes the lab; returns the confirmed differences from the engine (a second, slower look at each one). */
export async function wrongCells(lab: Lab, state: ClusterState): Promise<string[]> {
  const view = viewOf(lab, state)
  const observed = await probeLab(view)
  const mismatches = compareLab(view, expectedLabMatrix(view), observed.full, observed.details)
  if (mismatches.length === 0) return []
  const again = await probeCells(view, mismatches, { timeoutMs: 3000 })
  return mismatches
    .filter((m) => {
      const d = again.get(`${m.port}|${m.from}|${m.to}`)
      return d === undefined || d.ok === m.observed
    })
    .map(formatMismatch)
}

/** Waits until the kernel does what the engine says of `state`; returns the milliseconds it took. */
export async function converge(
  lab: Lab,
  state: ClusterState,
  what: string,
  timeoutMs = 20_000,
): Promise<number> {
  const t0 = Date.now()
  for (;;) {
    const wrong = await wrongCells(lab, state)
    if (wrong.length === 0) return Date.now() - t0
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `${what}: ${wrong.length} cells still wrong after ${timeoutMs} ms:\n${wrong.join('\n')}`,
      )
    await new Promise((r) => setTimeout(r, 200))
  }
}
