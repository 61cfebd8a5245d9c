/**
 * Writes a set of files so that each one is replaced atomically and the set is written only when every
 * file can be (edge): all contents go to temporary files in their target folders first, then each is
 * renamed over its target. A failure before the renames writes nothing; no temporary file is left behind.
 */
import * as fsp from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export interface FileToWrite {
  readonly path: string
  readonly data: string | Uint8Array
}

/** The file system calls used (tests replace some of them to make one fail). */
export interface WriteFs {
  readonly mkdir: (path: string, opts: { recursive: true }) => Promise<string | undefined>
  readonly writeFile: (path: string, data: string | Uint8Array, opts: { flag: 'wx' }) => Promise<void>
  readonly chmod: (path: string, mode: number) => Promise<void>
  readonly rename: (from: string, to: string) => Promise<void>
  readonly rm: (path: string, opts: { force: true; recursive?: boolean }) => Promise<void>
  readonly stat: (path: string) => Promise<{ isFile(): boolean; mode: number }>
  readonly realpath: (path: string) => Promise<string>
}

const nodeFs: WriteFs = {
  mkdir: (p, o) => fsp.mkdir(p, o),
  writeFile: (p, d, o) => fsp.writeFile(p, d, o),
  chmod: (p, m) => fsp.chmod(p, m),
  rename: (a, b) => fsp.rename(a, b),
  rm: (p, o) => fsp.rm(p, o),
  stat: (p) => fsp.stat(p),
  realpath: (p) => fsp.realpath(p),
}

export type WriteResult =
  | { readonly ok: true; readonly written: readonly string[] }
  | { readonly ok: false; readonly error: string; readonly written: readonly string[] }

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** Writes every file (temporary files, then renames); on failure says why and which files were replaced. */
export async function writeFilesAtomically(
  files: readonly FileToWrite[],
  fs: WriteFs = nodeFs,
  tag = `${process.pid}`,
): Promise<WriteResult> {
  const temps: string[] = []
  const madeDirs: string[] = []
  const plan: { temp: string; target: string }[] = []
  const cleanup = async (): Promise<void> => {
    for (const t of temps) await fs.rm(t, { force: true }).catch(() => undefined)
    for (const d of madeDirs.reverse())
      await fs.rm(d, { force: true, recursive: true }).catch(() => undefined)
  }
  try {
    for (const [i, f] of files.entries()) {
      // An existing target is replaced where it really is (through symbolic links), keeping its mode.
      let target = f.path
      let mode: number | undefined
      const existing = await fs.stat(f.path).catch(() => undefined)
      if (existing) {
        if (!existing.isFile()) throw new Error(`${f.path} exists and is not a regular file`)
        target = await fs.realpath(f.path)
        mode = existing.mode & 0o7777
      } else {
        const made = await fs.mkdir(dirname(f.path), { recursive: true })
        if (made !== undefined) madeDirs.push(made)
      }
      const temp = join(dirname(target), `.${basename(target)}.palisade-${tag}-${i}.tmp`)
      temps.push(temp)
      await fs.writeFile(temp, f.data, { flag: 'wx' })
      if (mode !== undefined) await fs.chmod(temp, mode)
      plan.push({ temp, target })
    }
  } catch (err) {
    await cleanup()
    return { ok: false, error: message(err), written: [] }
  }
  const written: string[] = []
  for (const { temp, target } of plan) {
    try {
      await fs.rename(temp, target)
      temps.splice(temps.indexOf(temp), 1)
      written.push(target)
    } catch (err) {
      madeDirs.length = 0 // folders may now hold written files: they stay
      await cleanup()
      return { ok: false, error: `${target}: ${message(err)}`, written }
    }
  }
  return { ok: true, written }
}
