/**
 * String checks from k8s.io/apimachinery/pkg/util/validation (and api/validate/content), with their
 * messages copied verbatim: each returns the list of problems, empty when the value is valid.
 */

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?'
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`
const dns1123LabelErrMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
const dns1123SubdomainErrMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`)
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`)

const labelKeyFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'
const labelKeyErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
const labelKeyRe = new RegExp(`^${labelKeyFmt}$`)
const labelValueFmt = `(${labelKeyFmt})?`
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
const labelValueRe = new RegExp(`^${labelValueFmt}$`)

/** Builds apimachinery's RegexError text; Go's loop leaves two spaces before each ' or ' (kept verbatim). */
export function regexError(msg: string, re: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${re}')`
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${re}')`
}

/** Builds apimachinery's MaxLenError text. */
export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`
}

/** Returns the UTF-8 byte length of a string (Go's len()), without encoding it. */
export function byteLength(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4 // a surrogate pair is one 4-byte code point
        i++
      } else n += 3 // a lone surrogate encodes as U+FFFD (3 bytes), as TextEncoder does
    } else n += 3
  }
  return n
}

/** Checks a DNS (RFC 1123) label: namespace names, container names. */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = []
  if (byteLength(value) > 63) errs.push(maxLenError(63))
  if (!dns1123LabelRe.test(value)) {
    if (dns1123SubdomainRe.test(value)) errs.push('must not contain dots')
    else errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, 'my-name', '123-abc'))
  }
  return errs
}

/** Checks a DNS (RFC 1123) subdomain: most object names. */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = []
  if (byteLength(value) > 253) errs.push(maxLenError(253))
  if (!dns1123SubdomainRe.test(value))
    errs.push(regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, 'example.com'))
  return errs
}

/** Checks a qualified name (label key, annotation key, selector key): [prefix/]name. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = []
  const parts = value.split('/')
  let name: string
  if (parts.length === 1) {
    name = parts[0] as string
  } else if (parts.length === 2) {
    const prefix = parts[0] as string
    name = parts[1] as string
    if (prefix.length === 0) errs.push('prefix part must be non-empty')
    else for (const m of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${m}`)
  } else {
    return [
      `a valid label key ${regexError(labelKeyErrMsg, labelKeyFmt, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ]
  }
  if (name.length === 0) errs.push('name part must be non-empty')
  else if (byteLength(name) > 63) errs.push(`name part ${maxLenError(63)}`)
  if (!labelKeyRe.test(name))
    errs.push(`name part ${regexError(labelKeyErrMsg, labelKeyFmt, 'MyName', 'my.name', '123-abc')}`)
  return errs
}

/** Checks a label value (may be empty). */
export function isValidLabelValue(value: string): string[] {
  const errs: string[] = []
  if (byteLength(value) > 63) errs.push(maxLenError(63))
  if (!labelValueRe.test(value))
    errs.push(regexError(labelValueErrMsg, labelValueFmt, 'MyValue', 'my_value', '12345'))
  return errs
}

/** Checks a port number: 1..65535. */
export function isValidPortNum(port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive']
}

/** Checks a port name (IANA_SVC_NAME, RFC 6335, lower case only). */
export function isValidPortName(port: string): string[] {
  const errs: string[] = []
  if (byteLength(port) > 15) errs.push(maxLenError(15))
  if (!/^[-a-z0-9]+$/.test(port))
    errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)')
  if (port.includes('--')) errs.push('must not contain consecutive hyphens')
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-')))
    errs.push('must not begin or end with a hyphen')
  return errs
}

/** NameIsDNSSubdomain: for generateName (prefix) a trailing '-' is allowed. */
export function nameIsDNSSubdomain(name: string, prefix: boolean): string[] {
  return isDNS1123Subdomain(prefix && name.endsWith('-') ? `${name}a` : name)
}

/** NameIsDNSLabel: for generateName (prefix) a trailing '-' is allowed. */
export function nameIsDNSLabel(name: string, prefix: boolean): string[] {
  return isDNS1123Label(prefix && name.endsWith('-') ? `${name}a` : name)
}

const isDigitAt = (s: string, i: number): boolean =>
  i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57
const digitAt = (s: string, i: number): number => s.charCodeAt(i) - 48

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/**
 * Whether Go's time.Parse(time.RFC3339, s) accepts s: what metav1.Time.UnmarshalJSON asks of every
 * timestamp (creationTimestamp, status times). Go tries a strict fast path, then its general layout
 * parser, which is a little looser: a one-digit hour, a comma before the fraction of a second, and an
 * offset of up to 24:60 are accepted there, so they are accepted here. The date must exist (no 30
 * February); the year is four digits, the other fields two.
 */
export function isGoRFC3339Time(s: string): boolean {
  // stdLongYear: four characters starting with a digit, then atoi
  const yearText = s.slice(0, 4)
  if (!/^[0-9]{4}$/.test(yearText)) return false
  const year = Number(yearText)
  let i = 4
  const two = (): number | undefined => {
    if (!isDigitAt(s, i) || !isDigitAt(s, i + 1)) return undefined
    const v = digitAt(s, i) * 10 + digitAt(s, i + 1)
    i += 2
    return v
  }
  const lit = (c: string): boolean => {
    if (s[i] !== c) return false
    i++
    return true
  }
  if (!lit('-')) return false
  const month = two()
  if (month === undefined || month < 1 || month > 12 || !lit('-')) return false
  const day = two()
  if (day === undefined || !lit('T')) return false
  // stdHour: one or two digits
  if (!isDigitAt(s, i)) return false
  let hour = digitAt(s, i++)
  if (isDigitAt(s, i)) hour = hour * 10 + digitAt(s, i++)
  if (hour > 23 || !lit(':')) return false
  const minute = two()
  if (minute === undefined || minute > 59 || !lit(':')) return false
  const second = two()
  if (second === undefined || second > 59) return false
  if ((s[i] === '.' || s[i] === ',') && isDigitAt(s, i + 1)) {
    i += 2
    while (isDigitAt(s, i)) i++
  }
  if (s[i] === 'Z') i++
  else {
    if (s[i] !== '+' && s[i] !== '-') return false
    i++
    const hh = two()
    if (hh === undefined || hh > 24 || !lit(':')) return false
    const mm = two()
    if (mm === undefined || mm > 60) return false
  }
  if (i !== s.length) return false
  return day >= 1 && day <= daysIn(month, year)
}

/** Go's strings.TrimSpace: unicode.IsSpace at both ends (unlike String.prototype.trim, U+FEFF stays). */
const GO_SPACE_EDGES =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g

const QUANTITY_SUFFIXES: ReadonlySet<string> = new Set([
  '',
  'Ki',
  'Mi',
  'Gi',
  'Ti',
  'Pi',
  'Ei',
  'n',
  'u',
  'm',
  'k',
  'M',
  'G',
  'T',
  'P',
  'E',
])

/** The message of resource.ErrFormatWrong. */
export const QUANTITY_FORMAT_MESSAGE =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

/**
 * Whether resource.ParseQuantity accepts the string Quantity.UnmarshalJSON hands it (trimmed of spaces):
 * parseQuantityString's steps (sign, leading zeros, digits, an optional fraction, suffix characters,
 * an optional signed exponent to the end), then the suffixer: binary (Ki..Ei), decimal (n..E) or an
 * exponent whose digits fit an int64. Go takes "+", "." and "Gi" as zero; so does this.
 */
export function isParsableQuantity(text: string): boolean {
  const s = text.replace(GO_SPACE_EDGES, '')
  if (s === '') return false
  const end = s.length
  let pos = 0
  if (s[0] === '-' || s[0] === '+') pos++
  while (pos < end && s[pos] === '0') pos++
  if (pos >= end) return true
  while (isDigitAt(s, pos)) pos++
  if (pos >= end) return true
  if (s[pos] === '.') {
    pos++
    while (isDigitAt(s, pos)) pos++
    if (pos >= end) return true
  }
  const suffixStart = pos
  while (pos < end && 'eEinumkKMGTP'.includes(s[pos] as string)) pos++
  if (pos < end) {
    if (s[pos] === '-' || s[pos] === '+') pos++
    while (isDigitAt(s, pos)) pos++
    if (pos < end) return false
  }
  const suffix = s.slice(suffixStart)
  if (QUANTITY_SUFFIXES.has(suffix)) return true
  if (!/^[eE][+-]?[0-9]+$/.test(suffix)) return false
  // strconv.ParseInt(suffix[1:], 10, 64)
  const exponent = BigInt(suffix.slice(1))
  return exponent >= -(2n ** 63n) && exponent < 2n ** 63n
}
