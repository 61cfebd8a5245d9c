// The fuzzer's oracles and its reproducibility: what counts as a crash or a hang, and that a saved case
// replays to the same bytes and command line.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadCorpus } from '../../src/fuzz/corpus.js'
import { prepareCase } from '../../src/fuzz/execute.js'
import { type FailureExample, type FailureGroup, generateRecipe, runFuzz } from '../../src/fuzz/harness.js'
import { iptablesCause, nftCause } from '../../src/fuzz/kernel.js'
import { acceptanceOracle, type CliOutcome, crashOracle, hangBoundMs } from '../../src/fuzz/oracles.js'
import type { Recipe } from '../../src/fuzz/recipe.js'
import { reproLine, saveExample, shellQuote } from '../../src/fuzz/report.js'

const clean: CliOutcome = { code: 0, stdout: '{}', stderr: '', ms: 3, timedOut: false }
const classify = (o: Partial<CliOutcome>, args: string[] = ['lint', '{input}']) =>
  crashOracle({ ...clean, ...o }, 'lint', 'typed', args, 5000).map((f) => `${f.cls}/${f.sub}`)

describe('crash and hang oracle', () => {
  it.each([
    { name: 'a clean run is no failure', o: {}, want: [] },
    { name: 'exit 1 (findings) is no failure', o: { code: 1 }, want: [] },
    {
      name: 'an exception main() rejects with is a crash',
      o: {
        threw: {
          name: 'TypeError',
          message: 'x is not a function',
          stack: 'TypeError: x\n    at f (file:///a/src/load/kinds.js:1:2)',
        },
      },
      want: ['crash/exception'],
    },
    { name: 'SIGABRT is a crash', o: { code: undefined, signal: 'SIGABRT' }, want: ['crash/signal-SIGABRT'] },
    { name: 'exit 134 is a crash', o: { code: 134 }, want: ['crash/exit-134'] },
    {
      name: '"internal error" on stderr is a crash',
      o: {
        code: 2,
        stderr:
          'palisade: internal error: RangeError: Maximum call stack size exceeded\n    at data (file:///a/dist/src/load/parse.js:1:2)',
      },
      want: ['crash/internal-error'],
    },
    {
      name: 'a stack trace on stderr is a crash',
      o: { code: 2, stderr: 'Error: boom\n    at run (file:///a/src/x.js:3:4)\n' },
      want: ['crash/stack-trace'],
    },
    { name: 'over the CPU bound is a hang', o: { ms: 6000, cpuMs: 5500 }, want: ['hang/lint'] },
    { name: 'waiting for a core is not a hang', o: { ms: 60000, cpuMs: 900 }, want: [] },
    { name: 'without a CPU figure the wall time counts', o: { ms: 6000 }, want: ['hang/lint'] },
    {
      name: 'killed at the time bound is a hang, nothing else',
      o: { timedOut: true, code: undefined, signal: 'SIGKILL' },
      want: ['hang/lint'],
    },
  ])('$name', ({ o, want }) => {
    expect(classify(o as Partial<CliOutcome>)).toEqual(want)
  })

  it('the CPU bound grows with the input: reading megabytes at a linear cost is not a hang', () => {
    const MiB = 1 << 20
    expect(hangBoundMs(5000, 10_000)).toBe(5010)
    // migrate of a 30 MiB string costs about 20 s of CPU (0.65 s per MiB, linear from 3 to 30 MiB).
    const bound = hangBoundMs(5000, 30 * MiB)
    expect(bound).toBe(35_000)
    const judge = (cpuMs: number) =>
      crashOracle({ ...clean, ms: cpuMs, cpuMs }, 'lint', 'huge', ['lint', '{input}'], bound).map(
        (f) => f.cls,
      )
    expect(judge(19_700)).toEqual([])
    expect(judge(36_000)).toEqual(['hang'])
  })

  it('-o json output that does not parse is a crash (bad output)', () => {
    expect(classify({ stdout: '{"a":' }, ['lint', '{input}', '-o', 'json'])).toEqual(['crash/bad-output'])
    expect(classify({ stdout: 'text' }, ['lint', '{input}', '-o', 'text'])).toEqual([])
    // Output cut short by the harness is not judged.
    expect(classify({ stdout: '{"a":', stdoutTruncated: true }, ['lint', '{input}', '-o', 'json'])).toEqual(
      [],
    )
  })

  it('groups exceptions by message and place, not by the particulars', () => {
    const sig = (msg: string) =>
      crashOracle(
        {
          ...clean,
          threw: { name: 'Error', message: msg, stack: `Error: ${msg}\n    at g (file:///w/src/a.js:9:9)` },
        },
        'lint',
        'typed',
        [],
        5000,
      )[0]?.signature
    expect(sig('Unresolved alias: a1')).toBe(sig('Unresolved alias: a27'))
  })
})

