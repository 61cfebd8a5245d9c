/**
 * Hostile input never crashes a command: every command that reads manifests (check, matrix, explain, lint,
 * migrate, compile) is run in-process on each input below, next to a small valid cluster. Each run must end
 * with an exit code (no exception, no stack trace, no "internal error"), the valid cluster must still be
 * analysed (the bad document is left out, never the file), and the commands that print load diagnostics
 * must name the problem with its stable code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

import { MAX_DEPTH } from '../../src/load/index.js'
import { runCli } from './run.js'

/** Two pods on node-1 that may talk (no policy): `check` exits 0 when the valid part was read. */
const BASE = `apiVersion: v1
kind: Namespace
metadata:
  name: robust
---
apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: robust
  labels:
    app: client
spec:
  nodeName: node-1
  containers:
  - name: c
    image: busybox
status:
  podIP: 10.0.0.1
---
apiVersion: v1
kind: Pod
metadata:
  name: server
  namespace: robust
  labels:
    app: server
spec:
  nodeName: node-1
  containers:
  - name: c
    image: nginx
    ports:
    - containerPort: 80
status:
  podIP: 10.0.0.2
`

const WORDS = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'] as const

/** `- - - ... x`: a sequence nested n deep on one line. */
const compactSequence = (n: number): string => `${'- '.repeat(n)}x\n`
/** A block mapping nested n deep, one key per line. */
const blockMapping = (n: number): string =>
  `${Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n')} x\n`
