/** kubectl habits (issue 11): examples in every --help, completion scripts, the version, colour, what npm ships. */
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { afterEach, describe, expect, it } from 'vitest'
import { shouldColor } from '../../src/cli/color.js'
import { buildProgram } from '../../src/cli/main.js'
import { runCli } from './run.js'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string
}

const paths = (cmd: Command, prefix: string[] = []): string[][] =>
  cmd.commands.flatMap((c) => [[...prefix, c.name()], ...paths(c, [...prefix, c.name()])])

describe('--help', () => {
  it('every command and subcommand has an Examples section', async () => {
    const program = await buildProgram(() => undefined)
    const all = paths(program)
    expect(all.length).toBeGreaterThan(15)
    for (const p of [[], ...all]) {
      const r = await runCli([...p, '--help'])
      expect(r.code, p.join(' ')).toBe(0)
      expect(r.stdout, p.join(' ')).toMatch(/\nExamples:\n {2}(\$ (sudo )?palisade|#)/)
    }
  })
})

describe('--version', () => {
  it('is the version of package.json', async () => {
    const r = await runCli(['--version'])
    expect(r.stdout.trim()).toBe(pkg.version)
  })
})

describe('palisade completion', () => {
  it.each(['bash', 'zsh'])(
    '%s: a script bash can parse, naming every command and its options',
    async (shell) => {
      const r = await runCli(['completion', shell])
      expect(r.code).toBe(0)
      const body =
        shell === 'zsh' ? r.stdout.replace(/^#compdef.*\n/, '').replace(/^autoload.*\n/m, '') : r.stdout
      const check = spawnSync('bash', ['-n'], { input: body })
      expect(check.status, check.stderr.toString()).toBe(0)
      for (const cmd of ['check', 'matrix', 'connlist', 'lint', 'migrate', 'diff', 'completion'])
        expect(r.stdout).toMatch(new RegExp(`compgen -W '[^']*\\b${cmd}\\b`))
      expect(r.stdout).toContain(
        `'connlist:-o'|'connlist:--output') COMPREPLY=($(compgen -W 'text json yaml csv md dot'`,
      )
    },
  )

  it('bash completes commands, options and -o values', async () => {
    const script = (await runCli(['completion', 'bash'])).stdout
    const complete = (words: string[]): string[] => {
      const line = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _palisade; printf '%s\\n' "\${COMPREPLY[@]}"`
      return execFileSync('bash', ['-c', line], { encoding: 'utf8' }).split('\n').filter(Boolean)
    }
    expect(complete(['palisade', 'conn'])).toEqual(['connlist'])
    expect(complete(['palisade', 'check', '--fr'])).toEqual(['--from'])
    expect(complete(['palisade', 'check', '-o', 'y'])).toEqual(['yaml'])
    expect(complete(['palisade', 'lab', 've'])).toEqual(['verify'])
  })

  it('fish: each command, and the options of each', async () => {
    const r = await runCli(['completion', 'fish'])
    expect(r.stdout).toContain("-f -a connlist -d 'list the allowed connections")
    expect(r.stdout).toContain("complete -c palisade -n '__fish_seen_subcommand_from check' -l from -r -d")
    expect(r.stdout).toContain("-s o -l output -x -a 'text json yaml csv md dot'")
  })

  it('an unknown shell exits 2', async () => {
    const r = await runCli(['completion', 'tcsh'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('bash, zsh or fish')
  })
})

describe('colour', () => {
  it.each([
    { env: {}, tty: true, color: true },
    { env: {}, tty: false, color: false },
    { env: { NO_COLOR: '1' }, tty: true, color: false },
    { env: { NO_COLOR: '' }, tty: true, color: true },
    { env: { FORCE_COLOR: '1' }, tty: false, color: true },
    { env: { FORCE_COLOR: '0' }, tty: true, color: false },
    { env: { NO_COLOR: '1', FORCE_COLOR: '1' }, tty: true, color: false },
    { env: { TERM: 'dumb' }, tty: true, color: false },
  ])('$env on a terminal: $tty -> $color', ({ env, tty, color }) => {
    expect(shouldColor(env, tty)).toBe(color)
  })

  const saved = { ...process.env }
  afterEach(() => {
    process.env = { ...saved }
  })
  const args = [
    'check',
    'examples/seed-001-testing',
    '--from',
    'default/debug',
    '--to',
    'testing/nginx',
    '--port',
    '81',
  ]
  it('check colours its answer with FORCE_COLOR, not in a pipe', async () => {
    delete process.env.NO_COLOR
    const plain = await runCli(args)
    expect(plain.stdout).not.toContain('\u001b[')
    process.env.FORCE_COLOR = '1'
    const coloured = await runCli(args)
    expect(coloured.stdout).toContain('\u001b[31m')
    expect(coloured.stdout.replace(/\u001b\[\d+m/g, '')).toBe(plain.stdout)
  })
})

describe('npm pack', () => {
  it('ships the CLI, the page, the examples and the docs; not the tests, goldens or sources', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { encoding: 'utf8' })
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path) ?? []
    for (const f of [
      'bin/palisade.js',
      'dist/src/cli/main.js',
      'dist/web/app.js',
      'README.md',
      'examples/seed-001-testing/policies.yaml',
    ])
      expect(files).toContain(f)
    expect(
      files.filter(
        (f) => /^(test|src|bench|scripts|dist\/test|dist\/bench)\//.test(f) || f.includes('golden'),
      ),
    ).toEqual([])
  })
})
