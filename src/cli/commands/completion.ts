/** `palisade completion bash|zsh|fish`: prints the shell completion script. */
import type { Command } from 'commander'
import { renderCompletion, SHELLS, type Shell } from '../completion.js'

/**
 * Registers `completion`. The script lists every command, so it needs the whole program: `buildAll` builds
 * it (passed in by main.ts, which this module must not import: that would be an import cycle).
 */
export function registerCompletion(
  program: Command,
  setExit: (code: number) => void,
  buildAll: () => Promise<Command>,
): void {
  program
    .command('completion')
    .description('print the shell completion script (bash, zsh or fish)')
    .argument('<shell>', SHELLS.join(' | '))
    .action(async (shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) {
        process.stderr.write(`palisade completion: the shell must be bash, zsh or fish, not "${shell}"\n`)
        return setExit(2)
      }
      const full = await buildAll()
      process.stdout.write(renderCompletion(full, shell as Shell))
      setExit(0)
    })
}
