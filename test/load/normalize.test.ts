import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadCluster, normalizeObjects, parseDocuments } from '../../src/load/index.js'
import {
  type ClusterState,
  DEFAULT_DENY_ANNOTATION_POLICY,
  type Diagnostic,
  type NetworkPolicy,
  type Pod,
} from '../../src/model/index.js'

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

/** Parses YAML text (no validation) and normalizes it. */
function load(text: string, file = 'in.yaml'): { cluster: ClusterState; diagnostics: readonly Diagnostic[] } {
  const parsed = parseDocuments({ file, text })
  expect(parsed.diagnostics).toEqual([])
  const r = normalizeObjects(parsed.value)
  return { cluster: r.value, diagnostics: r.diagnostics }
}

const policyYaml = (spec: string, meta = 'name: p\n  namespace: ns'): string =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  ${meta}\nspec:\n${spec}`

function onePolicy(spec: string): NetworkPolicy {
  const { cluster } = load(policyYaml(spec))
  expect(cluster.policies).toHaveLength(1)
  return cluster.policies[0] as NetworkPolicy
}

interface PolicyCase {
  readonly name: string
  readonly spec: string
  readonly expected: Partial<NetworkPolicy>
}

const policyCases: PolicyCase[] = [
  {
    name: 'policyTypes absent without egress defaults to [Ingress]',
    spec: '  podSelector: {}\n',
    expected: { policyTypes: ['Ingress'], ingress: [], egress: [] },
  },
  {
    name: 'policyTypes absent with an egress rule defaults to [Ingress, Egress]',
    spec: '  podSelector: {}\n  egress:\n  - {}\n',
    expected: { policyTypes: ['Ingress', 'Egress'] },
  },
  {
    name: 'policyTypes absent with an empty egress list defaults to [Ingress] (len(egress) == 0)',
    spec: '  podSelector: {}\n  egress: []\n',
    expected: { policyTypes: ['Ingress'], egress: [] },
  },
  {
    name: 'an empty policyTypes list is defaulted like an absent one',
    spec: '  podSelector: {}\n  policyTypes: []\n  egress: [{}]\n',
    expected: { policyTypes: ['Ingress', 'Egress'] },
  },
  {
    name: 'given policyTypes are kept as written, Egress alone included',
    spec: '  podSelector: {}\n  policyTypes: [Egress]\n  ingress: [{}]\n',
    expected: { policyTypes: ['Egress'] },
  },
  {
    name: 'a missing podSelector is the empty selector (every pod of the namespace)',
    spec: '  policyTypes: [Ingress]\n',
    expected: { podSelector: { matchLabels: {}, matchExpressions: [] } },
  },
  {
    name: 'a port without protocol defaults to TCP',
    spec: '  podSelector: {}\n  ingress:\n  - ports:\n    - port: 80\n',
    expected: { ingress: [expect.objectContaining({ ports: [{ protocol: 'TCP', port: 80 }] })] },
  },
  {
    name: 'a port with only a protocol keeps port undefined (every port of UDP)',
    spec: '  podSelector: {}\n  ingress:\n  - ports:\n    - protocol: UDP\n',
    expected: { ingress: [expect.objectContaining({ ports: [{ protocol: 'UDP' }] })] },
  },
  {
    name: 'a quoted numeric port stays a string, as IntOrString keeps it',
    spec: '  podSelector: {}\n  ingress:\n  - ports:\n    - port: "80"\n',
    expected: { ingress: [expect.objectContaining({ ports: [{ protocol: 'TCP', port: '80' }] })] },
  },
  {
    name: 'a named port and an endPort range are kept',
    spec: '  podSelector: {}\n  egress:\n  - ports:\n    - port: dns\n      protocol: UDP\n    - port: 8000\n      endPort: 8100\n',
    expected: {
      egress: [
        expect.objectContaining({
          ports: [
            { protocol: 'UDP', port: 'dns' },
            { protocol: 'TCP', port: 8000, endPort: 8100 },
          ],
        }),
      ],
    },
  },
  {
    name: 'an empty rule has neither peers nor ports (allows everything)',
    spec: '  podSelector: {}\n  ingress:\n  - {}\n',
    expected: { ingress: [{ source: expect.anything() }] },
  },
  {
    name: 'an empty from list and an empty ports list are the same as absent',
    spec: '  podSelector: {}\n  ingress:\n  - from: []\n    ports: []\n',
    expected: { ingress: [{ source: expect.anything() }] },
  },
  {
    name: 'peers keep exactly the fields given: podSelector AND namespaceSelector in one peer',
    spec: '  podSelector: {}\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {a: b}}\n      namespaceSelector: {}\n    - ipBlock: {cidr: 10.0.0.0/8}\n',
    expected: {
      ingress: [
        expect.objectContaining({
          peers: [
            {
              podSelector: { matchLabels: { a: 'b' }, matchExpressions: [] },
              namespaceSelector: { matchLabels: {}, matchExpressions: [] },
            },
            { ipBlock: { cidr: '10.0.0.0/8', except: [] } },
          ],
        }),
      ],
    },
  },
  {
    name: 'matchExpressions keep operator and values; Exists gets empty values',
    spec: '  podSelector:\n    matchExpressions:\n    - {key: tier, operator: In, values: [a, b]}\n    - {key: canary, operator: Exists}\n',
    expected: {
      podSelector: {
        matchLabels: {},
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['a', 'b'] },
          { key: 'canary', operator: 'Exists', values: [] },
        ],
      },
    },
  },
  {
    name: 'a policy without metadata.namespace lives in default',
    spec: '  podSelector: {}\n',
    expected: { name: 'p', origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' } },
  },
]

describe('normalizeObjects: NetworkPolicy defaulting', () => {
  it.each(policyCases)('$name', ({ spec, expected }) => {
    expect(onePolicy(spec)).toMatchObject(expected)
  })

  it('places a policy without namespace in default', () => {
    const { cluster } = load(policyYaml('  podSelector: {}\n', 'name: p'))
    expect(cluster.policies[0]?.namespace).toBe('default')
    expect(cluster.namespaces.map((n) => [n.name, n.declared])).toEqual([['default', false]])
  })

  it('records the source of the policy and of each rule', () => {
    const { cluster } = load(fixture('ports-policy.yaml'), 'ports-policy.yaml')
    const p = cluster.policies[0]
    expect(p?.source).toEqual({ file: 'ports-policy.yaml', line: 2, column: 1, doc: 0 })
    expect(p?.ingress[0]?.source).toEqual({ file: 'ports-policy.yaml', line: 12, column: 7, doc: 0 })
    expect(p?.egress[0]?.source).toMatchObject({ line: 19, column: 7 })
    expect(p?.policyTypes).toEqual(['Ingress', 'Egress'])
    expect(p?.ingress[0]?.ports).toEqual([
      { protocol: 'UDP', port: 80 },
      { protocol: 'TCP', port: 'http' },
    ])
  })

  it('reads extensions/v1beta1 policies with v1 semantics and records their apiVersion', () => {
    const { cluster } = load(fixture('seed-000-default-deny.yaml'))
    const p = cluster.policies.find((x) => x.name === 'access-nginx')
    expect(p).toMatchObject({
      origin: { kind: 'NetworkPolicy', apiVersion: 'extensions/v1beta1' },
      policyTypes: ['Ingress'],
      ingress: [{ peers: [{ podSelector: { matchLabels: { access: 'true' }, matchExpressions: [] } }] }],
    })
  })
})

describe('normalizeObjects: namespaces', () => {
  it('adds kubernetes.io/metadata.name to declared namespaces, over any value given', () => {
    const { cluster } = load(
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    team: a\n    kubernetes.io/metadata.name: other\n',
    )
    expect(cluster.namespaces).toEqual([
      {
        name: 'shop',
        labels: { team: 'a', 'kubernetes.io/metadata.name': 'shop' },
        declared: true,
        defaultDenyIngress: false,
        source: { file: 'in.yaml', line: 1, column: 1, doc: 0 },
      },
    ])
  })

  it('implies an undeclared namespace with a warning naming the first object that used it', () => {
    const { cluster, diagnostics } = load(
      `${policyYaml('  podSelector: {}\n', 'name: a\n  namespace: team')}---\n${policyYaml('  podSelector: {}\n', 'name: b\n  namespace: team')}`,
    )
    expect(cluster.namespaces).toEqual([
      {
        name: 'team',
        labels: { 'kubernetes.io/metadata.name': 'team' },
        declared: false,
        defaultDenyIngress: false,
      },
    ])
    const d = diagnostics.filter((x) => x.code === 'load.implied-namespace')
    expect(d).toHaveLength(1)
    expect(d[0]).toMatchObject({ severity: 'warning' })
    expect(d[0]?.message).toContain('NetworkPolicy team/a')
  })

  it('implies default with only an info note: every cluster has it', () => {
    const { diagnostics } = load(policyYaml('  podSelector: {}\n', 'name: p'))
    expect(diagnostics.filter((x) => x.code === 'load.implied-namespace').map((x) => x.severity)).toEqual([
      'info',
    ])
  })

  it('turns the DefaultDeny annotation (seed 000) into a synthetic ingress policy', () => {
    const { cluster } = load(fixture('seed-000-default-deny.yaml'), 'seed-000.yaml')
    expect(cluster.namespaces.find((n) => n.name === 'test')?.defaultDenyIngress).toBe(true)
    const synthetic = cluster.policies.find((p) => p.name === DEFAULT_DENY_ANNOTATION_POLICY)
    expect(synthetic).toEqual({
      namespace: 'test',
      name: DEFAULT_DENY_ANNOTATION_POLICY,
      origin: { kind: 'DefaultDenyAnnotation' },
      podSelector: { matchLabels: {}, matchExpressions: [] },
      policyTypes: ['Ingress'],
      ingress: [],
      egress: [],
      source: { file: 'seed-000.yaml', line: 8, column: 5, doc: 0 },
    })
  })

  interface AnnotationCase {
    readonly name: string
    readonly value: string
    readonly deny: boolean
    readonly warning: boolean
  }
  const annotationCases: AnnotationCase[] = [
    {
      name: 'DefaultDeny isolates ingress',
      value: '{"ingress":{"isolation":"DefaultDeny"}}',
      deny: true,
      warning: false,
    },
    { name: 'an empty JSON object isolates nothing, silently', value: '{}', deny: false, warning: false },
    {
      name: 'invalid JSON is ignored with a warning',
      value: '{ingress: DefaultDeny',
      deny: false,
      warning: true,
    },
    {
      name: 'another isolation value is ignored with a warning',
      value: '{"ingress":{"isolation":"deny"}}',
      deny: false,
      warning: true,
    },
  ]
  it.each(annotationCases)('annotation: $name', ({ value, deny, warning }) => {
    const text = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns1\n  annotations:\n    net.beta.kubernetes.io/network-policy: '${value}'\n`
    const { cluster, diagnostics } = load(text)
    expect(cluster.namespaces[0]?.defaultDenyIngress).toBe(deny)
    expect(cluster.policies.length).toBe(deny ? 1 : 0)
    const warnings = diagnostics.filter((d) => d.code === 'load.invalid-isolation-annotation')
    expect(warnings.map((d) => [d.severity, d.path.at(-1), d.source?.line])).toEqual(
      warning ? [['warning', 'net.beta.kubernetes.io/network-policy', 6]] : [],
    )
  })
})

