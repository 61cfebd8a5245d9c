/**
 * The agent fault suite (issue 14): a real `palisade agent` PROCESS (the built CLI) programs real nftables
 * in a throwaway network namespace, fed by the test API server; faults are thrown at it one after the
 * other (hostile HTTP requests, malformed list items, malformed watch events, a policy it cannot read,
 * errors nothing handles, half-written files with --from-dir). After each fault the suite checks, in the
 * kernel (`nft list table inet palisade` in that namespace), that the node's rules are exactly what they
 * were (or, for a policy it cannot read, isolate more and admit nothing new), that the process is alive,
 * and that /healthz tells the truth. Every namespace is ours (pz-<pid>-...) and removed afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeApiServer, type FakeKind } from '../../harness/fake-apiserver.js'
import { execCommand } from '../../src/backends/index.js'
import type { JsonObject } from '../../src/model/index.js'
import { createNetns, deleteNetns, kernelSkipReason } from '../compile/netns.js'
import { allowFromJson, denyAllJson, namespaceJson, podJson } from '../fixtures.js'
import { waitFor } from './fixtures.js'

const BIN = new URL('../../bin/palisade.js', import.meta.url).pathname
const built = existsSync(new URL('../../dist/src/cli/main.js', import.meta.url))
const skip = (await kernelSkipReason()) ?? (built ? undefined : 'dist/ not built (npm ci builds it)')

/** A running agent process: its health/metrics port and its output. */
interface AgentProc {
  readonly child: ChildProcess
  readonly port: number
  readonly log: () => string
}

/** Preloaded into the agent: SIGUSR2 throws an error nobody catches and rejects a promise nobody awaits. */
const TRIGGER = `process.on('SIGUSR2', () => {
  setTimeout(() => { throw new Error('injected uncaught exception') }, 0)
  Promise.reject(new Error('injected unhandled rejection'))
})
`

