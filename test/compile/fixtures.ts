/**
 * Hand-built ClusterStates for the node compiler tests (model values from test/fixtures.ts; no YAML
 * loader involved).
 * Each case names the Kubernetes docs section it exercises.
 */
import type { CompileOptions } from '../../src/compile/index.js'
import type { ClusterState, Pod } from '../../src/model/index.js'
import { annotationPolicy, ns, pod, policy, rule, sctp, sel, tcp, udp } from '../fixtures.js'

/** Three namespaces and six pods on two nodes, like the dataplane POC. */
function base(extraPods: readonly Pod[] = []): Pick<ClusterState, 'namespaces' | 'pods'> {
  return {
    namespaces: [
      ns('prod', { env: 'prod', team: 'core' }),
      ns('dev', { env: 'dev' }),
      ns('ops', { env: 'ops' }),
    ],
    pods: [
      pod('prod/db', { app: 'db' }, ['10.240.1.11'], {
        nodeName: 'node-1',
        ports: [{ name: 'pg', containerPort: 5432, protocol: 'TCP' }],
      }),
      pod('prod/api', { app: 'api', role: 'frontend' }, ['10.240.1.12'], {
        nodeName: 'node-1',
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      }),
      pod('dev/client-a', { app: 'client', role: 'frontend' }, ['10.240.1.13'], { nodeName: 'node-1' }),
      pod('prod/web', { app: 'web', role: 'frontend' }, ['10.240.2.11'], {
        nodeName: 'node-2',
        ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
      }),
      pod('ops/tool', { app: 'tool' }, ['10.240.2.12'], { nodeName: 'node-2' }),
      pod('dev/client-b', { app: 'client' }, ['10.240.2.20'], { nodeName: 'node-2' }),
      ...extraPods,
    ],
  }
}

export interface CompileCase {
  /** Golden file stem: test/golden/compile/nftables/<name>.<node>.nft */
  readonly name: string
  /** What it shows, as a sentence. */
  readonly description: string
  readonly cluster: ClusterState
  readonly podInterfaces?: Readonly<Record<string, string>>
  /** Further compile options (pod ranges, unknown pods). */
  readonly options?: Omit<CompileOptions, 'podInterfaces'>
}

/** The compile options of a case. */
export function optionsOf(c: CompileCase): CompileOptions {
  return { ...(c.podInterfaces ? { podInterfaces: c.podInterfaces } : {}), ...(c.options ?? {}) }
}

/** The two nodes of base() as Node objects with their pod ranges (spec.podCIDRs). */
const NODES_WITH_RANGES: ClusterState['nodes'] = [
  { name: 'node-1', addresses: ['192.168.0.1'], declared: true, podCIDRs: ['10.240.1.0/24'] },
  { name: 'node-2', addresses: ['192.168.0.2'], declared: true, podCIDRs: ['10.240.2.0/24', 'fd00:2::/64'] },
]

