/**
 * The upstream Kubernetes NetworkPolicy e2e cases (kubernetes/kubernetes test/e2e/network/netpol/
 * network_policy.go), transcribed as manifests + truth tables under test/conformance/cases/<slug>/.
 * Shared by the one runner (conformance.test.ts: engine, compiler IR, both backends' rulesets) and the
 * lab (kernel probes, test/lab/ci-suite.test.ts).
 *
 * A case is one state of the cluster: an upstream It() with several steps (policy updated, deleted,
 * labels changed) becomes one case per step. Each case dir holds:
 *   policies.yaml  the NetworkPolicies in force (may hold none)
 *   expected.yaml  name, upstream line range, and per port the Reachability calls, in order
 *   labels.yaml    (optional) label changes to apply to model.yaml at this step
 */
import { readdirSync, readFileSync } from 'node:fs'
import { parse, parseAllDocuments } from 'yaml'
import {
  CELL_ALLOWED,
  CELL_DENIED,
  CELL_UNKNOWN,
  type Matrix,
  type PortQuery,
  parsePortSpec,
} from '../../src/engine/index.js'
import type { InputText } from '../../src/load/index.js'

/** The upstream file and revision the line numbers refer to. */
export const UPSTREAM = {
  repo: 'kubernetes/kubernetes',
  path: 'test/e2e/network/netpol/network_policy.go',
  commit: '9db638c0807a720aa050ebcef69c32e4d4cce280',
} as const

const ROOT = new URL('./', import.meta.url)
const MODEL_FILE = new URL('./model.yaml', ROOT)

/** The model's pods in upstream order (Model.AllPodStrings): namespaces x, y, z, pods a, b, c. */
export const MODEL_PODS: readonly string[] = ['x', 'y', 'z'].flatMap((ns) =>
  ['a', 'b', 'c'].map((p) => `${ns}/${p}`),
)

/** Every It() block of the upstream file (Describe context, name, first and last line). */
export const UPSTREAM_IT_BLOCKS: readonly {
  readonly context: string
  readonly name: string
  readonly lines: readonly [number, number]
}[] = [
  {
    context: 'NetworkPolicy between server and client',
    name: "should support a 'default-deny-ingress' policy",
    lines: [120, 145],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: "should support a 'default-deny-all' policy",
    lines: [147, 160],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy to allow traffic from pods within server namespace based on PodSelector',
    lines: [162, 183],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy to allow ingress traffic for a target',
    lines: [185, 208],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy to allow ingress traffic from pods in all namespaces',
    lines: [210, 222],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector',
    lines: [224, 240],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy based on PodSelector with MatchExpressions',
    lines: [242, 265],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy based on NamespaceSelector with MatchExpressions',
    lines: [267, 290],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy based on PodSelector or NamespaceSelector',
    lines: [292, 319],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy based on PodSelector and NamespaceSelector',
    lines: [321, 349],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy based on Multiple PodSelectors and NamespaceSelectors',
    lines: [351, 382],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy based on any PodSelectors',
    lines: [384, 404],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector',
    lines: [406, 431],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy based on Ports',
    lines: [433, 456],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce multiple, stacked policies with overlapping podSelectors',
    lines: [458, 498],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should support allow-all policy',
    lines: [500, 513],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should allow ingress access on one named port',
    lines: [515, 534],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should allow ingress access from namespace on one named port',
    lines: [536, 564],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should allow egress access on one named port',
    lines: [566, 585],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce updated policy',
    lines: [587, 607],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should allow ingress access from updated namespace',
    lines: [609, 638],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should allow ingress access from updated pod',
    lines: [640, 667],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should deny ingress from pods on other namespaces',
    lines: [669, 684],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should deny ingress access to updated pod',
    lines: [686, 706],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should deny egress from pods based on PodSelector',
    lines: [708, 720],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should deny egress from all pods in a namespace',
    lines: [722, 734],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should work with Ingress, Egress specified together',
    lines: [736, 772],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)',
    lines: [774, 868],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector',
    lines: [870, 894],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce ingress policy allowing any port traffic to a server on a specific protocol',
    lines: [896, 912],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce multiple ingress policies with ingress allow-all policy taking precedence',
    lines: [914, 937],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce multiple egress policies with egress allow-all policy taking precedence',
    lines: [939, 962],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should stop enforcing policies after they are deleted',
    lines: [964, 988],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should allow egress access to server in CIDR block',
    lines: [992, 1017],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce except clause while egress access to server in CIDR block',
    lines: [1019, 1051],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed',
    lines: [1053, 1100],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector',
    lines: [1102, 1134],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
    lines: [1139, 1160],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
    lines: [1165, 1180],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should not allow access by TCP when a policy specifies only UDP',
    lines: [1182, 1198],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label',
    lines: [1201, 1221],
  },
  {
    context: 'NetworkPolicy between server and client',
    name: 'should enforce policy based on NamespaceSelector with MatchExpressions using default ns label',
    lines: [1224, 1244],
  },
  {
    context: 'NetworkPolicy between server and client using UDP',
    name: "should support a 'default-deny-ingress' policy",
    lines: [1260, 1272],
  },
  {
    context: 'NetworkPolicy between server and client using UDP',
    name: 'should enforce policy based on Ports',
    lines: [1274, 1297],
  },
  {
    context: 'NetworkPolicy between server and client using UDP',
    name: 'should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector',
    lines: [1299, 1324],
  },
  {
    context: 'NetworkPolicy between server and client using SCTP',
    name: "should support a 'default-deny-ingress' policy",
    lines: [1340, 1352],
  },
  {
    context: 'NetworkPolicy between server and client using SCTP',
    name: 'should enforce policy based on Ports',
    lines: [1354, 1376],
  },
  {
    context: 'NetworkPolicy between server and client using SCTP',
    name: 'should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector',
    lines: [1378, 1403],
  },
]

