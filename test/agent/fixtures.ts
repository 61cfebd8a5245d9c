/** Object builders shared by the agent tests (API-shaped JSON, as the API server sends it). */
import { execFileSync } from 'node:child_process'
import { type Dataplane, getBackend, printRuleset, type Ruleset } from '../../src/backends/index.js'
import type { JsonObject } from '../../src/model/index.js'

/** A running pod with one IP on a node. */
export function pod(
  namespace: string,
  name: string,
  ip: string | undefined,
  nodeName: string,
  labels: Record<string, string> = {},
): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels },
    spec: {
      nodeName,
      containers: [
        { name: 'c', image: 'registry.example/app:1', ports: [{ name: 'http', containerPort: 8080 }] },
      ],
    },
    status: ip ? { phase: 'Running', podIP: ip, podIPs: [{ ip }] } : { phase: 'Pending' },
  }
}

/** A namespace with labels. */
export function namespace(name: string, labels: Record<string, string> = {}): JsonObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }
}

/** A NetworkPolicy: ingress to pods with app=<app> from pods with role=<from> on TCP port. */
export function allowFrom(ns: string, name: string, app: string, from: string, port = 80): JsonObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: ns, name },
    spec: {
      podSelector: { matchLabels: { app } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: { role: from } } }], ports: [{ protocol: 'TCP', port }] },
      ],
    },
  }
}

/** A default-deny-ingress policy for a namespace. */
export function denyAll(ns: string, name = 'deny-all'): JsonObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: ns, name },
    spec: { podSelector: {}, policyTypes: ['Ingress'] },
  }
}

/** A NetworkPolicy the API server would reject (invalid CIDR). */
export function badPolicy(ns: string, name: string): JsonObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: ns, name },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }],
    },
  }
}

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
