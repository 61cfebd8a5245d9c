/**
 * `palisade lab trace` / `palisade trace` in the kernel: seed 001 in a two-node lab on nftables and
 * iptables-nft, an allowed and a denied connection on the same node and across nodes (and a UDP one): the
 * kernel's steps name the right policy and rule, the verdict agrees with the analyzer's, the exit code says
 * which, and no trace table or rule is left behind, also after a timeout, a failure or SIGINT.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { iptablesTraceRule, listIptablesTraceRules } from '../../src/backends/iptables/index.js'
import { listNftTraceTables, nftTraceTable, renderNftTraceTable } from '../../src/backends/nftables/index.js'
import { readLab } from '../../src/lab/index.js'
import { capture, hasCommand, labSkipReason } from './helpers.js'

const skip =
  labSkipReason() ??
  (hasCommand('nft') && hasCommand('iptables-nft') && hasCommand('xtables-monitor')
    ? undefined
    : 'nft, iptables-nft or xtables-monitor missing')
const built = existsSync(new URL('../../dist/src/cli/main.js', import.meta.url))
const bin = new URL('../../bin/palisade.js', import.meta.url).pathname

/** The network namespace of a lab node. */
async function nodeNetns(id: string, node: string): Promise<string> {
  const lab = await readLab(id)
  return lab?.plan.nodes.find((n) => n.name === node)?.netns as string
}

/** `palisade trace` of seed 001's nginx -> myapp on port 80, run on node-1 (its netns), with a timeout. */
const nodeTraceArgs = (netns: string, timeout: string): string[] => [
  'trace',
  'examples/seed-001-testing',
  '--node',
  'node-1',
  '--netns',
  netns,
  '--from',
  'testing/nginx',
  '--to',
  'testing/myapp',
  '--port',
  '80',
  '--timeout',
  timeout,
]

interface NodeJSON {
  node: string
  checks: string[]
  verdict: string
  allowedBy: {
    policy: string
    direction: string
    rule: number
    peer?: number
    ports?: number[]
    source: string
  }[]
  steps: { chain: string; verdict: string; role: { kind: string; pod?: string } | null; meaning: string }[]
}
interface TraceJSON {
  agree: boolean
  kernel: { verdict: string; nodes: NodeJSON[] }
  analyzer: { allowed: boolean }
  probe: string
}

interface Case {
  readonly name: string
  readonly from: string
  readonly to: string
  readonly port: string
  readonly code: 0 | 1
  /** node -> the rules that admitted the packet there ('policy direction[rule]'), or 'dropped in <pod>'. */
  readonly nodes: Readonly<Record<string, string[] | string>>
}

const CASES: Case[] = [
  {
    name: 'across nodes, allowed: nginx-policy egress[0] on node-2, myapp-policy ingress[0] on node-1',
    from: 'testing/nginx',
    to: 'testing/myapp',
    port: '80',
    code: 0,
    nodes: {
      'node-2': ['testing/nginx-policy egress[0] (policies.yaml:66)'],
      'node-1': ['testing/myapp-policy ingress[0] (policies.yaml:26)'],
    },
  },
  {
    name: 'across nodes, denied: node-2 passes debug, node-1 drops it in myapp’s ingress pod chain',
    from: 'default/debug',
    to: 'testing/myapp',
    port: '80/TCP',
    code: 1,
    nodes: { 'node-2': [], 'node-1': 'dropped in testing/myapp' },
  },
  {
    name: 'same node, allowed: nginx-policy ingress[0] (port 80 from anyone)',
    from: 'default/debug',
    to: 'testing/nginx',
    port: '80',
    code: 0,
    nodes: { 'node-2': ['testing/nginx-policy ingress[0] (policies.yaml:59)'] },
  },
  {
    name: 'same node, denied: nothing admits 81/TCP to nginx from debug',
    from: 'default/debug',
    to: 'testing/nginx',
    port: '81',
    code: 1,
    nodes: { 'node-2': 'dropped in testing/nginx' },
  },
  {
    name: 'same node, UDP, allowed: myapp-policy egress[1] to kube-system (coredns is not isolated)',
    from: 'testing/myapp',
    to: 'kube-system/coredns',
    port: '53',
    code: 0,
    nodes: { 'node-1': ['testing/myapp-policy egress[1] (policies.yaml:41)'] },
  },
]

