/**
 * --log-drops in the agent, without a kernel: the pcap stream of NFLOG records (built here byte by byte,
 * both byte orders, cut anywhere), the 5-tuple of IPv4 and IPv6 packets, the attribution of a record to
 * its pod chain, the de-duplication of a retransmitted first packet, the bounded queue, and a reader
 * that dies (restarted with backoff, counted, never fatal).
 */
import { Writable } from 'node:stream'
import { type Logger, pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { DropIndex } from '../../src/agent/drop-counters.js'
import { dropEventOf, nflogReaderCommand, podsByAddressOf, startDropLog } from '../../src/agent/drop-log.js'
import { createMetrics } from '../../src/agent/metrics.js'
import { LINKTYPE_NFLOG, NflogPcapParser, type NflogRecord, parsePacketTuple } from '../../src/agent/nflog.js'
import { DROP_LOG_PREFIX } from '../../src/compile/index.js'
import { pod } from '../fixtures.js'

/** An IPv4 TCP or UDP header (no options) followed by the first 4 bytes of the L4 header. */
function ipv4(src: number[], dst: number[], proto: number, sport: number, dport: number, frag = 0): Buffer {
  const b = Buffer.alloc(40)
  b[0] = 0x45
  b.writeUInt16BE(40, 2)
  b.writeUInt16BE(frag, 6)
  b[8] = 64
  b[9] = proto
  Buffer.from(src).copy(b, 12)
  Buffer.from(dst).copy(b, 16)
  b.writeUInt16BE(sport, 20)
  b.writeUInt16BE(dport, 22)
  return b
}

/** An IPv6 header with a destination-options extension header, then TCP ports. */
function ipv6(src: string, dst: string, sport: number, dport: number): Buffer {
  const b = Buffer.alloc(40 + 8 + 20)
  b[0] = 0x60
  b[6] = 60 // destination options
  const addr = (text: string, at: number) => {
    const [head, tail] = text.split('::') as [string, string?]
    const h = head ? head.split(':') : []
    const t = tail ? tail.split(':') : []
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
    groups.forEach((g, i) => {
      b.writeUInt16BE(Number.parseInt(g, 16), at + 2 * i)
    })
  }
  addr(src, 8)
  addr(dst, 24)
  b[40] = 6 // next: TCP
  b[41] = 0 // 8 bytes
  b.writeUInt16BE(sport, 48)
  b.writeUInt16BE(dport, 50)
  return b
}

/** A pcap stream (global header + records) of NFLOG packets, in the given byte order. */
function pcap(
  records: readonly { prefix: string; family: number; payload: Buffer; sec?: number }[],
  little = true,
): Buffer {
  const u32 = (v: number) => {
    const b = Buffer.alloc(4)
    little ? b.writeUInt32LE(v) : b.writeUInt32BE(v)
    return b
  }
  const u16 = (v: number) => {
    const b = Buffer.alloc(2)
    little ? b.writeUInt16LE(v) : b.writeUInt16BE(v)
    return b
  }
  const tlv = (type: number, value: Buffer) => {
    const len = 4 + value.length
    return Buffer.concat([u16(len), u16(type), value, Buffer.alloc((4 - (len % 4)) % 4)])
  }
  const parts: Buffer[] = [u32(0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(65535), u32(LINKTYPE_NFLOG)]
  for (const r of records) {
    const body = Buffer.concat([
      Buffer.from([r.family, 0, 0x26, 0x21]),
      tlv(1, Buffer.from([0x08, 0x00, 2, 0])), // packet header
      tlv(10, Buffer.from(`${r.prefix}\0`, 'latin1')),
      tlv(8, Buffer.alloc(12)), // hardware address
      tlv(9, r.payload),
    ])
    parts.push(u32(r.sec ?? 1_700_000_000), u32(250_000), u32(body.length), u32(body.length), body)
  }
  return Buffer.concat(parts)
}

const v4 = (sport: number, dport: number) => ipv4([10, 0, 1, 5], [10, 0, 2, 7], 6, sport, dport)

describe('NFLOG records from a pcap stream', () => {
  const stream = [
    { prefix: 'pal-drop:pod_in_a_b', family: 2, payload: v4(40000, 80) },
    { prefix: 'pal-drop:pod_eg_a_b', family: 10, payload: ipv6('fd00::5', 'fd00:1::7', 41000, 443) },
  ]

  it.each([true, false])('reads prefix, family, time and payload (little-endian writer: %s)', (little) => {
    const p = new NflogPcapParser()
    const rs = p.push(pcap(stream, little))
    expect(p.error).toBeUndefined()
    expect(rs.map((r) => [r.prefix, r.family, r.timeMs])).toEqual([
      ['pal-drop:pod_in_a_b', 4, 1_700_000_000_250],
      ['pal-drop:pod_eg_a_b', 6, 1_700_000_000_250],
    ])
    expect(parsePacketTuple(rs[0]?.payload as Uint8Array)).toEqual({
      family: 4,
      protocol: 'tcp',
      src: '10.0.1.5',
      dst: '10.0.2.7',
      srcPort: 40000,
      dstPort: 80,
    })
    expect(parsePacketTuple(rs[1]?.payload as Uint8Array)).toEqual({
      family: 6,
      protocol: 'tcp',
      src: 'fd00::5',
      dst: 'fd00:1::7',
      srcPort: 41000,
      dstPort: 443,
    })
  })

  it('gives the same records whatever the chunks the pipe delivers', () => {
    const bytes = pcap(stream)
    for (const size of [1, 3, 16, 25, 100]) {
      const p = new NflogPcapParser()
      const got: NflogRecord[] = []
      for (let at = 0; at < bytes.length; at += size) got.push(...p.push(bytes.subarray(at, at + size)))
      expect(got.map((r) => r.prefix)).toEqual(stream.map((s) => s.prefix))
    }
  })

  it('stops with an error on a stream that is not NFLOG pcap', () => {
    const p = new NflogPcapParser()
    expect(
      p.push(Buffer.from('listening on nflog:5, link-type NFLOG, snapshot length 65535 bytes\n')),
    ).toEqual([])
    expect(p.error).toMatch(/not a pcap stream/)
    const q = new NflogPcapParser()
    const eth = pcap([])
    eth.writeUInt32LE(1, 20)
    q.push(eth)
    expect(q.error).toMatch(/link type 1/)
  })

  it('has no ports for ICMP, for a non-first fragment, or a payload cut short', () => {
    expect(parsePacketTuple(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 1, 0x0800, 0))).toEqual({
      family: 4,
      protocol: 'icmp',
      src: '10.0.0.1',
      dst: '10.0.0.2',
    })
    expect(parsePacketTuple(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17, 1, 2, 0x0010))?.srcPort).toBeUndefined()
    expect(
      parsePacketTuple(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17, 1, 2).subarray(0, 22))?.dstPort,
    ).toBeUndefined()
    expect(parsePacketTuple(Buffer.from([0x45, 0]))).toBeUndefined()
  })
})

