/** `palisade connlist`: golden output in every format on the examples. */
import { describe, expect, it } from 'vitest'
import { runCli } from '../cli/run.js'
import { expectGolden } from '../golden.js'

const ex = (p: string) => `examples/${p}`

describe('palisade connlist', () => {
  it.each(['text', 'json', 'csv', 'md', 'dot'])('seed-004-linuxea -o %s', async (format) => {
    const r = await runCli(['connlist', ex('seed-004-linuxea'), '-o', format])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    await expectGolden(`connlist/seed-004-linuxea.${format}`, r.stdout)
  })

  it.each([
    ['seed-001-testing', []],
    ['seed-002-kube-router', ['examples/seed-002-kube-router/case-4-egress-cidr']],
    ['seed-002-kube-router-case-5', ['examples/seed-002-kube-router/case-5-ingress-cidr']],
  ] as const)('%s (text)', async (name, extra) => {
    const base = name.startsWith('seed-002') ? 'examples/seed-002-kube-router/cluster.yaml' : ex(name)
    const r = await runCli(['connlist', base, ...extra])
    expect(r.code, r.stderr).toBe(0)
    await expectGolden(`connlist/${name}.text`, r.stdout)
  })

  it('-n keeps the connections of the namespace; every policy still counts', async () => {
    const all = await runCli(['connlist', ex('seed-001-testing')])
    const r = await runCli(['connlist', ex('seed-001-testing'), '-n', 'testing'])
    const expected = all.stdout.split('\n').filter((l) => l.includes('testing/'))
    expect(r.stdout.trimEnd().split('\n')).toEqual(expected)
  })

  it('--ports limits the list to those ports', async () => {
    const r = await runCli(['connlist', ex('seed-001-testing'), '--ports', '80/TCP'])
    expect(r.stdout).toContain('testing/myapp[Pod] => testing/nginx[Pod] : TCP 80\n')
    expect(r.stdout).not.toContain('All Connections')
  })

  it('an unknown format exits 2 with a message', async () => {
    const r = await runCli(['connlist', ex('seed-001-testing'), '-o', 'xml'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('-o must be one of')
  })
})
