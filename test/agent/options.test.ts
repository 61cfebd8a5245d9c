import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { parseDuration, parseListenAddress } from '../../src/agent/options.js'
import { installFaultPolicy, registerAgent } from '../../src/cli/commands/agent.js'

describe('flag values', () => {
  it.each([
    { name: 'milliseconds', text: '50ms', ms: 50 },
    { name: 'minutes', text: '5m', ms: 300_000 },
    { name: 'a compound duration', text: '1h30m', ms: 5_400_000 },
    { name: 'fractional seconds', text: '1.5s', ms: 1500 },
    { name: 'a bare zero', text: '0', ms: 0 },
    { name: 'a number without unit is rejected', text: '50', ms: undefined },
    { name: 'an unknown unit is rejected', text: '5d', ms: undefined },
  ])('duration: $name', ({ text, ms }) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each([
    { name: 'port only listens everywhere', text: ':20244', want: { host: '', port: 20244 } },
    { name: 'IPv4 host and port', text: '127.0.0.1:9090', want: { host: '127.0.0.1', port: 9090 } },
    { name: 'bracketed IPv6 host', text: '[::1]:9090', want: { host: '::1', port: 9090 } },
    { name: 'no port is rejected', text: '127.0.0.1', want: undefined },
    { name: 'a port above 65535 is rejected', text: ':70000', want: undefined },
  ])('address: $name', ({ text, want }) => {
    expect(parseListenAddress(text)).toEqual(want)
  })
})

describe('the process-level fault policy', () => {
  it('routes uncaught exceptions and unhandled rejections to the agent, and uninstalls cleanly', () => {
    const proc = new EventEmitter()
    const seen: string[] = []
    const uninstall = installFaultPolicy(proc, (kind, err) => seen.push(`${kind}: ${String(err)}`))
    proc.emit('uncaughtException', new Error('a'))
    proc.emit('unhandledRejection', 'b', Promise.resolve())
    expect(seen).toEqual(['uncaughtException: Error: a', 'unhandledRejection: b'])
    uninstall()
    expect(proc.listenerCount('uncaughtException') + proc.listenerCount('unhandledRejection')).toBe(0)
  })
})

describe('palisade agent defaults', () => {
  it('serves /healthz and /metrics on loopback unless told otherwise', async () => {
    const { Command } = await import('commander')
    const program = new Command()
    registerAgent(program, () => undefined)
    const agent = program.commands.find((c) => c.name() === 'agent')
    expect(agent?.options.find((o) => o.long === '--health-addr')?.defaultValue).toBe('127.0.0.1:9745')
    expect(agent?.options.find((o) => o.long === '--metrics-addr')?.defaultValue).toBeUndefined()
  })
})
