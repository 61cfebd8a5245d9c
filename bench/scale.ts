/**
 * The scale benchmark (issue 16): the Antrea shape (102k pods, 75k policies, 25k namespaces, 50 nodes;
 * src/gen/antrea-shape.ts) generated deterministically into a temporary file, then every step of
 * SCALE_STEPS run as `palisade ...` in a child process under `/usr/bin/time -v`: wall time, CPU time and
 * peak RSS against the targets, the machine (cores, memory, load before and after), and the
 * ratio to Antrea's published 26 min 47 s for the whole-cluster computation (antrea#500).
 *
 * Run: `npm run bench:scale` (builds first). Options: `--steps id,id` (default: all), `--json` (one JSON
 * line per step instead of the table), `--keep DIR` (write the inputs there and keep them).
 * After the table, the `compile` step's details (bench/scale-compile.ts): the per-node time after the shared
 * work, ruleset size per node and `nft -f` of the largest node in a throwaway network namespace.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { KUBECTL_DUMP_HEAD, KUBECTL_DUMP_TAIL, kubectlDumpPod } from '../src/gen/kubectl-dump.js'
import { formatScaleCompile, scaleCompile } from './scale-compile.js'
import { writeAntreaShape } from './scale-input.js'

/** Antrea's controller on 102k pods / 75k policies / 25k namespaces: 26 min 47 s (antrea#500). */
export const ANTREA_SECONDS = 26 * 60 + 47

/** The inputs steps run on, written on first use and shared by the steps. */
export interface ScaleInputs {
  /** The full Antrea shape as block YAML (~66 MiB). */
  antrea(): Promise<string>
  /** The Antrea shape at 1k pods (250 namespaces, 5 nodes). */
  antrea1k(): Promise<string>
  /** A `kubectl get pods -A -o yaml` dump (one List) of about 500 MiB (153k pods, src/gen/kubectl-dump.ts). */
  dump500(): Promise<string>
}

/** One measured command: `palisade <args>`, with the targets. */
export interface ScaleStep {
  /** Short id for --steps. */
  readonly id: string
  /** What the table calls it. */
  readonly title: string
  /** Targets: wall seconds and peak RSS in MiB (either may be absent). */
  readonly target: { readonly seconds?: number; readonly rssMiB?: number }
  /** Whether the step computes on the Antrea shape (the table gives its ratio to Antrea's 26 min 47 s). */
  readonly antreaShape: boolean
  /** The palisade command line (input files from `inputs`). */
  readonly args: (inputs: ScaleInputs) => Promise<readonly string[]>
  /** Exit codes that mean the step worked (check: 0 allowed, 1 denied). Default [0]. */
  readonly okExit?: readonly number[]
}

/** The steps, in order. */
export const SCALE_STEPS: ScaleStep[] = [
  {
    id: 'check',
    title: '`check` one pair (102k pods)',
    target: { seconds: 5, rssMiB: 1536 },
    antreaShape: true,
    okExit: [0, 1],
    args: async (i) => [
      'check',
      await i.antrea(),
      '--from',
      'ns-0/frontend-7c9f000-0',
      '--to',
      'ns-0/backend-7c9f000-1',
      '--port',
      '9090/TCP',
    ],
  },
  {
    id: 'matrix',
    title: '`matrix -n ns-0` (102k pods)',
    target: { seconds: 5 },
    antreaShape: true,
    args: async (i) => ['matrix', await i.antrea(), '-n', 'ns-0'],
  },
  {
    id: 'compile',
    title: '`compile --all-nodes` (50 nodes, nftables)',
    target: { seconds: 60 },
    antreaShape: true,
    args: async (i) => [
      'compile',
      await i.antrea(),
      '--all-nodes',
      mkdtempSync(join(tmpdir(), 'palisade-scale-rules-')),
    ],
  },
  {
    id: 'check-1k',
    title: '`check` one pair (1k pods, process start included)',
    target: { seconds: 0.5 },
    antreaShape: false,
    okExit: [0, 1],
    args: async (i) => [
      'check',
      await i.antrea1k(),
      '--from',
      'ns-0/frontend-7c9f000-0',
      '--to',
      'ns-0/backend-7c9f000-1',
      '--port',
      '9090/TCP',
    ],
  },
  {
    id: 'dump-500',
    title: '`check` on a 500 MiB `kubectl get -o yaml` dump (153k pods)',
    target: { rssMiB: 3072 },
    antreaShape: false,
    okExit: [0, 1],
    args: async (i) => [
      'check',
      await i.dump500(),
      '--max-input-size',
      '512Mi',
      '--from',
      'team-0/app-0',
      '--to',
      'team-0/app-1',
      '--port',
      '8081',
    ],
  },
]

export interface StepResult {
  readonly id: string
  readonly title: string
  readonly exit: number | null
  readonly ok: boolean
  readonly wallSeconds: number
  readonly cpuSeconds: number
  readonly peakRssMiB: number
  /** Whether every target was met (undefined when the step failed). */
  readonly met: boolean | undefined
  /** Antrea's 26 min 47 s over this wall time, for steps on the Antrea shape. */
  readonly antreaRatio?: number
  /** The first line of stderr when the step failed. */
  readonly error?: string
}

const bin = new URL('../../bin/palisade.js', import.meta.url).pathname

