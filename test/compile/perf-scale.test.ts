/**
 * The node compiler at agent scale, without timing anything (benchmarks live in bench/): its fast
 * paths agree with the model's reference functions, huge sets render, and on a 10k-pod cluster the
 * incremental compiler's work follows what changed, not the size of the cluster.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileNode, createNodeCompiler, printRuleset } from '../../src/backends/index.js'
import type { ClusterState, LabelSelector, NetworkPolicy, Pod } from '../../src/model/index.js'
import { parseIP } from '../../src/model/index.js'
import { parseIPv4Number } from '../../src/semantics/index.js'

describe('IPv4 fast path', () => {
  const rows = [
    { name: 'a plain address parses to its value', text: '10.1.2.3', want: 0x0a010203 },
    { name: 'the highest address parses', text: '255.255.255.255', want: 0xffffffff },
    { name: 'zero octets parse', text: '0.0.0.0', want: 0 },
    { name: 'a leading zero is rejected, as Go netip does', text: '10.01.2.3', want: undefined },
    { name: 'an octet above 255 is rejected', text: '10.256.2.3', want: undefined },
    { name: 'three octets are rejected', text: '10.1.2', want: undefined },
    { name: 'an empty octet is rejected', text: '10..2.3', want: undefined },
    { name: 'a trailing dot is rejected', text: '10.1.2.3.', want: undefined },
    { name: 'an IPv6 address is not IPv4', text: '::ffff:10.1.2.3', want: undefined },
  ]
  it.each(rows)('$name', ({ text, want }) => {
    expect(parseIPv4Number(text)).toBe(want)
  })

  it('accepts exactly what parseIP accepts as IPv4, with the same value', () => {
    const octet = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.constantFrom('00', '01', '007', '', 'a'),
    )
    const text = fc.oneof(
      fc.tuple(octet, octet, octet, octet).map((xs) => xs.join('.')),
      fc.string({ maxLength: 16 }),
      fc.stringMatching(/^[0-9.]{0,16}$/),
    )
    fc.assert(
      fc.property(text, (t) => {
        const ref = parseIP(t)
        const got = parseIPv4Number(t)
        if (ref?.family === 4) expect(got).toBe(Number(ref.value))
        else expect(got).toBeUndefined()
      }),
      { numRuns: 3000 },
    )
  })
})

const sel = (matchLabels: Record<string, string>): LabelSelector => ({ matchLabels, matchExpressions: [] })
const ip = (i: number) => `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`

/** n pods in 100 namespaces over 50 nodes; policies as the agent benchmark writes them. */
function cluster(n: number, policies: number): ClusterState {
  const pods: Pod[] = []
  for (let i = 0; i < n; i++)
    pods.push({
      namespace: `ns-${i % 100}`,
      name: `pod-${i}`,
      labels: { app: `app-${i % 10}`, role: `role-${i % 7}` },
      ips: [ip(i)],
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      nodeName: `node-${i % 50}`,
      hostNetwork: false,
      phase: 'Running',
    })
  const pols: NetworkPolicy[] = []
  for (let j = 0; j < policies; j++)
    pols.push({
      namespace: `ns-${j % 100}`,
      name: `pol-${j}`,
      origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
      podSelector: sel({ app: `app-${j % 10}` }),
      policyTypes: ['Ingress'],
      ingress: [
        {
          peers: [
            { podSelector: sel({ role: `role-${j % 7}` }) },
            { namespaceSelector: sel({ tier: `t${j % 3}` }) },
          ],
          ports: [{ protocol: 'TCP', port: 80 }],
        },
      ],
      egress: [],
    })
  return {
    namespaces: Array.from({ length: 100 }, (_, k) => ({
      name: `ns-${k}`,
      labels: { 'kubernetes.io/metadata.name': `ns-${k}`, tier: `t${k % 3}` },
      declared: true,
      defaultDenyIngress: false,
    })),
    pods,
    policies: pols,
  }
}

