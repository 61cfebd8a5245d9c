// A live cluster serves ClusterNetworkPolicy in v1beta1, in v1alpha2 (an older CRD) or both: read it once.
import { describe, expect, it } from 'vitest'
import { oneClusterPolicyVersion } from '../../src/cli/kube-inputs.js'

const beta = { kind: 'ClusterNetworkPolicy', apiVersion: 'policy.networking.k8s.io/v1beta1' }
const alpha = { kind: 'ClusterNetworkPolicy', apiVersion: 'policy.networking.k8s.io/v1alpha2' }
const pods = { k: { kind: 'Pod', apiVersion: 'v1' }, items: [] }

describe('ClusterNetworkPolicy from a live cluster', () => {
  it('both versions served: v1beta1 only', () => {
    const got = oneClusterPolicyVersion([pods, { k: beta, items: [1] }, { k: alpha, items: [1] }])
    expect(got.map((r) => r.k.apiVersion)).toEqual(['v1', beta.apiVersion])
  })
  it('only v1alpha2 served (v1beta1 is 404): v1alpha2', () => {
    const got = oneClusterPolicyVersion([pods, { k: beta, err: new Error('404') }, { k: alpha, items: [1] }])
    expect(got.map((r) => r.k.apiVersion)).toEqual(['v1', beta.apiVersion, alpha.apiVersion])
  })
})
