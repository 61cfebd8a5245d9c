/**
 * lint (and the web page's lint list) read what was written from the load's own parse: every input is
 * parsed once. The parser's entries are wrapped to count their calls (the load reads a decoded input
 * with parseDecoded).
 */
import { describe, expect, it, vi } from 'vitest'

const calls = { parse: 0 }
vi.mock(import('../../src/load/parse.js'), async (original) => {
  const m = await original()
  return {
    ...m,
    parseInput: (...args: Parameters<typeof m.parseInput>) => {
      calls.parse++
      return m.parseInput(...args)
    },
    parseDocuments: (...args: Parameters<typeof m.parseDocuments>) => {
      calls.parse++
      return m.parseDocuments(...args)
    },
    parseDecoded: (...args: Parameters<typeof m.parseDecoded>) => {
      calls.parse++
      return m.parseDecoded(...args)
    },
  }
})

const { lintInputs } = await import('../../src/lint/index.js')
const { loadCluster } = await import('../../src/load/index.js')
const { parseDocuments } = await import('../../src/load/parse.js')
const { buildPageData } = await import('../../src/web/page-data.js')

const inputs = [
  {
    file: 'ns.yaml',
    text: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {containers: [{name: c, image: x}]}\nstatus: {podIP: 10.0.0.1}\n',
  },
  {
    file: 'np.yaml',
    // the second policy is rejected (an invalid CIDR): lint still reads it as written
    text: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ok, namespace: a}\nspec: {podSelector: {}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: a}\nspec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}\n',
  },
]

describe('every input is parsed once', () => {
  it('lintInputs parses each input once', () => {
    calls.parse = 0
    lintInputs(inputs, { validate: 'strict' })
    expect(calls.parse).toBe(inputs.length)
  })

  it("the web page's lint list parses nothing again", () => {
    const loaded = loadCluster(inputs, { validate: 'strict' })
    calls.parse = 0
    buildPageData({ title: 't', current: { label: 'x', loaded, inputs } })
    expect(calls.parse).toBe(0)
  })

  it('the load keeps every object written, rejected ones included, as the parser reads them', () => {
    const loaded = loadCluster(inputs, { validate: 'strict' })
    const written = inputs.flatMap((i) => parseDocuments(i).value)
    expect(loaded.written.map((o) => o.value)).toEqual(written.map((o) => o.value))
    expect(loaded.written.map((o) => o.source)).toEqual(written.map((o) => o.source))
    expect(loaded.objects.length).toBe(written.length - 1)
  })
})
