// The ClusterNetworkPolicy lint checks, one row per finding and per near miss that must stay quiet.
import { describe, expect, it } from 'vitest'
import { lintInputs } from '../../src/lint/index.js'
import { cnpYaml } from '../fixtures.js'

const CLUSTER = `apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {tenant: one}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {tenant: two}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: cli, namespace: b, labels: {app: cli}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.2}
`

const cnp = cnpYaml

const NP_A = `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: a}
spec:
  podSelector: {}
  ingress: [{}]
`
const IN = (action: string, from = '{namespaces: {}}', protocols = '') =>
  `  ingress:\n  - action: ${action}\n    from: [${from}]\n${protocols ? `    protocols: ${protocols}\n` : ''}`

interface Row {
  readonly name: string
  readonly yaml: string
  /** 'code object path' of the CNP findings, in order. */
  readonly findings: readonly string[]
}

const rows: Row[] = [
  {
    name: 'same priority, overlapping rules, different actions',
    yaml: cnp('x', 'Admin', 5, IN('Deny')) + cnp('yy', 'Admin', 5, IN('Accept')),
    findings: ['lint.cnp-same-priority-overlap ClusterNetworkPolicy yy spec.priority'],
  },
  {
    name: 'same priority, same action: quiet',
    yaml: cnp('x', 'Admin', 5, IN('Deny')) + cnp('yy', 'Admin', 5, IN('Deny')),
    findings: [],
  },
  {
    name: 'same priority, disjoint ports: quiet',
    yaml:
      cnp('x', 'Admin', 5, IN('Deny', '{namespaces: {}}', '[{tcp: {destinationPort: {number: 80}}}]')) +
      cnp('yy', 'Admin', 5, IN('Accept', '{namespaces: {}}', '[{tcp: {destinationPort: {number: 81}}}]')),
    findings: [],
  },
  {
    name: 'same priority in different tiers: no overlap finding (the Admin Deny decides first)',
    yaml: cnp('x', 'Admin', 5, IN('Deny')) + cnp('yy', 'Baseline', 5, IN('Accept')),
    findings: ['lint.cnp-baseline-unreachable ClusterNetworkPolicy yy spec.ingress.0'],
  },
  {
    name: 'an Admin Pass with no NetworkPolicy behind it',
    yaml: cnp('p', 'Admin', 1, IN('Pass'), '{namespaces: {matchLabels: {tenant: two}}}'),
    findings: ['lint.cnp-pass-without-networkpolicy ClusterNetworkPolicy p spec.ingress.0.action'],
  },
  {
    name: 'an Admin Pass onto a NetworkPolicy: quiet',
    yaml: cnp('p', 'Admin', 1, IN('Pass'), '{namespaces: {matchLabels: {tenant: one}}}') + NP_A,
    findings: [],
  },
  {
    name: 'a Pass in the Baseline tier',
    yaml: cnp('p', 'Baseline', 1, IN('Pass'), '{namespaces: {matchLabels: {tenant: two}}}'),
    findings: ['lint.cnp-pass-without-networkpolicy ClusterNetworkPolicy p spec.ingress.0.action'],
  },
  {
    name: 'a rule after a broader one in the same policy',
    yaml: cnp(
      's',
      'Admin',
      1,
      `  ingress:
  - {action: Deny, from: [{namespaces: {}}]}
  - {action: Accept, from: [{pods: {namespaceSelector: {matchLabels: {tenant: two}}, podSelector: {}}}]}
`,
    ),
    findings: ['lint.cnp-rule-shadowed ClusterNetworkPolicy s spec.ingress.1'],
  },
  {
    name: 'a narrower rule first: quiet',
    yaml: cnp(
      's',
      'Admin',
      1,
      `  ingress:
  - {action: Accept, from: [{namespaces: {matchLabels: {tenant: two}}}], protocols: [{tcp: {destinationPort: {number: 80}}}]}
  - {action: Deny, from: [{namespaces: {}}]}
`,
    ),
    findings: [],
  },
  {
    name: 'a rule covered by a policy of higher precedence over the same pods',
    yaml:
      cnp('first', 'Admin', 1, IN('Deny')) +
      cnp(
        'later',
        'Admin',
        9,
        IN('Accept', '{namespaces: {matchLabels: {tenant: two}}}'),
        '{namespaces: {matchLabels: {tenant: one}}}',
      ),
    findings: ['lint.cnp-rule-shadowed ClusterNetworkPolicy later spec.ingress.0'],
  },
  {
    name: 'networks inside a broader networks entry',
    yaml: cnp(
      'nets',
      'Admin',
      1,
      `  egress:
  - {action: Deny, to: [{networks: [10.0.0.0/8]}]}
  - {action: Accept, to: [{networks: [10.1.0.0/16]}]}
`,
    ),
    findings: ['lint.cnp-rule-shadowed ClusterNetworkPolicy nets spec.egress.1'],
  },
  {
    name: 'Baseline rules for pods NetworkPolicies isolate',
    yaml: cnp('base', 'Baseline', 1, IN('Deny'), '{namespaces: {matchLabels: {tenant: one}}}') + NP_A,
    findings: ['lint.cnp-baseline-unreachable ClusterNetworkPolicy base spec.ingress'],
  },
  {
    name: 'a Baseline rule the Admin tier decides first',
    yaml:
      cnp('adm', 'Admin', 1, IN('Deny')) +
      cnp('base', 'Baseline', 1, IN('Accept', '{namespaces: {matchLabels: {tenant: two}}}')),
    findings: ['lint.cnp-baseline-unreachable ClusterNetworkPolicy base spec.ingress.0'],
  },
  {
    name: 'a Baseline rule behind an Admin Pass: quiet',
    yaml:
      cnp(
        'adm',
        'Admin',
        1,
        `  ingress:\n  - {action: Pass, from: [{namespaces: {}}]}\n  - {action: Deny, from: [{namespaces: {}}]}\n`,
      ) + cnp('base', 'Baseline', 1, IN('Accept', '{namespaces: {matchLabels: {tenant: two}}}')),
    findings: [
      'lint.cnp-pass-without-networkpolicy ClusterNetworkPolicy adm spec.ingress.0.action',
      'lint.cnp-rule-shadowed ClusterNetworkPolicy adm spec.ingress.1',
    ],
  },
]

describe('ClusterNetworkPolicy lint checks', () => {
  it.each(rows)('$name', ({ yaml, findings }) => {
    const r = lintInputs([{ file: 'c.yaml', text: CLUSTER + yaml }], { validate: 'strict' })
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    const got = r.diagnostics
      .filter((d) => d.code.startsWith('lint.cnp-'))
      .map((d) => `${d.code} ${d.object} ${d.path.join('.')}`)
    expect(got).toEqual(findings)
  })

  it('points at the line of the field and names both rules', () => {
    const yaml = cnp('first', 'Admin', 1, IN('Deny')) + cnp('later', 'Admin', 9, IN('Accept'))
    const r = lintInputs([{ file: 'c.yaml', text: CLUSTER + yaml }], { validate: 'strict' })
    const d = r.diagnostics.find((x) => x.code === 'lint.cnp-rule-shadowed')
    expect(d?.source).toEqual(expect.objectContaining({ file: 'c.yaml', line: 40 }))
    expect(d?.message).toBe(
      'ingress[0] (Accept) is never reached: every connection it matches is decided first by Admin first (priority 1) ingress[0] (Deny)',
    )
  })
})
