/**
 * `lab fuzz`: random clusters (src/gen/random-cluster.ts) through compiler -> kernel -> probes, compared
 * with the engine. A failing case is shrunk (policies, rules, peers, pods removed while a mismatch
 * persists) and saved as manifests plus the expected/observed matrices under test/lab/regressions/.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { matrixToJSON } from '../engine/index.js'
import { randomCluster } from '../gen/random-cluster.js'
import type { ClusterNetworkPolicy, ClusterState, Family, NetworkPolicy, PolicyRule } from '../model/index.js'
import { formatMismatch, mismatchJSON } from './compare.js'
import { renderClusterYAML } from './manifests.js'
import type { LabMode } from './plan.js'
import type { LabBackend } from './rules.js'
import { type VerifyReport, verifyCluster } from './verify.js'

export interface FuzzOptions {
  readonly seed: number
  readonly cases: number
  readonly mode?: LabMode
  readonly backend?: LabBackend
  /** Address family of the lab (default 4); 6 also gives the random policies IPv6 ipBlocks. */
  readonly family?: Family
  readonly maxPods?: number
  readonly maxPolicies?: number
  /** Draw up to this many ClusterNetworkPolicies per cluster too (randomCluster's option; default none). */
  readonly clusterPolicies?: number
  /** Where failing cases are saved (default test/lab/regressions). */
  readonly outDir?: string
  /** Most verify runs spent shrinking one failing case (default 40). */
  readonly shrinkBudget?: number
  readonly log?: (line: string) => void
  /** Test hook: replaces the kernel run (lets tests drive the shrinker without namespaces). */
  readonly verify?: (
    cluster: ClusterState,
  ) => Promise<Pick<VerifyReport, 'mismatches' | 'expected' | 'observed'>>
}

export interface FuzzFailure {
  readonly seed: number
  readonly mismatches: number
  readonly files: readonly string[]
}

export interface FuzzReport {
  readonly cases: number
  readonly probes: number
  readonly failures: readonly FuzzFailure[]
  readonly ms: number
}

/** Returns every cluster one removal smaller: one policy, ClusterNetworkPolicy, rule, peer or pod less. */
export function shrinkSteps(c: ClusterState): ClusterState[] {
  const out: ClusterState[] = []
  const without = <T>(xs: readonly T[], i: number): T[] => xs.filter((_, k) => k !== i)
  const withPolicies = (policies: NetworkPolicy[]) => ({ ...c, policies })
  for (let i = 0; i < c.policies.length; i++) out.push(withPolicies(without(c.policies, i)))
  c.policies.forEach((pol, i) => {
    const replace = (p: NetworkPolicy) => withPolicies(c.policies.map((x, k) => (k === i ? p : x)))
    for (const dir of ['ingress', 'egress'] as const) {
      pol[dir].forEach((rule, r) => {
        out.push(replace({ ...pol, [dir]: without(pol[dir], r) }))
        const withRule = (nr: PolicyRule) =>
          replace({ ...pol, [dir]: pol[dir].map((x, k) => (k === r ? nr : x)) })
        const peers = rule.peers ?? []
        const ports = rule.ports ?? []
        if (peers.length > 1)
          for (let p = 0; p < peers.length; p++) out.push(withRule({ ...rule, peers: without(peers, p) }))
        if (ports.length > 1)
          for (let p = 0; p < ports.length; p++) out.push(withRule({ ...rule, ports: without(ports, p) }))
      })
    }
  })
  // ClusterNetworkPolicies: one less, or one rule or peer less
  const cnps = c.clusterPolicies ?? []
  for (let i = 0; i < cnps.length; i++) out.push({ ...c, clusterPolicies: without(cnps, i) })
  cnps.forEach((pol, i) => {
    const replace = (p: ClusterNetworkPolicy) => ({
      ...c,
      clusterPolicies: cnps.map((x, k) => (k === i ? p : x)),
    })
    for (const dir of ['ingress', 'egress'] as const) {
      pol[dir].forEach((rule, r) => {
        out.push(replace({ ...pol, [dir]: without(pol[dir], r) }))
        if (rule.peers.length > 1)
          for (let p = 0; p < rule.peers.length; p++)
            out.push(
              replace({
                ...pol,
                [dir]: pol[dir].map((x, k) => (k === r ? { ...rule, peers: without(rule.peers, p) } : x)),
              }),
            )
      })
    }
  })
  if (c.pods.length > 2) for (let i = 0; i < c.pods.length; i++) out.push({ ...c, pods: without(c.pods, i) })
  return out
}

