/**
 * The login hooks through every protocol's password login: SSH (ssh2 client), FTP (USER/PASS),
 * WebDAV (Basic) and the user REST API token, on one `sftpgo serve` running all four. One table
 * of protocols, iterated for each hook: external auth creates the user on first login (the REST
 * API then shows it) and its refusal refuses; pre-login denies, changes and creates users;
 * check password accepts a password with an OTP suffix through status 2. Also: a program hook
 * that cannot be found refuses the start.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiUser } from '../../../src/api/index.js';
import { RawFtp } from '../../helpers/ftpd.js';
import { HookReceiver } from '../../helpers/hooks.js';
import {
  basicAuth,
  freePort,
  startServer,
  type ConfigOverrides,
  type TestServer,
} from '../../helpers/server.js';
import { ssh2Connect, testHostKeys, waitFor } from '../../helpers/sftpd.js';

type ProtocolName = 'SSH' | 'FTP' | 'DAV' | 'HTTP';

interface Protocol {
  name: ProtocolName;
  /** true when the login succeeded, false when it was refused */
  login(srv: Running, username: string, password: string): Promise<boolean>;
}

interface Running {
  srv: TestServer;
  ports: Record<'SSH' | 'FTP' | 'DAV', number>;
}

const PROTOCOLS: Protocol[] = [
  {
    name: 'SSH',
    async login(r, username, password) {
      try {
        const s = await ssh2Connect(r.ports.SSH, username, { password, sftp: false });
        await s.end();
        return true;
      } catch (e) {
        assert.match((e as Error).message, /All configured authentication methods failed/);
        return false;
      }
    },
  },
  {
    name: 'FTP',
    async login(r, username, password) {
      const c = await RawFtp.connect(r.ports.FTP);
      try {
        assert.equal((await c.read()).code, 220);
        assert.equal((await c.cmd(`USER ${username}`)).code, 331);
        const reply = await c.cmd(`PASS ${password}`);
        assert.ok([230, 530].includes(reply.code), `${reply.code} ${reply.text}`);
        return reply.code === 230;
      } finally {
        c.close();
      }
    },
  },
  {
    name: 'DAV',
    async login(r, username, password) {
      const res = await fetch(`http://127.0.0.1:${r.ports.DAV}/`, {
        method: 'PROPFIND',
        headers: { authorization: basicAuth(username, password), depth: '0' },
      });
      await res.arrayBuffer();
      assert.ok([207, 401].includes(res.status), String(res.status));
      return res.status === 207;
    },
  },
  {
    name: 'HTTP',
    async login(r, username, password) {
      const res = await fetch(`${r.srv.httpUrl}/api/v2/user/token`, {
        headers: { authorization: basicAuth(username, password) },
      });
      await res.arrayBuffer();
      assert.ok([200, 401].includes(res.status), String(res.status));
      return res.status === 200;
    },
  },
];

let dir: string;

async function start(
  dataProvider: ConfigOverrides['data_provider'],
  common: ConfigOverrides['common'] = {},
): Promise<Running> {
  const keys = await testHostKeys();
  const ftpPort = await freePort();
  const davPort = await freePort();
  const srv = await startServer({
    config: {
      sftpd: { host_keys: keys.files },
      ftpd: { bindings: [{ port: ftpPort, address: '127.0.0.1' }] },
      webdavd: { bindings: [{ port: davPort, address: '127.0.0.1' }] },
      data_provider: { password_hashing: { bcrypt_options: { cost: 4 } }, ...dataProvider },
      common,
    },
  });
  const port = (name: string): number => {
    const p = srv.service.servers.find((s) => s.name === name)?.addresses()[0]?.port;
    assert.ok(p, `${name} is running`);
    return p;
  };
  return { srv, ports: { SSH: port('sftpd'), FTP: port('ftpd'), DAV: port('webdavd') } };
}

