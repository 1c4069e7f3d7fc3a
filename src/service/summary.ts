/**
 * The startup summary printed to stderr by `sftpgo serve`: what runs, where it listens, where
 * the data lives, and how to get a first admin when none exists.
 */
import type { ListeningAddress } from '../common/server.js';
import type { Config } from '../config/index.js';
import type { HttpdListener } from '../httpd/index.js';
import type { TelemetryListener } from '../telemetry/index.js';
import { VERSION } from '../util/version.js';

export interface SummaryInput {
  config: Readonly<Config>;
  configDir: string;
  configFile: string | undefined;
  /** the directories searched for a config file when none was given explicitly */
  searched?: readonly string[] | undefined;
  logFilePath: string;
  httpd: HttpdListener[] | undefined;
  /** the running file-transfer servers (SFTP, FTP, WebDAV) with the addresses they listen on */
  protocols: readonly { label: string; addresses: readonly ListeningAddress[] }[];
  /** the telemetry server's listener when it runs, and whether it serves the profiler */
  telemetry?: (TelemetryListener & { profiler: boolean }) | undefined;
  /** services configured but not available in this build, with the reason */
  unavailable: string[];
  adminCount: number;
  warnings: readonly string[];
}

function hostPort(a: ListeningAddress): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** "  SFTP:          " — labels aligned as the other summary lines */
function field(label: string): string {
  return `  ${`${label}:`.padEnd(15)}`;
}

function dataLocation(c: Readonly<Config>): string {
  const dp = c.data_provider;
  if (dp.driver === 'sqlite') return `sqlite database ${dp.name}`;
  if (dp.driver === 'memory') return dp.name.trim() === '' ? 'memory (empty at start)' : `memory, loaded from ${dp.name}`;
  if (dp.connection_string) return `${dp.driver} (connection string)`;
  return `${dp.driver} database "${dp.name}" on ${dp.host || 'localhost'}${dp.port ? `:${dp.port}` : ''}`;
}

export function formatSummary(s: SummaryInput): string {
  const lines: string[] = [`SFTPGo ${VERSION} (sftpgo-ts) started`];
  lines.push(`  config dir:    ${s.configDir}`);
  const searched = s.searched && s.searched.length > 0 ? ` in ${s.searched.join(', ')}` : '';
  lines.push(
    `  config file:   ${s.configFile ?? `none found${searched}, using defaults and SFTPGO_* environment`}`,
  );
  lines.push(`  data provider: ${dataLocation(s.config)}`);
  lines.push(`  log file:      ${s.logFilePath === '' ? 'standard output' : s.logFilePath}`);
  if (s.httpd) {
    for (const a of s.httpd) {
      const url = a.unix ? `unix:${a.address}:` : `${a.https ? 'https' : 'http'}://${hostPort(a)}`;
      lines.push(
        `  HTTP:          REST API listening on ${url}/api/v2 (health check ${url}/healthz)`,
      );
      if (a.web?.admin) lines.push(`${field('web admin')}${url}${a.web.webRoot}/web/admin`);
      if (a.web?.client) lines.push(`${field('web client')}${url}${a.web.webRoot}/web/client`);
    }
  } else {
    lines.push('  HTTP:          disabled (no httpd binding with port > 0)');
  }
  const sftp = s.protocols.find((p) => p.label === 'SFTP');
  if (!sftp || sftp.addresses.length === 0) lines.push(`${field('SFTP')}disabled`);
  for (const p of s.protocols) {
    for (const a of p.addresses) lines.push(`${field(p.label)}listening on ${hostPort(a)}`);
  }
  if (s.telemetry) {
    const t = s.telemetry;
    const url = t.unix ? `unix:${t.address}:` : `${t.https ? 'https' : 'http'}://${hostPort(t)}`;
    const profiler = t.profiler ? `, profiler ${url}/debug/pprof/` : '';
    lines.push(
      `${field('telemetry')}metrics on ${url}/metrics (health check ${url}/healthz${profiler})`,
    );
  } else {
    lines.push(`${field('telemetry')}disabled (telemetry.bind_port is 0)`);
  }
  for (const u of s.unavailable) lines.push(`  note:          ${u}`);
  for (const w of s.warnings) lines.push(`  warning:       ${w}`);
  // only useful with the REST API (portable mode has none)
  if (s.adminCount === 0 && s.httpd !== undefined && s.httpd.length > 0) {
    const setup = s.httpd.find((a) => a.web?.admin && !a.unix);
    lines.push(
      '  no admin exists yet: to create the first one restart with SFTPGO_DEFAULT_ADMIN_USERNAME and',
      '  SFTPGO_DEFAULT_ADMIN_PASSWORD set, or set data_provider.create_default_admin to true',
      '  (creates admin/password: change it at once); until then GET /api/v2/token can only fail',
    );
    if (setup?.web) {
      const url = `${setup.https ? 'https' : 'http'}://${hostPort(setup)}`;
      lines.push(`  or create it in the browser: ${url}${setup.web.webRoot}/web/admin/setup`);
    }
  }
  return `${lines.join('\n')}\n`;
}
