/**
 * Real packets through the nftables ruleset: one node netns in routed mode (Calico style: pod /32
 * routes, proxy_arp) with three pod netns running TCP servers; rulesets compiled from fixtures are
 * applied and TCP probes between the pods must match the policies. Also checks anti-spoofing and that a
 * re-applied changed ruleset takes effect. Every namespace is removed afterwards.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyRuleset, compileNode, execCommand } from '../../../src/backends/index.js'
import type { ClusterState } from '../../../src/model/index.js'
import { CASES, policy, rule, sel, tcp } from '../../compile/fixtures.js'
import { createNetns, deleteNetns, kernelSkipReason } from '../../compile/netns.js'

const skip = await kernelSkipReason()

const PODS = [
  { key: 'prod/db', name: 'db', ip: '10.240.1.11', iface: 'v-db' },
  { key: 'prod/api', name: 'api', ip: '10.240.1.12', iface: 'v-api' },
  { key: 'dev/client-a', name: 'client-a', ip: '10.240.1.13', iface: 'v-client-a' },
] as const
type PodName = (typeof PODS)[number]['name']
const SPOOFED = '10.240.1.99'

const base = CASES.find((c) => c.name === 'allow-from-pod-selector')?.cluster as ClusterState
/** prod/db admits prod frontends on TCP 80; dev clients may only talk to db:80 and api:81. */
const cluster: ClusterState = {
  ...base,
  policies: [
    ...base.policies,
    policy('dev', 'client-egress', sel({ app: 'client' }), {
      types: ['Egress'],
      egress: [
        rule([{ ipBlock: { cidr: '10.240.1.11/32', except: [] } }], [tcp(80)]),
        rule([{ namespaceSelector: sel({ env: 'prod' }), podSelector: sel({ app: 'api' }) }], [tcp(81)]),
      ],
    }),
  ],
}
const podInterfaces = Object.fromEntries(PODS.map((p) => [p.key, p.iface]))

const SERVER = `
const net = require('node:net')
for (const port of [80, 81]) net.createServer((s) => { s.on('error', () => {}); s.end(process.argv[1] + ' tcp/' + port + '\\n') }).listen(port, '0.0.0.0')
`
const CLIENT = `
const net = require('node:net')
const [host, port, local] = process.argv.slice(1)
const s = net.connect({ host, port: Number(port), timeout: 1500, ...(local ? { localAddress: local } : {}) })
let data = ''
s.on('data', (d) => { data += d })
s.on('end', () => { process.stdout.write(data); process.exit(0) })
s.on('timeout', () => { process.stdout.write('timeout'); process.exit(0) })
s.on('error', (e) => { process.stdout.write('error ' + e.code); process.exit(0) })
`

const rows: { name: string; from: PodName; to: PodName; port: number; allowed: boolean; spoof?: boolean }[] =
  [
    {
      name: 'a prod frontend reaches db on the allowed port',
      from: 'api',
      to: 'db',
      port: 80,
      allowed: true,
    },
    {
      name: 'a prod frontend does not reach db on another port',
      from: 'api',
      to: 'db',
      port: 81,
      allowed: false,
    },
    {
      name: 'a frontend of another namespace does not match a podSelector-only peer',
      from: 'client-a',
      to: 'db',
      port: 80,
      allowed: false,
    },
    {
      name: 'a pod isolated in neither direction is reachable',
      from: 'db',
      to: 'api',
      port: 80,
      allowed: true,
    },
    {
      name: 'an egress-isolated pod reaches what its egress allows',
      from: 'client-a',
      to: 'api',
      port: 81,
      allowed: true,
    },
    {
      name: 'an egress-isolated pod is stopped elsewhere',
      from: 'client-a',
      to: 'api',
      port: 80,
      allowed: false,
    },
    {
      name: 'a packet from a pod interface with another source address is dropped (anti-spoofing)',
      from: 'client-a',
      to: 'api',
      port: 81,
      allowed: false,
      spoof: true,
    },
  ]