/** Shrinks a failing cluster greedily: takes the first smaller cluster that still fails, until none does or the budget ends. */
export async function shrinkCluster(
  c: ClusterState,
  fails: (c: ClusterState) => Promise<boolean>,
  budget: number,
): Promise<{ cluster: ClusterState; runs: number }> {
  let current = c
  let runs = 0
  for (;;) {
    let smaller: ClusterState | undefined
    for (const s of shrinkSteps(current)) {
      if (runs >= budget) return { cluster: current, runs }
      runs++
      if (await fails(s)) {
        smaller = s
        break
      }
    }
    if (!smaller) return { cluster: current, runs }
    current = smaller
  }
}

/** Runs K random clusters through the kernel; shrinks and saves every failing one. */
export async function fuzzLab(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = Date.now()
  const log = opts.log ?? (() => undefined)
  const mode = opts.mode ?? 'routed'
  const backend = opts.backend ?? 'nftables'
  const family = opts.family ?? 4
  const verify =
    opts.verify ??
    ((c: ClusterState) => verifyCluster(c, { mode, backend, ...(family === 6 ? { family } : {}) }))
  const failures: FuzzFailure[] = []
  let probes = 0
  for (let i = 0; i < opts.cases; i++) {
    const seed = opts.seed + i
    const cluster = randomCluster(seed, {
      nodes: 2,
      maxPods: opts.maxPods ?? 6,
      maxPolicies: opts.maxPolicies ?? 4,
      ...(family === 6 ? { ipv6: true } : {}),
      ...(opts.clusterPolicies ? { clusterPolicies: opts.clusterPolicies } : {}),
    })
    const r = await verify(cluster)
    probes += r.observed.probes
    log(
      `case seed=${seed}: ${cluster.pods.length} pods, ${cluster.policies.length} policies${cluster.clusterPolicies ? `, ${cluster.clusterPolicies.length} ClusterNetworkPolicies` : ''}, ${r.observed.probes} probes, ${r.mismatches.length} wrong`,
    )
    if (r.mismatches.length === 0) continue
    for (const m of r.mismatches.slice(0, 10)) log(`  MISMATCH ${formatMismatch(m)}`)
    const shrunk = await shrinkCluster(
      cluster,
      async (c) => (await verify(c)).mismatches.length > 0,
      opts.shrinkBudget ?? 40,
    )
    const final = await verify(shrunk.cluster)
    log(
      `  shrunk in ${shrunk.runs} runs to ${shrunk.cluster.pods.length} pods, ${shrunk.cluster.policies.length} policies (${final.mismatches.length} wrong)`,
    )
    const dir = opts.outDir ?? 'test/lab/regressions'
    await mkdir(dir, { recursive: true })
    const base = join(dir, `seed-${seed}-${backend}-${mode}`)
    await writeFile(
      `${base}.yaml`,
      `# palisade lab fuzz --seed ${seed} --cases 1 --backend ${backend} --mode ${mode}${family === 6 ? ' --family 6' : ''} (shrunk)\n${renderClusterYAML(shrunk.cluster)}`,
    )
    const expected = {
      seed,
      backend,
      mode,
      expected: matrixToJSON(final.expected),
      observed: matrixToJSON(final.observed.full),
      mismatches: final.mismatches.map(mismatchJSON),
    }
    await writeFile(`${base}.expected.json`, `${JSON.stringify(expected, null, 1)}\n`)
    failures.push({
      seed,
      mismatches: final.mismatches.length,
      files: [`${base}.yaml`, `${base}.expected.json`],
    })
  }
  return { cases: opts.cases, probes, failures, ms: Date.now() - t0 }
}
