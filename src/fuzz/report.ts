/**
 * Saving failing cases (edge): one folder per signature under the output folder (fuzz-out/ by default),
 * each example with its input bytes, its recipe (replayable with `npm run fuzz -- --replay FILE`), what
 * failed, and a one-line command that reproduces it. Also the text report of a run.
 */
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { isAbsolute, join, relative } from 'node:path'
import type { Base } from './corpus.js'
import { prepareCase } from './execute.js'
import type { FailureExample, FailureGroup, FuzzReport } from './harness.js'
import type { KernelStats } from './kernel.js'

/** A folder name for a signature: readable start, short hash for uniqueness. */
export function slug(signature: string): string {
  const hash = createHash('sha1').update(signature).digest('hex').slice(0, 8)
  const text = signature
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 70)
  return `${text}-${hash}`
}

/** Quotes an argument for bash: plain, '...', or $'...' when it holds control characters. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_./:=,@%+-]+$/.test(s)) return s
  if (!/[\u0000-\u001f\u007f]/.test(s)) return `'${s.replace(/'/g, `'\\''`)}'`
  const body = [...s]
    .map((c) => {
      const n = c.codePointAt(0) as number
      if (c === '\\' || c === "'") return `\\${c}`
      if (n < 0x20 || n === 0x7f) return `\\x${n.toString(16).padStart(2, '0')}`
      return c
    })
    .join('')
  return `$'${body}'`
}

/** The one-line reproduction of a case whose input was saved at `inputPath`. */
export function reproLine(args: readonly string[], inputPath: string, bin = 'bin/palisade.js'): string {
  const cwd = process.cwd()
  const shown =
    isAbsolute(inputPath) && inputPath.startsWith(`${cwd}/`) ? relative(cwd, inputPath) : inputPath
  const parts = args.map((a) =>
    a === '{input}' ? shellQuote(shown) : a === '{out}' ? '"$(mktemp -d)"' : shellQuote(a),
  )
  const line = `node ${bin} ${parts.join(' ')}`
  return args.includes('--backend') && args.includes('nftables') && !args.includes('{out}')
    ? `${line} | nft -c -f -   # inside a scratch netns: ip netns add x && ip netns exec x ...`
    : line
}

/** Saves one example; returns its folder. */
export async function saveExample(
  outDir: string,
  group: FailureGroup,
  ex: FailureExample,
  bases: readonly Base[],
  modes: readonly string[],
): Promise<string> {
  const dir = join(outDir, slug(group.signature), `case-${group.examples.indexOf(ex) + 1}`)
  await mkdir(dir, { recursive: true })
  let bytes = ex.result.input
  if (!bytes || bytes.byteLength === 0) bytes = prepareCase(ex.recipe, bases, modes).bytes
  const inputPath = join(dir, ex.result.inputName)
  await writeFile(inputPath, bytes)
  const repro = reproLine(ex.result.argsTemplate, inputPath)
  const details = [
    `signature: ${group.signature}`,
    `class: ${ex.failure.cls} (${ex.failure.sub})`,
    `family: ${ex.recipe.family}   case ${ex.caseIndex} (fast-check seed ${ex.caseSeed})${ex.shrunk ? ', shrunk' : ''}`,
    `command: ${ex.result.command} --validate ${ex.result.mode} (${ex.result.isolation}, ${Math.round(ex.result.ms)} ms)`,
    `repro: ${repro}`,
    '',
    ex.failure.detail,
    '',
    'all failures of this case:',
    ...ex.result.failures.map((f) => `  - ${f.signature}`),
  ].join('\n')
  await writeFile(join(dir, 'details.txt'), `${details}\n`)
  await writeFile(join(dir, 'recipe.json'), `${JSON.stringify(ex.recipe, null, 2)}\n`)
  await writeFile(join(dir, 'repro.txt'), `${repro}\n`)
  ex.saved = dir
  ex.repro = repro
  // Inputs can weigh 30 MiB: once on disk, the report keeps only the path.
  const { input: _saved, ...rest } = ex.result
  ex.result = rest
  return dir
}

const ORDER = { crash: 0, hang: 1, 'missed-rejection': 2, misread: 3 } as const

/** The distinct failures of a run, most severe first, one paragraph each. */
export function renderGroups(report: FuzzReport): string {
  const groups = [...report.groups.values()].sort(
    (a, b) => ORDER[a.cls] - ORDER[b.cls] || b.count - a.count || a.signature.localeCompare(b.signature),
  )
  if (groups.length === 0) return 'no failures\n'
  const out: string[] = [`${groups.length} distinct failures:`]
  for (const g of groups) {
    const ex = g.examples[0]
    out.push(`- [${g.cls}] ${g.signature}`)
    out.push(
      `    ${g.count} case(s); families ${[...g.families].sort().join(', ')}; commands ${[...g.commands].sort().join(', ')}`,
    )
    if (ex) {
      const first = ex.failure.detail.split('\n')[0] ?? ''
      out.push(`    e.g. ${first.slice(0, 300)}`)
      if (ex.saved) out.push(`    saved: ${relative(process.cwd(), ex.saved) || ex.saved}`)
      if (ex.repro) out.push(`    repro: ${ex.repro}`)
    }
  }
  return `${out.join('\n')}\n`
}

/** The figures of a run (cases per second, fresh processes, kernel checks). */
export function renderFigures(report: FuzzReport, kernel?: KernelStats): string {
  const s = report.ms / 1000
  const lines = [
    `${report.cases} cases in ${s.toFixed(1)} s (${(report.cases / Math.max(s, 0.001)).toFixed(0)} cases/s), ${report.processCases} in fresh processes, ${report.skipped} skipped`,
    `commands: ${Object.entries(report.commandCounts)
      .sort()
      .map(([c, n]) => `${c} ${n}`)
      .join(', ')}`,
    `${report.misreads} misreads (values read differently from kubectl)`,
  ]
  if (kernel)
    lines.push(
      `kernel: nft -c ${kernel.nftChecked} rulesets in ${kernel.nftBatches} batches, ${kernel.nftRefused} refused; iptables-restore --test ${kernel.iptablesChecked} rulesets (${kernel.iptablesSkipped} skipped while busy), ${kernel.iptablesRefused} refused`,
    )
  if (report.harnessErrors.length > 0)
    lines.push(
      `${report.harnessErrors.length} harness errors (bugs of the fuzzer itself):`,
      ...report.harnessErrors.slice(0, 5),
    )
  return `${lines.join('\n')}\n`
}
