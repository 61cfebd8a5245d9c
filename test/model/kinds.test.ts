/**
 * The one kinds table (src/model/kinds.ts) and the views derived from it: each view pinned to what it
 * was when it was a list of its own (loader, agent; the validator's pairs: test/validate/kinds.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { CORE_WATCHED_KINDS, KIND_API_VERSION, KIND_PATH, WATCHED_KINDS } from '../../src/agent/index.js'
import { KINDS, kindPath, READ_KINDS, WORKLOAD_KINDS } from '../../src/model/index.js'

describe('the kinds table', () => {
  it('reads every validated kind, and every read kind in its served version', () => {
    for (const k of KINDS) {
      expect(READ_KINDS[k.kind]).toEqual(k.versions)
      expect(k.versions, k.kind).toContain(k.served)
    }
  })

  it('knows the seven workload kinds', () => {
    expect([...WORKLOAD_KINDS].sort()).toEqual(
      [
        'CronJob',
        'DaemonSet',
        'Deployment',
        'Job',
        'ReplicaSet',
        'ReplicationController',
        'StatefulSet',
      ].sort(),
    )
  })

  it('gives the agent the paths and versions it watches', () => {
    expect(CORE_WATCHED_KINDS).toEqual(['Namespace', 'Pod', 'NetworkPolicy'])
    expect(WATCHED_KINDS).toEqual(['Namespace', 'Pod', 'NetworkPolicy', 'ClusterNetworkPolicy', 'Node'])
    expect(KIND_PATH).toEqual({
      Pod: '/api/v1/pods',
      Namespace: '/api/v1/namespaces',
      NetworkPolicy: '/apis/networking.k8s.io/v1/networkpolicies',
      ClusterNetworkPolicy: '/apis/policy.networking.k8s.io/v1beta1/clusternetworkpolicies',
      Node: '/api/v1/nodes',
    })
    expect(KIND_API_VERSION).toEqual({
      Pod: 'v1',
      Namespace: 'v1',
      NetworkPolicy: 'networking.k8s.io/v1',
      ClusterNetworkPolicy: 'policy.networking.k8s.io/v1beta1',
      Node: 'v1',
    })
    expect(kindPath('CronJob')).toBe('/apis/batch/v1/cronjobs')
  })
})
