import { shDataFunctions, shWordWalk } from './shell.js';
import type { CommandSpec } from './spec.js';

/** The bash completion script (`complete -F _sftpgo sftpgo`). */
export function bashCompletion(root: CommandSpec): string {
  return `# bash completion for sftpgo                                  -*- shell-script -*-
# Generated from the command tree by \`sftpgo completion bash\`; do not edit.
# Install: source it from ~/.bashrc, or copy it to /usr/share/bash-completion/completions/sftpgo

${shDataFunctions(root)}
# Live names (users, folders, admins, connection ids, defender hosts) come from the server
# through the hidden \`sftpgo __complete KIND\`; at most 2 seconds ($SFTPGO_COMPLETION_TIMEOUT), silent on any failure.
__sftpgo_dynamic() {
  local prog=\${COMP_WORDS[0]}
  if command -v timeout >/dev/null 2>&1; then
    timeout "\${SFTPGO_COMPLETION_TIMEOUT:-2}" "$prog" __complete "$1" "\${__sftpgo_conn[@]}" 2>/dev/null
  else
    "$prog" __complete "$1" "\${__sftpgo_conn[@]}" 2>/dev/null
  fi
}

_sftpgo() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local cpath='' npos=0 skip=0 i w sub spec
  local -a __sftpgo_conn=()
${shWordWalk('COMP_WORDS', 'COMP_CWORD', 1)}
  if ((skip)); then
    spec=$(__sftpgo_option_values "$cpath" "$prev")
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(__sftpgo_options "$cpath")" -- "$cur"))
    return 0
  else
    local subs
    subs=$(__sftpgo_subcommands "$cpath")
    if [[ -n $subs ]]; then
      COMPREPLY=($(compgen -W "$subs" -- "$cur"))
      return 0
    fi
    spec=$(__sftpgo_arg_values "$cpath" "$npos")
  fi
  case $spec in
    file)
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -f -- "$cur"))
      ;;
    words\\ *) COMPREPLY=($(compgen -W "\${spec#words }" -- "$cur")) ;;
    dynamic\\ *)
      local kind=\${spec#dynamic }
      [[ $kind == @prev ]] && kind=\${prev}s
      COMPREPLY=($(compgen -W "$(__sftpgo_dynamic "$kind")" -- "$cur"))
      ;;
    *) COMPREPLY=() ;;
  esac
  return 0
}

complete -F _sftpgo sftpgo
`;
}
