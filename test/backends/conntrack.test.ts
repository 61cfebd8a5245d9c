/**
 * The conntrack edge of --revoke-established: the parser of `conntrack -L -o extended` (pure, table of
 * real lines), and, in a throwaway namespace, listing both families as a stream and deleting exactly the
 * chosen entries (original tuple, zone) in one batch, the others left alone.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ConntrackEntry,
  deleteConntrack,
  deleteLine,
  execCommand,
  forwardFlow,
  hasCommand,
  listConntrack,
  parseConntrackLine,
} from '../../src/backends/index.js'
import { createNetns, deleteNetns, kernelSkipReason } from '../compile/netns.js'

describe('parseConntrackLine', () => {
  it.each([
    {
      name: 'TCP, IPv4, assured',
      line: 'ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.2.3 dst=10.0.1.3 sport=40001 dport=80 src=10.0.1.3 dst=10.0.2.3 sport=80 dport=40001 [ASSURED] mark=0 use=1',
      want: {
        family: 4,
        protocol: 'TCP',
        state: 'ESTABLISHED',
        orig: { src: '10.0.2.3', dst: '10.0.1.3', sport: 40001, dport: 80 },
        reply: { src: '10.0.1.3', dst: '10.0.2.3', sport: 80, dport: 40001 },
      },
    },
    {
      name: 'UDP, IPv6, unreplied, zone',
      line: 'ipv6     10 udp      17 29 src=fd00::1 dst=fd00::2 sport=1000 dport=53 [UNREPLIED] src=fd00::2 dst=fd00::1 sport=53 dport=1000 mark=0 zone=7 use=1',
      want: {
        family: 6,
        protocol: 'UDP',
        zone: 7,
        orig: { src: 'fd00::1', dst: 'fd00::2', sport: 1000, dport: 53 },
        reply: { src: 'fd00::2', dst: 'fd00::1', sport: 53, dport: 1000 },
      },
    },
    {
      name: 'SCTP',
      line: 'ipv4     2 sctp     132 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=5000 dport=6000 src=10.0.0.2 dst=10.0.0.1 sport=6000 dport=5000 [ASSURED] mark=0 use=1',
      want: {
        family: 4,
        protocol: 'SCTP',
        state: 'ESTABLISHED',
        orig: { src: '10.0.0.1', dst: '10.0.0.2', sport: 5000, dport: 6000 },
        reply: { src: '10.0.0.2', dst: '10.0.0.1', sport: 6000, dport: 5000 },
      },
    },
  ])('$name', ({ line, want }) => {
    expect(parseConntrackLine(line)).toEqual(want)
  })

  it.each([
    'ipv4     2 icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=55 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=55 mark=0 use=1',
    'conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.',
    '',
    'ipv4     2 tcp      6 10 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2',
  ])('not a TCP/UDP/SCTP entry with both tuples: %j', (line) => {
    expect(parseConntrackLine(line)).toBeUndefined()
  })

  it('the flow FORWARD saw: the original source, the destination after DNAT (a Service is its backend)', () => {
    const e = parseConntrackLine(
      'ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.2.3 dst=10.96.0.10 sport=40001 dport=443 src=10.0.1.3 dst=10.0.2.3 sport=8443 dport=40001 [ASSURED] mark=0 use=1',
    ) as ConntrackEntry
    expect(forwardFlow(e)).toEqual({
      family: 4,
      protocol: 'TCP',
      src: '10.0.2.3',
      sport: 40001,
      dst: '10.0.1.3',
      dport: 8443,
    })
    expect(deleteLine(e)).toBe('-D -f ipv4 -p tcp -s 10.0.2.3 -d 10.96.0.10 --sport 40001 --dport 443')
  })
})

const skip = (await kernelSkipReason()) ?? ((await hasCommand('conntrack')) ? undefined : 'conntrack missing')

describe.skipIf(skip)('conntrack in a throwaway namespace', () => {
  let ns = ''
  beforeAll(async () => {
    ns = await createNetns('ct')
  })
  afterAll(async () => {
    if (ns) await deleteNetns(ns)
  })

  const insert = async (lines: readonly string[]) => {
    const file = join(await mkdtemp(join(tmpdir(), 'pz-ct-')), 'insert')
    await writeFile(file, `${lines.join('\n')}\n`)
    const r = await execCommand('conntrack', ['-R', file], { netns: ns, timeoutMs: 30_000 })
    await rm(join(file, '..'), { recursive: true, force: true })
    expect(r.code, r.stderr).toBe(0)
  }
  const list = async () => {
    const out: ConntrackEntry[] = []
    const stats = await listConntrack({ netns: ns }, (e) => out.push(e))
    return { out, stats }
  }

  it('lists both families and deletes the chosen entries (and those differing only by source port)', async () => {
    await insert([
      '-I -p tcp -s 10.0.0.1 -d 10.0.0.2 --sport 1000 --dport 80 --state ESTABLISHED -t 600 -u ASSURED',
      '-I -p tcp -s 10.0.0.1 -d 10.0.0.2 --sport 1001 --dport 80 --state ESTABLISHED -t 600 -u ASSURED',
      '-I -p tcp -s 10.0.0.1 -d 10.0.0.2 --sport 1000 --dport 80 --state ESTABLISHED -t 600 -w 7',
      '-I -p udp -s fd00::1 -d fd00::2 --sport 1000 --dport 53 -t 600',
      '-I -p udp -s fd00::1 -d fd00::2 --sport 1001 --dport 53 -t 600',
      '-I -p udp -s fd00::1 -d fd00::2 --sport 1002 --dport 54 -t 600',
      '-I -p icmp -s 10.0.0.1 -d 10.0.0.2 --icmp-type 8 --icmp-code 0 --icmp-id 55 -t 600',
    ])
    const { out, stats } = await list()
    expect(stats).toEqual({ lines: 7, entries: 6 })
    const pick = (sport: number, family: 4 | 6, zone?: number) =>
      out.find((e) => e.orig.sport === sport && e.family === family && e.zone === zone) as ConntrackEntry
    const chosen = [pick(1000, 4, 7), pick(1001, 6)]
    expect(chosen.every((e) => e !== undefined)).toBe(true)
    // The zone-7 entry alone (not its twin in zone 0), and both IPv6 flows to port 53 (one line: they
    // differ only by source port), not the one to port 54.
    expect(await deleteConntrack({ netns: ns }, chosen)).toEqual({ deleted: 3 })
    const after = (await list()).out.map((e) => `${e.family} ${e.orig.sport} ${e.zone ?? '-'}`).sort()
    expect(after).toEqual(['4 1000 -', '4 1001 -', '6 1002 -'])
    // Deleting again: already gone is not an error.
    expect(await deleteConntrack({ netns: ns }, chosen)).toEqual({ deleted: 0 })
  })

  it('streams a 10,000-entry table', async () => {
    const lines: string[] = []
    for (let i = 0; i < 10_000; i++)
      lines.push(
        `-I -p tcp -s 10.1.${i >> 8}.${i & 255} -d 10.2.0.1 --sport 2000 --dport 80 --state ESTABLISHED -t 600`,
      )
    await insert(lines)
    const { stats } = await list()
    expect(stats.entries).toBeGreaterThanOrEqual(10_000)
  })

  it('a missing namespace is an error, not a crash', async () => {
    await expect(listConntrack({ netns: `${ns}-gone` }, () => undefined)).rejects.toThrow(/conntrack -L/)
  })
})
