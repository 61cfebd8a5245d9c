/**
 * A pod's first packet (docs/semantics.md#unknown-local-pods), on both backends, with real `palisade
 * agent` processes fed by the fake API server (which holds the lab's Node objects and their
 * spec.podCIDRs): pods of a default-deny namespace start sending UDP datagrams and TCP SYNs to a listening
 * peer on the same node and on the other node from the instant their interface exists, and are written to
 * the API server only 300 ms later. With `--unknown-pods allow` (the behaviour before) they leak; with the
 * default, the peers receive nothing from them, while the node still reaches them (kubelet probes). Pods a
 * policy allows connect once their rules are in force. The full count (>= 200 starts per backend) and the
 * windows' p50/p99 are `npm run bench:first-packet` (docs/dataplane.md); CI runs a smaller count.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runFirstPacket } from '../../harness/first-packet.js'
import { hasCommand, labSkipReason } from './helpers.js'

const built = existsSync(fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url)))
const skip =
  labSkipReason() ??
  (hasCommand('nft') && hasCommand('iptables-nft') && hasCommand('ipset')
    ? undefined
    : 'nft, iptables-nft or ipset missing') ??
  (built ? undefined : 'dist/ not built (npm ci builds it)')

const BACKENDS = [
  { name: 'nftables', backend: 'nftables' as const },
  { name: 'iptables-nft', backend: 'iptables' as const, iptables: 'nft' as const },
]

describe.skipIf(skip !== undefined)(`a pod's first packet${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it.each(BACKENDS)(
    '$name, --unknown-pods allow (as before): a starting pod leaks before its agent knows it',
    { timeout: 120_000 },
    async (b) => {
      const r = await runFirstPacket({ ...b, unknownPods: 'allow', starts: 10, batch: 10, allowedStarts: 0 })
      expect(r.sent.udp).toBeGreaterThan(0)
      expect(r.leaked.udp + r.leaked.tcpSyn).toBeGreaterThan(0)
    },
  )

  it.each(BACKENDS)(
    '$name, default (drop): 0 packets leak over 40 pod starts, the node reaches an unknown pod, allowed pods connect',
    { timeout: 180_000 },
    async (b) => {
      const r = await runFirstPacket({ ...b, starts: 40, batch: 20, allowedStarts: 10 })
      // the senders did send, over both protocols, to both peers
      expect(r.starts).toBe(40)
      expect(r.sent.udp).toBeGreaterThan(40 * 100)
      expect(r.sent.tcpAttempts).toBeGreaterThan(40 * 10)
      expect(r.leaked).toEqual({ udp: 0, tcpSyn: 0 })
      expect(r.nodeReachedUnknownPod).toBe(true)
      expect(r.allowedUnseen).toBe(0)
      expect(r.allowedFailed).toBe(0)
      expect(r.windowsMs).toHaveLength(10)
      expect(r.podAddMs.length).toBeGreaterThan(0)
    },
  )
})
