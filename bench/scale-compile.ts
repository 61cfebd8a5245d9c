/**
 * `compile --all-nodes` at scale (issue 16): runs the CLI on a manifest file in a child process under
 * `/usr/bin/time -v` (wall time, peak RSS), timestamps each node's stats line as the child writes it
 * (the first node carries the load and the shared work; the intervals after it are the per-node work),
 * then reports the ruleset size per node (lines, bytes) and the `nft -f` load time of the largest node's
 * ruleset inside a throwaway network namespace (never the host's; deleted in a finally).
 *
 * Run: `node dist/bench/scale-compile.js FILE [--backend nftables|iptables] [--keep DIR] [--jobs N]` after
 * `npm run build` (FILE from `node dist/bench/scale-input.js FILE`). `bench/scale.ts` calls
 * scaleCompile() and formatScaleCompile(). Figures depend on the machine's load: quote it (printed).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { execCommand, hasCommand } from '../src/backends/index.js'
import { IPTABLES_FILES } from '../src/backends/iptables/print.js'
import { NFT_FILE } from '../src/backends/nftables/print.js'

export interface ScaleCompileOptions {
  /** nftables (default) or iptables. */
  readonly backend?: 'nftables' | 'iptables'
  /** Keep the rulesets in this folder (default: a temporary folder, removed at the end). */
  readonly outDir?: string
  /** Skip the `nft -f` measurement. */
  readonly noLoad?: boolean
  /** `compile --jobs N` (default: the CLI's default). */
  readonly jobs?: number
  /** `nft -f` loads of the largest node to time (default 3: the first load, then atomic reloads). */
  readonly nftRuns?: number
}

export interface ScaleCompileResult {
  readonly file: string
  readonly backend: string
  readonly nodes: number
  /** Exit code of `palisade compile`. */
  readonly code: number
  /** Whole command, process start to exit (s). */
  readonly wallS: number
  /** Peak resident set size of the child (MiB), when /usr/bin/time is there. */
  readonly rssMiB?: number
  /** CPU time of the child, user + system (s), when /usr/bin/time is there: less load-sensitive than wall. */
  readonly cpuS?: number
  /** Child start to the first node written (s): loading, the shared work and the first node. */
  readonly firstNodeS: number
  /** Time between two nodes written after the first (s): the per-node work after the shared work. */
  readonly perNodeS: { readonly median: number; readonly p90: number; readonly max: number }
  /** Ruleset size per node (files of the node summed). */
  readonly lines: { readonly median: number; readonly max: number }
  readonly bytes: { readonly median: number; readonly max: number }
  /** Sets (and maps) and their elements per node, from the CLI's stats lines. */
  readonly sets: { readonly median: number; readonly max: number }
  readonly elements: { readonly median: number; readonly max: number }
  /** `nft -f` of the largest node's ruleset in a throwaway netns (first load and atomic reloads). */
  readonly nft?: { readonly node: string } & NftLoadTimes
  /** The --jobs given (undefined: the CLI's default). */
  readonly jobs?: number
  /** 1-minute load average at the start and at the end. */
  readonly load: readonly [number, number]
}

const BIN = fileURLToPath(new URL('../../bin/palisade.js', import.meta.url))
const STATS = /^(\S+): (\d+) rules, (\d+) chains, (\d+) sets, (\d+) elements \(\w+\) -> (.+)$/

const quantile = (xs: readonly number[], q: number): number => {
  if (xs.length === 0) return 0
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number
}
const spread = (xs: readonly number[]) => ({ median: quantile(xs, 0.5), max: quantile(xs, 1) })

interface NodeLine {
  readonly node: string
  readonly at: number
  readonly sets: number
  readonly elements: number
  readonly dir: string
}

