/**
 * Big inputs: a `kubectl get pods -A -o yaml` dump of 10k, 50k and 100k pods (src/gen/kubectl-dump.ts,
 * streamed to a temporary file), read by `palisade check` in a child process under `/usr/bin/time -v`:
 * wall time and peak RSS, and MiB of RSS per 10k pods (memory must grow in proportion to the pods).
 * Run: `npm run bench:big` (builds first). Sizes: BENCH_PODS=10000,50000,100000.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KUBECTL_DUMP_HEAD, KUBECTL_DUMP_TAIL, kubectlDumpPod } from '../src/gen/kubectl-dump.js'

const SIZES = (process.env.BENCH_PODS ?? '10000,50000,100000').split(',').map(Number)
/** BENCH_MAX_INPUT=512Mi passes --max-input-size (the default limit otherwise). */
const MAX = process.env.BENCH_MAX_INPUT ? ['--max-input-size', process.env.BENCH_MAX_INPUT] : []
const bin = new URL('../../bin/palisade.js', import.meta.url).pathname

async function writeDump(file: string, pods: number): Promise<void> {
  const out = createWriteStream(file)
  out.write(KUBECTL_DUMP_HEAD)
  for (let i = 0; i < pods; i++) {
    if (!out.write(kubectlDumpPod(i))) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((resolve, reject) =>
    out.end(KUBECTL_DUMP_TAIL, () => resolve()).on('error', reject),
  )
}

execFileSync('/usr/bin/time', ['-V'], { stdio: 'ignore' })
const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-big-'))
try {
  for (const pods of SIZES) {
    const file = join(dir, `pods-${pods}.yaml`)
    await writeDump(file, pods)
    const bytes = statSync(file).size
    const r = spawnSync(
      '/usr/bin/time',
      [
        '-v',
        process.execPath,
        bin,
        'check',
        file,
        ...MAX,
        '--from',
        'team-0/app-0',
        '--to',
        'team-0/app-1',
        '--port',
        '8081',
      ],
      { encoding: 'utf8' },
    )
    const rssKiB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? Number.NaN)
    const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr)
    const seconds = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : Number.NaN
    process.stdout.write(
      `${JSON.stringify({
        pods,
        inputMiB: +(bytes / 2 ** 20).toFixed(1),
        exit: r.status,
        verdict: /ALLOWED|DENIED/.exec(r.stdout)?.[0] ?? r.stderr.split('\n')[0],
        wallSeconds: seconds,
        peakRssMiB: Math.round(rssKiB / 1024),
        rssMiBPer10kPods: +((rssKiB / 1024 / pods) * 10_000).toFixed(1),
      })}\n`,
    )
    rmSync(file)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
