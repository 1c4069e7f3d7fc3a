/**
 * The user REST API (audience APIUser): token, logout, password and public key changes,
 * directory listings, downloads with ranges, zip streams; permissions, file patterns and
 * protocol restrictions of src/common apply; hostile paths never leave the user's root and
 * never cause a 500.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { basicAuth, startServer, type TestServer } from '../../helpers/server.js';
import { assertApiError, folderBody, userBody } from './util.js';

const exec = promisify(execFile);

interface DirEntry {
  name: string;
  size?: number;
  mode: number;
  last_modified: string;
}

const GO_DIR = 2147483648;
const GO_SYMLINK = 134217728;

void describe('httpd: user API', () => {
  let s: TestServer;
  let work: string;
  const home = (u: string): string => join(s.configDir, 'homes', u);

  async function login(username: string, password = `pw-${username}-secret`): Promise<string> {
    const r = await s.api<{ access_token: string }>('GET', '/user/token', undefined, null, {
      headers: { authorization: basicAuth(username, password) },
    });
    assert.equal(r.status, 200, r.text);
    return r.body.access_token;
  }

  async function rawPost(token: string, path: string, body: string): Promise<Response> {
    return fetch(`${s.httpUrl}/api/v2${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
  }

  before(async () => {
    s = await startServer();
    work = await mkdtemp(join(tmpdir(), 'sftpgo-userapi-'));
    const h = home('alice');
    await mkdir(join(h, 'docs', 'deep'), { recursive: true });
    await mkdir(join(h, 'private'), { recursive: true });
    await writeFile(join(h, 'a.txt'), 'alpha content');
    await writeFile(join(h, 'docs', 'b.bin'), Buffer.alloc(5000, 1));
    await writeFile(join(h, 'docs', 'deep', 'c.txt'), 'deep file');
    await writeFile(join(h, 'docs', 'skip.exe'), 'not allowed by patterns');
    await writeFile(join(h, 'private', 'secret.txt'), 'no download');
    await symlink('a.txt', join(h, 'link-to-a'));
    await writeFile(join(s.configDir, 'outside.txt'), 'outside the home');
    await mkdir(join(s.configDir, 'folders', 'shared'), { recursive: true });
    await writeFile(join(s.configDir, 'folders', 'shared', 'v.txt'), 'virtual folder file');
    assert.equal((await s.api('POST', '/folders', folderBody(s, 'shared'))).status, 201);
    const r = await s.api(
      'POST',
      '/users',
      userBody(s, 'alice', {
        permissions: { '/': ['*'], '/private': ['list'], '/ziptree/closed': ['download'] },
        filters: { file_patterns: [{ path: '/docs', denied_patterns: ['*.exe'] }] },
        virtual_folders: [{ name: 'shared', virtual_path: '/shared', quota_size: -1, quota_files: -1 }],
      }),
    );
    assert.equal(r.status, 201, r.text);
    assert.equal((await s.api('POST', '/users', userBody(s, 'nohttp', { filters: { denied_protocols: ['HTTP'] } }))).status, 201);
    assert.equal((await s.api('POST', '/users', userBody(s, 'nokeys', { filters: { web_client: ['publickey-change-disabled'] } }))).status, 201);
    assert.equal((await s.api('POST', '/users', userBody(s, 'offline', { status: 0 }))).status, 201);
  });
  after(async () => {
    await s.stop();
    await rm(work, { recursive: true, force: true });
  });

  void it('user tokens: Basic credentials, refused for bad credentials, disabled users, denied HTTP', async () => {
    const t = await login('alice');
    assert.ok(t.length > 20);
    const bad = await s.api('GET', '/user/token', undefined, null, { headers: { authorization: basicAuth('alice', 'wrong') } });
    assertApiError(bad, 401, 'Unauthorized');
    assert.equal(bad.headers.get('www-authenticate'), 'Basic realm="SFTPGo"');
    assertApiError(await s.api('GET', '/user/token', undefined, null), 401, 'Unauthorized');
    assertApiError(await s.api('GET', '/user/token', undefined, null, { headers: { authorization: basicAuth('offline', 'pw-offline-secret') } }), 401, 'Unauthorized');
    assertApiError(await s.api('GET', '/user/token', undefined, null, { headers: { authorization: basicAuth('nohttp', 'pw-nohttp-secret') } }), 403, 'Forbidden');
    // an admin token is not a user token and vice versa
    assertApiError(await s.api('GET', '/user/folder'), 401, 'Your token audience is not valid');
    assertApiError(await s.api('GET', '/users', undefined, t), 401, 'Your token audience is not valid');
  });

  void it('lists directories with Go file modes, virtual folders and symlinks', async () => {
    const t = await login('alice');
    const r = await s.api<DirEntry[]>('GET', '/user/folder', undefined, t);
    assert.equal(r.status, 200, r.text);
    const byName = new Map(r.body.map((e) => [e.name, e]));
    assert.equal(byName.get('a.txt')?.size, 13);
    const fileMode = byName.get('a.txt')?.mode ?? -1;
    assert.ok(fileMode > 0 && fileMode <= 0o7777, `a regular file has only permission bits: ${fileMode}`);
    assert.ok(((byName.get('docs')?.mode ?? 0) & GO_DIR) !== 0);
    assert.equal(byName.get('docs')?.size, undefined);
    assert.ok(((byName.get('shared')?.mode ?? 0) & GO_DIR) !== 0, 'the virtual folder is listed as a directory');
    assert.ok(((byName.get('link-to-a')?.mode ?? 0) & GO_SYMLINK) !== 0);
    assert.match(byName.get('a.txt')?.last_modified ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const sub = await s.api<DirEntry[]>('GET', `/user/folder?path=${encodeURIComponent('docs/deep')}`, undefined, t);
    assert.deepEqual(sub.body.map((e) => e.name), ['c.txt']);
    const v = await s.api<DirEntry[]>('GET', '/user/folder?path=/shared', undefined, t);
    assert.deepEqual(v.body.map((e) => e.name), ['v.txt']);
  });

  void it('hostile and bad paths: never outside the home, never a 500', async () => {
    const t = await login('alice');
    // ".." is cleaned against the virtual root: the listing is the home itself
    const up = await s.api<DirEntry[]>('GET', `/user/folder?path=${encodeURIComponent('../../..')}`, undefined, t);
    assert.equal(up.status, 200);
    assert.ok(!up.body.some((e) => e.name === 'outside.txt' || e.name === 'sftpgo.db'), up.text);
    const esc = await s.api('GET', `/user/file?path=${encodeURIComponent('../outside.txt')}`, undefined, t);
    assertApiError(esc, 404, /not|exist/i);
    for (const p of ['/../../etc/passwd', '%00', 'a.txt%00.png', '/docs/../../../outside.txt']) {
      const r = await s.api('GET', `/user/file?path=${p}`, undefined, t);
      assert.ok(r.status >= 400 && r.status < 500, `${p}: ${r.status} ${r.text}`);
    }
    assertApiError(await s.api('GET', '/user/folder?path=/a.txt', undefined, t), 404, /not a directory/);
    assertApiError(await s.api('GET', '/user/folder?path=/nope', undefined, t), 404, /not|exist/i);
    assertApiError(await s.api('GET', '/user/file', undefined, t), 400, 'Please set the path to a valid file');
    assertApiError(await s.api('GET', '/user/file?path=/docs', undefined, t), 400, /is a directory/);
    const zipEsc = await s.api('POST', '/user/streamzip', ['../../../outside.txt'], t);
    assertApiError(zipEsc, 404, /not|exist/i);
    const zipBad = await s.api('POST', '/user/streamzip', [1, 2], t);
    assertApiError(zipBad, 400, /must be a string/);
    const zipNotJson = await rawPost(t, '/user/streamzip', '["/a.txt"');
    assert.equal(zipNotJson.status, 400);
  });

  void it('downloads files with ranges, permissions and patterns enforced', async () => {
    const t = await login('alice');
    const full = await fetch(`${s.httpUrl}/api/v2/user/file?path=/docs/b.bin`, { headers: { authorization: `Bearer ${t}` } });
    assert.equal(full.status, 200);
    assert.equal(full.headers.get('accept-ranges'), 'bytes');
    assert.equal(full.headers.get('content-length'), '5000');
    assert.match(full.headers.get('content-disposition') ?? '', /attachment; filename="b.bin"/);
    assert.deepEqual(Buffer.from(await full.arrayBuffer()), Buffer.alloc(5000, 1));
    const ranges: [string, number, string][] = [
      ['bytes=0-4', 206, 'alpha'],
      ['bytes=6-', 206, 'content'],
      ['bytes=-7', 206, 'content'],
      ['bytes=6-1000', 206, 'content'],
    ];
    for (const [range, status, text] of ranges) {
      const r = await s.api('GET', '/user/file?path=/a.txt', undefined, t, { headers: { range } });
      assert.equal(r.status, status, range);
      assert.equal(r.text, text, range);
    }
    const cr = await s.api('GET', '/user/file?path=/a.txt', undefined, t, { headers: { range: 'bytes=2-3' } });
    assert.equal(cr.headers.get('content-range'), 'bytes 2-3/13');
    for (const range of ['bytes=100-', 'bytes=5-2', 'bytes=0-1,3-4', 'bytes=x-y']) {
      const r = await s.api('GET', '/user/file?path=/a.txt', undefined, t, { headers: { range } });
      assert.equal(r.status, 416, `${range}: ${r.text}`);
    }
    assertApiError(await s.api('GET', '/user/file?path=/private/secret.txt', undefined, t), 403, /permission denied/);
    assertApiError(await s.api('GET', '/user/file?path=/docs/skip.exe', undefined, t), 403, /not allowed/);
    const v = await s.api('GET', '/user/file?path=/shared/v.txt', undefined, t);
    assert.equal(v.text, 'virtual folder file');
  });

  void it('HTTP downloads appear as connections while they run and leave none behind', async () => {
    const t = await login('alice');
    await writeFile(join(home('alice'), 'big.bin'), Buffer.alloc(32 * 1024 * 1024, 9));
    const auth = { authorization: `Bearer ${t}` };
    const connections = async (): Promise<{ protocol: string; username: string; active_transfers?: unknown[] }[]> =>
      (await s.api<{ protocol: string; username: string; active_transfers?: unknown[] }[]>('GET', '/connections', undefined, undefined, { validate: false })).body;
    const waitNone = async (): Promise<void> => {
      for (let i = 0; i < 200 && (await connections()).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.deepEqual(await connections(), []);
    };
    // a download in progress is listed (protocol HTTP, one active transfer)
    const ac = new AbortController();
    const res = await fetch(`${s.httpUrl}/api/v2/user/file?path=/big.bin`, { headers: auth, signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = res.body?.getReader();
    await reader?.read();
    const during = await connections();
    assert.equal(during.length, 1);
    assert.equal(during[0]?.protocol, 'HTTP');
    assert.equal(during[0]?.username, 'alice');
    assert.equal(during[0]?.active_transfers?.length, 1);
    // the client goes away mid-file: the transfer and the connection are released
    ac.abort();
    await reader?.cancel().catch(() => undefined);
    await waitNone();
    // HEAD answers the headers only and releases everything too
    const head = await fetch(`${s.httpUrl}/api/v2/user/file?path=/a.txt`, { method: 'HEAD', headers: auth });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '13');
    await waitNone();
    await s.api('GET', '/user/file?path=/a.txt', undefined, t);
    await waitNone();
  });

  void it('zips files and folders on the fly, skipping what may not be downloaded', async () => {
    const t = await login('alice');
    const r = await rawPost(t, '/user/streamzip', JSON.stringify(['/a.txt', '/docs', '/docs/deep/c.txt', '/shared', '/private', '/link-to-a']));
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/zip');
    assert.equal(r.headers.get('content-disposition'), 'attachment; filename="sftpgo-download.zip"');
    const zipPath = join(work, 'out.zip');
    await writeFile(zipPath, Buffer.from(await r.arrayBuffer()));
    const out = join(work, 'unzipped');
    await exec('unzip', ['-q', '-o', zipPath, '-d', out]);
    const list = (await exec('zipinfo', ['-1', zipPath])).stdout.trim().split('\n').sort();
    assert.deepEqual(list, [
      'a.txt',
      'docs/',
      'docs/b.bin',
      'docs/deep/',
      'docs/deep/c.txt',
      'link-to-a',
      'private/',
      'shared/',
      'shared/v.txt',
    ]);
    assert.equal(await readFile(join(out, 'a.txt'), 'utf8'), 'alpha content');
    assert.deepEqual(await readFile(join(out, 'docs', 'b.bin')), Buffer.alloc(5000, 1));
    assert.equal(await readFile(join(out, 'docs', 'deep', 'c.txt'), 'utf8'), 'deep file');
    assert.equal(await readFile(join(out, 'shared', 'v.txt'), 'utf8'), 'virtual folder file');
    // the explicitly requested symlink is followed (inside the home), as upstream Stat
    assert.equal(await readFile(join(out, 'link-to-a'), 'utf8'), 'alpha content');
    const empty = await rawPost(t, '/user/streamzip', '[]');
    assert.equal(empty.status, 200);
    assert.equal(Buffer.from(await empty.arrayBuffer()).readUInt32LE(0), 0x06054b50, 'an empty zip is just the end record');
    const denied = await s.api('POST', '/user/streamzip', ['/private/secret.txt'], t);
    assert.equal(denied.status, 200, 'a listed file without download permission is skipped');
  });

  void it('zips a tree as the common walk shows it: no unlistable directory, no symlink followed', async () => {
    const t = await login('alice');
    const h = home('alice');
    await mkdir(join(h, 'ziptree', 'closed'), { recursive: true });
    await mkdir(join(h, 'ziptree', 'sub'), { recursive: true });
    await writeFile(join(h, 'ziptree', 'ok.txt'), 'ok');
    await writeFile(join(h, 'ziptree', 'closed', 'c.txt'), 'not listable');
    await writeFile(join(h, 'ziptree', 'sub', 'd.txt'), 'd');
    await symlink('..', join(h, 'ziptree', 'sub', 'loop'));
    const r = await rawPost(t, '/user/streamzip', JSON.stringify(['/ziptree']));
    assert.equal(r.status, 200);
    const zipPath = join(work, 'tree.zip');
    await writeFile(zipPath, Buffer.from(await r.arrayBuffer()));
    const list = (await exec('zipinfo', ['-1', zipPath])).stdout.trim().split('\n').sort();
    assert.deepEqual(list, ['ziptree/', 'ziptree/ok.txt', 'ziptree/sub/', 'ziptree/sub/d.txt']);
  });

  void it('changes the password and the public keys', async () => {
    await s.api('POST', '/users', userBody(s, 'bob'));
    const t = await login('bob');
    assertApiError(await s.api('PUT', '/user/changepwd', { current_password: 'pw-bob-secret' }, t), 400, /provide/);
    assertApiError(await s.api('PUT', '/user/changepwd', { current_password: 'pw-bob-secret', new_password: 'pw-bob-secret' }, t), 400, /different/);
    assertApiError(await s.api('PUT', '/user/changepwd', { current_password: 'bad', new_password: 'new-pw' }, t), 400, 'current password does not match');
    assertApiError(await s.api('PUT', '/user/changepwd', { current_password: 1 }, t), 400, /current_password/);
    const ok = await s.api('PUT', '/user/changepwd', { current_password: 'pw-bob-secret', new_password: 'new-pw' }, t);
    assert.equal(ok.status, 200, ok.text);
    await login('bob', 'new-pw');
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPVILdH2u3yV5SAeE6XksD1z1vXRg0E4hJUov8ITDAZ2 bob@host';
    assert.equal((await s.api('PUT', '/user/publickeys', [key], t)).status, 200);
    assert.deepEqual((await s.api('GET', '/user/publickeys', undefined, t)).body, [key]);
    assertApiError(await s.api('PUT', '/user/publickeys', ['ssh-rsa AAAAbroken'], t), 400, /key/);
    assertApiError(await s.api('PUT', '/user/publickeys', { keys: [] }, t), 400, /must be an array/);
    const nk = await login('nokeys');
    assertApiError(await s.api('GET', '/user/publickeys', undefined, nk), 403, 'Forbidden');
    assertApiError(await s.api('PUT', '/user/publickeys', [key], nk), 403, 'Forbidden');
  });

  void it('a user disabled after login is refused with its still valid token', async () => {
    await s.api('POST', '/users', userBody(s, 'carol'));
    const t = await login('carol');
    assert.equal((await s.api('GET', '/user/folder', undefined, t)).status, 200);
    assert.equal((await s.api('PUT', '/users/carol', { status: 0 })).status, 200);
    assertApiError(await s.api('GET', '/user/folder', undefined, t), 403, 'Forbidden');
    assert.equal((await s.api('DELETE', '/users/carol')).status, 200);
    assertApiError(await s.api('GET', '/user/folder', undefined, t), 404, 'Unable to retrieve your user');
    const lo = await s.api('GET', '/user/logout', undefined, t);
    assert.equal(lo.status, 200);
    assertApiError(await s.api('GET', '/user/folder', undefined, t), 401, 'Your token is no longer valid');
  });
});