/** A ClusterNetworkPolicy case (examples/cluster-network-policy): what its steps must say. */
interface TierCase {
  readonly name: string
  readonly from: string
  readonly to: string
  readonly code: 0 | 1
  /** A step (on some node) whose meaning matches. */
  readonly step: RegExp
}

const TIER_CASES: TierCase[] = [
  {
    name: 'Admin Deny: tenant-acme ingress[2] denies globex, the Deny chain of acme-db/db drops it',
    from: 'globex/shop',
    to: 'acme-db/db',
    code: 1,
    step: /^DENIED by ClusterNetworkPolicy Admin tenant-acme priority 20 ingress\[2\] other-tenants: Deny/,
  },
  {
    name: 'Admin Pass: tenant-acme ingress[0] passes acme-web on, db-from-web ingress[0] admits it',
    from: 'acme-web/web',
    to: 'acme-db/db',
    code: 0,
    step: /^PASSED by ClusterNetworkPolicy Admin tenant-acme priority 20 ingress\[0\] same-tenant: Pass.*: on to the NetworkPolicy stage$/,
  },
]

/** `palisade lab trace` of one connection in a lab; `extra` are more flags (`-o json`, `--protocol`). */
const labTrace = (id: string, from: string, to: string, port: string, ...extra: string[]) =>
  capture(['lab', 'trace', '--lab', id, '--from', from, '--to', to, '--port', port, ...extra])

/** A lab of `example` on `backend` for the enclosing describe (up before its tests, down after them). */
function labFor(example: string, backend: 'nftables' | 'iptables-nft'): { id: string } {
  const lab = { id: '' }
  beforeAll(async () => {
    const up = await capture(['lab', 'up', example, '--backend', backend])
    expect(up.code, up.err).toBe(0)
    lab.id = up.out.trim()
  }, 60_000)
  afterAll(async () => {
    if (lab.id) await capture(['lab', 'down', '--lab', lab.id])
  }, 60_000)
  return lab
}

/** Lists what a trace may leave behind in a lab's node namespaces (must be nothing). */
async function leftovers(id: string): Promise<string[]> {
  const lab = await readLab(id)
  const out: string[] = []
  for (const n of lab?.plan.nodes ?? []) {
    out.push(...(await listNftTraceTables(n.netns)).map((t) => `${n.netns}: table ${t}`))
    if (lab?.backend === 'iptables-nft')
      out.push(...(await listIptablesTraceRules(n.netns)).map((r) => `${n.netns}: ${r}`))
  }
  return out
}

