import { allCommands, type CommandSpec, type ValueCompletion } from './spec.js';
import { fishq, key, oneLine, optionNames } from './shell.js';

function fishValue(v: ValueCompletion): string {
  switch (v.type) {
    case 'none':
      return '-f';
    case 'file':
      return '-F';
    case 'words':
      return `-f -a ${fishq(v.words.join(' '))}`;
    case 'dynamic':
      return v.kind === '@prev'
        ? `-f -a '(__sftpgo_dynamic (__sftpgo_prev)s)'`
        : `-f -a '(__sftpgo_dynamic ${v.kind})'`;
  }
}

/** The fish completion script. */
export function fishCompletion(root: CommandSpec): string {
  const cmds = allCommands(root);
  const out: string[] = [
    '# fish completion for sftpgo',
    '# Generated from the command tree by `sftpgo completion fish`; do not edit.',
    '# Install: copy it to ~/.config/fish/completions/sftpgo.fish',
    '',
    'function __sftpgo_resolve --argument-names cpath word',
    '    switch "$cpath|$word"',
  ];
  for (const c of cmds) {
    for (const s of c.commands) {
      out.push(
        `        case ${[s.name, ...s.aliases].map((n) => fishq(`${key(c)}|${n}`)).join(' ')}`,
        `            echo ${fishq(s.name)}`,
      );
    }
  }
  out.push(
    '    end',
    'end',
    '',
    'function __sftpgo_value_options --argument-names cpath',
    '    switch "$cpath"',
  );
  for (const c of cmds) {
    const names = c.options.filter((o) => o.takesValue).flatMap(optionNames);
    if (names.length > 0)
      out.push(
        `        case ${fishq(key(c))}`,
        `            string split ' ' -- ${fishq(names.join(' '))}`,
      );
  }
  out.push(
    '    end',
    'end',
    '',
    '# prints "PATH|NPOS": the subcommand path typed so far and how many arguments follow it',
    'function __sftpgo_state',
    '    set -l tokens (commandline -opc)',
    '    set -e tokens[1]',
    "    set -l cpath ''",
    '    set -l npos 0',
    '    set -l skip 0',
    '    for t in $tokens',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    '        switch $t',
    "            case '-*=*'",
    '                continue',
    "            case '-*'",
    '                if contains -- $t (__sftpgo_value_options "$cpath")',
    '                    set skip 1',
    '                end',
    '                continue',
    '        end',
    '        set -l sub (__sftpgo_resolve "$cpath" $t)',
    '        if test -n "$sub"',
    '            set cpath (string trim -- "$cpath $sub")',
    '            set npos 0',
    '        else',
    '            set npos (math $npos + 1)',
    '        end',
    '    end',
    '    echo "$cpath|$npos"',
    'end',
    '',
    '# true when the command line is at PATH (and, when given, at argument index NPOS)',
    'function __sftpgo_at --argument-names want npos',
    '    set -l state (string split "|" -- (__sftpgo_state))',
    '    test "$state[1]" = "$want"; or return 1',
    '    test -z "$npos"; or test "$state[2]" = "$npos"',
    'end',
    '',
    'function __sftpgo_prev',
    '    set -l tokens (commandline -opc)',
    '    echo $tokens[-1]',
    'end',
    '',
    '# live names from the server through the hidden `sftpgo __complete KIND` (2 s at most, silent)',
    'function __sftpgo_dynamic --argument-names kind',
    '    set -l tokens (commandline -opc)',
    '    set -l conn',
    '    for i in (seq (count $tokens))',
    '        switch $tokens[$i]',
    '            case --url --username --password-file',
    '                set -a conn $tokens[$i] $tokens[(math $i + 1)]',
    '        end',
    '    end',
    '    set -l limit 2',
    '    set -q SFTPGO_COMPLETION_TIMEOUT; and set limit $SFTPGO_COMPLETION_TIMEOUT',
    '    if command -q timeout',
    '        timeout $limit $tokens[1] __complete $kind $conn 2>/dev/null',
    '    else',
    '        $tokens[1] __complete $kind $conn 2>/dev/null',
    '    end',
    'end',
    '',
    'complete -c sftpgo -e',
  );
  for (const c of cmds) {
    const at = `__sftpgo_at ${fishq(key(c))}`;
    for (const s of c.commands) {
      out.push(
        `complete -c sftpgo -f -n ${fishq(at)} -a ${fishq(s.name)} -d ${fishq(oneLine(s.description))}`,
      );
    }
    for (const o of c.options) {
      const parts = ['complete -c sftpgo', `-n ${fishq(at)}`];
      if (o.long !== undefined) parts.push(`-l ${o.long.replace(/^--/, '')}`);
      if (o.short !== undefined) parts.push(`-s ${o.short.replace(/^-/, '')}`);
      parts.push(o.takesValue ? `-r ${fishValue(o.values)}` : '-f');
      parts.push(`-d ${fishq(oneLine(o.description))}`);
      out.push(parts.join(' '));
    }
    c.args.forEach((a, i) => {
      if (a.values.type === 'none') return;
      out.push(
        `complete -c sftpgo -n ${fishq(`__sftpgo_at ${fishq(key(c))} ${i}`)} ${fishValue(a.values)}`,
      );
    });
  }
  return `${out.join('\n')}\n`;
}
