import { describe, expect, it } from 'vitest'
import { LINT_RULES, lintInputs } from '../../src/lint/index.js'
import type { ValidationMode } from '../../src/load/index.js'
import { runCli } from '../cli/run.js'
import { cnpYaml } from '../fixtures.js'
import { expectGolden } from '../golden.js'

const doc = (text: string) => ({ file: 'case.yaml', text })
const NS = `apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: team-a, labels: {app: web}}
spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.1.0.5}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: team-a, labels: {app: db}}
spec: {containers: [{name: c, image: x, ports: [{containerPort: 5432}]}]}
status: {podIP: 10.1.0.6}
---
`
const np = (name: string, spec: string, ns = 'team-a', apiVersion = 'networking.k8s.io/v1') =>
  `apiVersion: ${apiVersion}\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${spec}\n---\n`

const POD =
  'apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default}\nspec: {containers: [{name: c, image: i}]}\nstatus: {podIP: 10.0.0.1}\n'

/** A ClusterNetworkPolicy over every namespace with one ingress rule from every namespace. */
function cnp(name: string, priority: number, action: string, tier = 'Admin'): string {
  return cnpYaml(name, tier, priority, `  ingress: [{action: ${action}, from: [{namespaces: {}}]}]\n`)
}

interface Case {
  readonly name: string
  readonly text: string
  readonly code: string
  readonly fires: boolean
  readonly validate?: ValidationMode
}