const index: DropIndex = new Map([
  [
    'pod_in_shop_db',
    {
      namespace: 'shop',
      pod: 'db',
      direction: 'ingress' as const,
      policies: ['shop/db-ingress', 'shop/deny-all'],
    },
  ],
])
const cluster = {
  namespaces: [],
  policies: [],
  pods: [
    pod('shop/web', {}, ['10.0.1.5'], { nodeName: 'n1' }),
    pod('shop/db', {}, ['10.0.2.7'], { nodeName: 'n2' }),
  ],
}
const record = (
  sport: number,
  prefix = `${DROP_LOG_PREFIX}pod_in_shop_db`,
  sec = 1_700_000_000,
): NflogRecord => ({
  timeMs: sec * 1000,
  prefix,
  family: 4,
  payload: v4(sport, 5432),
})

describe('drop events', () => {
  it('name the pod chain, its policies and the remote pod (or only its address)', () => {
    const e = dropEventOf(record(40000), index, podsByAddressOf(cluster))
    expect(e).toEqual({
      packetTime: '2023-11-14T22:13:20.000Z',
      protocol: 'tcp',
      src: { ip: '10.0.1.5', port: 40000, namespace: 'shop', pod: 'web' },
      dst: { ip: '10.0.2.7', port: 5432, namespace: 'shop', pod: 'db' },
      direction: 'ingress',
      namespace: 'shop',
      pod: 'db',
      policies: ['shop/db-ingress', 'shop/deny-all'],
    })
    const outside = dropEventOf(record(40000), index, new Map())
    expect(outside?.src).toEqual({ ip: '10.0.1.5', port: 40000 })
    expect(dropEventOf(record(1, 'other:pod_in_shop_db'), index, new Map())).toBeUndefined()
    expect(dropEventOf(record(1, `${DROP_LOG_PREFIX}pod_in_gone`), index, new Map())).toBeUndefined()
  })

  it('a ClusterNetworkPolicy Deny names the policy and its tier, and the pod by the packet address', () => {
    const shared = new Map([
      ...index,
      [
        'adm_deny-web_in',
        {
          kind: 'cluster-policy' as const,
          direction: 'ingress' as const,
          tier: 'Admin' as const,
          policy: 'deny-web',
        },
      ],
    ])
    const e = dropEventOf(
      record(40000, `${DROP_LOG_PREFIX}adm_deny-web_in`),
      shared,
      podsByAddressOf(cluster),
    )
    expect(e).toEqual({
      packetTime: '2023-11-14T22:13:20.000Z',
      protocol: 'tcp',
      src: { ip: '10.0.1.5', port: 40000, namespace: 'shop', pod: 'web' },
      dst: { ip: '10.0.2.7', port: 5432, namespace: 'shop', pod: 'db' },
      direction: 'ingress',
      namespace: 'shop',
      pod: 'db',
      policies: [],
      clusterPolicy: { name: 'deny-web', tier: 'Admin' },
    })
    // the destination is no pod the agent knows: not attributed
    expect(dropEventOf(record(1, `${DROP_LOG_PREFIX}adm_deny-web_in`), shared, new Map())).toBeUndefined()
  })
})

