// Which kinds are validated, and kubectl's "no matches for kind" for the rest of the groups we know.
import { describe, expect, it } from 'vitest'
import { rawFromValue } from '../../src/model/index.js'
import { SUPPORTED_KINDS, validateObject } from '../../src/validate/index.js'

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

  it('lists every validated apiVersion/kind pair', () => {
    for (const pair of [
      'v1/Namespace',
      'v1/Pod',
      'v1/ReplicationController',
      'apps/v1/Deployment',
      'apps/v1/StatefulSet',
      'apps/v1/DaemonSet',
      'apps/v1/ReplicaSet',
      'extensions/v1beta1/Deployment',
      'apps/v1beta1/Deployment',
      'apps/v1beta2/DaemonSet',
      'batch/v1/Job',
      'batch/v1/CronJob',
      'batch/v1beta1/CronJob',
      'networking.k8s.io/v1/NetworkPolicy',
      'extensions/v1beta1/NetworkPolicy',
    ]) {
      expect(SUPPORTED_KINDS.has(pair), pair).toBe(true)
    }
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