const cases: Case[] = [
  {
    name: 'a policy whose podSelector matches no pod selects nothing',
    text: NS + np('p', '  podSelector: {matchLabels: {app: nope}}'),
    code: 'lint.no-pods-selected',
    fires: true,
  },
  {
    name: 'a policy selecting a pod is not reported as selecting nothing',
    text: NS + np('p', '  podSelector: {matchLabels: {app: web}}'),
    code: 'lint.no-pods-selected',
    fires: false,
  },
  {
    name: 'a namespaceSelector that matches no namespace is reported',
    text:
      NS + np('p', '  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {team: b}}}]}]'),
    code: 'lint.namespace-selector-matches-nothing',
    fires: true,
  },
  {
    name: 'a podSelector peer that matches no pod is reported',
    text:
      NS + np('p', '  podSelector: {}\n  ingress: [{from: [{podSelector: {matchLabels: {app: cache}}}]}]'),
    code: 'lint.pod-selector-matches-nothing',
    fires: true,
  },
  {
    name: 'egress deny-all blocks DNS',
    text: NS + np('p', '  podSelector: {}\n  policyTypes: [Egress]'),
    code: 'lint.egress-blocks-dns',
    fires: true,
  },
  {
    name: 'an egress rule to UDP 53 anywhere keeps DNS',
    text:
      NS +
      np('p', '  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{ports: [{port: 53, protocol: UDP}]}]'),
    code: 'lint.egress-blocks-dns',
    fires: false,
  },
  {
    name: 'egress to kube-system on any port keeps DNS',
    text:
      NS +
      np(
        'p',
        '  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]}]',
      ),
    code: 'lint.egress-blocks-dns',
    fires: false,
  },
  {
    name: 'a named port no selected pod declares is reported',
    text: NS + np('p', '  podSelector: {matchLabels: {app: db}}\n  ingress: [{ports: [{port: http}]}]'),
    code: 'lint.named-port-undeclared',
    fires: true,
  },
  {
    name: 'a named port the selected pod declares is fine',
    text:
      NS +
      np(
        'p',
        '  podSelector: {matchLabels: {app: web}}\n  ingress: [{ports: [{port: http, protocol: TCP}]}]',
      ),
    code: 'lint.named-port-undeclared',
    fires: false,
  },
  {
    name: 'two identical rules: the second is shadowed',
    text:
      NS +
      np(
        'p',
        '  podSelector: {}\n  ingress:\n  - ports: [{port: 80, protocol: TCP}]\n  - ports: [{port: 80, protocol: TCP}]',
      ),
    code: 'lint.rule-shadowed',
    fires: true,
  },
  {
    name: 'a rule without from covers a rule with from on the same ports',
    text:
      NS +
      np(
        'p',
        '  podSelector: {}\n  ingress:\n  - from: [{podSelector: {}}]\n    ports: [{port: 80, protocol: TCP}]\n  - ports: [{port: 80, protocol: TCP}]',
      ),
    code: 'lint.rule-shadowed',
    fires: true,
  },
  {
    name: 'rules on different ports do not shadow each other',
    text:
      NS +
      np(
        'p',
        '  podSelector: {}\n  ingress:\n  - ports: [{port: 80, protocol: TCP}]\n  - ports: [{port: 81, protocol: TCP}]',
      ),
    code: 'lint.rule-shadowed',
    fires: false,
  },
  {
    name: 'an ipBlock containing pod addresses is reported',
    text: NS + np('p', '  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.1.0.0/16}}]}]'),
    code: 'lint.ipblock-covers-pods',
    fires: true,
  },
  {
    name: 'an ipBlock whose except removes every pod address is fine',
    text:
      NS +
      np(
        'p',
        '  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/24]}}]}]',
      ),
    code: 'lint.ipblock-covers-pods',
    fires: false,
  },
  {
    name: 'egress rules with policyTypes [Ingress] are ignored',
    text:
      NS +
      np(
        'p',
        '  podSelector: {}\n  policyTypes: [Ingress]\n  egress: [{ports: [{port: 53, protocol: UDP}]}]',
      ),
    code: 'lint.egress-rules-ignored',
    fires: true,
  },
  {
    name: 'egress rules without policyTypes are not ignored (Egress is defaulted)',
    text: NS + np('p', '  podSelector: {}\n  egress: [{ports: [{port: 53, protocol: UDP}]}]'),
    code: 'lint.egress-rules-ignored',
    fires: false,
  },
  {
    name: 'ingress: [{}] next to a deny-all for the same pods',
    text:
      NS +
      np('deny', '  podSelector: {}') +
      np('allow', '  podSelector: {matchLabels: {app: web}}\n  ingress: [{}]'),
    code: 'lint.allow-all-beside-deny',
    fires: true,
  },
  {
    name: 'a policy in a namespace close to a declared one',
    text: NS + np('p', '  podSelector: {}', 'team-b'),
    code: 'lint.policy-in-undeclared-namespace',
    fires: true,
  },
  {
    name: 'extensions/v1beta1 NetworkPolicy is legacy',
    text: NS + np('p', '  podSelector: {}', 'team-a', 'extensions/v1beta1'),
    code: 'lint.legacy-api',
    fires: true,
  },
  {
    name: 'the DefaultDeny namespace annotation is legacy',
    text: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: old\n  annotations:\n    net.beta.kubernetes.io/network-policy: '{"ingress":{"isolation":"DefaultDeny"}}'\n`,
    code: 'lint.legacy-api',
    fires: true,
  },
  {
    name: 'a port without protocol is defaulted to TCP (info)',
    text: NS + np('p', '  podSelector: {}\n  ingress: [{ports: [{port: 53}]}]'),
    code: 'lint.port-protocol-defaulted',
    fires: true,
  },
  {
    name: 'a lower-case protocol is reported next to the validation error',
    text: NS + np('p', '  podSelector: {}\n  ingress: [{ports: [{port: 80, protocol: tcp}]}]'),
    code: 'lint.protocol-case',
    fires: true,
  },
  {
    name: 'capitalised Egress: is a misspelled rules key',
    text: NS + np('p', '  podSelector: {}\n  policyTypes: [Egress]\n  Egress: [{}]'),
    code: 'lint.misspelled-rules-key',
    fires: true,
    validate: 'warn',
  },
  {
    name: 'capitalised From: inside a rule is a misspelled key',
    text: NS + np('p', '  podSelector: {}\n  ingress: [{From: [{podSelector: {}}]}]'),
    code: 'lint.misspelled-rules-key',
    fires: true,
    validate: 'warn',
  },
  ...['constructor', 'toString', 'valueOf', 'hasOwnProperty'].flatMap((key): Case[] => [
    {
      name: `a spec field named ${key} is not a misspelled rules key`,
      text: NS + np('p', `  podSelector: {}\n  ${key}: [{}]`),
      code: 'lint.misspelled-rules-key',
      fires: false,
      validate: 'warn',
    },
    {
      name: `a rule field named ${key} is not a misspelled rules key`,
      text: NS + np('p', `  podSelector: {}\n  ingress: [{${key}: [{}]}]`),
      code: 'lint.misspelled-rules-key',
      fires: false,
      validate: 'warn',
    },
  ]),
  {
    name: 'name: written twice without namespace: is reported',
    text:
      NS +
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  name: team-a\nspec:\n  podSelector: {}\n',
    code: 'lint.duplicate-name-key',
    fires: true,
  },
  // ClusterNetworkPolicy checks: one firing row each (test/lint/cluster-policies.test.ts has the table).
  ...(
    [
      ['lint.cnp-same-priority-overlap', cnp('a', 5, 'Deny') + cnp('b', 5, 'Accept')],
      ['lint.cnp-pass-without-networkpolicy', cnp('a', 5, 'Pass')],
      ['lint.cnp-rule-shadowed', cnp('a', 1, 'Deny') + cnp('b', 2, 'Accept')],
      ['lint.cnp-baseline-unreachable', cnp('a', 1, 'Deny') + cnp('b', 1, 'Accept', 'Baseline')],
    ] as const
  ).map(
    ([code, text]): Case => ({
      name: `${code} fires`,
      text: `${POD}${text}`,
      code,
      fires: true,
    }),
  ),
]

describe('lint checks', () => {
  it.each(cases)('$name', ({ text, code, fires, validate }) => {
    const found = lintInputs([doc(text)], { validate: validate ?? 'strict' }).diagnostics.filter(
      (d) => d.code === code,
    )
    if (fires) expect(found.length).toBeGreaterThan(0)
    else expect(found).toEqual([])
  })

  it('every lint rule is exercised by a row that fires', () => {
    const fired = new Set(cases.filter((c) => c.fires).map((c) => c.code))
    const missing = LINT_RULES.map((r) => r.id).filter(
      (id) => !fired.has(id) && id !== 'lint.ingress-rules-ignored',
    )
    expect(missing).toEqual([])
  })

  it('every rule has a kebab-case id and one line of documentation', () => {
    for (const r of LINT_RULES) {
      expect(r.id).toMatch(/^lint\.[a-z]+(-[a-z]+)*$/)
      expect(r.doc).not.toContain('\n')
      expect(r.doc.length).toBeGreaterThan(20)
    }
  })

  it('ingress rules with policyTypes [Egress] are ignored', () => {
    const text = NS + np('p', '  podSelector: {}\n  policyTypes: [Egress]\n  ingress: [{}]\n  egress: [{}]')
    const codes = lintInputs([doc(text)], { validate: 'strict' }).diagnostics.map((d) => d.code)
    expect(codes).toContain('lint.ingress-rules-ignored')
  })
})

const fixtures = ['seed-001-typos', 'seed-001-testing', 'seed-004-protocol']
describe('palisade lint on the seeds (golden)', () => {
  it.each(fixtures)('%s as text, json and sarif', async (name) => {
    const path = `test/lint/fixtures/${name}.yaml`
    const text = await runCli(['lint', path])
    await expectGolden(`lint/${name}.txt`, `exit ${text.code}\n${text.stdout}`)
    const json = await runCli(['lint', path, '-o', 'json'])
    await expectGolden(`lint/${name}.json`, json.stdout)
    const sarif = await runCli(['lint', path, '-o', 'sarif'])
    await expectGolden(`lint/${name}.sarif`, sarif.stdout)
    const log = JSON.parse(sarif.stdout) as {
      version: string
      runs: { results: { ruleId: string }[]; tool: { driver: { rules: { id: string }[] } } }[]
    }
    expect(log.version).toBe('2.1.0')
    const ids = log.runs[0]?.tool.driver.rules.map((r) => r.id) ?? []
    for (const r of log.runs[0]?.results ?? []) expect(ids).toContain(r.ruleId)
    expect(text.code).toBe(json.stdout.includes('"severity": "error"') ? 1 : 0)
  })

  it('seed 001 typos under --validate=warn also show what the typos do', async () => {
    const r = await runCli(['lint', '--validate=warn', 'test/lint/fixtures/seed-001-typos.yaml'])
    expect(r.stdout).toContain('[lint.misspelled-rules-key]')
    expect(r.stdout).toContain('[lint.egress-blocks-dns]')
    await expectGolden('lint/seed-001-typos.warn.txt', `exit ${r.code}\n${r.stdout}`)
  })

  it('a clean policy set exits 0', async () => {
    const r = await runCli(['lint', 'test/lint/fixtures/seed-001-testing.yaml'])
    expect(r.code).toBe(0)
  })
})
