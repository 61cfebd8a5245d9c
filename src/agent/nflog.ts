/**
 * NFLOG records from a pcap stream (`tcpdump -i nflog:GROUP -U -w -`, LINKTYPE_NFLOG = 239): the
 * parsing is pure (bytes in, records out) and never throws on bad input; a stream that is not what we
 * expect stops with an error value.
 *
 * pcap: a 24-byte global header (magic in the writer's byte order, microsecond or nanosecond), then
 * per packet a 16-byte header (seconds, micro/nanoseconds, captured length, original length) and the
 * captured bytes. NFLOG (https://www.tcpdump.org/linktypes/LINKTYPE_NFLOG.html): family (u8), version
 * (u8), resource id (u16, big-endian), then TLVs: length (u16) and type (u16) in the writer's byte order,
 * the value, padded to 4 bytes. We read NFULA_PREFIX (10, NUL-terminated) and NFULA_PAYLOAD (9, the
 * packet from its IP header on).
 */
import { canonicalIP } from '../model/index.js'

export const LINKTYPE_NFLOG = 239
const NFULA_PAYLOAD = 9
const NFULA_PREFIX = 10
const AF_INET = 2
const AF_INET6 = 10

/** One logged packet. */
export interface NflogRecord {
  /** Capture time, ms since the epoch. */
  readonly timeMs: number
  readonly prefix: string
  /** 4 or 6 (from the NFLOG header), undefined for another family. */
  readonly family: 4 | 6 | undefined
  readonly payload: Uint8Array
}

/** Incremental parser of a pcap byte stream of NFLOG packets. */
export class NflogPcapParser {
  private buf: Buffer = Buffer.alloc(0)
  private little = true
  private nano = false
  private started = false
  /** Set when the stream is not a pcap of NFLOG packets: nothing more is parsed. */
  error: string | undefined

  /** Feeds bytes; returns the records completed by them. */
  push(chunk: Uint8Array): NflogRecord[] {
    if (this.error) return []
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk])
    const out: NflogRecord[] = []
    let at = 0
    if (!this.started) {
      if (this.buf.length < 24) return out
      const magic = this.buf.readUInt32LE(0)
      if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) this.little = true
      else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) this.little = false
      else {
        this.error = `not a pcap stream (magic ${magic.toString(16)})`
        return out
      }
      this.nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1
      const linktype = this.u32(20) & 0x0fffffff
      if (linktype !== LINKTYPE_NFLOG) {
        this.error = `link type ${linktype}, not NFLOG (${LINKTYPE_NFLOG})`
        return out
      }
      this.started = true
      at = 24
    }
    while (this.buf.length - at >= 16) {
      const sec = this.u32(at)
      const frac = this.u32(at + 4)
      const len = this.u32(at + 8)
      if (len > 1 << 20) {
        this.error = `record of ${len} bytes`
        return out
      }
      if (this.buf.length - at - 16 < len) break
      const rec = this.buf.subarray(at + 16, at + 16 + len)
      at += 16 + len
      const r = this.record(rec, sec * 1000 + (this.nano ? frac / 1e6 : frac / 1e3))
      if (r) out.push(r)
    }
    this.buf = this.buf.subarray(at)
    return out
  }

  private u32(at: number): number {
    return this.little ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at)
  }

  private record(rec: Buffer, timeMs: number): NflogRecord | undefined {
    if (rec.length < 4) return undefined
    const af = rec[0]
    const family = af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined
    let prefix = ''
    let payload: Uint8Array | undefined
    let at = 4
    while (rec.length - at >= 4) {
      const tlvLen = this.little ? rec.readUInt16LE(at) : rec.readUInt16BE(at)
      const type = (this.little ? rec.readUInt16LE(at + 2) : rec.readUInt16BE(at + 2)) & 0x3fff
      if (tlvLen < 4 || at + tlvLen > rec.length) break
      const value = rec.subarray(at + 4, at + tlvLen)
      if (type === NFULA_PREFIX) {
        const nul = value.indexOf(0)
        prefix = value.subarray(0, nul < 0 ? value.length : nul).toString('latin1')
      } else if (type === NFULA_PAYLOAD) payload = value
      at += (tlvLen + 3) & ~3
    }
    return payload ? { timeMs, prefix, family, payload } : undefined
  }
}

/** The connection a logged packet belongs to. */
export interface PacketTuple {
  readonly family: 4 | 6
  /** tcp, udp, sctp, icmp, ipv6-icmp, or the protocol number. */
  readonly protocol: string
  readonly src: string
  readonly dst: string
  /** Absent for protocols without ports (ICMP) and for non-first fragments. */
  readonly srcPort?: number
  readonly dstPort?: number
}

const PROTOCOLS: Readonly<Record<number, string>> = {
  1: 'icmp',
  6: 'tcp',
  17: 'udp',
  58: 'ipv6-icmp',
  132: 'sctp',
}
const WITH_PORTS = new Set([6, 17, 132])

function v6Address(b: Uint8Array, at: number): string {
  let v = 0n
  for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(b[at + i] as number)
  return canonicalIP({ family: 6, value: v })
}

/** Reads the 5-tuple of an IP packet (from its IP header on); undefined when it is too short. */
export function parsePacketTuple(p: Uint8Array): PacketTuple | undefined {
  if (p.length < 1) return undefined
  const version = (p[0] as number) >> 4
  let proto: number
  let l4: number
  let src: string
  let dst: string
  let fragmented = false
  if (version === 4) {
    if (p.length < 20) return undefined
    proto = p[9] as number
    l4 = ((p[0] as number) & 0x0f) * 4
    src = `${p[12]}.${p[13]}.${p[14]}.${p[15]}`
    dst = `${p[16]}.${p[17]}.${p[18]}.${p[19]}`
    fragmented = ((((p[6] as number) & 0x1f) << 8) | (p[7] as number)) !== 0
  } else if (version === 6) {
    if (p.length < 40) return undefined
    proto = p[6] as number
    l4 = 40
    src = v6Address(p, 8)
    dst = v6Address(p, 24)
    // skip hop-by-hop, routing and destination options headers; a fragment header ends the search
    for (let n = 0; n < 8 && (proto === 0 || proto === 43 || proto === 60 || proto === 44); n++) {
      if (p.length < l4 + 8) return undefined
      const next = p[l4] as number
      if (proto === 44) {
        fragmented = ((((p[l4 + 2] as number) << 8) | (p[l4 + 3] as number)) & 0xfff8) !== 0
        l4 += 8
      } else l4 += ((p[l4 + 1] as number) + 1) * 8
      proto = next
    }
  } else return undefined
  const family = version === 4 ? 4 : 6
  const protocol = PROTOCOLS[proto] ?? String(proto)
  if (!WITH_PORTS.has(proto) || fragmented || p.length < l4 + 4) return { family, protocol, src, dst }
  const srcPort = ((p[l4] as number) << 8) | (p[l4 + 1] as number)
  const dstPort = ((p[l4 + 2] as number) << 8) | (p[l4 + 3] as number)
  return { family, protocol, src, dst, srcPort, dstPort }
}
