import { describe, expect, it } from 'vitest'
import { processAlive, staleTestNamespaces } from './netns.js'

describe('namespaces left by a killed test run', () => {
  const alive = new Set([100, 2000])
  it.each([
    { names: ['pz-100-nft-1', 'pz-2000-lab-3'], stale: [] },
    {
      names: ['pz-14564-fuzz-nft-1', 'pz-14564-fuzz-ipt-2'],
      stale: ['pz-14564-fuzz-nft-1', 'pz-14564-fuzz-ipt-2'],
    },
    // Not ours: lab namespaces (pl...-), the machine's others, names without a pid.
    { names: ['pl1a2b-n1', 'cni-1234', 'pz-x-1', 'pz--1', 'apz-999-1'], stale: [] },
    { names: ['pz-100-a-1', 'pz-101-a-1'], stale: ['pz-101-a-1'] },
  ])('$names -> $stale', ({ names, stale }) => {
    expect(staleTestNamespaces(names, (pid) => alive.has(pid))).toEqual(stale)
  })

  it('knows this process is alive and a reaped child is not', async () => {
    expect(processAlive(process.pid)).toBe(true)
    const { spawnSync } = await import('node:child_process')
    const child = spawnSync('true')
    expect(child.pid).toBeGreaterThan(0)
    expect(processAlive(child.pid as number)).toBe(false)
  })
})
