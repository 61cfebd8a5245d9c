/**
 * Finds manifest files on disk (edge): the one folder walker of the CLI, the agent's `--from-dir` and the
 * web page's file watch. A path that is a file stands for itself (whatever its name); a folder stands for
 * the .yaml, .yml and .json files under it, recursively, each folder's entries in name order, skipping
 * dotfiles and node_modules. Symbolic links are followed; a folder already open higher up the walk (a
 * link loop) is not entered again.
 */
import type { Stats } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** True for a name the walk reads in a folder: .yaml, .yml or .json, in any case. */
export function isManifestName(name: string): boolean {
  return /\.(ya?ml|json)$/i.test(name)
}

export interface ManifestFile {
  readonly path: string
  readonly stats: Stats
}

/**
 * A path the walk could not stat or list (`op`). `top` is true for the path the caller gave. The caller
 * decides: report it and go on (the walk skips it), or throw to stop the walk.
 */
export type WalkProblem = (
  path: string,
  err: unknown,
  at: { readonly top: boolean; readonly op: 'stat' | 'readdir' },
) => void

/** Lists the manifest files a path stands for; problems go to `onProblem` and the path is skipped. */
export async function listManifestFiles(path: string, onProblem: WalkProblem): Promise<ManifestFile[]> {
  const out: ManifestFile[] = []
  await visit(path, true, new Set(), out, onProblem)
  return out
}

async function visit(
  path: string,
  top: boolean,
  open: Set<string>,
  out: ManifestFile[],
  onProblem: WalkProblem,
): Promise<void> {
  let info: Stats
  try {
    info = await stat(path)
  } catch (err) {
    onProblem(path, err, { top, op: 'stat' })
    return
  }
  if (!info.isDirectory()) {
    if (top || isManifestName(path)) out.push({ path, stats: info })
    return
  }
  const id = `${info.dev}:${info.ino}`
  if (open.has(id)) return
  let entries: string[]
  try {
    entries = (await readdir(path)).sort()
  } catch (err) {
    onProblem(path, err, { top, op: 'readdir' })
    return
  }
  open.add(id)
  for (const name of entries) {
    if (name.startsWith('.') || name === 'node_modules') continue
    await visit(join(path, name), false, open, out, onProblem)
  }
  open.delete(id)
}
