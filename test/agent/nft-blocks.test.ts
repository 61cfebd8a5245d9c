/**
 * Chain/set-level incremental updates: the script shapes (recorded), and on a REAL kernel (a
 * throwaway netns, when root with nft) that loading A then the incremental A->B script leaves the
 * table exactly as loading B in full does, for fixture pairs and random cluster pairs.
 */
import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { diffNftTables, splitNftTable } from '../../src/agent/nft-blocks.js'
import { splitElements } from '../../src/agent/nft-elements.js'
import { compileNode } from '../../src/backends/index.js'
import { normalizeObjects } from '../../src/load/index.js'
import { type JsonObject, rawFromValue } from '../../src/model/index.js'
import { allowFrom, canRunNftInNetns, denyAll, namespace, pod } from './fixtures.js'

const rules = (objects: readonly JsonObject[], node = 'n1'): string =>
  compileNode(
    normalizeObjects(objects.map((o, i) => rawFromValue(o, { file: `o${i}` }))).value,
    node,
    'nftables',
  ).value.files['palisade.nft'] as string

const split = (text: string) => {
  const t = splitNftTable(text)
  if (!t) throw new Error('renderer output not recognised')
  return t
}
const diff = (a: string, b: string) => diffNftTables(split(a), split(b))

const egressTo = (
  ns: string,
  name: string,
  app: string,
  cidr: string,
  except: readonly string[] = [],
): JsonObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: ns, name },
  spec: {
    podSelector: { matchLabels: { app } },
    policyTypes: ['Egress'],
    egress: [{ to: [{ ipBlock: { cidr, except: [...except] } }], ports: [{ protocol: 'UDP', port: 53 }] }],
  },
})
const namedPort = (ns: string, name: string, app: string): JsonObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: ns, name },
  spec: {
    podSelector: { matchLabels: { app } },
    policyTypes: ['Ingress'],
    ingress: [{ ports: [{ protocol: 'TCP', port: 'http' }] }],
  },
})

