/** Every golden ruleset must be accepted by the real `nft -c -f` (inside a throwaway namespace). */
import { readdir, readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { goldenPath } from '../golden.js'
import { createNetns, deleteNetns, kernelSkipReason, nftCheck } from './netns.js'

const skip = await kernelSkipReason()
const dir = goldenPath('compile/nftables')
const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.nft')).sort()

describe.skipIf(skip !== undefined)(
  `golden rulesets load in the kernel${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let ns = ''
    beforeAll(async () => {
      ns = await createNetns('chk')
    })
    afterAll(async () => {
      if (ns) await deleteNetns(ns)
    })

    it('finds golden rulesets to check', () => {
      expect(files.length).toBeGreaterThanOrEqual(10)
    })

    it.each(files)('nft -c accepts %s', async (f) => {
      const text = await readFile(`${dir}/${f}`, 'utf8')
      const r = await nftCheck(ns, text)
      expect(r.stderr).toBe('')
      expect(r.ok).toBe(true)
    })
  },
)
