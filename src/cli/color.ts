/**
 * Colour on a terminal (edge), as kubectl and git do: on when the stream is a terminal, off when it is a
 * pipe or a file, `NO_COLOR` (any non-empty value) turns it off and `FORCE_COLOR` (not `0`) on.
 * picocolors does the escapes; the decision is ours, per stream (its own turns colour on in CI logs and
 * reads one stream for both).
 */
import pc from 'picocolors'

export type Colors = ReturnType<typeof pc.createColors>

/** Decides whether to colour a stream from the environment and whether the stream is a terminal. */
export function shouldColor(env: Readonly<Record<string, string | undefined>>, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  const force = env.FORCE_COLOR
  if (force !== undefined) return force !== '0' && force !== 'false'
  return isTTY && env.TERM !== 'dumb'
}

/** The colours for stdout or stderr (plain functions that return their text when colour is off). */
export function colorsFor(stream: 'stdout' | 'stderr'): Colors {
  return pc.createColors(shouldColor(process.env, process[stream].isTTY === true))
}
