/** The diff's building blocks: port ranges, address ranges, workload folding (tables). */
import { describe, expect, it } from 'vitest'
import {
  alignWorkloads,
  diffClusters,
  foldWorkloads,
  formatAddresses,
  formatPortRanges,
  portGroups,
  rangesToCIDRs,
  renderDiffMarkdown,
} from '../../src/diff/index.js'
import type { ClusterState, Pod } from '../../src/model/index.js'

const pod = (
  namespace: string,
  name: string,
  labels: Record<string, string>,
  extra: Partial<Pod> = {},
): Pod => ({
  namespace,
  name,
  labels,
  ips: [],
  ports: [],
  hostNetwork: false,
  ...extra,
})

describe('formatPortRanges', () => {
  const cases: {
    name: string
    ranges: { protocol: 'TCP' | 'UDP' | 'SCTP'; from: number; to: number }[]
    text: string
  }[] = [
    { name: 'one port', ranges: [{ protocol: 'TCP', from: 80, to: 80 }], text: '80/TCP' },
    { name: 'a range', ranges: [{ protocol: 'TCP', from: 8000, to: 8080 }], text: '8000-8080/TCP' },
    {
      name: 'adjacent ranges join',
      ranges: [
        { protocol: 'UDP', from: 54, to: 60 },
        { protocol: 'UDP', from: 53, to: 53 },
      ],
      text: '53-60/UDP',
    },
    { name: 'a whole protocol', ranges: [{ protocol: 'UDP', from: 1, to: 65535 }], text: 'every UDP port' },
    {
      name: 'most of a protocol reads as its holes',
      ranges: [
        { protocol: 'TCP', from: 1, to: 79 },
        { protocol: 'TCP', from: 81, to: 65535 },
      ],
      text: 'every TCP port except 80',
    },
    {
      name: 'every protocol whole',
      ranges: [
        { protocol: 'TCP', from: 1, to: 65535 },
        { protocol: 'UDP', from: 1, to: 65535 },
        { protocol: 'SCTP', from: 1, to: 65535 },
      ],
      text: 'every port',
    },
  ]
  it.each(cases)('$name', ({ ranges, text }) => expect(formatPortRanges(ranges)).toBe(text))
})

describe('portGroups', () => {
  const cluster = (
    ports: { protocol: 'TCP' | 'UDP'; port?: number | string; endPort?: number }[],
    podPorts: Pod['ports'] = [],
  ): ClusterState => ({
    namespaces: [],
    pods: [pod('a', 'p', {}, { ports: podPorts })],
    policies: [
      {
        namespace: 'a',
        name: 'x',
        origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
        podSelector: { matchLabels: {}, matchExpressions: [] },
        policyTypes: ['Ingress'],
        ingress: [{ ports }],
        egress: [],
      },
    ],
  })
  it('cover every port of every protocol exactly once', () => {
    const groups = portGroups([
      cluster([
        { protocol: 'TCP', port: 80 },
        { protocol: 'TCP', port: 8000, endPort: 8080 },
      ]),
    ])
    for (const protocol of ['TCP', 'UDP', 'SCTP'] as const) {
      const ranges = groups.flatMap((g) => g.ranges).filter((r) => r.protocol === protocol)
      expect(ranges.reduce((n, r) => n + r.to - r.from + 1, 0)).toBe(65535)
    }
  })
  it('ports no rule tells apart share a group; a rule port is its own', () => {
    const groups = portGroups([cluster([{ protocol: 'TCP', port: 80 }])])
    expect(groups.map((g) => formatPortRanges(g.ranges)).sort()).toEqual([
      '80/TCP',
      'every UDP port, every SCTP port, every TCP port except 80',
    ])
  })
  it('a declared container port is its own group when a rule names ports', () => {
    const groups = portGroups([
      cluster([{ protocol: 'TCP', port: 'http' }], [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]),
    ])
    expect(groups.map((g) => formatPortRanges(g.ranges))).toContain('8080/TCP')
  })
})

