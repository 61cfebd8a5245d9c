/** --max-input-size (issue 11, defect 5): the per-input limit is a flag, with a default memory allows. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseSize } from '../../src/cli/options.js'
import { DEFAULT_MAX_BYTES } from '../../src/load/index.js'
import { runCli } from './run.js'

describe('--max-input-size', () => {
  let dir: string
  let file: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-max-'))
    file = join(dir, 'pods.yaml')
    const pod = (i: number) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: default, labels: {app: a}}\nspec: {containers: [{name: c, image: i}]}\n`
    writeFileSync(file, Array.from({ length: 40 }, (_, i) => pod(i)).join('---\n'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('reads an input up to the limit it sets, and names the flag when an input is over it', async () => {
    const ok = await runCli(['matrix', file, '--ports', '80', '--max-input-size', '1Mi', '-o', 'json'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(JSON.parse(ok.stdout).pods).toHaveLength(40)
    const over = await runCli([
      'check',
      file,
      '--max-input-size',
      '1Ki',
      '--from',
      'p1',
      '--to',
      'p2',
      '--port',
      '80',
    ])
    expect(over.code).toBe(2)
    expect(over.stderr).toMatch(
      /larger than the limit of 0\.0 MiB: not read \(raise it with --max-input-size\)/,
    )
  })

  it.each([
    ['100000', 100000],
    ['512Ki', 512 * 1024],
    ['256Mi', 256 * 1024 ** 2],
    ['1.5Mi', 1.5 * 1024 ** 2],
    ['200M', 200_000_000],
    ['64MiB', 64 * 1024 ** 2],
  ])('parses %s', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes)
  })

  it.each(['bogus', '-1', '0', '2Gi', '10 apples'])('refuses %s (exit 2, one line)', async (text) => {
    expect(typeof parseSize(text)).toBe('string')
    const r = await runCli(['matrix', file, '--max-input-size', text])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--max-input-size/)
  })

  it('defaults to 128 MiB: a ~39k-pod `kubectl get pods -A -o yaml`, ~2 GiB resident (bench/big-input.ts)', () => {
    expect(DEFAULT_MAX_BYTES).toBe(128 * 1024 * 1024)
  })
})
