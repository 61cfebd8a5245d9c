/**
 * go-yaml's scanner, followed closely enough to know, at every line, what go-yaml (the reader of
 * kubectl, through sigs.k8s.io/yaml: go.yaml.in/yaml/v2, scannerc.go) is in the middle of: a flow
 * collection, a quoted scalar, a plain or block scalar, or block structure. Two uses, on the exact path:
 *
 * - Where go-yaml is more lenient than the yaml library, the text is re-indented so that the library
 *   reads the same data. go-yaml checks no indentation inside flow collections and quoted scalars, and
 *   skips tabs in flow context (`args: [` ... a line at the key's column or starting with a tab ... `]`,
 *   `owner: '{` ... `}'` closing at the key's column). Only leading white space of such lines changes,
 *   which neither reader counts in the value (line folding drops it); offsets are mapped back.
 * - Where go-yaml refuses what the yaml library would read, the first such place is reported in
 *   go-yaml's words: a tab where go-yaml expects a token (`key:<TAB>value`, `-<TAB>item`, a line of
 *   white space starting with a tab), a tab in the indentation of a plain or block scalar, `?` inside a
 *   plain scalar in a flow collection, a document marker inside a quoted scalar, and NEL, LS, PS and
 *   lone CR characters (line breaks for go-yaml, not for the yaml library).
 *
 * Whatever it does not follow (directives, odd tokens, unbalanced brackets), it leaves to the yaml
 * library: the text unchanged, nothing reported. Pure and linear.
 */

/** What the yaml library should read, and what go-yaml would refuse. */
export interface GoYamlScan {
  /** The text for the yaml library: the input, or a copy with some lines re-indented. */
  readonly text: string
  /** Maps an offset in text back to the input. */
  readonly toInput: (offset: number) => number
  /** The first place go-yaml refuses (when the yaml library might not). */
  readonly refusal?: { readonly offset: number; readonly message: string }
}

const identity = (n: number): number => n

/** Stops the scan: the yaml library decides alone. */
const BAIL: unique symbol = Symbol('bail')

