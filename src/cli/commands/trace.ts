/**
 * `palisade trace` (and `palisade lab trace`): the kernel's own trace of one packet through Palisade's
 * chains, each step named with the policy and rule it belongs to, next to the analyzer's verdict for the
 * same connection (the engine, as `palisade check` asks it), and whether the two agree.
 *
 * Exit 0: the packet was accepted and the analyzer allows it; 1: dropped and the analyzer denies it;
 * 3: kernel and analyzer disagree; 2: error (bad input, no matching packet within --timeout, a backend
 * that cannot be traced).
 */
import type { Command } from 'commander'
import {
  type ExplainedTrace,
  explainTrace,
  firstMatchingTrace,
  formatRuleRole,
  getTracer,
  isValidNetnsName,
  type RawTrace,
  type TraceMatch,
  type Tracer,
  type TraceSession,
} from '../../backends/index.js'
import { buildNodeIR, nodeNameProblem } from '../../compile/index.js'
import {
  buildIndex,
  type ClusterIndex,
  type Endpoint,
  evaluate,
  formatPort,
  type PortQuery,
  parseNamedPortSpec,
  parsePortSpec,
  resolveEndpoints,
  resolveNamedPort,
  type Verdict,
} from '../../engine/index.js'
import { renderVerdict } from '../../explain/index.js'
import type { ClusterState, Family, SourceRef } from '../../model/index.js'
import { parseIP } from '../../model/index.js'
import { writeData } from '../format.js'
import { addClusterOptions, addInputOptions, type InputOptions, loadFromOptions } from '../options.js'
import { verdictJSON } from './check.js'

/** Exit code when the kernel and the analyzer disagree. */
export const EXIT_MISMATCH = 3
const DEFAULT_TIMEOUT_S = 30

interface TraceCliOptions extends InputOptions {
  readonly from?: string
  readonly to?: string
  readonly port?: string
  readonly protocol?: string
  readonly namespace?: string
  readonly node?: string
  readonly netns?: string
  readonly backend: string
  readonly timeout: string
  readonly lab?: string
  readonly output: string
}

/** One traced node: where, which checks it makes, and what the kernel did there. */
export interface NodeTraceReport {
  readonly node: string
  readonly netns?: string
  /** Which of the connection's checks this node makes. */
  readonly checks: readonly ('egress' | 'ingress')[]
  readonly trace?: ExplainedTrace
}

export interface TraceReport {
  readonly from: string
  readonly to: string
  readonly port: string
  readonly backend: string
  readonly lab?: string
  readonly match: TraceMatch
  readonly verdict: Verdict
  /** What the analyzer says about the checks the traced nodes make. */
  readonly expected: boolean
  readonly nodes: readonly NodeTraceReport[]
  readonly kernel: 'accepted' | 'dropped' | 'not seen'
  readonly agree: boolean
  /** Lab: what the probe saw ('connected', 'timeout', ...). */
  readonly probe?: string
  /** Checks of the connection no traced node makes (real node: the other node's). */
  readonly untraced: readonly string[]
  /** file:line of each policy rule a step names. */
  readonly sources: Readonly<Record<string, string>>
}

const err = (s: string) => process.stderr.write(`${s}\n`)

/** Returns the address of an endpoint in the family, or undefined. */
function addressOf(e: Endpoint, family: Family): string | undefined {
  if (e.kind === 'pod') return e.pod.ips.find((ip) => parseIP(ip)?.family === family)
  const ip = e.kind === 'ip' ? e.ip : e.ip
  return ip !== undefined && parseIP(ip)?.family === family ? ip : undefined
}

/** Names an endpoint for people. */
function endpointName(e: Endpoint): string {
  if (e.kind === 'pod') return `${e.pod.namespace}/${e.pod.name}`
  if (e.kind === 'node') return `node/${e.node}`
  return e.ip
}

/** Returns where a policy rule is in the input ('policies.yaml:25'), keyed by formatRuleRole's policy/direction/rule. */
function ruleSources(cluster: ClusterState): Map<string, string> {
  const out = new Map<string, string>()
  const where = (s: SourceRef | undefined) =>
    s ? `${s.file}${s.line !== undefined ? `:${s.line}` : ''}` : undefined
  for (const p of cluster.policies) {
    for (const [dir, rules] of [
      ['ingress', p.ingress],
      ['egress', p.egress],
    ] as const) {
      rules.forEach((r, i) => {
        const w = where(r.source ?? p.source)
        if (w) out.set(`${p.namespace}/${p.name} ${dir}[${i}]`, w)
      })
    }
  }
  return out
}

