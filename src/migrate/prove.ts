/**
 * Proves a migration changed nothing: both sets are loaded and their engine matrices compared on every port
 * where a verdict can change (declared container ports, every port/endPort boundary of every rule, and one
 * port no rule names, per protocol). Verdicts are constant between those boundaries, so equal cells on them
 * mean equal matrices on every port.
 */
import {
  buildIndex,
  type CellDiff,
  computeMatrix,
  declaredPorts,
  diffMatrices,
  type PortQuery,
} from '../engine/index.js'
import { type InputText, loadCluster, type ValidationMode } from '../load/index.js'
import { type ClusterState, type Diagnostic, PROTOCOLS, podKey } from '../model/index.js'

export interface MigrationProof {
  readonly equal: boolean
  readonly pods: number
  readonly ports: number
  readonly diffs: readonly CellDiff[]
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

/** Loads both sets and compares their matrices on every boundary port. */
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
  const ma = computeMatrix(buildIndex(a.cluster), ports)
  const mb = computeMatrix(buildIndex(b.cluster), ports)
  const diffs = diffMatrices(ma, mb)
  const equal =
    diffs.length === 0 &&
    newErrors.length === 0 &&
    podsOnlyIn.original.length === 0 &&
    podsOnlyIn.migrated.length === 0
  return { equal, pods: ma.pods.length, ports: ports.length, diffs, podsOnlyIn, newErrors }
}
