// Explanations of ClusterNetworkPolicy verdicts: the tier, policy, priority and rule with file:line.
import { describe, expect, it } from 'vitest'
import { buildIndex, type Endpoint, evaluate, resolveEndpoint } from '../../src/engine/index.js'
import { explainPod, renderPodExplanation, renderVerdict } from '../../src/explain/index.js'
import { loadCluster } from '../../src/load/index.js'

const YAML = `apiVersion: v1
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
---
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: pass-b}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: a}}}
  ingress:
  - name: to-np
    action: Pass
    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: b}}}]
---
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: default-deny}
spec:
  tier: Baseline
  priority: 0
  subject: {namespaces: {}}
  ingress:
  - {action: Deny, from: [{namespaces: {}}]}
`

function setup() {
  const loaded = loadCluster([{ file: 'c.yaml', text: YAML }], { validate: 'strict' })
  return buildIndex(loaded.cluster)
}

describe('explaining ClusterNetworkPolicy verdicts', () => {
  it('check names the deciding tier, policy, priority, rule and the Pass crossed', () => {
    const index = setup()
    const v = evaluate(
      index,
      resolveEndpoint(index, 'b/cli') as Endpoint,
      resolveEndpoint(index, 'a/web') as Endpoint,
      { port: 80, protocol: 'TCP' },
    )
    expect(renderVerdict(v, 'b/cli', 'a/web', '80/TCP')).toBe(
      [
        'b/cli -> a/web on 80/TCP: DENIED',
        '  egress from b/cli: allowed: not isolated (no policy with policyTypes Egress selects it)',
        '  ingress to a/web: denied by Baseline ClusterNetworkPolicy default-deny (priority 0) ingress[0]: Deny (c.yaml:33)',
        '    passed on by Admin ClusterNetworkPolicy pass-b (priority 10) ingress[0] "to-np": Pass (c.yaml:21)',
        '',
      ].join('\n'),
    )
  })

  it('explain --pod lists the Admin and Baseline rules in evaluation order', () => {
    const index = setup()
    const pod = index.podsByKey.get('a/web')
    if (!pod) throw new Error('no pod')
    const text = renderPodExplanation(explainPod(index, pod))
    expect(text).toContain('  selected by: no NetworkPolicy (ClusterNetworkPolicy rules below)')
    expect(text).toContain(
      '    Admin tier (first, before any NetworkPolicy):\n      pass-b (priority 10) ingress[0] "to-np" (c.yaml:21): Pass from every pod in namespaces labelled kubernetes.io/metadata.name=b on any port',
    )
    expect(text).toContain(
      '    Baseline tier (when nothing above decided):\n      default-deny (priority 0) ingress[0] (c.yaml:33): Deny from every pod in every namespace on any port',
    )
  })
})