interface Resolved {
  readonly from: Endpoint
  readonly to: Endpoint
  readonly port: PortQuery
  readonly match: TraceMatch
  readonly verdict: Verdict
}

/** Resolves --from, --to and --port against the cluster and asks the engine; an error text on bad input. */
function resolveConnection(
  index: ClusterIndex,
  opts: TraceCliOptions & { from: string; to: string; port: string },
): Resolved | string {
  const ro = opts.namespace === undefined ? {} : { namespace: opts.namespace }
  const ends: Endpoint[] = []
  for (const [flag, spec] of [
    ['--from', opts.from],
    ['--to', opts.to],
  ] as const) {
    const r = resolveEndpoints(index, spec, ro)
    if (typeof r === 'string') return `${flag}: ${r}`
    if (r.endpoints.length !== 1)
      return `${flag} ${spec} names ${r.endpoints.length} pods: a trace follows one packet, name one pod (${r.endpoints
        .slice(0, 3)
        .map(endpointName)
        .join(', ')}${r.endpoints.length > 3 ? ', ...' : ''})`
    ends.push(r.endpoints[0] as Endpoint)
  }
  const [from, to] = ends as [Endpoint, Endpoint]
  let port: PortQuery
  const proto = opts.protocol?.toUpperCase()
  if (proto !== undefined && proto !== 'TCP' && proto !== 'UDP')
    return `--protocol must be TCP or UDP, not "${opts.protocol}"`
  if (/^\d/.test(opts.port.trim())) {
    const text = proto && !opts.port.includes('/') ? `${opts.port}/${proto}` : opts.port
    const p = parsePortSpec(text)
    if (typeof p === 'string') return p
    port = p
  } else {
    const named = parseNamedPortSpec(proto && !opts.port.includes('/') ? `${opts.port}/${proto}` : opts.port)
    if (!named) return `--port ${opts.port}: not a port`
    if (to.kind !== 'pod') return `--port ${opts.port}: a named port is resolved on the destination pod`
    const p = resolveNamedPort(to.pod, named)
    if (typeof p === 'string') return `--port ${opts.port}: ${p}`
    port = p
  }
  if (port.protocol !== 'TCP' && port.protocol !== 'UDP')
    return `--port ${formatPort(port)}: only TCP and UDP packets can be traced here`
  let family: Family | undefined
  for (const f of [4, 6] as const)
    if (family === undefined && addressOf(from, f) && addressOf(to, f)) family = f
  if (family === undefined)
    return `${endpointName(from)} and ${endpointName(to)} have no address of a common family`
  return {
    from,
    to,
    port,
    verdict: evaluate(index, from, to, port),
    match: {
      family,
      protocol: port.protocol,
      saddr: addressOf(from, family) as string,
      daddr: addressOf(to, family) as string,
      dport: port.port,
    },
  }
}

/** Returns the node a pod endpoint runs on. */
const nodeOf = (e: Endpoint) => (e.kind === 'pod' ? e.pod.nodeName : undefined)

/** Registers `trace`. */
export function registerTrace(program: Command, setExit: (code: number) => void): void {
  addClusterOptions(
    addInputOptions(
      program
        .command('trace')
        .description(
          "the kernel's own trace of one packet through Palisade's chains, with the policy and rule of each step, next to the analyzer's verdict (root; exit 0 allowed, 1 denied, 3 kernel and analyzer disagree, 2 error)",
        )
        .argument('[paths...]', 'manifest files or folders (not with --lab: the lab knows its cluster)'),
    ),
  )
    .option('--from <endpoint>', 'ns/pod, ns/workload with one pod, NAME (-n), or an IP (required)')
    .option('--to <endpoint>', 'ns/pod, ns/workload with one pod, NAME (-n), or an IP (required)')
    .option('--port <port>', 'PORT[/PROTOCOL] (80, 53/UDP) or a named port of the destination pod (required)')
    .option('--protocol <protocol>', 'tcp | udp, when --port names none (default tcp)')
    .option('-n, --namespace <ns>', 'namespace of bare names (default: default)')
    .option('--node <name>', 'the node this runs on: its ruleset names the steps (required without --lab)')
    .option('--netns <name>', "trace in this network namespace instead of the current one (the node's)")
    .option('--backend <name>', 'nftables | iptables-nft (iptables-legacy cannot be traced)', 'nftables')
    .option(
      '--timeout <seconds>',
      'on a node: seconds to wait for the next matching packet',
      String(DEFAULT_TIMEOUT_S),
    )
    .option('--lab <id>', 'trace in a running lab (`palisade lab up`): the probe sends the packet itself')
    .option('-o, --output <format>', 'text | json', 'text')
    .action(async (paths: string[], opts: TraceCliOptions) => {
      setExit(await runTrace(paths, opts))
    })
}