async function startAgentProcess(args: readonly string[], preload?: string): Promise<AgentProc> {
  const child = spawn(process.execPath, [...(preload ? ['--import', preload] : []), BIN, 'agent', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString('utf8')
  })
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString('utf8')
  })
  let port = 0
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the agent exited (${child.exitCode}):\n${out}`)
      const m = /"addr":"127\.0\.0\.1:(\d+)"/.exec(out)
      if (m) port = Number(m[1])
      return port > 0
    },
    20_000,
    'the agent to serve /healthz',
  )
  return { child, port, log: () => out }
}

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () =>
      sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
    )
    let raw = ''
    sock.on('data', (c: Buffer) => {
      raw += c.toString('utf8')
    })
    sock.on('close', () =>
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0),
        body: raw.slice(raw.indexOf('\r\n\r\n') + 4),
      }),
    )
    sock.on('error', () => resolve({ status: 0, body: '' }))
    sock.setTimeout(5000, () => sock.destroy())
  })
}

/** Sends raw bytes and waits (bounded) for the server to answer or close. */
function rawRequest(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    let out = ''
    const sock = net.connect(port, '127.0.0.1', () => sock.write(bytes))
    sock.on('data', (c: Buffer) => {
      out += c.toString('latin1')
    })
    sock.on('close', () => resolve(out))
    sock.on('error', () => resolve(out))
    sock.setTimeout(3000, () => sock.destroy())
  })
}

/** Sum of a metric's samples (all label sets, or those matching `labels`). */
function metric(text: string, name: string, labels = ''): number {
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) && l.includes(labels))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
}

/**
 * The node's table as the kernel lists it, its chains, sets and maps in name order: an incremental update
 * that re-creates a chain lists it last, with the same meaning.
 */
async function nftTable(netns: string): Promise<string> {
  const r = await execCommand('nft', ['list', 'table', 'inet', 'palisade'], { netns, timeoutMs: 10_000 })
  if (r.code !== 0) return ''
  const lines = r.stdout.split('\n')
  const blocks: string[] = []
  const head: string[] = []
  let cur: string[] | undefined
  for (const line of lines) {
    if (/^\t(chain|set|map) \S+ \{$/.test(line)) cur = [line]
    else if (cur && line === '\t}') {
      cur.push(line)
      blocks.push(cur.join('\n'))
      cur = undefined
    } else if (cur) cur.push(line)
    else if (line !== '') head.push(line)
  }
  return [...head, ...blocks.sort()].join('\n')
}

/**
 * What the node isolates, for readable failures: each pod chain and the policy chains it reaches, by a
 * jump in the chain or through its port dispatch map (`vmap @ports_...`).
 */
function isolation(table: string): string[] {
  const block = (head: string) => new RegExp(`\\t${head} \\{([\\s\\S]*?)\\n\\t\\}`).exec(table)?.[1] ?? ''
  const out: string[] = []
  for (const m of table.matchAll(/\tchain (pod_\S+) \{/g)) {
    const body = block(`chain ${m[1]}`)
    const maps = [...body.matchAll(/vmap @(\S+)/g)].map((v) => block(`map ${v[1]}`))
    const jumps = [body, ...maps].flatMap((b) => [...b.matchAll(/jump (pol_[^\s,}]+)/g)].map((j) => j[1]))
    out.push(`${m[1]} -> ${[...new Set(jumps)].sort().join(',')}`)
  }
  return out.sort()
}

/** Accept rules, by the policy rule each names: what the node admits. */
function admits(table: string): string[] {
  return [...table.matchAll(/accept comment "([^"]*)"/g)].map((m) => m[1] as string).sort()
}

describe.skipIf(skip !== undefined)(`agent fault suite${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let netns = ''
  let tmp = ''
  const api = new FakeApiServer({ bookmarkIntervalMs: 0 })
  let agent: AgentProc | undefined
  let baseline = ''
  let sentinels = 0

  const metricsText = async () => (await httpGet((agent as AgentProc).port, '/metrics')).body

  /** The process lives, /healthz says ok, and the kernel holds exactly the baseline rules. */
  async function intact(what: string): Promise<void> {
    const a = agent as AgentProc
    expect(a.child.exitCode, `${what}: the agent exited\n${a.log().slice(-3000)}`).toBeNull()
    const h = await httpGet(a.port, '/healthz')
    expect(h.status, `${what}: /healthz ${h.body}`).toBe(200)
    const now = await nftTable(netns)
    expect(isolation(now), what).toEqual(isolation(baseline))
    expect(admits(now), what).toEqual(admits(baseline))
    expect(now, what).toBe(baseline)
  }

  /**
   * Proves the agent has read past a fault on `kind`'s stream: an object that changes no rule (nothing
   * selects it, it runs on no node of ours) is created and must show in the object count.
   */
  async function sentinel(kind: FakeKind): Promise<void> {
    const n = ++sentinels
    const before = metric(await metricsText(), 'palisade_objects_watched', `kind="${kind}"`)
    if (kind === 'Pod')
      api.apply('Pod', podJson('elsewhere', `s${n}`, `10.9.0.${n}`, 'n9', { sentinel: `${n}` }))
    if (kind === 'Namespace') api.apply('Namespace', namespaceJson(`sentinel-${n}`))
    if (kind === 'NetworkPolicy') api.apply('NetworkPolicy', denyAllJson('elsewhere', `sentinel-${n}`))
    await waitFor(
      async () => metric(await metricsText(), 'palisade_objects_watched', `kind="${kind}"`) === before + 1,
      45_000,
      `the ${kind} sentinel ${n}`,
    )
  }

  beforeAll(async () => {
    netns = await createNetns('faults')
    tmp = mkdtempSync(join(tmpdir(), 'pz-faults-'))
    await api.start()
    api.apply('Namespace', namespaceJson('shop'))
    api.apply('Namespace', namespaceJson('elsewhere'))
    api.apply('Pod', podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }))
    api.apply('Pod', podJson('shop', 'web', '10.0.1.4', 'n1', { role: 'web' }))
    api.apply('Pod', podJson('shop', 'cache', '10.0.1.5', 'n1', { app: 'cache' }))
    api.apply('Pod', podJson('shop', 'front', '10.0.2.3', 'n2', { role: 'web' }))
    api.apply('NetworkPolicy', denyAllJson('shop'))
    api.apply('NetworkPolicy', allowFromJson('shop', 'db-from-web', 'db', 'web', 5432))
    writeFileSync(join(tmp, 'kubeconfig'), api.kubeconfig())
    writeFileSync(join(tmp, 'trigger.mjs'), TRIGGER)
    agent = await startAgentProcess(
      [
        '--node-name',
        'n1',
        '--kubeconfig',
        join(tmp, 'kubeconfig'),
        '--netns',
        netns,
        '--state-dir',
        join(tmp, 'state'),
        '--health-addr',
        '127.0.0.1:0',
        '--debounce',
        '10ms',
        '--sync-period',
        '3s',
      ],
      join(tmp, 'trigger.mjs'),
    )
    await waitFor(
      async () => (await nftTable(netns)).includes('chain pod_in_shop_cache'),
      30_000,
      'first rules',
    )
    // healthy once the apply that loaded them has returned
    await waitFor(
      async () => (await httpGet((agent as AgentProc).port, '/healthz')).status === 200,
      10_000,
      'healthy',
    )
    baseline = await nftTable(netns)
    expect(isolation(baseline)).toEqual([
      'pod_in_shop_cache -> pol_shop_deny-all_in',
      'pod_in_shop_db -> pol_shop_db-from-web_in,pol_shop_deny-all_in',
      'pod_in_shop_web -> pol_shop_deny-all_in',
    ])
    await intact('baseline')
  }, 120_000)

  afterAll(async () => {
    if (agent && agent.child.exitCode === null) {
      agent.child.kill('SIGKILL')
      await new Promise((r) => agent?.child.once('exit', r))
    }
    await api.stop()
    if (netns) await deleteNetns(netns)
    if (tmp) rmSync(tmp, { recursive: true, force: true })
  }, 60_000)

  it.each([
    { name: 'a target the URL parser rejects (GET //[)', send: 'GET //[ HTTP/1.1\r\nHost: x\r\n\r\n' },
    { name: 'binary garbage', send: Buffer.from([0, 255, 1, 13, 10, 13, 10]) },
    { name: 'a 64 KiB header', send: `GET /healthz HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(65_536)}\r\n\r\n` },
    { name: 'a POST with a body', send: 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' },
    {
      name: 'an absolute-form target with a bad host',
      send: 'GET http://[::1/healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    },
    { name: 'an incomplete request', send: 'GET /healthz HTTP/1.1\r\nHost:' },
  ])('HTTP fault: $name', async ({ send }) => {
    await rawRequest((agent as AgentProc).port, send)
    await intact(`after ${send.slice(0, 20).toString()}`)
  })

  it('HTTP fault: more connections than the server holds', async () => {
    const socks = await Promise.all(
      Array.from(
        { length: 40 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect((agent as AgentProc).port, '127.0.0.1', () => resolve(s))
            s.on('error', () => resolve(s))
          }),
      ),
    )
    for (const s of socks) s.destroy()
    // the server frees the slots as it sees the closes
    await waitFor(
      async () => (await httpGet((agent as AgentProc).port, '/healthz')).status === 200,
      5000,
      'the slots freed',
    )
    await intact('after 40 idle connections')
  })

  it.each([
    ['Pod', '{"type":"ADDED","object":null}'],
    ['NetworkPolicy', '{"type":"ADDED","object":{"spec":{"podSelector":{}}}}'],
    ['Namespace', '{"type":"ERROR","object":null}'],
    ['Pod', '{"type":"ADDED"}'],
    ['NetworkPolicy', '{"type":"MODIFIED","object":{"metadata":"shop/db-from-web"}}'],
    ['Namespace', '{"type":"DELETED","object":{}}'],
    ['Pod', '{"type":"DELETED","object":{"metadata":{"namespace":"shop"}}}'],
    ['NetworkPolicy', 'this is not JSON'],
    ['Namespace', '{"type":"MODIFIED","object":{"metadata":{"name":"shop","labels":'],
  ] as const)('watch fault on %s: %s', async (kind, line) => {
    const before = metric(await metricsText(), 'palisade_undecodable_objects_total', `kind="${kind}"`)
    await waitFor(() => api.injectWatchLine(kind, line) === 1, 45_000, `an open ${kind} watch`)
    await waitFor(
      async () =>
        metric(await metricsText(), 'palisade_undecodable_objects_total', `kind="${kind}"`) === before + 1,
      10_000,
      'the event counted as undecodable',
    )
    await sentinel(kind)
    await intact(`after ${line}`)
  })

  it('list fault: items it cannot decode, one standing for a pod it knows, delete nothing', async () => {
    // db's list item comes back garbled and the history is compacted: the agent must list again.
    api.forget('Pod', 'shop', 'db')
    api.listExtras.Pod = [{ spec: { nodeName: 'n1' } }, null, { metadata: 'shop/db' }]
    const before = metric(await metricsText(), 'palisade_undecodable_objects_total', 'source="list"')
    api.apply('Namespace', namespaceJson('moved-on'))
    api.compact()
    api.dropWatches()
    await waitFor(
      async () =>
        metric(await metricsText(), 'palisade_undecodable_objects_total', 'source="list"') === before + 3,
      30_000,
      'the partial relist',
    )
    await intact('after a partial list without db')
    expect((await httpGet((agent as AgentProc).port, '/healthz')).body).toMatch(/last list incomplete .*Pod/)
    // db is back in the API and the list is whole again: nothing changed for the node, and /healthz says so.
    api.apply('Pod', podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }))
    api.listExtras.Pod = []
    api.apply('Namespace', namespaceJson('moved-on-again'))
    api.compact()
    api.dropWatches()
    await waitFor(
      async () => !(await httpGet((agent as AgentProc).port, '/healthz')).body.includes('incomplete'),
      30_000,
      'a complete relist',
    )
    await intact('after a complete list')
  })

  it('a policy it cannot read isolates the pods it selects with no allow rule; deleting it restores the rules', async () => {
    api.apply('NetworkPolicy', {
      metadata: { namespace: 'shop', name: 'unreadable' },
      spec: {
        podSelector: { matchLabels: { app: 'cache' } },
        policyTypes: ['Ingress', 'Egress'],
        egress: [{ to: [{ podSelector: {}, serviceAccountSelector: { matchLabels: { sa: 'x' } } }] }],
      },
    })
    await waitFor(
      async () => (await nftTable(netns)).includes('chain pol_shop_unreadable_eg'),
      15_000,
      'fail-closed',
    )
    const now = await nftTable(netns)
    // More isolation (cache now egress-isolated too), nothing more admitted.
    expect(isolation(now)).toEqual([
      'pod_eg_shop_cache -> pol_shop_unreadable_eg',
      'pod_in_shop_cache -> pol_shop_deny-all_in,pol_shop_unreadable_in',
      'pod_in_shop_db -> pol_shop_db-from-web_in,pol_shop_deny-all_in',
      'pod_in_shop_web -> pol_shop_deny-all_in',
    ])
    expect(admits(now)).toEqual(admits(baseline))
    const m = await metricsText()
    expect(metric(m, 'palisade_fail_closed_policies')).toBe(1)
    api.delete('NetworkPolicy', 'shop', 'unreadable')
    await waitFor(async () => (await nftTable(netns)) === baseline, 15_000, 'the rules of before')
    await intact('after the unreadable policy was deleted')
  })

  it('errors nothing handles (an uncaught exception, an unhandled rejection) are logged; the agent runs on', async () => {
    const a = agent as AgentProc
    a.child.kill('SIGUSR2')
    await waitFor(
      async () => metric(await metricsText(), 'palisade_internal_errors_total') === 2,
      10_000,
      'both errors counted',
    )
    expect(a.log()).toMatch(/"level":60.*injected uncaught exception/)
    expect(a.log()).toMatch(/"level":60.*injected unhandled rejection/)
    expect((await httpGet(a.port, '/healthz')).body).toMatch(/internal errors: 2/)
    // the resync it asked for ran and the node is as it was
    await sentinel('Pod')
    await intact('after errors nothing handled')
  })

  it('ends cleanly on SIGTERM with the rules in force, and leaks no watch', async () => {
    const a = agent as AgentProc
    // Pods, Namespaces, NetworkPolicies, and its own Node (pod ranges)
    expect(api.openWatches).toBe(4)
    const exited = new Promise<number | null>((r) => a.child.once('exit', (code) => r(code)))
    a.child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(await nftTable(netns)).toBe(baseline)
  })
})