/** JSON arrays nested n deep. */
const jsonArrays = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}\n`
/** JSON objects nested n deep, without kind (the loader's own messages once walked them). */
const jsonObjects = (n: number): string => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}\n`
/** A Pod whose spec holds an unknown field nested n deep. */
const deepPod = (n: number): string =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: deep\n  namespace: robust\nspec:\n  x: ${'['.repeat(n)}${']'.repeat(n)}\n`
/**
 * Anchors that nest the previous one 20 levels deeper each time: 15 short lines expand to 300 levels,
 * past the limit although no line nests deeply (the readers must not recurse through the expansion).
 */
const aliasChain = (): string => {
  const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: chain', 'data:']
  lines.push(`  a0: &a0 ${'['.repeat(20)}x${']'.repeat(20)}`)
  for (let i = 1; i < 15; i++) lines.push(`  a${i}: &a${i} ${'['.repeat(20)}*a${i - 1}${']'.repeat(20)}`)
  return `${lines.join('\n')}\n`
}

interface HostileCase {
  readonly name: string
  readonly text: string
  /** The diagnostic code every command that prints load diagnostics must print; undefined: none required. */
  readonly code?: string
  /** Commands that cannot run this row yet, with the reason. */
  readonly skip?: Readonly<Partial<Record<string, string>>>
}

const cases: HostileCase[] = [
  ...WORDS.flatMap((w): HostileCase[] => [
    { name: `kind: ${w} (core group)`, text: `apiVersion: v1\nkind: ${w}\nmetadata:\n  name: x\n` },
    {
      name: `kind: ${w} (apps/v1)`,
      text: `apiVersion: apps/v1\nkind: ${w}\nmetadata:\n  name: x\n`,
    },
    {
      name: `kind: ${w} (networking.k8s.io/v1)`,
      text: `apiVersion: networking.k8s.io/v1\nkind: ${w}\nmetadata:\n  name: x\n`,
      code: 'validate.unknown-kind',
    },
    { name: `apiVersion: ${w}`, text: `apiVersion: ${w}\nkind: Pod\nmetadata:\n  name: x\n` },
    {
      name: `a NetworkPolicy field named ${w}`,
      text: `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: x\n  namespace: robust\nspec:\n  podSelector: {}\n  ${w}: 1\n`,
      code: 'schema.unknown-field',
    },
    {
      name: `a List of kind ${w}List`,
      text: `apiVersion: v1\nkind: ${w}List\nitems:\n- metadata:\n    name: x\n`,
    },
  ]),
  {
    name: 'a sequence nested 1,000 deep on one line',
    text: compactSequence(1000),
    code: 'load.too-deep',
  },
  { name: 'a block mapping nested 1,000 deep', text: blockMapping(1000), code: 'load.too-deep' },
  { name: 'JSON arrays nested 10,000 deep', text: jsonArrays(10000), code: 'load.too-deep' },
  { name: 'JSON objects nested 10,000 deep, without kind', text: jsonObjects(10000), code: 'load.too-deep' },
  { name: 'a Pod with a field nested 1,000 deep', text: deepPod(1000), code: 'load.too-deep' },
  { name: 'anchors that expand past the depth limit', text: aliasChain(), code: 'load.too-deep' },
  {
    name: 'an alias to an anchor that is never defined',
    text: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  port: *a\n',
    code: 'yaml.unknown-anchor',
  },
  {
    name: 'an undefined alias in an extensions/v1beta1 NetworkPolicy',
    text: 'apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata:\n  name: x\n  namespace: robust\nspec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: *a\n',
    code: 'yaml.unknown-anchor',
  },
  {
    name: 'an alias used before its anchor',
    text: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: *x\n  b: &x y\n',
    code: 'yaml.unknown-anchor',
  },
]

const dir = mkdtempSync(join(tmpdir(), 'palisade-robustness-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
/** Writes the valid cluster and the hostile document into one file (the document is the last one). */
function inputFile(text: string): string {
  const file = join(dir, `case-${n++}.yaml`)
  writeFileSync(file, `${BASE}---\n${text}`)
  return file
}

interface CommandCase {
  readonly command: string
  readonly args: (file: string) => string[]
  /** Exit codes that mean the command ran to its end on the valid part. */
  readonly codes: readonly number[]
  /** Where the command prints load diagnostics; undefined when it prints none of its own. */
  readonly diagnostics?: 'stdout' | 'stderr'
}

const commands: CommandCase[] = [
  {
    command: 'check',
    args: (f) => ['check', f, '--from', 'robust/client', '--to', 'robust/server', '--port', '80'],
    codes: [0],
    diagnostics: 'stderr',
  },
  { command: 'matrix', args: (f) => ['matrix', f], codes: [0], diagnostics: 'stderr' },
  { command: 'explain', args: (f) => ['explain', f], codes: [0], diagnostics: 'stderr' },
  { command: 'lint', args: (f) => ['lint', f], codes: [0, 1], diagnostics: 'stdout' },
  { command: 'migrate', args: (f) => ['migrate', f], codes: [0, 1, 2] },
  {
    command: 'compile',
    args: (f) => ['compile', f, '--node', 'node-1', '--backend', 'nftables'],
    codes: [0],
    diagnostics: 'stderr',
  },
]

const STACK = /internal error|\n\s+at .+:\d+:\d+/

describe('hostile input: every command ends with an exit code and reads the rest', () => {
  for (const c of cases) {
    describe(c.name, () => {
      const file = inputFile(c.text)
      for (const cmd of commands) {
        const skip = c.skip?.[cmd.command]
        it.skipIf(skip !== undefined)(
          skip === undefined ? cmd.command : `${cmd.command}: ${skip}`,
          async () => {
            const r = await runCli(cmd.args(file))
            expect(r.stderr + r.stdout).not.toMatch(STACK)
            expect(cmd.codes, r.stderr).toContain(r.code)
            if (cmd.command === 'check') expect(r.stdout).toContain('ALLOWED')
            if (cmd.command === 'matrix') expect(r.stdout).toContain('robust/server')
            if (c.code !== undefined && cmd.diagnostics !== undefined)
              expect(cmd.diagnostics === 'stdout' ? r.stdout : r.stderr).toContain(`[${c.code}]`)
          },
        )
      }
    })
  }
})

describe('the depth limit', () => {
  it('reads a document nested exactly MAX_DEPTH deep in every command', async () => {
    // A ConfigMap (a kind Palisade skips) whose data nests to the limit: root + data + MAX_DEPTH - 2 arrays.
    const inner = MAX_DEPTH - 2
    const file = inputFile(
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: at-limit\ndata:\n  x: ${'['.repeat(inner)}${']'.repeat(inner)}\n`,
    )
    for (const cmd of commands) {
      const r = await runCli(cmd.args(file))
      expect(r.stderr + r.stdout, cmd.command).not.toMatch(STACK)
      expect(r.stderr + r.stdout, cmd.command).not.toContain('load.too-deep')
      expect(cmd.codes, `${cmd.command}: ${r.stderr}`).toContain(r.code)
    }
  })
})

/**
 * Label keys and values that are names of Object.prototype members are ordinary labels (they are valid
 * label keys: alphanumerics, starting and ending with one); `__proto__` is not a valid key or value and the
 * API server rejects the object.
 */