describe.skipIf(skip !== undefined)(`palisade lab trace${skip ? ` (skipped: ${skip})` : ''}`, () => {
  for (const backend of ['nftables', 'iptables-nft'] as const) {
    describe(backend, () => {
      const lab = labFor('examples/seed-001-testing', backend)

      it.each(CASES)(
        '$name',
        async (c) => {
          const udp = c.port === '53' ? ['--protocol', 'UDP'] : []
          const r = await labTrace(lab.id, c.from, c.to, c.port, ...udp, '-o', 'json')
          expect(r.code, r.err).toBe(c.code)
          const j = JSON.parse(r.out) as TraceJSON
          expect(j.agree).toBe(true)
          expect(j.analyzer.allowed).toBe(c.code === 0)
          expect(j.kernel.verdict).toBe(c.code === 0 ? 'accepted' : 'dropped')
          expect(j.kernel.nodes.map((n) => n.node).sort()).toEqual(Object.keys(c.nodes).sort())
          for (const n of j.kernel.nodes) {
            const want = c.nodes[n.node]
            if (typeof want === 'string') {
              expect(n.verdict).toBe('dropped')
              const last = n.steps.at(-1)
              expect(last?.verdict).toBe('drop')
              expect(last?.role).toMatchObject({ kind: 'pod', pod: want.replace('dropped in ', '') })
              expect(last?.meaning).toMatch(/^DROPPED: .* is isolated for ingress/)
            } else {
              expect(n.verdict).toBe('accepted')
              expect(
                n.allowedBy.map(
                  (a) => `${a.policy} ${a.direction}[${a.rule}] (${a.source.split('/').at(-1)})`,
                ),
              ).toEqual(want)
            }
          }
          // the text form says the same, with the agreement line
          const text = await labTrace(lab.id, c.from, c.to, c.port, ...udp)
          expect(text.code).toBe(c.code)
          expect(text.out).toMatch(
            c.code === 0
              ? /kernel ACCEPTED, analyzer ALLOWED: kernel and analyzer AGREE\n$/
              : /kernel DROPPED, analyzer DENIED: kernel and analyzer AGREE\n$/,
          )
          expect(await leftovers(lab.id)).toEqual([])
        },
        30_000,
      )

      if (backend === 'nftables') {
        it('a node running another ruleset than the input compiles to: exit 3 and a MISMATCH line naming the step', async () => {
          const n1 = await nodeNetns(lab.id, 'node-1')
          const { execFileSync } = await import('node:child_process')
          // what a stale or tampered ruleset looks like: myapp's ingress pod chain no longer drops
          execFileSync('ip', [
            'netns',
            'exec',
            n1,
            'nft',
            'flush',
            'chain',
            'inet',
            'palisade',
            'pod_in_testing_myapp',
          ])
          const r = await labTrace(lab.id, 'default/debug', 'testing/myapp', '80')
          expect(r.code).toBe(3)
          expect(r.out).toMatch(/=> ACCEPTED on node-1\n/)
          expect(r.out).toMatch(/kernel ACCEPTED, analyzer DENIED: MISMATCH between kernel and analyzer\n$/)
          const j = JSON.parse(
            (await labTrace(lab.id, 'default/debug', 'testing/myapp', '80', '-o', 'json')).out,
          ) as TraceJSON
          expect(j.agree).toBe(false)
          expect(j.kernel.verdict).toBe('accepted')
          expect(j.analyzer.allowed).toBe(false)
          // (the tests below do not depend on that chain)
          expect(await leftovers(lab.id)).toEqual([])
        }, 30_000)

        it('on a node: waits for the next packet, gives up after --timeout with exit 2 and removes the trace table', async () => {
          const n1 = await nodeNetns(lab.id, 'node-1')
          const t0 = Date.now()
          const r = await capture(nodeTraceArgs(n1, '0.5'))
          expect(r.code).toBe(2)
          expect(r.err).toMatch(
            /no new TCP connection 10\.244\.2\.10 -> 10\.244\.1\.10:80 passed node node-1 within 0\.5 s/,
          )
          expect(Date.now() - t0).toBeLessThan(10_000)
          expect(await leftovers(lab.id)).toEqual([])
        }, 30_000)

        it.skipIf(!built)(
          'SIGINT while waiting: exit 130, the trace table is gone',
          async () => {
            const n1 = await nodeNetns(lab.id, 'node-1')
            const child = spawn(process.execPath, [bin, ...nodeTraceArgs(n1, '20')], { stdio: 'ignore' })
            const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
            const until = Date.now() + 10_000
            while (Date.now() < until && (await listNftTraceTables(n1)).length === 0)
              await new Promise((r) => setTimeout(r, 50))
            expect(await listNftTraceTables(n1)).toHaveLength(1)
            child.kill('SIGINT')
            expect(await exited).toBe(130)
            expect(await leftovers(lab.id)).toEqual([])
          },
          30_000,
        )

        it('palisade cleanup removes a trace table a killed trace left behind (SIGKILL gives no chance to clean up)', async () => {
          const state = await readLab(lab.id)
          const n2 = await nodeNetns(lab.id, 'node-2')
          const { execFileSync } = await import('node:child_process')
          const text = renderNftTraceTable(nftTraceTable('999999'), {
            family: 4,
            protocol: 'TCP',
            saddr: '10.244.2.20',
            daddr: '10.244.1.10',
            dport: 80,
          })
          execFileSync('ip', ['netns', 'exec', n2, 'nft', '-f', '-'], { input: text })
          expect(await listNftTraceTables(n2)).toEqual(['palisade_trace_999999'])
          const r = await capture([
            'cleanup',
            '--netns',
            n2,
            '--backend',
            'nftables',
            '--state-dir',
            `${state?.stateDir}/dataplane`,
          ])
          expect(r.code, r.err).toBe(0)
          expect(await leftovers(lab.id)).toEqual([])
        }, 30_000)

        it('a failure while tracing (the source pod’s probe agent is gone): exit 2, the trace tables are gone on both nodes', async () => {
          const state = await readLab(lab.id)
          const debug = state?.plan.pods.find((p) => p.key === 'default/debug')?.netns as string
          // kill only the processes of this lab's pod namespace (the probe agent we started)
          const { execFileSync } = await import('node:child_process')
          for (const pid of execFileSync('ip', ['netns', 'pids', debug])
            .toString()
            .split(/\s+/)
            .filter(Boolean))
            process.kill(Number(pid), 'SIGKILL')
          const r = await labTrace(lab.id, 'default/debug', 'testing/myapp', '80')
          expect(r.code).toBe(2)
          expect(r.err).toMatch(/palisade lab trace: .*(ENOENT|ECONNREFUSED|no answer)/)
          expect(await leftovers(lab.id)).toEqual([])
        }, 30_000)
      }
      if (backend === 'iptables-nft') {
        it('palisade cleanup removes a TRACE rule a killed trace left behind', async () => {
          const state = await readLab(lab.id)
          const n2 = await nodeNetns(lab.id, 'node-2')
          const { execFileSync } = await import('node:child_process')
          const spec = iptablesTraceRule(
            { family: 4, protocol: 'TCP', saddr: '10.244.2.20', daddr: '10.244.1.10', dport: 80 },
            '999999',
          )
          execFileSync('ip', [
            'netns',
            'exec',
            n2,
            'iptables-nft',
            '-w',
            '5',
            '-t',
            'raw',
            '-I',
            'PREROUTING',
            '1',
            ...spec,
          ])
          expect(await listIptablesTraceRules(n2)).toHaveLength(1)
          const r = await capture([
            'cleanup',
            '--netns',
            n2,
            '--backend',
            'iptables',
            '--iptables',
            'nft',
            '--state-dir',
            `${state?.stateDir}/dataplane`,
          ])
          expect(r.code, r.err).toBe(0)
          expect(await leftovers(lab.id)).toEqual([])
        }, 30_000)
      }
    })
  }
})

