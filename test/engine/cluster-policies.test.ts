// The tier model of ClusterNetworkPolicy (docs/semantics.md#cnp-tiers), one row per choice: verdicts name
// the tier, policy, priority and rule that decided.
import { describe, expect, it } from 'vitest'
import { buildIndex, type Endpoint, evaluate, resolveEndpoint } from '../../src/engine/index.js'
import { findOmissions, loadCluster } from '../../src/load/index.js'
import { cnpYaml } from '../fixtures.js'

const BASE = `
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {tenant: one}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {tenant: two}}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {role: infra}}
status: {addresses: [{type: InternalIP, address: 192.168.0.1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {nodeName: n2, containers: [{name: c, image: i, ports: [{containerPort: 8080, name: http}]}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: cli, namespace: b, labels: {app: cli}}
spec: {nodeName: n2, containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: host, namespace: b, labels: {app: host}}
spec: {nodeName: n1, hostNetwork: true, containers: [{name: c, image: i}]}
status: {podIP: 192.168.0.1}
`

const cnp = (name: string, tier: string, priority: number, body: string) =>
  `\n${cnpYaml(name, tier, priority, body)}`

const DENY_IN_FROM_B = (action: string) => `  ingress:
  - action: ${action}
    from: [{namespaces: {matchLabels: {tenant: two}}}]
`
const NP_ALLOW_FROM_B = `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-b, namespace: a}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {tenant: two}}}]}]
`
const NP_DENY_ALL = `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: a}
spec: {podSelector: {}}
`

interface Row {
  readonly name: string
  readonly yaml: string
  readonly from?: string
  readonly to?: string
  readonly port?: string
  readonly allowed: boolean
  /** The deciding side's tier, and the policy/rule when a ClusterNetworkPolicy decided. */
  readonly tier: string
  readonly decidedBy?: string
  readonly passed?: readonly string[]
  readonly side?: 'ingress' | 'egress'
}

const rows: Row[] = [
  { name: 'no policy: default allow', yaml: '', allowed: true, tier: 'default' },
  {
    name: 'Admin Deny is final, over a NetworkPolicy that allows',
    yaml: cnp('deny', 'Admin', 10, DENY_IN_FROM_B('Deny')) + NP_ALLOW_FROM_B,
    allowed: false,
    tier: 'Admin',
    decidedBy: 'deny ingress[0] Deny',
  },
  {
    name: 'Admin Accept is final, over a NetworkPolicy that denies',
    yaml: cnp('acc', 'Admin', 10, DENY_IN_FROM_B('Accept')) + NP_DENY_ALL,
    allowed: true,
    tier: 'Admin',
    decidedBy: 'acc ingress[0] Accept',
  },
  {
    name: 'Admin Pass hands over to NetworkPolicy',
    yaml: cnp('pass', 'Admin', 10, DENY_IN_FROM_B('Pass')) + NP_DENY_ALL,
    allowed: false,
    tier: 'NetworkPolicy',
    passed: ['pass ingress[0] Pass'],
  },
  {
    name: 'Admin Pass skips the rest of the Admin tier, then Baseline decides',
    yaml:
      cnp('pass', 'Admin', 10, DENY_IN_FROM_B('Pass')) +
      cnp('deny', 'Admin', 20, DENY_IN_FROM_B('Deny')) +
      cnp('base', 'Baseline', 10, DENY_IN_FROM_B('Deny')),
    allowed: false,
    tier: 'Baseline',
    decidedBy: 'base ingress[0] Deny',
    passed: ['pass ingress[0] Pass'],
  },
  {
    name: 'NetworkPolicy overrides Baseline for the pods it isolates',
    yaml: cnp('base', 'Baseline', 10, DENY_IN_FROM_B('Deny')) + NP_ALLOW_FROM_B,
    allowed: true,
    tier: 'NetworkPolicy',
  },
  {
    name: 'lower priority first',
    yaml:
      cnp('late', 'Admin', 20, DENY_IN_FROM_B('Deny')) + cnp('early', 'Admin', 5, DENY_IN_FROM_B('Accept')),
    allowed: true,
    tier: 'Admin',
    decidedBy: 'early ingress[0] Accept',
  },
  {
    name: 'same priority: by name (docs/semantics.md#cnp-same-priority)',
    yaml: cnp('zz', 'Admin', 7, DENY_IN_FROM_B('Accept')) + cnp('aa', 'Admin', 7, DENY_IN_FROM_B('Deny')),
    allowed: false,
    tier: 'Admin',
    decidedBy: 'aa ingress[0] Deny',
  },
  {
    name: 'rules in order within a policy',
    yaml: cnp(
      'two',
      'Admin',
      1,
      `  ingress:
  - action: Accept
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: cli}}}}]
    protocols: [{tcp: {destinationPort: {number: 8080}}}]
  - action: Deny
    from: [{namespaces: {}}]
`,
    ),
    allowed: true,
    tier: 'Admin',
    decidedBy: 'two ingress[0] Accept',
  },
  {
    name: 'a named port resolves on the destination pod, any protocol',
    yaml: cnp(
      'named',
      'Admin',
      1,
      `  ingress:
  - action: Deny
    from: [{namespaces: {}}]
    protocols: [{destinationNamedPort: http}]
`,
    ),
    allowed: false,
    tier: 'Admin',
    decidedBy: 'named ingress[0] Deny',
  },
  {
    name: 'a named port the destination does not declare matches nothing',
    yaml: cnp(
      'named',
      'Admin',
      1,
      `  ingress:
  - action: Deny
    from: [{namespaces: {}}]
    protocols: [{destinationNamedPort: grpc}]
`,
    ),
    allowed: true,
    tier: 'default',
  },
  {
    name: 'egress Accept leaves the destination ingress to decide',
    yaml:
      cnp(
        'out',
        'Admin',
        1,
        `  egress:
  - action: Accept
    to: [{namespaces: {}}]
`,
      ) + NP_DENY_ALL,
    allowed: false,
    tier: 'NetworkPolicy',
  },
  {
    name: 'egress to a node by its labels (nodes peer)',
    yaml: cnp(
      'nodes',
      'Admin',
      1,
      `  egress:
  - action: Deny
    to: [{nodes: {matchLabels: {role: infra}}}]
`,
    ),
    from: 'a/web',
    to: '192.168.0.1',
    allowed: false,
    tier: 'Admin',
    decidedBy: 'nodes egress[0] Deny',
    side: 'egress',
  },
  {
    name: 'egress to a networks CIDR',
    yaml: cnp(
      'imds',
      'Admin',
      1,
      `  egress:
  - action: Deny
    to: [{networks: [169.254.169.254/32]}]
`,
    ),
    from: 'a/web',
    to: '169.254.169.254',
    allowed: false,
    tier: 'Admin',
    decidedBy: 'imds egress[0] Deny',
    side: 'egress',
  },
  {
    name: 'a Deny rule with a peer of no known field fails closed: denies everything',
    yaml: cnp(
      'future',
      'Admin',
      1,
      `  ingress:
  - action: Deny
    from: [{services: {}}]
    protocols: [{tcp: {destinationPort: {number: 1}}}]
`,
    ),
    allowed: false,
    tier: 'Admin',
    decidedBy: 'future ingress[0] Deny',
  },
  {
    name: 'an Accept rule with a peer of no known field fails closed: matches nothing',
    yaml:
      cnp(
        'future',
        'Admin',
        1,
        `  ingress:
  - action: Accept
    from: [{services: {}}]
`,
      ) + cnp('base', 'Baseline', 1, DENY_IN_FROM_B('Deny')),
    allowed: false,
    tier: 'Baseline',
    decidedBy: 'base ingress[0] Deny',
  },
  {
    name: 'hostNetwork pods are never a subject',
    yaml: cnp(
      'all',
      'Admin',
      1,
      `  egress:
  - action: Deny
    to: [{namespaces: {}}]
`,
    ),
    from: 'b/host',
    to: 'a/web',
    allowed: true,
    tier: 'default',
  },
]