const base: JsonObject[] = [
  namespace('shop', { tier: 'front' }),
  namespace('ops', { tier: 'back' }),
  pod('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }),
  pod('shop', 'cache', '10.0.1.4', 'n1', { app: 'cache' }),
  pod('shop', 'web', '10.0.2.3', 'n2', { role: 'web' }),
  pod('ops', 'mon', '10.0.2.9', 'n2', { role: 'web' }),
  allowFrom('shop', 'web-to-db', 'db', 'web', 5432),
]

/** Fixture pairs: each row is a change the agent sees, named as what happened. */
const pairs: { name: string; a: readonly JsonObject[]; b: readonly JsonObject[] }[] = [
  {
    name: 'a remote pod joins a peer set',
    a: base,
    b: [...base, pod('shop', 'web2', '10.0.2.4', 'n2', { role: 'web' })],
  },
  {
    name: 'a remote pod leaves a peer set',
    a: [...base, pod('shop', 'web2', '10.0.2.4', 'n2', { role: 'web' })],
    b: base,
  },
  {
    name: 'a policy changes its port',
    a: base,
    b: [...base.slice(0, -1), allowFrom('shop', 'web-to-db', 'db', 'web', 6432)],
  },
  {
    name: 'a second policy selects a local pod',
    a: base,
    b: [...base, allowFrom('shop', 'web-to-cache', 'cache', 'web', 6379)],
  },
  {
    name: 'a policy is deleted',
    a: [...base, allowFrom('shop', 'web-to-cache', 'cache', 'web', 6379)],
    b: base,
  },
  { name: 'a default deny isolates every local pod', a: base, b: [...base, denyAll('shop')] },
  { name: 'the last policy goes away', a: base, b: base.slice(0, -1) },
  {
    name: 'two policies share a port (helper chain appears)',
    a: base,
    b: [...base, allowFrom('shop', 'web-to-db-2', 'db', 'web', 5432)],
  },
  {
    name: 'an ipBlock with except appears',
    a: base,
    b: [...base, egressTo('shop', 'dns', 'db', '10.96.0.0/12', ['10.96.0.0/24'])],
  },
  {
    name: 'an ipBlock except changes',
    a: [...base, egressTo('shop', 'dns', 'db', '10.96.0.0/12', ['10.96.0.0/24'])],
    b: [...base, egressTo('shop', 'dns', 'db', '10.96.0.0/12', ['10.97.0.0/16'])],
  },
  { name: 'a named port policy appears', a: base, b: [...base, namedPort('shop', 'http', 'cache')] },
  {
    name: 'a local pod changes its IP (pod chain comment changes)',
    a: base,
    b: base.map((o) => (o === base[2] ? pod('shop', 'db', '10.0.1.30', 'n1', { app: 'db' }) : o)),
  },
  {
    name: 'a local pod is relabelled out of every policy',
    a: base,
    b: base.map((o) => (o === base[2] ? pod('shop', 'db', '10.0.1.3', 'n1', { app: 'other' }) : o)),
  },
]

describe('incremental scripts (recorded)', () => {
  it('a remote pod joining a peer set is one element add and nothing else', () => {
    const d = diff(rules(base), rules(pairs[0]?.b ?? []))
    expect(d?.script).toMatch(/^add element inet palisade pods_[\w-]+_v4 \{ 10\.0\.2\.4 \}\n$/)
  })

  it('a policy port change flushes and refills the policy chain and rewrites the port map element', () => {
    const d = diff(rules(base), rules(pairs[2]?.b ?? []))
    const lines = d?.script.trim().split('\n') ?? []
    expect(lines[0]).toBe('flush chain inet palisade pol_shop_web-to-db_in')
    expect(lines.some((l) => /^add rule inet palisade pol_shop_web-to-db_in tcp dport 6432 /.test(l))).toBe(
      true,
    )
    expect(lines.some((l) => l.startsWith('delete element') && l.includes('tcp . 5432'))).toBe(true)
    expect(lines.some((l) => l.startsWith('table '))).toBe(false)
  })

  it('a changed chain comment recreates the chain and refills what jumps to it', () => {
    const d = diff(rules(base), rules(pairs[11]?.b ?? []))
    const s = d?.script ?? ''
    expect(s).toMatch(/^delete chain inet palisade pod_in_shop_db$/m)
    expect(s).toMatch(/^\tchain pod_in_shop_db \{$/m)
  })

  it('the same text gives an empty script', () => {
    expect(diff(rules(base), rules(base))?.script).toBe('')
  })

  it('only the header comment changed gives an empty script', () => {
    const t = rules(base)
    expect(diff(t, t.replace(/^# .*pods.*$/m, '# 99 local pods'))?.script).toBe('')
  })

  it.each([
    {
      name: 'a changed base chain declaration has no incremental update',
      b: (t: string) => t.replace('priority filter + 10;', 'priority filter + 20;'),
    },
    {
      name: 'a changed table comment has no incremental update',
      b: (t: string) => t.replace('enforcement for node n1', 'enforcement for node n9'),
    },
  ])('$name', ({ b }) => {
    const t = rules(base)
    expect(diff(t, b(t))).toBeUndefined()
  })

  it.each([
    { name: 'text without a table is not recognised', text: 'add rule inet palisade x accept\n' },
    { name: 'an unterminated table is not recognised', text: 'table inet palisade {\n\tchain x {\n\t}\n' },
    {
      name: 'a duplicated block is not recognised',
      text: 'table inet palisade {\n\tchain x {\n\t}\n\tchain x {\n\t}\n}\n',
    },
    {
      name: 'a statement after the table is not recognised',
      text: 'table inet palisade {\n}\nflush ruleset\n',
    },
  ])('$name', ({ text }) => {
    expect(splitNftTable(text)).toBeUndefined()
  })

  it.each([
    {
      name: 'a duplicated element that loses one copy stays in the set',
      a: ['10.0.0.1', '10.0.0.2', '10.0.0.2', '10.0.0.3'],
      b: ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
      script: '',
    },
    {
      name: 'changes at both ends of a long list are all found',
      a: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'],
      b: ['10.0.0.0', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.7'],
      script:
        'delete element inet palisade s { 10.0.0.1, 10.0.0.6 }\nadd element inet palisade s { 10.0.0.0, 10.0.0.7 }\n',
    },
  ])('$name', ({ a, b, script }) => {
    const table = (els: string[]) =>
      `table inet palisade {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = {\n\t\t\t${els.join(',\n\t\t\t')}\n\t\t}\n\t}\n}\n`
    expect(diff(table(a), table(b))?.script).toBe(script)
  })

  it('unchanged blocks are the previous objects (parsed once)', () => {
    const a = split(rules(base))
    const b = splitNftTable(rules(pairs[0]?.b ?? []), a)
    expect(b?.blocks.get('chain:ingress')).toBe(a.blocks.get('chain:ingress'))
  })
})

// ---- real kernel ----------------------------------------------------------------------------

const canRun = canRunNftInNetns()

const ns = `palblk-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
const nft = (input: string, ...args: string[]): string =>
  execFileSync('ip', ['netns', 'exec', ns, 'nft', ...args], {
    input,
    encoding: 'utf8',
    timeout: 20_000,
    stdio: ['pipe', 'pipe', 'pipe'],
  })

/**
 * Normalises `nft list table` output to what the kernel holds, independent of listing order:
 * blocks by name with their declaration, rules in order, and elements as a sorted set.
 */
function kernelState(
  listing: string,
): Record<string, { header: string[]; rules: string[]; elements: string[] }> {
  const out: Record<string, { header: string[]; rules: string[]; elements: string[] }> = {}
  const lines = listing.split('\n')
  out.table = { header: [], rules: [], elements: [] }
  for (let i = 0; i < lines.length; i++) {
    const m = /^\t(chain|set|map) (\S+) \{$/.exec(lines[i] as string)
    if (!m) {
      const l = (lines[i] as string).trim()
      if (l !== '' && l !== '}' && !l.startsWith('table ')) out.table.header.push(l)
      continue
    }
    let j = i + 1
    while (lines[j] !== '\t}') j++
    let body = lines.slice(i + 1, j).join('\n')
    let elements: string[] = []
    const at = body.indexOf('elements = {')
    if (at >= 0) {
      const close = body.indexOf('}', at)
      elements = splitElements(body.slice(at + 12, close)).sort()
      body = body.slice(0, at) + body.slice(close + 1)
    }
    const header: string[] = []
    const chainRules: string[] = []
    for (const raw of body.split('\n')) {
      const l = raw.trim()
      if (l === '') continue
      if (m[1] !== 'chain' || /^(type |comment "|policy )/.test(l)) header.push(l)
      else chainRules.push(l)
    }
    out[`${m[1]} ${m[2]}`] = { header, rules: chainRules, elements }
    i = j
  }
  return out
}

/** Loads a then the incremental a->b script, lists; then loads b in full, lists. */
function compareOnKernel(
  a: string,
  b: string,
): { incremental: string; full: string; script: string } | undefined {
  const d = diff(a, b)
  if (!d) return undefined
  nft(a, '-f', '-')
  if (d.script !== '') nft(d.script, '-f', '-')
  const incremental = nft('', 'list', 'table', 'inet', 'palisade')
  nft(b, '-f', '-')
  const full = nft('', 'list', 'table', 'inet', 'palisade')
  return { incremental, full, script: d.script }
}

describe.skipIf(!canRun)('incremental update = full reload (real nftables in a netns)', () => {
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', ns], { timeout: 10_000 })
  })
  afterAll(() => {
    try {
      execFileSync('ip', ['netns', 'del', ns], { timeout: 10_000 })
    } catch {
      // already gone
    }
  })

  it('a batch that fails part-way leaves the previous table in force (one transaction)', () => {
    const a = rules(base)
    const d = diff(a, rules(pairs[2]?.b ?? []))
    nft(a, '-f', '-')
    const before = nft('', 'list', 'table', 'inet', 'palisade')
    // The policy chain is flushed and refilled first; the last command then fails.
    const broken = `${d?.script ?? ''}add rule inet palisade no_such_chain accept\n`
    expect(() => nft(broken, '-f', '-')).toThrow()
    expect(nft('', 'list', 'table', 'inet', 'palisade')).toBe(before)
  })

  it.each(pairs)('$name', ({ a, b }) => {
    const r = compareOnKernel(rules(a), rules(b))
    expect(r).toBeDefined()
    expect(kernelState(r?.incremental ?? '')).toEqual(kernelState(r?.full ?? ''))
  })

  it('random cluster pairs reach the same kernel state', () => {
    const labels = fc.record({ app: fc.constantFrom('db', 'web', 'api'), role: fc.constantFrom('a', 'b') })
    const arbPod = fc.record({
      ns: fc.constantFrom('shop', 'ops'),
      node: fc.constantFrom('n1', 'n2'),
      labels,
      ip: fc.integer({ min: 2, max: 40 }),
    })
    const arbPolicy = fc.oneof(
      fc.record({
        kind: fc.constant('allow' as const),
        ns: fc.constantFrom('shop', 'ops'),
        app: fc.constantFrom('db', 'web', 'api'),
        from: fc.constantFrom('a', 'b'),
        port: fc.constantFrom(80, 443, 5432),
      }),
      fc.record({ kind: fc.constant('deny' as const), ns: fc.constantFrom('shop', 'ops') }),
      fc.record({
        kind: fc.constant('egress' as const),
        ns: fc.constantFrom('shop', 'ops'),
        app: fc.constantFrom('db', 'web'),
        except: fc.constantFrom([], ['10.96.0.0/24'], ['10.97.0.0/16']),
      }),
      fc.record({
        kind: fc.constant('named' as const),
        ns: fc.constantFrom('shop', 'ops'),
        app: fc.constantFrom('db', 'api'),
      }),
    )
    const arbCluster = fc.record({
      pods: fc.uniqueArray(arbPod, { maxLength: 8, selector: (p) => p.ip }),
      policies: fc.array(arbPolicy, { maxLength: 5 }),
    })
    type C = typeof arbCluster extends fc.Arbitrary<infer T> ? T : never
    const objects = (c: C): JsonObject[] => [
      namespace('shop', { tier: 'front' }),
      namespace('ops', { tier: 'back' }),
      ...c.pods.map((p, i) =>
        pod(p.ns, `p${i}`, `10.0.${p.node === 'n1' ? 1 : 2}.${p.ip}`, p.node, p.labels),
      ),
      ...c.policies.map((p, i) => {
        if (p.kind === 'allow') return allowFrom(p.ns, `pol${i}`, p.app, p.from, p.port)
        if (p.kind === 'deny') return denyAll(p.ns, `pol${i}`)
        if (p.kind === 'egress') return egressTo(p.ns, `pol${i}`, p.app, '10.96.0.0/12', p.except)
        return namedPort(p.ns, `pol${i}`, p.app)
      }),
    ]
    let compared = 0
    fc.assert(
      fc.property(arbCluster, arbCluster, (x, y) => {
        const r = compareOnKernel(rules(objects(x)), rules(objects(y)))
        if (!r) return
        compared++
        expect(kernelState(r.incremental), r.script).toEqual(kernelState(r.full))
      }),
      { numRuns: 60 },
    )
    // The property must not pass by finding nothing to compare.
    expect(compared).toBeGreaterThan(40)
  }, 120_000)
})
