/**
 * Every bundled example compiled for each of its nodes with both backends: golden files under
 * test/golden/compile/{nftables,iptables}/example-*, read back by people as "what does this example do on
 * node X". The nftables goldens are checked by `nft -c` in nftables-kernel-check.test.ts (it reads the whole
 * folder); the iptables ones here by `ipset restore` + `iptables-restore --test` with both variants.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileNode } from '../../src/backends/index.js'
import { nodesOf } from '../../src/compile/index.js'
import { type InputText, loadCluster } from '../../src/load/index.js'
import { createNetns, removeNetns, sh } from '../backends/iptables/netns.js'
import { expectGolden } from '../golden.js'
import { kernelSkipReason } from './netns.js'

const root = new URL('../../examples/', import.meta.url).pathname
const EXAMPLES: { name: string; paths: string[] }[] = [
  { name: 'seed-000', paths: ['seed-000-calico-defaultdeny'] },
  { name: 'seed-001', paths: ['seed-001-testing'] },
  ...[
    'case-1-nsa-internal',
    'case-2-nsa-deny',
    'case-3-nsb-to-6379',
    'case-4-egress-cidr',
    'case-5-ingress-cidr',
  ].map((c) => ({
    name: `seed-002-${c.slice(0, 6)}`,
    paths: ['seed-002-kube-router/cluster.yaml', `seed-002-kube-router/${c}`],
  })),
  { name: 'seed-003', paths: ['seed-003-kind-calico'] },
  { name: 'seed-004', paths: ['seed-004-linuxea'] },
  { name: 'cluster-network-policy', paths: ['cluster-network-policy'] },
]

function load(paths: string[]) {
  const inputs: InputText[] = []
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e))
    else if (/\.(ya?ml|json)$/.test(p))
      inputs.push({ file: p.slice(root.length - 'examples/'.length), text: readFileSync(p, 'utf8') })
  }
  for (const p of paths) walk(join(root, p))
  return loadCluster(inputs, { validate: 'strict' }).cluster
}

// Workload templates carry no node: seed 002 is compiled for a node the lab would use (node-1), with the
// representative pods given addresses and that node, so the goldens show real sets.
function withNodes(cluster: ReturnType<typeof load>) {
  if (nodesOf(cluster).length > 0) return cluster
  return {
    ...cluster,
    pods: cluster.pods.map((p, i) => ({ ...p, nodeName: 'node-1', ips: [`10.240.1.${10 + i}`] })),
  }
}

const rows = EXAMPLES.flatMap((e) => {
  const cluster = withNodes(load(e.paths))
  return nodesOf(cluster).map((node) => ({ ...e, node, cluster }))
})

describe('example rulesets (goldens)', () => {
  it('covers every example and node', () => expect(rows.length).toBeGreaterThanOrEqual(14))
  it.each(rows)('$name on $node: nftables', async ({ name, node, cluster }) => {
    const r = compileNode(cluster, node, 'nftables')
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    await expectGolden(`compile/nftables/example-${name}.${node}.nft`, r.value.files['palisade.nft'] ?? '')
  })
  it.each(rows)('$name on $node: iptables', async ({ name, node, cluster }) => {
    const r = compileNode(cluster, node, 'iptables')
    for (const [file, ext] of [
      ['ipset.restore', 'ipset'],
      ['iptables.rules', 'rules'],
      ['ip6tables.rules', 'rules6'],
    ] as const) {
      await expectGolden(`compile/iptables/example-${name}.${node}.${ext}`, r.value.files[file] ?? '')
    }
  })
})

const skip = await kernelSkipReason()
describe.skipIf(skip !== undefined)('example iptables rulesets load into the real tools', () => {
  let netns = ''
  beforeAll(async () => {
    netns = await createNetns('ex-ipt')
  }, 30_000)
  afterAll(async () => {
    if (netns) await removeNetns(netns)
  }, 30_000)
  const variants = rows.flatMap((r) => (['nft', 'legacy'] as const).map((variant) => ({ ...r, variant })))
  it.each(variants)(
    '$name on $node passes ipset restore and iptables-$variant-restore --test',
    async ({ node, cluster, variant }) => {
      const rs = compileNode(cluster, node, 'iptables').value
      await sh(netns, ['ipset', 'restore', '-exist'], rs.files['ipset.restore'])
      try {
        await sh(netns, [`iptables-${variant}-restore`, '--test', '--noflush'], rs.files['iptables.rules'])
        await sh(netns, [`ip6tables-${variant}-restore`, '--test', '--noflush'], rs.files['ip6tables.rules'])
      } finally {
        await sh(netns, ['ipset', 'destroy'])
      }
    },
  )
})