const PROTOTYPE_CLUSTER = `apiVersion: v1
kind: Namespace
metadata:
  name: constructor
  labels:
    hasOwnProperty: "yes"
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: constructor
  labels:
    constructor: web
    toString: a
spec:
  containers:
  - name: c
    image: nginx
    ports:
    - name: constructor
      containerPort: 80
status:
  podIP: 10.0.0.10
---
apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: constructor
  labels:
    valueOf: client
spec:
  containers:
  - name: c
    image: busybox
status:
  podIP: 10.0.0.11
---
apiVersion: v1
kind: Pod
metadata:
  name: other
  namespace: constructor
spec:
  containers:
  - name: c
    image: busybox
status:
  podIP: 10.0.0.12
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-ingress
  namespace: constructor
spec:
  podSelector:
    matchExpressions:
    - key: constructor
      operator: In
      values: [web]
  ingress:
  - from:
    - podSelector:
        matchLabels:
          valueOf: client
    ports:
    - port: constructor
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: egress-in-namespace
  namespace: constructor
spec:
  podSelector:
    matchExpressions:
    - key: toString
      operator: DoesNotExist
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          hasOwnProperty: "yes"
---
apiVersion: v1
kind: Pod
metadata:
  name: rejected
  namespace: constructor
  labels:
    __proto__: x
spec:
  containers:
  - name: c
    image: busybox
`

describe('labels named like Object.prototype members are ordinary labels', () => {
  const file = join(dir, 'prototype-labels.yaml')
  writeFileSync(file, PROTOTYPE_CLUSTER)
  it.each([
    {
      name: 'In on key constructor, matchLabels on valueOf, a port named constructor',
      from: 'constructor/client',
      to: 'constructor/web',
      port: '80',
      allowed: true,
    },
    {
      name: 'a pod without the valueOf label is not admitted',
      from: 'constructor/other',
      to: 'constructor/web',
      port: '80',
      allowed: false,
    },
    {
      name: 'the named port constructor is 80 only',
      from: 'constructor/client',
      to: 'constructor/web',
      port: '81',
      allowed: false,
    },
    {
      name: 'DoesNotExist on key toString isolates the pods without it',
      from: 'constructor/client',
      to: '203.0.113.1',
      port: '443',
      allowed: false,
    },
    {
      name: 'a pod with the toString label is not selected by DoesNotExist',
      from: 'constructor/web',
      to: '203.0.113.1',
      port: '443',
      allowed: true,
    },
  ])('$name', async ({ from, to, port, allowed }) => {
    const r = await runCli(['check', file, '--from', from, '--to', to, '--port', port, '-o', 'json'])
    expect(r.stderr).not.toMatch(STACK)
    expect(JSON.parse(r.stdout).allowed, r.stderr).toBe(allowed)
  })

  it('a label key __proto__ is rejected in the API server words, the other objects are read', async () => {
    const r = await runCli(['lint', file])
    expect(r.stdout).toContain(
      'Pod constructor/rejected: metadata.labels: Invalid value: "__proto__": name part must consist of alphanumeric characters',
    )
    expect(r.stdout).not.toContain('lint.no-pods-selected')
  })
})

describe('command names are looked up as own entries', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    '%s is an unknown command',
    async (name) => {
      const r = await runCli([name])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`unknown command '${name}'`)
    },
  )
})

describe('a List inside a List', () => {
  it('is flattened: a deny-all policy there isolates the pods (check says DENIED)', async () => {
    const file = join(dir, 'nested-list.yaml')
    writeFileSync(
      file,
      `${BASE}---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: List
  items:
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: deny-all
      namespace: robust
    spec:
      podSelector: {}
      policyTypes: [Ingress]
`,
    )
    const r = await runCli([
      'check',
      file,
      '--from',
      'robust/client',
      '--to',
      'robust/server',
      '--port',
      '80',
    ])
    expect(r.stdout).toContain('DENIED')
    expect(r.stdout).toContain('robust/deny-all')
    expect(r.code).toBe(1)
  })
})

describe('a kind of a mebibyte', () => {
  const file = inputFile(
    `apiVersion: networking.k8s.io/v1\nkind: ${'N'.repeat(1 << 20)}\nmetadata:\n  name: x\n  namespace: robust\n`,
  )
  it.each(commands)('$command names it shortened, without a suggestion', async (cmd) => {
    const r = await runCli(cmd.args(file))
    expect(r.stderr + r.stdout).not.toMatch(STACK)
    expect(cmd.codes, r.stderr).toContain(r.code)
    if (cmd.diagnostics === undefined) return
    const out = cmd.diagnostics === 'stdout' ? r.stdout : r.stderr
    expect(out).toContain('[validate.unknown-kind]')
    expect(out).not.toContain('did you mean')
    expect(out.length).toBeLessThan(5000)
  })
})
