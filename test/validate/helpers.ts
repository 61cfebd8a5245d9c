/** Test inputs for src/validate: YAML text -> RawObject with real line numbers (no src/load dependency). */
import { LineCounter, parseAllDocuments } from 'yaml'
import type { FieldPath, JsonObject, RawObject, SourceRef } from '../../src/model/index.js'

/** Parses every document of a YAML text into a RawObject whose locate() returns the field's line. */
export function rawFromYaml(text: string, file = 'test.yaml'): RawObject[] {
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: false })
  if (!Array.isArray(docs)) throw new Error('empty YAML')
  return docs.map((doc, index) => {
    const at = (offset: number): SourceRef => {
      const pos = lineCounter.linePos(offset)
      return { file, line: pos.line, column: pos.col, doc: index }
    }
    const source = at(doc.contents?.range?.[0] ?? 0)
    const locate = (path: FieldPath): SourceRef => {
      for (let n = path.length; n > 0; n--) {
        const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined
        if (node && typeof node === 'object' && node.range) return at(node.range[0])
      }
      return source
    }
    return { value: doc.toJS() as JsonObject, source, locate }
  })
}

/** The single object of a one-document YAML text. */
export function one(text: string): RawObject {
  const [raw] = rawFromYaml(text)
  if (!raw) throw new Error('no document')
  return raw
}
