/**
 * Notices when manifest inputs change (edge), by polling: the files under the paths with their sizes and
 * modification times. Polling sees editors that replace files, git checkouts and new files alike, and
 * costs one stat per file and interval.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

const MANIFEST = /\.(ya?ml|json)$/i

/** Returns a fingerprint of the manifest files under the paths (missing paths count too). */
export async function fingerprint(paths: readonly string[]): Promise<string> {
  const parts: string[] = []
  const visit = async (path: string, top: boolean): Promise<void> => {
    try {
      const info = await stat(path)
      if (info.isDirectory()) {
        for (const name of (await readdir(path)).sort()) {
          if (name.startsWith('.') || name === 'node_modules') continue
          await visit(join(path, name), false)
        }
      } else if (top || MANIFEST.test(path)) parts.push(`${path}|${info.size}|${info.mtimeMs}`)
    } catch {
      parts.push(`${path}|missing`)
    }
  }
  for (const p of paths) if (p !== '-') await visit(p, true)
  return parts.join('\n')
}

/** Calls onChange (one call at a time) whenever the fingerprint of the paths changes; returns a stop function. */
export function watchPaths(
  paths: readonly string[],
  intervalMs: number,
  onChange: () => Promise<void>,
): () => void {
  let last: string | undefined
  let busy = false
  let stopped = false
  const tick = async () => {
    if (busy || stopped) return
    busy = true
    try {
      const now = await fingerprint(paths)
      if (last !== undefined && now !== last) await onChange()
      last = now
    } finally {
      busy = false
    }
  }
  void tick()
  const timer = setInterval(() => void tick(), intervalMs)
  timer.unref()
  return () => {
    stopped = true
    clearInterval(timer)
  }
}
