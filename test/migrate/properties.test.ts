/**
 * Properties of migrate over random manifest sets written in every style a user meets (YAML block with
 * either sequence style, comments, octal-looking ports, CRLF; JSON pretty or compact; JSON documents in a
 * YAML stream; kind: List, also nested): without legacy objects the output is the input, byte for byte;
 * with them, the output reads back to the same matrix and the same value of every field migrate does not own.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Document, isPair, isScalar, visit } from 'yaml'
import { makeRng, randomCluster } from '../../src/gen/random-cluster.js'
import { clusterManifests } from '../../src/lab/manifests.js'
import { type InputText, parseInput } from '../../src/load/index.js'
import { migrateInputs, proveMigration } from '../../src/migrate/index.js'
import { type JsonObject, type JsonValue, LEGACY_ISOLATION_ANNOTATION } from '../../src/model/index.js'

type Doc = Record<string, unknown>

/** Makes some policies extensions/v1beta1 (some without their defaulted policyTypes); or none at all. */
function legacyDocs(docs: Doc[], rnd: () => number, legacy: boolean): Doc[] {
  return docs.map((d) => {
    if (!legacy) {
      if (d.kind !== 'Namespace') return d
      const metadata = { ...(d.metadata as Doc) }
      delete metadata.annotations
      return { ...d, metadata }
    }
    if (d.kind === 'Namespace') {
      // other annotations around the legacy one, which must stay
      const metadata = { ...(d.metadata as Doc) }
      const annotations = metadata.annotations as Doc | undefined
      if (annotations && rnd() < 0.5)
        metadata.annotations =
          rnd() < 0.5 ? { owner: 'team-a', ...annotations } : { ...annotations, 'example.com/tier': '1' }
      return { ...d, metadata }
    }
    if (d.kind !== 'NetworkPolicy' || rnd() < 0.4) return d
    const spec = { ...(d.spec as Doc) }
    const types = spec.policyTypes as string[]
    const egress = Array.isArray(spec.egress) && spec.egress.length > 0
    const defaulted = egress ? types.join() === 'Ingress,Egress' : types.join() === 'Ingress'
    if (defaulted && rnd() < 0.6) {
      if (rnd() < 0.8) delete spec.policyTypes
      else spec.policyTypes = []
    }
    return { ...d, apiVersion: 'extensions/v1beta1', spec }
  })
}

/** Renders one document as YAML in a random style. */
function yamlText(d: Doc, rnd: () => number): string {
  const doc = new Document(d, { version: '1.1' })
  if (rnd() < 0.3) {
    visit(doc, {
      Map(_, node) {
        if (rnd() < 0.4) node.flow = true
      },
      Seq(_, node) {
        if (rnd() < 0.4) node.flow = true
      },
    })
  }
  if (rnd() < 0.3) {
    visit(doc, {
      Pair(_, pair) {
        // kubectl reads 0120 as 80 (YAML 1.1 octal)
        if (isPair(pair) && isScalar(pair.value) && typeof pair.value.value === 'number' && rnd() < 0.7) {
          const key = isScalar(pair.key) ? pair.key.value : undefined
          if (key === 'containerPort' || key === 'port') pair.value.format = 'OCT'
        }
      },
    })
  }
  let text = doc.toString({ indentSeq: rnd() < 0.5, lineWidth: 0, indent: rnd() < 0.8 ? 2 : 4 })
  text = text.replace(/: 0o([0-7]+)/g, ': 0$1')
  if (rnd() < 0.5) {
    // comments at the ends of lines and on lines of their own
    text = text
      .split('\n')
      .map((line) => {
        if (line === '') return line
        const r = rnd()
        if (r < 0.1) return `${line} # note`
        if (r < 0.15) return `${line.match(/^ */)?.[0] ?? ''}# about the next line\n${line}`
        return line
      })
      .join('\n')
  }
  return text
}

/** Renders JSON, pretty (2 or 4 spaces) or compact. */
function jsonText(d: JsonValue, rnd: () => number): string {
  const r = rnd()
  return `${JSON.stringify(d, null, r < 0.4 ? 4 : r < 0.8 ? 2 : undefined)}\n`
}

/** Wraps documents into a List, sometimes with a List inside. */
function listOf(docs: Doc[], rnd: () => number): Doc {
  if (docs.length > 2 && rnd() < 0.4) {
    const cut = 1 + Math.floor(rnd() * (docs.length - 1))
    return { apiVersion: 'v1', kind: 'List', items: [...docs.slice(0, cut), listOf(docs.slice(cut), rnd)] }
  }
  return { apiVersion: 'v1', kind: 'List', items: docs }
}

