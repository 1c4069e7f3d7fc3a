import { allCommands, type CommandSpec, type OptionSpec, type ValueCompletion } from './spec.js';

/** Single-quotes a string for sh/bash/zsh/fish. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Fish single quotes escape only \ and '. */
export function fishq(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export const key = (c: CommandSpec): string => c.path.join(' ');

export function optionNames(o: OptionSpec): string[] {
  return [o.short, o.long].filter((x): x is string => x !== undefined);
}

export function valueSpec(v: ValueCompletion): string | undefined {
  switch (v.type) {
    case 'none':
      return undefined;
    case 'file':
      return 'file';
    case 'words':
      return `words ${v.words.join(' ')}`;
    case 'dynamic':
      return `dynamic ${v.kind}`;
  }
}

/** One line of text for a description (first sentence-ish, no newlines). */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * The data functions shared by the bash and zsh scripts (plain sh `case` statements):
 * __sftpgo_resolve PATH WORD, __sftpgo_subcommands PATH, __sftpgo_options PATH,
 * __sftpgo_value_options PATH, __sftpgo_option_values PATH OPTION, __sftpgo_arg_values PATH INDEX.
 */
export function shDataFunctions(root: CommandSpec): string {
  const cmds = allCommands(root);
  const out: string[] = [];
  const fn = (name: string, arg: string, cases: [string, string][]): void => {
    out.push(`${name}() {`, `  case ${arg} in`);
    for (const [pat, body] of cases) out.push(`    ${pat}) ${body} ;;`);
    out.push('  esac', '}', '');
  };
  fn(
    '__sftpgo_resolve',
    '"$1|$2"',
    cmds.flatMap((c) =>
      c.commands.map((s): [string, string] => [
        [s.name, ...s.aliases].map((n) => shq(`${key(c)}|${n}`)).join('|'),
        `echo ${shq(s.name)}`,
      ]),
    ),
  );
  fn(
    '__sftpgo_subcommands',
    '"$1"',
    cmds
      .filter((c) => c.commands.length > 0)
      .map((c) => [shq(key(c)), `echo ${shq(c.commands.map((s) => s.name).join(' '))}`]),
  );
  fn(
    '__sftpgo_options',
    '"$1"',
    cmds.map((c) => [shq(key(c)), `echo ${shq(c.options.flatMap(optionNames).join(' '))}`]),
  );
  fn(
    '__sftpgo_value_options',
    '"$1"',
    cmds
      .filter((c) => c.options.some((o) => o.takesValue))
      .map((c) => [
        shq(key(c)),
        `echo ${shq(
          c.options
            .filter((o) => o.takesValue)
            .flatMap(optionNames)
            .join(' '),
        )}`,
      ]),
  );
  fn(
    '__sftpgo_option_values',
    '"$1|$2"',
    cmds.flatMap((c) =>
      c.options.flatMap((o): [string, string][] => {
        const v = valueSpec(o.values);
        return v === undefined
          ? []
          : [
              [
                optionNames(o)
                  .map((n) => shq(`${key(c)}|${n}`))
                  .join('|'),
                `echo ${shq(v)}`,
              ],
            ];
      }),
    ),
  );
  fn(
    '__sftpgo_arg_values',
    '"$1|$2"',
    cmds.flatMap((c) =>
      c.args.flatMap((a, i): [string, string][] => {
        const v = valueSpec(a.values);
        return v === undefined ? [] : [[shq(`${key(c)}|${i}`), `echo ${shq(v)}`]];
      }),
    ),
  );
  return out.join('\n');
}

/**
 * The loop bash and zsh share: walks the words before the cursor, collecting the connection
 * flags (for live-name completion), skipping option values and descending into subcommands.
 * `words`/`current` name the shell's word array and cursor index; `first` is the index of the
 * first word after the program name (1 in bash, 2 in zsh whose arrays start at 1).
 */
export function shWordWalk(words: string, current: string, first: number): string {
  return `  for ((i = ${first}; i < ${current}; i++)); do
    w=\${${words}[i]}
    if ((skip)); then
      skip=0
      continue
    fi
    case $w in
      --url | --username | --password-file) __sftpgo_conn+=("$w" "\${${words}[i + 1]}") ;;
    esac
    case $w in
      -*=*) continue ;;
      -*)
        [[ " $(__sftpgo_value_options "$cpath") " == *" $w "* ]] && skip=1
        continue
        ;;
    esac
    sub=$(__sftpgo_resolve "$cpath" "$w")
    if [[ -n $sub ]]; then
      cpath=\${cpath:+$cpath }$sub
      npos=0
    else
      npos=$((npos + 1))
    fi
  done`;
}
