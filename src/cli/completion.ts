/**
 * `palisade completion bash|zsh|fish`: a completion script generated from the commands themselves (names,
 * options, the values an option lists as `a | b | c`), so it never drifts from the CLI.
 */
import type { Command, Option } from 'commander'

export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = (typeof SHELLS)[number]

interface CmdInfo {
  readonly path: string
  readonly name: string
  readonly description: string
  readonly options: readonly Option[]
  readonly subcommands: readonly CmdInfo[]
}

const info = (cmd: Command, parent = ''): CmdInfo => {
  const path = parent === '' ? cmd.name() : `${parent} ${cmd.name()}`
  return {
    path,
    name: cmd.name(),
    description: cmd.description(),
    options: cmd.options.filter((o) => !o.hidden),
    subcommands: cmd.commands.map((c) => info(c, path)),
  }
}

/** The values an option names in its description (`text | json | yaml`), if it lists them that way. */
export function optionChoices(o: Option): string[] {
  const first = o.description.split(/[,;(]/)[0]?.trim() ?? ''
  return /^[a-z0-9-]+( \| [a-z0-9-]+)+$/.test(first) ? first.split(' | ') : []
}

const flagsOf = (o: Option): string[] => [o.short, o.long].filter((f): f is string => f !== undefined)
const quoteSh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`
const oneLine = (s: string): string => s.replace(/\s+/g, ' ').slice(0, 120)

function flatten(cmds: readonly CmdInfo[]): CmdInfo[] {
  return cmds.flatMap((c) => [c, ...flatten(c.subcommands)])
}

/** The bash script (also used by zsh through bashcompinit). */
function bashScript(program: CmdInfo): string {
  const top = program.subcommands.map((c) => c.name).join(' ')
  const cases: string[] = []
  const values: string[] = []
  for (const c of flatten(program.subcommands)) {
    const rel = c.path.slice(program.name.length + 1)
    const words = [...c.subcommands.map((s) => s.name), ...c.options.flatMap(flagsOf), '--help']
    cases.push(`    ${quoteSh(rel)}) opts=${quoteSh(words.join(' '))} ;;`)
    for (const o of c.options) {
      const choices = optionChoices(o)
      if (choices.length > 0)
        values.push(
          `    ${flagsOf(o)
            .map((f) => quoteSh(`${rel}:${f}`))
            .join('|')}) COMPREPLY=($(compgen -W ${quoteSh(choices.join(' '))} -- "$cur")); return ;;`,
        )
    }
  }
  return `# palisade completion for bash: source it, or save it as /etc/bash_completion.d/palisade
_palisade() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmd="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    if [[ -z "$cmd" ]]; then cmd="$w"
    elif [[ "$cmd" == lab ]]; then cmd="lab $w"; break
    else break
    fi
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W ${quoteSh(`${top} --help --version`)} -- "$cur"))
    return
  fi
  case "$cmd:$prev" in
${values.join('\n')}
  esac
  local opts=""
  case "$cmd" in
${cases.join('\n')}
  esac
  if [[ "$cur" == -* || ("$cmd" == lab && $COMP_CWORD -eq 2) ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -o bashdefault -F _palisade palisade
`
}

function fishScript(program: CmdInfo): string {
  const lines = [
    '# palisade completion for fish: save it as ~/.config/fish/completions/palisade.fish',
    'complete -c palisade -e',
  ]
  const names = program.subcommands.map((c) => c.name).join(' ')
  for (const c of program.subcommands)
    lines.push(
      `complete -c palisade -n ${quoteSh(`not __fish_seen_subcommand_from ${names}`)} -f -a ${c.name} -d ${quoteSh(oneLine(c.description))}`,
    )
  for (const c of flatten(program.subcommands)) {
    const parts = c.path.split(' ').slice(1)
    const cond =
      parts.length === 1
        ? `__fish_seen_subcommand_from ${parts[0]}`
        : `__fish_seen_subcommand_from ${parts[0]}; and __fish_seen_subcommand_from ${parts.slice(1).join(' ')}`
    if (c.subcommands.length > 0) {
      const subs = c.subcommands.map((s) => s.name).join(' ')
      for (const s of c.subcommands)
        lines.push(
          `complete -c palisade -n ${quoteSh(`${cond}; and not __fish_seen_subcommand_from ${subs}`)} -f -a ${s.name} -d ${quoteSh(oneLine(s.description))}`,
        )
    }
    for (const o of c.options) {
      const flags = [o.short ? `-s ${o.short.slice(1)}` : '', o.long ? `-l ${o.long.slice(2)}` : ''].filter(
        Boolean,
      )
      const choices = optionChoices(o)
      const arg =
        choices.length > 0 ? `-x -a ${quoteSh(choices.join(' '))}` : o.required || o.optional ? '-r' : ''
      lines.push(
        `complete -c palisade -n ${quoteSh(cond)} ${flags.join(' ')} ${arg} -d ${quoteSh(oneLine(o.description))}`.replace(
          /\s+-d/,
          ' -d',
        ),
      )
    }
  }
  return `${lines.join('\n')}\n`
}

/** Renders the completion script of a shell for the program (with every command registered). */
export function renderCompletion(program: Command, shell: Shell): string {
  const root = info(program)
  if (shell === 'fish') return fishScript(root)
  const bash = bashScript(root)
  if (shell === 'bash') return bash
  return `#compdef palisade
# palisade completion for zsh: save it as _palisade in a folder of $fpath (zsh runs the bash completion)
autoload -U +X bashcompinit && bashcompinit
${bash}`
}
