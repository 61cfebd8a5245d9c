/** `palisade completion bash|zsh|fish`: prints the shell completion script. */
import type { Command } from 'commander'
import { renderCompletion, SHELLS, type Shell } from '../completion.js'

/** Registers `completion`. */
export function registerCompletion(program: Command, setExit: (code: number) => void): void {
  program
    .command('completion')
    .description('print the shell completion script (bash, zsh or fish)')
    .argument('<shell>', SHELLS.join(' | '))
    .action(async (shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) {
        process.stderr.write(`palisade completion: the shell must be bash, zsh or fish, not "${shell}"\n`)
        return setExit(2)
      }
      // The script lists every command: build the whole program (this one registered only `completion`).
      const { buildProgram } = await import('../main.js')
      const full = await buildProgram(() => undefined)
      process.stdout.write(renderCompletion(full, shell as Shell))
      setExit(0)
    })
}
