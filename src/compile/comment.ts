/**
 * Text that goes into a ruleset comment: one function for every backend, so that no manifest or flag
 * string can end a comment early. A newline in a `#` line of an `nft -f` or `iptables-restore` file starts
 * a new statement (`--node $'n1\nflush ruleset\n#'` flushed every table), and a quote ends a quoted
 * comment; both are taken out here, by construction, whatever the caller passes.
 */

/** Comments are this long at most (nft and iptables keep 255 bytes; shorter reads better). */
export const COMMENT_MAX = 120

/** Node names: an RFC 1123 subdomain, as the API server requires of a Node's metadata.name. */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/**
 * Returns text fit for a line comment (`# ...`): one line of printable ASCII. Runs of line breaks and
 * other white space become one space; every other control or non-ASCII character becomes `?`. Printable
 * ASCII passes unchanged, so the comments of valid objects read as they always did.
 */
export function commentLine(text: string): string {
  return text.replace(/[\t\n\v\f\r\u0085\u2028\u2029]+/g, ' ').replace(/[^\x20-\x7e]/gu, '?')
}

/** Printable ASCII without quotes and backslashes: what commentText leaves as it is (but for the length). */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/**
 * Returns text fit for a quoted comment (`comment "..."`, `--comment "..."`): commentLine, with quotes
 * and backslashes turned into `quote` (default `'`), cut to `max` characters (ending in `...`).
 */
export function commentText(text: string, max = COMMENT_MAX, quote = "'"): string {
  // most comments are printable ASCII without quotes or backslashes already: one test, no rewrite
  let t = PLAIN.test(text) ? text : commentLine(text.replace(/["\\]/g, quote))
  if (t.length > max) t = `${t.slice(0, max - 3)}...`
  return t
}

/**
 * Returns the API server's complaint about a node name (a Node's metadata.name is an RFC 1123 subdomain),
 * or undefined when it is valid.
 */
export function nodeNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a node name must not be empty'
  if (name.length > 253) return 'a node name must be no more than 253 characters'
  if (!DNS1123_SUBDOMAIN.test(name))
    return `${JSON.stringify(name)} is not a valid node name: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`
  return undefined
}
