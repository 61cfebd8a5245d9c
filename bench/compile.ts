/**
 * Node compiler benchmark (`node dist/bench/compile.js` after `npm run build`): generated clusters of
 * 1k pods / 100 policies and 10k pods / 2k policies with 110 pods on the compiled node. Reports IR build
 * and nftables render time (median of several runs), ruleset size, and — when `nft` is installed and we
 * are root — `nft -f` load and atomic reload time inside a throwaway network namespace (never the host's).
 * Figures are for comparison on one machine: quote ratios, not absolutes.
 *
 * A second table follows the agent: on realistic 10k pods / 1k policies / 50 nodes clusters, a full
 * compileNode against the incremental compiler (createNodeCompiler) after a pod add and after a policy
 * change, as the agent calls it on every debounced change.
 */
import { cpus, loadavg, totalmem } from 'node:os'
import {
  applyRuleset,
  type CompiledRuleset,
  compileNode,
  createNodeCompiler,
  execCommand,
  hasCommand,
  printRuleset,
  renderNodeIR,
} from '../src/backends/index.js'
import { buildNodeIR, type NodeIR, nodesOf } from '../src/compile/index.js'
import { realisticManifests } from '../src/gen/realistic-cluster.js'
import { normalizeObjects } from '../src/load/index.js'
import { type ClusterState, type NetworkPolicy, type Pod, rawFromValue } from '../src/model/index.js'

const SIZES: readonly { pods: number; policies: number }[] = [
  { pods: 1000, policies: 100 },
  { pods: 10000, policies: 2000 },
]
const NODE = 'node-0'
const RUNS = 7

const now = () => process.hrtime.bigint()
const ms = (t0: bigint) => Number(now() - t0) / 1e6
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const p99 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(0.99 * xs.length) - 1)] as number
const fmt = (x: number) => x.toFixed(1)

/** Loads the text twice (first load, then an atomic replace) in a throwaway netns; undefined when impossible. */
async function loadTimes(text: string): Promise<{ load: number; reload: number; check: number } | undefined> {
  if (!(await hasCommand('nft')) || process.getuid?.() !== 0) return undefined
  const ns = `pz-${process.pid}-bench`
  const add = await execCommand('ip', ['netns', 'add', ns], { timeoutMs: 10_000 })
  if (add.code !== 0) return undefined
  try {
    const run = async (args: string[]) => {
      const t0 = now()
      const r = await execCommand('nft', args, { netns: ns, input: text, timeoutMs: 120_000 })
      if (r.code !== 0) throw new Error(`nft ${args.join(' ')}: ${r.stderr}`)
      return ms(t0)
    }
    // the `ip netns exec` + process start cost, to subtract
    const t0 = now()
    await execCommand('nft', ['list', 'tables'], { netns: ns, timeoutMs: 10_000 })
    const base = ms(t0)
    const check = (await run(['-c', '-f', '-'])) - base
    const load = (await run(['-f', '-'])) - base
    const reload = (await run(['-f', '-'])) - base
    return { load, reload, check }
  } finally {
    await execCommand('ip', ['netns', 'del', ns], { timeoutMs: 10_000 })
  }
}

/** The same sizes through the iptables backend: render, size, and `palisade apply` (ipset swap + one
 * iptables-restore commit) in a throwaway netns with iptables-nft and iptables-legacy. */
