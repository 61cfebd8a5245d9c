// TEMPORARY scaffold so the program builds while this command is written; replaced by its owner.
import type { Command } from 'commander'

export function registerCompile(_program: Command, _setExit: (code: number) => void): void {}
