// Which kinds are validated, and kubectl's "no matches for kind" for the rest of the groups we know.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rawFromValue } from '../../src/model/index.js'
import { editDistanceAtMost, SUPPORTED_KINDS, validateObject } from '../../src/validate/index.js'

interface KindCase {
  readonly name: string
  readonly apiVersion: string
  readonly kind: string
  /** undefined: no diagnostics at all. */
  readonly expected?: { readonly code: string; readonly path: readonly string[]; readonly message: string }
}

const cases: KindCase[] = [
  {
    name: 'NetworPolicy (seed 001) is an unknown kind with a suggestion',
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworPolicy',
    expected: {
      code: 'validate.unknown-kind',
      path: ['kind'],
      message:
        'no matches for kind "NetworPolicy" in version "networking.k8s.io/v1"; did you mean "NetworkPolicy"?',
    },
  },
  {
    name: 'a lower-case networkpolicy is unknown (kinds are case-sensitive) with a suggestion',
    apiVersion: 'networking.k8s.io/v1',
    kind: 'networkpolicy',
    expected: {
      code: 'validate.unknown-kind',
      path: ['kind'],
      message:
        'no matches for kind "networkpolicy" in version "networking.k8s.io/v1"; did you mean "NetworkPolicy"?',
    },
  },
  {
    name: 'Namspace in v1 is an unknown kind',
    apiVersion: 'v1',
    kind: 'Namspace',
    expected: {
      code: 'validate.unknown-kind',
      path: ['kind'],
      message: 'no matches for kind "Namspace" in version "v1"; did you mean "Namespace"?',
    },
  },
  {
    name: 'Deploymnet in apps/v1 is an unknown kind',
    apiVersion: 'apps/v1',
    kind: 'Deploymnet',
    expected: {
      code: 'validate.unknown-kind',
      path: ['kind'],
      message: 'no matches for kind "Deploymnet" in version "apps/v1"; did you mean "Deployment"?',
    },
  },
  {
    name: 'an unrelated unknown kind in networking.k8s.io is unknown without a suggestion',
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Firewall',
    expected: {
      code: 'validate.unknown-kind',
      path: ['kind'],
      message: 'no matches for kind "Firewall" in version "networking.k8s.io/v1"',
    },
  },
  {
    name: 'NetworkPolicy in networking.k8s.io/v1beta1 is an unknown version',
    apiVersion: 'networking.k8s.io/v1beta1',
    kind: 'NetworkPolicy',
    expected: {
      code: 'validate.unknown-version',
      path: ['apiVersion'],
      message: 'no matches for kind "NetworkPolicy" in version "networking.k8s.io/v1beta1"',
    },
  },
  {
    name: 'NetworkPolicy in a misspelled networking.k8s.io group is an unknown version',
    apiVersion: 'networking.k8s.i/v1',
    kind: 'NetworkPolicy',
    expected: {
      code: 'validate.unknown-version',
      path: ['apiVersion'],
      message: 'no matches for kind "NetworkPolicy" in version "networking.k8s.i/v1"',
    },
  },
  {
    name: 'Deployment in core v1 is an unknown version',
    apiVersion: 'v1',
    kind: 'Deployment',
    expected: {
      code: 'validate.unknown-version',
      path: ['apiVersion'],
      message: 'no matches for kind "Deployment" in version "v1"',
    },
  },
  {
    name: 'Ingress in networking.k8s.io/v1 is real and not validated',
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
  },
  {
    name: 'IngressClass in networking.k8s.io/v1 is real and not validated',
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
  },
  { name: 'Service is skipped', apiVersion: 'v1', kind: 'Service' },
  { name: 'ConfigMap is skipped', apiVersion: 'v1', kind: 'ConfigMap' },
  { name: 'Secret is skipped', apiVersion: 'v1', kind: 'Secret' },
  { name: 'ServiceAccount is skipped', apiVersion: 'v1', kind: 'ServiceAccount' },
  { name: 'Node is skipped although it is close to Pod', apiVersion: 'v1', kind: 'Node' },
  { name: 'ClusterRole is skipped', apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
  {
    name: 'CustomResourceDefinition is skipped',
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
  },
  {
    name: "Calico's NetworkPolicy CRD is skipped",
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
  },
  {
    name: "Antrea's NetworkPolicy CRD is skipped",
    apiVersion: 'crd.antrea.io/v1beta1',
    kind: 'NetworkPolicy',
  },
  {
    name: 'AdminNetworkPolicy is skipped',
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: 'AdminNetworkPolicy',
  },
  {
    name: 'a typo of a kind in an unknown group is skipped',
    apiVersion: 'example.com/v1',
    kind: 'NetworPolicy',
  },
]

describe('kinds', () => {
  it.each(cases)('$name', ({ apiVersion, kind, expected }) => {
    const raw = rawFromValue(
      { apiVersion, kind, metadata: { name: 'x', namespace: 'default' } },
      { file: 'k.yaml', line: 1 },
    )
    const diags = validateObject(raw)
    expect(diags.map(({ code, path, message }) => ({ code, path, message }))).toEqual(
      expected ? [expected] : [],
    )
  })

  it('validates exactly the apiVersion/kind pairs of the kinds table', () => {
    expect([...SUPPORTED_KINDS].sort()).toEqual(
      [
        'v1/Namespace',
        'v1/Pod',
        'v1/ReplicationController',
        'apps/v1/Deployment',
        'apps/v1/StatefulSet',
        'apps/v1/DaemonSet',
        'apps/v1/ReplicaSet',
        'apps/v1beta1/Deployment',
        'apps/v1beta1/StatefulSet',
        'apps/v1beta2/Deployment',
        'apps/v1beta2/StatefulSet',
        'apps/v1beta2/DaemonSet',
        'apps/v1beta2/ReplicaSet',
        'extensions/v1beta1/Deployment',
        'extensions/v1beta1/DaemonSet',
        'extensions/v1beta1/ReplicaSet',
        'extensions/v1beta1/NetworkPolicy',
        'batch/v1/Job',
        'batch/v1/CronJob',
        'batch/v1beta1/CronJob',
        'networking.k8s.io/v1/NetworkPolicy',
        'policy.networking.k8s.io/v1beta1/ClusterNetworkPolicy',
        'policy.networking.k8s.io/v1alpha2/ClusterNetworkPolicy',
      ].sort(),
    )
    expect(SUPPORTED_KINDS.has('v1/Service')).toBe(false)
  })

  it('reports a missing apiVersion when the kind is ours', () => {
    const raw = rawFromValue({ kind: 'NetworkPolicy', metadata: { name: 'x' } }, { file: 'k.yaml' })
    expect(validateObject(raw).map((d) => [d.code, d.message])).toEqual([
      ['validate.required', "Object 'apiVersion' is missing"],
    ])
  })

  it('reports a missing kind when the apiVersion is a group of ours', () => {
    const raw = rawFromValue(
      { apiVersion: 'networking.k8s.io/v1', metadata: { name: 'x' } },
      { file: 'k.yaml' },
    )
    expect(validateObject(raw).map((d) => [d.code, d.message])).toEqual([
      ['validate.required', "Object 'Kind' is missing"],
    ])
  })
})

describe('did you mean, on long input', () => {
  // A 30 MiB kind once cost 22 s or more: the distance ran over the whole string for each candidate.
  const long = 'N'.repeat(1 << 20)

  it.each([
    { name: 'a kind of a mebibyte in networking.k8s.io', apiVersion: 'networking.k8s.io/v1', kind: long },
    { name: 'a kind of a mebibyte in the core group', apiVersion: 'v1', kind: `${long}Pod` },
  ])('$name gets no suggestion, and the message quotes it shortened', ({ apiVersion, kind }) => {
    const diags = validateObject(
      rawFromValue({ apiVersion, kind, metadata: { name: 'x' } }, { file: 'f.yaml' }),
    )
    for (const d of diags) {
      expect(d.message).not.toContain('did you mean')
      expect(d.message.length).toBeLessThan(400)
      expect(d.object?.length ?? 0).toBeLessThan(400)
    }
  })

  it('an apiVersion group of a mebibyte is not taken for a near miss of networking.k8s.io', () => {
    const diags = validateObject(
      rawFromValue(
        { apiVersion: `${'n.'.repeat(1 << 19)}/v1`, kind: 'NetworkPolicy', metadata: { name: 'x' } },
        { file: 'f.yaml' },
      ),
    )
    expect(diags).toEqual([])
  })

  it('a near miss of networking.k8s.io still counts as it', () => {
    const diags = validateObject(
      rawFromValue(
        { apiVersion: 'networking.k8s.i/v1', kind: 'NetworkPolicy', metadata: { name: 'x' } },
        { file: 'f.yaml' },
      ),
    )
    expect(diags.map((d) => d.code)).toEqual(['validate.unknown-version'])
  })
})

describe('editDistanceAtMost', () => {
  /** Levenshtein distance, the full table (the reference). */
  const full = (a: string, b: string): number => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
    for (let i = 1; i <= a.length; i++) {
      const cur = [i]
      for (let j = 1; j <= b.length; j++)
        cur[j] = Math.min(
          (prev[j] as number) + 1,
          (cur[j - 1] as number) + 1,
          (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
        )
      prev = cur
    }
    return prev[b.length] as number
  }

  it('is the distance when at most max, else max + 1', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 12 })
    fc.assert(
      fc.property(text, text, fc.integer({ min: 0, max: 4 }), (a, b, max) => {
        expect(editDistanceAtMost(a, b, max)).toBe(Math.min(full(a, b), max + 1))
      }),
      { numRuns: 2000 },
    )
  })

  it('answers at once when the lengths differ by more than max', () => {
    expect(editDistanceAtMost('N'.repeat(30 * 2 ** 20), 'NetworkPolicy', 2)).toBe(3)
  })
})
