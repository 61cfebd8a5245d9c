/**
 * Live clusters for every analysis command (issue 11): check, matrix, explain and lint read a cluster
 * with --kubeconfig [FILE] / --context through the official client, against the project's test API
 * server (the real wire protocol: lists with limit/continue, tokens, TLS). The cluster holds
 * examples/cluster-dump's objects, so its verdicts must be the dump's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { FakeApiServer, type FakeKind } from '../../harness/fake-apiserver.js'
import { readCluster, readClusterInputs } from '../../src/cli/kube-inputs.js'
import { loadCluster } from '../../src/load/index.js'
import { runCli } from './run.js'

const dumpFile = new URL('../../examples/cluster-dump/dump.yaml', import.meta.url).pathname

describe('analysis commands on a live cluster (test API server)', () => {
  const api = new FakeApiServer()
  let dir: string
  let kubeconfig: string
  beforeAll(async () => {
    await api.start()
    const list = parse(readFileSync(dumpFile, 'utf8')) as { items: Record<string, unknown>[] }
    for (const item of list.items) api.apply(item.kind as FakeKind, item)
    dir = mkdtempSync(join(tmpdir(), 'palisade-live-'))
    kubeconfig = join(dir, 'kubeconfig')
    writeFileSync(kubeconfig, api.kubeconfig())
  })
  afterAll(async () => {
    await api.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it.each([
    { from: 'shop/frontend', to: 'shop/api', port: '9000', code: 0 },
    { from: 'deploy/frontend', to: 'sts/db', port: '5432', code: 1 },
    { from: 'ops/cronjob/report', to: 'shop/api', port: '9000', code: 0 },
    { from: '192.168.10.11', to: 'shop/api', port: '9000', code: 0 },
    { from: '192.168.10.12', to: 'shop/api', port: '9000', code: 1 },
  ])('check $from -> $to on $port: the verdict of the dump', async ({ from, to, port, code }) => {
    const live = await runCli([
      'check',
      '--kubeconfig',
      kubeconfig,
      '-n',
      'shop',
      '--from',
      from,
      '--to',
      to,
      '--port',
      port,
    ])
    expect(live.code, live.stdout + live.stderr).toBe(code)
    const file = await runCli(['check', dumpFile, '-n', 'shop', '--from', from, '--to', to, '--port', port])
    expect(live.stdout.replaceAll(/\(cluster\/[^)]*\)/g, '(F)')).toEqual(
      file.stdout.replaceAll(/\([^)]*dump\.yaml:\d+\)/g, '(F)'),
    )
  })

  it('matrix, explain and lint read the cluster too (--context names the context)', async () => {
    const matrix = await runCli(['matrix', '--kubeconfig', kubeconfig, '--context', 'fake', '-o', 'json'])
    const fromFile = await runCli(['matrix', dumpFile, '-o', 'json'])
    expect(matrix.code, matrix.stderr).toBe(0)
    expect(JSON.parse(matrix.stdout).reachable).toEqual(JSON.parse(fromFile.stdout).reachable)
    expect(JSON.parse(matrix.stdout).pods).toHaveLength(7) // no phantom pods
    const explain = await runCli([
      'explain',
      '--kubeconfig',
      kubeconfig,
      '--pod',
      'shop/deploy/api',
      '-o',
      'json',
    ])
    expect(explain.code, explain.stderr).toBe(0)
    expect(JSON.parse(explain.stdout).pods.map((p: { pod: string }) => p.pod)).toEqual([
      'shop/api-64f7d8b9c5-q7w2e',
    ])
    const lint = await runCli(['lint', '--kubeconfig', kubeconfig, '-o', 'json'])
    expect(JSON.parse(lint.stdout).counts.error, lint.stdout).toBe(0)
    // Every kind was listed, with a page size.
    const paths = new Set(api.requests.map((r) => r.path))
    for (const p of ['/api/v1/nodes', '/apis/apps/v1/replicasets', '/apis/batch/v1/cronjobs', '/api/v1/pods'])
      expect(paths).toContain(p)
    expect(api.requests.filter((r) => r.path === '/api/v1/pods').every((r) => r.query.limit === '500')).toBe(
      true,
    )
  })

  it('connlist reads the cluster: the same connection list as the dump', async () => {
    const live = await runCli(['connlist', '--kubeconfig', kubeconfig, '-o', 'json'])
    const fromFile = await runCli(['connlist', dumpFile, '-o', 'json'])
    expect(live.code, live.stderr).toBe(0)
    const connections = (out: string) => JSON.parse(out).connections
    expect(connections(live.stdout).length).toBeGreaterThan(0)
    expect(connections(live.stdout)).toEqual(connections(fromFile.stdout))
  })

  it('paths given with the cluster come after it: a file version of a policy wins', async () => {
    const open = join(dir, 'open-db.yaml')
    writeFileSync(
      open,
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db-from-api, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  ingress: [{}]\n',
    )
    const r = await runCli([
      'check',
      '--kubeconfig',
      kubeconfig,
      open,
      '--from',
      'shop/frontend',
      '--to',
      'shop/db-0',
      '--port',
      '5432',
    ])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('load.duplicate-object')
  })

  it('--kubeconfig without a file takes $KUBECONFIG', async () => {
    const before = process.env.KUBECONFIG
    process.env.KUBECONFIG = kubeconfig
    try {
      const r = await runCli([
        'check',
        '--kubeconfig',
        '--from',
        'shop/frontend',
        '--to',
        'shop/api',
        '--port',
        '9000',
      ])
      expect(r.code, r.stderr).toBe(0)
    } finally {
      if (before === undefined) delete process.env.KUBECONFIG
      else process.env.KUBECONFIG = before
    }
  })

  it('pages through big lists (limit/continue) and reports progress', async () => {
    const kc = new KubeConfig()
    kc.loadFromString(api.kubeconfig())
    const whole = await readClusterInputs({ kubeconfig: kc })
    const start = api.requests.length
    const lines: string[] = []
    const paged = await readCluster({ kubeconfig }, (line) => lines.push(line), 3)
    expect(paged.inputs.map((i) => i.file)).toEqual(whole.inputs.map((i) => i.file))
    const podPages = api.requests.slice(start).filter((r) => r.path === '/api/v1/pods')
    expect(podPages.length).toBeGreaterThanOrEqual(4)
    expect(podPages.slice(1).every((r) => r.query.continue !== undefined && r.query.limit === '3')).toBe(true)
    expect(lines.at(-1)).toMatch(/^read \d+ objects from https:\/\/127\.0\.0\.1:\d+$/)
    expect(lines.some((l) => /pods\)$/.test(l))).toBe(true)
    // What was read is exactly the dump's cluster.
    const live = loadCluster(paged.inputs, { validate: 'strict' })
    expect(live.cluster.pods.map((p) => `${p.namespace}/${p.name}`)).toEqual([
      'default/toolbox',
      'kube-system/node-exporter-7xk2p',
      'kube-system/node-exporter-q9m4z',
      'ops/report-29400540-x8v5m',
      'shop/api-64f7d8b9c5-q7w2e',
      'shop/db-0',
      'shop/db-1',
      'shop/frontend-7d9c8b6f5-abcde',
      'shop/frontend-7d9c8b6f5-fghij',
    ])
    expect(live.cluster.nodes?.map((n) => [n.name, n.addresses])).toEqual([
      ['worker-1', ['192.168.10.11', '203.0.113.11']],
      ['worker-2', ['192.168.10.12']],
    ])
  })

  it('an unreachable server or an unknown context is an error (exit 2), not a crash', async () => {
    const bad = join(dir, 'bad-kubeconfig')
    writeFileSync(bad, api.kubeconfig().replace(/server: .*/, 'server: https://127.0.0.1:1'))
    const r = await runCli(['matrix', '--kubeconfig', bad])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/listing (Namespace|Pod|NetworkPolicy) objects failed/)
    const c = await runCli(['matrix', '--kubeconfig', kubeconfig, '--context', 'nope'])
    expect(c.code).toBe(2)
    expect(c.stderr).toContain('kubeconfig: no context "nope"')
  })
})
