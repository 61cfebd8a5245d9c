/**
 * The per-packet work of a new connection must not grow with policies that have no rule for its port:
 * the pod chain dispatches on `meta l4proto . th dport` (verdict map) to the policies of that port, and
 * every rule tests its port before its peer set (bench/lab.ts --shape worst measures the effect).
 * Structure only: no timed assertion; the kernel check loads the ruleset with `nft -c`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileNode } from '../../src/backends/index.js'
import { IR_NAME_MAX } from '../../src/compile/index.js'
import type { ClusterState, NetworkPolicy, PolicyPort } from '../../src/model/index.js'
import { createNetns, deleteNetns, kernelSkipReason, nftCheck } from '../compile/netns.js'

const V1 = { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' } as const
const sel = (matchLabels: Record<string, string>) => ({ matchLabels, matchExpressions: [] })

/** An ingress policy selecting app=server, admitting peer=<peer> on `ports` (undefined = every port). */
const policy = (name: string, peer: string, ports?: PolicyPort[]): NetworkPolicy => ({
  namespace: 'bench',
  name,
  origin: V1,
  podSelector: sel({ app: 'server' }),
  policyTypes: ['Ingress'],
  ingress: [{ peers: [{ podSelector: sel({ peer }) }], ...(ports ? { ports } : {}) }],
  egress: [],
})

const tcp = (port: number, endPort?: number): PolicyPort => ({
  protocol: 'TCP',
  port,
  ...(endPort !== undefined ? { endPort } : {}),
})

const cluster = (policies: NetworkPolicy[]): ClusterState => ({
  namespaces: [
    {
      name: 'bench',
      labels: { 'kubernetes.io/metadata.name': 'bench' },
      declared: true,
      defaultDenyIngress: false,
    },
  ],
  pods: [
    {
      namespace: 'bench',
      name: 'client',
      labels: { peer: 'client' },
      ips: ['10.240.1.10'],
      ports: [],
      nodeName: 'node-1',
      hostNetwork: false,
    },
    {
      namespace: 'bench',
      name: 'server',
      labels: { app: 'server' },
      ips: ['10.240.2.10'],
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      nodeName: 'node-2',
      hostNetwork: false,
    },
  ],
  policies,
})

/** Policy i admits peer c<i> on TCP 1000+i; the last one admits the client on TCP 80 (bench shape "worst"). */
const worst = (n: number): NetworkPolicy[] =>
  Array.from({ length: n }, (_, i) =>
    i === n - 1 ? policy(`p${i}`, 'client', [tcp(80)]) : policy(`p${i}`, `c${i}`, [tcp(1000 + i)]),
  )

const render = (policies: NetworkPolicy[]): string =>
  compileNode(cluster(policies), 'node-2', 'nftables').value.files['palisade.nft'] ?? ''

/** Returns the body lines of `chain name` or `map name`. */
function block(text: string, kind: 'chain' | 'map', name: string): string[] {
  const lines = text.split('\n')
  const start = lines.indexOf(`\t${kind} ${name} {`)
  if (start < 0) return []
  const end = lines.indexOf('\t}', start)
  return lines.slice(start + 1, end).map((l) => l.trim())
}

/** Returns the map's elements as 'proto . ports : jump target' strings. */
function elementsOf(text: string, map: string): string[] {
  const body = block(text, 'map', map).join(' ')
  const m = /elements = \{(.*)\}/.exec(body)
  return m ? (m[1] as string).split(',').map((e) => e.trim()) : []
}