describe.skipIf(skip !== undefined)(
  `agent fault suite, --from-dir${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let netns = ''
    let tmp = ''
    let agent: AgentProc | undefined
    let baseline = ''
    const file = () => join(tmp, 'manifests', 'cluster.yaml')
    const docs = (...objs: JsonObject[]) => objs.map((o) => JSON.stringify(o, null, 2)).join('\n---\n')
    const good = docs(
      namespaceJson('shop'),
      podJson('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }),
      podJson('shop', 'web', '10.0.1.4', 'n1', { role: 'web' }),
      denyAllJson('shop'),
      allowFromJson('shop', 'db-from-web', 'db', 'web', 5432),
    )
    const metricsText = async () => (await httpGet((agent as AgentProc).port, '/metrics')).body

    beforeAll(async () => {
      netns = await createNetns('faults-dir')
      tmp = mkdtempSync(join(tmpdir(), 'pz-faults-dir-'))
      const { mkdirSync } = await import('node:fs')
      mkdirSync(join(tmp, 'manifests'))
      writeFileSync(file(), good)
      agent = await startAgentProcess([
        '--node-name',
        'n1',
        '--from-dir',
        join(tmp, 'manifests'),
        '--netns',
        netns,
        '--state-dir',
        join(tmp, 'state'),
        '--health-addr',
        '127.0.0.1:0',
        '--debounce',
        '10ms',
      ])
      await waitFor(
        async () => (await nftTable(netns)).includes('chain pod_in_shop_web'),
        30_000,
        'first rules',
      )
      baseline = await nftTable(netns)
    }, 120_000)

    afterAll(async () => {
      if (agent && agent.child.exitCode === null) {
        agent.child.kill('SIGKILL')
        await new Promise((r) => agent?.child.once('exit', r))
      }
      if (netns) await deleteNetns(netns)
      if (tmp) rmSync(tmp, { recursive: true, force: true })
    }, 60_000)

    it.each([
      { name: 'cut in the middle of a document', text: () => good.slice(0, Math.floor(good.length * 0.6)) },
      { name: 'cut inside a string', text: () => good.slice(0, good.indexOf('"db-from-web"') + 4) },
      { name: 'binary garbage', text: () => '\u0000\u0001\u0002\u0003' },
      {
        name: 'a document without a name',
        text: () => good.replace('"name": "deny-all"', '"nameless": true'),
      },
    ])('a half-written file ($name) keeps its last good objects', async ({ text }) => {
      writeFileSync(file(), text())
      await waitFor(
        async () => metric(await metricsText(), 'palisade_files_held') === 1,
        15_000,
        'the file held',
      )
      const a = agent as AgentProc
      expect(a.child.exitCode).toBeNull()
      const h = await httpGet(a.port, '/healthz')
      expect(h.status).toBe(200)
      expect(h.body).toMatch(/files that do not parse \(last good objects kept\): .*cluster\.yaml/)
      expect(await nftTable(netns)).toBe(baseline)
      // the whole file again: nothing held, nothing changed
      writeFileSync(file(), good)
      await waitFor(
        async () => metric(await metricsText(), 'palisade_files_held') === 0,
        15_000,
        'the file read',
      )
      expect(await nftTable(netns)).toBe(baseline)
    })

    it('a complete edit still applies', async () => {
      writeFileSync(file(), good.replace('"role": "web"', '"role": "other"'))
      await waitFor(async () => (await nftTable(netns)) !== baseline, 15_000, 'the edit applied')
      writeFileSync(file(), good)
      await waitFor(async () => (await nftTable(netns)) === baseline, 15_000, 'back')
    })
  },
)
