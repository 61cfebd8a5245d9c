/**
 * The lab's probe server (src/lab/probe-server.ts) as the lab starts it: the compiled file run by node,
 * here on loopback (no namespace, no root): it binds its listeners, then answers its control socket.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { probeServerPath, request } from '../../src/lab/server.js'

const dir = mkdtempSync(join(tmpdir(), 'palisade-probe-server-'))
const ctl = join(dir, 'ctl.sock')
const base = 20000 + (process.pid % 20000)
const cfg = { ctl, identities: [{ label: 'ns/pod', bind: '127.0.0.1' }], tcp: [base], udp: [base + 1] }
writeFileSync(join(dir, 'cfg.json'), JSON.stringify(cfg))
const child = spawn(process.execPath, [probeServerPath(), join(dir, 'cfg.json')], { stdio: 'ignore' })

afterAll(() => {
  child.kill('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
})

async function ready(): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const r = await request(ctl, { op: 'ping' }, 500).catch(() => undefined)
    if (r) return r[0] as Record<string, unknown>
    await new Promise((res) => setTimeout(res, 50))
  }
  throw new Error('the probe server did not answer')
}

describe('the probe server', () => {
  it('answers ping once every listener is bound', async () => {
    expect(await ready()).toMatchObject({ ready: true, listening: 2, pid: child.pid })
  })

  it('probes TCP and UDP, naming who answered, and reports a refused port', async () => {
    await ready()
    const replies = await request(
      ctl,
      {
        op: 'probe',
        probes: [
          { id: 1, proto: 'tcp', ip: '127.0.0.1', port: base, expect: 'ns/pod' },
          { id: 2, proto: 'udp', ip: '127.0.0.1', port: base + 1, expect: 'ns/pod' },
          { id: 3, proto: 'tcp', ip: '127.0.0.1', port: base, expect: 'ns/other' },
          { id: 4, proto: 'tcp', ip: '127.0.0.1', port: base + 2, expect: 'ns/pod' },
        ],
        timeoutMs: 1000,
      },
      5000,
    )
    const byId = Object.fromEntries(replies.filter((r) => 'id' in r).map((r) => [r.id, r]))
    expect(byId[1]).toMatchObject({ ok: true, detail: `ns/pod tcp/${base}` })
    expect(byId[2]).toMatchObject({ ok: true })
    expect(String(byId[2]?.detail)).toMatch(new RegExp(`^ns/pod udp/${base + 1} `))
    expect(byId[3]).toMatchObject({ ok: false, detail: `ns/pod tcp/${base}` })
    expect(byId[4]).toMatchObject({ ok: false, detail: 'ECONNREFUSED' })
    expect(replies.at(-1)).toEqual({ done: true })
  })

  it('refuses an unknown operation in words', async () => {
    await ready()
    const r = request(ctl, { op: 'nope' } as unknown as Parameters<typeof request>[1], 2000)
    await expect(r).rejects.toThrow(/: unknown op nope$/)
  })
})