/** Runs `palisade args` under /usr/bin/time -v; the step's verdict against its targets. */
export function measure(step: ScaleStep, args: readonly string[], timeoutSeconds = 1800): StepResult {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, bin, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
    timeout: timeoutSeconds * 1000,
  })
  const field = (name: string): number =>
    Number(new RegExp(`${name}: ([\\d.]+)`).exec(r.stderr ?? '')?.[1] ?? Number.NaN)
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(
    r.stderr ?? '',
  )
  const wallSeconds = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : Number.NaN
  // time exits with the command's status, or 128 + the signal that ended it.
  const code = r.status
  const ok = code !== null && (step.okExit ?? [0]).includes(code)
  const peakRssMiB = Math.round(field('Maximum resident set size \\(kbytes\\)') / 1024)
  const met = ok
    ? (step.target.seconds === undefined || wallSeconds <= step.target.seconds) &&
      (step.target.rssMiB === undefined || peakRssMiB <= step.target.rssMiB)
    : undefined
  return {
    id: step.id,
    title: step.title,
    exit: code,
    ok,
    wallSeconds,
    cpuSeconds: +(field('User time \\(seconds\\)') + field('System time \\(seconds\\)')).toFixed(2),
    peakRssMiB,
    met,
    ...(step.antreaShape && ok ? { antreaRatio: +(ANTREA_SECONDS / wallSeconds).toFixed(0) } : {}),
    ...(ok
      ? {}
      : {
          error:
            (r.stderr ?? '').split('\n').find((l) => l.trim() !== '' && !l.startsWith('\t')) ??
            String(r.error ?? ''),
        }),
  }
}

/** Writes the inputs of the steps into dir, each on first use. */
export function scaleInputs(dir: string): ScaleInputs {
  const once = (make: () => Promise<string>): (() => Promise<string>) => {
    let made: Promise<string> | undefined
    return () => {
      made ??= make()
      return made
    }
  }
  return {
    antrea: once(async () => {
      const file = join(dir, 'antrea-102k.yaml')
      await writeAntreaShape(file)
      return file
    }),
    antrea1k: once(async () => {
      const file = join(dir, 'antrea-1k.yaml')
      await writeAntreaShape(file, { namespaces: 250, pods: 1000, nodes: 5 })
      return file
    }),
    dump500: once(async () => {
      const file = join(dir, 'kubectl-dump-500m.yaml')
      const out = createWriteStream(file)
      out.write(KUBECTL_DUMP_HEAD)
      for (let i = 0; i < 153_000; i++) {
        if (!out.write(kubectlDumpPod(i))) await new Promise<void>((r) => out.once('drain', () => r()))
      }
      await new Promise<void>((resolve, reject) =>
        out.end(KUBECTL_DUMP_TAIL, () => resolve()).on('error', reject),
      )
      return file
    }),
  }
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '?')

function targetText(t: ScaleStep['target']): string {
  const parts = [
    ...(t.seconds === undefined ? [] : [`≤ ${t.seconds} s`]),
    ...(t.rssMiB === undefined ? [] : [`≤ ${fmt(t.rssMiB / 1024)} GiB`]),
  ]
  return parts.join(', ') || '-'
}

/** The machine, for the table's heading. */
export function machineLine(): string {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
  return `${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), ${fmt(totalmem() / 2 ** 30)} GiB, load ${load}, Node ${process.version}`
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/.*\//, '/'))) {
  const { values } = parseArgs({
    options: { steps: { type: 'string' }, json: { type: 'boolean' }, keep: { type: 'string' } },
  })
  execFileSync('/usr/bin/time', ['-V'], { stdio: 'ignore' })
  const wanted = values.steps?.split(',')
  const steps = SCALE_STEPS.filter((s) => !wanted || wanted.includes(s.id))
  const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'palisade-bench-scale-'))
  if (values.keep) mkdirSync(dir, { recursive: true })
  const inputs = scaleInputs(dir)
  const before = machineLine()
  const results: { step: ScaleStep; result: StepResult; inputMiB: number }[] = []
  const details: string[] = []
  try {
    for (const step of steps) {
      const args = await step.args(inputs)
      const input = args.find((a) => a.startsWith(dir))
      const inputMiB = input ? statSync(input).size / 2 ** 20 : 0
      const result = measure(step, args)
      if (step.id === 'compile') {
        rmSync(args[args.length - 1] as string, { recursive: true, force: true })
        // the per-node split and the kernel load of one node's ruleset
        details.push(formatScaleCompile(await scaleCompile(await inputs.antrea())))
      }
      results.push({ step, result, inputMiB })
      if (values.json) process.stdout.write(`${JSON.stringify({ ...result, inputMiB: +fmt(inputMiB) })}\n`)
      else process.stderr.write(`${step.id}: ${fmt(result.wallSeconds)} s\n`)
    }
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true })
  }
  if (!values.json) {
    const lines = [
      `machine before: ${before}`,
      `machine after:  ${machineLine()}`,
      '',
      '| step | input | wall | CPU | peak RSS | target | met | × Antrea (26 min 47 s) |',
      '|---|---|---|---|---|---|---|---|',
      ...results.map(({ step, result: r, inputMiB }) =>
        [
          '',
          step.title,
          `${fmt(inputMiB)} MiB`,
          r.ok ? `${fmt(r.wallSeconds)} s` : `failed (exit ${r.exit}): ${r.error ?? ''}`,
          `${fmt(r.cpuSeconds)} s`,
          `${fmt(r.peakRssMiB / 1024, 2)} GiB`,
          targetText(step.target),
          r.met === undefined ? 'no' : r.met ? 'yes' : 'no',
          r.antreaRatio === undefined ? '-' : `${r.antreaRatio}×`,
          '',
        ]
          .join(' | ')
          .trim(),
      ),
    ]
    process.stdout.write(`${[...lines, '', ...details].join('\n')}\n`)
  }
}
