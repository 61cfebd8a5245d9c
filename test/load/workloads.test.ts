/**
 * Workloads and their pods (docs/semantics.md#workload-names, #phantom-pods): which pods the loader
 * makes for workloads, and which workload a real pod belongs to.
 */
import { describe, expect, it } from 'vitest'
import { loadCluster } from '../../src/load/index.js'

const tpl = (labels: string) =>
  `template:\n    metadata: {labels: {${labels}}}\n    spec: {containers: [{name: c, image: i}]}`
const deploy = (name: string, spec = '') =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}, namespace: a}\nspec:\n  selector: {matchLabels: {app: ${name}}}\n  ${tpl(`app: ${name}`)}\n${spec}`
const rs = (name: string, owner: string, replicas: number) =>
  `apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: ${name}\n  namespace: a\n  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: ${owner}, controller: true, uid: u}]\nspec:\n  replicas: ${replicas}\n  selector: {matchLabels: {app: ${owner}}}\n  ${tpl(`app: ${owner}, old: "yes"`)}`
const pod = (name: string, owner: string, labels: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: a\n  labels: {${labels}}\n  ownerReferences: [${owner}]\nspec: {containers: [{name: c, image: i}]}\nstatus: {phase: Running, podIP: 10.0.0.9}`
const job = (name: string, status: string, owner = '') =>
  `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: ${name}\n  namespace: a\n${owner ? `  ownerReferences: [{apiVersion: batch/v1, kind: CronJob, name: ${owner}, controller: true, uid: u}]\n` : ''}spec:\n  ${tpl('app: job')}\nstatus: ${status}`
const cron = (name: string, extra = '') =>
  `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: ${name}, namespace: a}\nspec:\n  schedule: "* * * * *"\n${extra}  jobTemplate:\n    spec:\n      ${tpl('app: cron').replace(/\n/g, '\n    ')}`

interface Row {
  readonly name: string
  readonly docs: string[]
  /** Names of the pods of namespace a, sorted. */
  readonly pods: string[]
}

const rows: Row[] = [
  { name: 'a Deployment with replicas: 0 makes no pod', docs: [deploy('d', '  replicas: 0')], pods: [] },
  {
    name: 'an old ReplicaSet scaled to 0 makes no pod; its Deployment (no pod in the input) stands for itself',
    docs: [deploy('d'), rs('d-5f6', 'd', 0)],
    pods: ['d'],
  },
  {
    name: "the Deployment's current ReplicaSet stands for it",
    docs: [deploy('d'), rs('d-5f6', 'd', 0), rs('d-7a8', 'd', 2)],
    pods: ['d-7a8'],
  },
  {
    name: 'pods whose ReplicaSet is absent belong to the Deployment through pod-template-hash',
    docs: [
      deploy('d'),
      pod(
        'd-7a8-x1',
        '{apiVersion: apps/v1, kind: ReplicaSet, name: d-7a8, controller: true, uid: u}',
        'app: d, pod-template-hash: 7a8',
      ),
    ],
    pods: ['d-7a8-x1'],
  },
  {
    name: 'a Job with condition Complete makes no pod',
    docs: [job('j', '{conditions: [{type: Complete, status: "True"}], succeeded: 1}')],
    pods: [],
  },
  {
    name: 'a Job with condition Failed makes no pod',
    docs: [job('j', '{conditions: [{type: Failed, status: "True"}], failed: 6}')],
    pods: [],
  },
  {
    name: 'a Job with a completionTime makes no pod',
    docs: [job('j', '{completionTime: "2026-01-01T00:00:00Z", succeeded: 1}')],
    pods: [],
  },
  {
    name: 'an active Job without its pods in the input makes one',
    docs: [job('j', '{active: 1}')],
    pods: ['j'],
  },
  {
    name: "a CronJob's finished Jobs make no pod; the CronJob stands for itself",
    docs: [
      cron('c'),
      job('c-29000000', '{succeeded: 1, conditions: [{type: Complete, status: "True"}]}', 'c'),
    ],
    pods: ['c'],
  },
  {
    name: "a CronJob's active Job stands for it",
    docs: [cron('c'), job('c-29000001', '{active: 1}', 'c')],
    pods: ['c-29000001'],
  },
  { name: 'a suspended CronJob makes no pod', docs: [cron('c', '  suspend: true\n')], pods: [] },
  {
    name: "a Job's pod whose Job is absent belongs to the CronJob named like it",
    docs: [
      cron('c'),
      pod(
        'c-29000001-abcde',
        '{apiVersion: batch/v1, kind: Job, name: c-29000001, controller: true, uid: u}',
        'app: cron',
      ),
    ],
    pods: ['c-29000001-abcde'],
  },
]

