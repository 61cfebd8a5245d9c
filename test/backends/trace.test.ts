/**
 * `palisade trace`, without root: the parsers of `nft monitor trace` and `xtables-monitor --trace` output on
 * real recordings (test/backends/fixtures/trace: seed 001 in a two-node lab, nftables and iptables-nft; a
 * denied TCP connect default/debug -> testing/myapp:80 and an allowed one testing/nginx -> testing/myapp:80,
 * both crossing from node-2 to node-1), and the mapping of each step to the policy and rule it belongs to.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  explainTrace,
  firstMatchingTrace,
  getTracer,
  type TraceMatch,
  type Tracer,
} from '../../src/backends/index.js'
import { iptablesTraceRule, parseXtablesTrace } from '../../src/backends/iptables/index.js'
import { parseNftTrace, renderNftTraceTable } from '../../src/backends/nftables/index.js'
import { readInputs } from '../../src/cli/inputs.js'
import { buildNodeIR } from '../../src/compile/index.js'
import { loadCluster } from '../../src/load/index.js'
import type { ClusterState } from '../../src/model/index.js'

const fixture = (name: string) => readFileSync(new URL(`./fixtures/trace/${name}`, import.meta.url), 'utf8')

async function seed001(): Promise<ClusterState> {
  const read = await readInputs([new URL('../../examples/seed-001-testing', import.meta.url).pathname])
  return loadCluster(read.inputs, { validate: 'strict' }).cluster
}

const tcp80 = (saddr: string): TraceMatch => ({
  family: 4,
  protocol: 'TCP',
  saddr,
  daddr: '10.244.1.10',
  dport: 80,
})
const DEBUG = '10.244.2.20'
const NGINX = '10.244.2.10'

interface Row {
  readonly name: string
  readonly tracer: 'nftables' | 'iptables-nft'
  readonly file: string
  readonly node: string
  readonly from: string
  readonly verdict: 'accepted' | 'dropped'
  /** The policy rules that admitted it, as formatted. */
  readonly allowedBy: readonly string[]
  /** The chain of the step that dropped it. */
  readonly droppedIn?: string
}

const rows: Row[] = [
  {
    name: 'nftables, destination node: the isolated pod chain drops debug (no ingress rule of myapp admits it)',
    tracer: 'nftables',
    file: 'nft-seed-001.node-1.txt',
    node: 'node-1',
    from: DEBUG,
    verdict: 'dropped',
    allowedBy: [],
    droppedIn: 'pod_in_testing_myapp',
  },
  {
    name: 'nftables, destination node: myapp-policy ingress[0] from[0] ports[0] admits nginx',
    tracer: 'nftables',
    file: 'nft-seed-001.node-1.txt',
    node: 'node-1',
    from: NGINX,
    verdict: 'accepted',
    allowedBy: ['testing/myapp-policy/ingress/0/0/0'],
  },
  {
    name: 'nftables, source node: debug is not isolated, both base chains pass it',
    tracer: 'nftables',
    file: 'nft-seed-001.node-2.txt',
    node: 'node-2',
    from: DEBUG,
    verdict: 'accepted',
    allowedBy: [],
  },
  {
    name: 'nftables, source node: nginx-policy egress[0] (egress: [{}]) admits nginx',
    tracer: 'nftables',
    file: 'nft-seed-001.node-2.txt',
    node: 'node-2',
    from: NGINX,
    verdict: 'accepted',
    allowedBy: ['testing/nginx-policy/egress/0/-/-'],
  },
  {
    name: 'iptables-nft, destination node: the pod chain drops debug',
    tracer: 'iptables-nft',
    file: 'xtables-seed-001.node-1.txt',
    node: 'node-1',
    from: DEBUG,
    verdict: 'dropped',
    allowedBy: [],
    droppedIn: 'PAL-pod_in_testing_myapp',
  },
  {
    name: 'iptables-nft, destination node: myapp-policy ingress[0] from[0] ports[0] admits nginx',
    tracer: 'iptables-nft',
    file: 'xtables-seed-001.node-1.txt',
    node: 'node-1',
    from: NGINX,
    verdict: 'accepted',
    allowedBy: ['testing/myapp-policy/ingress/0/0/0'],
  },
  {
    name: 'iptables-nft, source node: debug passes PAL-EGRESS and PAL-INGRESS unisolated',
    tracer: 'iptables-nft',
    file: 'xtables-seed-001.node-2.txt',
    node: 'node-2',
    from: DEBUG,
    verdict: 'accepted',
    allowedBy: [],
  },
  {
    name: 'iptables-nft, source node: nginx-policy egress[0] admits nginx',
    tracer: 'iptables-nft',
    file: 'xtables-seed-001.node-2.txt',
    node: 'node-2',
    from: NGINX,
    verdict: 'accepted',
    allowedBy: ['testing/nginx-policy/egress/0/-/-'],
  },
]

const tracerOf = (name: string) => getTracer(name) as Tracer

