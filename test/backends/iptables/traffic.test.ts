/**
 * Real packets through the iptables backend: one node netns in routed mode (Calico style: pod /32 routes,
 * proxy_arp) with three pod netns, the proof-of-concept policies of node1 applied, TCP probes between the
 * pods. Both iptables-nft and iptables-legacy. Every namespace is removed afterwards.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyIptables, cleanupIptables, renderIptables } from '../../../src/backends/iptables/index.js'
import type { NodeIR } from '../../../src/compile/ir.js'
import { pocNode1 } from './fixtures.js'
import { createNetns, removeNetns, sh } from './netns.js'

const pods = [
  { name: 'db', ip: '10.240.1.11' },
  { name: 'api', ip: '10.240.1.12' },
  { name: 'client-a', ip: '10.240.1.13' },
] as const
type PodName = (typeof pods)[number]['name']

/** node1 of the POC with anti-spoofing on: the host-side interface of each pod is v-<index in pods>. */
const ir: NodeIR = {
  ...pocNode1,
  antiSpoofing: true,
  pods: pocNode1.pods.map((p) => ({ ...p, interface: `v-${pods.findIndex((q) => q.name === p.name)}` })),
}

const SERVER = `
const net = require('node:net')
for (const port of [80, 81]) net.createServer((s) => { s.end(process.argv[1] + ' tcp/' + port + '\\n'); s.on('error', () => {}) }).listen(port, '0.0.0.0')
`
const CLIENT = `
const net = require('node:net')
const s = net.connect({ host: process.argv[1], port: Number(process.argv[2]), timeout: 700 })
let data = ''
s.on('data', (d) => { data += d })
s.on('end', () => { process.stdout.write(data); process.exit(0) })
s.on('timeout', () => { process.stdout.write('timeout'); process.exit(0) })
s.on('error', (e) => { process.stdout.write('error ' + e.code); process.exit(0) })
`

const rows: { name: string; from: PodName; to: PodName; port: number; allowed: boolean }[] = [
  {
    name: 'a frontend pod reaches db on the allowed port',
    from: 'client-a',
    to: 'db',
    port: 80,
    allowed: true,
  },
  {
    name: 'a frontend pod does not reach db on another port',
    from: 'client-a',
    to: 'db',
    port: 81,
    allowed: false,
  },
  {
    name: 'api (frontend, not egress-isolated) reaches db on 80',
    from: 'api',
    to: 'db',
    port: 80,
    allowed: true,
  },
  {
    name: 'default-deny ingress keeps everyone away from api',
    from: 'db',
    to: 'api',
    port: 80,
    allowed: false,
  },
  {
    name: 'an egress-allowed connection still meets the ingress deny of the destination',
    from: 'client-a',
    to: 'api',
    port: 80,
    allowed: false,
  },
  {
    name: 'a pod isolated in neither direction is reachable from a non-isolated pod',
    from: 'db',
    to: 'client-a',
    port: 81,
    allowed: true,
  },
]

describe.each(['nft', 'legacy'] as const)('packets through iptables-%s rules', (variant) => {
  const ns: Record<string, string> = {}
  let node = ''
  let stateDir = ''
  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'pzi-ipt-traffic-'))
    node = await createNetns(`tn-${variant}`)
    await sh(node, ['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
    for (const [i, p] of pods.entries()) {
      const pns = await createNetns(`tp-${variant}`)
      ns[p.name] = pns
      const veth = `v-${i}`
      await sh(undefined, [
        'ip',
        '-n',
        node,
        'link',
        'add',
        veth,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        pns,
      ])
      await sh(node, ['sysctl', '-qw', `net.ipv4.conf.${veth}.proxy_arp=1`])
      // proxy ARP answers after a random delay of up to 0.8 s by default: longer than a probe waits
      await sh(node, ['sysctl', '-qw', `net.ipv4.neigh.${veth}.proxy_delay=0`])
      await sh(node, ['ip', 'link', 'set', veth, 'up'])
      await sh(node, ['ip', 'route', 'add', `${p.ip}/32`, 'dev', veth, 'scope', 'link'])
      await sh(pns, ['ip', 'addr', 'add', `${p.ip}/32`, 'dev', 'eth0'])
      await sh(pns, ['ip', 'link', 'set', 'eth0', 'up'])
      await sh(pns, ['ip', 'route', 'add', 'default', 'dev', 'eth0', 'scope', 'link'])
      const child = spawn('ip', ['netns', 'exec', pns, process.execPath, '-e', SERVER, p.name], {
        stdio: 'ignore',
        detached: true,
      })
      child.unref()
    }
    // wait until every server answers from its own netns
    for (const p of pods) {
      for (let i = 0; i < 50; i++) {
        const r = await sh(ns[p.name], [process.execPath, '-e', CLIENT, '127.0.0.1', '80'])
        if (r.startsWith(p.name)) break
        await new Promise((res) => setTimeout(res, 100))
      }
    }
    await applyIptables(renderIptables(ir), { netns: node, iptables: variant, stateDir })
  }, 60_000)
  afterAll(async () => {
    for (const p of Object.values(ns)) await removeNetns(p)
    if (node) await removeNetns(node)
    if (stateDir) await rm(stateDir, { recursive: true, force: true })
  }, 60_000)

  it.each(rows)('$name', async ({ from, to, port, allowed }) => {
    const target = pods.find((p) => p.name === to)?.ip as string
    const out = await sh(ns[from], [process.execPath, '-e', CLIENT, target, String(port)])
    expect(out).toBe(allowed ? `${to} tcp/${port}\n` : 'timeout')
  })

  it("a packet from a pod interface with another pod's source address is dropped by anti-spoofing", async () => {
    const counter = async () => {
      const saved = await sh(node, [`iptables-${variant}-save`, '-c', '-t', 'filter'])
      const line = saved.split('\n').find((l) => l.includes('anti-spoofing')) ?? ''
      return Number(/^\[(\d+):/.exec(line)?.[1] ?? Number.NaN)
    }
    // strict reverse-path filtering would drop the packet before FORWARD: turn it off to reach our rule
    await sh(node, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.v-2.rp_filter=0'])
    await sh(ns['client-a'] as string, ['ip', 'addr', 'add', '10.240.1.12/32', 'dev', 'eth0'])
    const before = await counter()
    const spoofed = `
const s = require('node:net').connect({ host: '10.240.1.11', port: 80, localAddress: '10.240.1.12', timeout: 500 })
s.on('timeout', () => process.exit(0)); s.on('error', () => process.exit(0)); s.on('data', () => process.exit(0))
`
    await sh(ns['client-a'] as string, [process.execPath, '-e', spoofed])
    await sh(ns['client-a'] as string, ['ip', 'addr', 'del', '10.240.1.12/32', 'dev', 'eth0'])
    expect(before).toBe(0)
    expect(await counter()).toBeGreaterThan(0)
    // the pod's own address still works
    expect(await sh(ns['client-a'] as string, [process.execPath, '-e', CLIENT, '10.240.1.11', '80'])).toBe(
      'db tcp/80\n',
    )
  })

  it('after cleanup every probe is allowed again', async () => {
    await cleanupIptables({ netns: node, iptables: variant, stateDir })
    const out = await sh(ns['client-a'], [process.execPath, '-e', CLIENT, '10.240.1.12', '80'])
    expect(out).toBe('api tcp/80\n')
  })
})
