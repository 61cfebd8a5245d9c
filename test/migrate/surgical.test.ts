/**
 * migrate edits the text of a manifest in place: only what it migrates changes, in the input's own syntax
 * and style. Each row names the input lines that must go (every other input line must survive, in order);
 * the golden file under test/golden/migrate/surgical/ shows the whole output.
 */
import { describe, expect, it } from 'vitest'
import { migrateInputs, proveMigration } from '../../src/migrate/index.js'
import { expectGolden } from '../golden.js'

interface SurgicalCase {
  readonly name: string
  readonly golden: string
  readonly files: readonly { readonly file: string; readonly text: string }[]
  /** Input lines that must disappear, per file (the rest stays, in order). */
  readonly removed?: Readonly<Record<string, readonly string[]>>
  /** Files migrate creates (next to a single-document JSON file). */
  readonly created?: readonly string[]
}

/** Lines of `a` that are not in a longest common subsequence with `b` (what a diff shows as removed). */
function removedLines(a: string, b: string): string[] {
  const x = a.split('\n')
  const y = b.split('\n')
  const lcs: number[][] = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0))
  for (let i = x.length - 1; i >= 0; i--)
    for (let j = y.length - 1; j >= 0; j--)
      (lcs[i] as number[])[j] =
        x[i] === y[j]
          ? ((lcs[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((lcs[i + 1] as number[])[j] as number, (lcs[i] as number[])[j + 1] as number)
  const out: string[] = []
  let i = 0
  let j = 0
  while (i < x.length) {
    if (j < y.length && x[i] === y[j]) {
      i++
      j++
    } else if (
      j < y.length &&
      ((lcs[i] as number[])[j + 1] as number) >= ((lcs[i + 1] as number[])[j] as number)
    )
      j++
    else out.push(x[i++] as string)
  }
  return out
}

const DENY = `'{"ingress": {"isolation": "DefaultDeny"}}'`

const cases: SurgicalCase[] = [
  {
    name: 'only the apiVersion changes: comments, quoting, 0120, flow style and key order stay byte-identical',
    golden: 'apiversion-only',
    files: [
      {
        file: 'team.yaml',
        text: `# team policies
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: x, labels: {app: web}}
spec:
  containers:
  - name: c
    image: nginx
    ports:
    - {name: http, containerPort: 0120}   # octal: 80 for kubectl
status: {podIP: 10.0.0.1}
---
kind: NetworkPolicy
apiVersion: extensions/v1beta1   # legacy
metadata:
  name: 'allow-http'
  namespace: "x"
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - ports: [{port: http}]
  policyTypes: [Ingress]
`,
      },
    ],
    removed: { 'team.yaml': ['apiVersion: extensions/v1beta1   # legacy'] },
  },
  {
    name: 'defaulted policyTypes are written in block style, sequences as the file writes them (kubectl)',
    golden: 'policytypes-block',
    files: [
      {
        file: 'p.yaml',
        text: `apiVersion: extensions/v1beta1
kind: NetworkPolicy
metadata:
  name: p
  namespace: x
spec:
  podSelector: {}
  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.0/8}   # the office
# the end
`,
      },
    ],
    removed: { 'p.yaml': ['apiVersion: extensions/v1beta1'] },
  },
  {
    name: 'a quoted apiVersion stays quoted; four-space indentation and indented sequences are followed',
    golden: 'policytypes-indented',
    files: [
      {
        file: 'p.yaml',
        text: `apiVersion: "extensions/v1beta1"
kind: NetworkPolicy
metadata:
    name: p
    namespace: x
spec:
    podSelector:
        matchLabels:
            app: db
    ingress:
        - from:
            - podSelector: {}
`,
      },
    ],
    removed: { 'p.yaml': ['apiVersion: "extensions/v1beta1"'] },
  },
  {
    name: 'a flow-style spec gets policyTypes inside its braces; no newline is added at the end',
    golden: 'policytypes-flow',
    files: [
      {
        file: 'p.yaml',
        text: 'apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec: {podSelector: {}}',
      },
    ],
    removed: { 'p.yaml': ['apiVersion: extensions/v1beta1', 'spec: {podSelector: {}}'] },
  },
  {
    name: 'a JSON policy (kubectl get -o json) comes out as JSON with the same indentation',
    golden: 'json-pretty',
    files: [
      {
        file: 'p.json',
        text: `{
    "apiVersion": "extensions/v1beta1",
    "kind": "NetworkPolicy",
    "metadata": {
        "name": "p",
        "namespace": "x"
    },
    "spec": {
        "podSelector": {}
    }
}
`,
      },
    ],
    removed: { 'p.json': ['    "apiVersion": "extensions/v1beta1",', '        "podSelector": {}'] },
  },
  {
    name: 'a compact JSON policy stays compact JSON',
    golden: 'json-compact',
    files: [
      {
        file: 'p.json',
        text: '{"apiVersion":"extensions/v1beta1","kind":"NetworkPolicy","metadata":{"name":"p","namespace":"x"},"spec":{"podSelector":{},"ingress":[{}]}}\n',
      },
    ],
    removed: {
      'p.json': [
        '{"apiVersion":"extensions/v1beta1","kind":"NetworkPolicy","metadata":{"name":"p","namespace":"x"},"spec":{"podSelector":{},"ingress":[{}]}}',
      ],
    },
  },
  {
    name: 'a JSON List: the annotation goes, the deny policy is the next item, the legacy item is migrated',
    golden: 'json-list',
    files: [
      {
        file: 'dump.json',
        text: `{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "annotations": {
                    "net.beta.kubernetes.io/network-policy": "{\\"ingress\\":{\\"isolation\\":\\"DefaultDeny\\"}}",
                    "owner": "team-a"
                },
                "name": "x"
            }
        },
        {
            "apiVersion": "extensions/v1beta1",
            "kind": "NetworkPolicy",
            "metadata": {
                "name": "p",
                "namespace": "x"
            },
            "spec": {
                "podSelector": {},
                "policyTypes": [
                    "Ingress"
                ]
            }
        }
    ],
    "kind": "List",
    "metadata": {
        "resourceVersion": ""
    }
}
`,
      },
    ],
    removed: {
      'dump.json': [
        '                    "net.beta.kubernetes.io/network-policy": "{\\"ingress\\":{\\"isolation\\":\\"DefaultDeny\\"}}",',
        '            "apiVersion": "extensions/v1beta1",',
      ],
    },
  },
  {
    name: 'a YAML List inside a List: both levels are migrated, the deny policy follows its namespace',
    golden: 'yaml-nested-list',
    files: [
      {
        file: 'list.yaml',
        text: `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: x
    annotations:
      # isolate x
      net.beta.kubernetes.io/network-policy: ${DENY}
- apiVersion: v1
  kind: List
  items:
  - apiVersion: extensions/v1beta1
    kind: NetworkPolicy
    metadata: {name: p, namespace: x}
    spec:
      podSelector: {}
      ingress:
      - {}
`,
      },
    ],
    removed: {
      'list.yaml': [
        '    annotations:',
        '      # isolate x',
        `      net.beta.kubernetes.io/network-policy: ${DENY}`,
        '  - apiVersion: extensions/v1beta1',
      ],
    },
  },
  {
    name: 'namespaces: the annotation leaves a flow or block mapping, other annotations stay, a document follows',
    golden: 'namespaces',
    files: [
      {
        file: 'ns.yaml',
        text: `apiVersion: v1
kind: Namespace
metadata:
  name: x
  annotations: {owner: team-a, net.beta.kubernetes.io/network-policy: '{"ingress":{"isolation":"DefaultDeny"}}'}
---
apiVersion: v1
kind: Namespace
metadata:
  name: z
  annotations:
    net.beta.kubernetes.io/network-policy: |
      {"ingress": {"isolation": "DefaultDeny"}}
    owner: team-b
`,
      },
    ],
    removed: {
      'ns.yaml': [
        `  annotations: {owner: team-a, net.beta.kubernetes.io/network-policy: '{"ingress":{"isolation":"DefaultDeny"}}'}`,
        '    net.beta.kubernetes.io/network-policy: |',
        '      {"ingress": {"isolation": "DefaultDeny"}}',
      ],
    },
  },
  {
    name: 'a namespace alone in a JSON file: the annotation goes, the deny policy gets a JSON file of its own',
    golden: 'json-namespace',
    files: [
      {
        file: 'ns.json',
        text: `{
  "apiVersion": "v1",
  "kind": "Namespace",
  "metadata": {
    "name": "x",
    "annotations": {
      "net.beta.kubernetes.io/network-policy": "{\\"ingress\\":{\\"isolation\\":\\"DefaultDeny\\"}}"
    }
  }
}
`,
      },
    ],
    removed: {
      'ns.json': [
        '    "name": "x",',
        '    "annotations": {',
        '      "net.beta.kubernetes.io/network-policy": "{\\"ingress\\":{\\"isolation\\":\\"DefaultDeny\\"}}"',
        '    }',
      ],
    },
    created: ['ns.default-deny-ingress.json'],
  },
  {
    name: 'CRLF line endings are kept, also on added lines',
    golden: 'crlf',
    files: [
      {
        file: 'p.yaml',
        text: 'apiVersion: extensions/v1beta1\r\nkind: NetworkPolicy\r\nmetadata:\r\n  name: p\r\n  namespace: x\r\nspec:\r\n  podSelector: {}\r\n',
      },
    ],
    removed: { 'p.yaml': ['apiVersion: extensions/v1beta1\r'] },
  },
  {
    name: 'items of a typed extensions/v1beta1 NetworkPolicyList take the apiVersion of the list: it is edited once',
    golden: 'typed-list',
    files: [
      {
        file: 'list.yaml',
        text: `apiVersion: extensions/v1beta1
kind: NetworkPolicyList
items:
- metadata: {name: p, namespace: x}
  spec:
    podSelector: {}
    policyTypes: [Ingress]
- metadata: {name: q, namespace: x}
  spec: {podSelector: {}, policyTypes: [Ingress]}
`,
      },
    ],
    removed: { 'list.yaml': ['apiVersion: extensions/v1beta1'] },
  },
]

describe('migrate edits in place', () => {
  it.each(cases)('$name', async ({ golden, files, removed, created }) => {
    const result = migrateInputs(files)
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    expect(result.files.filter((f) => f.createdFrom !== undefined).map((f) => f.file)).toEqual(created ?? [])
    for (const out of result.files) {
      expect(typeof out.text).toBe('string')
      const text = out.text as string
      const input = files.find((f) => f.file === out.file)
      if (input) expect(removedLines(input.text, text)).toEqual(removed?.[input.file] ?? [])
      if (out.file.endsWith('.json')) expect(() => JSON.parse(text)).not.toThrow()
      await expectGolden(`migrate/surgical/${golden}/${out.file}`, text)
    }
    const proof = proveMigration(files, result.files, 'strict')
    expect(proof.newErrors).toEqual([])
    expect(proof.equal).toBe(true)
  })
})

interface RefusedCase {
  readonly name: string
  readonly text: string
  readonly path: readonly (string | number)[]
  readonly reason: RegExp
}

const refused: RefusedCase[] = [
  {
    name: 'an apiVersion written as an alias',
    text: `kind: NetworkPolicy\nx-version: &v extensions/v1beta1\napiVersion: *v\nmetadata: {name: p, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n`,
    path: ['apiVersion'],
    reason: /alias/,
  },
  {
    name: 'an apiVersion another field aliases',
    text: `apiVersion: &v extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x, labels: {v: *v}}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n`,
    path: ['apiVersion'],
    reason: /anchor/,
  },
  {
    name: 'annotations that come from a merge key',
    text: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  <<: {annotations: {net.beta.kubernetes.io/network-policy: '{"ingress":{"isolation":"DefaultDeny"}}'}}\n`,
    path: ['metadata', 'annotations'],
    reason: /merge key/,
  },
  {
    name: 'annotations given twice (the read-back check: removing the last would revive the first)',
    text: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  annotations: {owner: a}\n  annotations:\n    net.beta.kubernetes.io/network-policy: '{"ingress":{"isolation":"DefaultDeny"}}'\n`,
    path: [],
    reason: /does not read back as intended \(a\.yaml: Namespace x: metadata differs\)/,
  },
  {
    name: 'a namespace named y, which YAML 1.1 reads as true',
    text: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: y\n  annotations:\n    net.beta.kubernetes.io/network-policy: '{"ingress":{"isolation":"DefaultDeny"}}'\n`,
    path: ['metadata', 'name'],
    reason: /not a string/,
  },
]

describe('migrate refuses what it cannot rewrite in place', () => {
  it.each(refused)('$name: an error naming the field, the file unchanged', ({ text, path, reason }) => {
    const result = migrateInputs([{ file: 'a.yaml', text }])
    expect(result.diagnostics).toMatchObject([{ code: 'migrate.cannot-rewrite', severity: 'error', path }])
    expect(result.diagnostics[0]?.message).toMatch(reason)
    expect(result.changes).toEqual([])
    expect(result.files).toEqual([{ file: 'a.yaml', text, changed: false }])
  })
})
