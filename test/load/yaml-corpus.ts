/**
 * YAML forms and what kubectl makes of each: the JSON document sigs.k8s.io/yaml hands to the API
 * machinery (go.yaml.in/yaml/v2 v2.4 reads the YAML, convertToJSONableObject turns keys into strings,
 * json.Marshal writes the values), or `{ error }` when kubectl refuses the document.
 *
 * Each entry says why: the go-yaml v2 source it follows (scannerc.go, resolve.go, decode.go and their
 * tests in decode_test.go), sigs.k8s.io/yaml's yaml.go, or a yaml-test-suite case id. Every reader must
 * give the kubectl value or decline (the fast readers); the exact path must give it, or the error.
 * A document here is one chunk (kubectl has split the file at `---` lines already).
 */
import type { JsonValue } from '../../src/model/index.js'

export interface CorpusEntry {
  readonly name: string
  readonly yaml: string
  /** The JSON kubectl decodes, or the error it stops with (a fragment of go-yaml's message). */
  readonly kubectl: JsonValue | { readonly error: string }
  readonly why: string
}

const T = '\t'

export const YAML_CORPUS: readonly CorpusEntry[] = [
  // Issue 17: forms go-yaml reads and the yaml library refuses.
  {
    name: 'a tab at the start of a line inside a multi-line flow sequence',
    yaml: `spec:\n  args: [\n${T}"--port",\n${T}"80"]\n`,
    kubectl: { spec: { args: ['--port', '80'] } },
    why: 'scannerc.go yaml_parser_scan_to_next_token: tabs are white space when flow_level > 0',
  },
  {
    name: 'tabs after spaces inside a flow mapping',
    yaml: `a: {b: 1,\n  ${T}c: 2}\n`,
    kubectl: { a: { b: 1, c: 2 } },
    why: 'scannerc.go yaml_parser_scan_to_next_token: tabs are white space when flow_level > 0',
  },
  {
    name: 'a flow sequence continued on a line indented less than its key',
    yaml: 'spec:\n  containers:\n  - name: web\n    args: ["--port",\n  "80"]\n',
    kubectl: { spec: { containers: [{ name: 'web', args: ['--port', '80'] }] } },
    why: 'scannerc.go: no indentation check inside flow collections (unroll_indent returns when flow_level > 0)',
  },
  {
    name: 'a flow sequence continued at column 0',
    yaml: 'spec:\n  args: [a,\nb,\n]\n',
    kubectl: { spec: { args: ['a', 'b'] } },
    why: 'scannerc.go: no indentation check inside flow collections; a trailing comma ends nothing (decode_test.go "seq: [A,B,C,]")',
  },
  {
    name: 'a flow mapping continued at its key column',
    yaml: 'a:\n  b: {x: 1,\n  z: 2}\n',
    kubectl: { a: { b: { x: 1, z: 2 } } },
    why: 'scannerc.go: no indentation check inside flow collections',
  },
  {
    name: 'a multi-line single-quoted scalar closing at its key column (JSON in an annotation)',
    yaml: 'metadata:\n  annotations:\n    owner: \'{\n      "team": "web"\n    }\'\n',
    kubectl: { metadata: { annotations: { owner: '{ "team": "web" }' } } },
    why: 'scannerc.go yaml_parser_scan_flow_scalar: no indentation check; line breaks fold to a space, leading blanks dropped',
  },
  {
    name: 'a multi-line double-quoted scalar continued at column 0',
    yaml: 'a:\n  b: "x\ny\n\nz"\n',
    kubectl: { a: { b: 'x y\nz' } },
    why: 'scannerc.go yaml_parser_scan_flow_scalar: one break folds to a space, an empty line to a newline',
  },
  {
    name: 'a quoted scalar whose continuation starts with a tab',
    yaml: `a: "x\n${T}y"\n`,
    kubectl: { a: 'x y' },
    why: 'scannerc.go yaml_parser_scan_flow_scalar: leading blanks (spaces or tabs) after a break are skipped',
  },
  {
    name: 'an escaped quote at the end of a line, the scalar continued at column 0 with a #',
    yaml: 'a:\n  - "\\"\n#y"\n',
    kubectl: { a: ['" #y'] },
    why: 'scannerc.go yaml_parser_scan_flow_scalar: \\" is a quote in the text, # on the next line is text; the yaml library alone ends the scalar there, silently',
  },
  {
    name: 'an escaped line break in a double-quoted scalar at column 0',
    yaml: 'a:\n  b: "x\\\ny"\n',
    kubectl: { a: { b: 'xy' } },
    why: 'scannerc.go yaml_parser_scan_flow_scalar: backslash-break joins the lines without a space',
  },
  {
    name: 'a multi-line quoted sequence item at the sequence column',
    yaml: "a:\n  - 'x\n  y'\n",
    kubectl: { a: ['x y'] },
    why: 'scannerc.go yaml_parser_scan_flow_scalar: no indentation check',
  },
  {
    name: 'a multi-line plain scalar inside a flow sequence, continued at column 0',
    yaml: 'a: [b\nc, d]\n',
    kubectl: { a: ['b c', 'd'] },
    why: 'scannerc.go yaml_parser_scan_plain_scalar: the indentation check applies only when flow_level == 0',
  },
  // yaml-test-suite cases where YAML 1.2 and go-yaml disagree: kubectl follows go-yaml.
  {
    name: 'yaml-test-suite 9C9N: a flow sequence continued at column 0 (an error in YAML 1.2)',
    yaml: 'flow: [a,\nb,\nc]\n',
    kubectl: { flow: ['a', 'b', 'c'] },
    why: 'yaml-test-suite 9C9N "Wrong indented flow sequence" (fail: true); scannerc.go checks no indentation in flow context',
  },
  {
    name: 'yaml-test-suite QB6E: a quoted scalar continued at column 0 (an error in YAML 1.2)',
    yaml: 'quoted: "a\nb\nc"\n',
    kubectl: { quoted: 'a b c' },
    why: 'yaml-test-suite QB6E "Wrong indented multiline quoted scalar" (fail: true); scannerc.go yaml_parser_scan_flow_scalar',
  },
  {
    name: 'yaml-test-suite DK95: tabs that look like indentation in a quoted scalar',
    yaml: `foo: "bar\n${T}${T}baz"\n`,
    kubectl: { foo: 'bar baz' },
    why: 'yaml-test-suite DK95; scannerc.go yaml_parser_scan_flow_scalar skips leading blanks, tabs included',
  },
  {
    name: 'yaml-test-suite Y79Y: a line holding only a tab inside a flow sequence',
    yaml: `a:\n- [\n${T}\n  foo\n  ]\n`,
    kubectl: { a: [['foo']] },
    why: 'yaml-test-suite Y79Y; scannerc.go yaml_parser_scan_to_next_token skips tabs when flow_level > 0',
  },
  {
    name: 'yaml-test-suite DC7X: a tab after a mapping colon with nothing after it (valid YAML 1.2)',
    yaml: `a: b${T}\nseq:${T}\n - a${T}\nc: d${T}#X\n`,
    kubectl: { error: 'found character that cannot start any token' },
    why: 'yaml-test-suite DC7X "Various trailing tabs" is valid YAML 1.2; go-yaml does not skip a tab after ":" in block context',
  },
  {
    name: 'yaml-test-suite J3BT: a tab between a key and a block scalar indicator (valid YAML 1.2)',
    yaml: `quoted: "Quoted ${T}"\nblock:${T}|\n  void main() {\n  ${T}printf("Hello, world!\\n");\n  }\n`,
    kubectl: { error: 'found character that cannot start any token' },
    why: 'yaml-test-suite J3BT (spec example 5.12); go-yaml refuses the tab after "block:"',
  },
  {
    name: 'yaml-test-suite 6CA3: a tab before a flow collection at the start of a line (valid YAML 1.2)',
    yaml: `${T}[\n${T}]\n`,
    kubectl: { error: 'found character that cannot start any token' },
    why: 'yaml-test-suite 6CA3 "Tab indented top flow"; in block context go-yaml does not skip a tab at the start of a line',
  },
  // Forms go-yaml refuses and the yaml library reads.
  {
    name: 'a tab after a mapping colon',
    yaml: `a:${T}b\n`,
    kubectl: { error: 'found character that cannot start any token' },
    why: 'scannerc.go yaml_parser_scan_to_next_token: tabs are not skipped in block context where a simple key is allowed (after ":")',
  },
  {
    name: 'a tab after a sequence dash',
    yaml: `a:\n-${T}b\n`,
    kubectl: { error: 'found character that cannot start any token' },
    why: 'scannerc.go yaml_parser_scan_to_next_token: not after "-" in block context',
  },
  {
    name: 'a line of white space starting with a tab between two keys',
    yaml: `a: 1\n${T}\nb: 2\n`,
    kubectl: { error: 'found a tab character that violates indentation' },
    why: 'scannerc.go yaml_parser_scan_plain_scalar: a tab after a line break below the indentation ends in an error',
  },
  {
    name: 'a tab line after a mapping value that is not a plain scalar',
    yaml: `a: "1"\n${T}\nb: 2\n`,
    kubectl: { error: 'found character that cannot start any token' },
    why: 'scannerc.go yaml_parser_scan_to_next_token: at the start of a block line a tab is not white space',
  },
  {
    name: 'a tab in the indentation of a block scalar',
    yaml: `a: |\n  x\n${T}y\n`,
    kubectl: { error: 'found a tab character where an indentation space is expected' },
    why: 'scannerc.go yaml_parser_scan_block_scalar_breaks',
  },
  {
    name: 'a question mark inside a plain scalar in a flow sequence',
    yaml: 'a: [http://x?y=1]\n',
    kubectl: { error: "did not find expected ',' or ']'" },
    why: 'scannerc.go yaml_parser_scan_plain_scalar stops at "?" when flow_level > 0; the parser then finds a KEY token',
  },
  {
    name: 'a document end marker inside a quoted scalar',
    yaml: 'a: "x\n...\n"\n',
    kubectl: { error: 'found unexpected document indicator' },
    why: 'scannerc.go yaml_parser_scan_flow_scalar',
  },
  {
    name: 'an anchor name followed by a quote',
    yaml: "a: &x'\nb: 1\n",
    kubectl: { error: 'did not find expected alphabetic or numeric character' },
    why: 'scannerc.go yaml_parser_scan_anchor: the name must end at a blank or one of ?:,]}%@`',
  },
  {
    name: 'an escaped line break followed by an empty line (refused: the libraries disagree)',
    yaml: 'a: "x\\\n\n  y"\n',
    kubectl: { error: 'escaped line break followed by an empty line' },
    why: 'go-yaml gives "x\\ny" (scannerc.go yaml_parser_scan_flow_scalar keeps trailing_breaks), js-yaml and the yaml library do not: a documented deviation',
  },
  {
    name: 'a NaN value',
    yaml: 'a: .nan\n',
    kubectl: { error: 'json: unsupported value: NaN' },
    why: 'resolve.go gives NaN; json.Marshal in sigs.k8s.io/yaml refuses it',
  },
  {
    name: 'an infinite value',
    yaml: 'a: -.Inf\n',
    kubectl: { error: 'json: unsupported value: -Inf' },
    why: 'resolve.go gives -Inf; json.Marshal refuses it',
  },
  {
    name: 'a null key',
    yaml: 'a: 1\n~: 2\n',
    kubectl: { error: 'unsupported map key of type: <nil>' },
    why: 'yaml.go convertToJSONableObject: a nil key is not a JSON key',
  },
  {
    name: 'a line separator character',
    yaml: 'a: "x\u2028y"\n',
    kubectl: { error: 'U+2028' },
    why: 'scannerc.go is_break: LS is a line break for go-yaml, not for the yaml library; Palisade refuses rather than guess (documented deviation)',
  },
  // Scalars (resolve.go).
  {
    name: 'YAML 1.1 booleans and nulls',
    yaml: 'a: yes\nb: Off\nc: y\nd: N\ne: ~\nf:\ng: NULL\nh: TRUE\n',
    kubectl: { a: true, b: false, c: true, d: false, e: null, f: null, g: null, h: true },
    why: 'resolve.go resolveMapList',
  },
  {
    name: 'words that are not in the map stay strings',
    yaml: 'a: yEs\nb: nULL\nc: Yes please\nd: tRUE\n',
    kubectl: { a: 'yEs', b: 'nULL', c: 'Yes please', d: 'tRUE' },
    why: 'resolve.go: hint M only looks the scalar up in resolveMap',
  },
  {
    name: 'no sexagesimal numbers',
    yaml: 'a: 1:20\nb: 190:20:30\nc: 1:1\n',
    kubectl: { a: '1:20', b: '190:20:30', c: '1:1' },
    why: 'resolve.go: "Base 60 floats ... are purposefully unsupported"; decode_test.go "a: 1:1"',
  },
  {
    name: 'integers in Go syntax',
    yaml: 'a: 0777\nb: 0o17\nc: 0x1F\nd: 0X1F\ne: 0b101\nf: 0B11\ng: +685_230\nh: 0x_0A_74_AE\ni: -0b101010\n',
    kubectl: { a: 511, b: 15, c: 31, d: 31, e: 5, f: 3, g: 685230, h: 685230, i: -42 },
    why: 'resolve.go: strconv.ParseInt(plain, 0, 64) after dropping "_" (decode_test.go ints from spec)',
  },
  {
    name: 'a leading zero that is no octal is a float',
    yaml: 'a: 08\nb: 09.5\nc: 0o8\n',
    kubectl: { a: 8, b: 9.5, c: '0o8' },
    why: 'resolve.go: ParseInt and ParseUint fail, yamlStyleFloat matches (08, 09.5); 0o8 matches nothing',
  },
  {
    name: 'floats in decimal form only',
    yaml: 'a: 1e3\nb: .5\nc: 5.\nd: 685.230_15e+03\ne: E5\nf: 1.5e-3\ng: 123456E1\n',
    kubectl: { a: 1000, b: 0.5, c: 5, d: 685230.15, e: 'E5', f: 0.0015, g: 1234560 },
    why: 'resolve.go yamlStyleFloat and the "." hint; "E" gives no hint (decode_test.go floats)',
  },
  {
    name: 'what is not a number stays a string',
    yaml: 'a: 1.2.3\nb: 10.0.0.0/8\nc: -x\nd: .\ne: 50cent_of_dollar\nf: -b_c\ng: 1e999\nh: .inf5\n',
    kubectl: {
      a: '1.2.3',
      b: '10.0.0.0/8',
      c: '-x',
      d: '.',
      e: '50cent_of_dollar',
      f: '-b_c',
      g: '1e999',
      h: '.inf5',
    },
    why: 'resolve.go: no parse succeeds (1e999 overflows: ParseFloat returns ErrRange)',
  },
  {
    name: 'timestamps stay strings',
    yaml: 'a: 2015-01-01\nb: 2001-12-14t21:59:43.10-05:00\nc: 2015-02-24 18:19:39\n',
    kubectl: { a: '2015-01-01', b: '2001-12-14t21:59:43.10-05:00', c: '2015-02-24 18:19:39' },
    why: 'decode.go: a timestamp decoded into interface{} stays a string (decode_test.go "a: 2015-01-01")',
  },
  {
    name: 'large integers',
    yaml: 'a: 4294967296\nb: 18446744073709551615\nc: -9223372036854775808\n',
    kubectl: { a: 4294967296, b: 2 ** 64 - 1, c: -(2 ** 63) },
    why: 'resolve.go: int64, then uint64 (decode_test.go); JSON numbers, which Palisade holds as doubles (2 ** 64 - 1 is the double nearest 18446744073709551615)',
  },
  {
    name: 'quoted scalars are strings',
    yaml: 'a: "yes"\nb: \'0777\'\nc: "1:20"\n',
    kubectl: { a: 'yes', b: '0777', c: '1:20' },
    why: 'resolve.go is only called for plain scalars',
  },
  {
    name: 'explicit !!int, !!float, !!bool, !!null and !!str tags resolve the text as a plain scalar',
    yaml: 'a: !!float 80\nb: !!float "80"\nc: !!float 80.5\nd: !!int 0x10\ne: !!int 0120\nf: !!bool yes\ng: !!null ~\nh: !!str 80\ni: !!int "80"\nj: !!float 1e3\nk: !<tag:yaml.org,2002:int> 7\n',
    kubectl: { a: 80, b: 80, c: 80.5, d: 16, e: 80, f: true, g: null, h: '80', i: 80, j: 1000, k: 7 },
    why: 'resolve.go resolve(tag, in): a resolvable tag resolves the text by the plain rules (quoted or not); !!float takes an int as a float; !!str keeps the text',
  },
  {
    name: 'an !!int tag on a word',
    yaml: 'a: !!int abc\n',
    kubectl: { error: 'cannot decode !!str `abc` as a !!int' },
    why: 'resolve.go resolve: the deferred check fails when the resolved tag is not the explicit one',
  },
  {
    name: 'an !!int tag on a fraction',
    yaml: 'a: !!int 80.5\n',
    kubectl: { error: 'cannot decode !!float `80.5` as a !!int' },
    why: 'resolve.go resolve: only !!float widens (an int); !!int never narrows a float',
  },
  {
    name: 'a !!bool tag on a number',
    yaml: 'a: !!bool 1\n',
    kubectl: { error: 'cannot decode !!int `1` as a !!bool' },
    why: 'resolve.go resolve: the deferred check',
  },
  {
    name: 'a !!null tag on a word',
    yaml: 'a: !!null x\n',
    kubectl: { error: 'cannot decode !!str `x` as a !!null' },
    why: 'resolve.go resolvableTag includes !!null; the deferred check',
  },
  {
    name: 'a merge key whose alias names a sequence of maps',
    yaml: 'a: &x\n  - {p: 1}\nb:\n  <<: *x\n  q: 2\n',
    kubectl: { error: 'map merge requires map or sequence of maps as the value' },
    why: 'decode.go merge: an alias must name a mapping (failWantMap); only a sequence written in place may hold maps',
  },
  {
    name: 'a !!binary scalar is its decoded bytes',
    yaml: 'a: !!binary aGVsbG8=\nb: !<tag:yaml.org,2002:binary> aGk=\nc: !!binary ""\n',
    kubectl: { a: 'hello', b: 'hi', c: '' },
    why: 'decode.go scalar: resolve keeps the !!binary text, then base64.StdEncoding.DecodeString and string(data)',
  },
  {
    name: 'a !!binary block scalar: line breaks in the base64 text are skipped',
    yaml: 'a: !!binary |\n  aGVs\n  bG8=\n',
    kubectl: { a: 'hello' },
    why: "decode.go scalar: Go's base64 decoder ignores \\r and \\n",
  },
  {
    name: 'a !!binary scalar whose bytes are not UTF-8: each bad byte becomes U+FFFD',
    yaml: 'a: !!binary /w==\nb: !!binary aOKC\n',
    kubectl: { a: '\ufffd', b: 'h\ufffd\ufffd' },
    why: 'decode.go scalar: string(data) keeps the bytes; json.Marshal (encode.go) writes \\ufffd for each byte utf8.DecodeRuneInString refuses',
  },
  {
    name: 'a !!binary scalar without its padding',
    yaml: 'a: !!binary aGVsbG8\n',
    kubectl: { error: '!!binary value contains invalid base64 data' },
    why: 'decode.go scalar: base64.StdEncoding requires the padding; failf',
  },
  {
    name: 'a !!binary scalar with a space inside',
    yaml: 'a: !!binary aGVs bG8=\n',
    kubectl: { error: '!!binary value contains invalid base64 data' },
    why: 'decode.go scalar: base64.StdEncoding skips only \\r and \\n',
  },
  // Keys (yaml.go convertToJSONableObject).
  {
    name: 'keys that resolve to booleans, integers and floats become strings',
    yaml: 'yes: a\n0x10: b\n1.5: c\n1e3: d\n0.1: e\n',
    kubectl: { true: 'a', 16: 'b', '1.5': 'c', '1000': 'd', '0.1': 'e' },
    why: 'yaml.go: strconv.Itoa for ints, FormatFloat(f, "g", -1, 32) for floats, "true"/"false"',
  },
  {
    name: 'the keys y and n are booleans, so "true" and "false"',
    yaml: 'a: {x: 1, y: 2}\nn: 3\n',
    kubectl: { a: { x: 1, true: 2 }, false: 3 },
    why: 'resolve.go resolveMapList has y, Y, n, N; yaml.go writes a bool key as "true"/"false"',
  },
  {
    name: 'a float key prints as a float32 in %g form',
    yaml: 'a:\n  1e6: x\n  3.14159265358: v\n  .inf: z\n',
    kubectl: { a: { '1e+06': 'x', '3.1415927': 'v', '.inf': 'z' } },
    why: 'yaml.go convertToJSONableObject: FormatFloat(typedKey, "g", -1, 32), +Inf -> ".inf"',
  },
  // Structure.
  {
    name: 'a sequence at its key column',
    yaml: 'a:\n- b: 1\n  c: x\n- d\n',
    kubectl: { a: [{ b: 1, c: 'x' }, 'd'] },
    why: 'parserc.go: an indentless sequence is the value of its key',
  },
  {
    name: 'flow collections on one line',
    yaml: 'a: [1, "x", {b: c}]\nd: {e: [], f: "g"}\n',
    kubectl: { a: [1, 'x', { b: 'c' }], d: { e: [], f: 'g' } },
    why: 'decode_test.go flow sequences and mappings',
  },
  {
    name: 'URLs in flow collections',
    yaml: 'a: {b: https://github.com/go-yaml/yaml}\nc: [https://github.com/go-yaml/yaml]\n',
    kubectl: { a: { b: 'https://github.com/go-yaml/yaml' }, c: ['https://github.com/go-yaml/yaml'] },
    why: 'decode_test.go: ":" not followed by a blank stays in a plain scalar',
  },
  {
    name: 'block scalars, literal and folded, with chomping',
    yaml: 'a: |\n  x\n  y\nb: >-\n  x\n  y\nc: |+\n  z\n\nd: 1\n',
    kubectl: { a: 'x\ny\n', b: 'x y', c: 'z\n\n', d: 1 },
    why: 'scannerc.go yaml_parser_scan_block_scalar',
  },
  {
    name: 'a literal block scalar with a comment header and a tab in its text',
    yaml: `scalar: | # Comment\n\n literal\n\n ${T}text\n\n`,
    kubectl: { scalar: '\nliteral\n\n\ttext\n' },
    why: 'decode_test.go "Literal block scalar"',
  },
  {
    name: 'a multi-line plain scalar',
    yaml: 'a: b\n  c\n\n  d\ne: f\n',
    kubectl: { a: 'b c\nd', e: 'f' },
    why: 'scannerc.go yaml_parser_scan_plain_scalar folding',
  },
  {
    name: 'a comment after a value and on its own line',
    yaml: 'a: 1 # one\n# note\nb: "x" # two\n',
    kubectl: { a: 1, b: 'x' },
    why: 'scannerc.go yaml_parser_scan_to_next_token eats comments',
  },
  {
    name: 'a tab before a trailing comment',
    yaml: `a: 1${T}# one\nb: "x"${T}\n`,
    kubectl: { a: 1, b: 'x' },
    why: 'scannerc.go: after a scalar no simple key is allowed, so tabs are white space',
  },
  {
    name: 'anchors, aliases and a merge key',
    yaml: 'base: &b {x: 1, z: 2}\nc:\n  <<: *b\n  z: 3\n',
    kubectl: { base: { x: 1, z: 2 }, c: { x: 1, z: 3 } },
    why: 'decode.go merge: keys of the mapping win over merged ones',
  },
  {
    name: 'an escape in a double-quoted scalar',
    yaml: 'a: "x\\ty\\u00e9\\x41"\n',
    kubectl: { a: 'x\tyéA' },
    why: 'scannerc.go yaml_parser_scan_flow_scalar escapes',
  },
  {
    name: 'an escaped quote in a single-quoted scalar',
    yaml: "a: 'it''s'\n",
    kubectl: { a: "it's" },
    why: 'scannerc.go yaml_parser_scan_flow_scalar',
  },
  {
    name: 'a JSON-like key followed directly by a colon in a flow mapping',
    yaml: 'a: {"b":1, "c":[2]}\n',
    kubectl: { a: { b: 1, c: [2] } },
    why: 'scannerc.go fetch_next_token: ":" is a value indicator whenever flow_level > 0',
  },
  {
    name: 'a key without a space before its flow value',
    yaml: 'a: {b:c}\n',
    kubectl: { a: { 'b:c': null } },
    why: 'scannerc.go yaml_parser_scan_plain_scalar: ":" ends a plain scalar only before a blank',
  },
  {
    name: 'a CRLF document',
    yaml: 'a: 1\r\nb:\r\n  - "x\r\n  y"\r\n',
    kubectl: { a: 1, b: ['x y'] },
    why: 'scannerc.go read_line: CR LF is one line break',
  },
  {
    name: 'indentation that goes back to a level that does not exist',
    yaml: 'a:\n    b: 1\n  c: 2\n',
    kubectl: { error: '' },
    why: 'parserc.go: "did not find expected key" (like yaml-test-suite DMG6)',
  },
  {
    name: 'a plain value followed by a nested mapping on the same line',
    yaml: 'a: b: c\n',
    kubectl: { error: '' },
    why: 'scannerc.go fetch_value: "mapping values are not allowed in this context" (like yaml-test-suite ZCZ6)',
  },
  {
    name: 'a quoted scalar that never closes',
    yaml: 'a: "x\nb: 1\n',
    kubectl: { error: '' },
    why: 'scannerc.go yaml_parser_scan_flow_scalar: "found unexpected end of stream"',
  },
  {
    name: 'a flow sequence that never closes',
    yaml: 'a: [x, y\nb: 1\n',
    kubectl: { error: '' },
    why: "parserc.go: \"did not find expected ',' or ']'\"",
  },
]