describe('normalizeObjects: pods', () => {
  it('reads a pod from a kubectl dump: labels, ports, node, IPs primary first', () => {
    const { cluster } = load(fixture('kubectl-dump.yaml'))
    expect(cluster.pods).toEqual<Pod[]>([
      {
        namespace: 'shop',
        name: 'web-7d4b9c-x2x9z',
        labels: { app: 'web', 'pod-template-hash': '7d4b9c' },
        ips: ['10.244.1.7', 'fd00:10:244:1::7'],
        ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }],
        nodeName: 'node-1',
        hostNetwork: false,
        phase: 'Running',
        source: { file: 'in.yaml', line: 4, column: 5, doc: 0 },
      },
    ])
  })

  it('leaves out Succeeded and Failed pods with an info note', () => {
    const { diagnostics } = load(fixture('kubectl-dump.yaml'))
    expect(diagnostics.filter((d) => d.code === 'load.terminal-pod')).toMatchObject([
      { severity: 'info', object: 'Pod shop/migrate-abc12' },
    ])
  })

  it('falls back to status.podIP and keeps pods without IP', () => {
    const text = [
      'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n}\nstatus: {podIP: 10.0.0.1}',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: n}\nspec: {hostNetwork: true, containers: [{name: c, ports: [{containerPort: 53, protocol: UDP}]}]}',
    ].join('\n---\n')
    const { cluster } = load(text)
    expect(cluster.pods.map((p) => [p.name, p.ips, p.hostNetwork, p.ports])).toEqual([
      ['a', ['10.0.0.1'], false, []],
      ['b', [], true, [{ containerPort: 53, protocol: 'UDP' }]],
    ])
  })

  it('leaves out a pod whose labels are not strings, as the API server cannot decode it', () => {
    const { cluster, diagnostics } = load(
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: {enabled: true}\n',
    )
    expect(cluster.pods).toEqual([])
    expect(diagnostics.map((d) => d.code)).toContain('load.invalid-field')
    expect(diagnostics.map((d) => d.code)).toContain('load.rejected')
  })
})

