/**
 * Nothing a manifest or a flag says can leave a ruleset comment (issue 14, item 6): the node name, policy,
 * namespace and pod names and label values reach comments only through src/compile/comment.ts.
 * `--node $'node-1\nflush ruleset\n#'` used to write `flush ruleset` as a statement of its own.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  applyRuleset,
  type BackendName as Backend,
  compileNode,
  execCommand,
} from '../../src/backends/index.js'
import { commentLine, commentText, nodeNameProblem } from '../../src/compile/comment.js'
import type { ClusterState } from '../../src/model/index.js'
import { runCli } from '../cli/run.js'
import { ns, pod, policy, rule, sel, tcp } from './fixtures.js'
import { createNetns, deleteNetns, kernelSkipReason } from './netns.js'

const EXAMPLE = new URL('../../examples/seed-001-testing', import.meta.url).pathname
const EVIL_NODE = 'node-1\nflush ruleset\n#'

/** A cluster whose names and labels are the given strings (model values: no validation in the way). */
function cluster(o: { node: string; namespace: string; name: string; label: string }): ClusterState {
  return {
    namespaces: [ns(o.namespace, { team: o.label })],
    pods: [
      pod(o.namespace, o.name, { app: o.label }, ['10.0.1.2'], o.node),
      pod(o.namespace, 'peer', { role: o.label }, ['10.0.2.2'], 'other'),
    ],
    policies: [
      policy(o.namespace, o.name, sel({ app: o.label }), {
        types: ['Ingress', 'Egress'],
        ingress: [rule([{ podSelector: sel({ role: o.label }) }], [tcp(80)])],
        egress: [rule([{ namespaceSelector: sel({ team: o.label }) }])],
      }),
    ],
  }
}

/** The ruleset's statements: comments blanked (`# ...` lines, `comment "..."`, `--comment "..."`). */
function statements(text: string): string {
  return text
    .split('\n')
    .map((l) => (/^\s*#/.test(l) ? '#' : l.replace(/(--)?comment "[^"]*"/g, '$1comment ""')))
    .join('\n')
}

const ASCII_LINE = /^[\x20-\x7e\t]*$/

describe('comment text', () => {
  it.each([
    {
      name: 'printable ASCII passes unchanged',
      text: 'prod/db ingress[0] from[1]',
      want: 'prod/db ingress[0] from[1]',
    },
    { name: 'line breaks become one space', text: 'a\nb\r\n\v\fc', want: 'a b c' },
    {
      name: 'Unicode line and paragraph separators become a space',
      text: 'a\u2028b\u2029c\u0085d',
      want: 'a b c d',
    },
    { name: 'quotes and backslashes cannot close the comment', text: 'a"b\\c', want: "a'b'c" },
    {
      name: 'other control and non-ASCII characters become ?',
      text: 'a\u0000b\u001bc\u007fdé😀',
      want: 'a?b?c?d??',
    },
    { name: 'long text is cut with an ellipsis', text: 'x'.repeat(200), want: `${'x'.repeat(117)}...` },
  ])('$name', ({ text, want }) => {
    expect(commentText(text)).toBe(want)
  })

  it('line comments keep quotes but never break the line', () => {
    expect(commentLine('node "a"\n#b')).toBe('node "a" #b')
  })

  it('any string becomes one bounded line of printable ASCII without quotes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        const t = commentText(s)
        expect(t).toMatch(/^[\x20-\x7e]*$/)
        expect(t).not.toMatch(/["\\]/)
        expect(t.length).toBeLessThanOrEqual(120)
        expect(commentLine(s)).toMatch(/^[\x20-\x7e]*$/)
      }),
      { numRuns: 300 },
    )
  })
})