describe('kernel refusals', () => {
  it('names a # comment broken by a line break in a name, whatever the name', () => {
    const text = '# ruleset for node n1\n}\ntable inet evil {\ntable inet palisade\n'
    const stderr = "/dev/stdin:2:1-1: Error: syntax error, unexpected '}'\n}\n^\n"
    expect(nftCause(text, stderr)).toMatch(/line break in a name ends a # comment/)
    const rs = { ipset: '# ipsets for node n1\n}\ncreate a hash:ip\n', v4: '', v6: '' }
    expect(iptablesCause(rs, 'ipset v7.17: unknown argument }\nipset restore -exist: refused\n')).toBe(
      'ipset restore: a line break in a name ends a # comment: the rest of the name is read as rules',
    )
  })

  it('names a port that is not an integer, even on a line with a comment', () => {
    const text = 'table inet palisade {\n\t\ttcp dport 80-80.5 accept comment "a/b ingress[0] ports[0]"\n'
    const stderr = '/dev/stdin:2:21-26: Error: syntax error, unexpected accept\n'
    expect(nftCause(text, stderr)).toBe(
      'a port that is not an integer: Error: syntax error, unexpected accept',
    )
  })

  it('names an infinite port range (1e309 read as Infinity) as a port that is not an integer', () => {
    const text = 'table inet palisade {\n\t\telements = { tcp . 80-Infinity : jump pol_a }\n'
    const stderr =
      '/dev/stdin:2:25-32: Error: Could not resolve service: Servname not supported for ai_socktype\n'
    expect(nftCause(text, stderr)).toMatch(/^a port that is not an integer/)
  })

  it('a carriage return in a name breaks the ipset comment line too', () => {
    const rs = { ipset: '# ipsets for node n\r\nx; more\ncreate a hash:ip\n', v4: '', v6: '' }
    expect(iptablesCause(rs, 'ipset v7.17: unknown argument x;\nipset restore -exist: refused\n')).toMatch(
      /line break in a name ends a # comment/,
    )
  })

  it("otherwise keeps nft's error without its particulars", () => {
    const stderr = '/dev/stdin:12:19-22: Error: syntax error, unexpected number\n'
    expect(nftCause('table inet palisade {\n', stderr)).toBe('Error: syntax error, unexpected number')
  })
})

describe('acceptance oracle', () => {
  const input = (text: string) => [{ file: 'in.yaml', text }]
  const pod =
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: x\nspec:\n  containers:\n  - name: c\n    image: i\n'

  it('finds nothing in a valid object, in every mode', () => {
    for (const mode of ['strict', 'warn', 'ignore'])
      expect(acceptanceOracle({ inputs: input(pod), mode })).toEqual([])
  })

  it('finds nothing when Palisade refuses what the API server refuses', () => {
    const bad = pod.replace('image: i', 'image: i\n    ports:\n    - containerPort: 70000')
    expect(acceptanceOracle({ inputs: input(bad), mode: 'strict' })).toEqual([])
  })

  it('does not judge kinds it has no model of', () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: 7\n'
    expect(acceptanceOracle({ inputs: input(cm), mode: 'ignore' })).toEqual([])
  })
})

describe('reproducibility', () => {
  const bases = loadCorpus()

  it('case i of seed s is always the same recipe, input and command', () => {
    const families = ['typed', 'structural', 'yaml', 'lists', 'text']
    for (let i = 0; i < 20; i++) {
      const a = prepareCase(generateRecipe(77, i, families), bases)
      const b = prepareCase(generateRecipe(77, i, families), bases)
      expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true)
      expect(a.argsTemplate).toEqual(b.argsTemplate)
    }
  })

  it('a run draws case i exactly as generateRecipe does', async () => {
    const seen: Recipe[] = []
    const executor = {
      run: async (r: Recipe) => {
        seen.push(r)
        return { skipped: 'recorded only' }
      },
      close: async () => undefined,
    }
    await runFuzz({ seed: 79, cases: 6, families: ['typed'], executor })
    expect(seen).toEqual([0, 1, 2, 3, 4, 5].map((i) => generateRecipe(79, i, ['typed'])))
  })

  it('a saved case holds its input, its recipe (which rebuilds the same bytes) and a one-line repro', async () => {
    const out = await mkdtemp(join(tmpdir(), 'palisade-fuzz-save-'))
    try {
      const recipe = generateRecipe(78, 3, ['typed'])
      const p = prepareCase(recipe, bases)
      const failure = {
        cls: 'crash' as const,
        sub: 'exception',
        detail: 'boom',
        signature: 'crash/exception/boom',
      }
      const ex: FailureExample = {
        caseIndex: 3,
        caseSeed: 1,
        recipe,
        failure,
        shrunk: false,
        result: {
          failures: [failure],
          nft: [],
          iptables: [],
          ms: 1,
          isolation: 'in-process',
          command: p.command,
          mode: p.mode,
          argsTemplate: p.argsTemplate,
          inputName: p.inputName,
          input: p.bytes,
        },
      }
      const group: FailureGroup = {
        signature: failure.signature,
        cls: 'crash',
        sub: 'exception',
        count: 1,
        families: new Set(['typed']),
        commands: new Set([p.command]),
        examples: [ex],
      }
      const dir = await saveExample(out, group, ex, bases, ['strict', 'warn', 'ignore'])
      const saved = JSON.parse(await readFile(join(dir, 'recipe.json'), 'utf8')) as Recipe
      expect(
        Buffer.from(prepareCase(saved, bases).bytes).equals(await readFile(join(dir, p.inputName))),
      ).toBe(true)
      const repro = (await readFile(join(dir, 'repro.txt'), 'utf8')).trim()
      expect(repro).toBe(reproLine(p.argsTemplate, join(dir, p.inputName)))
      expect(repro.startsWith(`node bin/palisade.js ${p.argsTemplate[0]} `)).toBe(true)
      expect(ex.result.input).toBeUndefined() // dropped from memory once on disk
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  })

  it('quotes arguments for bash, control characters included', () => {
    expect(shellQuote('default/a')).toBe('default/a')
    expect(shellQuote("it's")).toBe(`'it'\\''s'`)
    expect(shellQuote('n1\n}')).toBe("$'n1\\x0a}'")
  })
})
