/** Exposure: who may reach each workload, read from the rules; the headline per direction is table-driven. */
import { describe, expect, it } from 'vitest'
import { buildConnlist, buildExposure, type ExposureLevel, isPublic } from '../../src/connlist/index.js'
import { loadCluster } from '../../src/load/index.js'
import { runCli } from '../cli/run.js'
import { expectGolden } from '../golden.js'

const pods = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: web}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: api, image: api, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: front, namespace: web, labels: {app: front}}
spec: {containers: [{name: front, image: front}]}
status: {podIP: 10.0.0.3}
`

const policy = (ingress: string) => `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress: ${ingress}
`

const cases: { name: string; ingress?: string; level: ExposureLevel; internet: boolean; peer?: string }[] = [
  {
    name: 'no policy selects it: not protected',
    level: 'unprotected',
    internet: true,
    peer: 'entire-cluster',
  },
  { name: 'an empty rule admits everyone', ingress: '[{}]', level: 'entire-cluster', internet: true },
  {
    name: 'namespaceSelector {} is the entire cluster (no address)',
    ingress: '[{from: [{namespaceSelector: {}}]}]',
    level: 'entire-cluster',
    internet: false,
    peer: 'entire-cluster',
  },
  {
    name: 'a namespace by its name label is that namespace, every pod',
    ingress: '[{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}}]}]',
    level: 'namespaces',
    internet: false,
    peer: 'web/[all pods]',
  },
  {
    name: 'a podSelector in every namespace is selected pods',
    ingress: '[{from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: front}}}]}]',
    level: 'selected-pods',
    internet: false,
    peer: '[all namespaces]/[pod with {app=front}]',
  },
  {
    name: 'namespaces by another label',
    ingress: '[{from: [{namespaceSelector: {matchLabels: {team: shop}}}]}]',
    level: 'namespaces',
    internet: false,
    peer: '[namespace with {team=shop}]/[all pods]',
  },
  {
    name: 'an ipBlock of public addresses is the internet',
    ingress: '[{from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}], ports: [{port: http}]}]',
    level: 'none',
    internet: true,
    peer: '0.0.0.0/0 except 10.0.0.0/8',
  },
  {
    name: 'an ipBlock of private addresses is not the internet',
    ingress: '[{from: [{ipBlock: {cidr: 192.168.0.0/16}}]}]',
    level: 'none',
    internet: false,
    peer: '192.168.0.0/16',
  },
  { name: 'no rule: nobody', ingress: '[]', level: 'none', internet: false },
]

describe('exposure of shop/api on ingress', () => {
  it.each(cases)('$name', ({ ingress, level, internet, peer }) => {
    const text = pods + (ingress === undefined ? '' : policy(ingress))
    const { cluster, diagnostics } = loadCluster([{ file: 'x.yaml', text }], { validate: 'strict' })
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    const list = buildConnlist(cluster)
    const e = buildExposure(cluster, list)
    const mine = e.workloads.find((w) => w.workload === 'shop/api' && w.direction === 'Ingress')
    expect(mine).toMatchObject({ level, internet })
    if (peer !== undefined)
      expect(
        e.lines.filter((l) => l.workload === 'shop/api' && l.direction === 'Ingress').map((l) => l.peerText),
      ).toContain(peer)
  })

  it('a named port resolves on the workload, and the selector lists the workloads it matches today', () => {
    const text =
      pods +
      policy(
        '[{from: [{podSelector: {}, namespaceSelector: {}}], ports: [{port: http}]}, {from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}, podSelector: {matchLabels: {app: front}}}]}]',
      )
    const { cluster } = loadCluster([{ file: 'x.yaml', text }], { validate: 'strict' })
    const e = buildExposure(cluster, buildConnlist(cluster))
    const lines = e.lines.filter((l) => l.workload === 'shop/api' && l.direction === 'Ingress')
    expect(lines.map((l) => [l.peerText, l.ports.ranges, l.today])).toEqual([
      ['entire-cluster', [{ protocol: 'TCP', from: 8080, to: 8080 }], []],
      [
        'web/[pod with {app=front}]',
        [
          { protocol: 'TCP', from: 1, to: 65535 },
          { protocol: 'UDP', from: 1, to: 65535 },
          { protocol: 'SCTP', from: 1, to: 65535 },
        ],
        ['web/front[Pod]'],
      ],
    ])
  })
})

describe('isPublic', () => {
  it.each([
    [['0.0.0.0/0'], true],
    [['10.0.0.0/8', '192.168.1.0/24'], false],
    [['8.8.8.8/32'], true],
    [['172.16.0.0/12', '100.64.0.0/10'], false],
    [['fc00::/7'], false],
    [['2001:db8::/32'], true],
  ] as const)('%j -> %s', (cidrs, expected) => {
    expect(isPublic(cidrs)).toBe(expected)
  })
})

describe('palisade connlist --exposure (golden)', () => {
  it.each(['text', 'json', 'md', 'csv', 'dot'])('seed-001-testing -o %s', async (format) => {
    const r = await runCli(['connlist', 'examples/seed-001-testing', '--exposure', '-o', format])
    expect(r.code, r.stderr).toBe(0)
    await expectGolden(`connlist/seed-001-testing.exposure.${format}`, r.stdout)
  })
  it('seed-004-linuxea (text)', async () => {
    const r = await runCli(['connlist', 'examples/seed-004-linuxea', '--exposure'])
    await expectGolden('connlist/seed-004-linuxea.exposure.text', r.stdout)
  })
})
