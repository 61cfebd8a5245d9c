/** Node.spec.podCIDRs read and checked as the API server's ValidateNode does (docs/semantics.md#unknown-local-pods). */
import { describe, expect, it } from 'vitest'
import { checkPodCIDRs, loadCluster, readNodePodRanges } from '../../src/load/index.js'

const node = (spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'n1' },
  spec,
})

describe('readNodePodRanges', () => {
  it.each([
    { name: 'no spec', spec: {}, ranges: [], problems: [] },
    {
      name: 'one IPv4 range',
      spec: { podCIDRs: ['10.244.1.0/24'] },
      ranges: ['10.244.1.0/24'],
      problems: [],
    },
    {
      name: 'dual stack, IPv6 first: sorted IPv4 first',
      spec: { podCIDRs: ['fd00:1::/64', '10.244.1.0/24'] },
      ranges: ['10.244.1.0/24', 'fd00:1::/64'],
      problems: [],
    },
    {
      name: 'host bits and leading zeros (ParseCIDRSloppy): canonical',
      spec: { podCIDRs: ['010.244.1.7/24'] },
      ranges: ['10.244.1.0/24'],
      problems: [],
    },
    {
      name: 'legacy podCIDR alone',
      spec: { podCIDR: '10.244.2.0/24' },
      ranges: ['10.244.2.0/24'],
      problems: [],
    },
    {
      name: 'legacy podCIDR equal to podCIDRs[0]',
      spec: { podCIDR: '10.244.2.0/24', podCIDRs: ['10.244.2.0/24'] },
      ranges: ['10.244.2.0/24'],
      problems: [],
    },
    {
      name: 'legacy podCIDR differs from podCIDRs[0]',
      spec: { podCIDR: '10.244.3.0/24', podCIDRs: ['10.244.2.0/24'] },
      ranges: [],
      problems: [['spec', 'podCIDR']],
    },
    {
      name: 'not a CIDR',
      spec: { podCIDRs: ['10.244.1.0'] },
      ranges: [],
      problems: [['spec', 'podCIDRs', 0]],
    },
    {
      name: 'two of one family',
      spec: { podCIDRs: ['10.244.1.0/24', '10.245.1.0/24'] },
      ranges: [],
      problems: [['spec', 'podCIDRs']],
    },
    {
      name: 'three ranges',
      spec: { podCIDRs: ['10.244.1.0/24', 'fd00::/64', 'fd01::/64'] },
      ranges: [],
      problems: [['spec', 'podCIDRs']],
    },
    {
      name: 'a duplicate',
      spec: { podCIDRs: ['10.244.1.0/24', '10.244.1.0/24'] },
      ranges: [],
      problems: [
        ['spec', 'podCIDRs'],
        ['spec', 'podCIDRs', 1],
      ],
    },
    { name: 'not a list', spec: { podCIDRs: '10.244.1.0/24' }, ranges: [], problems: [['spec', 'podCIDRs']] },
    { name: 'a number', spec: { podCIDRs: [7] }, ranges: [], problems: [['spec', 'podCIDRs', 0]] },
  ])('$name', ({ spec, ranges, problems }) => {
    // biome-ignore lint/suspicious/noExplicitAny: JSON fixture
    const r = readNodePodRanges(node(spec) as any)
    expect(r.ranges.map((x) => x.cidr)).toEqual(ranges)
    expect(r.problems.map((p) => p.path)).toEqual(problems)
  })

  it('checks --pod-cidr values with the same rules', () => {
    expect(checkPodCIDRs(['10.1.0.0/16', 'fd00::/64'], ['--pod-cidr']).problems).toEqual([])
    expect(checkPodCIDRs(['10.1.0.0/16', '10.2.0.0/16'], ['--pod-cidr']).problems[0]?.message).toMatch(
      /no more than one CIDR for each IP family/,
    )
  })
})

describe('loading a Node with pod ranges', () => {
  it('keeps valid ranges on the node and reports bad ones with their field path, without leaving the Node out', () => {
    const text = [
      'apiVersion: v1',
      'kind: Node',
      'metadata: {name: good}',
      'spec: {podCIDRs: [10.244.1.0/24]}',
      '---',
      'apiVersion: v1',
      'kind: Node',
      'metadata: {name: bad}',
      'spec:',
      '  podCIDRs: [10.244.2.0/24, nonsense]',
    ].join('\n')
    const loaded = loadCluster([{ file: 'nodes.yaml', text }], { validate: 'strict' })
    const nodes = loaded.cluster.nodes ?? []
    expect(nodes.find((n) => n.name === 'good')?.podCIDRs).toEqual(['10.244.1.0/24'])
    expect(nodes.find((n) => n.name === 'bad')?.podCIDRs).toBeUndefined()
    const d = loaded.diagnostics.filter((x) => x.code === 'load.invalid-pod-cidrs')
    // as ValidateNode: the bad entry, and (IsDualStackCIDRStrings failing) the list as no dual-stack pair
    expect(d.map((x) => x.path)).toEqual([
      ['spec', 'podCIDRs', 1],
      ['spec', 'podCIDRs'],
    ])
    expect(d[0]?.source?.line).toBe(10)
    expect(d[0]?.message).toMatch(/must be valid CIDR/)
  })
})