/** Spreads documents over files of random shapes. */
function renderFiles(docs: Doc[], rnd: () => number): InputText[] {
  const files: InputText[] = []
  let i = 0
  while (i < docs.length) {
    const n = 1 + Math.floor(rnd() * Math.min(6, docs.length - i))
    const group = docs.slice(i, i + n)
    i += n
    const shape = rnd()
    const name = `f${files.length}`
    if (shape < 0.15 && group.length === 1) {
      files.push({ file: `${name}.json`, text: jsonText(group[0] as JsonObject, rnd) })
    } else if (shape < 0.3) {
      files.push({ file: `${name}.json`, text: jsonText(listOf(group, rnd) as JsonObject, rnd) })
    } else if (shape < 0.45) {
      files.push({ file: `${name}.yaml`, text: yamlText(listOf(group, rnd), rnd) })
    } else {
      // a YAML stream; some documents written as JSON
      let text = group
        .map((d) => (rnd() < 0.2 ? jsonText(d as JsonObject, rnd) : yamlText(d, rnd)))
        .join('---\n')
      if (rnd() < 0.2) text = text.replace(/\n/g, '\r\n')
      files.push({ file: `${name}.yaml`, text })
    }
  }
  return files
}

function generate(seed: number, styleSeed: number, legacy: boolean): InputText[] {
  const cluster = randomCluster(seed, { maxPods: 6, maxPolicies: 5 })
  const rnd = makeRng(styleSeed)
  return renderFiles(legacyDocs(clusterManifests(cluster) as Doc[], rnd, legacy), rnd)
}

const objectsOf = (files: readonly InputText[]): JsonObject[] =>
  files.flatMap((f) => parseInput(f).objects.map((o) => o.object.value))

/** An object without the fields migrate owns: a policy's apiVersion and policyTypes, the legacy annotation. */
function withoutOwned(v: JsonObject): JsonObject {
  const copy = JSON.parse(JSON.stringify(v)) as JsonObject
  if (copy.kind === 'NetworkPolicy') {
    delete copy.apiVersion
    delete (copy.spec as JsonObject | undefined)?.policyTypes
  }
  const metadata = copy.metadata as JsonObject | undefined
  const annotations = metadata?.annotations as JsonObject | undefined
  if (copy.kind === 'Namespace' && metadata && annotations) {
    delete annotations[LEGACY_ISOLATION_ANNOTATION]
    if (Object.keys(annotations).length === 0) delete metadata.annotations
  }
  return copy
}

const isGenerated = (v: JsonObject): boolean =>
  v.kind === 'NetworkPolicy' && /^default-deny-ingress(-\d+)?$/.test(String((v.metadata as JsonObject).name))

const seeds = fc.tuple(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }))

describe('migrate properties', () => {
  it('without legacy objects, every output file is its input, byte for byte', () => {
    fc.assert(
      fc.property(seeds, ([seed, style]) => {
        const inputs = generate(seed, style, false)
        const result = migrateInputs(inputs)
        expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
        expect(result.changes).toEqual([])
        expect(result.files.map((f) => [f.file, f.text])).toEqual(inputs.map((f) => [f.file, f.text]))
      }),
      { numRuns: 100 },
    )
  })

  it('with legacy objects, the output reads back to the same matrix and the same fields migrate does not own', () => {
    fc.assert(
      fc.property(seeds, ([seed, style]) => {
        const inputs = generate(seed, style, true)
        const result = migrateInputs(inputs)
        expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
        const proof = proveMigration(inputs, result.files, 'warn')
        expect(proof.diffs).toEqual([])
        expect(proof.equal).toBe(true)
        const before = objectsOf(inputs)
        const after = objectsOf(result.files)
        const denying = before.filter(
          (v) =>
            v.kind === 'Namespace' &&
            ((v.metadata as JsonObject).annotations as JsonObject | undefined)?.[
              LEGACY_ISOLATION_ANNOTATION
            ] !== undefined,
        )
        expect(after.filter(isGenerated)).toHaveLength(denying.length)
        expect(after.filter((v) => !isGenerated(v)).map(withoutOwned)).toEqual(before.map(withoutOwned))
        expect(after.some((v) => v.apiVersion === 'extensions/v1beta1')).toBe(false)
        expect(JSON.stringify(after)).not.toContain('DefaultDeny')
        for (const f of result.files)
          if (f.file.endsWith('.json')) expect(() => JSON.parse(String(f.text))).not.toThrow()
      }),
      { numRuns: 100 },
    )
  })
})
