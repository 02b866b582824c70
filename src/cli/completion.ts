/**
 * `tend completion bash|zsh|fish`: a script that completes tend's commands, and the service names of the
 * running tend (from `tend status -q`) after start, stop, restart and logs.
 */

const SERVICE_COMMANDS = ['start', 'stop', 'restart', 'logs'];

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function completionScript(shell: Shell, commands: string[]): string {
  const cmds = commands.join(' ');
  const svc = SERVICE_COMMANDS.join(' ');
  switch (shell) {
    case 'bash':
      return `# tend completion for bash: add to ~/.bashrc
#   source <(tend completion bash)
_tend() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${cmds}" -- "$cur") )
    return
  fi
  case " ${svc} " in
    *" \${COMP_WORDS[1]} "*)
      case "$cur" in -*) return ;; esac
      COMPREPLY=( $(compgen -W "$(tend status -q 2>/dev/null)" -- "$cur") ) ;;
  esac
}
complete -o default -F _tend tend
`;
    case 'zsh':
      return `#compdef tend
# tend completion for zsh: add to ~/.zshrc
#   source <(tend completion zsh)
_tend() {
  if (( CURRENT == 2 )); then
    compadd -- ${cmds}
    return
  fi
  case " ${svc} " in
    *" $words[2] "*) compadd -- $(tend status -q 2>/dev/null) ;;
    *) _files ;;
  esac
}
compdef _tend tend
`;
    case 'fish':
      return `# tend completion for fish: save as ~/.config/fish/completions/tend.fish
#   tend completion fish > ~/.config/fish/completions/tend.fish
complete -c tend -f -n __fish_use_subcommand -a "${cmds}"
complete -c tend -f -n "__fish_seen_subcommand_from ${svc}" -a "(tend status -q 2>/dev/null)"
`;
    default: {
      const never: never = shell;
      return never;
    }
  }
}
