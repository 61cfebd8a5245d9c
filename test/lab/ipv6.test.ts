/**
 * The IPv6 lab (`--family 6`): every pod, node and outside host IPv6 only, real TCP/UDP over IPv6 through
 * the compiled rules of both backends, in routed and bridge mode (where neighbour discovery between pods
 * crosses the rules: the compiler must let it through, like ARP).
 */
import { describe, expect, it } from 'vitest'
import {
  formatVerifyReport,
  fuzzLab,
  type LabBackend,
  type LabMode,
  verifyCluster,
} from '../../src/lab/index.js'
import { parseIP } from '../../src/model/index.js'
import { hasCommand, labSkipReason, smallCluster6 } from './helpers.js'

const skip =
  labSkipReason() ??
  (hasCommand('nft') && hasCommand('iptables-legacy') && hasCommand('ip6tables-legacy')
    ? undefined
    : 'nft or ip6tables missing')

describe.skipIf(skip)('IPv6 lab', () => {
  it.each([
    ['routed', 'nftables'],
    ['bridge', 'nftables'],
    ['routed', 'iptables-nft'],
    ['bridge', 'iptables-legacy'],
  ] as [LabMode, LabBackend][])(
    '%s, %s: the kernel does what the engine says over IPv6',
    async (mode, backend) => {
      const r = await verifyCluster(smallCluster6(), { family: 6, mode, backend })
      expect(
        r.observed.full.pods.filter((e) => e.startsWith('ip/')).map((e) => parseIP(e.slice(3))?.family),
      ).toEqual([6, 6, 6])
      const allowed = r.observed.full.cells.reduce((n, c) => n + c.filter((x) => x === 1).length, 0)
      expect(allowed).toBeGreaterThan(0)
      expect(allowed).toBeLessThan(r.observed.probes)
      expect(r.mismatches, formatVerifyReport(r)).toEqual([])
    },
    120_000,
  )

  it('random dual-stack clusters with IPv6 ipBlocks, probed over IPv6, match the engine', async () => {
    const report = await fuzzLab({
      seed: 7000,
      cases: 8,
      mode: 'bridge',
      backend: 'nftables',
      family: 6,
      outDir: '/tmp/palisade-lab-regressions-v6',
    })
    expect(report.probes).toBeGreaterThan(500)
    expect(report.failures).toEqual([])
  }, 300_000)
})