describe('port dispatch in pod chains', () => {
  const cases: {
    name: string
    policies: NetworkPolicy[]
    jumps: string[]
    elements: string[]
  }[] = [
    {
      name: 'a pod selected by 1,000 single-port policies jumps to none of them directly: the map sends port 80 to the one policy for 80',
      policies: worst(1000),
      jumps: [],
      elements: ['tcp . 80 : jump pol_bench_p999_in'],
    },
    {
      name: 'a policy with a rule for every port is jumped for every packet, next to the map of the others',
      policies: [policy('any', 'client'), policy('web', 'client', [tcp(80)])],
      jumps: ['jump pol_bench_any_in'],
      elements: ['tcp . 80 : jump pol_bench_web_in'],
    },
    {
      name: 'overlapping port ranges of two policies split into disjoint intervals, the shared one through a helper chain',
      policies: [policy('a', 'client', [tcp(80, 90)]), policy('b', 'client', [tcp(85, 100)])],
      jumps: [],
      elements: [
        'tcp . 80-84 : jump pol_bench_a_in',
        'tcp . 85-90 : jump ports_in_bench_server_h0',
        'tcp . 91-100 : jump pol_bench_b_in',
      ],
    },
    {
      name: 'a named port is resolved by its set, so its policy stays a direct jump',
      policies: [{ ...policy('named', 'client'), ingress: [{ ports: [{ protocol: 'TCP', port: 'http' }] }] }],
      jumps: ['jump pol_bench_named_in'],
      elements: [],
    },
  ]

  it.each(cases)('$name', ({ policies, jumps, elements }) => {
    const text = render(policies)
    const pod = block(text, 'chain', 'pod_in_bench_server')
    expect(pod.filter((l) => l.startsWith('jump '))).toEqual(jumps)
    const got = elementsOf(text, 'ports_in_bench_server')
    for (const e of elements) expect(got).toContain(e)
    if (elements.length === 0) expect(pod.some((l) => l.includes('vmap'))).toBe(false)
    else expect(pod).toContain('meta l4proto . th dport vmap @ports_in_bench_server')
  })

  it('the helper chain of a shared interval jumps to both policies', () => {
    const text = render([policy('a', 'client', [tcp(80, 90)]), policy('b', 'client', [tcp(85, 100)])])
    expect(block(text, 'chain', 'ports_in_bench_server_h0').filter((l) => l.startsWith('jump '))).toEqual([
      'jump pol_bench_a_in',
      'jump pol_bench_b_in',
    ])
  })

  it('a pod whose chain name is near the length limit gets a hashed map name within the limit', () => {
    const long = cluster([policy('a', 'client', [tcp(80, 90)]), policy('b', 'client', [tcp(85, 100)])])
    const pods = long.pods.map((p) => (p.name === 'server' ? { ...p, name: `server-${'x'.repeat(50)}` } : p))
    const text = compileNode({ ...long, pods }, 'node-2', 'nftables').value.files['palisade.nft'] ?? ''
    const declared = [...text.matchAll(/^\t(?:set|map|chain) (\S+) \{$/gm)].map((m) => m[1] as string)
    const ports = declared.filter((d) => d.startsWith('ports_'))
    expect(ports).toHaveLength(2)
    expect(new Set(declared).size).toBe(declared.length)
    for (const d of ports) expect(d).toMatch(/^ports_[0-9a-f]{16}(_h0)?$/)
    expect(Math.max(...declared.map((d) => d.length))).toBeLessThanOrEqual(IR_NAME_MAX)
  })

  it('the map of 1,000 single-port policies has one element per port', () => {
    expect(elementsOf(render(worst(1000)), 'ports_in_bench_server')).toHaveLength(1000)
  })

  it('every rule tests its port before its peer set (a compare before a lookup)', () => {
    const rules = block(render(worst(3)), 'chain', 'pol_bench_p0_in').filter((l) => l.endsWith('IPv4"'))
    expect(rules).toHaveLength(1)
    expect(rules[0]).toMatch(/^tcp dport 1000 ip saddr @pods_bench_peer_c0_\w+ accept /)
  })
})

const skip = await kernelSkipReason()

describe.skipIf(skip !== undefined)(
  `port dispatch loads in the kernel${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let ns = ''
    beforeAll(async () => {
      ns = await createNetns('pdisp')
    })
    afterAll(async () => {
      if (ns) await deleteNetns(ns)
    })
    it.each([
      { name: '1,000 single-port policies', policies: worst(1000) },
      {
        name: 'overlapping ranges and a policy for every port',
        policies: [
          policy('a', 'client', [tcp(80, 90)]),
          policy('b', 'client', [tcp(85, 100)]),
          policy('any', 'client'),
        ],
      },
    ])(
      'nft -c accepts the ruleset of $name',
      async ({ policies }) => {
        const r = await nftCheck(ns, render(policies))
        expect(r.stderr).toBe('')
        expect(r.ok).toBe(true)
      },
      60_000,
    )
  },
)
