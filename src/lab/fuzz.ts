/**
 * `lab fuzz`: random clusters (src/gen/random-cluster.ts) through compiler -> kernel -> probes, compared
 * with the engine. A failing case is shrunk (policies, rules, peers, pods removed while a mismatch
 * persists) and saved as manifests plus the expected/observed matrices under test/lab/regressions/.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { matrixToJSON } from '../engine/index.js'
import { randomCluster } from '../gen/random-cluster.js'
import type {
  ClusterState,
  ContainerPort,
  LabelSelector,
  NetworkPolicy,
  PolicyPeer,
  PolicyRule,
} from '../model/index.js'
import { DEFAULT_DENY_ANNOTATION_POLICY, LEGACY_ISOLATION_ANNOTATION } from '../model/index.js'
import { formatMismatch, mismatchJSON } from './compare.js'
import type { LabMode } from './plan.js'
import type { LabBackend } from './rules.js'
import { type VerifyReport, verifyCluster } from './verify.js'

export interface FuzzOptions {
  readonly seed: number
  readonly cases: number
  readonly mode?: LabMode
  readonly backend?: LabBackend
  readonly maxPods?: number
  readonly maxPolicies?: number
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

/** Returns every cluster one removal smaller: one policy, rule, peer or pod less. */
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

function selectorYAML(s: LabelSelector): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (Object.keys(s.matchLabels).length > 0) out.matchLabels = { ...s.matchLabels }
  if (s.matchExpressions.length > 0) {
    out.matchExpressions = s.matchExpressions.map((e) => ({
      key: e.key,
      operator: e.operator,
      ...(e.values.length > 0 ? { values: [...e.values] } : {}),
    }))
  }
  return out
}

function peerYAML(p: PolicyPeer): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (p.podSelector) out.podSelector = selectorYAML(p.podSelector)
  if (p.namespaceSelector) out.namespaceSelector = selectorYAML(p.namespaceSelector)
  if (p.ipBlock)
    out.ipBlock = {
      cidr: p.ipBlock.cidr,
      ...(p.ipBlock.except.length > 0 ? { except: [...p.ipBlock.except] } : {}),
    }
  return out
}

function ruleYAML(r: PolicyRule, peerField: 'from' | 'to'): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (r.peers) out[peerField] = r.peers.map(peerYAML)
  if (r.ports) {
    out.ports = r.ports.map((p) => ({
      protocol: p.protocol,
      ...(p.port !== undefined ? { port: p.port } : {}),
      ...(p.endPort !== undefined ? { endPort: p.endPort } : {}),
    }))
  }
  return out
}

/** Spreads container ports over as few containers as keep port names unique per container (as validation requires). */
function containersYAML(ports: readonly ContainerPort[]): Record<string, unknown>[] {
  const groups: ContainerPort[][] = [[]]
  for (const cp of ports) {
    let g = groups.find((x) => cp.name === undefined || !x.some((y) => y.name === cp.name))
    if (!g) {
      g = []
      groups.push(g)
    }
    g.push(cp)
  }
  return groups.map((g, i) => ({
    name: i === 0 ? 'main' : `c${i}`,
    image: 'registry.k8s.io/pause:3.9',
    ...(g.length > 0
      ? {
          ports: g.map((cp) => ({
            ...(cp.name ? { name: cp.name } : {}),
            containerPort: cp.containerPort,
            protocol: cp.protocol,
          })),
        }
      : {}),
  }))
}

/** Returns a cluster as Kubernetes objects (Namespace, Pod, NetworkPolicy) that load back into the same cluster. */
export function clusterManifests(c: ClusterState): Record<string, unknown>[] {
  const docs: Record<string, unknown>[] = []
  for (const ns of c.namespaces) {
    const annotations = ns.defaultDenyIngress
      ? { [LEGACY_ISOLATION_ANNOTATION]: '{"ingress":{"isolation":"DefaultDeny"}}' }
      : undefined
    docs.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns.name, labels: { ...ns.labels }, ...(annotations ? { annotations } : {}) },
    })
  }
  for (const p of c.pods) {
    docs.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: p.namespace, labels: { ...p.labels } },
      spec: {
        ...(p.nodeName ? { nodeName: p.nodeName } : {}),
        ...(p.hostNetwork ? { hostNetwork: true } : {}),
        containers: containersYAML(p.ports),
      },
      status: {
        phase: p.phase ?? 'Running',
        ...(p.ips.length > 0 ? { podIP: p.ips[0], podIPs: p.ips.map((ip) => ({ ip })) } : {}),
      },
    })
  }
  for (const pol of c.policies) {
    if (pol.name === DEFAULT_DENY_ANNOTATION_POLICY) continue // the namespace annotation above carries it
    docs.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: pol.name, namespace: pol.namespace },
      spec: {
        podSelector: selectorYAML(pol.podSelector),
        policyTypes: [...pol.policyTypes],
        ...(pol.ingress.length > 0 ? { ingress: pol.ingress.map((r) => ruleYAML(r, 'from')) } : {}),
        ...(pol.egress.length > 0 ? { egress: pol.egress.map((r) => ruleYAML(r, 'to')) } : {}),
      },
    })
  }
  return docs
}

/** Renders a cluster as Kubernetes manifests (Namespace, Pod, NetworkPolicy) that load back into the same cluster. */
export function renderClusterYAML(c: ClusterState): string {
  // every string value double-quoted: the loader reads YAML 1.1 like the API server, where y, n, on, off are booleans
  return clusterManifests(c)
    .map((d) => stringify(d, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' }))
    .join('---\n')
}

/** Runs K random clusters through the kernel; shrinks and saves every failing one. */
export async function fuzzLab(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = Date.now()
  const log = opts.log ?? (() => undefined)
  const mode = opts.mode ?? 'routed'
  const backend = opts.backend ?? 'nftables'
  const verify = opts.verify ?? ((c: ClusterState) => verifyCluster(c, { mode, backend }))
  const failures: FuzzFailure[] = []
  let probes = 0
  for (let i = 0; i < opts.cases; i++) {
    const seed = opts.seed + i
    const cluster = randomCluster(seed, {
      nodes: 2,
      maxPods: opts.maxPods ?? 6,
      maxPolicies: opts.maxPolicies ?? 4,
    })
    const r = await verify(cluster)
    probes += r.observed.probes
    log(
      `case seed=${seed}: ${cluster.pods.length} pods, ${cluster.policies.length} policies, ${r.observed.probes} probes, ${r.mismatches.length} wrong`,
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
      `# palisade lab fuzz --seed ${seed} --cases 1 --backend ${backend} --mode ${mode} (shrunk)\n${renderClusterYAML(shrunk.cluster)}`,
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
