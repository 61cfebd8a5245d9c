/**
 * The agent's /healthz and /metrics server against hostile and broken clients (issue 14, items 1 and 8):
 * one bad request must never take the agent down, and the server holds bounded resources.
 */
import net from 'node:net'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { type RunningServer, requestPath, serveEndpoints } from '../../src/agent/http-server.js'
import { waitFor } from './fixtures.js'

const servers: RunningServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

async function serve(o: Parameters<typeof serveEndpoints>[2] = {}) {
  const registry = new Registry()
  const s = await serveEndpoints(
    { host: '127.0.0.1', port: 0 },
    { health: () => ({ healthy: true, details: ['caches synced: yes'] }), metrics: registry },
    o,
  )
  servers.push(s)
  return s
}

/** Sends raw bytes, returns what came back before the server closed the connection (or 3 s passed). */
function raw(port: number, bytes: string | Buffer, o: { end?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write(bytes)
      if (o.end) sock.end()
    })
    const timer = setTimeout(() => {
      sock.destroy()
      resolve(Buffer.concat(chunks).toString('latin1'))
    }, 3000)
    sock.on('data', (c: Buffer) => chunks.push(c))
    sock.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('latin1'))
    })
    sock.on('error', (e) => (chunks.length > 0 ? undefined : reject(e)))
  })
}

const status = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`

describe('request targets', () => {
  it.each([
    ['/healthz', '/healthz'],
    ['/healthz?verbose=1&x=%zz', '/healthz'],
    ['/metrics', '/metrics'],
    ['http://10.0.0.1:20244/healthz', '/healthz'],
    ['HTTP://host', '/'],
    ['//[', undefined],
    ['*', undefined],
    ['healthz', undefined],
    ['/a b', undefined],
    ['/\u0000', undefined],
    ['/é', undefined],
    ['http://[::1', undefined],
    ['', undefined],
  ])('%j -> %j', (target, path) => {
    expect(requestPath(target)).toBe(path)
  })
})

describe('the health and metrics server', () => {
  it.each([
    { name: 'a target the URL parser rejects (//[) is a 400', send: get('//['), want: 400 },
    { name: 'an asterisk target is a 400', send: get('*'), want: 400 },
    { name: 'a relative target is a 400', send: get('healthz'), want: 400 },
    {
      name: 'absolute-form works, as HTTP/1.1 requires of a server',
      send: get('http://x/healthz'),
      want: 200,
    },
    {
      name: 'POST is refused with 405',
      send: 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
      want: 405,
    },
    {
      name: 'a GET with a body is a 400',
      send: 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
      want: 400,
    },
    {
      name: 'a chunked GET is a 400',
      send: 'GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n',
      want: 400,
    },
    {
      name: 'headers over the limit are a 431',
      send: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      want: 431,
    },
    { name: 'binary garbage is a 400', send: Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]), want: 400 },
    { name: 'an unknown path is a 404', send: get('/nope'), want: 404 },
    {
      name: 'HEAD /healthz answers without a body',
      send: 'HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      want: 200,
    },
  ])('$name, and the server keeps answering', async ({ send, want }) => {
    const s = await serve()
    const answer = await raw(s.port, send)
    expect(status(answer)).toBe(want)
    if (want === 405) expect(answer).toMatch(/\r\nallow: GET, HEAD\r\n/i)
    const health = await raw(s.port, get('/healthz'))
    expect(status(health)).toBe(200)
    expect(health).toContain('caches synced: yes')
  })

  it('a handler that throws answers 500 and the server lives on', async () => {
    let calls = 0
    const s = await serveEndpoints(
      { host: '127.0.0.1', port: 0 },
      {
        health: () => {
          calls++
          if (calls === 1) throw new Error('boom')
          return { healthy: true, details: [] }
        },
      },
    )
    servers.push(s)
    expect(status(await raw(s.port, get('/healthz')))).toBe(500)
    expect(status(await raw(s.port, get('/healthz')))).toBe(200)
  })

  it('a client that never finishes its headers is cut off', async () => {
    const s = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 300, checkIntervalMs: 100 })
    const t0 = Date.now()
    const answer = await raw(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n')
    // closed by the server (408 or a plain close), well before the 3 s the helper would wait
    expect(Date.now() - t0).toBeLessThan(2900)
    expect([0, 408]).toContain(status(answer))
  })

  it('holds at most maxConnections connections; the next one is closed at once', async () => {
    const s = await serve({ maxConnections: 2 })
    const open = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<net.Socket>((resolve) => {
            const c = net.connect(s.port, '127.0.0.1', () => resolve(c))
          }),
      ),
    )
    await waitFor(() => s.connections() === 2, 2000, 'two connections held')
    expect(await raw(s.port, get('/healthz'))).toBe('')
    for (const c of open) c.destroy()
    await waitFor(() => s.connections() === 0, 2000, 'connections closed')
    expect(status(await raw(s.port, get('/healthz')))).toBe(200)
  })
})