/** Registers `lab trace` (the same command, lab first). */
export function registerLabTrace(lab: Command, setExit: (code: number) => void): void {
  lab
    .command('trace')
    .description(
      "send one packet between two pods of a running lab and print the kernel's trace on their nodes next to the analyzer's verdict",
    )
    .option('--lab <id>', 'lab id printed by `lab up` (default: the only running lab)')
    .option('--from <endpoint>', 'ns/pod (required)')
    .option('--to <endpoint>', 'ns/pod (required)')
    .option('--port <port>', 'PORT[/PROTOCOL] or a named port of the destination pod (required)')
    .option('--protocol <protocol>', 'tcp | udp, when --port names none (default tcp)')
    .option('-n, --namespace <ns>', 'namespace of bare names (default: default)')
    .option('-o, --output <format>', 'text | json', 'text')
    .action(async (opts: TraceCliOptions) => {
      const { listLabIds } = await import('../../lab/index.js')
      let id = opts.lab
      if (id === undefined) {
        const ids = await listLabIds()
        if (ids.length !== 1) {
          err(
            ids.length === 0
              ? 'palisade lab trace: no lab is running (palisade lab up PATH...)'
              : `palisade lab trace: several labs run (${ids.join(', ')}): pick one with --lab ID`,
          )
          return setExit(2)
        }
        id = ids[0] as string
      }
      setExit(await runTrace([], { ...opts, lab: id, backend: opts.backend ?? 'nftables', timeout: '30' }))
    })
}

/** Runs a trace as the options say; returns the exit code. */
export async function runTrace(paths: readonly string[], opts: TraceCliOptions): Promise<number> {
  const name = opts.lab !== undefined ? 'palisade lab trace' : 'palisade trace'
  for (const [flag, value] of [
    ['--from <endpoint>', opts.from],
    ['--to <endpoint>', opts.to],
    ['--port <port>', opts.port],
  ] as const) {
    if (value === undefined) {
      err(`error: required option '${flag}' not specified`)
      return 2
    }
  }
  const o = opts as TraceCliOptions & { from: string; to: string; port: string }
  if (o.output !== 'text' && o.output !== 'json') {
    err(`${name}: -o must be text or json, not "${o.output}"`)
    return 2
  }
  const timeoutS = Number(o.timeout)
  if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 3600) {
    err(`${name}: --timeout must be a number of seconds from 0 to 3600, not "${o.timeout}"`)
    return 2
  }
  if (o.netns !== undefined && !isValidNetnsName(o.netns)) {
    err(`${name}: --netns "${o.netns}" is not a valid namespace name`)
    return 2
  }
  if (o.lab !== undefined) return traceLab(name, paths, o)
  if (o.node === undefined) {
    err(`${name}: --node NAME is required (the node this runs on), or --lab ID for a lab`)
    return 2
  }
  const nodeProblem = nodeNameProblem(o.node)
  if (nodeProblem) {
    err(`${name}: --node: ${nodeProblem}`)
    return 2
  }
  const tracer = getTracer(o.backend)
  if (typeof tracer === 'string') {
    err(`${name}: ${tracer}`)
    return 2
  }
  const loaded = await loadFromOptions(paths, o, 'trace')
  if (!loaded) return 2
  const index = buildIndex(loaded.cluster)
  const c = resolveConnection(index, o)
  if (typeof c === 'string') {
    err(`${name}: ${c}`)
    return 2
  }
  const node = o.node
  const checks = checksOn(c, node)
  const ir = buildNodeIR(loaded.cluster, node)
  const untraced = [
    ...(checks.includes('egress') ? [] : [`egress of ${endpointName(c.from)}${whereNode(c.from)}`]),
    ...(checks.includes('ingress') ? [] : [`ingress of ${endpointName(c.to)}${whereNode(c.to)}`]),
  ]
  err(
    `${name}: waiting up to ${timeoutS} s for the next ${c.match.protocol} packet ${c.match.saddr} -> ${c.match.daddr}:${c.match.dport} on node ${node}${o.netns ? ` (netns ${o.netns})` : ''}: a node cannot send from a pod, so the next new connection is traced (${tracer.tool})`,
  )
  const traced = await traceNodes(
    tracer,
    [{ node, ...(o.netns ? { netns: o.netns } : {}) }],
    c.match,
    async (seen) => {
      const until = Date.now() + timeoutS * 1000
      while (Date.now() < until && !seen()) await sleep(100)
      await sleep(300)
    },
  ).catch((e: unknown) => e)
  if (traced instanceof Error || !Array.isArray(traced)) {
    err(`${name}: ${traced instanceof Error ? traced.message : String(traced)}`)
    return 2
  }
  const t = traced[0] ? explainTrace(traced[0], tracer.index(ir)) : undefined
  if (!t) {
    err(
      `${name}: no new ${c.match.protocol} connection ${c.match.saddr} -> ${c.match.daddr}:${c.match.dport} passed node ${node} within ${timeoutS} s (the trace rule is removed)`,
    )
    return 2
  }
  return report(
    {
      from: o.from,
      to: o.to,
      port: formatPort(c.port),
      backend: o.backend,
      match: c.match,
      verdict: c.verdict,
      expected: expectedOn(c.verdict, checks),
      nodes: [{ node, ...(o.netns ? { netns: o.netns } : {}), checks, trace: t }],
      kernel: t.verdict,
      agree: (t.verdict === 'accepted') === expectedOn(c.verdict, checks),
      untraced,
      sources: Object.fromEntries(ruleSources(loaded.cluster)),
    },
    o.output,
  )
}

