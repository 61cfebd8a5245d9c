/**
 * The fuzzer's misread oracle compares Palisade's reading with `intendedDoc`: that is only sound if the
 * writer writes exactly the intended tree. Here an independent YAML 1.1 reader (the `yaml` library, merge
 * keys on, duplicate keys allowed: last wins, as go-yaml v2) reads every written document back.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { familyArbitrary } from '../../src/fuzz/arbitraries.js'
import { loadCorpus } from '../../src/fuzz/corpus.js'
import { flattenLeaves, hasRaw, intendedDoc, materializeRecipe } from '../../src/fuzz/mutate.js'
import { firstDifference } from '../../src/fuzz/oracles.js'
import { writeDocs } from '../../src/fuzz/render.js'
import type { JsonValue } from '../../src/model/index.js'

const bases = loadCorpus()

/** Reads the written text back with the yaml library, one value per document. */
function readBack(text: string): (JsonValue | undefined)[] {
  return parseAllDocuments(text, { version: '1.1', merge: true, uniqueKeys: false }).map((d) => {
    try {
      return d.toJS({ maxAliasCount: -1 }) as JsonValue
    } catch {
      return undefined // an alias before its anchor: the intended reading is a refusal
    }
  })
}

describe('the fuzzer writes what it means', () => {
  it.each(['structural', 'typed', 'lists', 'prototype', 'validation', 'nodes'])(
    '%s documents read back (YAML 1.1) as the intended objects',
    (family) => {
      fc.assert(
        fc.property(familyArbitrary(family), (recipe) => {
          const m = materializeRecipe(recipe, bases)
          const written = writeDocs(m.docs, { ...recipe.render, bom: 'none' })
          const read = readBack(written.text)
          expect(read.length).toBe(m.docs.length)
          m.docs.forEach((doc, i) => {
            const intended = intendedDoc(doc, { undefinedAliases: written.docs[i]!.undefinedAliases })
            // Verbatim YAML 1.1 scalars are read by go-yaml's rules (RAW_TOKENS), which the yaml library does not share.
            if (intended.unjudged !== undefined || intended.refused !== undefined || hasRaw(doc.value)) return
            const back = flattenLeaves(read[i] as JsonValue)
            expect(
              firstDifference(back as unknown as JsonValue, intended.leaves as unknown as JsonValue),
            ).toBeUndefined()
          })
        }),
        { numRuns: 60, seed: 7 },
      )
    },
  )

  it('anchors, aliases and merge keys are read as copies; an alias before its anchor is a refusal', () => {
    fc.assert(
      fc.property(familyArbitrary('yaml'), (recipe) => {
        const m = materializeRecipe(recipe, bases)
        const written = writeDocs(m.docs, { ...recipe.render, bom: 'none', crlf: false })
        m.docs.forEach((doc, i) => {
          const intended = intendedDoc(doc, { undefinedAliases: written.docs[i]!.undefinedAliases })
          const chunk = written.text
            .split('\n')
            .slice(written.docs[i]!.firstLine - 1, written.docs[i]!.lastLine)
            .join('\n')
          const [parsed] = parseAllDocuments(chunk, { version: '1.1', merge: true, uniqueKeys: false })
          if (intended.refused?.startsWith('unknown anchor')) {
            // The yaml library refuses it when building the value.
            expect(() => parsed?.toJS({ maxAliasCount: -1 })).toThrow(/alias/i)
            return
          }
          // Tags and verbatim scalars are read by go-yaml's rules (the yaml library makes !!binary a Uint8Array).
          const tagged = [...doc.deco.values()].some((ds) => ds.some((d) => 'tag' in d))
          if (
            intended.unjudged !== undefined ||
            intended.refused !== undefined ||
            !parsed ||
            hasRaw(doc.value) ||
            tagged
          )
            return
          if (parsed.errors.length > 0) return // a verbatim token the yaml library reads otherwise: judged by go-yaml rules
          const back = flattenLeaves(parsed.toJS({ maxAliasCount: -1 }) as JsonValue)
          expect(
            firstDifference(back as unknown as JsonValue, intended.leaves as unknown as JsonValue),
          ).toBeUndefined()
        })
      }),
      { numRuns: 100, seed: 8 },
    )
  })

  it('keeps each document on its own lines', () => {
    fc.assert(
      fc.property(familyArbitrary('structural'), (recipe) => {
        const m = materializeRecipe(recipe, bases)
        const written = writeDocs(m.docs, { ...recipe.render, bom: 'none', crlf: false })
        const lines = written.text.split('\n')
        written.docs.forEach((d, i) => {
          if (i > 0) expect(lines[d.firstLine - 2]).toBe('---')
          expect(d.lastLine).toBeGreaterThanOrEqual(d.firstLine)
        })
      }),
      { numRuns: 40, seed: 9 },
    )
  })
})
