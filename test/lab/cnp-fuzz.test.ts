/**
 * Differential fuzzing with ClusterNetworkPolicies (issue 13): random clusters drawn with Admin and
 * Baseline policies (tied priorities, Pass, pods/namespaces/networks/nodes peers, named ports, fail-closed
 * peers) next to their NetworkPolicies, compiled, loaded into a lab and probed: the kernel must answer
 * every probe as the engine predicts, on nftables and on iptables-nft. Fixed seeds; failures are shrunk
 * (NetworkPolicies and pods only) and saved under test/lab/regressions.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fuzzLab } from '../../src/lab/index.js'
import { hasCommand, labSkipReason } from './helpers.js'

const skip = labSkipReason() ?? (hasCommand('nft') ? undefined : 'nft missing')
const out = join(new URL('.', import.meta.url).pathname, 'regressions')

describe.skipIf(skip)('lab: differential fuzzing with ClusterNetworkPolicies', () => {
  it.each(['nftables', 'iptables-nft'] as const)(
    '50 random clusters with ClusterNetworkPolicies (seed 1313) on %s: kernel == engine',
    async (backend) => {
      const report = await fuzzLab({
        seed: 1313,
        cases: 50,
        mode: 'routed',
        backend,
        clusterPolicies: 4,
        outDir: out,
      })
      expect(report.probes).toBeGreaterThan(0)
      expect(report.failures.map((f) => f.seed)).toEqual([])
    },
    900_000,
  )
})
