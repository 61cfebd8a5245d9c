/**
 * The probe server every lab namespace runs (`ip netns exec NS node dist/src/lab/probe-server.js CONFIG`,
 * started by server.ts). A program of its own: nothing imports it but its types.
 *
 * Serve: every identity (a pod, a node, or one outside address) answers each TCP port with
 * "<identity> tcp/<port>\n" and then echoes bytes (for streams), and each UDP port with
 * "<identity> udp/<port> <payload>". Control: a Unix socket in the state folder (the filesystem is not
 * namespaced, so the controller reaches every server without any network traffic) takes one JSON request
 * per line: probe (bounded pool, timeout, one UDP resend), stream, conntry, bulk, connrate, ping, stop,
 * forward (TCP host:port in this namespace -> a Unix socket) and http (one GET from inside the
 * namespace). The socket appears only once every listener is bound.
 */
import dgram from 'node:dgram'
import fs from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { splice } from './splice.js'

/** One name the server answers as, and the address its listeners bind. */
export interface ProbeIdentity {
  readonly label: string
  readonly bind: string
}

/** The CONFIG file the lab writes for each namespace. */
export interface ProbeServerConfig {
  /** Path of the control socket. */
  readonly ctl: string
  readonly identities: readonly ProbeIdentity[]
  readonly tcp: readonly number[]
  readonly udp: readonly number[]
}

/** One connection attempt of a probe request. */
export interface ProbeTarget {
  readonly id: number | string
  readonly proto: 'tcp' | 'udp'
  readonly ip: string
  readonly port: number
  /** The identity that must answer. */
  readonly expect: string
  /** Source address to bind (a node's own address, an outside address). */
  readonly local?: string
}

export interface ProbeResult {
  readonly id: ProbeTarget['id']
  readonly ok: boolean
  readonly detail: string
  readonly ms: number
}

export interface StreamRequest {
  readonly op: 'stream'
  readonly tag?: string
  readonly proto: 'tcp' | 'udp'
  /** TCP: the server sends `seq N` every intervalMs and this side only reads (default: this side sends, the server echoes). */
  readonly push?: boolean
  readonly ip: string
  readonly port: number
  readonly intervalMs: number
  readonly durationMs: number
}

export interface ConntryRequest {
  readonly op: 'conntry'
  readonly tag?: string
  readonly ip: string
  readonly port: number
  readonly everyMs: number
  readonly durationMs: number
  readonly timeoutMs: number
}

export interface BulkRequest {
  readonly op: 'bulk'
  readonly ip: string
  readonly port: number
  readonly durationMs: number
}

export interface ConnrateRequest {
  readonly op: 'connrate'
  readonly ip: string
  readonly port: number
  readonly durationMs: number
  readonly concurrency?: number
}

export interface ForwardRequest {
  readonly op: 'forward'
  readonly host: string
  readonly port: number
  /** The Unix socket connections are piped to. */
  readonly to: string
}

export interface HttpRequest {
  readonly op: 'http'
  readonly url: string
  readonly timeoutMs?: number
}

export interface ProbeRequest {
  readonly op: 'probe'
  readonly probes: readonly ProbeTarget[]
  readonly timeoutMs?: number
  readonly concurrency?: number
}

/** Every request the control socket takes. */
export type ControlRequest =
  | { readonly op: 'ping' }
  | { readonly op: 'stop'; readonly tag?: string }
  | ProbeRequest
  | StreamRequest
  | ConntryRequest
  | BulkRequest
  | ConnrateRequest
  | ForwardRequest
  | HttpRequest

const errorCode = (e: unknown): string => (e as NodeJS.ErrnoException).code || String(e)

/** Tags of streams the controller asked to end early ({op: 'stop', tag}). */
const stopped = new Set<string | undefined>()

