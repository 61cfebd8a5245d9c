/**
 * Starts the probe server (probe-server.ts, compiled, run as a file) in every lab namespace (pods, nodes,
 * outside host) and talks to it over its Unix control socket. They serve every TCP/UDP port of the plan;
 * SCTP is not served (no SCTP in the kernel).
 */
import { existsSync, statSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LabError, runInOk, sleep, spawnNodeInNetns } from './exec.js'
import { nodeEndpoint, outsideEndpoint } from './plan.js'
import type { ControlRequest, ProbeIdentity, ProbeServerConfig } from './probe-server.js'
import { type Lab, pool } from './topology.js'

export interface AgentSpec {
  readonly netns: string
  /** What the probe server answers with ('ns/pod', 'node/NAME' or 'ip/ADDRESS') and the address it binds. */
  readonly identities: readonly ProbeIdentity[]
}

/** Returns the agents a lab runs: one per pod, one per node, one for the outside host. */
export function agentsOf(lab: Lab): AgentSpec[] {
  const p = lab.plan
  const any = p.family === 6 ? '::' : '0.0.0.0'
  const out: AgentSpec[] = [
    ...p.pods.map((pod) => ({ netns: pod.netns, identities: [{ label: pod.key, bind: any }] })),
    ...p.nodes.map((n) => ({
      netns: n.netns,
      identities: [{ label: nodeEndpoint(n.name), bind: any }],
    })),
  ]
  if (p.outside) {
    out.push({
      netns: p.outside.netns,
      identities: p.outside.addresses.map((a) => ({ label: outsideEndpoint(a.ip), bind: a.ip })),
    })
  }
  return out
}

/** Returns the control socket path of the agent of a namespace. */
export function controlSocket(lab: Lab, netns: string): string {
  return join(lab.stateDir, `${netns}.sock`)
}

/**
 * The compiled probe server (probe-server.ts): next to this file when it runs from dist/, else in this
 * checkout's dist/ (built by `npm ci` / `npm run build`), which must not be older than the source.
 */
export function probeServerPath(): string {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.js')) return join(here, '..', 'probe-server.js')
  const source = join(here, '..', 'probe-server.ts')
  const built = join(here, '..', '..', '..', 'dist', 'src', 'lab', 'probe-server.js')
  if (!existsSync(built)) throw new LabError(`${built} is missing: run \`npm run build\` first`)
  if (statSync(built).mtimeMs < statSync(source).mtimeMs)
    throw new LabError(`${built} is older than ${source}: run \`npm run build\` first`)
  return built
}

/**
 * Starts every agent (detached: they outlive `lab up`; teardown kills them by namespace) and waits until
 * each answers on its control socket with all its listeners bound and `ss` shows them.
 */
export async function startAgents(lab: Lab, timeoutMs = 20_000): Promise<void> {
  await mkdir(lab.stateDir, { recursive: true })
  const script = probeServerPath()
  const tcp = lab.plan.ports.filter((q) => q.protocol === 'TCP').map((q) => q.port)
  const udp = lab.plan.ports.filter((q) => q.protocol === 'UDP').map((q) => q.port)
  const agents = agentsOf(lab)
  for (const a of agents) {
    const cfgPath = join(lab.stateDir, `${a.netns}.json`)
    const cfg: ProbeServerConfig = { ctl: controlSocket(lab, a.netns), identities: a.identities, tcp, udp }
    await writeFile(cfgPath, JSON.stringify(cfg))
    spawnNodeInNetns(a.netns, [script, cfgPath], join(lab.stateDir, `${a.netns}.log`))
  }
  const deadline = Date.now() + timeoutMs
  await pool(agents, 16, async (a) => {
    const want = a.identities.length * (tcp.length + udp.length)
    for (;;) {
      const r = await request(controlSocket(lab, a.netns), { op: 'ping' }, 1000).catch(() => undefined)
      const ready = r?.find((x) => x.ready === true)
      if (ready && ready.listening === want) break
      if (Date.now() > deadline)
        throw new LabError(
          `agent in ${a.netns} did not start within ${timeoutMs} ms (see ${join(lab.stateDir, `${a.netns}.log`)})`,
        )
      await sleep(50)
    }
    const ss = await runInOk(a.netns, ['ss', '-Htuln'], { timeoutMs: 5000 })
    const count = ss.split('\n').filter((l) => l.trim() !== '').length
    if (count < want) throw new LabError(`${a.netns}: ss shows ${count} listening sockets, expected ${want}`)
  })
}

export type AgentReply = Record<string, unknown>

/**
 * Sends one request to an agent and resolves with every reply line up to the one with done/ready/error.
 * Rejects when nothing final arrives within timeoutMs.
 */
export function request(
  socketPath: string,
  req: ControlRequest,
  timeoutMs: number,
  onLine?: (r: AgentReply) => void,
): Promise<AgentReply[]> {
  return new Promise((resolve, reject) => {
    const c = net.connect(socketPath)
    const lines: AgentReply[] = []
    let buf = ''
    const timer = setTimeout(() => {
      c.destroy()
      reject(new LabError(`agent ${socketPath}: no answer within ${timeoutMs} ms`))
    }, timeoutMs)
    c.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    c.on('connect', () => c.write(`${JSON.stringify(req)}\n`))
    c.on('data', (d) => {
      buf += d.toString('utf8')
      let nl = buf.indexOf('\n')
      while (nl >= 0) {
        const r = JSON.parse(buf.slice(0, nl)) as AgentReply
        buf = buf.slice(nl + 1)
        lines.push(r)
        onLine?.(r)
        if (r.done === true || r.ready === true || r.error !== undefined) {
          clearTimeout(timer)
          c.end()
          if (r.error !== undefined) reject(new LabError(`agent ${socketPath}: ${String(r.error)}`))
          else resolve(lines)
          return
        }
        nl = buf.indexOf('\n')
      }
    })
  })
}
