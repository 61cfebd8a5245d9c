/**
 * First-packet benchmark (docs/semantics.md#unknown-local-pods): the lab scenario of
 * harness/first-packet.ts at full size. For each backend, >= 200 pods of a default-deny namespace start
 * (20 at a time, half on each node) and send UDP datagrams and TCP SYNs to a listening peer on the same
 * node and on the other node from the instant their interface exists, before any agent knows them: the
 * peers must receive 0 packets from them. Then `--unknown-pods allow` (the behaviour before) with the same
 * scenario, which leaks. Then pods a policy allows: interface up -> first accepted connection, next to the
 * pod-add latency (API write -> rules in force), p50/p99.
 *
 * Run (root, nft, iptables-nft, ipset): npm run bench:first-packet
 *   [--starts 200] [--batch 20] [--allowed 100] [--allow-starts 40] [--backends nftables,iptables-nft]
 */
import { execFileSync } from 'node:child_process'
import { percentiles, runFirstPacket } from '../harness/first-packet.js'

const args = process.argv.slice(2)
const arg = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : def
}
const starts = Number(arg('starts', '200'))
const batch = Number(arg('batch', '20'))
const allowed = Number(arg('allowed', '100'))
const allowStarts = Number(arg('allow-starts', '40'))
const backends = arg('backends', 'nftables,iptables-nft').split(',')

const fmt = (xs: readonly number[]) => {
  const p = percentiles(xs)
  return `p50 ${p.p50} ms, p99 ${p.p99} ms (n=${p.n})`
}
process.stdout.write(`load before: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}\n`)
for (const b of backends) {
  const backend = b === 'nftables' ? ('nftables' as const) : ('iptables' as const)
  const iptables = b === 'iptables-legacy' ? ('legacy' as const) : ('nft' as const)
  const base = { backend, ...(backend === 'iptables' ? { iptables } : {}), batch }
  const drop = await runFirstPacket({
    ...base,
    starts,
    allowedStarts: allowed,
    log: (l) => process.stderr.write(`${l}\n`),
  })
  const allow = await runFirstPacket({ ...base, unknownPods: 'allow', starts: allowStarts, allowedStarts: 0 })
  process.stdout.write(
    [
      `${drop.backend}:`,
      `  --unknown-pods drop : ${drop.leaked.udp + drop.leaked.tcpSyn} packets leaked (UDP ${drop.leaked.udp}, TCP SYN ${drop.leaked.tcpSyn}) over ${drop.starts} pod starts; sent UDP ${drop.sent.udp}, TCP attempts ${drop.sent.tcpAttempts}; node -> unknown pod: ${drop.nodeReachedUnknownPod ? 'reached' : 'NOT reached'} (${Math.round(drop.wallMs / 1000)} s)`,
      `  --unknown-pods allow: ${allow.leaked.udp + allow.leaked.tcpSyn} packets leaked (UDP ${allow.leaked.udp}, TCP SYN ${allow.leaked.tcpSyn}) over ${allow.starts} pod starts`,
      `  allowed pods (${drop.windowsMs.length}, ${drop.allowedFailed} never connected, ${drop.allowedUnseen} never in the ruleset within 20 s): interface up -> first accepted connection ${fmt(drop.windowsMs)}; TCP only ${fmt(drop.tcpWindowsMs)}`,
      `  pod-add latency (API write -> rules in force): ${fmt(drop.podAddMs)}`,
      '',
    ].join('\n'),
  )
}
process.stdout.write(`load after: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}\n`)
