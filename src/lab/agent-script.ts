/**
 * The program every lab namespace runs (`ip netns exec NS node agent.mjs CONFIG`), kept as text so it
 * works from the TypeScript sources and from dist/ alike: the lab writes it into its state folder.
 *
 * Serve: every identity (a pod, a node, or one outside address) answers each TCP port with
 * "<identity> tcp/<port>\n" and then echoes bytes (for streams), and each UDP port with
 * "<identity> udp/<port> <payload>". Control: a Unix socket in the state folder (the filesystem is not
 * namespaced, so the controller reaches every agent without any network traffic) takes one JSON request
 * per line: probe (bounded pool, timeout, one UDP resend), stream, conntry, bulk, connrate, ping, forward
 * (TCP host:port in this namespace -> a Unix socket) and http (one GET from inside the namespace). The socket appears only
 * once every listener is bound.
 */
export const AGENT_SCRIPT = String.raw`
import net from 'node:net'
import dgram from 'node:dgram'
import fs from 'node:fs'

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
let listening = 0
// tags of streams the controller asked to end early ({op: 'stop', tag})
const stopped = new Set()

async function listenAll() {
  const jobs = []
  for (const id of cfg.identities) {
    for (const port of cfg.tcp) {
      jobs.push(new Promise((resolve, reject) => {
        const srv = net.createServer((s) => {
          s.on('error', () => {})
          s.write(id.label + ' tcp/' + port + '\n')
          s.pipe(s)
        })
        srv.once('error', reject)
        srv.listen({ port, host: id.bind, backlog: 4096 }, () => { listening++; resolve() })
      }))
    }
    for (const port of cfg.udp) {
      jobs.push(new Promise((resolve, reject) => {
        const u = dgram.createSocket(id.bind.includes(':') ? 'udp6' : 'udp4')
        u.on('message', (msg, r) => u.send(id.label + ' udp/' + port + ' ' + msg, r.port, r.address))
        u.once('error', reject)
        u.bind({ port, address: id.bind }, () => { listening++; resolve() })
      }))
    }
  }
  await Promise.all(jobs)
}

function tcpProbe(t, timeoutMs) {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const opts = { host: t.ip, port: t.port }
    if (t.local) opts.localAddress = t.local
    const s = net.connect(opts)
    let buf = ''
    let finished = false
    const done = (ok, detail) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      s.destroy()
      resolve({ id: t.id, ok, detail, ms: Date.now() - t0 })
    }
    const timer = setTimeout(() => done(false, 'timeout'), timeoutMs)
    s.on('data', (d) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl >= 0) {
        const line = buf.slice(0, nl)
        done(line === t.expect + ' tcp/' + t.port, line)
      }
    })
    s.on('error', (e) => done(false, e.code || String(e)))
    s.on('close', () => done(false, 'closed: ' + buf))
  })
}

function udpProbe(t, timeoutMs) {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const v6 = t.ip.includes(':')
    const s = dgram.createSocket(v6 ? 'udp6' : 'udp4')
    const nonce = Math.random().toString(36).slice(2)
    let finished = false
    const send = () => { if (!finished) s.send(nonce, t.port, t.ip, () => {}) }
    const done = (ok, detail) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      clearTimeout(retry)
      try { s.close() } catch {}
      resolve({ id: t.id, ok, detail, ms: Date.now() - t0 })
    }
    const timer = setTimeout(() => done(false, 'timeout'), timeoutMs)
    const retry = setTimeout(send, Math.floor(timeoutMs / 2))
    s.on('message', (m) => {
      const line = String(m)
      const want = t.expect + ' udp/' + t.port + ' ' + nonce
      if (line.endsWith(' ' + nonce) || line === want) done(line === want, line)
    })
    s.on('error', (e) => done(false, e.code || String(e)))
    s.bind({ port: 0, address: t.local || (v6 ? '::' : '0.0.0.0') }, send)
  })
}

async function probeAll(req, write) {
  const queue = req.probes.slice()
  const limit = Math.max(1, req.concurrency || 128)
  const timeoutMs = req.timeoutMs || 800
  const worker = async () => {
    for (;;) {
      const t = queue.shift()
      if (!t) return
      const r = t.proto === 'udp' ? await udpProbe(t, timeoutMs) : await tcpProbe(t, timeoutMs)
      write(r)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker))
}

async function stream(req) {
  const { proto, ip, port, intervalMs, durationMs } = req
  let sent = 0, received = 0, lastRecv = Date.now(), maxGapMs = 0, closed = null
  const seen = new Set()
  const onReply = (n) => {
    if (seen.has(n)) return
    seen.add(n); received++
    const now = Date.now(); maxGapMs = Math.max(maxGapMs, now - lastRecv); lastRecv = now
  }
  let send, stop
  if (proto === 'tcp') {
    const s = net.connect({ host: ip, port })
    try {
      await new Promise((res, rej) => { s.once('connect', res); s.once('error', rej); setTimeout(() => rej(new Error('connect timeout')), 2000) })
    } catch (e) {
      s.destroy()
      return { proto, target: ip + ':' + port, sent: 0, received: 0, lost: 0, maxGapMs: 0, closed: 'connect failed: ' + (e.code || e.message) }
    }
    let buf = '', greeted = false
    s.on('data', (d) => {
      buf += d; const lines = buf.split('\n'); buf = lines.pop()
      for (const l of lines) { if (!greeted) { greeted = true; continue } const m = /^seq (\d+)$/.exec(l); if (m) onReply(Number(m[1])) }
    })
    s.on('close', () => { closed = closed || 'closed after ' + sent + ' sent' })
    s.on('error', (e) => { closed = 'error ' + e.code })
    send = (n) => { if (!s.destroyed) s.write('seq ' + n + '\n') }
    stop = () => s.destroy()
  } else {
    const s = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4')
    s.on('message', (m) => { const x = /seq (\d+)$/.exec(String(m)); if (x) onReply(Number(x[1])) })
    s.on('error', () => {})
    send = (n) => s.send('seq ' + n, port, ip, () => {})
    stop = () => { try { s.close() } catch {} }
  }
  const t0 = Date.now()
  await new Promise((res) => {
    const timer = setInterval(() => {
      if (Date.now() - t0 >= durationMs || stopped.has(req.tag)) { clearInterval(timer); res(); return }
      send(sent++)
    }, intervalMs)
  })
  await new Promise((r) => setTimeout(r, 1000))
  stop()
  return { proto, target: ip + ':' + port, sent, received, lost: sent - received, maxGapMs, closed: proto === 'tcp' && closed && !closed.startsWith('closed after') ? closed : null }
}

async function conntry(req) {
  const { ip, port, everyMs, durationMs, timeoutMs } = req
  let tries = 0, succeeded = 0
  const pending = []
  const t0 = Date.now()
  await new Promise((res) => {
    const timer = setInterval(() => {
      if (Date.now() - t0 >= durationMs || stopped.has(req.tag)) { clearInterval(timer); res(); return }
      tries++
      pending.push(new Promise((done) => {
        const s = net.connect({ host: ip, port })
        const t = setTimeout(() => { s.destroy(); done() }, timeoutMs)
        s.on('connect', () => { succeeded++; clearTimeout(t); s.destroy(); done() })
        s.on('error', () => { clearTimeout(t); done() })
      }))
    }, everyMs)
  })
  await Promise.all(pending)
  return { target: ip + ':' + port, tries, succeeded }
}

async function bulk(req) {
  const { ip, port, durationMs } = req
  const s = net.connect({ host: ip, port })
  await new Promise((res, rej) => { s.once('connect', res); s.once('error', rej) })
  const chunk = Buffer.alloc(64 * 1024, 120)
  let received = 0
  s.on('data', (d) => { received += d.length })
  s.on('error', () => {})
  const t0 = Date.now()
  await new Promise((res) => {
    const pump = () => {
      while (Date.now() - t0 < durationMs) { if (!s.write(chunk)) { s.once('drain', pump); return } }
      res()
    }
    pump()
  })
  const ms = Date.now() - t0
  s.destroy()
  return { bytes: received, ms }
}

async function connrate(req) {
  const { ip, port, durationMs, concurrency } = req
  let connections = 0, failed = 0
  const t0 = Date.now()
  const one = () => new Promise((res) => {
    const s = net.connect({ host: ip, port })
    const t = setTimeout(() => { failed++; s.destroy(); res() }, 2000)
    s.once('data', () => { connections++; clearTimeout(t); s.destroy(); res() })
    s.once('error', () => { failed++; clearTimeout(t); res() })
  })
  await Promise.all(Array.from({ length: concurrency || 8 }, async () => { while (Date.now() - t0 < durationMs) await one() }))
  return { connections, failed, ms: Date.now() - t0 }
}

// Forwards TCP connections made to host:port inside this namespace to a Unix socket (the lab's way to
// give node agents an API server without any traffic leaving lab namespaces or loopback).
const forwards = new Map()
function forward(req) {
  const key = req.host + ':' + req.port
  if (forwards.has(key)) return Promise.resolve({ already: true })
  return new Promise((resolve, reject) => {
    const srv = net.createServer((c) => {
      const u = net.connect(req.to)
      c.on('error', () => u.destroy())
      u.on('error', () => c.destroy())
      c.on('close', () => u.destroy())
      u.on('close', () => c.destroy())
      c.pipe(u)
      u.pipe(c)
    })
    srv.once('error', reject)
    srv.listen({ port: req.port, host: req.host }, () => { forwards.set(key, srv); resolve({ listening: key }) })
  })
}

// One HTTP GET from inside this namespace (node agents' /healthz and /metrics on the node's loopback).
async function httpGet(req) {
  try {
    const r = await fetch(req.url, { signal: AbortSignal.timeout(req.timeoutMs || 2000) })
    return { status: r.status, body: await r.text() }
  } catch (e) {
    return { status: 0, body: String(e && e.cause && e.cause.code || e && e.name || e) }
  }
}

await listenAll()
try { fs.unlinkSync(cfg.ctl) } catch {}
const ctl = net.createServer((c) => {
  let buf = ''
  c.on('error', () => {})
  const write = (o) => { if (!c.destroyed) c.write(JSON.stringify(o) + '\n') }
  c.on('data', async (d) => {
    buf += d
    let nl
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      let req
      try { req = JSON.parse(line) } catch { write({ error: 'bad request' }); continue }
      try {
        if (req.op === 'ping') write({ ready: true, listening, pid: process.pid })
        else if (req.op === 'stop') { stopped.add(req.tag); write({ done: true }) }
        else if (req.op === 'probe') { await probeAll(req, write); write({ done: true }) }
        else if (req.op === 'stream') write({ done: true, result: await stream(req) })
        else if (req.op === 'conntry') write({ done: true, result: await conntry(req) })
        else if (req.op === 'bulk') write({ done: true, result: await bulk(req) })
        else if (req.op === 'connrate') write({ done: true, result: await connrate(req) })
        else if (req.op === 'forward') write({ done: true, result: await forward(req) })
        else if (req.op === 'http') write({ done: true, result: await httpGet(req) })
        else write({ error: 'unknown op ' + req.op })
      } catch (e) { write({ error: String(e && e.stack || e) }) }
    }
  })
})
ctl.listen(cfg.ctl)
process.on('SIGTERM', () => process.exit(0))
`
