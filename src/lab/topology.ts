/**
 * Builds and removes the lab's network namespaces (edge: runs `ip`, `sysctl`). The host namespace is
 * never touched: every link is created from inside a lab namespace, every address and route lives in one.
 *
 *   <prefix>u   underlay: bridge fab0, the switch between nodes
 *   <prefix>nK  node K: eth0 10.240.0.K/24 on fab0, ip_forward=1, rp_filter=1, routes to the other nodes
 *   <prefix>pK  pod K: eth0 with the pod address; node side vK
 *                routed: pod IP/32, default dev eth0; node: proxy_arp on vK, route IP/32 dev vK
 *                bridge: node bridge cbr0 10.240.K.1/24, pod IP/24 via cbr0 (same-node traffic is bridged)
 *   <prefix>x   outside hosts: one address per ipBlock cidr / except, hanging off the first node (vx)
 *
 * A state file /run/palisade-lab/<id>.json is written before the first namespace exists, so `lab down`
 * cleans up after a crash.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cidrContainsIP, parseCIDR, parseIP } from '../model/index.js'
import { ipBatch, LabError, run, runInOk, runOk, sleep } from './exec.js'
import { LAB_PREFIX_PATTERN, type LabNode, type LabPlan, type LabPod } from './plan.js'

export const LAB_STATE_ROOT = '/run/palisade-lab'

/** A lab whose namespaces exist. */
export interface Lab {
  readonly plan: LabPlan
  /** Folder with the agent program, its configs, control sockets and logs. */
  readonly stateDir: string
  /** Options the lab was built with, kept in the state file for `lab probe` / `lab down`. */
  readonly backend?: string
  readonly bridgeNetfilter: boolean
}

interface StateFile {
  readonly plan: LabPlan
  readonly namespaces: readonly string[]
  readonly backend?: string
  readonly bridgeNetfilter: boolean
  readonly pid: number
}

/** Returns a fresh, unused lab prefix such as 'pl1a2b-'. */
export async function newLabPrefix(): Promise<string> {
  const existing = new Set(await listLabNamespaces())
  const ids = new Set(await listLabIds())
  for (;;) {
    const prefix = `pl${randomBytes(2).toString('hex')}-`
    if (!ids.has(labId(prefix)) && ![...existing].some((n) => n.startsWith(prefix))) return prefix
  }
}

/** Returns the id of a lab (its prefix without the dash), used for state file names. */
export function labId(prefix: string): string {
  return prefix.replace(/-$/, '')
}

/** Returns every namespace of a lab plan. */
export function labNamespaces(plan: LabPlan): string[] {
  return [
    plan.underlay,
    ...plan.nodes.map((n) => n.netns),
    ...plan.pods.map((p) => p.netns),
    ...(plan.outside ? [plan.outside.netns] : []),
  ]
}

/** Lists network namespaces whose name has the lab prefix shape (any lab). */
export async function listLabNamespaces(): Promise<string[]> {
  const out = await runOk(['ip', 'netns', 'list'], { timeoutMs: 5000 })
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => /^pl[0-9a-f]{4}-/.test(n))
}

export interface BuildOptions {
  readonly backend?: string
  /** Bridge mode: net.bridge.bridge-nf-call-iptables inside each node (default true). */
  readonly bridgeNetfilter?: boolean
  /** Time limit of each step in ms (default 20 s). */
  readonly stepTimeoutMs?: number
}

/** Writes the state file of a lab (before anything is created, and again when it changes). */
async function writeState(lab: Lab): Promise<void> {
  await mkdir(lab.stateDir, { recursive: true })
  const state: StateFile = {
    plan: lab.plan,
    namespaces: labNamespaces(lab.plan),
    backend: lab.backend,
    bridgeNetfilter: lab.bridgeNetfilter,
    pid: process.pid,
  }
  await writeFile(join(LAB_STATE_ROOT, `${labId(lab.plan.prefix)}.json`), `${JSON.stringify(state)}\n`)
}

