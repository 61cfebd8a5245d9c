/**
 * Deterministic, bounded, collision-free identifiers for IR sets and chains.
 * Ids match /^[a-z][a-z0-9_-]*$/ and are at most IR_NAME_MAX characters. A readable slug is kept; a
 * hash of the full key is appended whenever the slug had to be altered (characters replaced or cut),
 * so two different keys never share a name silently.
 */
import { IR_NAME_MAX } from './ir.js'

/** Returns the FNV-1a 32-bit hash of a string as 8 hex digits (pure, stable across runs). */
export function hash8(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, '0')
}

/** Returns true when a string is a valid IR id (and thus a valid nftables identifier). */
export function isValidId(id: string): boolean {
  return id.length <= IR_NAME_MAX && /^[a-z][a-z0-9_-]*$/.test(id)
}

/** Hands out unique ids: the same key always gets the same id, two keys never share one. */
export interface NameRegistry {
  /**
   * Returns the id for `key`, built as prefix + slug(readable) + suffix. prefix and suffix must be
   * valid id characters and short (a few characters); prefix must start with a letter. The hash
   * appended to altered slugs is taken from hashKey (default key), so ids of sibling objects (the
   * IPv4 and IPv6 sets of one peer) can share it.
   */
  readonly name: (key: string, prefix: string, readable: string, suffix?: string, hashKey?: string) => string
  /** How the id of each key asked for was formed (a later registry reuses the forms: createNameRegistry). */
  readonly forms: ReadonlyMap<string, NameForm>
}

/** The id a key gets when no other key took it first, and what it was made from. */
export interface NameForm {
  readonly prefix: string
  readonly readable: string
  readonly suffix: string
  readonly hashKey: string
  readonly slug: string
  readonly id: string
}

/** A text the slug rewrites leave as it is: [a-z0-9_-], no `__`, no `_` first or last. */
const SLUG = /^(?!_)(?!.*__)[a-z0-9_-]*(?<!_)$/

/** Returns the id of a key made of these parts, with `extra` before the suffix when hashed. */
function hashedId(f: Omit<NameForm, 'id'>, extra: string): string {
  const room = IR_NAME_MAX - f.prefix.length - f.suffix.length
  return `${f.prefix}${f.slug.slice(0, Math.max(0, room - 9 - extra.length))}_${hash8(f.hashKey)}${extra}${f.suffix}`
}

function formOf(prefix: string, readable: string, suffix: string, hashKey: string): NameForm {
  // most readable forms are slugs already (one test instead of four rewrites: thousands per node)
  const slug = SLUG.test(readable)
    ? readable
    : readable
        .toLowerCase()
        .replace(/[^a-z0-9_-]+/g, '_')
        .replace(/__+/g, '_')
        .replace(/^_|_$/g, '')
  const room = IR_NAME_MAX - prefix.length - suffix.length
  const parts = { prefix, readable, suffix, hashKey, slug }
  const id = slug === readable && slug.length <= room ? `${prefix}${slug}${suffix}` : hashedId(parts, '')
  return { ...parts, id }
}

/**
 * Creates an empty registry (one per IR build). `previous` (the registry of the last build) only saves
 * work: the form of a key asked for with the same parts is taken from it; ids are as without it.
 */
export function createNameRegistry(previous?: NameRegistry): NameRegistry {
  const byKey = new Map<string, string>()
  const taken = new Set<string>()
  const forms = new Map<string, NameForm>()
  const before = previous?.forms
  return {
    forms,
    name(key, prefix, readable, suffix = '', hashKey = key) {
      const known = byKey.get(key)
      if (known !== undefined) return known
      let form = before?.get(key)
      if (
        form === undefined ||
        form.prefix !== prefix ||
        form.readable !== readable ||
        form.suffix !== suffix ||
        form.hashKey !== hashKey
      )
        form = formOf(prefix, readable, suffix, hashKey)
      forms.set(key, form)
      let id = form.id
      // Two keys whose readable forms collide: disambiguate by the hash, then by a counter.
      if (taken.has(id)) id = hashedId(form, '')
      for (let n = 2; taken.has(id); n++) id = hashedId(form, `_${n}`)
      byKey.set(key, id)
      taken.add(id)
      return id
    },
  }
}
