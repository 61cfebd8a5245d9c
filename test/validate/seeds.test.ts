// Manifests copied verbatim from the seed articles (/work/shared/seeds): the broken ones must give the
// API server's errors, the valid ones none.
import { describe, expect, it } from 'vitest'
import { validateObject } from '../../src/validate/index.js'
import { rawFromYaml } from './helpers.js'

/** Seed 001: "deny-all-traffic" with a capitalised Ingress key. */
const SEED_001_DENY_ALL = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all-traffic
  namespace: testing
spec:
  podSelector: {} #所有pod
  policyTypes: # 进口、出口流量都管控；没有定义出站(Egress)详细规则，则拒绝所有出站流量
    - Ingress
    - Egress
  Ingress: #定义了入站规则，但是为空，表示允许所有入站流量
    - {}
`

/** Seed 001: "namespace-allow" with a capitalised Egress key (and metadata.name given twice: last wins). */
const SEED_001_NAMESPACE_ALLOW = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: namespace-allow
  name: testing
spec:
  policyTypes: ["Ingress", "Egress"]
  podSelector: {}
  ingress:
    - from:
      - namespaceSelector:
          matchExpressions:
            - key: name
              operator: In
              values: ["testing", "kube-system"]
  Egress:
    - to:
      - namespaceSelector:
          matchExpressions:
            - key: name
              operator: In
              values: ["testing", "kube-system"]
`

/** Seed 001: kind misspelt. */
const SEED_001_NETWORPOLICY = `apiVersion: networking.k8s.io/v1
kind: NetworPolicy
metadata:
  name: allow-tomcat-egress
  namespace: default
spec:
  podSelector:
    matchLabels:
      app: tomcat
  policyTypes: ["Egress"]
  egress:
    - to:
      - podSelector:
          matchLabels:
            app: nginx
      ports:
        - protocol: TCP
          port: 80
`

/** Seed 004: the "ingress and ports" fragment completed into a policy: lowercase protocol. */
const SEED_004_TCP = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ingress
spec:
  podSelector:
    matchLabels:
      app: linuxea.com
  ingress:
  - from:
    - ipBlock:
        cidr: 172.16.0.0/16
        except:
        - 172.16.8.0/24
    ports:
    - protocol: tcp
      port: 80
`

interface BrokenCase {
  readonly name: string
  readonly yaml: string
  readonly expected: readonly {
    readonly code: string
    readonly path: readonly (string | number)[]
    readonly message: string
    readonly line: number
  }[]
}

const broken: BrokenCase[] = [
  {
    name: 'seed 001 deny-all-traffic: spec.Ingress is an unknown field',
    yaml: SEED_001_DENY_ALL,
    expected: [
      {
        code: 'schema.unknown-field',
        path: ['spec', 'Ingress'],
        message: 'unknown field "spec.Ingress"',
        line: 12,
      },
    ],
  },
  {
    name: 'seed 001 namespace-allow: spec.Egress is an unknown field',
    yaml: SEED_001_NAMESPACE_ALLOW,
    expected: [
      {
        code: 'schema.unknown-field',
        path: ['spec', 'Egress'],
        message: 'unknown field "spec.Egress"',
        line: 17,
      },
    ],
  },
  {
    name: 'seed 001 allow-tomcat-egress: NetworPolicy is an unknown kind',
    yaml: SEED_001_NETWORPOLICY,
    expected: [
      {
        code: 'validate.unknown-kind',
        path: ['kind'],
        message:
          'no matches for kind "NetworPolicy" in version "networking.k8s.io/v1"; did you mean "NetworkPolicy"?',
        line: 2,
      },
    ],
  },
  {
    name: 'seed 004 allow-ingress: protocol tcp is not supported',
    yaml: SEED_004_TCP,
    expected: [
      {
        code: 'validate.unsupported-protocol',
        path: ['spec', 'ingress', 0, 'ports', 0, 'protocol'],
        message: 'Unsupported value: "tcp": supported values: "TCP", "UDP", "SCTP"',
        line: 16,
      },
    ],
  },
]

describe('broken seed manifests', () => {
  it.each(broken)('$name', ({ yaml, expected }) => {
    const [raw] = rawFromYaml(yaml, 'seed.yaml')
    if (!raw) throw new Error('no document')
    const diags = validateObject(raw)
    expect(
      diags.map(({ code, path, message, source }) => ({ code, path, message, line: source?.line })),
    ).toEqual(expected)
  })
})

/** Valid policies from seeds 000, 001, 002, 003 and 004, as written there. */
const VALID = {
  'seed 000 access-nginx (extensions/v1beta1)': `kind: NetworkPolicy
