/**
 * `palisade migrate PATH... [-o DIR]`: rewrites extensions/v1beta1 NetworkPolicies and the DefaultDeny
 * namespace annotation to networking.k8s.io/v1 in place (docs/semantics.md#migrate), proves the
 * reachability matrix of the rewritten text unchanged, and only then prints or writes it. Exit 0 done,
 * 1 the proof failed (nothing written), 2 an input could not be read or rewritten (nothing written).
 */
import { realpath } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import type { Command } from 'commander'
import type { CellDiff } from '../../engine/index.js'
import type { ValidationMode } from '../../load/index.js'
import { type MigratedFile, migrateInputs, proveMigration, readableText } from '../../migrate/index.js'
import { hasErrors } from '../../model/index.js'
import { formatDiagnostic } from '../format.js'
import { readInputsFromOptions } from '../options.js'
import { type FileToWrite, writeFilesAtomically } from '../write-files.js'

interface MigrateOptions {
  readonly filename?: string[]
  readonly output?: string
  readonly validate?: ValidationMode
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]
const MAX_DIFFS = 20
const NOTHING_WRITTEN = 'nothing written'

function renderDiff(d: CellDiff): string {
  const word = (v: number): string => (v === 1 ? 'allowed' : 'denied')
  return `  ${d.from} -> ${d.to} on ${d.port}: ${word(d.expected)} before, ${word(d.actual)} after`
}

/** One stream of documents: a file that starts with its own '---' needs no separator. */
function renderStream(files: readonly MigratedFile[]): string {
  let out = ''
  for (const f of files) {
    const raw = readableText(f.text)
    const text = raw.endsWith('\n') || raw === '' ? raw : `${raw}\n`
    const own = /^---(\s|$)/.test(text)
    const label = files.length > 1 ? `# source: ${f.file}\n` : ''
    out += out === '' || own ? `${label}${text}` : `---\n${label}${text}`
  }
  return out
}

/**
 * Where each file goes under DIR: its path below the folder argument it was found in (a file argument:
 * its name), numbered when two inputs would meet; a created file next to the file it comes from.
 */
function targetsUnder(dir: string, files: readonly MigratedFile[], args: readonly string[]): string[] {
  const used = new Set<string>()
  const byInput = new Map<string, string>()
  const roots = args.filter((a) => a !== '-').map((a) => resolve(a))
  return files.map((f) => {
    if (f.createdFrom !== undefined) {
      const origin = byInput.get(f.createdFrom) ?? join(dir, basename(f.createdFrom))
      const stem = f.createdFrom.replace(/\.json$/i, '')
      return join(dirname(origin), basename(origin).replace(/\.json$/i, '') + f.file.slice(stem.length))
    }
    let rel: string
    if (f.file === '<stdin>')
      rel = readableText(f.text).trimStart().startsWith('{') ? 'stdin.json' : 'stdin.yaml'
    else {
      const abs = resolve(f.file)
      const root = roots.find((r) => abs.startsWith(r + sep))
      rel = root ? relative(root, abs) : basename(f.file)
    }
    let name = rel
    for (let n = 2; used.has(name); n++) name = join(dirname(rel), `${n}-${basename(rel)}`)
    used.add(name)
    const target = join(dir, name)
    byInput.set(f.file, target)
    return target
  })
}

/** Whether two paths are one file (both exist and resolve to the same place). */
async function sameFile(a: string, b: string): Promise<boolean> {
  if (resolve(a) === resolve(b)) return true
  const [ra, rb] = await Promise.all([realpath(a).catch(() => a), realpath(b).catch(() => b)])
  return ra === rb
}

/** Registers the migrate command. */
export function registerMigrate(program: Command, setExit: (code: number) => void): void {
  program
    .command('migrate')
    .description(
      'rewrite extensions/v1beta1 NetworkPolicies and the DefaultDeny annotation to networking.k8s.io/v1 in place, prove the matrix unchanged, then print or write',
    )
    .argument('[paths...]', 'manifest files or folders')
    .option('-f, --filename <path>', 'manifest file or folder (repeatable; - reads stdin)', collect)
    .option(
      '-o, --output <dir>',
      'write the files into this folder (same layout; may be the input folder) instead of printing them',
    )
    .option('--validate <mode>', 'strict | warn | ignore, used when loading both sets for the proof', 'warn')
    .action(async (paths: string[], opts: MigrateOptions) => {
      const say = (line: string): void => {
        process.stderr.write(`${line}\n`)
      }
      const read = await readInputsFromOptions('migrate', paths, opts, 'warn')
      if (!read) return setExit(2)
      for (const d of read.diagnostics) say(formatDiagnostic(d))
      if (read.inputs.length === 0 || hasErrors(read.diagnostics)) {
        say(`${NOTHING_WRITTEN}: every input must be read to migrate a set of manifests`)
        return setExit(2)
      }
      const result = migrateInputs(read.inputs)
      for (const d of result.diagnostics) say(formatDiagnostic(d))
      if (hasErrors(result.diagnostics)) {
        say(`${NOTHING_WRITTEN}: fix the errors above (or leave that input out) and run again`)
        return setExit(2)
      }
      for (const c of result.changes) {
        const where = [c.source.file, c.source.line].filter((x) => x !== undefined).join(':')
        say(`${where}: ${c.object}: ${c.message}`)
      }
      if (result.changes.length === 0)
        say('nothing to migrate: no extensions/v1beta1 NetworkPolicy and no DefaultDeny annotation')

      // The proof reads the rewritten text back: nothing is printed or written before it holds.
      const proof = proveMigration(read.inputs, result.files, read.mode)
      if (!proof.equal) {
        say(`matrix CHANGED (${proof.pods} pods x ${proof.ports} ports): ${proof.differing} cell(s) differ`)
        for (const d of proof.diffs.slice(0, MAX_DIFFS)) say(renderDiff(d))
        if (proof.differing > MAX_DIFFS) say(`  ... and ${proof.differing - MAX_DIFFS} more`)
        for (const p of proof.podsOnlyIn.original) say(`  pod ${p} is gone after migration`)
        for (const p of proof.podsOnlyIn.migrated) say(`  pod ${p} appears after migration`)
        for (const d of proof.newErrors) say(`  new error: ${formatDiagnostic(d)}`)
        say(`${NOTHING_WRITTEN}: the migration would change what the policies allow`)
        return setExit(1)
      }
      say(`matrix unchanged (${proof.pods} pods x ${proof.ports} ports)`)

      if (opts.output === undefined) {
        process.stdout.write(renderStream(result.files))
        return setExit(0)
      }
      const targets = targetsUnder(opts.output, result.files, [...(opts.filename ?? []), ...paths])
      const toWrite: FileToWrite[] = []
      let inPlace = 0
      for (const [i, f] of result.files.entries()) {
        const path = targets[i] as string
        // A file that needs no change and already is its target is left alone (not even touched).
        if (!f.changed && f.file !== '<stdin>' && (await sameFile(path, f.file))) inPlace++
        else toWrite.push({ path, data: f.text })
      }
      const written = await writeFilesAtomically(toWrite)
      if (!written.ok) {
        say(`palisade migrate: cannot write: ${written.error}`)
        if (written.written.length === 0) say(NOTHING_WRITTEN)
        else say(`already replaced before the failure: ${written.written.join(', ')}`)
        return setExit(2)
      }
      say(
        `wrote ${toWrite.length} file(s) to ${opts.output}${inPlace > 0 ? ` (${inPlace} unchanged file(s) left in place)` : ''}`,
      )
      setExit(0)
    })
}