export const CASES: readonly CompileCase[] = [
  {
    name: 'default-deny',
    description: 'an empty podSelector isolates every pod of the namespace for ingress and allows nothing',
    cluster: { ...base(), policies: [policy('prod/default-deny-ingress', sel(), { types: ['Ingress'] })] },
  },
  {
    name: 'allow-from-pod-selector',
    description: 'a podSelector peer admits pods of the policy namespace only, on TCP 80',
    cluster: {
      ...base(),
      policies: [
        policy('prod/allow-frontend-to-db', sel({ app: 'db' }), {
          ingress: [rule([{ podSelector: sel({ role: 'frontend' }) }], [tcp(80)])],
        }),
      ],
    },
  },
  {
    name: 'namespace-and-pod-selector',
    description:
      'namespaceSelector and podSelector in one peer mean AND; namespaceSelector alone means all pods there',
    cluster: {
      ...base(),
      policies: [
        policy('prod/allow-dev-clients', sel({ app: 'db' }), {
          ingress: [
            rule(
              [{ namespaceSelector: sel({ env: 'dev' }), podSelector: sel({ app: 'client' }) }],
              [tcp(5432)],
            ),
            rule([{ namespaceSelector: sel({ env: 'ops' }) }]),
          ],
        }),
        // the same peer in a second policy shares the set
        policy('prod/allow-dev-clients-api', sel({ app: 'api' }), {
          ingress: [rule([{ namespaceSelector: sel({ env: 'dev' }), podSelector: sel({ app: 'client' }) }])],
        }),
      ],
    },
  },
  {
    name: 'ipblock-except',
    description: 'an ipBlock with except becomes one interval set holding cidr minus the excepts',
    cluster: {
      ...base(),
      policies: [
        policy('dev/client-egress', sel({ app: 'client' }), {
          types: ['Egress'],
          egress: [
            rule([{ ipBlock: { cidr: '10.240.0.0/16', except: ['10.240.2.0/28', '10.240.3.0/24'] } }]),
            rule([{ ipBlock: { cidr: '0.0.0.0/0', except: [] } }], [udp(53)]),
          ],
        }),
      ],
    },
  },
  {
    name: 'dual-stack',
    description: 'each family is matched separately; an IPv6 ipBlock only ever matches IPv6',
    cluster: {
      namespaces: [ns('prod', { env: 'prod' })],
      pods: [
        pod('prod/db', { app: 'db' }, ['10.1.1.11', 'fd00:1::11'], { nodeName: 'node-1' }),
        pod('prod/api', { app: 'api' }, ['10.1.1.12', 'fd00:1::12'], { nodeName: 'node-1' }),
        pod('prod/v6only', { app: 'api' }, ['fd00:2::5'], { nodeName: 'node-2' }),
      ],
      policies: [
        policy('prod/db-from-api', sel({ app: 'db' }), {
          types: ['Ingress', 'Egress'],
          ingress: [rule([{ podSelector: sel({ app: 'api' }) }], [tcp(5432)])],
          egress: [rule([{ ipBlock: { cidr: 'fd00::/16', except: ['fd00:2::/32'] } }])],
        }),
      ],
    },
  },
  {
    name: 'named-ports',
    description: 'a named port resolves on the destination pod: address . port of pods declaring it',
    cluster: {
      ...base(),
      policies: [
        policy('prod/allow-http', sel({ role: 'frontend' }), {
          ingress: [rule(undefined, [tcp('http')])],
        }),
        policy('dev/egress-to-http', sel({ app: 'client' }), {
          types: ['Egress'],
          egress: [rule([{ namespaceSelector: sel({ env: 'prod' }) }], [tcp('http'), tcp('pg'), udp(53)])],
        }),
      ],
    },
  },
  {
    name: 'end-port',
    description: 'endPort becomes an inclusive range; ports of one protocol merge into one set',
    cluster: {
      ...base(),
      policies: [
        policy('prod/ranges', sel({ app: 'db' }), {
          ingress: [rule(undefined, [tcp(8000, 9000), tcp(8500), tcp(9001), tcp(443), udp(53), udp()])],
        }),
      ],
    },
  },
  {
    name: 'sctp',
    description: 'SCTP ports use the generic transport header match',
    cluster: {
      ...base(),
      policies: [
        policy('prod/diameter', sel({ app: 'db' }), {
          ingress: [rule([{ podSelector: sel() }], [sctp(3868), sctp(5000, 5010)])],
        }),
      ],
    },
  },
  {
    name: 'default-deny-annotation',
    description: 'the legacy DefaultDeny namespace annotation is its own chain, saying so',
    cluster: {
      namespaces: [ns('prod', { env: 'prod' }, { defaultDenyIngress: true }), ns('dev', { env: 'dev' })],
      pods: base().pods.filter((p) => p.namespace !== 'ops'),
      policies: [
        annotationPolicy('prod'),
        policy('prod/allow-web', sel({ app: 'web' }), { ingress: [rule()] }),
      ],
    },
  },
  {
    name: 'empty-policy-chain',
    description: 'a policy without rules isolates and allows nothing; allow-all is one bare accept',
    cluster: {
      ...base(),
      policies: [
        policy('dev/deny-egress', sel(), { types: ['Egress'] }),
        policy('prod/allow-all-ingress', sel(), { ingress: [rule()] }),
      ],
    },
  },
  {
    name: 'anti-spoofing',
    description: 'with known pod interfaces a packet from a pod interface must carry that pod address',
    cluster: {
      ...base([
        pod('prod/host-agent', { app: 'agent' }, ['10.240.0.1'], { nodeName: 'node-1', hostNetwork: true }),
      ]),
      policies: [policy('prod/default-deny-ingress', sel(), { types: ['Ingress'] })],
    },
    podInterfaces: { 'prod/db': 'v-db', 'prod/api': 'v-api', 'dev/client-a': 'v-client-a' },
  },
  {
    name: 'unknown-pods-drop',
    description:
      'with the Node pod ranges known, an address of them that is no local pod is dropped from and to; known pods, isolated or not, are dispatched as before',
    cluster: {
      ...base([
        pod('prod/host-agent', { app: 'agent' }, ['192.168.0.1'], { nodeName: 'node-1', hostNetwork: true }),
      ]),
      nodes: NODES_WITH_RANGES,
      policies: [policy('prod/default-deny', sel(), { types: ['Ingress', 'Egress'] })],
    },
  },
  {
    name: 'unknown-pods-flag',
    description: '--pod-cidr (CompileOptions.podRanges) wins over the Node spec.podCIDRs, both families',
    cluster: {
      ...base(),
      nodes: NODES_WITH_RANGES,
      policies: [policy('prod/default-deny-ingress', sel(), { types: ['Ingress'] })],
    },
    options: { podRanges: ['10.240.0.0/16', 'fd00:9::/64'] },
  },
  {
    name: 'unknown-pods-allow',
    description:
      '--unknown-pods allow: the pod ranges are known but unknown addresses are forwarded as before',
    cluster: {
      ...base(),
      nodes: NODES_WITH_RANGES,
      policies: [policy('prod/default-deny-ingress', sel(), { types: ['Ingress'] })],
    },
    options: { unknownPods: 'allow' },
  },
]
