/**
 * The transcribed network-policy-api conformance cases (test/conformance/cnp) in the kernel: each case's
 * cluster loaded on the nodes of its own lab, every pair probed on the case's ports (SCTP is not probed:
 * no SCTP in the lab kernel), on nftables and on iptables-nft; the kernel must answer as the engine
 * predicts for the lab's cluster (the engine's answers are checked against the upstream expectations in
 * cnp-conformance.test.ts). The lab gives pods its own addresses: `networks` peers keep their meaning
 * relative to the adjusted cluster the engine also reads; `nodes` peers match the model's Node addresses,
 * which no lab host holds (hostNetwork pods are not lab pods), so they are exercised by the interpreters only.
 */
import { describe, expect, it } from 'vitest'
import { verifyCluster } from '../../src/lab/index.js'
import { loadCluster } from '../../src/load/index.js'
import { cnpCaseInputs, listCnpCases } from '../conformance/cnp/cases.js'
import { hasCommand, labSkipReason } from './helpers.js'

const skip = labSkipReason() ?? (hasCommand('nft') ? undefined : 'nft missing')
const cases = listCnpCases()

describe.skipIf(skip)('lab: network-policy-api conformance (ClusterNetworkPolicy) in the kernel', () => {
  const rows = cases.flatMap((c) =>
    (['nftables', 'iptables-nft'] as const).map((backend) => ({ title: c.title, c, backend })),
  )
  it.each(rows)(
    '$title ($backend)',
    async ({ c, backend }) => {
      const loaded = loadCluster(cnpCaseInputs(c), { validate: 'strict' })
      expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
      const ports = [
        ...new Map(
          c.probes
            .filter((p) => p.port.protocol !== 'SCTP')
            .map((p) => [`${p.port.port}/${p.port.protocol}`, p.port]),
        ).values(),
      ]
      const r = await verifyCluster(loaded.cluster, { mode: 'routed', backend, ports })
      expect(
        r.mismatches.map((m) => `${m.port} ${m.from} -> ${m.to}: engine ${m.expected ? 'allows' : 'denies'}`),
      ).toEqual([])
    },
    120_000,
  )
})
