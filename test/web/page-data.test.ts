/** Page data: YAML excerpts cut at the object's bounds, and inline JSON that no </script> can end. */
import { describe, expect, it } from 'vitest'
import { excerptAt, pageDataJSON } from '../../src/web/page-data.js'

describe('excerptAt', () => {
  const doc = ['apiVersion: v1', 'kind: A', 'spec:', '  x: 1', '', '---', 'apiVersion: v1', 'kind: B']
  const list = [
    'apiVersion: v1',
    'kind: List',
    'items:',
    '- apiVersion: v1',
    '  kind: A',
    '  spec:',
    '    x: 1',
    '- apiVersion: v1',
    '  kind: B',
  ]
  it.each([
    { name: 'a document ends at ---, trailing blank lines dropped', lines: doc, line: 1, start: 1, count: 4 },
    { name: 'the last document ends at the end', lines: doc, line: 7, start: 7, count: 2 },
    { name: 'a list item ends at the next item', lines: list, line: 4, start: 4, count: 4 },
    { name: 'the last list item ends at the end', lines: list, line: 8, start: 8, count: 2 },
  ])('$name', ({ lines, line, start, count }) => {
    const e = excerptAt(lines, 'f.yaml', line)
    expect(e.start).toBe(start)
    expect(e.lines).toHaveLength(count)
  })
})

describe('pageDataJSON', () => {
  it('escapes < so that a value cannot close the script element', () => {
    const json = pageDataJSON({ title: '</script><script>alert(1)</script>' } as never)
    expect(json).not.toContain('</script')
    expect(JSON.parse(json).title).toBe('</script><script>alert(1)</script>')
  })
})