/** A Peer of the upstream Reachability: an empty field matches everything. */
export interface PeerSpec {
  readonly namespace?: string
  readonly pod?: string
}

/** One upstream Reachability call, named as upstream names it. */
export type ReachabilityCall =
  | { readonly ExpectPeer: { readonly from: PeerSpec; readonly to: PeerSpec; readonly connected: boolean } }
  | { readonly ExpectAllIngress: { readonly pod: string; readonly connected: boolean } }
  | { readonly ExpectAllEgress: { readonly pod: string; readonly connected: boolean } }
  | { readonly Expect: { readonly from: string; readonly to: string; readonly connected: boolean } }

/** One ValidateOrFail of the upstream test: a port and the truth table expected on it. */
export interface ConformanceTable {
  readonly port: PortQuery
  /** Line of the ValidateOrFail call. */
  readonly validate: number
  /** NewReachability(..., defaultExpectation). */
  readonly default: boolean
  readonly expect: readonly ReachabilityCall[]
}

/** Label changes a step applies to the model (AddNamespaceLabel / AddPodLabels). */
export interface LabelPatch {
  readonly namespaces?: Readonly<Record<string, Readonly<Record<string, string>>>>
  readonly pods?: Readonly<Record<string, Readonly<Record<string, string>>>>
}

export interface ConformanceCase {
  readonly slug: string
  /** Absolute path of the case directory. */
  readonly dir: string
  /** The upstream It() text. */
  readonly name: string
  /** The upstream Describe/Context text (TCP, UDP or SCTP flavour). */
  readonly context: string
  /** Test name: the It() text, the protocol flavour and the step when there are several. */
  readonly title: string
  readonly lines: readonly [number, number]
  readonly step?: string
  /** Ports the case checks, in the order upstream validates them. */
  readonly ports: readonly PortQuery[]
  readonly tables: readonly ConformanceTable[]
  readonly labels?: LabelPatch
  /** Why the case cannot be run (it depends on something the model cannot express). */
  readonly skip?: string
}

/** Lists every transcribed case, in upstream order (by line, then step). */
export function listConformanceCases(): ConformanceCase[] {
  const dirs = readdirSync(new URL('./cases/', ROOT), { withFileTypes: true }).filter((d) => d.isDirectory())
  const out = dirs.map((d) => readCase(d.name))
  return out.sort((a, b) => a.lines[0] - b.lines[0] || (a.step ?? '').localeCompare(b.step ?? ''))
}

