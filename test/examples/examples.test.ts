/**
 * The seeds' scenarios (examples/), with the verdicts their authors observed in real clusters
 * (shared/seeds: each row cites the post's test). Loaded through the real pipeline, as the CLI does.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  buildIndex,
  evaluate,
  type PortQuery,
  parsePortSpec,
  resolveEndpoint,
} from '../../src/engine/index.js'
import { loadCluster } from '../../src/load/index.js'

const root = new URL('../../examples/', import.meta.url).pathname

/** Loads files and folders of examples/ the way readInputs does (sorted, recursive). */
function load(...paths: string[]) {
  const files: string[] = []
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e))
    else if (/\.(ya?ml|json)$/.test(p)) files.push(p)
  }
  for (const p of paths) walk(join(root, p))
  return loadCluster(
    files.map((f) => ({ file: f, text: readFileSync(f, 'utf8') })),
    { validate: 'strict' },
  )
}

interface Row {
  readonly name: string
  readonly inputs: string[]
  readonly from: string
  readonly to: string
  readonly port: string
  readonly allowed: boolean
}

const s001 = ['seed-001-testing']
const s002 = (c: string) => ['seed-002-kube-router/cluster.yaml', `seed-002-kube-router/${c}`]
const cnp = ['cluster-network-policy']
const rows: Row[] = [
  // examples/cluster-network-policy: the tier model (docs/semantics.md#cnp-tiers)
  {
    name: "cnp: the Admin tier passes acme to acme, and acme-db's NetworkPolicy admits web on pg",
    inputs: cnp,
    from: 'acme-web/web',
    to: 'acme-db/db',
    port: '5432/TCP',
    allowed: true,
  },
  {
    name: 'cnp: the NetworkPolicy admits web only: db -> web falls to the Baseline deny',
    inputs: cnp,
    from: 'acme-db/db',
    to: 'acme-web/web',
    port: '8080/TCP',
    allowed: false,
  },
  {
    name: 'cnp: another tenant is denied by the Admin tier, over the NetworkPolicy',
    inputs: cnp,
    from: 'globex/shop',
    to: 'acme-db/db',
    port: '5432/TCP',
    allowed: false,
  },
  {
    name: 'cnp: monitoring may scrape the metrics named port',
    inputs: cnp,
    from: 'monitoring/prometheus',
    to: 'acme-web/web',
    port: '9090/TCP',
    allowed: true,
  },
  {
    name: 'cnp: monitoring may not reach the http port',
    inputs: cnp,
    from: 'monitoring/prometheus',
    to: 'acme-web/web',
    port: '8080/TCP',
    allowed: false,
  },
  {
    name: 'cnp: nobody reaches the metadata service',
    inputs: cnp,
    from: 'acme-web/web',
    to: '169.254.169.254',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: 'cnp: DNS stays reachable under the Baseline deny',
    inputs: cnp,
    from: 'globex/shop',
    to: 'kube-system/coredns',
    port: '53/UDP',
    allowed: true,
  },
  // seed 000: "Bingo! 可以看见不带标签的被隔离了,带标签的正常运行"
  {
    name: '000: busybox labelled access=true reaches nginx',
    inputs: ['seed-000-calico-defaultdeny'],
    from: 'test/busybox-3554646944-irgeg',
    to: 'test/nginx-701339712-wcim9',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: '000: busybox without the label times out',
    inputs: ['seed-000-calico-defaultdeny'],
    from: 'test/busybox-3674381263-0solq',
    to: 'test/nginx-701339712-wcim9',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: '000: DefaultDeny isolates busybox too (no policy admits anything to it)',
    inputs: ['seed-000-calico-defaultdeny'],
    from: 'test/nginx-701339712-wcim9',
    to: 'test/busybox-3554646944-irgeg',
    port: '80/TCP',
    allowed: false,
  },
  // seed 001 "实现目标"
  {
    name: '001: myapp admits nginx on TCP/80',
    inputs: s001,
    from: 'testing/nginx',
    to: 'testing/myapp',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: '001: myapp refuses the debug client',
    inputs: s001,
    from: 'default/debug',
    to: 'testing/myapp',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: '001: myapp admits kube-system on any port',
    inputs: s001,
    from: 'kube-system/coredns',
    to: 'testing/myapp',
    port: '8080/TCP',
    allowed: true,
  },
  {
    name: '001: myapp may send to every port of nginx (but nginx only admits 80)',
    inputs: s001,
    from: 'testing/myapp',
    to: 'testing/nginx',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: '001: nginx admits any source on TCP/80',
    inputs: s001,
    from: 'default/debug',
    to: 'testing/nginx',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: '001: nginx refuses TCP/81 from outside kube-system',
    inputs: s001,
    from: 'default/debug',
    to: 'testing/nginx',
    port: '81/TCP',
    allowed: false,
  },
  {
    name: '001: nginx may send anywhere',
    inputs: s001,
    from: 'testing/nginx',
    to: '1.2.3.4',
    port: '443/TCP',
    allowed: true,
  },
  {
    name: '001: myapp reaches kube-system DNS',
    inputs: s001,
    from: 'testing/myapp',
    to: 'kube-system/coredns',
    port: '53/UDP',
    allowed: true,
  },
  {
    name: '001: myapp may not reach the debug client',
    inputs: s001,
    from: 'testing/myapp',
    to: 'default/debug',
    port: '80/TCP',
    allowed: false,
  },
  // seed 002, "附: 测试情况"
  {
    name: '002/1: pods of nsa reach each other',
    inputs: s002('case-1-nsa-internal'),
    from: 'nsa/web',
    to: 'nsa/redis',
    port: '6379/TCP',
    allowed: true,
  },
  {
    name: '002/1: pods of other namespaces are isolated from nsa',
    inputs: s002('case-1-nsa-internal'),
    from: 'nsb/client',
    to: 'nsa/redis',
    port: '6379/TCP',
    allowed: false,
  },
  {
    name: '002/2: nobody reaches nsa, not even nsa',
    inputs: s002('case-2-nsa-deny'),
    from: 'nsa/web',
    to: 'nsa/redis',
    port: '6379/TCP',
    allowed: false,
  },
  {
    name: '002/3: nsb (app=nsb) reaches nsa on 6379',
    inputs: s002('case-3-nsb-to-6379'),
    from: 'nsb/client',
    to: 'nsa/redis',
    port: '6379/TCP',
    allowed: true,
  },
  {
    name: '002/3: nsb may not reach nsa on 80',
    inputs: s002('case-3-nsb-to-6379'),
    from: 'nsb/client',
    to: 'nsa/web',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: '002/3: nsc may not reach nsa',
    inputs: s002('case-3-nsb-to-6379'),
    from: 'nsc/client',
    to: 'nsa/redis',
    port: '6379/TCP',
    allowed: false,
  },
  {
    name: '002/4: nsa reaches 14.215.0.0/16 on 5978',
    inputs: s002('case-4-egress-cidr'),
    from: 'nsa/web',
    to: '14.215.10.1',
    port: '5978/TCP',
    allowed: true,
  },
  {
    name: '002/4: nsa may not reach other addresses',
    inputs: s002('case-4-egress-cidr'),
    from: 'nsa/web',
    to: '8.8.8.8',
    port: '5978/TCP',
    allowed: false,
  },
  {
    name: '002/4: nsa may not reach other pods either',
    inputs: s002('case-4-egress-cidr'),
    from: 'nsa/web',
    to: 'default/web',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: '002/5: 14.215.0.0/16 reaches default on 80',
    inputs: s002('case-5-ingress-cidr'),
    from: '14.215.1.1',
    to: 'default/web',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: '002/5: pods may not reach default',
    inputs: s002('case-5-ingress-cidr'),
    from: 'nsa/web',
    to: 'default/web',
    port: '80/TCP',
    allowed: false,
  },
  // seed 003: "A => B timeout, C => B ok, A => C ok"
  {
    name: '003: A -> B times out',
    inputs: ['seed-003-kind-calico'],
    from: 'test-a/test-pod-a',
    to: 'test-b/test-pod-b',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: '003: C -> B connects',
    inputs: ['seed-003-kind-calico'],
    from: 'test-c/test-pod-c',
    to: 'test-b/test-pod-b',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: '003: A -> C connects (not controlled)',
    inputs: ['seed-003-kind-calico'],
    from: 'test-a/test-pod-a',
    to: 'test-c/test-pod-c',
    port: '80/TCP',
    allowed: true,
  },
  // seed 004
  {
    name: '004: the client (172.16.3.46) reaches dev pod on 80',
    inputs: ['seed-004-linuxea'],
    from: 'default/client',
    to: 'dev-linuxea/pod-linuxea-1',
    port: '80/TCP',
    allowed: true,
  },
  {
    name: '004: and on 81 after the second port was added',
    inputs: ['seed-004-linuxea'],
    from: 'default/client',
    to: 'dev-linuxea/pod-linuxea-1',
    port: '81/TCP',
    allowed: true,
  },
  {
    name: '004: other ports stay blocked',
    inputs: ['seed-004-linuxea'],
    from: 'default/client',
    to: 'dev-linuxea/pod-linuxea-1',
    port: '82/TCP',
    allowed: false,
  },
  {
    name: '004: 172.16.8.0/24 is excepted',
    inputs: ['seed-004-linuxea'],
    from: 'default/excluded',
    to: 'dev-linuxea/pod-linuxea-1',
    port: '80/TCP',
    allowed: false,
  },
  {
    name: '004: prod pod cannot send (deny-egress)',
    inputs: ['seed-004-linuxea'],
    from: 'prod-linuxea/pod-linuxea-1',
    to: 'default/client',
    port: '81/TCP',
    allowed: false,
  },
  {
    name: '004: prod pod still admits ingress',
    inputs: ['seed-004-linuxea'],
    from: 'default/client',
    to: 'prod-linuxea/pod-linuxea-1',
    port: '80/TCP',
    allowed: true,
  },
]

describe('seed scenarios', () => {
  it.each(rows)('$name', ({ inputs, from, to, port, allowed }) => {
    const loaded = load(...inputs)
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    const index = buildIndex(loaded.cluster)
    const src = resolveEndpoint(index, from)
    const dst = resolveEndpoint(index, to)
    expect(typeof src, String(src)).not.toBe('string')
    expect(typeof dst, String(dst)).not.toBe('string')
    const v = evaluate(index, src as never, dst as never, parsePortSpec(port) as PortQuery)
    expect(v.allowed).toBe(allowed)
  })

  it('seed 001 typos are each reported, and no typo object is analysed', () => {
    const loaded = load('seed-001-typos')
    const codes = loaded.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)
    expect(codes).toEqual(
      expect.arrayContaining([
        'schema.unknown-field',
        'validate.unknown-kind',
        'schema.duplicate-key',
        'validate.unsupported-protocol',
      ]),
    )
    expect(loaded.cluster.policies.map((p) => p.name)).toEqual([])
  })
})
