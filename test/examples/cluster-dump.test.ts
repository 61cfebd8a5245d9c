/**
 * examples/cluster-dump: a `kubectl get -o yaml` dump of a small cluster, with the verdicts its README lists
 * (a reader can check each one by hand against dump.yaml). Run through the CLI, as a user would.
 */
import { describe, expect, it } from 'vitest'
import { runCli } from '../cli/run.js'

const dump = new URL('../../examples/cluster-dump/', import.meta.url).pathname

interface Row {
  readonly name: string
  readonly from: string
  readonly to: string
  readonly port: string
  readonly ns?: string
  readonly code: 0 | 1
}

const rows: Row[] = [
  {
    name: 'a Deployment by name (its pods are in the dump) reaches the api on its named port',
    from: 'shop/frontend',
    to: 'shop/api',
    port: '9000/TCP',
    code: 0,
  },
  {
    name: 'kubectl form deploy/NAME with -n',
    from: 'deploy/frontend',
    to: 'deployment/api',
    port: '9000',
    ns: 'shop',
    code: 0,
  },
  {
    name: 'kubectl form with the namespace first',
    from: 'shop/deploy/frontend',
    to: 'shop/api',
    port: '9000',
    code: 0,
  },
  {
    name: 'a bare name takes the namespace from -n',
    from: 'frontend',
    to: 'api',
    port: '9000',
    ns: 'shop',
    code: 0,
  },
  {
    name: 'a bare pod name without -n is in default',
    from: 'toolbox',
    to: 'shop/api',
    port: '9000',
    code: 1,
  },
  {
    name: 'the ReplicaSet named in the pods ownerReferences',
    from: 'shop/rs/frontend-7d9c8b6f5',
    to: 'shop/api',
    port: '9000',
    code: 0,
  },
  {
    name: 'a StatefulSet: the api may reach the database',
    from: 'shop/api',
    to: 'sts/db',
    ns: 'shop',
    port: '5432',
    code: 0,
  },
  {
    name: 'a StatefulSet: the frontend may not reach the database',
    from: 'shop/frontend',
    to: 'shop/db',
    port: '5432',
    code: 1,
  },
  {
    name: 'a CronJob by name: its running Job reaches the api',
    from: 'ops/cronjob/report',
    to: 'shop/api',
    port: '9000',
    code: 0,
  },
  { name: 'a Job by name', from: 'job/report-29400540', to: 'shop/api', ns: 'ops', port: '9000', code: 0 },
  { name: 'pod/NAME', from: 'pod/toolbox', to: 'shop/frontend', port: '8080', code: 0 },
  {
    name: 'the old canary ReplicaSet (scaled to 0) is no pod: db admits nothing else from outside',
    from: 'default/toolbox',
    to: 'shop/db',
    port: '5432',
    code: 1,
  },
  {
    name: 'an outside address reaches the frontend through the 0.0.0.0/0 ipBlock',
    from: '198.51.100.7',
    to: 'shop/frontend',
    port: '8080',
    code: 0,
  },
  {
    name: "worker-1's InternalIP is worker-1: it reaches the api running on it",
    from: '192.168.10.11',
    to: 'shop/api',
    port: '9000',
    code: 0,
  },
  {
    name: "worker-1's ExternalIP is worker-1 too",
    from: '203.0.113.11',
    to: 'shop/api',
    port: '9000',
    code: 0,
  },
  {
    name: 'node/worker-1 gives the same verdict',
    from: 'node/worker-1',
    to: 'shop/api',
    port: '9000',
    code: 0,
  },
  {
    name: "worker-2's address is another node for the api: isolated, no rule admits it",
    from: '192.168.10.12',
    to: 'shop/api',
    port: '9000',
    code: 1,
  },
  {
    name: 'the hostNetwork DaemonSet pod on worker-2 is worker-2: it reaches db-0 on worker-2',
    from: 'kube-system/node-exporter-q9m4z',
    to: 'shop/db-0',
    port: '5432',
    code: 0,
  },
]

describe('examples/cluster-dump verdicts', () => {
  it.each(rows)('$name', async ({ from, to, port, ns, code }) => {
    const r = await runCli([
      'check',
      dump,
      '--from',
      from,
      '--to',
      to,
      '--port',
      port,
      ...(ns ? ['-n', ns] : []),
    ])
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(code)
  })

  it('leaves out phantom pods: old ReplicaSets scaled to 0, a Deployment with replicas 0, a finished Job', async () => {
    const r = await runCli(['matrix', dump, '--ports', '80/TCP', '-o', 'json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).pods).toEqual([
      'default/toolbox',
      'ops/report-29400540-x8v5m',
      'shop/api-64f7d8b9c5-q7w2e',
      'shop/db-0',
      'shop/db-1',
      'shop/frontend-7d9c8b6f5-abcde',
      'shop/frontend-7d9c8b6f5-fghij',
    ])
  })

  it('a workload without running pods is named as such', async () => {
    for (const [spec, why] of [
      ['shop/deploy/legacy-admin', /replicas: 0/],
      ['shop/rs/api-6b8f9c4d7', /replicas: 0/],
      ['ops/job/report-29400510', /finished/],
    ] as const) {
      const r = await runCli(['check', dump, '--from', spec, '--to', 'shop/api', '--port', '9000'])
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(why)
    }
  })

  it("JSON of a node's address keeps the true isolation facts and names the same-node rule", async () => {
    for (const from of ['192.168.10.11', 'node/worker-1']) {
      const r = await runCli([
        'check',
        dump,
        '--from',
        from,
        '--to',
        'shop/api',
        '--port',
        '9000',
        '-o',
        'json',
      ])
      const j = JSON.parse(r.stdout)
      expect(j.allowed).toBe(true)
      expect(j.note).toBe('same-node-host')
      expect(j.ingress.isolated).toBe(true)
      expect(j.ingress.note).toBe('same-node-host')
      expect(j.ingress.selectedBy.map((p: { policy: string }) => p.policy)).toContain(
        'shop/default-deny-ingress',
      )
      expect(j.ingress.allowedBy).toEqual([])
    }
  })

  it("names a node's address as the node in the text", async () => {
    const r = await runCli(['check', dump, '--from', '192.168.10.11', '--to', 'shop/api', '--port', '9000'])
    expect(r.stdout).toMatch(/^192\.168\.10\.11 \(node\/worker-1\) -> shop\/api on 9000\/TCP: ALLOWED\n/)
    expect(r.stdout).toContain("ingress to shop/api: allowed: the pod's own node always reaches it")
  })

  it('every pod of a workload is checked: a DaemonSet whose pods disagree is not allowed', async () => {
    const r = await runCli([
      'check',
      dump,
      '--from',
      'kube-system/ds/node-exporter',
      '--to',
      'shop/api',
      '--port',
      '9000',
    ])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/1 of 2 pod pairs allowed/)
  })
})
