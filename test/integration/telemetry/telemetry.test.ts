/**
 * The telemetry server of a real `sftpgo serve` on a free 127.0.0.1 port: /healthz, /metrics
 * scraped around real OpenSSH transfers, logins, SSH commands and REST calls and parsed with the
 * strict text-format parser (every counter must move by the exact amount), basic auth from an
 * htpasswd file written by Apache's htpasswd (bcrypt, apr1, SHA-512) and openssl (md5crypt),
 * HTTPS, and the profiler's heap snapshot and CPU profile.
 *
 * The metrics belong to the process: the servers of this file run one after another, and every
 * assertion is on a difference between two scrapes of the same server.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { createConnection } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { testCerts } from '../../helpers/ftpd.js';
import { parsePrometheusText, type ParsedMetrics } from '../../helpers/prometheus.js';
import { basicAuth, freePort, startServer, type TestServer } from '../../helpers/server.js';
import {
  randomFile,
  ssh2Connect,
  startSftpTestServer,
  waitFor,
  type SftpTestEnv,
  type TestUser,
} from '../../helpers/sftpd.js';
import { generateKey, requireTool, run, sftpBatch, sshExec } from '../../helpers/ssh.js';

/** an ssh2 client that tries keyboard-interactive only, answering `password` */
async function keyboardInteractive(
  port: number,
  username: string,
  password: string,
): Promise<void> {
  const { default: ssh2 } = await import('ssh2');
  const client = new ssh2.Client();
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', reject);
      client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) =>
        finish(prompts.map(() => password)),
      );
      client.connect({
        host: '127.0.0.1',
        port,
        username,
        tryKeyboard: true,
        authHandler: ['keyboard-interactive'],
        readyTimeout: 20_000,
      });
    });
  } finally {
    client.end();
  }
}

interface Scraper {
  base: string;
  headers?: Record<string, string>;
}

async function scrape(s: Scraper): Promise<ParsedMetrics> {
  const r = await fetch(`${s.base}/metrics`, { headers: s.headers ?? {} });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(text);
}

/** after - before for each name */
function deltas(
  before: ParsedMetrics,
  after: ParsedMetrics,
  names: string[],
): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, after.value(n) - before.value(n)]));
}