describe('addresses', () => {
  it('rangesToCIDRs covers a range with the fewest aligned blocks', () => {
    expect(rangesToCIDRs([{ family: 4, first: 10n, last: 17n }])).toEqual([
      '0.0.0.10/31',
      '0.0.0.12/30',
      '0.0.0.16/31',
    ])
    expect(rangesToCIDRs([{ family: 4, first: 0n, last: (1n << 32n) - 1n }])).toEqual(['0.0.0.0/0'])
  })
  it('formatAddresses names a large set by its holes', () => {
    expect(formatAddresses(['0.0.0.0/0'])).toBe('every IPv4 address')
    expect(
      formatAddresses([
        '0.0.0.0/1',
        '128.0.0.0/2',
        '192.0.0.0/3',
        '224.0.0.0/4',
        '240.0.0.0/5',
        '248.0.0.0/6',
        '252.0.0.0/7',
        '254.0.0.0/8',
      ]),
    ).toBe('every IPv4 address except 255.0.0.0/8')
    expect(formatAddresses(['14.215.0.0/16'])).toBe('14.215.0.0/16')
  })
})

describe('foldWorkloads', () => {
  it('folds by owner, then by identical labels, and keeps lone pods as themselves', () => {
    const w = foldWorkloads([
      pod('shop', 'web', { app: 'web' }, { workload: { kind: 'Deployment', name: 'web' } }),
      pod('shop', 'api-5d4f7-abcde', { app: 'api', 'pod-template-hash': '5d4f7' }),
      pod('shop', 'api-5d4f7-fghij', { app: 'api', 'pod-template-hash': '5d4f7' }),
      pod('shop', 'debug', { run: 'debug' }),
      pod('other', 'api-5d4f7-zzzzz', { app: 'api', 'pod-template-hash': '5d4f7' }),
    ])
    expect(w.map((x) => [x.key, x.kind, x.pods.length])).toEqual([
      ['other/api-5d4f7-zzzzz', 'Pod', 1],
      ['shop/api-5d4f7-*', 'Pod', 2],
      ['shop/debug', 'Pod', 1],
      ['shop/web', 'Deployment', 1],
    ])
  })
})

describe('alignWorkloads', () => {
  const cluster = (pods: Pod[]): ClusterState => ({ namespaces: [], pods, policies: [] })
  const web = pod('shop', 'web', { app: 'web' }, { workload: { kind: 'Deployment', name: 'web' } })
  const live = (name: string, labels: Record<string, string>) =>
    pod('shop', name, labels, { ips: ['10.0.0.9'] })
  it.each([
    {
      name: 'a template stands for each running pod that carries its labels',
      old: [
        live('web-5d4f7-a', { app: 'web', 'pod-template-hash': '5d4f7' }),
        live('web-5d4f7-b', { app: 'web', 'pod-template-hash': '5d4f7' }),
      ],
      now: [web],
      keys: ['shop/web-5d4f7-a', 'shop/web-5d4f7-b'],
    },
    {
      name: 'a pod two templates could own stays unmatched',
      old: [live('x-1', { app: 'web', tier: 'db' })],
      now: [web, pod('shop', 'db', { tier: 'db' }, { workload: { kind: 'Deployment', name: 'db' } })],
      keys: ['shop/db', 'shop/web'],
    },
    {
      name: 'a pod of another namespace is not matched',
      old: [pod('other', 'web-1', { app: 'web' })],
      now: [web],
      keys: ['shop/web'],
    },
  ])('$name', ({ old, now, keys }) => {
    const { b } = alignWorkloads(cluster(old), cluster(now))
    expect(b.pods.map((p) => `${p.namespace}/${p.name}`).sort()).toEqual(keys)
    for (const p of b.pods) if (p.workload) expect(p.ips).toEqual([])
  })
})

describe('renderDiffMarkdown', () => {
  it('caps the connection table for a pull-request comment and says how many rows it left out', () => {
    const a: ClusterState = {
      namespaces: [],
      pods: Array.from({ length: 12 }, (_, i) => pod('n', `p${i}`, { i: String(i) })),
      policies: [],
    }
    const b: ClusterState = {
      ...a,
      policies: [
        {
          namespace: 'n',
          name: 'deny',
          origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
          podSelector: { matchLabels: {}, matchExpressions: [] },
          policyTypes: ['Ingress'],
          ingress: [],
          egress: [],
        },
      ],
    }
    const d = diffClusters(a, b)
    expect(d.connections).toHaveLength(12 * 11)
    const text = renderDiffMarkdown(d, { old: 'a', new: 'b' }, 100)
    expect(text.split('\n').filter((l) => l.startsWith('| ➖'))).toHaveLength(100)
    expect(text).toContain('… 32 more connection changes')
  })
})