/** Binds every TCP and UDP listener of every identity; returns how many are bound. */
export async function listenAll(cfg: ProbeServerConfig): Promise<number> {
  let listening = 0
  const jobs: Promise<void>[] = []
  for (const id of cfg.identities) {
    for (const port of cfg.tcp) {
      jobs.push(
        new Promise((resolve, reject) => {
          const srv = net.createServer((s) => {
            s.on('error', () => {})
            s.write(`${id.label} tcp/${port}\n`)
            // `push MS` as the first line: this side sends `seq N` lines every MS on its own (a server
            // that talks first, the reply direction of a flow); anything else is echoed.
            s.once('data', (first: Buffer) => {
              const m = /^push (\d+)\n/.exec(first.toString('utf8'))
              if (!m) {
                s.write(first)
                s.pipe(s)
                return
              }
              let n = 0
              const timer = setInterval(() => {
                if (!s.destroyed) s.write(`seq ${n++}\n`)
              }, Number(m[1]))
              s.on('close', () => clearInterval(timer))
              s.resume()
            })
          })
          srv.once('error', reject)
          srv.listen({ port, host: id.bind, backlog: 4096 }, () => {
            listening++
            resolve()
          })
        }),
      )
    }
    for (const port of cfg.udp) {
      jobs.push(
        new Promise((resolve, reject) => {
          const u = dgram.createSocket(id.bind.includes(':') ? 'udp6' : 'udp4')
          u.on('message', (msg, r) => u.send(`${id.label} udp/${port} ${msg}`, r.port, r.address))
          u.once('error', reject)
          u.bind({ port, address: id.bind }, () => {
            listening++
            resolve()
          })
        }),
      )
    }
  }
  await Promise.all(jobs)
  return listening
}

/** One TCP probe: connected, and the first line names the expected identity and port. */
function tcpProbe(t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const s = net.connect({ host: t.ip, port: t.port, ...(t.local ? { localAddress: t.local } : {}) })
    let buf = ''
    let finished = false
    const done = (ok: boolean, detail: string) => {
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
        done(line === `${t.expect} tcp/${t.port}`, line)
      }
    })
    s.on('error', (e) => done(false, errorCode(e)))
    s.on('close', () => done(false, `closed: ${buf}`))
  })
}

/** One UDP probe: a nonce sent (and resent once halfway), echoed by the expected identity. */
function udpProbe(t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const v6 = t.ip.includes(':')
    const s = dgram.createSocket(v6 ? 'udp6' : 'udp4')
    const nonce = Math.random().toString(36).slice(2)
    let finished = false
    const send = () => {
      if (!finished) s.send(nonce, t.port, t.ip, () => {})
    }
    const done = (ok: boolean, detail: string) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      clearTimeout(retry)
      try {
        s.close()
      } catch {}
      resolve({ id: t.id, ok, detail, ms: Date.now() - t0 })
    }
    const timer = setTimeout(() => done(false, 'timeout'), timeoutMs)
    const retry = setTimeout(send, Math.floor(timeoutMs / 2))
    s.on('message', (m) => {
      const line = String(m)
      const want = `${t.expect} udp/${t.port} ${nonce}`
      if (line.endsWith(` ${nonce}`) || line === want) done(line === want, line)
    })
    s.on('error', (e) => done(false, errorCode(e)))
    s.bind({ port: 0, address: t.local || (v6 ? '::' : '0.0.0.0') }, send)
  })
}

