/**
 * Notices when manifest inputs change (edge), by polling: the files under the paths with their sizes and
 * modification times. Polling sees editors that replace files, git checkouts and new files alike, and
 * costs one stat per file and interval.
 */
import { listManifestFiles } from '../files/index.js'

/** Returns a fingerprint of the manifest files under the paths (src/files; missing paths count too). */
export async function fingerprint(paths: readonly string[]): Promise<string> {
  const parts: string[] = []
  for (const p of paths) {
    if (p === '-') continue
    const missing: string[] = []
    const files = await listManifestFiles(p, (path) => missing.push(`${path}|missing`))
    parts.push(...files.map((f) => `${f.path}|${f.stats.size}|${f.stats.mtimeMs}`), ...missing)
  }
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
