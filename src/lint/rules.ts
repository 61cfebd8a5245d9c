/** The lint checks: stable ids, default severity and one line of documentation, from the catalogue of codes. */
import { type CodeInfo, type LintCode, listCodes } from '../model/index.js'

export interface LintRule extends CodeInfo {
  readonly id: LintCode
}

/** Every lint check, sorted by id (the `lint.*` part of src/model/catalogue.ts). */
export const LINT_RULES: readonly LintRule[] = listCodes()
  .filter((c) => c.area === 'lint')
  .map((c) => ({ ...c, id: c.code as LintCode }))
  .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

/** Returns the documentation of a lint rule by id. */
export function lintRule(id: string): LintRule | undefined {
  return LINT_RULES.find((r) => r.id === id)
}
