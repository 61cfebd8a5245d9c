/**
 * Throwaway network namespaces for kernel tests: unique names `pz-<pid>-<tag>-<n>`, always deleted
 * (with a time limit), never the host's own namespace. `kernelSkipReason` says why a machine cannot run them.
 */
import { execCommand, hasCommand } from '../../src/backends/index.js'

let counter = 0

/** Returns why kernel tests cannot run here, or undefined when they can. */
export async function kernelSkipReason(): Promise<string | undefined> {
  if (!(await hasCommand('nft'))) return 'nft is not installed (apt-get install nftables)'
  if (!(await hasCommand('ip'))) return 'ip is not installed (apt-get install iproute2)'
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespaces need root'
  return undefined
}

/** Creates a fresh namespace and returns its name; throws when `ip netns add` fails. */
export async function createNetns(tag: string): Promise<string> {
  counter++
  const name = `pz-${process.pid}-${tag}-${counter}`
  const r = await execCommand('ip', ['netns', 'add', name], { timeoutMs: 10_000 })
  if (r.code !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`)
  return name
}

/** Deletes a namespace created by createNetns (kills what runs inside it first). */
export async function deleteNetns(name: string): Promise<void> {
  if (!name.startsWith(`pz-${process.pid}-`))
    throw new Error(`refusing to delete a namespace we did not create: ${name}`)
  const pids = await execCommand('ip', ['netns', 'pids', name], { timeoutMs: 5_000 })
  for (const pid of pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL')
    } catch {
      // already gone
    }
  }
  await execCommand('ip', ['netns', 'del', name], { timeoutMs: 10_000 })
}

/** Runs `nft -c -f -` on text inside the namespace; returns nft's stderr ('' when valid). */
export async function nftCheck(netns: string, text: string): Promise<{ ok: boolean; stderr: string }> {
  const r = await execCommand('nft', ['-c', '-f', '-'], { netns, input: text, timeoutMs: 30_000 })
  return { ok: r.code === 0, stderr: r.stderr }
}

/**
 * The test namespaces (`pz-<pid>-...`) whose creating process is gone: a test run killed with SIGKILL (a
 * timeout around vitest, an OOM kill) cannot remove its namespaces, so the next run does. A namespace of a
 * live process is never chosen, so parallel runs (other checkouts) are safe.
 */
export function staleTestNamespaces(names: readonly string[], isAlive: (pid: number) => boolean): string[] {
  return names.filter((n) => {
    const m = /^pz-(\d+)-/.exec(n)
    return m !== null && !isAlive(Number(m[1]))
  })
}

/** True when a process with this pid exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Removes the stale test namespaces (see staleTestNamespaces); returns their names. */
export async function removeStaleTestNamespaces(): Promise<string[]> {
  if ((await kernelSkipReason()) !== undefined) return []
  const listed = await execCommand('ip', ['netns', 'list'], { timeoutMs: 10_000 })
  if (listed.code !== 0) return []
  const names = listed.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '')
  const stale = staleTestNamespaces(names, processAlive)
  for (const name of stale) {
    const pids = await execCommand('ip', ['netns', 'pids', name], { timeoutMs: 5_000 })
    for (const pid of pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), 'SIGKILL')
      } catch {
        // already gone
      }
    }
    await execCommand('ip', ['netns', 'del', name], { timeoutMs: 10_000 })
  }
  return stale
}
