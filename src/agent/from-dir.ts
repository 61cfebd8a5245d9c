/**
 * `--from-dir DIR`: the cluster comes from a folder of manifests instead of the API server (edge).
 * Every *.yaml, *.yml and *.json file under DIR is read; Namespaces, Pods and NetworkPolicies go to
 * the store (other kinds are ignored: workload templates have no pod IPs to program). The folder
 * is watched (fs.watch, recursive) and rescanned periodically, since fs.watch misses events on some
 * filesystems (network mounts, ConfigMap symlink swaps).
 */
import { type FSWatcher, watch } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseDocuments } from '../load/index.js'
import type { Diagnostic, RawObject } from '../model/index.js'
import { type ObjectStore, WATCHED_KINDS, type WatchedKind } from './object-store.js'

export interface FromDirOptions {
  /** Period of the full rescan (default 30 s). */
  readonly rescanMs?: number
  /** Quiet time after a file event before rescanning (default 100 ms). */
  readonly settleMs?: number
  readonly signal: (at: number) => void
  readonly onDiagnostics?: (diagnostics: readonly Diagnostic[]) => void
  readonly onError?: (err: unknown) => void
}

export interface DirSource {
  /** Resolves after the first scan. */
  readonly ready: Promise<void>
  /** Rescans now; resolves when done. */
  readonly rescan: () => Promise<void>
  readonly stop: () => void
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  const entries = await readdir(dir, { withFileTypes: true })
  for (const e of entries) {
    if (e.name.startsWith('.')) continue
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await listFiles(p)))
    else if (/\.(ya?ml|json)$/i.test(e.name)) out.push(p)
  }
  return out.sort()
}

/** Reads DIR into the store and keeps it in step with the folder. */
export function watchDir(dir: string, store: ObjectStore, o: FromDirOptions): DirSource {
  let timer: NodeJS.Timeout | undefined
  let watcher: FSWatcher | undefined
  let scanning: Promise<void> | undefined
  let again = false
  let lastReport = ''

  const scanOnce = async (): Promise<void> => {
    const byKind: Record<WatchedKind, RawObject[]> = { Pod: [], Namespace: [], NetworkPolicy: [] }
    const diagnostics: Diagnostic[] = []
    for (const file of await listFiles(dir)) {
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch {
        continue // removed between readdir and read: the next scan sees it gone
      }
      const parsed = parseDocuments({ file, text })
      diagnostics.push(...parsed.diagnostics)
      for (const raw of parsed.value) {
        const kind = raw.value.kind
        if (typeof kind === 'string' && (WATCHED_KINDS as readonly string[]).includes(kind)) {
          byKind[kind as WatchedKind].push(raw)
        }
      }
    }
    // Report parse problems once per change, not on every rescan.
    const report = JSON.stringify(diagnostics)
    if (report !== lastReport) {
      lastReport = report
      if (diagnostics.length > 0) o.onDiagnostics?.(diagnostics)
    }
    let changed = false
    for (const kind of WATCHED_KINDS) if (store.replaceAll(kind, byKind[kind])) changed = true
    if (changed) o.signal(Date.now())
  }

  const rescan = async (): Promise<void> => {
    if (scanning) {
      again = true
      return scanning
    }
    scanning = (async () => {
      do {
        again = false
        try {
          await scanOnce()
        } catch (err) {
          o.onError?.(err)
        }
      } while (again)
    })().finally(() => {
      scanning = undefined
    })
    return scanning
  }

  const ready = rescan()
  const period = setInterval(() => void rescan(), o.rescanMs ?? 30_000)
  period.unref?.()
  try {
    watcher = watch(dir, { recursive: true }, () => {
      clearTimeout(timer)
      timer = setTimeout(() => void rescan(), o.settleMs ?? 100)
    })
    watcher.on('error', (err) => o.onError?.(err))
  } catch (err) {
    o.onError?.(err) // periodic rescans still run
  }
  return {
    ready,
    rescan,
    stop: () => {
      clearInterval(period)
      clearTimeout(timer)
      watcher?.close()
    },
  }
}
