import { describe, expect, it } from 'vitest'
import { buildIndex } from '../../src/engine/index.js'
import {
  describePeer,
  describePort,
  explainPod,
  explainPods,
  renderPodExplanations,
} from '../../src/explain/index.js'
import type { PolicyPeer, PolicyPort } from '../../src/model/index.js'
import { runCli } from '../cli/run.js'
import { ns, pod, policy, sel } from '../fixtures.js'
import { expectGolden } from '../golden.js'

/** Where the namespaces of these tests were written (explain names it). */
const NS = { source: { file: 'namespaces.yaml', line: 1 } }

const peerCases: { name: string; peer: PolicyPeer; words: string }[] = [
  {
    name: 'podSelector alone means pods of the policy namespace',
    peer: { podSelector: sel({ app: 'nginx' }) },
    words: 'pods labelled app=nginx in namespace testing',
  },
  {
    name: 'an empty podSelector is every pod of the policy namespace',
    peer: { podSelector: sel() },
    words: 'every pod in namespace testing',
  },
  {
    name: 'namespaceSelector alone is every pod of matching namespaces',
    peer: { namespaceSelector: sel({ ns: 'kube-system' }) },
    words: 'every pod in namespaces labelled ns=kube-system',
  },
  {
    name: 'an empty namespaceSelector is every namespace',
    peer: { namespaceSelector: sel() },
    words: 'every pod in every namespace',
  },
  {
    name: 'both selectors in one peer are ANDed',
    peer: { podSelector: sel({ app: 'db' }), namespaceSelector: sel({ team: 'a' }) },
    words: 'pods labelled app=db in namespaces labelled team=a',
  },
  {
    name: 'matchExpressions read as "matching"',
    peer: {
      namespaceSelector: {
        matchLabels: {},
        matchExpressions: [{ key: 'name', operator: 'In', values: ['testing', 'kube-system'] }],
      },
    },
    words: 'every pod in namespaces matching name in (testing,kube-system)',
  },
  {
    name: 'an ipBlock with except lists the holes',
    peer: { ipBlock: { cidr: '172.16.0.0/16', except: ['172.16.8.0/24'] } },
    words: 'addresses in 172.16.0.0/16 except 172.16.8.0/24',
  },
]

const web = pod('testing/web', { app: 'web' }, '10.0.0.1', {
  ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
  source: { file: 'pods.yaml', line: 1 },
})
const portCases: { name: string; port: PolicyPort; words: string }[] = [
  { name: 'a numeric port with its protocol', port: { protocol: 'TCP', port: 80 }, words: 'TCP 80' },
  { name: 'an endPort range', port: { protocol: 'UDP', port: 8000, endPort: 8100 }, words: 'UDP 8000-8100' },
  {
    name: 'a protocol without port is every port of it',
    port: { protocol: 'SCTP' },
    words: 'every SCTP port',
  },
  {
    name: 'a named port resolves on this pod',
    port: { protocol: 'TCP', port: 'http' },
    words: 'named port http (TCP 8080 on this pod)',
  },
  {
    name: 'a named port this pod lacks matches nothing',
    port: { protocol: 'UDP', port: 'http' },
    words: 'named port http (UDP; not declared by this pod: matches nothing here)',
  },
]

describe('words', () => {
  it.each(peerCases)('$name', ({ peer, words }) => expect(describePeer(peer, 'testing')).toBe(words))
  it.each(portCases)('$name', ({ port, words }) => expect(describePort(port, web)).toBe(words))
})

