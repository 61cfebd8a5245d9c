import { afterAll, describe, expect, it } from 'vitest'
import { CELL_ALLOWED, CELL_DENIED } from '../../src/engine/index.js'
import { runInOk } from '../../src/lab/exec.js'
import {
  buildLab,
  compareLab,
  destroyLab,
  expectedLabMatrix,
  type Lab,
  listLabNamespaces,
  newLabPrefix,
  planLab,
  probeLab,
  startAgents,
} from '../../src/lab/index.js'
import { labSkipReason, smallCluster } from './helpers.js'

const skip = labSkipReason()
const made: string[] = []

afterAll(async () => {
  for (const p of made) await destroyLab(p)
})

describe.skipIf(skip !== undefined)(`lab topology without rules${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it.each(['routed', 'bridge'] as const)(
    'in %s mode every probe of a cluster without policies is allowed and answered by the right endpoint',
    async (mode) => {
      const prefix = await newLabPrefix()
      made.push(prefix)
      let lab: Lab | undefined
      try {
        lab = await buildLab(planLab(smallCluster(false), { prefix, mode }))
        await startAgents(lab)
        const r = await probeLab(lab)
        const allowed = r.full.cells.reduce((s, c) => s + c.filter((x) => x === CELL_ALLOWED).length, 0)
        expect(allowed).toBe(r.probes)
        expect(compareLab(lab, expectedLabMatrix(lab), r.full, r.details)).toEqual([])
        // the kernel can say no: a drop rule in node-1's FORWARD must turn probes into denials
        await runInOk(lab.plan.nodes[0]!.netns, ['nft', '-f', '-'], {
          input: 'table inet t {\n chain f {\n type filter hook forward priority 0; policy drop;\n }\n}\n',
        })
        const r2 = await probeLab(lab)
        const db = r2.pods.pods.indexOf('prod/db')
        const web = r2.pods.pods.indexOf('prod/web')
        expect(r2.pods.cells[0]![web * r2.pods.pods.length + db]).toBe(CELL_DENIED)
        const mism = compareLab(lab, expectedLabMatrix(lab), r2.full, r2.details)
        expect(mism.length).toBeGreaterThan(0)
        expect(mism.find((m) => m.from === 'prod/web' && m.to === 'prod/db')?.detail).toBe('timeout')
      } finally {
        await destroyLab(prefix)
      }
      const left = (await listLabNamespaces()).filter((n) => n.startsWith(prefix))
      expect(left).toEqual([])
    },
  )
})
