/**
 * A health address another process holds (kube-router's 20244 beside the agent during a migration, both
 * hostNetwork) is a clear log line and a retry with backoff, never an exit: the endpoints bind once the
 * port is freed. And the default health port is one no common network plugin uses.
 */
import net from 'node:net'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { type AgentEndpoints, serveAgentEndpoints } from '../../src/agent/endpoints.js'
import { DEFAULT_HEALTH_PORT } from '../../src/agent/options.js'

interface Line {
  readonly level: number
  readonly msg: string
  readonly code?: string
  readonly addr?: string
  readonly retryInMs?: number
}

function capture(): { lines: Line[]; log: pino.Logger } {
  const lines: Line[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Line)
      done()
    },
  })
  return { lines, log: pino({ level: 'info' }, sink) }
}

const occupy = (port = 0) =>
  new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(port, '127.0.0.1', () => resolve(s))
  })
const release = (s: net.Server) => new Promise<void>((resolve) => s.close(() => resolve()))

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('health address bind failure', () => {
  let endpoints: AgentEndpoints | undefined
  afterEach(async () => {
    await endpoints?.close()
    endpoints = undefined
  })

  it('logs EADDRINUSE, retries with backoff, and binds once the port is freed', async () => {
    const blocker = await occupy()
    const port = (blocker.address() as net.AddressInfo).port
    const { lines, log } = capture()
    const faults: unknown[] = []
    endpoints = await serveAgentEndpoints({
      healthAddr: { host: '127.0.0.1', port },
      health: () => ({ healthy: true, details: ['caches synced: yes'] }),
      registry: new Registry(),
      onError: (err) => faults.push(err),
      log,
      retry: { initialMs: 20, maxMs: 80 },
    })
    // the agent starts (no throw, no exit) without its endpoint
    expect(endpoints.healthPort).toBe(0)
    await until(() => lines.filter((l) => l.code === 'EADDRINUSE').length >= 4)
    const warned = lines.filter((l) => l.code === 'EADDRINUSE')
    expect(warned[0]?.level).toBe(40) // warn
    expect(warned[0]?.addr).toBe(`127.0.0.1:${port}`)
    expect(warned[0]?.msg).toContain(`cannot listen on the health address 127.0.0.1:${port}`)
    expect(warned[0]?.msg).toContain('--health-addr')
    // backoff: each wait doubles, up to the cap
    expect(warned.slice(0, 4).map((l) => l.retryInMs)).toEqual([20, 40, 80, 80])

    await release(blocker)
    await until(() => endpoints?.healthPort === port)
    const res = await fetch(`http://127.0.0.1:${port}/healthz`)
    expect(res.status).toBe(200)
    expect(lines.some((l) => l.msg === 'serving' && l.addr === `127.0.0.1:${port}`)).toBe(true)
    expect(faults).toEqual([])
  })

  it('stops retrying once closed', async () => {
    const blocker = await occupy()
    const port = (blocker.address() as net.AddressInfo).port
    const { lines, log } = capture()
    const e = await serveAgentEndpoints({
      healthAddr: { host: '127.0.0.1', port },
      health: () => ({ healthy: true, details: [] }),
      registry: new Registry(),
      onError: () => {},
      log,
      retry: { initialMs: 20, maxMs: 20 },
    })
    await until(() => lines.some((l) => l.code === 'EADDRINUSE'))
    await e.close()
    const after = lines.length
    await release(blocker)
    await new Promise((r) => setTimeout(r, 150))
    expect(lines.length).toBe(after)
    expect(e.healthPort).toBe(0)
  })

  it('an error that is not a bind failure still fails the start', async () => {
    const { log } = capture()
    await expect(
      serveAgentEndpoints({
        healthAddr: { host: 'not-an-address.invalid', port: 0 },
        health: () => ({ healthy: true, details: [] }),
        registry: new Registry(),
        onError: () => {},
        log,
      }),
    ).rejects.toThrow()
  })

  it('the default health port is none of the common plugins', () => {
    // Calico, Cilium, kube-router, Antrea, flannel, Weave, kube-proxy, kubelet, node-exporter
    const taken = [
      9099, 9091, 5473, 4240, 4244, 9876, 9879, 9890, 9962, 9963, 9964, 9965, 20244, 20245, 10349, 10350,
      10351, 8285, 8472, 6781, 6782, 6783, 6784, 10249, 10256, 10248, 10250, 10255, 9100,
    ]
    expect(taken).not.toContain(DEFAULT_HEALTH_PORT)
  })
})
