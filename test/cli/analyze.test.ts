/** The fixed CLI contracts of check and matrix (other tools consume them): exit codes and JSON shapes. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runCli } from './run.js'

const ex = (p: string) => new URL(`../../examples/${p}`, import.meta.url).pathname

describe('palisade check', () => {
  it.each([
    { name: 'allowed exits 0', from: 'testing/nginx', to: 'testing/myapp', port: '80/TCP', code: 0 },
    { name: 'denied exits 1', from: 'default/debug', to: 'testing/myapp', port: '80/TCP', code: 1 },
    {
      name: 'an outside address as destination',
      from: 'testing/nginx',
      to: '203.0.113.9',
      port: '443/TCP',
      code: 0,
    },
    { name: 'an unknown pod exits 2', from: 'default/nope', to: 'testing/myapp', port: '80/TCP', code: 2 },
    { name: 'a bad port exits 2', from: 'default/debug', to: 'testing/myapp', port: '80/ICMP', code: 2 },
  ])('$name', async ({ from, to, port, code }) => {
    const r = await runCli([
      'check',
      '-f',
      ex('seed-001-testing'),
      '--from',
      from,
      '--to',
      to,
      '--port',
      port,
    ])
    expect(r.code, r.stderr).toBe(code)
  })

  it('-o json agrees with the exit code and names the deciding rules with file:line', async () => {
    const r = await runCli([
      'check',
      ex('seed-001-testing'),
      '--from',
      'testing/nginx',
      '--to',
      'testing/myapp',
      '--port',
      '80/TCP',
      '-o',
      'json',
    ])
    const j = JSON.parse(r.stdout)
    expect(j.allowed).toBe(true)
    expect(r.code).toBe(0)
    expect(j.ingress.isolated).toBe(true)
    expect(j.ingress.allowedBy).toEqual([
      {
        policy: 'testing/myapp-policy',
        kind: 'NetworkPolicy',
        direction: 'Ingress',
        rule: 0,
        source: expect.stringMatching(/policies\.yaml:\d+$/),
      },
    ])
    expect(j.egress.allowedBy.map((x: { policy: string }) => x.policy)).toEqual(['testing/nginx-policy'])
  })

  it('a denied -o json has allowed=false and exit 1', async () => {
    const r = await runCli([
      'check',
      ex('seed-001-testing'),
      '--from',
      'default/debug',
      '--to',
      'testing/myapp',
      '--port',
      '80',
      '-o',
      'json',
    ])
    expect(JSON.parse(r.stdout).allowed).toBe(false)
    expect(r.code).toBe(1)
  })

  it('reads manifests from stdin with -f -', async () => {
    const text = ['cluster.yaml', 'network-policy.yaml']
      .map((f) => readFileSync(ex(`seed-003-kind-calico/${f}`), 'utf8'))
      .join('\n---\n')
    const r = await runCli(
      ['check', '-f', '-', '--from', 'test-a/test-pod-a', '--to', 'test-b/test-pod-b', '--port', '80/TCP'],
      text,
    )
    expect(r.code, r.stderr).toBe(1)
    expect(r.stdout).toContain('DENIED')
  })

  it('the legacy DefaultDeny annotation is named in the verdict', async () => {
    const r = await runCli([
      'check',
      ex('seed-000-calico-defaultdeny'),
      '--from',
      'test/nginx-701339712-wcim9',
      '--to',
      'test/busybox-3554646944-irgeg',
      '--port',
      '80/TCP',
      '-o',
      'json',
    ])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).ingress.selectedBy.map((p: { kind: string }) => p.kind)).toEqual([
      'DefaultDenyAnnotation',
    ])
  })

  it('--strict makes a validation error fatal (exit 2)', async () => {
    const r = await runCli([
      'check',
      ex('seed-001-typos'),
      '--strict',
      '--from',
      'testing/a',
      '--to',
      'testing/b',
      '--port',
      '80',
    ])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(
      /policies\.yaml:\d+:\d+: error: NetworkPolicy testing\/deny-all-traffic: .*unknown field "spec\.Ingress"/,
    )
  })
})

describe('palisade matrix', () => {
  it('-o json has the fixed shape', async () => {
    const r = await runCli(['matrix', ex('seed-003-kind-calico'), '-o', 'json'])
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(j.pods).toEqual(['test-a/test-pod-a', 'test-b/test-pod-b', 'test-c/test-pod-c'])
    expect(j.ports).toEqual(['80/TCP'])
    expect(j.reachable['80/TCP']['test-a/test-pod-a']['test-b/test-pod-b']).toBe(false)
    expect(j.reachable['80/TCP']['test-c/test-pod-c']['test-b/test-pod-b']).toBe(true)
  })

  it('--ports overrides the declared ports', async () => {
    const j = JSON.parse(
      (await runCli(['matrix', ex('seed-003-kind-calico'), '--ports', '80/TCP,81/UDP', '-o', 'json'])).stdout,
    )
    expect(j.ports).toEqual(['80/TCP', '81/UDP'])
    expect(j.reachable['81/UDP']['test-a/test-pod-a']['test-b/test-pod-b']).toBe(false)
  })

  it('-n keeps rows and columns of one namespace while every policy counts', async () => {
    const j = JSON.parse(
      (await runCli(['matrix', ex('seed-001-testing'), '-n', 'testing', '--ports', '81/TCP', '-o', 'json']))
        .stdout,
    )
    expect(j.pods).toEqual(['testing/myapp', 'testing/nginx'])
    expect(j.reachable['81/TCP']['testing/myapp']['testing/nginx']).toBe(false)
  })

  it('-o csv and -o dot', async () => {
    const csv = (await runCli(['matrix', ex('seed-003-kind-calico'), '-o', 'csv'])).stdout
    expect(csv.split('\n')).toContain('80/TCP,test-a/test-pod-a,test-b/test-pod-b,false')
    const dot = (await runCli(['matrix', ex('seed-003-kind-calico'), '-o', 'dot'])).stdout
    expect(dot).toContain('"test-c/test-pod-c" -> "test-b/test-pod-b" [label="80/TCP"];')
    expect(dot).not.toContain('"test-a/test-pod-a" -> "test-b/test-pod-b"')
  })

  it('the table marks denied cells with X', async () => {
    const t = (await runCli(['matrix', ex('seed-003-kind-calico')])).stdout
    expect(t).toContain('80/TCP: 8 of 9 pairs allowed')
    expect(t).toMatch(/1 {2}test-a\/test-pod-a +\. X \./)
  })

  it('no input exits 2', async () => {
    expect((await runCli(['matrix'])).code).toBe(2)
  })

  it('a missing path is an error but other inputs are still read', async () => {
    const r = await runCli(['matrix', ex('seed-003-kind-calico'), '/nonexistent/x.yaml', '-o', 'json'])
    expect(r.stderr).toMatch(/nonexistent/)
    expect(JSON.parse(r.stdout).pods).toHaveLength(3)
  })
})