/** Seed 001's testing namespace plus seed 004's ipBlock and a DefaultDeny annotation namespace. */
const nginx = pod('testing/nginx', { app: 'nginx' }, '10.244.1.2', {
  ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
  source: { file: 'pods.yaml', line: 1 },
})
const myapp = pod('testing/myapp', { app: 'myapp' }, '10.244.1.3', {
  ports: [{ containerPort: 80, protocol: 'TCP' }],
  source: { file: 'pods.yaml', line: 20 },
})
const legacy = pod('old/app', { run: 'app' }, '10.244.3.3', { source: { file: 'pods.yaml', line: 60 } })
const cluster = {
  namespaces: [
    ns('testing', {}, NS),
    ns('kube-system', { ns: 'kube-system' }, NS),
    ns('old', {}, { defaultDenyIngress: true, ...NS }),
  ],
  pods: [nginx, myapp, legacy],
  policies: [
    policy('testing/testing-default', sel(), {
      types: ['Ingress', 'Egress'],
      source: { file: 'policies.yaml', line: 1 },
    }),
    policy('testing/myapp-policy', sel({ app: 'myapp' }), {
      types: ['Ingress', 'Egress'],
      ingress: [
        { peers: [{ podSelector: sel({ app: 'nginx' }) }], ports: [{ protocol: 'TCP', port: 80 }] },
        { peers: [{ namespaceSelector: sel({ ns: 'kube-system' }) }] },
      ],
      egress: [{ peers: [{ podSelector: sel({ app: 'nginx' }) }] }],
      source: { file: 'policies.yaml', line: 20 },
    }),
    policy('testing/nginx-policy', sel({ app: 'nginx' }), {
      types: ['Ingress'],
      ingress: [
        {
          peers: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.1.3/32'] } }],
          ports: [{ protocol: 'TCP', port: 'http' }],
        },
      ],
      source: { file: 'policies.yaml', line: 60 },
    }),
    {
      namespace: 'old',
      name: '~default-deny-annotation',
      origin: { kind: 'DefaultDenyAnnotation' as const },
      podSelector: sel(),
      policyTypes: ['Ingress' as const],
      ingress: [],
      egress: [],
      source: { file: 'namespaces.yaml', line: 7 },
    },
  ],
}

describe('explainPod', () => {
  const index = buildIndex(cluster)
  it('says why each direction is (not) isolated and sums it up', () => {
    const e = explainPod(index, myapp)
    expect(e.ingress.isolated).toBe(true)
    expect(e.ingress.reason).toContain('testing/testing-default (policies.yaml:1)')
    expect(e.egress.summary).toBe('only to pods labelled app=nginx in namespace testing on any port')
    expect(e.selectedBy.map((s) => s.policy)).toEqual(['testing/testing-default', 'testing/myapp-policy'])
  })
  it('a pod selected only by a policy with no rules is denied entirely', () => {
    const e = explainPod(index, legacy)
    expect(e.ingress.summary).toBe('denied entirely')
    expect(e.ingress.reason).toContain('the DefaultDeny annotation of namespace old')
    expect(e.egress.reason).toBe('not isolated: no policy with policyTypes Egress selects it')
  })
  it('lists the pods an ipBlock covers and resolves named ports on the pod', () => {
    const e = explainPod(index, nginx)
    const rule = e.ingress.policies.find((p) => p.policy === 'testing/nginx-policy')?.rules[0]
    expect(rule?.matchingPods).toEqual(['old/app', 'testing/nginx'])
    expect(rule?.ports).toBe('named port http (TCP 80 on this pod)')
  })
  it('renders every pod as text and JSON (golden)', async () => {
    const all = explainPods(index)
    await expectGolden('explain/pods.txt', renderPodExplanations(all))
    await expectGolden('explain/pods.json', `${JSON.stringify(all, null, 2)}\n`)
  })
})

describe('palisade explain', () => {
  it('explains seed 001 testing from YAML (golden)', async () => {
    const r = await runCli(['explain', 'test/lint/fixtures/seed-001-testing.yaml'])
    expect(r.code).toBe(0)
    await expectGolden('explain/cli/seed-001-testing.txt', r.stdout)
  })
  it('explains one pod as JSON', async () => {
    const r = await runCli([
      'explain',
      'test/lint/fixtures/seed-001-testing.yaml',
      '--pod',
      'testing/myapp',
      '-o',
      'json',
    ])
    expect(r.code).toBe(0)
    const parsed = JSON.parse(r.stdout) as { pods: { pod: string; summary: string }[] }
    expect(parsed.pods.map((p) => p.pod)).toEqual(['testing/myapp'])
    await expectGolden('explain/cli/seed-001-myapp.json', r.stdout)
  })
  it('refuses an unknown pod with exit 2', async () => {
    const r = await runCli(['explain', 'test/lint/fixtures/seed-001-testing.yaml', '--pod', 'testing/nope'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('no pod or workload "nope"')
  })
})
