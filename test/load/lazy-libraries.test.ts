/**
 * The YAML libraries are loaded only when a document needs them: loading them is a good share of a
 * short `palisade check`. Each test file gets fresh modules, so the order below is the whole story.
 */
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { realisticManifests } from '../../src/gen/realistic-cluster.js'
import { isJsYamlLoaded } from '../../src/load/fast-yaml.js'
import { loadCluster } from '../../src/load/index.js'
import { isYamlLibraryLoaded } from '../../src/load/yaml-tree.js'

describe('YAML libraries are loaded on first need', () => {
  it('a generated cluster, positions and diagnostics included, loads neither library', () => {
    const docs = realisticManifests({ pods: 60, policies: 20, seed: 3 })
    // Blank chunks (before a leading `---`, between two, after a trailing one) are no document either.
    const text = `---\n\n${docs.map((d) => stringify(d)).join('---\n---\n')}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: bad_name\nspec: {}\n---\n`
    const loaded = loadCluster([{ file: 'in.yaml', text }], { validate: 'strict' })
    expect(loaded.cluster.pods.length).toBeGreaterThan(0)
    expect(loaded.diagnostics.some((d) => d.source?.line !== undefined && d.severity === 'error')).toBe(true)
    expect(isJsYamlLoaded()).toBe(false)
    expect(isYamlLibraryLoaded()).toBe(false)
  })

  it('a comment brings in js-yaml, and an anchor the yaml library', () => {
    const withComment = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a # the first\n'
    loadCluster([{ file: 'a.yaml', text: withComment }], { validate: 'strict' })
    expect(isJsYamlLoaded()).toBe(true)
    const withAnchor = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: &n b\n  labels:\n    x: *n\n'
    const loaded = loadCluster([{ file: 'b.yaml', text: withAnchor }], { validate: 'strict' })
    expect(loaded.cluster.namespaces.find((n) => n.name === 'b')?.labels.x).toBe('b')
    expect(isYamlLibraryLoaded()).toBe(true)
  })
})