describe('representative pods', () => {
  it.each(rows)('$name', ({ docs, pods }) => {
    const r = loadCluster([{ file: 'in.yaml', text: docs.join('\n---\n') }], { validate: 'strict' })
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    expect(
      r.cluster.pods
        .filter((p) => p.namespace === 'a')
        .map((p) => p.name)
        .sort(),
    ).toEqual(pods)
  })

  it('names each decision in an info note', () => {
    const r = loadCluster([{ file: 'in.yaml', text: [deploy('d'), rs('d-5f6', 'd', 0)].join('\n---\n') }], {
      validate: 'strict',
    })
    expect(r.diagnostics.filter((d) => d.code === 'load.workload-idle')).toMatchObject([
      {
        severity: 'info',
        object: 'ReplicaSet a/d-5f6',
        message: 'runs no pod (replicas: 0): no representative pod',
      },
    ])
    expect(r.cluster.workloads).toMatchObject([
      { kind: 'Deployment', name: 'd' },
      { kind: 'ReplicaSet', name: 'd-5f6', idle: 'replicas: 0' },
    ])
  })

  it("gives a pod its controllers, up the input's owners, and a representative pod its own", () => {
    const r = loadCluster(
      [
        {
          file: 'in.yaml',
          text: [
            deploy('d'),
            rs('d-7a8', 'd', 1),
            pod(
              'd-7a8-x1',
              '{apiVersion: apps/v1, kind: ReplicaSet, name: d-7a8, controller: true, uid: u}',
              'app: d',
            ),
            cron('c'),
            job('c-1', '{active: 1}', 'c'),
          ].join('\n---\n'),
        },
      ],
      { validate: 'strict' },
    )
    const by = new Map(r.cluster.pods.map((p) => [p.name, p.controllers]))
    expect(by.get('d-7a8-x1')).toEqual([
      { kind: 'ReplicaSet', name: 'd-7a8' },
      { kind: 'Deployment', name: 'd' },
    ])
    expect(by.get('c-1')).toEqual([
      { kind: 'Job', name: 'c-1' },
      { kind: 'CronJob', name: 'c' },
    ])
  })
})

describe('node addresses (docs/semantics.md#node-addresses)', () => {
  it("come from pods' hostIPs and hostNetwork pods when no Node object is given", () => {
    const text = [
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: a}\nspec: {nodeName: w1, containers: [{name: c, image: i}]}\nstatus: {phase: Running, podIP: 10.0.0.5, hostIP: 192.168.1.11}',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: agent, namespace: a}\nspec: {nodeName: w2, hostNetwork: true, containers: [{name: c, image: i}]}\nstatus: {phase: Running, podIP: 192.168.1.12, podIPs: [{ip: 192.168.1.12}, {ip: "fd00::0012"}]}',
      'apiVersion: v1\nkind: Node\nmetadata: {name: w3}\nstatus:\n  addresses: [{type: Hostname, address: w3}, {type: InternalIP, address: 192.168.1.13}, {type: ExternalIP, address: 203.0.113.13}]',
    ].join('\n---\n')
    const r = loadCluster([{ file: 'in.yaml', text }], { validate: 'strict' })
    expect(r.cluster.nodes).toEqual([
      { name: 'w1', addresses: ['192.168.1.11'], declared: false },
      { name: 'w2', addresses: ['192.168.1.12', 'fd00::12'], declared: false },
      expect.objectContaining({ name: 'w3', addresses: ['192.168.1.13', '203.0.113.13'], declared: true }),
    ])
  })
})