/** Reads the state of a lab by prefix or id; undefined when there is none. */
export async function readLab(prefixOrId: string): Promise<Lab | undefined> {
  const id = labId(prefixOrId)
  const text = await readFile(join(LAB_STATE_ROOT, `${id}.json`), 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  const s = JSON.parse(text) as StateFile
  return {
    plan: s.plan,
    stateDir: join(LAB_STATE_ROOT, id),
    backend: s.backend,
    bridgeNetfilter: s.bridgeNetfilter,
  }
}

/** Lists the ids of labs with a state file. */
export async function listLabIds(): Promise<string[]> {
  const names = await readdir(LAB_STATE_ROOT).catch(() => [] as string[])
  return names
    .filter((n) => /^pl[0-9a-f]{4}\.json$/.test(n))
    .map((n) => n.replace(/\.json$/, ''))
    .sort()
}

/** Creates every namespace, link, address and route of a plan; tears down what it made when a step fails. */
export async function buildLab(plan: LabPlan, opts: BuildOptions = {}): Promise<Lab> {
  if (!LAB_PREFIX_PATTERN.test(plan.prefix)) throw new LabError(`invalid lab prefix "${plan.prefix}"`)
  const lab: Lab = {
    plan,
    stateDir: join(LAB_STATE_ROOT, labId(plan.prefix)),
    backend: opts.backend,
    bridgeNetfilter: opts.bridgeNetfilter ?? true,
  }
  const t = opts.stepTimeoutMs ?? 20_000
  await writeState(lab)
  try {
    await ipBatch(
      undefined,
      labNamespaces(plan).map((n) => `netns add ${n}`),
      t,
    )
    if (plan.family === 6) {
      // No duplicate address detection anywhere: an address (link-local ones included) must be usable at
      // once, not "tentative" for a second or two while the first probes run.
      await pool(labNamespaces(plan), 16, (ns) =>
        runInOk(
          ns,
          ['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'],
          {
            timeoutMs: t,
          },
        ),
      )
    }
    await ipBatch(plan.underlay, ['link set lo up', 'link add fab0 type bridge', 'link set fab0 up'], t)
    await Promise.all(plan.nodes.map((n) => buildNode(plan, n, lab.bridgeNetfilter, t)))
    await ipBatch(
      plan.underlay,
      plan.nodes.flatMap((n) => [`link set n${n.index} master fab0`, `link set n${n.index} up`]),
      t,
    )
    await Promise.all(plan.nodes.map((n) => attachPods(plan, n, t)))
    await pool(plan.pods, 8, (p) => buildPod(plan, p, t))
    if (plan.outside) {
      const o = plan.outside
      const v6 = plan.family === 6
      await ipBatch(
        o.netns,
        [
          'link set lo up',
          ...o.addresses.map((a) =>
            v6 ? `addr add ${a.ip}/128 dev eth0 nodad` : `addr add ${a.ip}/32 dev eth0`,
          ),
          'link set eth0 up',
          // IPv4: the node answers ARP for everything (proxy ARP); IPv6: the node's side is fe80::1
          v6 ? `route add default via ${LINK_GW6} dev eth0` : 'route add default dev eth0 scope link',
        ],
        t,
      )
    }
  } catch (err) {
    await destroyLab(plan.prefix).catch(() => undefined)
    throw err
  }
  return lab
}

/** Link-local address of a node's side of each routed IPv6 link: the default gateway of pods and outside hosts. */
const LINK_GW6 = 'fe80::1'

/** Prefix lengths and flags of a lab's addresses (IPv6 addresses skip duplicate detection: usable at once). */
function addr(plan: LabPlan): { host: number; net: number; nodad: string; scope: string } {
  return plan.family === 6
    ? { host: 128, net: 64, nodad: ' nodad', scope: '' }
    : { host: 32, net: 24, nodad: '', scope: ' scope link' }
}

/** Node namespace: underlay link, forwarding, rp_filter, proxy ARP defaults for pod links, bridge. */
async function buildNode(plan: LabPlan, n: LabNode, bridgeNetfilter: boolean, t: number): Promise<void> {
  const a = addr(plan)
  const lines = [
    'link set lo up',
    `link add eth0 type veth peer name n${n.index} netns ${plan.underlay}`,
    `addr add ${n.ip}/${a.net} dev eth0${a.nodad}`,
    'link set eth0 up',
  ]
  if (plan.mode === 'bridge')
    lines.push(
      'link add cbr0 type bridge',
      `addr add ${n.gateway}/${a.net} dev cbr0${a.nodad}`,
      'link set cbr0 up',
    )
  await ipBatch(n.netns, lines, t)
  const sysctls = [
    'net.ipv4.ip_forward=1',
    // strict reverse-path filtering on purpose: the lab's routing is symmetric and must work with it
    'net.ipv4.conf.all.rp_filter=1',
    'net.ipv4.conf.default.rp_filter=1',
    // links created from now on (pod and outside veths) answer ARP for everything the node routes
    'net.ipv4.conf.default.proxy_arp=1',
  ]
  if (plan.mode === 'bridge') {
    // cbr0 answers ARP for addresses routed elsewhere (outside hosts inside the pod CIDR)
    sysctls.push(
      'net.ipv4.conf.cbr0.proxy_arp=1',
      `net.bridge.bridge-nf-call-iptables=${bridgeNetfilter ? 1 : 0}`,
    )
    sysctls.push(`net.bridge.bridge-nf-call-ip6tables=${bridgeNetfilter ? 1 : 0}`)
  }
  if (plan.family === 6) {
    sysctls.push('net.ipv6.conf.all.forwarding=1')
    // cbr0 answers neighbour solicitations for the outside hosts inside the pod CIDR (entries below)
    if (plan.mode === 'bridge') sysctls.push('net.ipv6.conf.cbr0.proxy_ndp=1')
  }
  await runInOk(n.netns, ['sysctl', '-qw', ...sysctls], { timeoutMs: t })
}

function inCidr(ip: string, cidr: string): boolean {
  const c = parseCIDR(cidr)
  const a = parseIP(ip)
  return c !== undefined && a !== undefined && cidrContainsIP(c, a)
}

/** Node side of its pods and of the outside host, and the routes to the other nodes. */
async function attachPods(plan: LabPlan, n: LabNode, t: number): Promise<void> {
  const a = addr(plan)
  const v6 = plan.family === 6
  // IPv6 routed links: the node's side is fe80::1, the default gateway of what hangs off it
  const gw6 = (link: string) => (v6 ? [`addr add ${LINK_GW6}/64 dev ${link} nodad`] : [])
  const lines: string[] = []
  for (const p of plan.pods) {
    if (p.node === n.name) {
      lines.push(`link add ${p.hostIf} type veth peer name eth0 netns ${p.netns}`)
      if (plan.mode === 'bridge') {
        lines.push(`link set ${p.hostIf} master cbr0`, `link set ${p.hostIf} up`)
        if (!inCidr(p.ip, n.podCidr)) lines.push(`route add ${p.ip}/${a.host} dev cbr0${a.scope}`)
      } else {
        lines.push(
          `link set ${p.hostIf} up`,
          ...gw6(p.hostIf),
          `route add ${p.ip}/${a.host} dev ${p.hostIf}${a.scope}`,
        )
      }
    } else {
      const home = plan.nodes.find((m) => m.name === p.node) as LabNode
      if (!inCidr(p.ip, home.podCidr)) lines.push(`route add ${p.ip}/${a.host} via ${home.ip} dev eth0`)
    }
  }
  for (const m of plan.nodes) if (m !== n) lines.push(`route add ${m.podCidr} via ${m.ip} dev eth0`)
  const o = plan.outside
  if (o) {
    if (o.node === n.name) {
      lines.push(
        `link add ${o.hostIf} type veth peer name eth0 netns ${o.netns}`,
        `link set ${o.hostIf} up`,
        ...gw6(o.hostIf),
      )
      for (const x of o.addresses) lines.push(`route add ${x.ip}/${a.host} dev ${o.hostIf}${a.scope}`)
    } else {
      const home = plan.nodes.find((m) => m.name === o.node) as LabNode
      for (const x of o.addresses) lines.push(`route add ${x.ip}/${a.host} via ${home.ip} dev eth0`)
    }
    if (v6 && plan.mode === 'bridge')
      for (const x of o.addresses) if (inCidr(x.ip, n.podCidr)) lines.push(`neigh add proxy ${x.ip} dev cbr0`)
  }
  await ipBatch(n.netns, lines, t)
  // proxy ARP answers at once (the default delays it by up to 0.8 s, longer than a probe's timeout)
  const links = [
    ...plan.pods.filter((p) => p.node === n.name).map((p) => p.hostIf),
    ...(o && o.node === n.name ? [o.hostIf] : []),
  ]
  if (plan.mode === 'bridge')
    links.splice(0, links.length, 'cbr0', ...(o && o.node === n.name ? [o.hostIf] : []))
  if (links.length > 0)
    await runInOk(
      n.netns,
      ['sysctl', '-qw', ...links.map((l) => `net.${v6 ? 'ipv6' : 'ipv4'}.neigh.${l}.proxy_delay=0`)],
      { timeoutMs: t },
    )
}

async function buildPod(plan: LabPlan, p: LabPod, t: number): Promise<void> {
  const n = plan.nodes.find((m) => m.name === p.node) as LabNode
  const a = addr(plan)
  const lines = ['link set lo up']
  if (plan.mode === 'bridge' && inCidr(p.ip, n.podCidr)) {
    lines.push(
      `addr add ${p.ip}/${a.net} dev eth0${a.nodad}`,
      'link set eth0 up',
      `route add default via ${n.gateway} dev eth0`,
    )
  } else if (plan.mode === 'bridge') {
    lines.push(
      `addr add ${p.ip}/${a.host} dev eth0${a.nodad}`,
      'link set eth0 up',
      `route add ${n.gateway} dev eth0${a.scope}`,
      `route add default via ${n.gateway} dev eth0`,
    )
  } else {
    lines.push(
      `addr add ${p.ip}/${a.host} dev eth0${a.nodad}`,
      'link set eth0 up',
      plan.family === 6
        ? `route add default via ${LINK_GW6} dev eth0`
        : 'route add default dev eth0 scope link',
    )
  }
  await ipBatch(p.netns, lines, t)
}

/** Runs fn over items with at most `limit` at a time. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/** Kills the processes of the namespaces by pid (TERM, then KILL), then deletes the namespaces. */
async function removeNamespaces(names: readonly string[]): Promise<void> {
  if (names.length === 0) return
  const pidsOf = async (ns: string) => {
    const r = await run(['ip', 'netns', 'pids', ns], { timeoutMs: 5000 })
    return r.stdout
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 1 && n !== process.pid)
  }
  const kill = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig)
    } catch {
      // already gone
    }
  }
  let alive = (await pool(names, 16, pidsOf)).flat()
  for (const pid of alive) kill(pid, 'SIGTERM')
  for (let i = 0; i < 10 && alive.length > 0; i++) {
    await sleep(50)
    alive = (await pool(names, 16, pidsOf)).flat()
  }
  for (const pid of alive) kill(pid, 'SIGKILL')
  const existing = new Set(
    (await runOk(['ip', 'netns', 'list'], { timeoutMs: 5000 }))
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? ''),
  )
  const del = names.filter((n) => existing.has(n))
  // -force: a batch keeps going when one line fails (another run may have removed a namespace meanwhile)
  if (del.length > 0)
    await run(['ip', '-force', '-batch', '-'], {
      input: `${del.map((n) => `netns del ${n}`).join('\n')}\n`,
      timeoutMs: 30_000,
    })
}