describe('ClusterNetworkPolicy tiers in the engine', () => {
  it.each(rows)('$name', (row) => {
    const loaded = loadCluster([{ file: 'c.yaml', text: BASE + row.yaml }], { validate: 'warn' })
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error')
    expect(errors).toEqual([])
    const index = buildIndex(loaded.cluster)
    const src = resolveEndpoint(index, row.from ?? 'b/cli') as Endpoint
    const dst = resolveEndpoint(index, row.to ?? 'a/web') as Endpoint
    const [num, proto] = (row.port ?? '8080/TCP').split('/')
    const v = evaluate(index, src, dst, { port: Number(num), protocol: proto as 'TCP' })
    expect(v.allowed).toBe(row.allowed)
    const d = (row.side ?? 'ingress') === 'ingress' ? v.ingress : v.egress
    expect(d.tier).toBe(row.tier)
    const ref = (r: { policy: string; direction: string; rule: number; action: string }) =>
      `${r.policy} ${r.direction.toLowerCase()}[${r.rule}] ${r.action}`
    expect(d.decidedBy ? ref(d.decidedBy) : undefined).toBe(row.decidedBy)
    expect((d.passedBy ?? []).map(ref)).toEqual(row.passed ?? [])
  })

  it('names the file:line of the deciding rule', () => {
    const loaded = loadCluster(
      [{ file: 'c.yaml', text: BASE + cnp('deny', 'Admin', 10, DENY_IN_FROM_B('Deny')) }],
      {
        validate: 'strict',
      },
    )
    const index = buildIndex(loaded.cluster)
    const v = evaluate(
      index,
      resolveEndpoint(index, 'b/cli') as Endpoint,
      resolveEndpoint(index, 'a/web') as Endpoint,
      { port: 80, protocol: 'TCP' },
    )
    expect(v.ingress.decidedBy?.ruleSource).toEqual(expect.objectContaining({ file: 'c.yaml', line: 42 }))
    expect(v.ingress.decidedBy?.priority).toBe(10)
    expect(v.ingress.decidedBy?.tier).toBe('Admin')
  })

  it('warns of a peer it cannot read and of domainNames, which make the answer partial', () => {
    const yaml =
      BASE +
      cnp(
        'dns',
        'Admin',
        1,
        `  egress:
  - action: Accept
    to: [{domainNames: [example.com]}]
  - action: Deny
    to: [{futurePeer: {}}]
`,
      )
    const loaded = loadCluster([{ file: 'c.yaml', text: yaml }], { validate: 'warn' })
    const codes = loaded.diagnostics.map((d) => `${d.severity} ${d.code} ${d.path.join('.')}`)
    expect(codes).toContain('warning load.unsupported-peer spec.egress.0.to.0.domainNames')
    expect(codes).toContain('warning load.unknown-peer spec.egress.1.to.0')
    expect(findOmissions(loaded.diagnostics)?.policies).toBe(1)
    expect(loaded.cluster.clusterPolicies?.map((p) => p.name)).toEqual(['dns'])
  })

  it('keeps AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1) unanalysed', () => {
    const yaml = `${BASE}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: old}
spec: {priority: 1, subject: {namespaces: {}}}
`
    const loaded = loadCluster([{ file: 'c.yaml', text: yaml }], { validate: 'strict' })
    expect(loaded.diagnostics.map((d) => d.code)).toContain('load.unanalysed-policy')
    expect(loaded.cluster.clusterPolicies).toBeUndefined()
  })
})
