/** The web server answers bad requests without crashing, serves only its own assets and API, and pushes reloads. */
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSide } from '../../src/cli/sides.js'
import { buildPageData } from '../../src/web/page-data.js'
import { WebServer } from '../../src/web/server.js'

const ex = (p: string) => new URL(`../../examples/${p}`, import.meta.url).pathname

/** Sends a raw request and returns status and body (bounded in time). */
function request(
  port: number,
  opts: { method?: string; path: string; host?: string },
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: { host: opts.host ?? `127.0.0.1:${port}` },
        timeout: 5000,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          body += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

describe('palisade serve: the web server', () => {
  const server = new WebServer({
    host: '127.0.0.1',
    port: 0,
    title: 'test',
    assets: { script: 'console.log("app")', css: 'body{}' },
  })
  let port = 0
  beforeAll(async () => {
    await server.start()
    port = Number(new URL(server.url).port)
    const side = await loadSide({ kind: 'paths', paths: [ex('seed-001-testing')] }, 'strict')
    server.update({
      data: buildPageData({ title: 't', current: { label: 'x', loaded: side, inputs: side.inputs } }),
    })
  })
  afterAll(() => server.stop())

  it.each([
    { name: 'the page', path: '/', status: 200, type: 'text/html' },
    { name: 'the script', path: '/app.js', status: 200, type: 'text/javascript' },
    { name: 'the styles', path: '/app.css', status: 200, type: 'text/css' },
    { name: 'the data', path: '/api/data', status: 200, type: 'application/json' },
    { name: 'an unknown path', path: '/nope', status: 404, type: 'text/plain' },
    { name: 'a path that climbs out', path: '/../../etc/passwd', status: 404, type: 'text/plain' },
    { name: 'an encoded climb', path: '/%2e%2e/%2e%2e/etc/passwd', status: 404, type: 'text/plain' },
    { name: 'a malformed escape', path: '/%zz', status: 400, type: 'text/plain' },
    { name: 'a URL too long', path: `/${'a'.repeat(5000)}`, status: 414, type: 'text/plain' },
  ])('GET $name: $status', async ({ path, status, type }) => {
    const r = await request(port, { path })
    expect(r.status).toBe(status)
    expect(r.headers['content-type']).toContain(type)
    expect(r.headers['x-content-type-options']).toBe('nosniff')
  })

  it('refuses other methods (405) and other Host headers (421, DNS rebinding)', async () => {
    expect((await request(port, { method: 'POST', path: '/' })).status).toBe(405)
    expect((await request(port, { method: 'DELETE', path: '/api/data' })).status).toBe(405)
    expect((await request(port, { path: '/api/data', host: `evil.example:${port}` })).status).toBe(421)
    expect((await request(port, { path: '/api/data', host: `localhost:${port}` })).status).toBe(200)
  })

  it('the data is the page data of the input', async () => {
    const j = JSON.parse((await request(port, { path: '/api/data' })).body)
    expect(j.current.cluster.pods.map((p: { name: string }) => p.name)).toEqual([
      'debug',
      'coredns',
      'myapp',
      'nginx',
    ])
    expect(j.current.excerpts['testing/nginx-policy'].start).toBe(46)
  })

  it('a garbage request line gets 400 and the server goes on', async () => {
    const net = await import('node:net')
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('NOT HTTP AT ALL\r\n\r\n'))
      let got = ''
      s.on('data', (d) => {
        got += d.toString()
      })
      s.on('close', () => resolve(got))
      s.setTimeout(3000, () => s.destroy())
    })
    expect(answer).toMatch(/^HTTP\/1\.1 400/)
    expect((await request(port, { path: '/' })).status).toBe(200)
  })

  it('pushes a reload event to open pages on update', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port, path: '/api/events', headers: { host: `127.0.0.1:${port}` } },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => {
            text += c
            if (text.includes('event: hello')) server.update({ error: 'x' })
            if (text.includes('event: reload')) {
              req.destroy()
              resolve(text)
            }
          })
        },
      )
      req.on('error', (e) => (String(e).includes('socket hang up') ? undefined : reject(e)))
      setTimeout(() => reject(new Error('no reload event')), 5000)
    })
    expect(got).toMatch(/event: reload\ndata: \d+/)
    // The last good data is kept when a reload fails.
    expect((await request(port, { path: '/api/data' })).status).toBe(200)
    expect(JSON.parse((await request(port, { path: '/api/status' })).body).error).toBe('x')
  })
})
