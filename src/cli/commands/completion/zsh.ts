import { allCommands, type CommandSpec } from './spec.js';
import { key, oneLine, optionNames, shDataFunctions, shq, shWordWalk } from './shell.js';

/** zsh's _describe wants "name:description" with ':' in names escaped. */
function described(name: string, description: string): string {
  return `${name.replace(/:/g, '\\:')}:${oneLine(description)}`;
}

/** The zsh completion script (#compdef; works from fpath or sourced). */
export function zshCompletion(root: CommandSpec): string {
  const cmds = allCommands(root);
  const lines = (c: CommandSpec, items: string[]): string =>
    `    ${shq(key(c))}) print -r -- ${items.map(shq).join(' ')} ;;`;
  const subsDescribed = cmds
    .filter((c) => c.commands.length > 0)
    .map((c) =>
      lines(
        c,
        c.commands.map((s) => described(s.name, s.description)),
      ),
    );
  const optsDescribed = cmds.map((c) =>
    lines(
      c,
      c.options.flatMap((o) => optionNames(o).map((n) => described(n, o.description))),
    ),
  );
  return `#compdef sftpgo
# zsh completion for sftpgo
# Generated from the command tree by \`sftpgo completion zsh\`; do not edit.
# Install: copy it as _sftpgo into a directory of $fpath, or: source <(sftpgo completion zsh)

${shDataFunctions(root)}
__sftpgo_subcommands_described() {
  case "$1" in
${subsDescribed.join('\n')}
  esac
}

__sftpgo_options_described() {
  case "$1" in
${optsDescribed.join('\n')}
  esac
}

# Live names come from the server through the hidden \`sftpgo __complete KIND\` (2 s at most,
# $SFTPGO_COMPLETION_TIMEOUT to change it; silent on any failure).
__sftpgo_dynamic() {
  local prog=\${words[1]}
  if (( $+commands[timeout] )); then
    timeout "\${SFTPGO_COMPLETION_TIMEOUT:-2}" "$prog" __complete "$1" "\${__sftpgo_conn[@]}" 2>/dev/null
  else
    "$prog" __complete "$1" "\${__sftpgo_conn[@]}" 2>/dev/null
  fi
}

_sftpgo() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]}
  local cpath='' npos=0 skip=0 i w sub spec
  local -a __sftpgo_conn items
${shWordWalk('words', 'CURRENT', 2)}
  if ((skip)); then
    spec=$(__sftpgo_option_values "$cpath" "$prev")
  elif [[ $cur == -* ]]; then
    items=("\${(@f)$(__sftpgo_options_described "$cpath")}")
    _describe -t options 'option' items
    return
  else
    items=("\${(@f)$(__sftpgo_subcommands_described "$cpath")}")
    if [[ -n \${items[1]} ]]; then
      _describe -t commands 'sftpgo command' items
      return
    fi
    spec=$(__sftpgo_arg_values "$cpath" "$npos")
  fi
  case $spec in
    file) _files ;;
    words\\ *) compadd -- \${=spec#words } ;;
    dynamic\\ *)
      local kind=\${spec#dynamic }
      [[ $kind == @prev ]] && kind=\${prev}s
      items=("\${(@f)$(__sftpgo_dynamic "$kind")}")
      [[ -n \${items[1]} ]] && compadd -- "\${items[@]}"
      ;;
  esac
}

if [[ "\${funcstack[1]}" == _sftpgo ]]; then
  _sftpgo "$@"
else
  compdef _sftpgo sftpgo
fi
`;
}