describe('normalizeObjects: pod status that cannot be decoded', () => {
  it.each([
    { name: 'status as a string', status: '"s"', path: ['status'] },
    { name: 'a podIPs entry as a string', status: '{podIPs: [10.0.0.1]}', path: ['status', 'podIPs', 0] },
  ])('$name: the pod is left out, never kept without its address', ({ status, path }) => {
    const { cluster, diagnostics } = load(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n}\nstatus: ${status}\n`,
    )
    expect(cluster.pods).toEqual([])
    expect(diagnostics.filter((d) => d.code === 'load.invalid-field').map((d) => d.path)).toEqual([path])
    expect(diagnostics.map((d) => d.code)).toContain('load.rejected')
  })

  it('is refused whatever --validate says (warn keeps schema problems as warnings)', () => {
    const text =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n}\nspec: {containers: [{name: c, image: i}]}\nstatus: "s"\n'
    for (const validate of ['strict', 'warn', 'ignore'] as const) {
      const loaded = loadCluster([{ file: 'p.yaml', text }], { validate })
      expect(loaded.cluster.pods, validate).toEqual([])
    }
  })
})

describe('normalizeObjects: workloads', () => {
  const { cluster, diagnostics } = load(fixture('workloads.yaml'))
  const byName = new Map(cluster.pods.map((p) => [p.name, p]))

  interface WorkloadCase {
    readonly name: string
    readonly pod: string
    readonly expected: Partial<Pod>
  }
  const workloadCases: WorkloadCase[] = [
    {
      name: 'a Deployment gives one pod with its template labels, container ports and sidecar ports',
      pod: 'web',
      expected: {
        namespace: 'apps',
        labels: { app: 'web' },
        ips: [],
        hostNetwork: false,
        workload: { kind: 'Deployment', name: 'web' },
        ports: [
          { containerPort: 8080, name: 'http', protocol: 'TCP' },
          { containerPort: 15001, name: 'envoy', protocol: 'TCP' },
        ],
      },
    },
    {
      name: 'a StatefulSet gives one pod',
      pod: 'db',
      expected: { workload: { kind: 'StatefulSet', name: 'db' }, labels: { app: 'db' } },
    },
    {
      name: 'a DaemonSet keeps hostNetwork from its template',
      pod: 'agent',
      expected: {
        workload: { kind: 'DaemonSet', name: 'agent' },
        hostNetwork: true,
        ports: [{ containerPort: 9100, protocol: 'UDP' }],
      },
    },
    {
      name: 'a ReplicaSet keeps nodeName from its template',
      pod: 'cache',
      expected: { workload: { kind: 'ReplicaSet', name: 'cache' }, nodeName: 'node-2' },
    },
    {
      name: 'a ReplicationController gives one pod',
      pod: 'legacy',
      expected: { workload: { kind: 'ReplicationController', name: 'legacy' } },
    },
    {
      name: 'a Job gives one pod',
      pod: 'once',
      expected: { workload: { kind: 'Job', name: 'once' }, labels: { app: 'once' } },
    },
    {
      name: 'a CronJob takes its pod from spec.jobTemplate.spec.template',
      pod: 'nightly',
      expected: {
        workload: { kind: 'CronJob', name: 'nightly' },
        labels: { app: 'nightly' },
        ports: [{ containerPort: 7000, protocol: 'SCTP' }],
      },
    },
    {
      name: 'an extensions/v1beta1 Deployment is read too',
      pod: 'old',
      expected: { workload: { kind: 'Deployment', name: 'old' } },
    },
  ]
  it.each(workloadCases)('$name', ({ pod, expected }) => {
    expect(byName.get(pod)).toMatchObject(expected)
  })

  it('makes exactly one pod per workload, sorted by namespace/name, with no errors', () => {
    expect(cluster.pods.map((p) => p.name)).toEqual([
      'agent',
      'cache',
      'db',
      'legacy',
      'nightly',
      'old',
      'once',
      'web',
    ])
    expect(diagnostics.filter((d) => d.severity !== 'info')).toEqual([
      expect.objectContaining({ code: 'load.implied-namespace', severity: 'warning' }),
    ])
  })

  it('prefers a real pod of the same namespace/name over the representative', () => {
    const text = `${fixture('workloads.yaml')}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: apps, labels: {real: "yes"}}\n`
    const r = load(text)
    expect(r.cluster.pods.find((p) => p.name === 'web')).toMatchObject({ labels: { real: 'yes' } })
    expect(r.cluster.pods.find((p) => p.name === 'web')?.workload).toBeUndefined()
    expect(r.diagnostics.map((d) => d.code)).toContain('load.workload-pod-shadowed')
  })

  it('makes no representative pod for a workload whose pods are in the input (kubectl get all)', () => {
    const text = [
      fixture('kubectl-dump.yaml'),
      'apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-7d4b9c\n  namespace: shop\n  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true, uid: x}]\nspec:\n  template:\n    metadata: {labels: {app: web}}',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: web}}',
    ].join('\n---\n')
    const r = load(text)
    expect(r.cluster.pods.map((p) => p.name)).toEqual(['web-7d4b9c-x2x9z'])
    expect(r.diagnostics.filter((d) => d.code === 'load.workload-has-pods').map((d) => d.object)).toEqual([
      'ReplicaSet shop/web-7d4b9c',
      'Deployment shop/web',
    ])
  })
})

describe('normalizeObjects: objects and kinds', () => {
  it('lets the later of two definitions of one object win, with a warning', () => {
    const { cluster, diagnostics } = load(
      `${policyYaml('  podSelector: {}\n')}---\n${policyYaml('  podSelector: {}\n  policyTypes: [Egress]\n')}`,
    )
    expect(cluster.policies.map((p) => p.policyTypes)).toEqual([['Egress']])
    expect(diagnostics.filter((d) => d.code === 'load.duplicate-object')).toMatchObject([
      { severity: 'warning', object: 'NetworkPolicy ns/p', source: { line: 9, doc: 1 } },
    ])
  })

  it('treats a policy in networking.k8s.io/v1 and extensions/v1beta1 with one name as one object', () => {
    const { cluster } = load(
      `${policyYaml('  podSelector: {}\n')}---\n${policyYaml('  podSelector: {}\n').replace('networking.k8s.io/v1', 'extensions/v1beta1')}`,
    )
    expect(cluster.policies.map((p) => p.origin)).toEqual([
      { kind: 'NetworkPolicy', apiVersion: 'extensions/v1beta1' },
    ])
  })

  it('skips other kinds with an info note', () => {
    const { cluster, diagnostics } = load(
      'apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n',
    )
    expect(cluster).toEqual({ namespaces: [], pods: [], policies: [] })
    expect(diagnostics.map((d) => [d.code, d.severity, d.object])).toEqual([
      ['load.skipped-kind', 'info', 'Service s'],
      ['load.skipped-kind', 'info', 'Widget w'],
    ])
  })

  it.each(['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'])(
    'skips kind %s like any other kind (no lookup reaches Object.prototype)',
    (kind) => {
      const { cluster, diagnostics } = load(
        `apiVersion: v1\nkind: ${kind}\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: ${kind}\nmetadata: {name: b}\n`,
      )
      expect(cluster).toEqual({ namespaces: [], pods: [], policies: [] })
      expect(diagnostics.map((d) => [d.code, d.object])).toEqual([
        ['load.skipped-kind', `${kind} a`],
        ['load.skipped-kind', `${kind} b`],
      ])
    },
  )

  it('reads labels named like Object.prototype members as own labels, __proto__ included', () => {
    const { cluster } = load(
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {constructor: a, toString: b, "__proto__": c}\n',
    )
    const labels = (cluster.pods[0] as Pod).labels
    expect(Object.keys(labels).sort()).toEqual(['__proto__', 'constructor', 'toString'])
    expect(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value).toBe('c')
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype)
  })

  it('sorts namespaces, pods and policies whatever the input order', () => {
    const text = ['b/z', 'a/x', 'b/a', 'a/b']
      .map((k) => {
        const [ns, name] = k.split('/')
        return `${policyYaml('  podSelector: {}\n', `name: ${name}\n  namespace: ${ns}`)}---\napiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ${ns}}\n`
      })
      .join('---\n')
    const { cluster } = load(text)
    expect(cluster.namespaces.map((n) => n.name)).toEqual(['a', 'b'])
    expect(cluster.pods.map((p) => `${p.namespace}/${p.name}`)).toEqual(['a/b', 'a/x', 'b/a', 'b/z'])
    expect(cluster.policies.map((p) => `${p.namespace}/${p.name}`)).toEqual(['a/b', 'a/x', 'b/a', 'b/z'])
  })
})