const whereNode = (e: Endpoint) => (nodeOf(e) ? ` (on node ${nodeOf(e)})` : '')

/** Which checks of the connection a node makes: egress when the source pod runs there, ingress for the destination. */
function checksOn(c: Resolved, node: string): ('egress' | 'ingress')[] {
  return [
    ...(nodeOf(c.from) === node ? (['egress'] as const) : []),
    ...(nodeOf(c.to) === node ? (['ingress'] as const) : []),
  ]
}

/** What the analyzer says about the checks a node makes (a node that makes none passes the packet). */
function expectedOn(v: Verdict, checks: readonly ('egress' | 'ingress')[]): boolean {
  return (
    (!checks.includes('egress') || v.egress.allowed) && (!checks.includes('ingress') || v.ingress.allowed)
  )
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Starts a trace on every node, runs `during` (it sends the packet, or waits for one; `seen` says whether
 * every node has a trace of it), stops every trace whatever happens (also on SIGINT/SIGTERM) and returns
 * each node's first trace of the packet.
 */
async function traceNodes(
  tracer: Tracer,
  nodes: readonly { node: string; netns?: string }[],
  m: TraceMatch,
  during: (seen: () => boolean) => Promise<void>,
): Promise<(RawTrace | undefined)[]> {
  const sessions: TraceSession[] = []
  const stopAll = () => Promise.allSettled(sessions.map((s) => s.stop()))
  const onSignal = (sig: NodeJS.Signals) => {
    err(`palisade trace: ${sig}: removing the trace rules`)
    void stopAll().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const table = tracer.table
  const first = () => sessions.map((s) => firstMatchingTrace(tracer.parse(s.output()), m, table))
  try {
    // every node at once; what started is stopped in `finally` when another one failed
    const started = await Promise.allSettled(
      nodes.map((n) => tracer.start({ ...(n.netns ? { netns: n.netns } : {}) }, m)),
    )
    for (const r of started) if (r.status === 'fulfilled') sessions.push(r.value)
    const failed = started.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
    const failure = () => sessions.map((s) => s.failure()).find((f) => f !== undefined)
    await during(() => failure() !== undefined || first().every((t) => t !== undefined))
    const broken = failure()
    if (broken !== undefined)
      throw new Error(
        /unsupported layer 4 protocol/.test(broken) && m.family === 6
          ? `${broken} (this xtables-monitor cannot print IPv6 rules that match a protocol: trace IPv6 with the nftables backend)`
          : broken,
      )
    const texts = await Promise.all(sessions.map((s) => s.stop()))
    return texts.map((text) => firstMatchingTrace(tracer.parse(text), m, table))
  } finally {
    await stopAll()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** `--lab`: send the packet from the source pod's namespace and trace it on the nodes of both pods. */
async function traceLab(
  name: string,
  paths: readonly string[],
  o: TraceCliOptions & { from: string; to: string; port: string; lab?: string },
): Promise<number> {
  if (paths.length > 0 || (o.filename?.length ?? 0) > 0) {
    err(`${name}: --lab traces the lab's own cluster: give no manifests`)
    return 2
  }
  const { readLab, controlSocket, request, podInterfacesOf } = await import('../../lab/index.js')
  const lab = await readLab(o.lab as string)
  if (!lab) {
    err(`${name}: no lab ${o.lab}`)
    return 2
  }
  const backend = lab.backend ?? 'nftables'
  const tracer = getTracer(backend)
  if (typeof tracer === 'string') {
    err(`${name}: lab ${o.lab} runs ${backend}: ${tracer}`)
    return 2
  }
  const cluster = lab.plan.cluster
  const index = buildIndex(cluster)
  const c = resolveConnection(index, o)
  if (typeof c === 'string') {
    err(`${name}: ${c}`)
    return 2
  }
  if (c.from.kind !== 'pod' || c.to.kind !== 'pod') {
    err(`${name}: in the lab, --from and --to name pods (the probe is sent from the source pod's namespace)`)
    return 2
  }
  const src = lab.plan.pods.find((p) => p.key === endpointName(c.from))
  const dst = lab.plan.pods.find((p) => p.key === endpointName(c.to))
  if (!src || !dst) {
    err(`${name}: ${src ? endpointName(c.to) : endpointName(c.from)} has no namespace in lab ${o.lab}`)
    return 2
  }
  const nodeNames = [...new Set([src.node, dst.node])]
  const nodes = nodeNames.map((n) => {
    const ln = lab.plan.nodes.find((x) => x.name === n)
    return { node: n, netns: ln?.netns as string }
  })
  let probe = ''
  const traced = await traceNodes(tracer, nodes, c.match, async () => {
    const replies = await request(
      controlSocket(lab, src.netns),
      {
        op: 'probe',
        probes: [
          {
            id: 'trace',
            ip: c.match.daddr,
            port: c.match.dport,
            proto: c.match.protocol === 'UDP' ? 'udp' : 'tcp',
            expect: dst.key,
          },
        ],
        timeoutMs: 1000,
        concurrency: 1,
      },
      10_000,
    )
    const r = replies.find((x) => x.id === 'trace')
    probe =
      r === undefined
        ? 'no answer'
        : r.ok === true
          ? `connected (${String(r.detail)})`
          : `refused or lost (${String(r.detail)})`
    // the monitors print asynchronously: give them a moment after the probe ended
    await sleep(300)
  }).catch((e: unknown) => e)
  if (traced instanceof Error || !Array.isArray(traced)) {
    err(`${name}: ${traced instanceof Error ? traced.message : String(traced)}`)
    return 2
  }
  const reports: NodeTraceReport[] = nodes.map((n, i) => {
    const ir = buildNodeIR(cluster, n.node, { podInterfaces: podInterfacesOf(lab, n.node) })
    const raw = traced[i]
    return {
      node: n.node,
      netns: n.netns,
      checks: checksOn(c, n.node),
      ...(raw ? { trace: explainTrace(raw, tracer.index(ir)) } : {}),
    }
  })
  // The packet leaves the source node before it reaches the destination's: a drop there ends it.
  const verdicts = reports.map((r) => r.trace?.verdict ?? 'not seen')
  const kernel = verdicts.includes('dropped')
    ? 'dropped'
    : verdicts.includes('not seen')
      ? 'not seen'
      : 'accepted'
  return report(
    {
      from: o.from,
      to: o.to,
      port: formatPort(c.port),
      backend,
      lab: o.lab as string,
      match: c.match,
      verdict: c.verdict,
      expected: c.verdict.allowed,
      nodes: reports,
      kernel,
      agree: kernel !== 'not seen' && (kernel === 'accepted') === c.verdict.allowed,
      probe,
      untraced: [],
      sources: Object.fromEntries(ruleSources(cluster)),
    },
    o.output,
  )
}

/** Prints a report and returns the exit code. */
async function report(r: TraceReport, output: string): Promise<number> {
  if (output === 'json') await writeData('json', traceJSON(r))
  else process.stdout.write(renderTraceReport(r))
  if (r.kernel === 'not seen') return 2
  if (!r.agree) return EXIT_MISMATCH
  return r.kernel === 'accepted' ? 0 : 1
}

/** Returns the JSON document `trace -o json` prints. */
export function traceJSON(r: TraceReport) {
  return {
    from: r.from,
    to: r.to,
    port: r.port,
    backend: r.backend,
    ...(r.lab !== undefined ? { lab: r.lab } : {}),
    packet: r.match,
    analyzer: { ...verdictJSON(r.verdict, r.from, r.to, r.port), expectedOnTracedNodes: r.expected },
    kernel: {
      verdict: r.kernel,
      nodes: r.nodes.map((n) => ({
        node: n.node,
        ...(n.netns !== undefined ? { netns: n.netns } : {}),
        checks: n.checks,
        verdict: n.trace?.verdict ?? 'not seen',
        packet: n.trace?.packet ?? null,
        allowedBy: (n.trace?.allowedBy ?? []).map((a) => ({
          ...a,
          source: r.sources[`${a.policy} ${a.direction}[${a.rule}]`] ?? null,
        })),
        steps: (n.trace?.steps ?? []).map((s) => ({
          chain: s.chain,
          verdict: s.verdict,
          handle: s.handle ?? null,
          rule: s.rule ?? null,
          comment: s.comment ?? null,
          role: s.role ?? null,
          policyRule: s.policyRule ?? null,
          unknownRule: s.unknownRule === true,
          meaning: s.meaning,
        })),
      })),
      untraced: r.untraced,
    },
    ...(r.probe !== undefined ? { probe: r.probe } : {}),
    agree: r.agree,
  }
}

const VERDICT_WORD = { accepted: 'ACCEPTED', dropped: 'DROPPED', 'not seen': 'NOT SEEN' } as const

/** Renders a trace report for people: the analyzer's verdict, each node's steps, the agreement line. */
export function renderTraceReport(r: TraceReport): string {
  const lines: string[] = []
  const m = r.match
  lines.push(
    `palisade trace ${r.from} -> ${r.to} on ${r.port} (${m.saddr} -> ${m.daddr}:${m.dport}, ${r.backend}${r.lab ? `, lab ${r.lab}` : ''})`,
  )
  lines.push('', 'analyzer (as `palisade check`):')
  for (const l of renderVerdict(r.verdict, r.from, r.to, r.port).trimEnd().split('\n')) lines.push(`  ${l}`)
  for (const n of r.nodes) {
    const what =
      n.checks.length === 0
        ? 'no check of this connection'
        : n.checks.map((c) => `${c} of ${c === 'egress' ? r.from : r.to}`).join(', ')
    lines.push('', `kernel, node ${n.node}${n.netns ? ` (netns ${n.netns})` : ''}: ${what}`)
    const t = n.trace
    if (!t) {
      lines.push('  the packet did not reach this node')
      continue
    }
    const p = t.packet
    lines.push(
      `  packet ${p.saddr ?? '?'}:${p.sport ?? '?'} -> ${p.daddr ?? '?'}:${p.dport ?? '?'}${p.flags ? ` ${p.flags}` : ''}${p.iif ? ` in ${p.iif}` : ''}${p.oif ? ` out ${p.oif}` : ''}`,
    )
    t.steps.forEach((s, i) => {
      const at = `${s.chain}${s.handle !== undefined ? ` #${s.handle}` : ''}`
      const src = s.policyRule
        ? r.sources[`${s.policyRule.policy} ${s.policyRule.direction}[${s.policyRule.rule}]`]
        : undefined
      lines.push(`  ${String(i + 1).padStart(2)}. ${at}: ${s.verdict}`)
      lines.push(`      ${s.meaning}${src ? ` (${src})` : ''}`)
    })
    lines.push(
      `  => ${VERDICT_WORD[t.verdict]} on ${n.node}${t.allowedBy.length > 0 ? ` (admitted by ${t.allowedBy.map(formatRuleRole).join('; ')})` : ''}`,
    )
  }
  for (const u of r.untraced) lines.push('', `not traced here: ${u} is checked on another node`)
  if (r.probe !== undefined) lines.push('', `probe: ${r.probe}`)
  const analyzer = r.expected ? 'ALLOWED' : 'DENIED'
  lines.push(
    '',
    r.kernel === 'not seen'
      ? `kernel NOT SEEN (the trace never showed the packet), analyzer ${analyzer}: nothing to compare`
      : r.agree
        ? `kernel ${VERDICT_WORD[r.kernel]}, analyzer ${analyzer}: kernel and analyzer AGREE`
        : `kernel ${VERDICT_WORD[r.kernel]}, analyzer ${analyzer}: MISMATCH between kernel and analyzer`,
  )
  return `${lines.join('\n')}\n`
}