describe('palisade trace: kernel trace -> policy and rule', () => {
  it.each(rows)('$name', async (row) => {
    const tracer = tracerOf(row.tracer)
    const raw = firstMatchingTrace(tracer.parse(fixture(row.file)), tcp80(row.from), tracer.table)
    expect(raw).toBeDefined()
    const t = explainTrace(raw!, tracer.index(buildNodeIR(await seed001(), row.node)))
    expect(t.verdict).toBe(row.verdict)
    expect(
      t.allowedBy.map(
        (r) => `${r.policy}/${r.direction}/${r.rule}/${r.peer ?? '-'}/${r.ports?.join(',') ?? '-'}`,
      ),
    ).toEqual(row.allowedBy)
    expect(t.droppedBy?.chain).toBe(row.droppedIn)
    if (row.droppedIn)
      expect(t.droppedBy?.meaning).toMatch(/^DROPPED: testing\/myapp is isolated for ingress/)
    // every step in our table belongs to a chain the compiled ruleset has
    for (const s of t.steps)
      if (s.chain.startsWith('PAL-') || /^(pod|pol)_/.test(s.chain)) expect(s.role).toBeDefined()
    expect(t.steps.some((s) => s.unknownRule)).toBe(false)
  })

  it('names each policy-chain step of the nftables trace with its policy and rule', async () => {
    const tracer = tracerOf('nftables')
    const raw = firstMatchingTrace(
      tracer.parse(fixture('nft-seed-001.node-1.txt')),
      tcp80(NGINX),
      'palisade',
    )!
    const t = explainTrace(raw, tracer.index(buildNodeIR(await seed001(), 'node-1')))
    expect(t.steps.map((s) => [s.chain, s.verdict, s.handle])).toEqual([
      ['egress', 'accept', undefined],
      ['ingress', 'jump pod_in_testing_myapp', 40],
      ['pod_in_testing_myapp', 'jump pol_testing_myapp-policy_in', 22],
      ['pol_testing_myapp-policy_in', 'accept', 18],
    ])
    expect(t.steps.map((s) => s.meaning)).toEqual([
      'the source is not a local pod isolated for egress: egress passes',
      'testing/myapp is isolated for ingress: to its pod chain',
      'testing/myapp: tries policy testing/myapp-policy (ingress)',
      'ADMITTED by testing/myapp-policy ingress[0] from[0] ports[0]',
    ])
    expect(t.packet).toMatchObject({
      saddr: NGINX,
      daddr: '10.244.1.10',
      dport: 80,
      flags: 'syn',
      iif: 'eth0',
      oif: 'v2',
    })
  })

  it('leaves out the trace table itself and takes only the first packet (the SYN), not the ACKs that follow', () => {
    const traces = parseNftTrace(fixture('nft-seed-001.node-1.txt'))
    expect(traces.every((t) => t.steps.every((s) => !s.table.startsWith('palisade_trace')))).toBe(true)
    const first = firstMatchingTrace(traces, tcp80(NGINX), 'palisade')
    expect(first?.packet.flags).toBe('syn')
  })

  it('tells apart two packets xtables-monitor gave the same trace id (a new IP id)', () => {
    const traces = parseXtablesTrace(fixture('xtables-seed-001.node-1.txt'))
    const reused = traces.filter((t) => t.id === 'c08e9f89')
    expect(reused.map((t) => t.packet.ipId)).toEqual(['44523', '44525'])
    expect(reused[0]?.steps.at(-1)?.verdict).toBe('accept')
    expect(reused[1]?.steps.map((s) => s.chain)).toEqual(['FORWARD', 'PAL-FORWARD'])
  })

  it('reads the verdicts xtables-monitor prints: JUMP/GOTO targets, CONTINUE, the raw NFT_RETURN code', () => {
    const t = parseXtablesTrace(fixture('xtables-seed-001.node-2.txt'))[0]!
    expect(t.steps.map((s) => s.verdict)).toEqual([
      'jump PAL-FORWARD',
      'jump PAL-EGRESS',
      'return',
      'jump PAL-INGRESS',
      'return',
      'accept',
    ])
    expect(t.steps.at(-1)?.comment).toBe('passed: from a local pod')
  })

  it('marks a kernel rule the input does not compile to, instead of naming a wrong rule', async () => {
    const cluster = await seed001()
    // the same cluster with myapp-policy's ingress rules gone: the kernel's rule is then unknown
    const changed: ClusterState = {
      ...cluster,
      policies: cluster.policies.map((p) => (p.name === 'myapp-policy' ? { ...p, ingress: [] } : p)),
    }
    const tracer = tracerOf('nftables')
    const raw = firstMatchingTrace(
      tracer.parse(fixture('nft-seed-001.node-1.txt')),
      tcp80(NGINX),
      'palisade',
    )!
    const t = explainTrace(raw, tracer.index(buildNodeIR(changed, 'node-1')))
    const last = t.steps.at(-1)!
    expect(last.unknownRule).toBe(true)
    expect(last.policyRule).toBeUndefined()
    expect(last.meaning).toMatch(
      /a rule the compiled input does not have: testing\/myapp-policy ingress\[0\]/,
    )
  })

  it('renders the trace table: prerouting at mangle, the exact 5-tuple, new connections only', () => {
    expect(renderNftTraceTable('palisade_trace_1', { ...tcp80(NGINX), dport: 8080 })).toBe(
      [
        'table inet palisade_trace_1 {',
        '\tcomment "palisade trace: removed when the trace ends"',
        '\tchain trace {',
        '\t\ttype filter hook prerouting priority mangle; policy accept;',
        '\t\tmeta l4proto tcp ip saddr 10.244.2.10 ip daddr 10.244.1.10 th dport 8080 ct state new meta nftrace set 1',
        '\t}',
        '}',
        '',
      ].join('\n'),
    )
    expect(
      iptablesTraceRule({ family: 6, protocol: 'UDP', saddr: 'fd00::1', daddr: 'fd00::2', dport: 53 }, '7'),
    ).toEqual([
      '-p',
      'udp',
      '-s',
      'fd00::1',
      '-d',
      'fd00::2',
      '--dport',
      '53',
      '-m',
      'comment',
      '--comment',
      'palisade trace 7',
      '-j',
      'TRACE',
    ])
  })

  it('refuses iptables-legacy with the reason', () => {
    expect(getTracer('iptables-legacy')).toMatch(/kernel log.*nf_log_all_netns/)
    expect(getTracer('pf')).toMatch(/unknown backend/)
  })
})
