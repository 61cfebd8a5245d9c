/**
 * Node compiler benchmark (`node dist/bench/compile.js` after `npm run build`): generated clusters of
 * 1k pods / 100 policies and 10k pods / 2k policies with 110 pods on the compiled node. Reports IR build
 * and nftables render time (median of several runs), ruleset size, and — when `nft` is installed and we
 * are root — `nft -f` load and atomic reload time inside a throwaway network namespace (never the host's).
 * Figures are for comparison on one machine: quote ratios, not absolutes.
 */
import { cpus, totalmem } from 'node:os'
import { buildNodeIR, renderNftables } from '../src/compile/index.js'
import { execCommand, hasCommand } from '../src/dataplane/exec.js'
import { generateCluster } from './gen-cluster.js'

const SIZES: readonly { pods: number; policies: number }[] = [
  { pods: 1000, policies: 100 },
  { pods: 10000, policies: 2000 },
]
const NODE = 'node-0'
const RUNS = 7

const now = () => process.hrtime.bigint()
const ms = (t0: bigint) => Number(now() - t0) / 1e6
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
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

async function main(): Promise<void> {
  process.stdout.write(
    `# palisade compile benchmark: node ${process.version}, ${cpus().length} cpus, ${Math.round(totalmem() / 2 ** 30)} GiB\n`,
  )
  process.stdout.write(
    '| pods | policies | local pods | build IR ms | render ms | rules | chains | sets | elements | bytes | nft -c ms | nft -f ms | reload ms |\n',
  )
  process.stdout.write('|---|---|---|---|---|---|---|---|---|---|---|---|---|\n')
  for (const size of SIZES) {
    const cluster = generateCluster({ ...size, nodePods: 110, seed: 42 })
    const build: number[] = []
    const render: number[] = []
    let ir = buildNodeIR(cluster, NODE)
    let out = renderNftables(ir)
    for (let i = 0; i < RUNS; i++) {
      const t0 = now()
      ir = buildNodeIR(cluster, NODE)
      build.push(ms(t0))
      const t1 = now()
      out = renderNftables(ir)
      render.push(ms(t1))
    }
    const k = await loadTimes(out.text)
    const s = out.stats
    process.stdout.write(
      `| ${size.pods} | ${size.policies} | ${ir.pods.length} | ${fmt(median(build))} | ${fmt(median(render))} | ${s.rules} | ${s.chains} | ${s.sets} | ${s.elements} | ${out.text.length} | ${k ? fmt(k.check) : 'n/a'} | ${k ? fmt(k.load) : 'n/a'} | ${k ? fmt(k.reload) : 'n/a'} |\n`,
    )
  }
  process.stdout.write(
    '\nbuild IR + render: median of 7 in-process runs. nft times: one run each inside a throwaway netns, minus the cost of an empty `ip netns exec nft list tables`.\n',
  )
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/compile: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exitCode = 1
})
