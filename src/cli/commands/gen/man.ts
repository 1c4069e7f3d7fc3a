import { allCommands, type CommandSpec, type OptionSpec } from '../completion/spec.js';

/** Escapes text for roff: backslashes, hyphens, and a leading dot or quote. */
export function roff(s: string): string {
  const t = s.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  return /^[.']/.test(t) ? `\\&${t}` : t;
}

export interface ManPage {
  /** e.g. sftpgo-users.1 */
  file: string;
  content: string;
}

export interface ManOptions {
  version: string;
  /** YYYY-MM-DD, fixed so that regenerating gives the same bytes */
  date: string;
}

const GLOBAL_LONGS = new Set(['--url', '--username', '--password-file', '--json', '--quiet', '--yes']);

function th(title: string, o: ManOptions): string {
  return `.TH "${title.toUpperCase()}" "1" "${o.date}" "SFTPGo ${o.version}" "SFTPGo Manual"`;
}

function optionItem(opt: OptionSpec): string {
  const names = [opt.short, opt.long].filter((x): x is string => x !== undefined).map((n) => `\\fB${roff(n)}\\fR`);
  const value = opt.valueName === undefined ? '' : ` \\fI${roff(opt.valueName)}\\fR`;
  return `.TP\n${names.join(', ')}${value}\n${roff(opt.description)}`;
}

function synopsis(c: CommandSpec): string {
  const args = c.args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`)).join(' ');
  return `\\fBsftpgo ${roff(c.path.join(' '))}\\fR [\\fIoptions\\fR]${args === '' ? '' : ` ${roff(args)}`}`;
}

const EXIT_STATUS = [
  '.SH EXIT STATUS',
  '.TP',
  '0',
  'success',
  '.TP',
  '1',
  'failure: the server answered with an error (4xx/5xx; its message is printed as "Error: message"), or it could not be reached',
  '.TP',
  '2',
  'usage error: unknown flag, bad flag value, missing argument, or a destructive command without \\fB\\-\\-yes\\fR when nobody can be asked',
  '.TP',
  '130',
  'cancelled at a confirmation or password prompt',
].join('\n');

const ENVIRONMENT = [
  '.SH ENVIRONMENT',
  '.TP',
  '\\fBSFTPGO_URL\\fR',
  'server URL when \\fB\\-\\-url\\fR is not given',
  '.TP',
  '\\fBSFTPGO_ADMIN_USERNAME\\fR',
  'admin username when \\fB\\-\\-username\\fR is not given',
  '.TP',
  '\\fBSFTPGO_ADMIN_PASSWORD\\fR',
  'admin password when \\fB\\-\\-password\\-file\\fR is not given',
  '.TP',
  '\\fBXDG_CONFIG_HOME\\fR',
  'where the login profile is kept (default \\fI~/.config\\fR)',
].join('\n');

const FILES = [
  '.SH FILES',
  '.TP',
  '\\fI$XDG_CONFIG_HOME/sftpgo/profile.json\\fR',
  'written by \\fBsftpgo login\\fR (mode 0600): server URL, admin username and API token with its expiry; never the password',
].join('\n');

function globalOptions(c: CommandSpec): OptionSpec[] {
  return c.options.filter((o) => o.long !== undefined && GLOBAL_LONGS.has(o.long));
}

function ownOptions(c: CommandSpec): OptionSpec[] {
  return c.options.filter((o) => o.long !== '--help' && (o.long === undefined || !GLOBAL_LONGS.has(o.long)));
}

function leaves(c: CommandSpec): CommandSpec[] {
  return c.commands.length === 0 ? [c] : c.commands.flatMap(leaves);
}

/** sftpgo-<group>.1: a top-level command with all its verbs. */
function groupPage(g: CommandSpec, o: ManOptions): ManPage {
  const name = `sftpgo-${g.name}`;
  const lines = [
    th(name, o),
    '.SH NAME',
    `${roff(name)} \\- ${roff(g.description)}`,
    '.SH SYNOPSIS',
    ...leaves(g).flatMap((c) => [synopsis(c), '.br']),
    '.SH DESCRIPTION',
    roff(g.description.charAt(0).toUpperCase() + g.description.slice(1)) + '.',
  ];
  const verbs = leaves(g);
  if (g.commands.length > 0) {
    lines.push('.SH COMMANDS');
    for (const v of verbs) {
      lines.push(`.SS "${roff(['sftpgo', ...v.path].join(' '))}"`, roff(v.description));
      if (v.aliases.length > 0) lines.push('.PP', `Alias: ${roff(v.aliases.join(', '))}.`);
      for (const a of v.args) lines.push('.TP', `\\fI${roff(a.name)}\\fR`, roff(a.description || a.name));
      for (const opt of ownOptions(v)) lines.push(optionItem(opt));
    }
  } else {
    const own = ownOptions(g);
    if (g.args.length > 0 || own.length > 0) lines.push('.SH OPTIONS');
    for (const a of g.args) lines.push('.TP', `\\fI${roff(a.name)}\\fR`, roff(a.description || a.name));
    for (const opt of own) lines.push(optionItem(opt));
  }
  const globals = globalOptions(verbs[0] ?? g);
  if (globals.length > 0) {
    lines.push('.SH GLOBAL OPTIONS', 'Every client command accepts these.');
    for (const opt of globals) lines.push(optionItem(opt));
    lines.push(ENVIRONMENT, FILES, EXIT_STATUS);
  }
  lines.push('.SH SEE ALSO', '\\fBsftpgo\\fR(1)');
  return { file: `${name}.1`, content: `${lines.join('\n')}\n` };
}

/** sftpgo.1 plus one page per top-level command (sftpgo-users.1, sftpgo-serve.1, ...). */
export function manPages(root: CommandSpec, o: ManOptions): ManPage[] {
  const groups = root.commands;
  const lines = [
    th('sftpgo', o),
    '.SH NAME',
    'sftpgo \\- SFTP, FTP/S and WebDAV server with a REST API, and a command\\-line client of that API',
    '.SH SYNOPSIS',
    '\\fBsftpgo\\fR \\fIcommand\\fR [\\fIoptions\\fR] [\\fIarguments\\fR]',
    '.SH DESCRIPTION',
    roff(root.description),
    '.PP',
    'With \\fBserve\\fR it runs the server. Every other command is a client of the REST API of a running server,',
    'reached at \\fB\\-\\-url\\fR (default \\fI$SFTPGO_URL\\fR, the login profile, or \\fIhttp://127.0.0.1:8080\\fR).',
    'Output is a table on a terminal, tab\\-separated columns otherwise, and the raw API objects with \\fB\\-\\-json\\fR.',
    '.SH COMMANDS',
  ];
  for (const g of groups) {
    lines.push('.TP', `\\fB${roff(g.name)}\\fR`, roff(g.description));
    if (g.commands.length > 0) lines.push(`(${roff(g.commands.map((c) => c.name).join(', '))}; see \\fBsftpgo\\-${roff(g.name)}\\fR(1))`);
  }
  if (root.options.length > 0) {
    lines.push('.SH OPTIONS');
    for (const opt of root.options) lines.push(optionItem(opt));
  }
  lines.push(ENVIRONMENT, FILES, EXIT_STATUS, '.SH SEE ALSO');
  lines.push(groups.map((g) => `\\fBsftpgo\\-${roff(g.name)}\\fR(1)`).join(',\n'));
  return [{ file: 'sftpgo.1', content: `${lines.join('\n')}\n` }, ...groups.map((g) => groupPage(g, o))];
}

/** Every command path, for tests. */
export function commandPaths(root: CommandSpec): string[] {
  return allCommands(root).map((c) => c.path.join(' '));
}
