/** The palisade command line: parses arguments and hands each command to its module. */
import { Command, CommanderError } from 'commander'
import { ownValue } from '../model/index.js'
import { addExamples, packageVersion } from './help.js'

type Register = (program: Command, setExit: (code: number) => void) => void

/**
 * Each command's module, imported only when needed: `palisade check` loads the loader and the engine, not
 * the lab, the compiler or the agent's Kubernetes client (start-up time is part of every `check`).
 */
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  check: async () => (await import('./commands/check.js')).registerCheck,
  matrix: async () => (await import('./commands/matrix.js')).registerMatrix,
  explain: async () => (await import('./commands/explain.js')).registerExplain,
  connlist: async () => (await import('./commands/connlist.js')).registerConnlist,
  lint: async () => (await import('./commands/lint.js')).registerLint,
  migrate: async () => (await import('./commands/migrate.js')).registerMigrate,
  compile: async () => (await import('./commands/compile.js')).registerCompile,
  apply: async () => (await import('./commands/apply.js')).registerApply, // registers apply and cleanup
  lab: async () => (await import('./commands/lab.js')).registerLab,
  agent: async () => (await import('./commands/agent.js')).registerAgent,
  diff: async () => (await import('./commands/diff.js')).registerDiff,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  report: async () => (await import('./commands/report.js')).registerReport,
  trace: async () => (await import('./commands/trace.js')).registerTrace,
  completion: async () => {
    const { registerCompletion } = await import('./commands/completion.js')
    // The completion script lists every command: this one registered only `completion`.
    return (program, setExit) => registerCompletion(program, setExit, () => buildProgram(() => undefined))
  },
}
const ALIASES: Readonly<Record<string, string>> = { cleanup: 'apply' }

/** Exit codes shared by every command. */
export const EXIT_OK = 0
export const EXIT_DENIED_OR_FINDINGS = 1
export const EXIT_ERROR = 2

/**
 * Builds the program. With a command name, only that command's module is loaded; for --version none;
 * otherwise (help, a typo, no command) every command is registered so help and suggestions are complete.
 */
export async function buildProgram(setExit: (code: number) => void, commandName?: string): Promise<Command> {
  const program = new Command()
  program
    .name('palisade')
    .description('Kubernetes NetworkPolicy engine: analyze, compile, enforce, prove.')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: (s) => process.stdout.write(s),
      // One line, as kubectl says it: "unknown option '--form' (did you mean --from?)".
      outputError: (s, write) => write(s.replace(/\n\(Did you mean (.+?)\?\)/, ' (did you mean $1?)')),
    })
  const key = commandName === undefined ? undefined : (ownValue(ALIASES, commandName) ?? commandName)
  const wanted =
    key !== undefined && Object.hasOwn(COMMANDS, key)
      ? [key]
      : commandName === '--version' || commandName === '-V'
        ? [] // the version needs no command
        : Object.keys(COMMANDS)
  const registers = await Promise.all(wanted.map((name) => (COMMANDS[name] as () => Promise<Register>)()))
  for (const register of registers) register(program, setExit)
  addExamples(program)
  return program
}

/** Runs the CLI with the given arguments and resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code = EXIT_OK
  const program = await buildProgram((c) => {
    code = c
  }, argv[0])
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
