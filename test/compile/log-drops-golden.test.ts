/**
 * --log-drops rendered by both backends (goldens): a log statement before each pod chain's drop, sharing
 * one per-node limit, and nothing else changed. Without the option the rulesets are byte for byte the
 * ones of the other goldens (checked here too). The nftables goldens are loaded by `nft -c` in
 * nftables-kernel-check.test.ts with every other golden.
 */
import { describe, expect, it } from 'vitest'
import { compileNode } from '../../src/backends/index.js'
import { type CompileOptions, DROP_LOG_PREFIX, nodesOf } from '../../src/compile/index.js'
import type { ClusterNetworkPolicy, ClusterState } from '../../src/model/index.js'
import { expectRulesetGolden } from '../backends/iptables/golden.js'
import { ns, pod, sel } from '../fixtures.js'
import { expectGolden } from '../golden.js'
import { CASES } from './fixtures.js'

const dual = CASES.find((c) => c.name === 'dual-stack')
if (!dual) throw new Error('fixture dual-stack missing')
const logDrops: CompileOptions['logDrops'] = { group: 9745, rate: 50, burst: 100 }
const nodes = nodesOf(dual.cluster)

/** db: an Admin Deny of web and a Baseline Deny of everyone else; web: nothing. */
const deny = (
  name: string,
  tier: 'Admin' | 'Baseline',
  from: Record<string, string>,
): ClusterNetworkPolicy => ({
  name,
  apiVersion: 'policy.networking.k8s.io/v1beta1',
  tier,
  priority: 10,
  subject: { kind: 'pods', namespaceSelector: sel(), podSelector: sel({ app: 'db' }) },
  ingress: [{ action: 'Deny', peers: [{ kind: 'pods', namespaceSelector: sel(), podSelector: sel(from) }] }],
  egress: [],
})
const tiered: ClusterState = {
  namespaces: [ns('shop')],
  pods: [pod('shop/web', { app: 'web' }, '10.0.1.5'), pod('shop/db', { app: 'db' }, '10.0.1.7')],
  policies: [],
  clusterPolicies: [deny('deny-web', 'Admin', { app: 'web' }), deny('baseline-deny', 'Baseline', {})],
}

describe('--log-drops rendering', () => {
  it.each(nodes)('nftables, dual-stack on %s', async (node) => {
    const r = compileNode(dual.cluster, node, 'nftables', { logDrops })
    const text = r.value.files['palisade.nft'] ?? ''
    await expectGolden(`compile/nftables/log-drops.${node}.nft`, text)
    // every pod chain's drop is preceded by its log statement, naming that chain
    const chains = [...text.matchAll(/^\tchain (\S+) \{$/gm)].map((m) => m[1] as string)
    const drops = text.match(/counter drop comment "(ingress|egress) isolated/g) ?? []
    const logs = [...text.matchAll(/log prefix "([^"]+)" group 9745 snaplen 128/g)].map((m) => m[1])
    expect(logs.length).toBe(drops.length)
    for (const l of logs) expect(chains).toContain(l?.slice(DROP_LOG_PREFIX.length))
    expect(text).toContain('limit drop_log {\n\t\trate 50/second burst 100 packets\n\t}')
  })

  it.each(nodes)('iptables, dual-stack on %s', async (node) => {
    const r = compileNode(dual.cluster, node, 'iptables', { logDrops })
    await expectRulesetGolden('log-drops', r.value)
    for (const f of ['iptables.rules', 'ip6tables.rules']) {
      const text = r.value.files[f] ?? ''
      const drops = text.match(/isolated: [^"]*" -j DROP/g) ?? []
      const logs = [...text.matchAll(/--nflog-prefix "pal-drop:(PAL-[^"]+)"/g)].map((m) => m[1])
      expect(logs.length).toBe(drops.length)
      for (const c of logs) expect(text).toContain(`:${c} - [0:0]`)
    }
  })

  it.each(['nftables', 'iptables'] as const)(
    '%s: a ClusterNetworkPolicy Deny logs under its shared chain, then is counted in the pod Deny chain',
    async (b) => {
      const r = compileNode(tiered, 'node-1', b, { logDrops })
      if (b === 'nftables') {
        const text = r.value.files['palisade.nft'] ?? ''
        await expectGolden('compile/nftables/log-drops-cnp.node-1.nft', text)
        // each Deny match: a log rule naming the shared chain, then the jump to the deny stage
        const denies = text.match(/jump (ingress|egress)_deny comment/g) ?? []
        const logs = [...text.matchAll(/log prefix "pal-drop:(adm_|bl_)([^"]+)"/g)]
        expect(denies.length).toBe(2)
        expect(logs.map((m) => `${m[1]}${m[2]}`)).toEqual(['bl_baseline-deny_in', 'adm_deny-web_in'])
        expect(text).toContain('counter drop comment "ingress denied by a ClusterNetworkPolicy: shop/db"')
      } else {
        await expectRulesetGolden('log-drops-cnp', r.value)
        const text = r.value.files['iptables.rules'] ?? ''
        expect(text).toContain('--nflog-prefix "pal-drop:PAL-adm_deny-web_in"')
        expect(text).toContain('--nflog-prefix "pal-drop:PAL-bl_baseline-deny_in"')
        expect(text).toMatch(
          /-A PAL-deny_in_shop_db -m comment --comment "ingress denied by a ClusterNetworkPolicy: shop\/db" -j DROP/,
        )
      }
    },
  )

  it('iptables: a new rate or burst is a new hashlimit (the kernel keeps the first parameters of a name)', () => {
    const name = (rate: number, burst: number) =>
      /--hashlimit-name (\S+)/.exec(
        compileNode(dual.cluster, 'node-1', 'iptables', { logDrops: { group: 1, rate, burst } }).value.files[
          'iptables.rules'
        ] ?? '',
      )?.[1]
    const names = [name(50, 100), name(10, 100), name(50, 20)]
    expect(new Set(names).size).toBe(3)
    for (const n of names) expect(n?.length).toBeLessThanOrEqual(15)
    expect(name(50, 100)).toBe(names[0])
  })

  it.each(CASES.flatMap((c) => nodesOf(c.cluster).map((node) => ({ c, node }))))(
    'without the option nothing changes: $c.name on $node',
    ({ c, node }) => {
      const opts = c.podInterfaces ? { podInterfaces: c.podInterfaces } : {}
      for (const b of ['nftables', 'iptables'] as const) {
        const files = compileNode(c.cluster, node, b, opts).value.files
        for (const text of Object.values(files)) {
          expect(text).not.toContain(DROP_LOG_PREFIX)
          expect(text).not.toContain('drop_log')
          expect(text).not.toContain('hashlimit')
        }
      }
    },
  )
})