class Refusal {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

/** A line that starts inside a flow collection or a quoted scalar, and the indentation the yaml library needs there. */
interface FlowLine {
  readonly start: number
  readonly need: number
}

/** Scans one document chunk as go-yaml would; see the module comment. */
export function scanGoYaml(input: string): GoYamlScan {
  const odd = input.search(/[\u0085\u2028\u2029]|\r(?!\n)/)
  if (odd >= 0) {
    const code = input.charCodeAt(odd).toString(16).toUpperCase().padStart(4, '0')
    const name = code === '000D' ? 'a CR not followed by LF' : `U+${code}`
    const escapeText = code === '000D' ? '\\r' : `\\u${code}`
    return {
      text: input,
      toInput: identity,
      refusal: {
        offset: odd,
        message: `${name} is a line break for kubectl's YAML reader and not for the yaml library: not read (write ${escapeText} in a double-quoted string)`,
      },
    }
  }
  let lines: readonly FlowLine[]
  try {
    lines = new Scanner(input).run()
  } catch (e) {
    if (e instanceof Refusal) return { text: input, toInput: identity, refusal: e }
    if (e === BAIL || e instanceof RangeError) return { text: input, toInput: identity }
    throw e
  }
  return reindent(input, lines)
}

/** Rewrites the leading white space of the lines that need it; returns the offset map. */
function reindent(input: string, lines: readonly FlowLine[]): GoYamlScan {
  let out = ''
  let from = 0
  // Edits in the output: where the rewritten white space starts and ends, and the input's.
  const edits: { outStart: number; outEnd: number; inStart: number; inEnd: number }[] = []
  for (const { start, need } of lines) {
    let end = start
    let tab = false
    while (end < input.length && (input[end] === ' ' || input[end] === '\t')) {
      if (input[end] === '\t') tab = true
      end++
    }
    const width = end - start
    const blank = end >= input.length || input[end] === '\n' || input[end] === '\r'
    let replacement: string | undefined
    if (blank) replacement = width > 0 ? '' : undefined
    else if (tab || width < need) replacement = ' '.repeat(Math.max(need, width))
    if (replacement === undefined) continue
    out += input.slice(from, start)
    edits.push({ outStart: out.length, outEnd: out.length + replacement.length, inStart: start, inEnd: end })
    out += replacement
    from = end
  }
  if (edits.length === 0) return { text: input, toInput: identity }
  out += input.slice(from)
  const toInput = (offset: number): number => {
    let lo = 0
    let hi = edits.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if ((edits[mid] as (typeof edits)[number]).outStart <= offset) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    if (found < 0) return offset
    const e = edits[found] as (typeof edits)[number]
    if (offset < e.outEnd) return Math.min(e.inStart + (offset - e.outStart), e.inEnd)
    return offset - e.outEnd + e.inEnd
  }
  return { text: out, toInput }
}

const isBreak = (c: string | undefined): boolean => c === '\n' || c === '\r'
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t'
const isBlankz = (c: string | undefined): boolean => c === undefined || isBlank(c) || isBreak(c)
/** Characters after which a plain scalar cannot start (fetch_next_token's list). */
const NOT_PLAIN = '-?:,[]{}#&*!|>\'"%@`'

/** The parts of yaml_parser_t that decide contexts and indentation. */
class Scanner {
  private pos = 0
  private lineStart = 0
  private indent = -1
  private readonly indents: number[] = []
  /** Open flow collections, innermost last. */
  private readonly flows: string[] = []
  private simpleKeyAllowed = true
  /** The possible simple key of the block context: where it starts, and its line. */
  private keyAt = -1
  private keyLine = -1
  private inQuoted = false
  private readonly lines: FlowLine[] = []

  constructor(private readonly text: string) {}

  private get col(): number {
    return this.pos - this.lineStart
  }

  private at(offset = 0): string | undefined {
    return this.text[this.pos + offset]
  }

  run(): readonly FlowLine[] {
    for (;;) {
      this.skipToToken()
      if (this.pos >= this.text.length) return this.lines
      if (this.flows.length === 0) this.unroll(this.col)
      this.token()
    }
  }

  /** Consumes one line break; a line starting inside a flow collection or quoted scalar is noted. */
  private lineBreak(): void {
    this.pos += this.at() === '\r' && this.at(1) === '\n' ? 2 : 1
    this.lineStart = this.pos
    if (this.flows.length > 0 || this.inQuoted) this.lines.push({ start: this.pos, need: this.indent + 1 })
  }

  /** yaml_parser_scan_to_next_token: spaces, tabs where allowed, comments, line breaks. */
  private skipToToken(): void {
    for (;;) {
      if (this.col === 0 && this.at() === '\ufeff') this.pos++
      while (this.at() === ' ' || ((this.flows.length > 0 || !this.simpleKeyAllowed) && this.at() === '\t'))
        this.pos++
      if (this.at() === '#') while (this.pos < this.text.length && !isBreak(this.at())) this.pos++
      if (!isBreak(this.at())) return
      this.lineBreak()
      if (this.flows.length === 0) this.simpleKeyAllowed = true
    }
  }

  private unroll(column: number): void {
    while (this.indent > column) this.indent = this.indents.pop() ?? -1
  }

  private roll(column: number): void {
    if (this.indent < column) {
      this.indents.push(this.indent)
      this.indent = column
    }
  }

  private saveKey(): void {
    if (this.flows.length === 0 && this.simpleKeyAllowed) {
      this.keyAt = this.pos
      this.keyLine = this.lineStart
    }
  }

  private isDocumentIndicator(): boolean {
    if (this.col !== 0) return false
    const three = this.text.slice(this.pos, this.pos + 3)
    return (three === '---' || three === '...') && isBlankz(this.at(3))
  }