apiVersion: extensions/v1beta1
metadata:
  name: access-nginx
  namespace: test
spec:
  podSelector:
    matchLabels:
      run: nginx
  ingress:
    - from:
      - podSelector:
          matchLabels:
            access: "true"
`,
  'seed 001 allow-myapp-ingress': `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-myapp-ingress
  namespace: default
spec:
  podSelector: #选择策略生效目标
    matchLabels:
      app: myapp
  policyTypes: ['Ingress'] #策略管控的流量方向，此处为入站流量(Ingress)
  ingress:
    - from: #入站来源
      - ipBlock: #ip选择
          cidr: 10.244.0.0/16
          except: #排除部分选项
            - 10.244.3.0/24
      - podSelector: # 标签选择
          matchLabels:
            app: myapp
      ports: #目标端口
      - protocol: TCP
        port: 80
`,
  'seed 001 testing policies (three documents)': `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: testing-default # testing默认策略，拒绝所有进出流量
  namespace: testing
spec:
  podSelector: {} 
  policyTypes: 
    - Ingress
    - Egress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: myapp-policy # myapp策略
  namespace: testing
spec:
  policyTypes:
    - Ingress
    - Egress
  podSelector:
    matchLabels:
      app: myapp
  ingress:
    - from: #允许来自nginx访问其80端口
      - podSelector:
          matchLabels:
            app: nginx
      ports:
        - port: 80
    - from: #允许来自kube-system的pod访问
      - namespaceSelector:
          matchLabels:
            ns: kube-system
  egress:
    - to: #允许访问nginx的所有端口
      - podSelector:
          matchLabels:
            app: nginx
    - to: # 允许访问kube-system的pod
      - namespaceSelector:
          matchLabels:
            ns: kube-system
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: nginx-policy #nginx策略
  namespace: testing
spec:
  podSelector:
    matchLabels:
      app: nginx
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - ports: #允许所有源站点访问80端口
      - port: 80
    - from: # 允许来自kube-system访问
      - namespaceSelector:
          matchLabels:
            ns: kube-system
  egress: 
    - {} #出口流量不限制
`,
  'seed 002 npa with namespaceSelector and port 6379 (extensions/v1beta1)': `apiVersion: extensions/v1beta1
kind: NetworkPolicy
metadata:
  name: npa
  namespace: nsa
spec:
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          app: nsb
    ports:
    - protocol: TCP
      port: 6379
  podSelector: {}
  policyTypes:
  - Ingress
`,
  'seed 002 npa egress to an ipBlock (extensions/v1beta1)': `apiVersion: extensions/v1beta1
kind: NetworkPolicy
metadata:
  name: npa
  namespace: nsa
spec:
  egress:
  - to:
    - ipBlock:
        cidr: 14.215.0.0/16
    ports:
    - protocol: TCP
      port: 5978
  podSelector: {}
  policyTypes:
  - Egress
`,
  'seed 003 network-policy': `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: network-policy
  namespace: default
spec:
  podSelector:
    matchLabels:
      app: test1
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - ipBlock:
        cidr: 172.17.0.0/16
        except:
        - 172.17.1.0/24
    - namespaceSelector:
        matchLabels:
          project: test
    - podSelector:
        matchLabels:
          app: test2
    ports:
    - protocol: TCP
      port: 6379
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/24
    ports:
    - protocol: TCP
      port: 5978
`,
  'seed 004 deny-ingress and allow-all egress': `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-ingress
spec:
  podSelector: {}
  ingress:
  - {}
  policyTypes:
  - Ingress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-egress
#  namespace: dev-linuxea
spec:
  podSelector: {}
  egress:
  - {}
  policyTypes:
  - Egress
`,
}

describe('valid seed manifests', () => {
  it.each(Object.entries(VALID))('%s gives no diagnostics', (_name, yaml) => {
    const raws = rawFromYaml(yaml)
    expect(raws.length).toBeGreaterThan(0)
    for (const raw of raws) expect(validateObject(raw)).toEqual([])
  })
})
