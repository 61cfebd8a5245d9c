/** The seed manifests through the whole pipeline, with the real validator. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadCluster, type ValidationMode } from '../../src/load/index.js'
import { DEFAULT_DENY_ANNOTATION_POLICY } from '../../src/model/index.js'

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

interface SeedCase {
  readonly name: string
  readonly file: string
  readonly mode: ValidationMode
  readonly namespaces: readonly string[]
  readonly pods: readonly string[]
  readonly policies: readonly string[]
  readonly errors: readonly string[]
}

const cases: SeedCase[] = [
  {
    name: 'seed 000: the DefaultDeny namespace, its v1beta1 policy and the nginx deployment load cleanly',
    file: 'seed-000-default-deny.yaml',
    mode: 'strict',
    namespaces: ['test'],
    pods: ['test/nginx'],
    policies: ['test/access-nginx', `test/${DEFAULT_DENY_ANNOTATION_POLICY}`],
    errors: [],
  },
  {
    name: 'seed 001 strict: the policy with name twice is rejected, its neighbour loads',
    file: 'seed-001-duplicate-name.yaml',
    mode: 'strict',
    namespaces: ['testing'],
    pods: [],
    policies: ['testing/namespace-allow'],
    errors: ['schema.duplicate-key', 'load.rejected'],
  },
  {
    name: 'seed 001 warn: the last name wins and the policy lands in default, as kubectl would create it',
    file: 'seed-001-duplicate-name.yaml',
    mode: 'warn',
    namespaces: ['default', 'testing'],
    pods: [],
    policies: ['default/testing', 'testing/namespace-allow'],
    errors: [],
  },
  {
    name: 'a kubectl dump with status and managedFields loads without errors',
    file: 'kubectl-dump.yaml',
    mode: 'strict',
    namespaces: ['shop'],
    pods: ['shop/web-7d4b9c-x2x9z'],
    policies: ['shop/deny-all'],
    errors: [],
  },
  {
    name: 'every workload kind passes validation and gives its pod',
    file: 'workloads.yaml',
    mode: 'strict',
    namespaces: ['apps'],
    pods: ['agent', 'cache', 'db', 'legacy', 'nightly', 'old', 'once', 'web'].map((n) => `apps/${n}`),
    policies: [],
    errors: [],
  },
]

describe('loadCluster with the real validator', () => {
  it.each(cases)('$name', ({ file, mode, namespaces, pods, policies, errors }) => {
    const loaded = loadCluster([{ file, text: fixture(file) }], { validate: mode })
    const key = (x: { namespace: string; name: string }): string => `${x.namespace}/${x.name}`
    expect(loaded.cluster.namespaces.map((n) => n.name)).toEqual(namespaces)
    expect(loaded.cluster.pods.map(key)).toEqual(pods)
    expect(loaded.cluster.policies.map(key)).toEqual(policies)
    expect(loaded.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toEqual(errors)
  })
})