/** Removes one lab: its processes, namespaces, state file and folder. Safe to call twice. */
export async function destroyLab(prefix: string): Promise<void> {
  const id = labId(prefix)
  const lab = await readLab(id)
  const names = new Set(lab ? labNamespaces(lab.plan) : [])
  for (const n of await listLabNamespaces()) if (n.startsWith(`${id}-`)) names.add(n)
  await removeNamespaces([...names])
  await rm(join(LAB_STATE_ROOT, id), { recursive: true, force: true })
  await rm(join(LAB_STATE_ROOT, `${id}.json`), { force: true })
}

/** Removes every lab (any namespace named pl<4 hex>-*, every state file): `lab down` after a crash. */
export async function destroyAllLabs(): Promise<string[]> {
  const ids = new Set(await listLabIds())
  for (const n of await listLabNamespaces()) ids.add(n.slice(0, 6))
  for (const id of ids) await destroyLab(id)
  return [...ids].sort()
}

/** Runs teardown once when the process gets SIGINT or SIGTERM, then exits 130; returns an unregister function. */
export function teardownOnSignals(teardown: () => Promise<void>): () => void {
  const handler = (sig: NodeJS.Signals) => {
    process.stderr.write(`palisade lab: ${sig}: tearing down\n`)
    teardown()
      .catch((e) => process.stderr.write(`palisade lab: teardown failed: ${String(e)}\n`))
      .finally(() => process.exit(130))
  }
  process.once('SIGINT', handler)
  process.once('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}
