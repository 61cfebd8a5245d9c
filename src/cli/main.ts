/** The palisade command line: parses arguments and hands each command to its module. */
import { Command, CommanderError } from 'commander'
import { registerAgent } from './commands/agent.js'
import { registerApply } from './commands/apply.js'
import { registerCheck } from './commands/check.js'
import { registerCompile } from './commands/compile.js'
import { registerExplain } from './commands/explain.js'
import { registerLab } from './commands/lab.js'
import { registerLint } from './commands/lint.js'
import { registerMatrix } from './commands/matrix.js'
import { registerMigrate } from './commands/migrate.js'

/** Exit codes shared by every command. */
export const EXIT_OK = 0
export const EXIT_DENIED_OR_FINDINGS = 1
export const EXIT_ERROR = 2

/** Builds the program with every command registered. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command()
  program
    .name('palisade')
    .description('Kubernetes NetworkPolicy engine: analyze, compile, enforce, prove.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) })
  for (const register of [
    registerCheck,
    registerMatrix,
    registerExplain,
    registerLint,
    registerMigrate,
    registerCompile,
    registerApply,
    registerLab,
    registerAgent,
  ]) {
    register(program, setExit)
  }
  return program
}

/** Runs the CLI with the given arguments and resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code = EXIT_OK
  const program = buildProgram((c) => {
    code = c
  })
  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit with 0; usage errors with 2 (commander already printed them).
      return err.exitCode === 0 ? EXIT_OK : EXIT_ERROR
    }
    throw err
  }
  return code
}
