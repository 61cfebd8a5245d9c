/**
 * The follow-up sweeps of --revoke-established (docs/semantics.md#established-connections): a UDP answer in
 * flight when a refused flow's entry was deleted re-creates it in the reply direction (server to client,
 * which the rules may admit, and the client's datagrams then pass as its replies). The follow-ups delete
 * exactly that entry, while the rules refuse the flow it came from; a server-to-client flow of other
 * ports is never touched. Fake conntrack table; the kernel case is test/lab/revoke-established.test.ts.
 */
import { describe, expect, it } from 'vitest'
import {
  type ConntrackEntry,
  deleteLine,
  parseConntrackLine,
  type RevokeIO,
  revokeEstablished,
} from '../../src/backends/index.js'
import { buildNodeIR } from '../../src/compile/index.js'
import { cluster, ns, pod, policy, rule, sel, udp } from '../fixtures.js'

const line = (src: string, dst: string, sport: number, dport: number) =>
  `ipv4     2 udp      17 29 src=${src} dst=${dst} sport=${sport} dport=${dport} src=${dst} dst=${src} sport=${dport} dport=${sport} mark=0 use=1`

const CLIENT = '10.0.1.10'
const SERVER = '10.0.1.20'
const pods = [
  pod('a/client', { role: 'a' }, [CLIENT], { nodeName: 'n1' }),
  pod('a/server', { app: 'server' }, [SERVER], { nodeName: 'n1' }),
]
/** The server admits only role=b on UDP 53: the client's flow is refused. */
const refusing = buildNodeIR(
  cluster([ns('a')], pods, [
    policy('a/only-b', sel({ app: 'server' }), {
      ingress: [rule([{ podSelector: sel({ role: 'b' }) }], [udp(53)])],
    }),
  ]),
  'n1',
)
const admitting = buildNodeIR(cluster([ns('a')], pods, []), 'n1')

function table(lines: string[]) {
  const rows = new Map(lines.map((l) => [l, parseConntrackLine(l) as ConntrackEntry]))
  const io: RevokeIO = {
    list: async (onEntry) => {
      for (const e of rows.values()) onEntry(e)
      return { lines: rows.size, entries: rows.size }
    },
    remove: async (entries) => {
      const want = new Set(entries.map(deleteLine))
      let deleted = 0
      for (const [l, e] of rows)
        if (want.has(deleteLine(e))) {
          rows.delete(l)
          deleted++
        }
      return { deleted }
    },
    nodeAddresses: async () => ['10.0.1.1'],
  }
  return { rows, io }
}

describe('revokeEstablished follow-ups', () => {
  const flow = line(CLIENT, SERVER, 40000, 53)
  const pickedUp = line(SERVER, CLIENT, 53, 40000) // the server's answer after the deletion
  const serverPush = line(SERVER, CLIENT, 5000, 6000) // a flow the server opened itself

  it('delete the refused flow picked up in the reply direction, and nothing else', async () => {
    const t = table([flow, serverPush])
    let sleeps = 0
    const r = await revokeEstablished(t.io, refusing, {
      sleep: async () => {
        // The first follow-up finds the answer that was in flight.
        if (sleeps++ === 0) t.rows.set(pickedUp, parseConntrackLine(pickedUp) as ConntrackEntry)
      },
    })
    expect(sleeps).toBe(3)
    expect([...t.rows.keys()]).toEqual([serverPush])
    expect(r).toMatchObject({ denied: 2, deleted: 2 })
  })

  it('keep it when the rules in force admit the original flow (newer rules)', async () => {
    const t = table([flow])
    let sleeps = 0
    let latest = refusing
    await revokeEstablished(t.io, refusing, {
      latest: () => latest,
      sleep: async () => {
        if (sleeps++ === 0) {
          t.rows.set(pickedUp, parseConntrackLine(pickedUp) as ConntrackEntry)
          latest = admitting
        }
      },
    })
    expect([...t.rows.keys()]).toEqual([pickedUp])
  })

  it('no follow-up when nothing was deleted', async () => {
    const t = table([serverPush])
    let sleeps = 0
    await revokeEstablished(t.io, refusing, {
      sleep: async () => {
        sleeps++
      },
    })
    expect(sleeps).toBe(0)
  })
})