describe.skipIf(skip !== undefined)(
  `packets through the nftables ruleset${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const ns: Record<string, string> = {}
    let node = ''
    let stateDir = ''
    const sh = async (netns: string | undefined, argv: string[]): Promise<string> => {
      const r = await execCommand(argv[0] as string, argv.slice(1), {
        ...(netns ? { netns } : {}),
        timeoutMs: 10_000,
      })
      if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`)
      return r.stdout
    }
    const probe = (from: PodName, to: PodName, port: number, local?: string) => {
      const target = PODS.find((p) => p.name === to)?.ip as string
      return sh(ns[from], [process.execPath, '-e', CLIENT, target, String(port), ...(local ? [local] : [])])
    }

    beforeAll(async () => {
      stateDir = await mkdtemp(join(tmpdir(), 'pz-nft-traffic-'))
      node = await createNetns('tn')
      await sh(node, ['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
      // the node needs an address of its own: it is the sender of its ARP requests towards the pods
      await sh(node, ['ip', 'link', 'set', 'lo', 'up'])
      await sh(node, ['ip', 'addr', 'add', '10.240.0.1/32', 'dev', 'lo'])
      for (const p of PODS) {
        const pns = await createNetns('tp')
        ns[p.name] = pns
        await sh(undefined, [
          'ip',
          '-n',
          node,
          'link',
          'add',
          p.iface,
          'type',
          'veth',
          'peer',
          'name',
          'eth0',
          'netns',
          pns,
        ])
        await sh(node, [
          'sysctl',
          '-qw',
          `net.ipv4.conf.${p.iface}.proxy_arp=1`,
          `net.ipv4.neigh.${p.iface}.proxy_delay=0`,
        ])
        await sh(node, ['ip', 'link', 'set', p.iface, 'up'])
        await sh(node, ['ip', 'route', 'add', `${p.ip}/32`, 'dev', p.iface, 'scope', 'link'])
        await sh(pns, ['ip', 'link', 'set', 'lo', 'up'])
        await sh(pns, ['ip', 'addr', 'add', `${p.ip}/32`, 'dev', 'eth0'])
        await sh(pns, ['ip', 'link', 'set', 'eth0', 'up'])
        await sh(pns, ['ip', 'route', 'add', 'default', 'dev', 'eth0', 'scope', 'link'])
        spawn('ip', ['netns', 'exec', pns, process.execPath, '-e', SERVER, p.name], {
          stdio: 'ignore',
          detached: true,
        }).unref()
      }
      // client-a also owns a second address, routed back to it by the node: only anti-spoofing stops it
      await sh(ns['client-a'], ['ip', 'addr', 'add', `${SPOOFED}/32`, 'dev', 'eth0'])
      await sh(node, ['ip', 'route', 'add', `${SPOOFED}/32`, 'dev', 'v-client-a', 'scope', 'link'])
      for (const p of PODS) {
        for (let i = 0; i < 50; i++) {
          const r = await sh(ns[p.name], [process.execPath, '-e', CLIENT, '127.0.0.1', '80'])
          if (r.startsWith(p.name)) break
          await new Promise((res) => setTimeout(res, 100))
        }
      }
      // without rules, the spoofed address gets through: the anti-spoofing row below is meaningful
      expect(await probe('client-a', 'api', 81, SPOOFED)).toBe('api tcp/81\n')
      const rs = compileNode(cluster, 'node-1', 'nftables', { podInterfaces }).value
      expect((await applyRuleset(rs, { netns: node, stateDir })).changed).toBe(true)
    }, 60_000)

    afterAll(async () => {
      for (const p of Object.values(ns)) await deleteNetns(p)
      if (node) await deleteNetns(node)
      if (stateDir) await rm(stateDir, { recursive: true, force: true })
    }, 60_000)

    it.each(rows)('$name', async ({ from, to, port, allowed, spoof }) => {
      const out = await probe(from, to, port, spoof ? SPOOFED : undefined)
      expect(out).toBe(allowed ? `${to} tcp/${port}\n` : 'timeout')
    })

    it('counts the drops of an isolated pod in its own chain', async () => {
      const out = await sh(node, ['nft', 'list', 'chain', 'inet', 'palisade', 'pod_in_prod_db'])
      expect(out).toMatch(/counter packets [1-9]\d* bytes \d+ drop comment "ingress isolated: prod\/db"/)
    })

    it('a changed ruleset takes effect at once (default deny now stops the prod frontend)', async () => {
      const deny = CASES.find((c) => c.name === 'default-deny')?.cluster as ClusterState
      const rs = compileNode(deny, 'node-1', 'nftables', { podInterfaces }).value
      expect((await applyRuleset(rs, { netns: node, stateDir })).changed).toBe(true)
      expect(await probe('api', 'db', 80)).toBe('timeout')
      expect(await probe('client-a', 'db', 81)).toBe('timeout')
      expect(await probe('db', 'client-a', 80)).toBe('client-a tcp/80\n')
    })
  },
)