/** Runs the probes with a bounded pool, writing each result as it comes. */
async function probeAll(req: ProbeRequest, write: (r: ProbeResult) => void): Promise<void> {
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

/** A sender and a stopper for one stream, or why it could not start. */
type StreamEnds =
  | { readonly send: (n: number) => void; readonly stop: () => void; readonly closed: () => string | null }
  | { readonly failed: string }

/** Opens a TCP stream whose echoed `seq N` lines are handed to onReply (the greeting skipped). */
async function openTcpStream(
  ip: string,
  port: number,
  onReply: (n: number) => void,
  pushMs?: number,
): Promise<StreamEnds> {
  const s = net.connect({ host: ip, port })
  try {
    await new Promise((res, rej) => {
      s.once('connect', res)
      s.once('error', rej)
      setTimeout(() => rej(new Error('connect timeout')), 2000)
    })
  } catch (e) {
    s.destroy()
    return { failed: `connect failed: ${(e as NodeJS.ErrnoException).code || (e as Error).message}` }
  }
  let closed: string | null = null
  let sent = 0
  let buf = ''
  let greeted = false
  s.on('data', (d) => {
    buf += d
    const lines = buf.split('\n')
    buf = lines.pop() as string
    for (const l of lines) {
      if (!greeted) {
        greeted = true
        continue
      }
      const m = /^seq (\d+)$/.exec(l)
      if (m) onReply(Number(m[1]))
    }
  })
  s.on('close', () => {
    closed = closed || `closed after ${sent} sent`
  })
  s.on('error', (e) => {
    closed = `error ${(e as NodeJS.ErrnoException).code}`
  })
  if (pushMs !== undefined) s.write(`push ${pushMs}\n`)
  return {
    send: (n) => {
      sent = n + 1
      if (!s.destroyed && pushMs === undefined) s.write(`seq ${n}\n`)
    },
    stop: () => s.destroy(),
    closed: () => closed,
  }
}

/** Opens a UDP stream whose echoed `seq N` datagrams are handed to onReply. */
function openUdpStream(ip: string, port: number, onReply: (n: number) => void): StreamEnds {
  const s = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4')
  s.on('message', (m) => {
    const x = /seq (\d+)$/.exec(String(m))
    if (x) onReply(Number(x[1]))
  })
  s.on('error', () => {})
  return {
    send: (n) => s.send(`seq ${n}`, port, ip, () => {}),
    stop: () => {
      try {
        s.close()
      } catch {}
    },
    closed: () => null,
  }
}

/** Calls tick every everyMs until durationMs have passed or the controller stopped the tag. */
function repeat(
  everyMs: number,
  durationMs: number,
  tag: string | undefined,
  tick: () => void,
): Promise<void> {
  const t0 = Date.now()
  return new Promise<void>((res) => {
    const timer = setInterval(() => {
      if (Date.now() - t0 >= durationMs || stopped.has(tag)) {
        clearInterval(timer)
        res()
        return
      }
      tick()
    }, everyMs)
  })
}

/** Sends `seq N` every intervalMs for durationMs (or until stopped) and counts the echoes and the longest gap. */
async function stream(req: StreamRequest) {
  const { proto, ip, port, intervalMs, durationMs } = req
  let sent = 0
  let received = 0
  let lastRecv = Date.now()
  let lastReplyAt: number | null = null
  let maxGapMs = 0
  const seen = new Set<number>()
  const onReply = (n: number) => {
    if (seen.has(n)) return
    seen.add(n)
    received++
    const now = Date.now()
    maxGapMs = Math.max(maxGapMs, now - lastRecv)
    lastRecv = now
    lastReplyAt = now
  }
  const ends =
    proto === 'tcp'
      ? await openTcpStream(ip, port, onReply, req.push === true ? intervalMs : undefined)
      : openUdpStream(ip, port, onReply)
  const startedAt = Date.now()
  if ('failed' in ends)
    return {
      proto,
      target: `${ip}:${port}`,
      sent: 0,
      received: 0,
      lost: 0,
      maxGapMs: 0,
      startedAt,
      lastReplyAt,
      closed: ends.failed,
    }
  await repeat(intervalMs, durationMs, req.tag, () => ends.send(sent++))
  await new Promise((r) => setTimeout(r, 1000))
  ends.stop()
  const closed = ends.closed()
  return {
    proto,
    target: `${ip}:${port}`,
    sent,
    received,
    lost: sent - received,
    maxGapMs,
    /** Wall clock (ms since the epoch) of the stream's start and of the last new `seq` received. */
    startedAt,
    lastReplyAt,
    closed: proto === 'tcp' && closed && !closed.startsWith('closed after') ? closed : null,
  }
}

/** Tries a new TCP connection every everyMs for durationMs (or until stopped); counts the ones that connect. */
async function conntry(req: ConntryRequest) {
  const { ip, port, everyMs, durationMs, timeoutMs } = req
  let tries = 0
  let succeeded = 0
  const pending: Promise<void>[] = []
  await repeat(everyMs, durationMs, req.tag, () => {
    tries++
    pending.push(
      new Promise((done) => {
        const s = net.connect({ host: ip, port })
        const t = setTimeout(() => {
          s.destroy()
          done()
        }, timeoutMs)
        s.on('connect', () => {
          succeeded++
          clearTimeout(t)
          s.destroy()
          done()
        })
        s.on('error', () => {
          clearTimeout(t)
          done()
        })
      }),
    )
  })
  await Promise.all(pending)
  return { target: `${ip}:${port}`, tries, succeeded }
}

/** Writes as fast as it can for durationMs over one connection; counts the bytes echoed back. */
async function bulk(req: BulkRequest) {
  const { ip, port, durationMs } = req
  const s = net.connect({ host: ip, port })
  await new Promise((res, rej) => {
    s.once('connect', res)
    s.once('error', rej)
  })
  const chunk = Buffer.alloc(64 * 1024, 120)
  let received = 0
  s.on('data', (d) => {
    received += d.length
  })
  s.on('error', () => {})
  const t0 = Date.now()
  await new Promise<void>((res) => {
    const pump = () => {
      while (Date.now() - t0 < durationMs) {
        if (!s.write(chunk)) {
          s.once('drain', pump)
          return
        }
      }
      res()
    }
    pump()
  })
  const ms = Date.now() - t0
  s.destroy()
  return { bytes: received, ms }
}

/** Opens connections back to back (concurrency at a time) for durationMs; counts the greeted ones. */
async function connrate(req: ConnrateRequest) {
  const { ip, port, durationMs, concurrency } = req
  let connections = 0
  let failed = 0
  const t0 = Date.now()
  const one = () =>
    new Promise<void>((res) => {
      const s = net.connect({ host: ip, port })
      const t = setTimeout(() => {
        failed++
        s.destroy()
        res()
      }, 2000)
      s.once('data', () => {
        connections++
        clearTimeout(t)
        s.destroy()
        res()
      })
      s.once('error', () => {
        failed++
        clearTimeout(t)
        res()
      })
    })
  await Promise.all(
    Array.from({ length: concurrency || 8 }, async () => {
      while (Date.now() - t0 < durationMs) await one()
    }),
  )
  return { connections, failed, ms: Date.now() - t0 }
}

/**
 * Forwards TCP connections made to host:port inside this namespace to a Unix socket (the lab's way to
 * give node agents an API server without any traffic leaving lab namespaces or loopback).
 */
const forwards = new Map<string, net.Server>()
function forward(req: ForwardRequest): Promise<{ already: true } | { listening: string }> {
  const key = `${req.host}:${req.port}`
  if (forwards.has(key)) return Promise.resolve({ already: true })
  return new Promise((resolve, reject) => {
    const srv = net.createServer((c) => splice(c, net.connect(req.to)))
    srv.once('error', reject)
    srv.listen({ port: req.port, host: req.host }, () => {
      forwards.set(key, srv)
      resolve({ listening: key })
    })
  })
}

/** One HTTP GET from inside this namespace (node agents' /healthz and /metrics on the node's loopback). */
async function httpGet(req: HttpRequest): Promise<{ status: number; body: string }> {
  try {
    const r = await fetch(req.url, { signal: AbortSignal.timeout(req.timeoutMs || 2000) })
    return { status: r.status, body: await r.text() }
  } catch (e) {
    const err = e as { cause?: { code?: string }; name?: string } | undefined
    return { status: 0, body: String(err?.cause?.code || err?.name || e) }
  }
}

/** Answers one control request, writing its reply lines. */
async function handle(req: ControlRequest, listening: number, write: (o: unknown) => void): Promise<void> {
  switch (req.op) {
    case 'ping':
      return write({ ready: true, listening, pid: process.pid })
    case 'stop':
      stopped.add(req.tag)
      return write({ done: true })
    case 'probe':
      await probeAll(req, write)
      return write({ done: true })
    case 'stream':
      return write({ done: true, result: await stream(req) })
    case 'conntry':
      return write({ done: true, result: await conntry(req) })
    case 'bulk':
      return write({ done: true, result: await bulk(req) })
    case 'connrate':
      return write({ done: true, result: await connrate(req) })
    case 'forward':
      return write({ done: true, result: await forward(req) })
    case 'http':
      return write({ done: true, result: await httpGet(req) })
    default:
      return write({ error: `unknown op ${(req as { op: unknown }).op}` })
  }
}

/** Serves the control socket: one JSON request per line, replies as JSON lines. */
function serveControl(path: string, listening: number): net.Server {
  try {
    fs.unlinkSync(path)
  } catch {}
  const ctl = net.createServer((c) => {
    let buf = ''
    c.on('error', () => {})
    const write = (o: unknown) => {
      if (!c.destroyed) c.write(`${JSON.stringify(o)}\n`)
    }
    c.on('data', async (d) => {
      buf += d
      let nl = buf.indexOf('\n')
      while (nl >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        nl = buf.indexOf('\n')
        let req: ControlRequest
        try {
          req = JSON.parse(line) as ControlRequest
        } catch {
          write({ error: 'bad request' })
          continue
        }
        try {
          await handle(req, listening, write)
        } catch (e) {
          write({ error: String((e as Error | undefined)?.stack || e) })
        }
        nl = buf.indexOf('\n')
      }
    })
  })
  ctl.listen(path)
  return ctl
}

/** The program: reads CONFIG, binds every listener, then opens the control socket. */
export async function main(configPath: string): Promise<void> {
  const cfg = JSON.parse(fs.readFileSync(configPath, 'utf8')) as ProbeServerConfig
  const listening = await listenAll(cfg)
  serveControl(cfg.ctl, listening)
  process.on('SIGTERM', () => process.exit(0))
}

/** True when this file is the program node was started with (not imported for its types or tests). */
function isEntry(): boolean {
  const argv1 = process.argv[1]
  if (argv1 === undefined) return false
  try {
    return fs.realpathSync(argv1) === fs.realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntry()) await main(process.argv[2] as string)
