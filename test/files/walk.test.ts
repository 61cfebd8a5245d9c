/**
 * The one folder walker (src/files): which files a path stands for, in which order, and what it does
 * with paths it cannot read. The CLI, the agent's --from-dir and the web page's watch all use it.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isManifestName, listManifestFiles } from '../../src/files/index.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function tree(files: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-walk-'))
  dirs.push(dir)
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true })
    writeFileSync(join(dir, f), 'x')
  }
  return dir
}

const none = () => {
  throw new Error('no problem expected')
}

describe('listManifestFiles', () => {
  it('lists .yaml, .yml and .json files in any case, each folder in name order, depth first', async () => {
    const dir = tree(['b.yaml', 'a/z.yml', 'a-b.JSON', 'c.txt', 'd/e/f.Yaml', 'README.md'])
    const files = await listManifestFiles(dir, none)
    expect(files.map((f) => f.path.slice(dir.length + 1))).toEqual([
      'a/z.yml',
      'a-b.JSON',
      'b.yaml',
      'd/e/f.Yaml',
    ])
  })

  it('skips dotfiles, dot folders and node_modules', async () => {
    const dir = tree(['.hidden.yaml', '.git/x.yaml', 'node_modules/m/p.yaml', 'ok.yaml'])
    const files = await listManifestFiles(dir, none)
    expect(files.map((f) => f.path.slice(dir.length + 1))).toEqual(['ok.yaml'])
  })

  it('takes a file it is given whatever its name', async () => {
    const dir = tree(['policy.txt'])
    const files = await listManifestFiles(join(dir, 'policy.txt'), none)
    expect(files.map((f) => f.path)).toEqual([join(dir, 'policy.txt')])
    expect(files[0]?.stats.size).toBe(1)
  })

  it('follows links, and enters a folder once however many links lead back to it', async () => {
    const dir = tree(['real/p.yaml'])
    symlinkSync(join(dir, 'real'), join(dir, 'link'))
    symlinkSync(dir, join(dir, 'real', 'loop'))
    const files = await listManifestFiles(dir, none)
    expect(files.map((f) => f.path.slice(dir.length + 1))).toEqual(['link/p.yaml', 'real/p.yaml'])
  })

  it('hands every path it cannot stat to the caller and goes on', async () => {
    const dir = tree(['a.yaml'])
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.yaml'))
    const problems: string[] = []
    const files = await listManifestFiles(dir, (p, err, at) =>
      problems.push(`${p.slice(dir.length + 1)} ${(err as NodeJS.ErrnoException).code} ${at.op} ${at.top}`),
    )
    expect(files.map((f) => f.path.slice(dir.length + 1))).toEqual(['a.yaml'])
    expect(problems).toEqual(['dangling.yaml ENOENT stat false'])
    const missing: string[] = []
    await listManifestFiles(join(dir, 'gone'), (_p, _e, at) => missing.push(`${at.top}`))
    expect(missing).toEqual(['true'])
  })

  it('names manifest files by extension', () => {
    expect(['a.yaml', 'a.YML', 'a.json', 'a.yaml.bak', 'yaml'].map(isManifestName)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ])
  })
})