describe.skipIf(skip !== undefined)('palisade lab trace, IPv6', () => {
  for (const backend of ['nftables', 'iptables-nft'] as const) {
    it(`${backend}: across nodes, allowed and denied (iptables-nft: traced, or refused when xtables-monitor cannot print IPv6 rules)`, async () => {
      const up = await capture([
        'lab',
        'up',
        'examples/seed-001-testing',
        '--family',
        '6',
        '--backend',
        backend,
      ])
      expect(up.code, up.err).toBe(0)
      const id = up.out.trim()
      try {
        for (const [from, code] of [
          ['testing/nginx', 0],
          ['default/debug', 1],
        ] as const) {
          const r = await labTrace(id, from, 'testing/myapp', '80', '-o', 'json')
          if (backend === 'iptables-nft' && r.code === 2) {
            // xtables-monitor 1.8.9 exits on IPv6 rules with a protocol match ('unsupported layer 4 protocol value')
            expect(r.err).toMatch(/xtables-monitor --trace -6 exited .* trace IPv6 with the nftables backend/)
          } else {
            expect(r.code, r.err).toBe(code)
            const j = JSON.parse(r.out) as TraceJSON
            expect(j.agree).toBe(true)
            expect(j.kernel.nodes.find((n) => n.node === 'node-1')?.verdict).toBe(
              code === 0 ? 'accepted' : 'dropped',
            )
          }
          expect(await leftovers(id)).toEqual([])
        }
      } finally {
        await capture(['lab', 'down', '--lab', id])
      }
    }, 60_000)
  }
})

