/**
 * `--from-dir DIR`: the cluster comes from a folder of manifests instead of the API server (edge).
 * The files under DIR are those the CLI reads for a folder (src/files: *.yaml, *.yml, *.json, links
 * followed, dotfiles and node_modules skipped); Namespaces, Pods, NetworkPolicies, ClusterNetworkPolicies
 * and Nodes go to the store (other kinds are ignored: workload templates have no pod IPs to program). The folder
 * is watched (fs.watch, recursive) and rescanned periodically, since fs.watch misses events on some
 * filesystems (network mounts, ConfigMap symlink swaps).
 *
 * A file caught half-written must not lift isolation (docs/semantics.md#agent-from-dir): a file that
 * does not parse in full (a YAML or JSON error, or a watched object without a readable name/namespace)
 * keeps the objects it gave at its last good read; a file never read in full gives the documents it could
 * read. A removed file takes its objects with it. A cut that leaves valid YAML cannot be told apart from
 * an edit: write files whole (to a temporary name, then rename), as ConfigMap volumes do.
 */
import { type FSWatcher, watch } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { listManifestFiles } from '../files/index.js'
import { parseDocuments } from '../load/index.js'
import type { Diagnostic, RawObject } from '../model/index.js'
import { decodeObject } from './decode.js'
import { type ObjectStore, WATCHED_KINDS, type WatchedKind } from './object-store.js'

export interface FromDirOptions {
  /** Period of the full rescan (default 30 s). */
  readonly rescanMs?: number
  /** Quiet time after a file event before rescanning (default 100 ms). */
  readonly settleMs?: number
  readonly signal: (at: number) => void
  readonly onDiagnostics?: (diagnostics: readonly Diagnostic[]) => void
  readonly onError?: (err: unknown) => void
  /** After each scan: the files that do not parse now and whose last good objects are kept (sorted). */
  readonly onHeld?: (files: readonly string[]) => void
}

export interface DirSource {
  /** Resolves after the first scan. */
  readonly ready: Promise<void>
  /** Rescans now; resolves when done. */
  readonly rescan: () => Promise<void>
  readonly stop: () => void
}

/**
 * The manifest files under DIR (src/files), sorted by path. A folder that cannot be listed stops the scan
 * (the store keeps what it holds: an unreadable folder must not read as an empty one); a file gone since
 * its folder was listed (or a dangling link) is skipped, as a removed file.
 */
async function listFiles(dir: string): Promise<string[]> {
  const files = await listManifestFiles(dir, (_path, err, at) => {
    if (!at.top && at.op === 'stat' && (err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  })
  return files.map((f) => f.path).sort()
}

/** Reads DIR into the store and keeps it in step with the folder. */
export function watchDir(dir: string, store: ObjectStore, o: FromDirOptions): DirSource {
  let timer: NodeJS.Timeout | undefined
  let watcher: FSWatcher | undefined
  let scanning: Promise<void> | undefined
  let again = false
  let lastReport = ''

  /** The watched objects of each file at its last good (complete) read. */
  const lastGood = new Map<string, readonly { readonly kind: WatchedKind; readonly raw: RawObject }[]>()
  let lastHeld = '[]'

  const scanOnce = async (): Promise<void> => {
    const byKind: Record<WatchedKind, RawObject[]> = {
      Pod: [],
      Namespace: [],
      NetworkPolicy: [],
      ClusterNetworkPolicy: [],
      Node: [],
    }
    const diagnostics: Diagnostic[] = []
    const held: string[] = []
    const seen = new Set<string>()
    for (const file of await listFiles(dir)) {
      let text: string | undefined
      try {
        text = await readFile(file, 'utf8')
      } catch (err) {
        // Removed between readdir and read: the next scan sees it gone. Unreadable: as if it did not parse.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      }
      seen.add(file)
      const parsed = text === undefined ? undefined : parseDocuments({ file, text })
      if (parsed) diagnostics.push(...parsed.diagnostics)
      const objects: { kind: WatchedKind; raw: RawObject }[] = []
      let complete = parsed !== undefined && !parsed.diagnostics.some((d) => d.severity === 'error')
      for (const raw of parsed?.value ?? []) {
        const kind = raw.value.kind
        if (typeof kind !== 'string' || !(WATCHED_KINDS as readonly string[]).includes(kind)) continue
        // An object without a readable name or namespace cannot be filed (nor told from another).
        if ('problem' in decodeObject(kind as WatchedKind, raw.value)) complete = false
        else objects.push({ kind: kind as WatchedKind, raw })
      }
      const previous = lastGood.get(file)
      let use: readonly { readonly kind: WatchedKind; readonly raw: RawObject }[] = objects
      if (complete) lastGood.set(file, objects)
      else if (previous) {
        use = previous
        held.push(file)
      }
      for (const o of use) byKind[o.kind].push(o.raw)
    }
    for (const file of [...lastGood.keys()]) if (!seen.has(file)) lastGood.delete(file)
    const heldText = JSON.stringify(held)
    if (heldText !== lastHeld) {
      lastHeld = heldText
      o.onHeld?.(held)
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
