/**
 * dumpdata / loaddata: a dump -> wipe -> load round trip keeps every field (password hashes and
 * encrypted secrets as they were), files land only under backups_path with private modes,
 * restore modes and quota scans, and bad input is a 4xx.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../../helpers/server.js';
import { assertApiError, folderBody, userBody } from './util.js';

interface Dump {
  users: Record<string, unknown>[];
  folders: Record<string, unknown>[];
  admins: Record<string, unknown>[];
  version: number;
}

/** what a restore does not carry (ids, counters, last login) */
function comparable(d: Dump): unknown {
  const strip = (o: Record<string, unknown>): Record<string, unknown> => {
    const { id: _i, used_quota_size: _s, used_quota_files: _f, last_quota_update: _q, last_login: _l, ...rest } = o;
    return rest;
  };
  return {
    version: d.version,
    folders: d.folders.map(strip),
    admins: d.admins.map(strip),
    users: d.users.map((u) => ({ ...strip(u), virtual_folders: ((u.virtual_folders ?? []) as Record<string, unknown>[]).map(strip) })),
  };
}

void describe('httpd: dumpdata / loaddata', () => {
  let s: TestServer;
  const backups = (): string => join(s.configDir, 'backups');

  async function dump(): Promise<Dump> {
    const r = await s.api<Dump>('GET', '/dumpdata?output-data=1');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-disposition'), 'attachment; filename="sftpgo-backup.json"');
    return r.body;
  }

  async function wipe(): Promise<void> {
    const d = await dump();
    for (const u of d.users) assert.equal((await s.api('DELETE', `/users/${String(u.username)}`)).status, 200);
    for (const f of d.folders) assert.equal((await s.api('DELETE', `/folders/${String(f.name)}`)).status, 200);
    for (const a of d.admins) {
      if (a.username !== s.admin.username) assert.equal((await s.api('DELETE', `/admins/${String(a.username)}`)).status, 200);
    }
  }

  before(async () => {
    s = await startServer();
    await mkdir(join(s.configDir, 'folders', 'f1'), { recursive: true });
    await writeFile(join(s.configDir, 'folders', 'f1', 'data'), Buffer.alloc(300));
    let r = await s.api('POST', '/folders', folderBody(s, 'f1', { description: 'folder one' }));
    assert.equal(r.status, 201, r.text);
    r = await s.api(
      'POST',
      '/users',
      userBody(s, 'full', {
        description: 'every field',
        quota_size: 10_000,
        quota_files: 100,
        max_sessions: 3,
        upload_bandwidth: 10,
        download_bandwidth: 20,
        expiration_date: 4_102_444_800_000,
        additional_info: 'more',
        public_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPVILdH2u3yV5SAeE6XksD1z1vXRg0E4hJUov8ITDAZ2 full@host'],
        permissions: { '/': ['list', 'download', 'upload'], '/sub': ['*'] },
        filters: {
          allowed_ip: ['10.0.0.0/8'],
          denied_protocols: ['FTP'],
          denied_login_methods: ['keyboard-interactive'],
          file_patterns: [{ path: '/sub', allowed_patterns: ['*.jpg'], denied_patterns: ['*.exe'] }],
          max_upload_file_size: 999,
          web_client: ['publickey-change-disabled'],
          hooks: { pre_login_disabled: true },
        },
        filesystem: { provider: 4, cryptconfig: { passphrase: { status: 'Plain', payload: 'a crypt passphrase' } } },
        virtual_folders: [{ name: 'f1', virtual_path: '/f1', quota_size: 500, quota_files: 5 }],
      }),
    );
    assert.equal(r.status, 201, r.text);
    r = await s.api(
      'POST',
      '/folders',
      folderBody(s, 's3f', {
        filesystem: {
          provider: 1,
          s3config: { bucket: 'b', region: 'r', access_key: 'k', access_secret: { status: 'Plain', payload: 's3 secret' }, key_prefix: 'p/' },
        },
      }),
    );
    assert.equal(r.status, 201, r.text);
    r = await s.api('POST', '/admins', {
      username: 'second',
      password: 'second-pw',
      status: 1,
      email: 'second@example.com',
      permissions: ['view_users', 'manage_system'],
      filters: { allow_list: ['127.0.0.0/8'] },
      description: 'another admin',
      additional_info: 'x',
    });
    assert.equal(r.status, 201, r.text);
  });
  after(async () => {
    await s.stop();
  });

  void it('round trip: dump, wipe, load restores every field with the secrets as encrypted values', async () => {
    const before = await dump();
    assert.equal(before.version, 8);
    const full = before.users.find((u) => u.username === 'full') as { password?: string; filesystem: { cryptconfig: { passphrase: { status: string; payload: string } } } };
    assert.match(full.password ?? '', /^\$2a\$/);
    assert.equal(full.filesystem.cryptconfig.passphrase.status, 'Secretbox');
    assert.ok(!JSON.stringify(before).includes('a crypt passphrase'), 'no plaintext secret in a dump');
    assert.ok(!JSON.stringify(before).includes('s3 secret'));
    await wipe();
    const empty = await dump();
    assert.deepEqual(empty.users, []);
    const r = await s.api('POST', '/loaddata', before);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { message: 'Data restored' });
    const after = await dump();
    assert.deepEqual(comparable(after), comparable(before));
    // the restored credentials work
    await s.token('second', 'second-pw');
    await s.provider.checkUserPassword('full', 'pw-full-secret');
  });

  void it('dumpdata to a file: only under backups_path, dirs 0700, file 0600', async () => {
    const r = await s.api('GET', '/dumpdata?output-file=nested/dir/backup.json&indent=1');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { message: 'Data saved' });
    const file = join(backups(), 'nested', 'dir', 'backup.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(backups(), 'nested'))).mode & 0o777, 0o700);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^\{\n {2}"users"/);
    assert.equal((JSON.parse(text) as Dump).version, 8);
    // an existing symlink at the target is replaced, not followed
    const victim = join(s.configDir, 'victim.txt');
    await writeFile(victim, 'untouched');
    await symlink(victim, join(backups(), 'link.json'));
    assert.equal((await s.api('GET', '/dumpdata?output-file=link.json')).status, 200);
    assert.equal(await readFile(victim, 'utf8'), 'untouched');
    assert.equal((await lstat(join(backups(), 'link.json'))).isSymbolicLink(), false);
    // a symlinked directory leading outside is refused
    await mkdir(join(s.configDir, 'elsewhere'), { recursive: true });
    await symlink(join(s.configDir, 'elsewhere'), join(backups(), 'out'));
    assertApiError(await s.api('GET', '/dumpdata?output-file=out/x.json'), 400, 'invalid output-file');
    for (const bad of ['', '../../x', '/etc/passwd', 'a/../../b', 'dir/', '%00x']) {
      const q = bad === '' ? '' : `?output-file=${bad}`;
      const res = await s.api('GET', `/dumpdata${q}`);
      assert.equal(res.status, 400, `${bad}: ${res.text}`);
    }
    assertApiError(await s.api('GET', '/dumpdata'), 400, 'invalid or missing output-file');
  });

  void it('loaddata modes and quota scans', async () => {
    const d = await dump();
    const changed = JSON.parse(JSON.stringify(d)) as Dump;
    for (const u of changed.users) u.description = 'from the dump';
    // mode 1: existing users untouched
    let r = await s.api('POST', '/loaddata?mode=1', changed);
    assert.equal(r.status, 200, r.text);
    assert.equal((await s.api<{ description?: string }>('GET', '/users/full')).body.description, 'every field');
    // mode 0 with scan-quota 1: updated and scanned
    r = await s.api('POST', '/loaddata?mode=0&scan-quota=1', changed);
    assert.equal(r.status, 200, r.text);
    assert.equal((await s.api<{ description?: string }>('GET', '/users/full')).body.description, 'from the dump');
    for (let i = 0; i < 200; i++) {
      const scans = await s.api<unknown[]>('GET', '/quotas/folders/scans');
      const users = await s.api<unknown[]>('GET', '/quotas/users/scans');
      if (scans.body.length === 0 && users.body.length === 0) break;
      await new Promise((res) => setTimeout(res, 25));
    }
    const f1 = await s.api<{ used_quota_size: number; used_quota_files: number }>('GET', '/folders/f1');
    assert.equal(f1.body.used_quota_size, 300);
    assert.equal(f1.body.used_quota_files, 1);
    // from a file under backups_path, by relative and absolute name
    await s.api('GET', '/dumpdata?output-file=restore/me.json');
    assert.equal((await s.api('GET', '/loaddata?input-file=restore/me.json&mode=2')).status, 200);
    assert.equal((await s.api('GET', `/loaddata?input-file=${encodeURIComponent(join(backups(), 'restore', 'me.json'))}`)).status, 200);
  });

  void it('loaddata bad input: 400 with a message, nothing half-parsed', async () => {
    assertApiError(await s.api('POST', '/loaddata', ''), 400, 'request body is required');
    assertApiError(await s.api('POST', '/loaddata', '{"users": ['), 400, /Unable to parse backup content/);
    assertApiError(await s.api('POST', '/loaddata', '[1,2]'), 400, /expected a JSON object/);
    assertApiError(await s.api('POST', '/loaddata', { version: 99 }), 400, /unsupported backup version 99/);
    assertApiError(await s.api('POST', '/loaddata', { users: [{ username: 'x', home_dir: 'relative' }] }), 400, /unable to restore user "x"/);
    assertApiError(await s.api('POST', '/loaddata?mode=7', { users: [] }), 400, 'invalid mode');
    assertApiError(await s.api('POST', '/loaddata?mode=abc', { users: [] }), 400, 'invalid mode');
    assertApiError(await s.api('POST', '/loaddata?scan-quota=9', { users: [] }), 400, 'invalid scan_quota');
    assertApiError(await s.api('GET', '/loaddata'), 400, 'invalid or missing input-file');
    assertApiError(await s.api('GET', '/loaddata?input-file=../../etc/passwd'), 400, /invalid input-file/);
    assertApiError(await s.api('GET', '/loaddata?input-file=/nonexistent/file.json'), 400, /no such file/);
    assertApiError(await s.api('GET', `/loaddata?input-file=${encodeURIComponent(s.configDir)}`), 400, /directory/);
    const big = join(s.configDir, 'big.json');
    await writeFile(big, Buffer.alloc(10 * 1024 * 1024 + 1, 0x20));
    assertApiError(await s.api('GET', `/loaddata?input-file=${encodeURIComponent(big)}`), 400, /size too big/);
    const notJson = join(s.configDir, 'not.json');
    await writeFile(notJson, 'private data');
    const leak = await s.api('GET', `/loaddata?input-file=${encodeURIComponent(notJson)}`);
    assertApiError(leak, 400, /Unable to parse/);
    assert.ok(!leak.text.includes('private'), `the file content leaked: ${leak.text}`);
    const huge = await s.api('POST', '/loaddata', Buffer.alloc(10 * 1024 * 1024 + 10, 0x20));
    assert.equal(huge.status, 400);
    // permission manage_system is required
    assert.equal((await s.api('POST', '/admins', { username: 'viewer', password: 'viewer-pw', status: 1, permissions: ['view_users'] })).status, 201);
    const vt = await s.token('viewer', 'viewer-pw');
    assertApiError(await s.api('GET', '/dumpdata?output-data=1', undefined, vt), 403, 'Forbidden');
    assertApiError(await s.api('POST', '/loaddata', { users: [] }, vt), 403, 'Forbidden');
  });
});
