// TEMPORARY scaffold so the program builds while this command is written; replaced by its owner.
import type { Command } from 'commander'

export function registerLab(_program: Command, _setExit: (code: number) => void): void {}