void describe('telemetry: /healthz and /metrics around real transfers', () => {
  let env: SftpTestEnv;
  let user: TestUser;
  let scraper: Scraper;
  let local: string;

  before(async () => {
    const port = await freePort();
    env = await startSftpTestServer({
      config: { telemetry: { bind_port: port, bind_address: '127.0.0.1' } },
    });
    scraper = { base: `http://127.0.0.1:${port}` };
    user = await env.createUser();
    local = await mkdtemp(join(env.dir, 'local-'));
  });
  after(() => env.stop());

  void it('serves /healthz unauthenticated, GET and HEAD only, and says where in the startup summary', async () => {
    const r = await fetch(`${scraper.base}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'ok');
    assert.equal((await fetch(`${scraper.base}/healthz`, { method: 'HEAD' })).status, 200);
    const post = await fetch(`${scraper.base}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await fetch(`${scraper.base}/nothing-here`)).status, 404);
    // the profiler is off by default
    assert.equal((await fetch(`${scraper.base}/debug/pprof/heap`)).status, 404);
    assert.match(
      env.srv.summary,
      new RegExp(
        `telemetry: +metrics on ${scraper.base.replace(/\./g, '\\.')}/metrics \\(health check`,
      ),
    );
    const v = await env.srv.api<{ features: string[] }>('GET', '/version');
    assert.ok(v.body.features.includes('+metrics'), v.text);
  });

  void it('counts OpenSSH sftp uploads, downloads, their bytes and the password login', async () => {
    await randomFile(join(local, 'a.bin'), 100_000);
    await randomFile(join(local, 'b.bin'), 4242);
    const before = await scrape(scraper);
    const r = await sftpBatch(
      env.target,
      user.creds,
      ['put a.bin /a.bin', 'put b.bin /b.bin', 'get /a.bin a.copy'],
      { cwd: local },
    );
    assert.equal(r.code, 0, r.stderr);
    const after = await scrape(scraper);
    assert.deepEqual(
      deltas(before, after, [
        'sftpgo_uploads_total',
        'sftpgo_upload_errors_total',
        'sftpgo_upload_size',
        'sftpgo_downloads_total',
        'sftpgo_download_errors_total',
        'sftpgo_download_size',
        'sftpgo_login_attempts_total',
        'sftpgo_login_ok_total',
        'sftpgo_login_ko_total',
        'sftpgo_password_login_attempts_total',
        'sftpgo_password_login_ok_total',
        'sftpgo_public_key_login_attempts_total',
      ]),
      {
        sftpgo_uploads_total: 2,
        sftpgo_upload_errors_total: 0,
        sftpgo_upload_size: 104_242,
        sftpgo_downloads_total: 1,
        sftpgo_download_errors_total: 0,
        sftpgo_download_size: 100_000,
        sftpgo_login_attempts_total: 1,
        sftpgo_login_ok_total: 1,
        sftpgo_login_ko_total: 0,
        sftpgo_password_login_attempts_total: 1,
        sftpgo_password_login_ok_total: 1,
        sftpgo_public_key_login_attempts_total: 0,
      },
    );
  });

  void it('counts a failed password login and a public key login by method', async () => {
    const key = await generateKey(local, 'id_tel');
    const keyUser = await env.createUser({ public_keys: [key.publicKey] });
    const before = await scrape(scraper);
    await assert.rejects(ssh2Connect(env.port, user.username, { password: 'wrong', sftp: false }));
    // keyboard-interactive is not offered without its hook: trying it is no login attempt
    await assert.rejects(keyboardInteractive(env.port, user.username, user.password));
    const r = await sftpBatch(env.target, { user: keyUser.username, identity: key.privatePath }, [
      'ls /',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const after = await scrape(scraper);
    assert.deepEqual(
      deltas(before, after, [
        'sftpgo_login_attempts_total',
        'sftpgo_login_ok_total',
        'sftpgo_login_ko_total',
        'sftpgo_password_login_attempts_total',
        'sftpgo_password_login_ko_total',
        'sftpgo_public_key_login_attempts_total',
        'sftpgo_public_key_login_ok_total',
        'sftpgo_public_key_login_ko_total',
        'sftpgo_keyboard_interactive_login_attempts_total',
      ]),
      {
        sftpgo_login_attempts_total: 2,
        sftpgo_login_ok_total: 1,
        sftpgo_login_ko_total: 1,
        sftpgo_password_login_attempts_total: 1,
        sftpgo_password_login_ko_total: 1,
        sftpgo_public_key_login_attempts_total: 1,
        sftpgo_public_key_login_ok_total: 1,
        sftpgo_public_key_login_ko_total: 0,
        sftpgo_keyboard_interactive_login_attempts_total: 0,
      },
    );
  });

  void it('counts SSH commands and their errors', async () => {
    await randomFile(join(local, 'h.bin'), 1000);
    assert.equal(
      (await sftpBatch(env.target, user.creds, ['put h.bin /h.bin'], { cwd: local })).code,
      0,
    );
    const before = await scrape(scraper);
    const ok = await sshExec(env.target, user.creds, 'md5sum /h.bin');
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await sshExec(env.target, user.creds, 'md5sum /missing.bin');
    assert.notEqual(bad.code, 0);
    const after = await scrape(scraper);
    assert.deepEqual(
      deltas(before, after, ['sftpgo_ssh_commands_total', 'sftpgo_ssh_command_errors_total']),
      {
        sftpgo_ssh_commands_total: 1,
        sftpgo_ssh_command_errors_total: 1,
      },
    );
  });

  void it('shows the open connections, and counts a client that leaves without trying to log in', async () => {
    const session = await ssh2Connect(env.port, user.username, { password: user.password });
    try {
      const open = await scrape(scraper);
      assert.equal(open.value('sftpgo_active_connections'), env.connections().length);
      assert.ok(open.value('sftpgo_active_connections') >= 1);
    } finally {
      await session.end();
    }
    const before = await scrape(scraper);
    // an SSH client that reads the server's banner and hangs up
    await new Promise<void>((resolve, reject) => {
      const s = createConnection({ host: '127.0.0.1', port: env.port });
      s.once('data', () => s.end());
      s.once('close', () => resolve());
      s.once('error', reject);
    });
    let after = before;
    await waitFor(
      async () => {
        after = await scrape(scraper);
        return after.value('sftpgo_no_auth_total') > before.value('sftpgo_no_auth_total');
      },
      20_000,
      'sftpgo_no_auth_total to move',
    );
    assert.equal(after.value('sftpgo_no_auth_total') - before.value('sftpgo_no_auth_total'), 1);
    assert.equal(
      after.value('sftpgo_login_attempts_total') - before.value('sftpgo_login_attempts_total'),
      0,
    );
  });

  void it('counts REST API requests by status class', async () => {
    const token = await env.srv.adminToken();
    const before = await scrape(scraper);
    assert.equal((await env.srv.api('GET', '/version', undefined, token)).status, 200);
    assert.equal((await env.srv.api('GET', '/users/no-such-user', undefined, token)).status, 404);
    assert.equal((await env.srv.api('GET', '/version', undefined, null)).status, 401);
    const after = await scrape(scraper);
    assert.deepEqual(
      deltas(before, after, [
        'sftpgo_http_req_total',
        'sftpgo_http_req_ok_total',
        'sftpgo_http_client_errors_total',
        'sftpgo_http_server_errors_total',
      ]),
      {
        sftpgo_http_req_total: 3,
        sftpgo_http_req_ok_total: 1,
        sftpgo_http_client_errors_total: 2,
        sftpgo_http_server_errors_total: 0,
      },
    );
  });

  void it("reports the data provider as available, and Node's process metrics", async () => {
    const m = await scrape(scraper);
    assert.equal(m.value('sftpgo_dataprovider_availability'), 1);
    assert.equal(m.family('process_cpu_user_seconds_total')?.type, 'counter');
    assert.ok(m.value('process_resident_memory_bytes') > 0);
    assert.ok(m.value('nodejs_heap_size_used_bytes') > 0);
  });
});

/** htpasswd lines (Apache's htpasswd when installed, else the same formats from the libraries) */
function htpasswdLine(user: string, password: string, flag: '-B' | '-m' | '-5'): string {
  const tool = spawnSync('htpasswd', ['-nb', flag, user, password], { encoding: 'utf8' });
  if (tool.status === 0) return tool.stdout.trim();
  if (flag === '-B') return `${user}:${bcrypt.hashSync(password, 5).replace(/^\$2b\$/, '$2y$')}`;
  if (flag === '-m') {
    const apr1 = createRequire(import.meta.url)('apache-md5') as (p: string) => string;
    return `${user}:${apr1(password)}`;
  }
  return `${user}:${openssl(['passwd', '-6', password])}`;
}

function openssl(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

void describe('telemetry: basic auth from an htpasswd file, the profiler', () => {
  let srv: TestServer;
  let dir: string;
  let base: string;
  const users = {
    bcrypt: { name: 'bcrypt-user', password: `b-${randomBytes(6).toString('hex')}` },
    apr1: { name: 'apr1-user', password: `a-${randomBytes(6).toString('hex')}` },
    md5crypt: { name: 'md5-user', password: `m-${randomBytes(6).toString('hex')}` },
    sha512: { name: 'sha-user', password: `s-${randomBytes(6).toString('hex')}` },
  };
  const auth = (u: { name: string; password: string }): Record<string, string> => ({
    authorization: basicAuth(u.name, u.password),
  });

  before(async () => {
    requireTool('openssl', 'openssl');
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-telemetry-'));
    const lines = [
      '# telemetry users',
      htpasswdLine(users.bcrypt.name, users.bcrypt.password, '-B'),
      htpasswdLine(users.apr1.name, users.apr1.password, '-m'),
      `  ${users.md5crypt.name}:${openssl(['passwd', '-1', users.md5crypt.password])}`,
      htpasswdLine(users.sha512.name, users.sha512.password, '-5'),
      'plain-user:plain-password',
      'not a valid line',
    ];
    assert.match(lines[1] ?? '', /^bcrypt-user:\$2y\$/);
    assert.match(lines[2] ?? '', /^apr1-user:\$apr1\$/);
    assert.match(lines[3] ?? '', /md5-user:\$1\$/);
    await writeFile(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    srv = await startServer({
      configDir: dir,
      config: {
        sftpd: { bindings: [{ port: 0 }] },
        // a path relative to the config dir, as upstream
        telemetry: {
          bind_port: port,
          bind_address: '127.0.0.1',
          auth_user_file: 'htpasswd',
          enable_profiler: true,
        },
      },
    });
  });
  after(async () => {
    await srv.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void it('asks for credentials on /metrics and the profiler, never on /healthz', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    for (const path of ['/metrics', '/debug/pprof/', '/debug/pprof/heap']) {
      const r = await fetch(`${base}${path}`);
      assert.equal(r.status, 401, path);
      assert.equal(r.headers.get('www-authenticate'), 'Basic realm="SFTPGo telemetry"');
    }
  });

  void it('accepts bcrypt, apr1, md5crypt and SHA-512 entries; refuses a wrong password, an unknown user, a plain text entry', async () => {
    for (const u of Object.values(users)) {
      const m = await scrape({ base, headers: auth(u) });
      assert.ok(m.family('sftpgo_uploads_total'), u.name);
      const wrong = await fetch(`${base}/metrics`, {
        headers: auth({ name: u.name, password: `${u.password}x` }),
      });
      assert.equal(wrong.status, 401, `${u.name} with a wrong password`);
    }
    assert.equal(
      (await fetch(`${base}/metrics`, { headers: auth({ name: 'nobody', password: 'x' }) })).status,
      401,
    );
    const plain = await fetch(`${base}/metrics`, {
      headers: auth({ name: 'plain-user', password: 'plain-password' }),
    });
    assert.equal(plain.status, 401);
  });

  void it('curl scrapes with basic auth and gzip', async () => {
    requireTool('curl', 'curl');
    const { name, password } = users.bcrypt;
    const r = await run('curl', [
      '-sS',
      '--compressed',
      '-u',
      `${name}:${password}`,
      '-D',
      '-',
      `${base}/metrics`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [head = '', body = ''] = r.stdout.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.match(head, /content-encoding: gzip/i);
    assert.ok(parsePrometheusText(body).family('sftpgo_login_ok_total'));
    const bad = await run('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-u',
      `${name}:nope`,
      `${base}/metrics`,
    ]);
    assert.equal(bad.stdout, '401');
  });

  void it('sees users added to the file without a restart', async () => {
    const late = { name: 'late-user', password: 'late-password' };
    assert.equal((await fetch(`${base}/metrics`, { headers: auth(late) })).status, 401);
    await appendFile(join(dir, 'htpasswd'), `${htpasswdLine(late.name, late.password, '-B')}\n`);
    assert.equal((await fetch(`${base}/metrics`, { headers: auth(late) })).status, 200);
  });

  void it('the profiler: a heap snapshot that parses', async () => {
    const r = await fetch(`${base}/debug/pprof/heap`, { headers: auth(users.apr1) });
    assert.equal(r.status, 200);
    assert.match(
      r.headers.get('content-disposition') ?? '',
      /attachment; filename="sftpgo-.*\.heapsnapshot"/,
    );
    const snap = (await r.json()) as {
      snapshot: { meta: { node_fields: string[] }; node_count: number };
      nodes: number[];
      strings: string[];
    };
    assert.ok(snap.snapshot.meta.node_fields.includes('name'));
    assert.ok(snap.snapshot.node_count > 0);
    assert.equal(
      snap.nodes.length,
      snap.snapshot.node_count * snap.snapshot.meta.node_fields.length,
    );
    assert.ok(snap.strings.length > 0);
  });

  void it('the profiler: a CPU profile of the seconds asked, one at a time, 60 s at most, stopped when the client leaves', async () => {
    const log = join(dir, 'sftpgo.log');
    const logged = async (msg: string): Promise<number> =>
      (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes(`"message":"${msg}"`))
        .length;
    // a long profile, taken while a second one is asked for, then abandoned by its client
    const started = await logged('CPU profile started');
    const abandoned = await logged('CPU profile abandoned: the client went away');
    const long = new AbortController();
    const first = fetch(`${base}/debug/pprof/profile?seconds=60`, {
      headers: auth(users.apr1),
      signal: long.signal,
    });
    first.catch(() => undefined);
    await waitFor(
      async () => (await logged('CPU profile started')) > started,
      20_000,
      'the first profile to start',
    );
    const busy = await fetch(`${base}/debug/pprof/profile?seconds=1`, {
      headers: auth(users.apr1),
    });
    assert.equal(busy.status, 409);
    long.abort();
    await assert.rejects(first);
    await waitFor(
      async () => (await logged('CPU profile abandoned: the client went away')) > abandoned,
      20_000,
      'the first profile to stop',
    );

    const r = await fetch(`${base}/debug/pprof/profile?seconds=1`, { headers: auth(users.bcrypt) });
    assert.equal(r.status, 200);
    assert.match(
      r.headers.get('content-disposition') ?? '',
      /attachment; filename="sftpgo-.*\.cpuprofile"/,
    );
    const profile = (await r.json()) as {
      nodes: { id: number; callFrame: object }[];
      startTime: number;
      endTime: number;
      samples: number[];
    };
    assert.ok(profile.nodes.length > 0);
    assert.ok(
      profile.nodes.every((n) => typeof n.id === 'number' && typeof n.callFrame === 'object'),
    );
    assert.ok(profile.endTime > profile.startTime);
    assert.ok(Array.isArray(profile.samples));
    const tooLong = await fetch(`${base}/debug/pprof/profile?seconds=61`, {
      headers: auth(users.bcrypt),
    });
    assert.equal(tooLong.status, 400);
    assert.match(await tooLong.text(), /exceeds the maximum of 60 seconds/);
  });
});

void describe('telemetry: HTTPS', () => {
  let srv: TestServer;
  let port: number;
  let ca: Buffer;

  before(async () => {
    requireTool('openssl', 'openssl');
    const certs = await testCerts();
    ca = await readFile(certs.caCert);
    port = await freePort();
    srv = await startServer({
      config: {
        telemetry: {
          bind_port: port,
          bind_address: '127.0.0.1',
          certificate_file: certs.serverCert,
          certificate_key_file: certs.serverKey,
        },
      },
    });
  });
  after(() => srv.stop());

  void it('serves /healthz and /metrics over TLS only', async () => {
    const get = (path: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, path, ca, servername: 'localhost' }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
      });
    assert.deepEqual(await get('/healthz'), { status: 200, body: 'ok' });
    const m = await get('/metrics');
    assert.equal(m.status, 200);
    assert.ok(parsePrometheusText(m.body).family('sftpgo_active_connections'));
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
    assert.match(
      srv.summary,
      new RegExp(`telemetry: +metrics on https://127\\.0\\.0\\.1:${port}/metrics`),
    );
  });

  void it('refuses to start with only one of certificate_file and certificate_key_file', async () => {
    await assert.rejects(
      startServer({
        config: {
          telemetry: {
            bind_port: await freePort(),
            bind_address: '127.0.0.1',
            certificate_file: 'x.crt',
          },
        },
      }),
      /certificate_file and certificate_key_file must be set together/,
    );
  });
});
