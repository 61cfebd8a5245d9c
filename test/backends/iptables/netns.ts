/** Throwaway network namespaces for kernel tests: unique names, removed with a time limit. */
import { execCommand } from '../../../src/backends/index.js'

let counter = 0

/** Runs a command (in a netns when given) and throws with its stderr when it fails. */
export async function sh(
  netns: string | undefined,
  argv: readonly string[],
  input?: string,
): Promise<string> {
  const r = await execCommand(argv[0] as string, argv.slice(1), { netns, input, timeoutMs: 20_000 })
  if (r.code !== 0) throw new Error(`${argv.join(' ')} (exit ${r.code}): ${r.stderr.trim()}`)
  return r.stdout
}

/** Creates a fresh netns named pzi-<pid>-<tag>-<n> with lo up; returns its name. */
export async function createNetns(tag: string): Promise<string> {
  const name = `pzi-${process.pid}-${tag}-${counter++}`
  await sh(undefined, ['ip', 'netns', 'add', name])
  await sh(name, ['ip', 'link', 'set', 'lo', 'up'])
  return name
}

/** Kills the processes of a netns (by pid) and deletes it; never throws. */
export async function removeNetns(name: string): Promise<void> {
  const pids = await execCommand('ip', ['netns', 'pids', name], { timeoutMs: 5_000 })
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL')
    } catch {
      // already gone
    }
  }
  await execCommand('ip', ['netns', 'del', name], { timeoutMs: 10_000 })
}
