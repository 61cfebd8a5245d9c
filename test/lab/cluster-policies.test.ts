/**
 * ClusterNetworkPolicy tiers in the kernel: examples/cluster-network-policy (an Admin Deny to an address,
 * Admin Pass to a NetworkPolicy and to the Baseline tier, an Admin Accept on a named port, a Baseline
 * Deny with a DNS Accept) loaded on every node of a lab and probed, on nftables and on iptables (nft and
 * legacy), in an IPv4 and an IPv6 lab; every
 * probe must answer as the engine predicts. Each run builds its own lab and tears it down.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { verifyCluster } from '../../src/lab/index.js'
import { loadCluster } from '../../src/load/index.js'
import { hasCommand, labSkipReason } from './helpers.js'

const skip = labSkipReason() ?? (hasCommand('nft') ? undefined : 'nft missing')
const dir = new URL('../../examples/cluster-network-policy/', import.meta.url)

describe.skipIf(skip)('lab: ClusterNetworkPolicy tiers in the kernel', () => {
  const loaded = loadCluster(
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => ({
        file: `examples/cluster-network-policy/${f}`,
        text: readFileSync(new URL(f, dir), 'utf8'),
      })),
    { validate: 'strict' },
  )
  it.each([
    { mode: 'routed', backend: 'nftables', family: 4 },
    { mode: 'bridge', backend: 'iptables-nft', family: 4 },
    { mode: 'routed', backend: 'nftables', family: 6 },
    { mode: 'routed', backend: 'iptables-legacy', family: 6 },
  ] as const)(
    'examples/cluster-network-policy, $mode, $backend, IPv$family',
    async ({ mode, backend, family }) => {
      expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
      const r = await verifyCluster(loaded.cluster, { mode, backend, ...(family === 6 ? { family } : {}) })
      expect(r.observed.probes).toBeGreaterThan(0)
      // the tiers decide some probes both ways (the example is not all-allowed nor all-denied)
      const cells = [...r.expected.cells.flatMap((c) => [...c])]
      expect(cells).toContain(0)
      expect(cells).toContain(1)
      expect(
        r.mismatches.map((m) => `${m.port} ${m.from} -> ${m.to}: engine ${m.expected ? 'allows' : 'denies'}`),
      ).toEqual([])
    },
    180_000,
  )
})
