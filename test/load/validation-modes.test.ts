/**
 * What each --validate mode relaxes, with the real validator: strict/warn/ignore follow kubectl's
 * --validate (server-side field validation: unknown and duplicate fields, nothing else); decoding
 * errors (a value of the wrong JSON type) reject the object in every mode, as the API server's decoder
 * does; lenient also analyses objects the API server would refuse for reasons that do not touch
 * networking (container names and images...), with a warning each.
 */
import { describe, expect, it } from 'vitest'
import { loadCluster, type ValidationMode } from '../../src/load/index.js'
import type { Diagnostic } from '../../src/model/index.js'

const policy = (spec: string, meta = '  namespace: ns\n'): string =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n${meta}spec:\n${spec}`
const pod = (containers: string, labels = 'app: web'): string =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: ns\n  labels: {${labels}}\nspec:\n  containers:\n${containers}`

interface Row {
  readonly name: string
  readonly modes: readonly ValidationMode[]
  readonly text: string
  /** Objects in the cluster (policies and pods, ns/name). */
  readonly kept: readonly string[]
  /** code:severity of every diagnostic but info and the implied namespace. */
  readonly diagnostics: readonly string[]
  /** A fragment of the load.rejected message, when there is one. */
  readonly hint?: string
}

const ALL: readonly ValidationMode[] = ['strict', 'warn', 'ignore', 'lenient']

const rows: Row[] = [
  {
    name: 'a number as metadata.namespace is a decoding error in every mode (it does not move the policy to default)',
    modes: ALL,
    text: policy('  podSelector: {}\n', '  namespace: 7\n'),
    kept: [],
    diagnostics: ['decode.wrong-type:error', 'load.rejected:error'],
    hint: 'cannot decode it, whatever --validate says',
  },
  {
    name: 'a string as spec is a decoding error in every mode (not a deny-all)',
    modes: ALL,
    text: policy('').replace('spec:\n', 'spec: text\n'),
    kept: [],
    diagnostics: ['decode.wrong-type:error', 'load.rejected:error'],
    hint: 'cannot decode it',
  },
  {
    name: 'a fractional port is a decoding error in every mode',
    modes: ALL,
    text: policy('  podSelector: {}\n  ingress:\n  - ports:\n    - port: 80.5\n'),
    kept: [],
    diagnostics: ['decode.wrong-type:error', 'load.rejected:error'],
  },
  {
    name: 'strict: an unknown field rejects, and the hint names the mode that keeps it',
    modes: ['strict'],
    text: policy('  podSelector: {}\n  Egress: []\n'),
    kept: [],
    diagnostics: ['schema.unknown-field:error', 'load.rejected:error'],
    hint: 'use --validate=warn to keep it',
  },
  {
    name: 'warn and lenient: an unknown field is a warning',
    modes: ['warn', 'lenient'],
    text: policy('  podSelector: {}\n  Egress: []\n'),
    kept: ['ns/p'],
    diagnostics: ['schema.unknown-field:warning'],
  },
  {
    name: 'strict, warn and ignore: a container without name and image is refused, the hint names lenient',
    modes: ['strict', 'warn', 'ignore'],
    text: pod('  - ports: [{containerPort: 80}]\n'),
    kept: [],
    diagnostics: ['validate.required:error', 'validate.required:error', 'load.rejected:error'],
    hint: 'use --validate=lenient to analyse it anyway',
  },
  {
    name: 'lenient: a container without name and image is analysed, with a warning each',
    modes: ['lenient'],
    text: pod('  - ports: [{containerPort: 80}]\n'),
    kept: ['ns/web'],
    diagnostics: ['validate.required:warning', 'validate.required:warning'],
  },
  {
    name: 'lenient: a pod without containers, or with a bad or repeated container name, is analysed',
    modes: ['lenient'],
    text: [
      pod('  []\n').replace('containers:\n  []', 'containers: []'),
      pod('  - {name: Web_1, image: x}\n  - {name: Web_1, image: z}\n').replace('name: web\n', 'name: two\n'),
    ].join('---\n'),
    kept: ['ns/two', 'ns/web'],
    diagnostics: [
      'validate.required:warning',
      'validate.invalid-name:warning',
      'validate.invalid-name:warning',
      'validate.duplicate:warning',
    ],
  },
  {
    name: 'lenient: a bad label still rejects the pod (labels decide verdicts)',
    modes: ['lenient'],
    text: pod('  - {name: web, image: x}\n', 'app: "-bad-"'),
    kept: [],
    diagnostics: ['validate.invalid-label:error', 'load.rejected:error'],
    hint: 'the API server would reject it',
  },
  {
    name: 'lenient: a bad container port still rejects the pod (ports decide verdicts)',
    modes: ['lenient'],
    text: pod('  - {image: x, ports: [{containerPort: 99999}]}\n'),
    kept: [],
    diagnostics: ['validate.required:warning', 'validate.invalid-port:error', 'load.rejected:error'],
  },
  {
    name: 'lenient: a bad policy protocol still rejects the policy',
    modes: ['lenient'],
    text: policy('  podSelector: {}\n  ingress:\n  - ports:\n    - {protocol: tcp, port: 80}\n'),
    kept: [],
    diagnostics: ['validate.unsupported-protocol:error', 'load.rejected:error'],
  },
  {
    name: 'lenient: an unknown kind that is not a policy is skipped with a warning, in a List too',
    modes: ['lenient'],
    text: 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deploymnet\n  metadata: {name: d, namespace: ns}\n',
    kept: [],
    diagnostics: ['validate.unknown-kind:warning'],
  },
  {
    name: 'lenient: a misspelt NetworkPolicy kind still rejects',
    modes: ['lenient'],
    text: policy('  podSelector: {}\n').replace('kind: NetworkPolicy', 'kind: NetworkPolicyy'),
    kept: [],
    diagnostics: ['validate.unknown-kind:error', 'load.rejected:error'],
  },
]

const summary = (ds: readonly Diagnostic[]): string[] =>
  ds
    .filter((d) => d.severity !== 'info' && d.code !== 'load.implied-namespace')
    .map((d) => `${d.code}:${d.severity}`)

describe('--validate modes with the real validator', () => {
  const cases = rows.flatMap((r) => r.modes.map((mode) => ({ ...r, mode })))
  it.each(cases)('$mode: $name', ({ mode, text, kept, diagnostics, hint }) => {
    const loaded = loadCluster([{ file: 'in.yaml', text }], { validate: mode })
    const names = [...loaded.cluster.policies, ...loaded.cluster.pods].map((o) => `${o.namespace}/${o.name}`)
    expect(names).toStrictEqual(kept)
    expect(summary(loaded.diagnostics)).toStrictEqual(diagnostics)
    if (hint) expect(loaded.diagnostics.find((d) => d.code === 'load.rejected')?.message).toContain(hint)
  })
})