async function iptablesTable(): Promise<void> {
  process.stdout.write(
    '\n## iptables + ipset\n\n| pods | policies | compile ms | rules | chains | sets | elements | apply iptables-nft ms | apply iptables-legacy ms |\n|---|---|---|---|---|---|---|---|---|\n',
  )
  const root =
    process.getuid?.() === 0 && (await hasCommand('iptables-legacy')) && (await hasCommand('ipset'))
  for (const size of SIZES) {
    const cluster = normalizeObjects(
      realisticManifests({ ...size, seed: 42 }).map((value, doc) =>
        rawFromValue(value, { file: 'bench', doc }),
      ),
    ).value
    const times: number[] = []
    let rs = compileNode(cluster, NODE, 'iptables').value
    for (let i = 0; i < RUNS; i++) {
      const t0 = now()
      rs = compileNode(cluster, NODE, 'iptables').value
      times.push(ms(t0))
    }
    const applied: string[] = []
    for (const variant of ['nft', 'legacy'] as const) {
      if (!root) {
        applied.push('n/a')
        continue
      }
      const ns = `pz-${process.pid}-ipt-${variant}`
      await execCommand('ip', ['netns', 'add', ns], { timeoutMs: 10_000 })
      const stateDir = `/tmp/pz-${process.pid}-ipt-state`
      try {
        const t0 = now()
        await applyRuleset(rs, { netns: ns, iptables: variant, stateDir, timeoutMs: 120_000 })
        applied.push(fmt(ms(t0)))
      } catch (e) {
        applied.push(`failed: ${e instanceof Error ? e.message.slice(0, 60) : String(e)}`)
      } finally {
        await execCommand('ip', ['netns', 'del', ns], { timeoutMs: 10_000 })
        await execCommand('rm', ['-rf', stateDir], { timeoutMs: 10_000 })
      }
    }
    const st = rs.stats
    process.stdout.write(
      `| ${size.pods} | ${size.policies} | ${fmt(median(times))} | ${st.rules} | ${st.chains} | ${st.sets} | ${st.elements} | ${applied[0]} | ${applied[1]} |\n`,
    )
  }
  process.stdout.write(
    '\ncompile: median of 7 (IR + iptables render). apply: one full `palisade apply` each, process starts included.\n',
  )
}

async function main(): Promise<void> {
  process.stdout.write(
    `# palisade compile benchmark: node ${process.version}, ${cpus().length} cpus, ${Math.round(totalmem() / 2 ** 30)} GiB\n`,
  )
  process.stdout.write(
    '| pods | policies | local pods | build IR ms | render ms | rules | chains | sets | elements | bytes | nft -c ms | nft -f ms | reload ms |\n',
  )
  process.stdout.write('|---|---|---|---|---|---|---|---|---|---|---|---|---|\n')
  for (const size of SIZES) {
    // ceil(pods / 110) nodes: the compiled node holds about 110 pods, as the figures ask.
    const cluster = normalizeObjects(
      realisticManifests({ ...size, seed: 42 }).map((value, doc) =>
        rawFromValue(value, { file: 'bench', doc }),
      ),
    ).value
    const build: number[] = []
    const render: number[] = []
    let ir = buildNodeIR(cluster, NODE)
    let out = renderNodeIR(ir, 'nftables')
    for (let i = 0; i < RUNS; i++) {
      const t0 = now()
      ir = buildNodeIR(cluster, NODE)
      build.push(ms(t0))
      const t1 = now()
      out = renderNodeIR(ir, 'nftables')
      render.push(ms(t1))
    }
    const text = out.files['palisade.nft'] ?? ''
    const k = await loadTimes(text)
    const s = out.stats
    process.stdout.write(
      `| ${size.pods} | ${size.policies} | ${ir.pods.length} | ${fmt(median(build))} | ${fmt(median(render))} | ${s.rules} | ${s.chains} | ${s.sets} | ${s.elements} | ${text.length} | ${k ? fmt(k.check) : 'n/a'} | ${k ? fmt(k.load) : 'n/a'} | ${k ? fmt(k.reload) : 'n/a'} |\n`,
    )
  }
  process.stdout.write(
    '\nbuild IR + render: median of 7 in-process runs. nft times: one run each inside a throwaway netns, minus the cost of an empty `ip netns exec nft list tables`.\n',
  )
  await iptablesTable()
  agentTable()
}

const AGENT_RUNS = 30

/** Returns the pod whose address is in the most pod peer sets of the IR (a pod add like it touches them all). */
function busiestPeer(cluster: ClusterState, ir: NodeIR): Pod {
  const count = new Map<string, number>()
  for (const s of ir.sets)
    if (s.kind === 'addresses' && s.origin.kind === 'pods')
      for (const a of s.elements) count.set(a, (count.get(a) ?? 0) + 1)
  let best: Pod | undefined
  let bestN = -1
  for (const p of cluster.pods) {
    const n = count.get(p.ips[0] ?? '') ?? 0
    if (p.nodeName !== ir.node && n > bestN) {
      best = p
      bestN = n
    }
  }
  return best as Pod
}