async function script(name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${lines.join('\n')}\n`);
  await chmod(path, 0o755);
  return path;
}

async function createUser(
  r: Running,
  username: string,
  extra: Partial<ApiUser> = {},
): Promise<void> {
  const res = await r.srv.api('POST', '/users', {
    username,
    password: `pw-${username}`,
    status: 1,
    home_dir: join(dir, 'homes', username),
    permissions: { '/': ['*'] },
    ...extra,
  });
  assert.equal(res.status, 201, res.text);
}

async function logLines(r: Running, re: RegExp): Promise<string[]> {
  const text = await readFile(join(r.srv.configDir, 'sftpgo.log'), 'utf8');
  return text.split('\n').filter((l) => re.test(l));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sftpgo-login-hooks-e2e-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void describe('login hooks through SSH, FTP, WebDAV and the user token', () => {
  void describe('external auth (program)', () => {
    let r: Running;
    let calls: string;
    before(async () => {
      calls = join(dir, 'ext-calls');
      const hook = await script('ext-auth.sh', [
        `printf '%s %s\\n' "$SFTPGO_AUTHD_PROTOCOL" "$SFTPGO_AUTHD_USERNAME" >> ${calls}`,
        'if [ "$SFTPGO_AUTHD_PASSWORD" = empty ]; then exit 0; fi',
        'if [ "$SFTPGO_AUTHD_PASSWORD" = "good-$SFTPGO_AUTHD_USERNAME" ]; then',
        `  printf '{"status":1,"username":"%s","home_dir":"${dir}/homes/%s","permissions":{"/":["*"]},"description":"from the hook"}' "$SFTPGO_AUTHD_USERNAME" "$SFTPGO_AUTHD_USERNAME"`,
        'else exit 1; fi',
      ]);
      // scores high enough never to ban 127.0.0.1, distinct to tell the events apart
      r = await start(
        { external_auth_hook: hook },
        { defender: { enabled: true, threshold: 1000, score_valid: 1, score_invalid: 10 } },
      );
    });
    after(async () => {
      await r.srv.stop();
    });

    for (const p of PROTOCOLS) {
      void it(`${p.name}: the first login creates the user, the REST API shows it; a refusal refuses`, async () => {
        const name = `ext-${p.name.toLowerCase()}`;
        assert.equal((await r.srv.api('GET', `/users/${name}`)).status, 404);
        assert.equal(await p.login(r, name, `good-${name}`), true);
        const shown = await r.srv.api<ApiUser>('GET', `/users/${name}`);
        assert.equal(shown.status, 200);
        assert.equal(shown.body.description, 'from the hook');
        assert.equal(await p.login(r, name, 'wrong'), false);
        const other = `${name}-refused`;
        assert.equal(await p.login(r, other, 'wrong'), false);
        assert.equal((await r.srv.api('GET', `/users/${other}`)).status, 404);
        const seen = (await readFile(calls, 'utf8')).split('\n');
        assert.ok(seen.includes(`${p.name} ${name}`), seen.join('|'));
        assert.ok(seen.includes(`${p.name} ${other}`));
        await waitFor(
          async () =>
            (
              await logLines(
                r,
                new RegExp(
                  `"username":"${other}".*external auth error: hook .*ext-auth\\.sh.*exit status 1`,
                ),
              )
            ).length > 0,
          10_000,
          'a connection_failed line naming the hook',
        );
      });
    }
    void it('the defender scores a refusal as a failed login, an unknown user left unknown as not found', async () => {
      const score = async (): Promise<number> => {
        const hosts = await r.srv.api<{ ip: string; score: number }[]>('GET', '/defender/hosts');
        return hosts.body.find((h) => h.ip === '127.0.0.1')?.score ?? 0;
      };
      const http = PROTOCOLS.find((p) => p.name === 'HTTP');
      assert.ok(http);
      const s0 = await score();
      assert.equal(await http.login(r, 'scored', 'wrong'), false);
      assert.equal(await score(), s0 + 1);
      assert.equal(await http.login(r, 'scored', 'empty'), false);
      assert.equal(await score(), s0 + 11);
    });
  });

  void describe('pre-login (HTTP)', () => {
    let r: Running;
    const receiver = new HookReceiver();
    before(async () => {
      await receiver.start((req) => {
        const u = JSON.parse(req.body) as { id: number; username: string };
        if (u.username.startsWith('deny-')) return { status: 200, body: '{"status":0}' };
        if (u.username.startsWith('ro-'))
          return { status: 200, body: '{"permissions":{"/":["list","download"]}}' };
        if (u.username.startsWith('new-') && u.id === 0) {
          return {
            status: 200,
            body: JSON.stringify({
              status: 1,
              username: u.username,
              password: `pw-${u.username}`,
              home_dir: join(dir, 'homes', u.username),
              permissions: { '/': ['*'] },
            }),
          };
        }
        return { status: 204 };
      });
      r = await start({ pre_login_hook: `${receiver.url}/pre-login` });
    });
    after(async () => {
      await r.srv.stop();
      await receiver.stop();
    });

    for (const p of PROTOCOLS) {
      void it(`${p.name}: denies, changes permissions, creates; the query names the protocol`, async () => {
        const tag = p.name.toLowerCase();
        await createUser(r, `deny-${tag}`);
        await createUser(r, `ro-${tag}`);
        assert.equal(await p.login(r, `deny-${tag}`, `pw-deny-${tag}`), false);
        assert.equal((await r.srv.api<ApiUser>('GET', `/users/deny-${tag}`)).body.status, 0);
        assert.equal(await p.login(r, `ro-${tag}`, `pw-ro-${tag}`), true);
        const ro = await r.srv.api<ApiUser>('GET', `/users/ro-${tag}`);
        assert.deepEqual(ro.body.permissions, { '/': ['list', 'download'] });
        assert.equal(await p.login(r, `new-${tag}`, `pw-new-${tag}`), true);
        assert.equal((await r.srv.api('GET', `/users/new-${tag}`)).status, 200);
        const mine = receiver.requests.filter((q) => q.body.includes(`-${tag}"`));
        assert.ok(mine.length >= 3);
        for (const q of mine) {
          assert.deepEqual(q.query, {
            ip: '127.0.0.1',
            login_method: 'password',
            protocol: p.name,
          });
        }
      });
    }
  });

  void describe('check password (program, status 2 with an OTP suffix)', () => {
    let r: Running;
    before(async () => {
      const hook = await script('check-password.sh', [
        'case "$SFTPGO_AUTHD_PASSWORD" in',
        `  *123456) printf '{"status":2,"to_verify":"%s"}' "\${SFTPGO_AUTHD_PASSWORD%123456}" ;;`,
        `  *) echo '{"status":0}' ;;`,
        'esac',
      ]);
      r = await start({ check_password_hook: hook });
    });
    after(async () => {
      await r.srv.stop();
    });

    for (const p of PROTOCOLS) {
      void it(`${p.name}: the password and the OTP log in, the password alone does not`, async () => {
        const name = `otp-${p.name.toLowerCase()}`;
        await createUser(r, name);
        assert.equal(await p.login(r, name, `pw-${name}123456`), true);
        assert.equal(await p.login(r, name, `pw-${name}`), false);
        assert.equal(await p.login(r, name, `pw-${name}654321`), false);
      });
    }
  });

  void it('a program hook that is not an absolute path, or does not exist, refuses the start', async () => {
    for (const [hook, re] of [
      [
        'hooks/auth.sh',
        /data_provider\.external_auth_hook: invalid hook: "hooks\/auth\.sh" must be an absolute path/,
      ],
      [
        join(dir, 'missing.sh'),
        /data_provider\.external_auth_hook: invalid hook: ".*missing\.sh": ENOENT/,
      ],
    ] as const) {
      await assert.rejects(
        startServer({ config: { data_provider: { external_auth_hook: hook } } }),
        (e: unknown) => re.test((e as Error).message),
      );
    }
  });
});