function readCase(slug: string): ConformanceCase {
  const dir = new URL(`./cases/${slug}/`, ROOT)
  const raw = parse(readFileSync(new URL('expected.yaml', dir), 'utf8')) as {
    name: string
    context: string
    lines: [number, number]
    step?: string
    skip?: string
    tables: { port: string; validate: number; default: boolean; expect: ReachabilityCall[] }[]
  }
  const tables = raw.tables.map((t) => {
    const port = parsePortSpec(t.port)
    if (typeof port === 'string') throw new Error(`${slug}/expected.yaml: ${port}`)
    return { port, validate: t.validate, default: t.default, expect: t.expect ?? [] }
  })
  let labels: LabelPatch | undefined
  try {
    labels = parse(readFileSync(new URL('labels.yaml', dir), 'utf8')) as LabelPatch
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const flavour = raw.context.endsWith('using UDP')
    ? ' [UDP]'
    : raw.context.endsWith('using SCTP')
      ? ' [SCTP]'
      : ''
  const title = `${raw.name}${flavour}${raw.step ? ` (step ${raw.step})` : ''}`
  const ports: PortQuery[] = []
  for (const t of tables)
    if (!ports.some((p) => p.port === t.port.port && p.protocol === t.port.protocol)) ports.push(t.port)
  return {
    slug,
    dir: dir.pathname,
    name: raw.name,
    context: raw.context,
    title,
    lines: raw.lines,
    ...(raw.step ? { step: raw.step } : {}),
    ports,
    tables,
    ...(labels ? { labels } : {}),
    ...(raw.skip ? { skip: raw.skip } : {}),
  }
}

/** Returns model.yaml with the case's label changes applied (the text as is when there are none). */
export function modelText(c: Pick<ConformanceCase, 'labels'>): string {
  const text = readFileSync(MODEL_FILE, 'utf8')
  if (!c.labels) return text
  const docs = parseAllDocuments(text)
  for (const doc of docs) {
    const kind = doc.get('kind')
    const name = String(doc.getIn(['metadata', 'name']))
    const patch =
      kind === 'Namespace'
        ? c.labels.namespaces?.[name]
        : kind === 'Pod'
          ? c.labels.pods?.[`${doc.getIn(['metadata', 'namespace'])}/${name}`]
          : undefined
    for (const [k, v] of Object.entries(patch ?? {})) doc.setIn(['metadata', 'labels', k], v)
  }
  return docs.map((d) => d.toString()).join('')
}

/** Returns the inputs of a case for loadCluster: the (patched) model and the case's policies. */
export function caseInputs(c: ConformanceCase): InputText[] {
  return [
    { file: 'test/conformance/model.yaml', text: modelText(c) },
    {
      file: `test/conformance/cases/${c.slug}/policies.yaml`,
      text: readFileSync(`${c.dir}policies.yaml`, 'utf8'),
    },
  ]
}

const matchPeer = (p: PeerSpec, pod: string): boolean => {
  const [ns, name] = pod.split('/')
  return (p.namespace === undefined || p.namespace === ns) && (p.pod === undefined || p.pod === name)
}

/**
 * Builds the upstream truth table of one ValidateOrFail as a Matrix over MODEL_PODS: the default, then
 * each call in order, exactly as reachability.go / truthtable.go apply them. pod->self cells are
 * CELL_UNKNOWN because upstream ignores them (ignoreLoopback = true in network_policy.go).
 */
export function applyReachability(
  table: Pick<ConformanceTable, 'default' | 'expect'>,
  pods: readonly string[] = MODEL_PODS,
): Uint8Array {
  const n = pods.length
  const cells = new Uint8Array(n * n).fill(table.default ? CELL_ALLOWED : CELL_DENIED)
  const set = (i: number, j: number, v: boolean) => {
    cells[i * n + j] = v ? CELL_ALLOWED : CELL_DENIED
  }
  const at = (pod: string) => {
    const i = pods.indexOf(pod)
    if (i < 0) throw new Error(`unknown pod ${pod} in a Reachability call`)
    return i
  }
  for (const call of table.expect) {
    if ('ExpectPeer' in call) {
      const { from, to, connected } = call.ExpectPeer
      pods.forEach((f, i) => {
        if (!matchPeer(from, f)) return
        pods.forEach((t, j) => {
          if (matchPeer(to, t)) set(i, j, connected)
        })
      })
    } else if ('ExpectAllIngress' in call) {
      const j = at(call.ExpectAllIngress.pod)
      for (let i = 0; i < n; i++) set(i, j, call.ExpectAllIngress.connected)
    } else if ('ExpectAllEgress' in call) {
      const i = at(call.ExpectAllEgress.pod)
      for (let j = 0; j < n; j++) set(i, j, call.ExpectAllEgress.connected)
    } else if ('Expect' in call) {
      set(at(call.Expect.from), at(call.Expect.to), call.Expect.connected)
    } else {
      throw new Error(`unknown Reachability call ${JSON.stringify(call)}`)
    }
  }
  for (let i = 0; i < n; i++) cells[i * n + i] = CELL_UNKNOWN
  return cells
}

/** Returns the expected matrix of a case over MODEL_PODS, one port per table (in table order). */
export function expectedMatrix(c: Pick<ConformanceCase, 'tables'>): Matrix {
  return {
    pods: MODEL_PODS,
    ports: c.tables.map((t) => `${t.port.port}/${t.port.protocol}`),
    cells: c.tables.map((t) => applyReachability(t)),
  }
}