describe('scale', () => {
  it('renders a peer set of 130k pods (packed lines, no argument-spread limit)', () => {
    const n = 130_000
    const pods: Pod[] = []
    for (let i = 0; i < n; i++)
      pods.push({
        namespace: 'big',
        name: `p${i}`,
        labels: {},
        ips: [ip(i)],
        ports: [],
        nodeName: i === 0 ? 'node-a' : 'node-b',
        hostNetwork: false,
      })
    const c: ClusterState = {
      namespaces: [],
      pods,
      policies: [
        {
          namespace: 'big',
          name: 'all',
          origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
          podSelector: sel({}),
          policyTypes: ['Ingress'],
          ingress: [{ peers: [{ podSelector: sel({}) }] }],
          egress: [],
        },
      ],
    }
    const r = compileNode(c, 'node-a', 'nftables')
    // the peer set holds every pod; the ingress dispatch map the one local pod
    expect(r.value.stats.elements).toBe(n + 1)
    // every address written once, several a line (docs/dataplane.md#peer-sets-at-scale)
    const text = r.value.files['palisade.nft'] ?? ''
    expect(text.match(/\b10\.\d+\.\d+\.\d+\b/g)?.length).toBeGreaterThanOrEqual(n)
    expect(text.split('\n').length).toBeLessThan(n / 4)
    const elementLines = text.split('\n').filter((l) => l.startsWith('\t\t\t'))
    expect(Math.max(...elementLines.map((l) => l.length))).toBeLessThanOrEqual(3 + 100 + 1)
  })

  const base = cluster(10_000, 1000)
  const rows: {
    readonly name: string
    readonly change: (c: ClusterState) => ClusterState
    readonly structureReused: boolean
    readonly maxSetsPatched: number
  }[] = [
    {
      name: 'a pod added on another node patches only the sets it joins, keeping chains',
      change: (c) => ({
        ...c,
        pods: [...c.pods, { ...(c.pods[1] as Pod), name: 'new', ips: ['10.99.0.1'] }],
      }),
      structureReused: true,
      // pod-1 is in ns-1 (tier t1) with role-1: at most its podSelector set and the t1 namespace set
      maxSetsPatched: 2,
    },
    {
      name: 'a pod deleted on another node patches only the sets it left',
      change: (c) => ({ ...c, pods: c.pods.filter((p) => p.name !== 'pod-3') }),
      structureReused: true,
      maxSetsPatched: 2,
    },
    {
      name: 'a port edit of a policy selecting local pods keeps every set',
      change: (c) => ({
        ...c,
        policies: c.policies.map((p) =>
          p.name === 'pol-0'
            ? {
                ...p,
                ingress: p.ingress.map((r) => ({ ...r, ports: [{ protocol: 'TCP' as const, port: 1001 }] })),
              }
            : p,
        ),
      }),
      structureReused: false,
      maxSetsPatched: 0,
    },
  ]
  it.each(rows)('$name (10k pods, 1k policies)', ({ change, structureReused, maxSetsPatched }) => {
    const inc = createNodeCompiler('node-0', 'nftables')
    inc.compile(base)
    const total = inc.stats().setsComputed
    expect(total).toBeGreaterThan(maxSetsPatched)
    const next = change(base)
    // `ir` (what the ruleset was rendered from, for --revoke-established) is not part of compileNode's result.
    const { ir: _, ...got } = inc.compile(next)
    expect({ ...got, value: printRuleset(got.value) }).toEqual(compileNode(next, 'node-0', 'nftables'))
    const s = inc.stats()
    expect(s.changedPods).not.toBe('all')
    expect(s.structureReused).toBe(structureReused)
    // nothing is refilled from the 10k pods: the sets a change touches are patched
    expect(s.setsComputed).toBe(0)
    expect(s.setsPatched).toBeLessThanOrEqual(maxSetsPatched)
    expect(s.setsReused).toBe(total - s.setsPatched)
  })
})