/** A logger whose JSON lines are collected. */
function collectingLogger(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = []
  const dest = new Writable({
    write(chunk, _enc, cb) {
      out.push(...String(chunk).split('\n').filter(Boolean))
      cb()
    },
  })
  return { log: pino({ level: 'info' }, dest) as Logger, lines: () => out.map((l) => JSON.parse(l)) }
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms))
const value = async (m: ReturnType<typeof createMetrics>, name: string, label?: string) => {
  const text = await m.registry.getSingleMetricAsString(name)
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && (label === undefined || l.includes(label)))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
}

describe('the reader command', () => {
  it('dies with the agent, keeps its credentials, and reads whole NFLOG batches', () => {
    expect(nflogReaderCommand(9745, 'node-1')).toEqual([
      'setpriv',
      '--pdeathsig',
      'KILL',
      'ip',
      'netns',
      'exec',
      'node-1',
      'tcpdump',
      '-i',
      'nflog:9745',
      '-U',
      '-w',
      '-',
      '-s',
      '65535',
      '--immediate-mode',
      '-Z',
      'root',
    ])
  })
})

describe('the drop logger', () => {
  it('logs one line per connection attempt: a retransmitted first packet is a duplicate, a new source port is not', async () => {
    const { log, lines } = collectingLogger()
    const metrics = createMetrics()
    const d = startDropLog(
      { group: 1, command: ['sleep', '30'] },
      { log, metrics, index: () => index, cluster: () => cluster },
    )
    try {
      d.handle([record(40000), record(40000, undefined, 1_700_000_001), record(40001)])
      await tick()
      const drops = lines().filter((l) => l.msg === 'connection dropped')
      expect(drops.map((l) => (l.drop as { src: { port: number } }).src.port)).toEqual([40000, 40001])
      expect(await value(metrics, 'palisade_drop_logs_total')).toBe(2)
      expect(await value(metrics, 'palisade_drop_logs_suppressed_total', 'duplicate')).toBe(1)
      // outside the window the same 5-tuple is a new attempt
      d.handle([record(40000, undefined, 1_700_000_020)])
      await tick()
      expect(lines().filter((l) => l.msg === 'connection dropped')).toHaveLength(3)
    } finally {
      await d.stop()
    }
  })

  it('keeps at most queueMax records waiting and counts what overflows', async () => {
    const { log, lines } = collectingLogger()
    const metrics = createMetrics()
    const d = startDropLog(
      { group: 1, command: ['sleep', '30'], queueMax: 100 },
      { log, metrics, index: () => index, cluster: () => cluster },
    )
    try {
      d.handle(Array.from({ length: 250 }, (_, i) => record(30000 + i)))
      await tick(100)
      expect(lines().filter((l) => l.msg === 'connection dropped')).toHaveLength(100)
      expect(await value(metrics, 'palisade_drop_logs_suppressed_total', 'queue-full')).toBe(150)
    } finally {
      await d.stop()
    }
  })

  it('restarts a reader that exits or cannot start, with backoff, and never throws', async () => {
    for (const command of [['false'], ['/nonexistent/tcpdump']]) {
      const { log, lines } = collectingLogger()
      const metrics = createMetrics()
      const d = startDropLog(
        { group: 1, command, backoffInitialMs: 20, backoffMaxMs: 40 },
        { log, metrics, index: () => index, cluster: () => cluster },
      )
      await tick(300)
      await d.stop()
      const restarts = await value(metrics, 'palisade_drop_log_reader_restarts_total')
      expect(restarts).toBeGreaterThanOrEqual(3)
      // backoff doubles up to its maximum: 20, 40, 40 ... ms, not a busy loop
      expect(restarts).toBeLessThan(20)
      expect(
        lines().some((l) => l.msg === 'drop log reader stopped: drops are still counted, not logged'),
      ).toBe(true)
    }
  })

  it('reads records from the reader process (a pcap stream on its stdout)', async () => {
    const { log, lines } = collectingLogger()
    const metrics = createMetrics()
    const bytes = pcap([{ prefix: `${DROP_LOG_PREFIX}pod_in_shop_db`, family: 2, payload: v4(40000, 5432) }])
    const d = startDropLog(
      {
        group: 1,
        command: [
          'node',
          '-e',
          `process.stdout.write(Buffer.from('${bytes.toString('base64')}', 'base64')); setTimeout(() => {}, 30000)`,
        ],
      },
      { log, metrics, index: () => index, cluster: () => cluster },
    )
    try {
      for (let i = 0; i < 100 && !lines().some((l) => l.msg === 'connection dropped'); i++) await tick(50)
      const drop = lines().find((l) => l.msg === 'connection dropped')?.drop as {
        pod: string
        dst: { port: number }
      }
      expect(drop).toMatchObject({ pod: 'db', dst: { port: 5432 } })
    } finally {
      await d.stop()
    }
  })
})