  /** yaml_parser_fetch_next_token, for the token at pos. */
  private token(): void {
    const c = this.at() as string
    const next = this.at(1)
    const flow = this.flows.length > 0
    if (this.col === 0 && c === '%') throw BAIL // a directive
    if (this.isDocumentIndicator()) {
      if (flow) throw BAIL
      this.unroll(-1)
      this.keyAt = -1
      this.simpleKeyAllowed = false
      this.pos += 3
      return
    }
    if (c === '[' || c === '{') {
      this.saveKey()
      this.flows.push(c)
      this.simpleKeyAllowed = true
      this.pos++
    } else if (c === ']' || c === '}') {
      if (!flow) throw BAIL
      this.flows.pop()
      this.simpleKeyAllowed = false
      this.pos++
    } else if (c === ',') {
      this.simpleKeyAllowed = true
      this.pos++
    } else if (c === '-' && isBlankz(next)) {
      if (flow) throw BAIL
      this.roll(this.col)
      this.simpleKeyAllowed = true
      this.pos++
    } else if (c === '?' && (flow || isBlankz(next))) {
      if (!flow) this.roll(this.col)
      this.simpleKeyAllowed = !flow
      this.pos++
    } else if (c === ':' && (flow || isBlankz(next))) {
      if (!flow) {
        // A simple key on this line, at most 1024 characters back, opens a mapping at its column.
        if (this.keyAt >= 0 && this.keyLine === this.lineStart && this.pos - this.keyAt <= 1024)
          this.roll(this.keyAt - this.lineStart)
        else this.roll(this.col)
      }
      this.keyAt = -1
      this.simpleKeyAllowed = !flow
      this.pos++
    } else if (c === '*' || c === '&') {
      // yaml_parser_scan_anchor: a name of [0-9A-Za-z_-], then a blank or one of ?:,]}%@`.
      this.saveKey()
      const start = ++this.pos
      while (this.pos < this.text.length && /[0-9A-Za-z_-]/.test(this.at() as string)) this.pos++
      if (this.pos === start || !(isBlankz(this.at()) || '?:,]}%@`'.includes(this.at() as string)))
        throw new Refusal(this.pos, 'did not find expected alphabetic or numeric character')
      this.simpleKeyAllowed = false
    } else if (c === '!') {
      this.saveKey()
      while (!isBlankz(this.at())) this.pos++
      this.simpleKeyAllowed = false
    } else if ((c === '|' || c === '>') && !flow) {
      this.keyAt = -1
      this.blockScalar()
      this.simpleKeyAllowed = true
    } else if (c === "'" || c === '"') {
      this.saveKey()
      this.quoted(c === "'")
      this.simpleKeyAllowed = false
    } else if (
      !(isBlankz(c) || NOT_PLAIN.includes(c)) ||
      (c === '-' && !isBlank(next)) ||
      (!flow && (c === '?' || c === ':') && !isBlankz(next))
    ) {
      this.saveKey()
      this.plain()
    } else if (c === '\t') {
      throw new Refusal(this.pos, 'found character that cannot start any token')
    } else throw BAIL
  }

  /** yaml_parser_scan_plain_scalar. */
  private plain(): void {
    const limit = this.indent + 1
    let leadingBlanks = false
    for (;;) {
      if (this.isDocumentIndicator() || this.at() === '#') break
      while (!isBlankz(this.at())) {
        const c = this.at() as string
        if (c === ':' && isBlankz(this.at(1))) break
        if (this.flows.length > 0 && ',?[]{}'.includes(c)) {
          if (c === '?') {
            const close = this.flows[this.flows.length - 1] === '[' ? ']' : '}'
            throw new Refusal(this.pos, `did not find expected ',' or '${close}'`)
          }
          break
        }
        leadingBlanks = false
        this.pos++
      }
      if (!(isBlank(this.at()) || isBreak(this.at()))) break
      while (isBlank(this.at()) || isBreak(this.at())) {
        if (isBlank(this.at())) {
          if (leadingBlanks && this.col < limit && this.at() === '\t')
            throw new Refusal(this.pos, 'found a tab character that violates indentation')
          this.pos++
        } else {
          this.lineBreak()
          leadingBlanks = true
        }
      }
      if (this.flows.length === 0 && this.col < limit) break
    }
    this.simpleKeyAllowed = leadingBlanks
  }