describe('node names', () => {
  it.each([
    ['node-1', undefined],
    ['ip-10-0-1-2.eu-west-1.compute.internal', undefined],
    ['', /empty/],
    ['Node-1', /RFC 1123 subdomain/],
    [EVIL_NODE, /RFC 1123 subdomain/],
    ['-a', /RFC 1123 subdomain/],
    ['a..b', /RFC 1123 subdomain/],
    ['a'.repeat(254), /253/],
  ])('%j', (name, problem) => {
    const p = nodeNameProblem(name)
    if (problem === undefined) expect(p).toBeUndefined()
    else expect(p).toMatch(problem)
  })

  // Each would program nothing even if it ran: the namespace does not exist.
  const NO_NETNS = ['--netns', `pz-${process.pid}-never-created`]
  it.each([
    ['compile', ['compile', EXAMPLE, '--node', EVIL_NODE]],
    ['apply', ['apply', EXAMPLE, '--node', EVIL_NODE, ...NO_NETNS]],
    [
      'agent',
      ['agent', '--node-name', EVIL_NODE, '--from-dir', EXAMPLE, ...NO_NETNS, '--health-addr', '127.0.0.1:0'],
    ],
  ])('palisade %s refuses a node name that is not an RFC 1123 subdomain', async (_, args) => {
    const r = await runCli(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/not a valid node name/)
    expect(r.stdout).toBe('')
  })
})

describe('palisade lab', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pz-comment-lab-'))
    await writeFile(
      join(dir, 'pod.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { namespace: 'default', name: 'p' },
        spec: { nodeName: 'Node_1', containers: [{ name: 'c', image: 'x' }] },
      }),
    )
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('refuses manifests whose spec.nodeName is not a valid node name, before building anything', async () => {
    const r = await runCli(['lab', 'verify', dir])
    expect(r.code).toBe(2)
    // The validator refuses the pod in the API server's words before the lab looks at node names.
    expect(r.stderr).toMatch(/spec\.nodeName: (Invalid value: "Node_1"|"Node_1" is not a valid node name)/)
  })
})

describe.each(['nftables', 'iptables'] as const)('%s rulesets', (backend: Backend) => {
  const render = (c: ClusterState, node: string) =>
    Object.values(compileNode(c, node, backend).value.files).join('\n')

  it('a node name cannot add a statement', () => {
    const text = render(cluster({ node: EVIL_NODE, namespace: 'shop', name: 'db', label: 'x' }), EVIL_NODE)
    expect(text).not.toMatch(/^flush ruleset$/m)
    const plain = render(cluster({ node: 'n1', namespace: 'shop', name: 'db', label: 'x' }), 'n1')
    expect(statements(text)).toBe(statements(plain))
  })

  it('names and label values of any text stay inside their comments', () => {
    const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 })
    fc.assert(
      fc.property(text, text, text, text, (node, namespace, name, label) => {
        const out = render(cluster({ node, namespace, name, label }), node)
        for (const line of out.split('\n')) {
          expect(line).toMatch(ASCII_LINE)
          // every quoted comment closes on its own line
          for (const m of line.matchAll(/comment "/g))
            expect(line.indexOf('"', (m.index ?? 0) + 9)).toBeGreaterThan(0)
        }
        // the node name only ever feeds comments
        const plain = render(cluster({ node: 'n1', namespace, name, label }), 'n1')
        expect(statements(out)).toBe(statements(plain))
      }),
      { numRuns: 150 },
    )
  })
})

const skip = await kernelSkipReason()
describe.skipIf(skip !== undefined)('in the kernel', () => {
  let netns = ''
  let stateDir = ''
  beforeAll(async () => {
    netns = await createNetns('comment')
    stateDir = await mkdtemp(join(tmpdir(), 'pz-comment-state-'))
  })
  afterAll(async () => {
    if (netns) await deleteNetns(netns)
    if (stateDir) await rm(stateDir, { recursive: true, force: true })
  })

  it('a hostile node name given to the compiler leaves a foreign table alone', async () => {
    const foreign = await execCommand('nft', ['add', 'table', 'inet', 'foreign'], { netns })
    expect(foreign.code).toBe(0)
    const rs = compileNode(
      cluster({ node: EVIL_NODE, namespace: 'shop', name: 'db', label: 'x' }),
      EVIL_NODE,
      'nftables',
    ).value
    await applyRuleset(rs, { netns, stateDir })
    const tables = await execCommand('nft', ['list', 'tables'], { netns })
    expect(tables.stdout).toContain('table inet foreign')
    expect(tables.stdout).toContain('table inet palisade')
  })
})
