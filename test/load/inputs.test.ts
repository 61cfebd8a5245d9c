/** readInputs (src/cli/inputs.ts), the edge that turns paths into InputText; lives here with the loader's tests. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readInputs } from '../../src/cli/inputs.js'

let dir = ''

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-inputs-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function put(rel: string, text: string): Promise<string> {
  const file = join(dir, rel)
  await mkdir(join(file, '..'), { recursive: true })
  await writeFile(file, text)
  return file
}

const text = (t: string | Uint8Array): string => (typeof t === 'string' ? t : new TextDecoder().decode(t))

describe('readInputs', () => {
  it('reads a folder recursively: manifest extensions only, sorted, no dotfiles or node_modules', async () => {
    await put('b.yaml', 'b')
    await put('a.yml', 'a')
    await put('sub/c.json', 'c')
    await put('sub/z/d.YAML', 'd')
    await put('notes.txt', 'x')
    await put('.hidden.yaml', 'x')
    await put('.git/config.yaml', 'x')
    await put('node_modules/pkg/e.yaml', 'x')
    const r = await readInputs([dir])
    expect(r.diagnostics).toEqual([])
    expect(r.inputs.map((i) => i.file.slice(dir.length + 1))).toEqual([
      'a.yml',
      'b.yaml',
      'sub/c.json',
      'sub/z/d.YAML',
    ])
    expect(r.inputs.map((i) => text(i.text))).toEqual(['a', 'b', 'c', 'd'])
  })

  it('reads a named file whatever its extension, keeping the path as given', async () => {
    const file = await put('manifest.txt', 'kind: Pod')
    const r = await readInputs([file])
    expect(r.inputs.map((i) => [i.file, text(i.text)])).toEqual([[file, 'kind: Pod']])
  })

  it('reports a missing path in words (no ENOENT ... stat) and goes on with the others', async () => {
    const file = await put('ok.yaml', 'ok')
    const missing = join(dir, 'nope.yaml')
    const r = await readInputs([missing, file])
    expect(r.inputs.map((i) => i.file)).toEqual([file])
    expect(r.diagnostics).toMatchObject([
      { code: 'input.not-found', severity: 'error', source: { file: missing } },
    ])
    expect(r.diagnostics[0]?.message).toBe('no such file or directory')
  })

  it('reports a path that exists but cannot be read (a socket) as unreadable', async () => {
    const sock = join(dir, 'api.sock')
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(sock, resolve))
    try {
      const r = await readInputs([sock])
      expect(r.inputs).toEqual([])
      expect(r.diagnostics).toMatchObject([{ code: 'input.unreadable', source: { file: sock } }])
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('reports a path through a file (ENOTDIR) as not found', async () => {
    const file = await put('f.yaml', 'x')
    const r = await readInputs([join(file, 'child.yaml')])
    expect(r.diagnostics.map((d) => d.code)).toEqual(['input.not-found'])
    expect(r.diagnostics[0]?.message).toBe('not a directory (a part of the path is a file)')
  })

  it('refuses a file over the size limit before reading it', async () => {
    const big = await put('big.yaml', 'x'.repeat(5000))
    const small = await put('small.yaml', 'y')
    const r = await readInputs([big, small], { maxBytes: 4096 })
    expect(r.inputs.map((i) => i.file)).toEqual([small])
    expect(r.diagnostics).toMatchObject([{ code: 'load.too-large', source: { file: big } }])
  })

  it('reads - from stdin once, however often it is named', async () => {
    let reads = 0
    const stdin = async (): Promise<Uint8Array> => {
      reads++
      return new TextEncoder().encode('kind: Pod')
    }
    const r = await readInputs(['-', '-'], { stdin })
    expect(reads).toBe(1)
    expect(r.inputs.map((i) => [i.file, text(i.text)])).toEqual([['<stdin>', 'kind: Pod']])
  })

  it('refuses stdin over the size limit', async () => {
    const r = await readInputs(['-'], { maxBytes: 4, stdin: async () => new Uint8Array(5) })
    expect(r.inputs).toEqual([])
    expect(r.diagnostics.map((d) => d.code)).toEqual(['load.too-large'])
  })

  it('reports a failing stdin as unreadable', async () => {
    const r = await readInputs(['-'], {
      stdin: async () => {
        throw new Error('EIO: i/o error, read')
      },
    })
    expect(r.diagnostics).toMatchObject([{ code: 'input.unreadable', message: 'EIO: i/o error, read' }])
  })

  it('reports a folder without any manifest (issue 11: it exited 2 without a word)', async () => {
    const r = await readInputs([dir])
    expect(r).toEqual({
      inputs: [],
      diagnostics: [
        {
          code: 'input.no-manifests',
          severity: 'error',
          message: 'no manifest (.yaml, .yml, .json) in this folder',
          path: [],
          source: { file: dir },
        },
      ],
    })
  })
})