  /** yaml_parser_scan_flow_scalar: only where it ends and which lines it spans. */
  private quoted(single: boolean): void {
    this.pos++
    this.inQuoted = true
    for (;;) {
      if (this.isDocumentIndicator()) throw new Refusal(this.pos, 'found unexpected document indicator')
      if (this.pos >= this.text.length) throw BAIL // no closing quote: the yaml library says so
      while (!isBlankz(this.at())) {
        const c = this.at()
        if (single && c === "'" && this.at(1) === "'") this.pos += 2
        else if ((single && c === "'") || (!single && c === '"')) break
        else if (!single && c === '\\' && isBreak(this.at(1))) {
          this.pos++
          this.lineBreak()
          // go-yaml keeps the empty lines after an escaped line break as newlines; js-yaml and the yaml
          // library do not: refused rather than read differently.
          let i = this.pos
          while (isBlank(this.text[i])) i++
          if (isBreak(this.text[i]))
            throw new Refusal(
              this.pos,
              'an escaped line break followed by an empty line in a double-quoted scalar: Palisade cannot read it as kubectl does (write \\n)',
            )
          break
        } else if (!single && c === '\\') {
          const e = this.at(1)
          const length = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0
          if (e === undefined) throw BAIL
          this.pos += 2 + length
        } else this.pos++
      }
      if (this.at() === (single ? "'" : '"')) {
        this.pos++
        break
      }
      while (isBlank(this.at()) || isBreak(this.at())) {
        if (isBlank(this.at())) this.pos++
        else this.lineBreak()
      }
    }
    this.inQuoted = false
  }

  /** yaml_parser_scan_block_scalar: the header, then the lines indented as its content. */
  private blockScalar(): void {
    this.pos++
    let increment = 0
    for (let k = 0; k < 2; k++) {
      const c = this.at()
      if (c === '+' || c === '-') this.pos++
      else if (c !== undefined && c >= '1' && c <= '9' && increment === 0) {
        increment = Number(c)
        this.pos++
      }
    }
    while (isBlank(this.at())) this.pos++
    if (this.at() === '#') while (this.pos < this.text.length && !isBreak(this.at())) this.pos++
    if (this.pos >= this.text.length) return
    if (!isBreak(this.at())) throw BAIL // go-yaml: did not find expected comment or line break
    this.lineBreak()
    let indent = increment > 0 ? (this.indent >= 0 ? this.indent + increment : increment) : 0
    indent = this.blockBreaks(indent)
    while (this.col === indent && this.pos < this.text.length) {
      while (this.pos < this.text.length && !isBreak(this.at())) this.pos++
      if (this.pos >= this.text.length) return
      this.lineBreak()
      this.blockBreaks(indent)
    }
  }

  /** yaml_parser_scan_block_scalar_breaks: empty lines and indentation; returns the content's indentation. */
  private blockBreaks(given: number): number {
    let maxIndent = 0
    for (;;) {
      while ((given === 0 || this.col < given) && this.at() === ' ') this.pos++
      if (this.col > maxIndent) maxIndent = this.col
      if ((given === 0 || this.col < given) && this.at() === '\t')
        throw new Refusal(this.pos, 'found a tab character where an indentation space is expected')
      if (!isBreak(this.at())) break
      this.lineBreak()
    }
    if (given !== 0) return given
    return Math.max(maxIndent, this.indent + 1, 1)
  }
}
