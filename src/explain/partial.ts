/** The partial-input notice: what an answer did not see, said next to it (issue 17). Renders only. */
import type { Omissions } from '../load/index.js'
import type { SourceRef } from '../model/index.js'

/** What the notice speaks of: a check verdict, a matrix, or explanations. */
export type AnswerKind = 'verdict' | 'matrix' | 'explanations'

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

/**
 * One line for people: `note: 2 documents could not be read and 1 object was left out: this verdict
 * assumes the cluster holds only what was read (see the errors above)`. Empty when nothing was left out.
 */
export function renderPartialNotice(omissions: Omissions | undefined, answer: AnswerKind): string {
  if (!omissions) return ''
  const parts: string[] = []
  if (omissions.documents > 0)
    parts.push(`${count(omissions.documents, 'document', 'documents')} could not be read`)
  if (omissions.objects > 0) parts.push(`${count(omissions.objects, 'object was', 'objects were')} left out`)
  const subject =
    answer === 'verdict'
      ? 'this verdict assumes'
      : answer === 'matrix'
        ? 'this matrix assumes'
        : 'these explanations assume'
  return `note: ${parts.join(' and ')}: ${subject} the cluster holds only what was read (see the errors above)\n`
}

const where = (s: SourceRef | undefined): string | undefined =>
  s ? `${s.file}${s.line !== undefined ? `:${s.line}` : ''}` : undefined

/** The fields every JSON answer carries: partial, and the reasons (code, message, object, file:line). */
export function partialJSON(omissions: Omissions | undefined): {
  partial: boolean
  reasons: { code: string; message: string; object?: string; source?: string }[]
} {
  return {
    partial: omissions !== undefined,
    reasons: (omissions?.reasons ?? []).map((d) => {
      const source = where(d.source)
      return {
        code: d.code,
        message: d.message,
        ...(d.object === undefined ? {} : { object: d.object }),
        ...(source === undefined ? {} : { source }),
      }
    }),
  }
}