describe('palisade trace: refusals (no root needed)', () => {
  it('iptables-legacy cannot be traced: exit 2 with the reason', async () => {
    const r = await capture([
      'trace',
      'examples/seed-001-testing',
      '--node',
      'node-1',
      '--backend',
      'iptables-legacy',
      '--from',
      'testing/nginx',
      '--to',
      'testing/myapp',
      '--port',
      '80',
    ])
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/iptables-legacy cannot be traced: its TRACE target writes to the kernel log/)
  })

  it('a missing --node, a bad --timeout, --lab with manifests, an SCTP port: exit 2, said plainly', async () => {
    const base = [
      'trace',
      'examples/seed-001-testing',
      '--from',
      'testing/nginx',
      '--to',
      'testing/myapp',
      '--port',
      '80',
    ]
    const noNode = await capture(base)
    expect(noNode.code).toBe(2)
    expect(noNode.err).toMatch(/--node NAME is required/)
    const badTimeout = await capture([...base, '--node', 'node-1', '--timeout', 'soon'])
    expect(badTimeout.code).toBe(2)
    expect(badTimeout.err).toMatch(/--timeout must be a number of seconds/)
    const labAndPaths = await capture([...base, '--lab', 'pl0000'])
    expect(labAndPaths.code).toBe(2)
    expect(labAndPaths.err).toMatch(/--lab traces the lab's own cluster: give no manifests/)
    const sctp = await capture([...base.slice(0, -1), '80/SCTP', '--node', 'node-1'])
    expect(sctp.code).toBe(2)
    expect(sctp.err).toMatch(/only TCP and UDP packets can be traced/)
  })
})

describe.skipIf(skip !== undefined)(
  `palisade lab trace through ClusterNetworkPolicy tiers${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    for (const backend of ['nftables', 'iptables-nft'] as const) {
      describe(backend, () => {
        const lab = labFor('examples/cluster-network-policy', backend)

        it.each(TIER_CASES)(
          '$name',
          async (c) => {
            const r = await labTrace(lab.id, c.from, c.to, '5432', '-o', 'json')
            expect(r.code, r.err).toBe(c.code)
            const j = JSON.parse(r.out) as TraceJSON
            expect(j.agree).toBe(true)
            const steps = j.kernel.nodes.flatMap((n) => n.steps)
            // every chain the packet crossed in our table is one the index knows
            expect(steps.filter((s) => /^not a chain of Palisade's/.test(s.meaning))).toEqual([])
            expect(steps.map((s) => s.meaning)).toContainEqual(expect.stringMatching(c.step))
            if (c.code === 1) {
              const dropped = j.kernel.nodes.find((n) => n.verdict === 'dropped')
              const last = dropped?.steps.at(-1)
              expect(last?.verdict).toBe('drop')
              expect(last?.role).toMatchObject({ kind: 'deny', pod: 'acme-db/db' })
              expect(last?.meaning).toBe('DROPPED: denied by a ClusterNetworkPolicy (acme-db/db, ingress)')
            } else {
              expect(
                j.kernel.nodes.flatMap((n) =>
                  n.allowedBy.map((a) => `${a.policy} ${a.direction}[${a.rule}]`),
                ),
              ).toContain('acme-db/db-from-web ingress[0]')
            }
          },
          60_000,
        )
      })
    }
  },
)
