/**
 * `palisade migrate PATH... [-o DIR]`: rewrites extensions/v1beta1 NetworkPolicies and the DefaultDeny
 * namespace annotation to networking.k8s.io/v1, prints (or writes) the result, then proves the reachability
 * matrix unchanged; exit 1 when it changed.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { Command } from 'commander'
import type { CellDiff } from '../../engine/index.js'
import type { ValidationMode } from '../../load/index.js'
import { migrateInputs, proveMigration } from '../../migrate/index.js'
import { formatDiagnostic } from '../format.js'
import { readInputsFromOptions } from '../options.js'

interface MigrateOptions {
  readonly filename?: string[]
  readonly output?: string
  readonly validate?: ValidationMode
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]
const MAX_DIFFS = 20

function renderDiff(d: CellDiff): string {
  const word = (v: number): string => (v === 1 ? 'allowed' : 'denied')
  return `  ${d.from} -> ${d.to} on ${d.port}: ${word(d.expected)} before, ${word(d.actual)} after`
}

/** Registers the migrate command. */
export function registerMigrate(program: Command, setExit: (code: number) => void): void {
  program
    .command('migrate')
    .description(
      'rewrite extensions/v1beta1 NetworkPolicies and the DefaultDeny annotation to networking.k8s.io/v1, and prove the matrix unchanged',
    )
    .argument('[paths...]', 'manifest files or folders')
    .option('-f, --filename <path>', 'manifest file or folder (repeatable; - reads stdin)', collect)
    .option('-o, --output <dir>', 'write the migrated files into this folder instead of printing them')
    .option('--validate <mode>', 'strict | warn | ignore, used when loading both sets for the proof', 'warn')
    .action(async (paths: string[], opts: MigrateOptions) => {
      const read = await readInputsFromOptions('migrate', paths, opts, 'warn')
      if (!read) return setExit(2)
      const mode = read.mode
      for (const d of read.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`)
      if (read.inputs.length === 0) return setExit(2)
      const result = migrateInputs(read.inputs)
      for (const d of result.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`)
      for (const c of result.changes) {
        const where = [c.source.file, c.source.line].filter((x) => x !== undefined).join(':')
        process.stderr.write(`${where}: ${c.object}: ${c.message}\n`)
      }
      if (result.changes.length === 0)
        process.stderr.write(
          'nothing to migrate: no extensions/v1beta1 NetworkPolicy and no DefaultDeny annotation\n',
        )

      if (opts.output !== undefined) {
        await mkdir(opts.output, { recursive: true })
        const used = new Set<string>()
        for (const f of result.files) {
          let name = f.file === '<stdin>' ? 'stdin.yaml' : basename(f.file)
          for (let n = 2; used.has(name); n++) name = `${n}-${basename(f.file)}`
          used.add(name)
          await writeFile(join(opts.output, name), f.text)
        }
        process.stderr.write(`wrote ${result.files.length} file(s) to ${opts.output}\n`)
      } else {
        // One stream of documents: a file that starts with its own '---' needs no separator.
        let out = ''
        for (const f of result.files) {
          const text = f.text.endsWith('\n') || f.text === '' ? f.text : `${f.text}\n`
          const own = /^---(\s|$)/.test(text)
          const label = result.files.length > 1 ? `# source: ${f.file}\n` : ''
          out += out === '' || own ? `${label}${text}` : `---\n${label}${text}`
        }
        process.stdout.write(out)
      }

      const proof = proveMigration(read.inputs, result.files, mode)
      if (proof.equal) {
        process.stderr.write(`matrix unchanged (${proof.pods} pods x ${proof.ports} ports)\n`)
        return setExit(0)
      }
      process.stderr.write(
        `matrix CHANGED (${proof.pods} pods x ${proof.ports} ports): ${proof.diffs.length} cell(s) differ\n`,
      )
      for (const d of proof.diffs.slice(0, MAX_DIFFS)) process.stderr.write(`${renderDiff(d)}\n`)
      if (proof.diffs.length > MAX_DIFFS)
        process.stderr.write(`  ... and ${proof.diffs.length - MAX_DIFFS} more\n`)
      for (const p of proof.podsOnlyIn.original) process.stderr.write(`  pod ${p} is gone after migration\n`)
      for (const p of proof.podsOnlyIn.migrated) process.stderr.write(`  pod ${p} appears after migration\n`)
      for (const d of proof.newErrors) process.stderr.write(`  new error: ${formatDiagnostic(d)}\n`)
      setExit(1)
    })
}