/** Runs `palisade compile FILE --all-nodes DIR` in a child; resolves with its node lines and figures. */
async function runCompile(
  file: string,
  dir: string,
  backend: string,
  jobs: number | undefined,
): Promise<{
  code: number
  wallS: number
  rssMiB?: number
  cpuS?: number
  lines: NodeLine[]
  stderr: string
}> {
  const timed = await stat('/usr/bin/time').then(
    () => true,
    () => false,
  )
  const args = [
    BIN,
    'compile',
    file,
    '--backend',
    backend,
    '--all-nodes',
    dir,
    ...(jobs !== undefined ? ['--jobs', String(jobs)] : []),
  ]
  const child = timed
    ? spawn('/usr/bin/time', ['-v', process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const t0 = performance.now()
  const lines: NodeLine[] = []
  let rest = ''
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    const at = performance.now()
    stderr += chunk
    const parts = (rest + chunk).split('\n')
    rest = parts.pop() ?? ''
    for (const l of parts) {
      const m = STATS.exec(l)
      if (m)
        lines.push({
          node: m[1] as string,
          at: (at - t0) / 1000,
          sets: Number(m[4]),
          elements: Number(m[5]),
          dir: m[6] as string,
        })
    }
  })
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
  const wallS = (performance.now() - t0) / 1000
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
  const user = /User time \(seconds\): ([\d.]+)/.exec(stderr)
  const sys = /System time \(seconds\): ([\d.]+)/.exec(stderr)
  return {
    code,
    wallS,
    ...(rss ? { rssMiB: Number(rss[1]) / 1024 } : {}),
    ...(user && sys ? { cpuS: Number(user[1]) + Number(sys[1]) } : {}),
    lines,
    stderr,
  }
}

/** `nft -f` of one file, `runs` times: the first load, then atomic reloads (ms; CPU = user + system of nft). */
export interface NftLoadTimes {
  readonly loadMs: number
  readonly reloadMs: number
  /** Every run's wall time (the first is the first load). */
  readonly wallMs: readonly number[]
  /** Every run's CPU time, when /usr/bin/time is there. */
  readonly cpuMs?: readonly number[]
}

/**
 * Loads an nftables file `runs` times (first load, then atomic reloads) in a throwaway netns (never the
 * host's; deleted in a finally); undefined when impossible (no root, no nft).
 */
export async function nftLoadTimes(text: string, runs = 3): Promise<NftLoadTimes | undefined> {
  if (!(await hasCommand('nft')) || process.getuid?.() !== 0) return undefined
  const ns = `pz-${process.pid}-scale`
  const add = await execCommand('ip', ['netns', 'add', ns], { timeoutMs: 10_000 })
  if (add.code !== 0) return undefined
  const timed = await stat('/usr/bin/time').then(
    () => true,
    () => false,
  )
  try {
    // the `ip netns exec` + process start cost, subtracted
    let t0 = performance.now()
    await execCommand('nft', ['list', 'tables'], { netns: ns, timeoutMs: 10_000 })
    const base = performance.now() - t0
    const wallMs: number[] = []
    const cpuMs: number[] = []
    for (let i = 0; i < Math.max(2, runs); i++) {
      t0 = performance.now()
      const r = timed
        ? await execCommand('/usr/bin/time', ['-f', 'CPU %U %S', 'nft', '-f', '-'], {
            netns: ns,
            input: text,
            timeoutMs: 300_000,
          })
        : await execCommand('nft', ['-f', '-'], { netns: ns, input: text, timeoutMs: 300_000 })
      if (r.code !== 0) throw new Error(`nft -f: ${r.stderr.slice(0, 500)}`)
      wallMs.push(performance.now() - t0 - base)
      const cpu = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr)
      if (cpu) cpuMs.push((Number(cpu[1]) + Number(cpu[2])) * 1000)
    }
    return {
      loadMs: wallMs[0] as number,
      reloadMs: quantile(wallMs.slice(1), 0.5),
      wallMs,
      ...(cpuMs.length === wallMs.length ? { cpuMs } : {}),
    }
  } finally {
    await execCommand('ip', ['netns', 'delete', ns], { timeoutMs: 10_000 })
  }
}

