/** The atomic writer migrate -o uses: temporary files first, then renames; nothing left behind on failure. */
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type WriteFs, writeFilesAtomically } from '../../src/cli/write-files.js'

let dir: string
beforeEach(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'palisade-write-'))
})
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true })
})

const realFs: WriteFs = {
  mkdir: (p, o) => fsp.mkdir(p, o),
  writeFile: (p, d, o) => fsp.writeFile(p, d, o),
  chmod: (p, m) => fsp.chmod(p, m),
  rename: (a, b) => fsp.rename(a, b),
  rm: (p, o) => fsp.rm(p, o),
  stat: (p) => fsp.stat(p),
  realpath: (p) => fsp.realpath(p),
}

describe('writeFilesAtomically', () => {
  it('replaces files, creates folders, keeps the mode of a replaced file and writes through a symbolic link', async () => {
    await fsp.writeFile(join(dir, 'a.yaml'), 'old a')
    await fsp.chmod(join(dir, 'a.yaml'), 0o640)
    await fsp.writeFile(join(dir, 'real.yaml'), 'old link')
    await fsp.symlink(join(dir, 'real.yaml'), join(dir, 'link.yaml'))
    const r = await writeFilesAtomically([
      { path: join(dir, 'a.yaml'), data: 'new a' },
      { path: join(dir, 'sub/deeper/b.yaml'), data: new TextEncoder().encode('new b') },
      { path: join(dir, 'link.yaml'), data: 'new link' },
    ])
    expect(r.ok).toBe(true)
    expect(await fsp.readFile(join(dir, 'a.yaml'), 'utf8')).toBe('new a')
    expect((await fsp.stat(join(dir, 'a.yaml'))).mode & 0o777).toBe(0o640)
    expect(await fsp.readFile(join(dir, 'sub/deeper/b.yaml'), 'utf8')).toBe('new b')
    expect((await fsp.lstat(join(dir, 'link.yaml'))).isSymbolicLink()).toBe(true)
    expect(await fsp.readFile(join(dir, 'real.yaml'), 'utf8')).toBe('new link')
    expect((await fsp.readdir(dir)).sort()).toEqual(['a.yaml', 'link.yaml', 'real.yaml', 'sub'])
  })

  it('a failed temporary write writes nothing and removes the folders it made', async () => {
    await fsp.writeFile(join(dir, 'a.yaml'), 'old a')
    let calls = 0
    const fs: WriteFs = {
      ...realFs,
      writeFile: async (p, d, o) => {
        if (++calls === 2) throw new Error('disk full')
        await fsp.writeFile(p, d, o)
      },
    }
    const r = await writeFilesAtomically(
      [
        { path: join(dir, 'a.yaml'), data: 'new a' },
        { path: join(dir, 'new/b.yaml'), data: 'b' },
      ],
      fs,
    )
    expect(r).toEqual({ ok: false, error: 'disk full', written: [] })
    expect(await fsp.readdir(dir)).toEqual(['a.yaml'])
    expect(await fsp.readFile(join(dir, 'a.yaml'), 'utf8')).toBe('old a')
  })

  it('a failed rename leaves no temporary file and says which files were already replaced', async () => {
    let calls = 0
    const fs: WriteFs = {
      ...realFs,
      rename: async (a, b) => {
        if (++calls === 2) throw new Error('EXDEV')
        await fsp.rename(a, b)
      },
    }
    const paths = ['a.yaml', 'b.yaml', 'c.yaml'].map((n) => join(dir, n))
    const r = await writeFilesAtomically(
      paths.map((path) => ({ path, data: 'x' })),
      fs,
    )
    expect(r).toEqual({ ok: false, error: `${paths[1]}: EXDEV`, written: [paths[0]] })
    expect(await fsp.readdir(dir)).toEqual(['a.yaml'])
  })
})