/** Full compile vs the incremental compiler after a pod add and after a policy change (the agent's two cases). */
function agentTable(): void {
  process.stdout.write(
    `\n## agent path: 10k pods / 1k policies / 50 nodes (src/gen/realistic-cluster.ts), load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}\n\n`,
  )
  process.stdout.write(
    '| seed | node | local pods | full compile p50 / p99 ms | incremental, pod add p50 / p99 ms | sets patched / refilled | incremental, policy change p50 / p99 ms | bytes |\n',
  )
  process.stdout.write('|---|---|---|---|---|---|---|---|\n')
  for (const seed of [1, 2]) {
    const manifests = realisticManifests({ pods: 10_000, policies: 1000, nodes: 50, seed })
    let cluster = normalizeObjects(
      manifests.map((value, doc) => rawFromValue(value, { file: 'bench', doc })),
    ).value
    const node = nodesOf(cluster)[0] as string
    const ir = buildNodeIR(cluster, node)
    const template = busiestPeer(cluster, ir)
    const local = new Set(ir.chains.map((c) => `${c.policy.namespace}/${c.policy.name}`))
    const localPolicies = cluster.policies.filter((p) => local.has(`${p.namespace}/${p.name}`))
    const inc = createNodeCompiler(node, 'nftables')
    inc.compile(cluster)
    const full: number[] = []
    const podAdd: number[] = []
    const polChange: number[] = []
    const patched: number[] = []
    const refilled: number[] = []
    let last: CompiledRuleset | undefined
    for (let k = 0; k < AGENT_RUNS; k++) {
      const t0 = now()
      last = compileNode(cluster, node, 'nftables').value
      full.push(ms(t0))
      // a new replica like the busiest peer pod, on another node: it joins every set that pod is in
      const pod: Pod = {
        ...template,
        name: `${template.name}-bench-${k}`,
        ips: [`10.200.${k >> 8}.${k & 255}`],
      }
      cluster = { ...cluster, pods: [...cluster.pods, pod] }
      const t1 = now()
      inc.compile(cluster)
      podAdd.push(ms(t1))
      patched.push(inc.stats().setsPatched)
      refilled.push(inc.stats().setsComputed)
      // a port edit on a policy that selects local pods (its chain is rewritten)
      const target = localPolicies[k % localPolicies.length] as NetworkPolicy
      const edited: NetworkPolicy = {
        ...target,
        ingress: target.ingress.map((r) => ({ ...r, ports: [{ protocol: 'TCP', port: 1000 + k }] })),
      }
      cluster = { ...cluster, policies: cluster.policies.map((p) => (p === target ? edited : p)) }
      const t2 = now()
      inc.compile(cluster)
      polChange.push(ms(t2))
    }
    const check = compileNode(cluster, node, 'nftables').value.files['palisade.nft']
    if (printRuleset(inc.compile(cluster).value).files['palisade.nft'] !== check)
      throw new Error('incremental output differs from compileNode')
    process.stdout.write(
      `| ${seed} | ${node} | ${ir.pods.length} | ${fmt(median(full))} / ${fmt(p99(full))} | ${fmt(median(podAdd))} / ${fmt(p99(podAdd))} | ${median(patched)} / ${median(refilled)} of ${ir.sets.length} | ${fmt(median(polChange))} / ${fmt(p99(polChange))} | ${last?.files['palisade.nft']?.length ?? 0} |\n`,
    )
  }
  process.stdout.write(
    `\n${AGENT_RUNS} rounds per row, each: full compileNode, then a pod add and a policy port edit through one incremental compiler (output checked equal to compileNode). p99 of ${AGENT_RUNS} runs = the slowest; wall time, in-process. load average at the end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}\n`,
  )
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/compile: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exitCode = 1
})
