import { afterAll, describe, expect, it } from 'vitest'
import { CELL_ALLOWED, CELL_DENIED } from '../../src/engine/index.js'
import {
  destroyLab,
  formatVerifyReport,
  type LabBackend,
  type LabMode,
  listLabNamespaces,
  newLabPrefix,
  verifyCluster,
} from '../../src/lab/index.js'
import { hasCommand, labSkipReason, smallCluster } from './helpers.js'

const skip = labSkipReason()
const prefixes: string[] = []

async function fresh(): Promise<string> {
  const p = await newLabPrefix()
  prefixes.push(p)
  return p
}

afterAll(async () => {
  for (const p of prefixes) await destroyLab(p)
})

const rows: { name: string; mode: LabMode; backend: LabBackend; needs: string }[] = [
  {
    name: 'routed mode with nftables matches the engine on every probe',
    mode: 'routed',
    backend: 'nftables',
    needs: 'nft',
  },
  {
    name: 'bridge mode (br_netfilter) with nftables matches the engine on every probe',
    mode: 'bridge',
    backend: 'nftables',
    needs: 'nft',
  },
  {
    name: 'routed mode with iptables-nft + ipset matches the engine on every probe',
    mode: 'routed',
    backend: 'iptables-nft',
    needs: 'iptables-nft',
  },
  {
    name: 'routed mode with iptables-legacy + ipset matches the engine on every probe',
    mode: 'routed',
    backend: 'iptables-legacy',
    needs: 'iptables-legacy',
  },
  {
    name: 'bridge mode with iptables-nft + ipset matches the engine on every probe',
    mode: 'bridge',
    backend: 'iptables-nft',
    needs: 'iptables-nft',
  },
]

describe.skipIf(skip !== undefined)(`lab verify${skip ? ` (skipped: ${skip})` : ''}`, () => {
  for (const row of rows) {
    it.skipIf(!hasCommand(row.needs))(row.name, async () => {
      const prefix = await fresh()
      const r = await verifyCluster(smallCluster(), { mode: row.mode, backend: row.backend, prefix })
      expect(formatVerifyReport(r)).not.toContain('MISMATCH')
      expect(r.mismatches).toEqual([])
      // the policies really deny something and allow something on the kernel
      const m = r.observed.pods
      const at = (from: string, to: string) =>
        m.cells[m.ports.indexOf('80/TCP')]![m.pods.indexOf(from) * m.pods.length + m.pods.indexOf(to)]
      expect(at('prod/web', 'prod/db')).toBe(CELL_ALLOWED)
      expect(at('dev/client-b', 'prod/db')).toBe(CELL_DENIED)
      expect(at('prod/db', 'prod/api')).toBe(CELL_DENIED)
      expect(r.observed.full.pods).toContain('ip/203.0.113.10')
      expect((await listLabNamespaces()).filter((n) => n.startsWith(prefix))).toEqual([])
    })
  }

  it('bridge mode without br_netfilter lets same-node traffic bypass the rules, and the lab reports it', async () => {
    const prefix = await fresh()
    const r = await verifyCluster(smallCluster(), { mode: 'bridge', prefix, bridgeNetfilter: false })
    expect(r.warnings.join('\n')).toContain('bridge-nf-call-iptables')
    expect(r.mismatches.length).toBeGreaterThan(0)
    const nodeOf = new Map(smallCluster().pods.map((p) => [`${p.namespace}/${p.name}`, p.nodeName]))
    for (const m of r.mismatches) {
      expect(m.observed).toBe(true)
      expect(nodeOf.get(m.from)).toBe(nodeOf.get(m.to))
    }
  })

  it('a deliberately wrong expected matrix is reported as a mismatch naming the deciding policy', async () => {
    const prefix = await fresh()
    const r = await verifyCluster(smallCluster(), {
      prefix,
      expectedOverride: (e) => {
        const k = e.ports.indexOf('80/TCP')
        const i = e.pods.indexOf('dev/client-b')
        const j = e.pods.indexOf('prod/db')
        const cells = e.cells.map((c) => c.slice())
        cells[k]![i * e.pods.length + j] = CELL_ALLOWED
        return { ...e, cells }
      },
    })
    expect(r.mismatches).toHaveLength(1)
    const text = formatVerifyReport(r)
    expect(text).toContain(
      'MISMATCH dev/client-b -> prod/db 80/TCP: expected allowed, observed denied (timeout)',
    )
    expect(text).toContain('prod/default-deny (policies.yaml:1)')
  })
})