/** Measures `compile --all-nodes` on `file` (see the file comment). */
export async function scaleCompile(
  file: string,
  opts: ScaleCompileOptions = {},
): Promise<ScaleCompileResult> {
  const backend = opts.backend ?? 'nftables'
  const load0 = loadavg()[0] as number
  const dir = opts.outDir ?? (await mkdtemp(join(tmpdir(), 'palisade-scale-')))
  try {
    const run = await runCompile(file, dir, backend, opts.jobs)
    if (run.code !== 0 && run.lines.length === 0)
      throw new Error(`palisade compile exited ${run.code}: ${run.stderr.slice(-2000)}`)
    const gaps = run.lines.slice(1).map((l, i) => l.at - (run.lines[i] as NodeLine).at)
    const sizes: { node: string; lines: number; bytes: number; nft?: string }[] = []
    for (const l of run.lines) {
      const names = backend === 'nftables' ? [NFT_FILE] : IPTABLES_FILES
      let lines = 0
      let bytes = 0
      let nft: string | undefined
      for (const name of names) {
        const path = join(l.dir, name)
        const size = await stat(path).catch(() => undefined)
        if (!size) continue
        const text = await readFile(path, 'utf8')
        bytes += size.size
        lines += text.split('\n').length - 1
        if (name === NFT_FILE) nft = text
      }
      sizes.push({ node: l.node, lines, bytes, ...(nft !== undefined ? { nft } : {}) })
    }
    let nft: ScaleCompileResult['nft']
    const largest = [...sizes].sort((a, b) => b.bytes - a.bytes)[0]
    if (!opts.noLoad && largest?.nft !== undefined) {
      const t = await nftLoadTimes(largest.nft, opts.nftRuns)
      if (t) nft = { node: largest.node, ...t }
    }
    return {
      file,
      backend,
      nodes: run.lines.length,
      code: run.code,
      wallS: run.wallS,
      ...(run.rssMiB !== undefined ? { rssMiB: run.rssMiB } : {}),
      ...(run.cpuS !== undefined ? { cpuS: run.cpuS } : {}),
      firstNodeS: run.lines[0]?.at ?? run.wallS,
      perNodeS: { median: quantile(gaps, 0.5), p90: quantile(gaps, 0.9), max: quantile(gaps, 1) },
      lines: spread(sizes.map((s) => s.lines)),
      bytes: spread(sizes.map((s) => s.bytes)),
      sets: spread(run.lines.map((l) => l.sets)),
      elements: spread(run.lines.map((l) => l.elements)),
      ...(nft ? { nft } : {}),
      ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
      load: [load0, loadavg()[0] as number],
    }
  } finally {
    if (opts.outDir === undefined) await rm(dir, { recursive: true, force: true })
  }
}

/** Formats a result as a few lines of Markdown-friendly text. */
export function formatScaleCompile(r: ScaleCompileResult): string {
  const s = (x: number) => x.toFixed(2)
  const k = (x: number) => `${Math.round(x / 1000)}k`
  return [
    `compile --all-nodes (${r.backend}${r.jobs !== undefined ? `, --jobs ${r.jobs}` : ''}) of ${r.file}: ${r.nodes} nodes, exit ${r.code}`,
    `  in all: ${s(r.wallS)} s wall${r.cpuS !== undefined ? `, ${s(r.cpuS)} s CPU` : ''}${r.rssMiB !== undefined ? `, ${Math.round(r.rssMiB)} MiB peak RSS` : ''}`,
    `  load + shared work + first node: ${s(r.firstNodeS)} s; per node after it: median ${s(r.perNodeS.median)} s, p90 ${s(r.perNodeS.p90)} s, max ${s(r.perNodeS.max)} s`,
    `  per node: ${k(r.lines.median)} lines (max ${k(r.lines.max)}), ${(r.bytes.median / 2 ** 20).toFixed(1)} MiB (max ${(r.bytes.max / 2 ** 20).toFixed(1)}), ${r.sets.median} sets+maps, ${r.elements.median} elements (max ${r.elements.max})`,
    r.nft
      ? `  nft -f of ${r.nft.node} (largest) in a throwaway netns: ${s(r.nft.loadMs / 1000)} s first load, ${s(r.nft.reloadMs / 1000)} s atomic reload (median); wall ${r.nft.wallMs.map((x) => s(x / 1000)).join(', ')} s${r.nft.cpuMs ? `; CPU ${r.nft.cpuMs.map((x) => s(x / 1000)).join(', ')} s` : ''}`
      : '  nft -f: not measured (needs root and nft)',
    `  load average ${r.load[0].toFixed(1)} -> ${r.load[1].toFixed(1)} (2-core machine shared with other work)`,
  ].join('\n')
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/.*\//, '/'))) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      backend: { type: 'string' },
      keep: { type: 'string' },
      'no-load': { type: 'boolean' },
      jobs: { type: 'string' },
      'nft-runs': { type: 'string' },
    },
  })
  const file = positionals[0]
  if (!file)
    throw new Error(
      'usage: scale-compile.js FILE [--backend nftables|iptables] [--keep DIR] [--no-load] [--jobs N] [--nft-runs N]',
    )
  const backend = values.backend === 'iptables' ? 'iptables' : 'nftables'
  const r = await scaleCompile(file, {
    backend,
    ...(values.keep ? { outDir: values.keep } : {}),
    ...(values['no-load'] ? { noLoad: true } : {}),
    ...(values.jobs ? { jobs: Number(values.jobs) } : {}),
    ...(values['nft-runs'] ? { nftRuns: Number(values['nft-runs']) } : {}),
  })
  console.log(formatScaleCompile(r))
}
