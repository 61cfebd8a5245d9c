/** Helpers shared by the agent tests (the API-shaped objects they feed it are in test/fixtures.ts). */
import { execFileSync } from 'node:child_process'
import { type Dataplane, getBackend, printRuleset, type Ruleset } from '../../src/backends/index.js'

/** Waits until pred() holds (polling), or throws after timeoutMs with the message. */
export async function waitFor(
  pred: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await pred()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** True when this machine can run nft inside a network namespace of ours (root, nft, ip netns). */
export function canRunNftInNetns(): boolean {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' })
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' })
    return process.getuid?.() === 0
  } catch {
    return false
  }
}

/** Runs `nft ARGS` inside network namespace `ns` with `input` on stdin; throws with nft's stderr when it fails. */
export function nftIn(ns: string): (input: string, ...args: string[]) => string {
  return (input, ...args) =>
    execFileSync('ip', ['netns', 'exec', ns, 'nft', ...args], {
      input,
      encoding: 'utf8',
      timeout: 20_000,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
}

/** A kernel that records what the agent gives it; see recordingKernel. */
export interface RecordingKernel {
  /** Full applies, in order. */
  readonly full: Ruleset[]
  /** Deltas, as the nft scripts they print as. */
  readonly scripts: string[]
  /** Every apply throws while set. */
  failing: boolean
  /** The drift check reports a missing table until the next full apply. */
  tampered: boolean
  /** Cleanups asked for. */
  cleaned: number
  /** The last full ruleset's text followed by every delta since the first. */
  readonly text: string
  readonly dataplane: Dataplane
}

/** A recorded nftables kernel for the agent (deps.dataplane). */
export function recordingKernel(): RecordingKernel {
  const nft = getBackend('nftables')
  const k: RecordingKernel = {
    full: [],
    scripts: [],
    failing: false,
    tampered: false,
    cleaned: 0,
    get text(): string {
      const last = k.full.at(-1)
      return (last ? (printRuleset(last).files['palisade.nft'] ?? '') : '') + k.scripts.join('')
    },
    dataplane: {
      apply: async (rs) => {
        if (k.failing) throw new Error('nft -f - failed (exit 1): Error: Could not process rule')
        k.full.push(rs)
        k.tampered = false
        return { changed: true, warnings: [] }
      },
      applyDelta: async (d) => {
        if (k.failing) throw new Error('Error: Could not process rule')
        k.scripts.push(nft.printDelta(d))
      },
      drift: async () =>
        k.tampered ? { kind: 'drifted', reason: 'table inet palisade is missing' } : { kind: 'clean' },
      cleanup: async () => {
        k.cleaned++
        return { left: [] }
      },
    },
  }
  return k
}
