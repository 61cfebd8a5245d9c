/**
 * Ctrl-C and SIGTERM during a fuzz run (edge): the first asks the run to stop after the cases in flight,
 * the second exits at once, and the process's exit hooks remove the scratch folder and the kernel
 * checker's namespaces. The handlers stay installed until the run AND its cleanup have finished: a
 * second signal while the pool closes or the namespaces are being removed must still go through
 * process.exit (with the handlers gone, Node's default action would kill the process without its exit
 * hooks, leaving both behind).
 */
export async function withStopSignals<T>(
  work: (stopping: () => boolean) => Promise<T>,
  cleanup: () => Promise<void>,
  log: (line: string) => void = (line) => process.stderr.write(line),
): Promise<T> {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.exit(signal === 'SIGINT' ? 130 : 143)
      return
    }
    stopping = true
    log(`\n${signal}: stopping after the cases in flight (again to abort)\n`)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    try {
      return await work(() => stopping)
    } finally {
      await cleanup()
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
