/** Golden-file assertions: compare rendered text with test/golden/<name>; UPDATE_GOLDEN=1 rewrites them. */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'

/** Returns the absolute path of a golden file. */
export function goldenPath(name: string): string {
  return fileURLToPath(new URL(`./golden/${name}`, import.meta.url))
}

/** Expects `actual` to equal the golden file `name`; writes `<name>.actual` next to it on mismatch. */
export async function expectGolden(name: string, actual: string): Promise<void> {
  const file = goldenPath(name)
  if (process.env.UPDATE_GOLDEN === '1') {
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, actual)
    await rm(`${file}.actual`, { force: true })
    return
  }
  const expected = await readFile(file, 'utf8').catch(() => '')
  if (expected !== actual) await writeFile(`${file}.actual`, actual)
  else await rm(`${file}.actual`, { force: true })
  expect(actual).toBe(expected)
}
