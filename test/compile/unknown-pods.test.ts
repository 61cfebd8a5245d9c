/** The node IR's pod ranges and unknown-pods mode (docs/semantics.md#unknown-local-pods). */
import { describe, expect, it } from 'vitest'
import { buildNodeIR, type CompileOptions } from '../../src/compile/index.js'
import type { ClusterState } from '../../src/model/index.js'
import { pod, policy, sel } from '../fixtures.js'

const cluster = (podCIDRs?: readonly string[], extraIPs: readonly string[] = []): ClusterState => ({
  namespaces: [{ name: 'a', labels: {}, declared: true, defaultDenyIngress: false }],
  pods: [
    pod('a/x', {}, ['10.1.1.5'], { nodeName: 'n1' }),
    ...extraIPs.map((ip, i) => pod(`a/y${i}`, {}, [ip], { nodeName: 'n1' })),
  ],
  policies: [policy('a/deny', sel(), { types: ['Ingress'] })],
  nodes: [{ name: 'n1', addresses: [], declared: true, ...(podCIDRs ? { podCIDRs } : {}) }],
})

describe('buildNodeIR: pod ranges and unknown pods', () => {
  it.each<{
    name: string
    cluster: ClusterState
    opts: CompileOptions
    ranges: string[]
    mode: 'drop' | 'allow'
    codes: string[]
  }>([
    {
      name: 'no range known',
      cluster: cluster(),
      opts: {},
      ranges: [],
      mode: 'drop',
      codes: ['compile.pod-ranges-unknown'],
    },
    {
      name: 'from the Node',
      cluster: cluster(['10.1.1.0/24']),
      opts: {},
      ranges: ['10.1.1.0/24'],
      mode: 'drop',
      codes: [],
    },
    {
      name: 'the flag wins over the Node, canonical and IPv4 first',
      cluster: cluster(['10.1.1.0/24']),
      opts: { podRanges: ['fd00::/64', '10.1.0.9/16', '10.1.0.0/16'] },
      ranges: ['10.1.0.0/16', 'fd00::/64'],
      mode: 'drop',
      codes: [],
    },
    {
      name: 'allow: no note about unknown ranges',
      cluster: cluster(),
      opts: { unknownPods: 'allow' },
      ranges: [],
      mode: 'allow',
      codes: [],
    },
    {
      name: 'a local pod outside the ranges (a plugin with its own IPAM) is reported',
      cluster: cluster(['10.1.1.0/24'], ['192.168.7.7']),
      opts: {},
      ranges: ['10.1.1.0/24'],
      mode: 'drop',
      codes: ['compile.pod-outside-ranges'],
    },
    {
      name: 'an IPv6 pod address with only an IPv4 range is not reported',
      cluster: cluster(['10.1.1.0/24'], ['fd00::7']),
      opts: {},
      ranges: ['10.1.1.0/24'],
      mode: 'drop',
      codes: [],
    },
  ])('$name', ({ cluster: c, opts, ranges, mode, codes }) => {
    const ir = buildNodeIR(c, 'n1', opts)
    expect((ir.podRanges ?? []).map((r) => r.cidr)).toEqual(ranges)
    expect(ir.unknownPods).toBe(mode)
    const rangeCodes = ir.diagnostics
      .map((d) => d.code)
      .filter((x) => x === 'compile.pod-ranges-unknown' || x === 'compile.pod-outside-ranges')
    expect(rangeCodes).toEqual(codes)
  })

  it('another node of the cluster does not lend its ranges', () => {
    const c = cluster(['10.1.1.0/24'])
    expect(buildNodeIR(c, 'n2').podRanges).toEqual([])
  })
})
