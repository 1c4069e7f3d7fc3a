/**
 * WebDAV file operations against the real server with curl, rclone and fetch: byte-exact
 * put/get, Range and conditional GETs, properties, permissions and quotas through the core
 * (403 / 507 where 2.1.2 answered 200-cut-off / 404 / 405), failed PUTs keeping the old file,
 * COPY/MOVE/DELETE of collections, the LOCK / PUT with If / UNLOCK cycle of office suites,
 * connections in the registry, hostile paths, and SFTP <-> WebDAV byte-exact.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ssh2Connect, waitFor } from '../../helpers/sftpd.js';
import {
  dav,
  rclone,
  requireDavTools,
  run,
  sha256,
  startDavTestServer,
  type DavTestEnv,
  type DavUser,
} from '../../helpers/webdavd.js';

const perms = (p: Record<string, string[]>): never => p as never;

void describe('webdavd transfers', () => {
  let env: DavTestEnv;
  let user: DavUser;

  before(async () => {
    requireDavTools();
    env = await startDavTestServer();
    user = await env.createUser();
  });

  after(async () => {
    await env?.stop();
  });

  void it('answers an anonymous OPTIONS with the DAV headers and 401s anything else', async () => {
    const o = await dav(env, undefined, 'OPTIONS', '/');
    assert.equal(o.status, 200);
    assert.equal(o.headers.get('dav'), '1, 2');
    assert.equal(o.headers.get('ms-author-via'), 'DAV');
    const p = await dav(env, undefined, 'PROPFIND', '/', { headers: { depth: '0' } });
    assert.equal(p.status, 401);
    assert.equal(p.headers.get('www-authenticate'), 'Basic realm="SFTPGo WebDAV"');
    const bad = await dav(env, { ...user, auth: `Basic ${Buffer.from(`${user.username}:nope`).toString('base64')}` }, 'GET', '/x');
    assert.equal(bad.status, 401);
    const ok = await dav(env, user, 'PROPFIND', '/', { headers: { depth: '0' } });
    assert.equal(ok.status, 207);
    assert.equal(ok.headers.get('server'), null, 'no library name and version');
    assert.equal(ok.headers.get('x-powered-by'), null);
  });

  void it('puts and gets byte-exact with curl and rclone', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const local = join(env.dir, 'curl-src.bin');
    await writeFile(local, data);
    const put = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-u', `${user.username}:${user.password}`, '-T', local, `${env.url}/curl.bin`]);
    assert.equal(put.stdout, '201');
    assert.equal(sha256(await readFile(join(user.home, 'curl.bin'))), sha256(data));
    const out = join(env.dir, 'curl-dst.bin');
    const get = await run('curl', ['-sS', '-f', '-u', `${user.username}:${user.password}`, '-o', out, `${env.url}/curl.bin`]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(sha256(await readFile(out)), sha256(data));

    // rclone: a directory tree up and down
    const tree = join(env.dir, 'tree');
    await mkdir(join(tree, 'sub'), { recursive: true });
    const a = randomBytes(70_000);
    const b = randomBytes(5);
    await writeFile(join(tree, 'a.bin'), a);
    await writeFile(join(tree, 'sub', 'b.txt'), b);
    const up = await rclone(env, user, ['copy', tree, ':webdav:rc']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(sha256(await readFile(join(user.home, 'rc', 'sub', 'b.txt'))), sha256(b));
    const down = join(env.dir, 'down');
    const dl = await rclone(env, user, ['copy', ':webdav:rc', down]);
    assert.equal(dl.code, 0, dl.stderr);
    assert.equal(sha256(await readFile(join(down, 'a.bin'))), sha256(a));
    assert.equal(sha256(await readFile(join(down, 'sub', 'b.txt'))), sha256(b));
    const ls = await rclone(env, user, ['lsf', '-R', ':webdav:rc']);
    assert.deepEqual(ls.stdout.split('\n').filter(Boolean).sort(), ['a.bin', 'sub/', 'sub/b.txt']);
  });

  void it('serves ranges and conditional GETs', async () => {
    const data = Buffer.from('0123456789abcdefghij');
    assert.equal((await dav(env, user, 'PUT', '/range.txt', { body: data })).status, 201);
    const r = await dav(env, user, 'GET', '/range.txt', { headers: { range: 'bytes=5-9' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get('content-range'), 'bytes 5-9/20');
    assert.equal(await r.text(), '56789');
    const c = await run('curl', ['-sS', '-u', `${user.username}:${user.password}`, '-r', '-3', `${env.url}/range.txt`]);
    assert.equal(c.stdout, 'hij');
    const bad = await dav(env, user, 'GET', '/range.txt', { headers: { range: 'bytes=50-60' } });
    assert.equal(bad.status, 416);
    const full = await dav(env, user, 'GET', '/range.txt');
    const etag = full.headers.get('etag');
    assert.ok(etag);
    assert.equal(full.headers.get('accept-ranges'), 'bytes');
    await full.arrayBuffer();
    // curl: fetch() adds Cache-Control: no-cache to conditional requests, and nephele then
    // ignores If-None-Match
    const nm = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-u', `${user.username}:${user.password}`, '-H', `If-None-Match: ${etag}`, `${env.url}/range.txt`]);
    assert.equal(nm.stdout, '304');
    const ims = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-u', `${user.username}:${user.password}`, '-z', new Date(Date.now() + 60_000).toUTCString(), `${env.url}/range.txt`]);
    assert.equal(ims.stdout, '304');
    const pf = await dav(env, user, 'GET', '/range.txt', { headers: { 'if-match': '"nope"' } });
    assert.equal(pf.status, 412);
  });

  void it('reports the live properties, quota ones included', async () => {
    await dav(env, user, 'PUT', '/props.json', { body: '{"a":1}' });
    const body =
      '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/><D:getcontenttype/><D:getetag/><D:getlastmodified/><D:quota-used-bytes/><D:quota-available-bytes/></D:prop></D:propfind>';
    const r = await dav(env, user, 'PROPFIND', '/props.json', { headers: { depth: '0', 'content-type': 'application/xml' }, body });
    assert.equal(r.status, 207);
    const xml = await r.text();
    assert.match(xml, /getcontentlength>7</);
    assert.match(xml, /getcontenttype>application\/json</);
    assert.match(xml, /getetag>"[0-9a-f]+"</);
    assert.match(xml, /getlastmodified>\w{3}, \d\d \w{3} \d{4}/);
    assert.match(xml, /quota-used-bytes>\d+</);
  });

  void it('refuses a download without permission with 403 before any byte (2.1.2: a cut-off 200)', async () => {
    const u = await env.createUser({ permissions: perms({ '/': ['*'], '/nodl': ['list', 'upload'] }) });
    assert.equal((await dav(env, u, 'MKCOL', '/nodl')).status, 201);
    assert.equal((await dav(env, u, 'PUT', '/nodl/f.txt', { body: 'secret' })).status, 201);
    const r = await dav(env, u, 'GET', '/nodl/f.txt');
    assert.equal(r.status, 403);
    assert.doesNotMatch(await r.text(), /secret/);
    const w = await dav(env, u, 'PUT', '/nodl/g.txt', { body: 'x' });
    assert.equal(w.status, 201);
    const ro = await env.createUser({ permissions: perms({ '/': ['list', 'download'] }) });
    assert.equal((await dav(env, ro, 'PUT', '/x.txt', { body: 'x' })).status, 403);
    assert.equal((await dav(env, ro, 'MKCOL', '/d')).status, 403);
  });

  void it('downloads without list permission, but neither stats nor lists there', async () => {
    const u = await env.createUser({ permissions: perms({ '/': ['*'], '/nolist': ['download'] }) });
    await mkdir(join(u.home, 'nolist'));
    await writeFile(join(u.home, 'nolist', 'n.txt'), 'known name');
    const g = await dav(env, u, 'GET', '/nolist/n.txt');
    assert.equal(g.status, 200);
    assert.equal(await g.text(), 'known name');
    assert.equal((await dav(env, u, 'PROPFIND', '/nolist/n.txt', { headers: { depth: '0' } })).status, 403);
    assert.equal((await dav(env, u, 'PROPFIND', '/nolist/', { headers: { depth: '1' } })).status, 403);
  });

  void it('answers 507 over quota and keeps the old file when a PUT fails', async () => {
    const u = await env.createUser({ quota_size: 1000 });
    const old = randomBytes(300);
    assert.equal((await dav(env, u, 'PUT', '/q.bin', { body: old })).status, 201);
    // mid-body overflow: the replacement is refused, the old content stays
    const big = await dav(env, u, 'PUT', '/q.bin', { body: randomBytes(5000) });
    assert.equal(big.status, 507);
    assert.equal(sha256(await readFile(join(u.home, 'q.bin'))), sha256(old));
    assert.deepEqual((await readdir(u.home)).sort(), ['q.bin']);
    // a client that goes away mid-body: the old content stays, no temp file is left
    await abortedPut(env, u, '/q.bin', 800, 200);
    await waitFor(() => env.connections().every((c) => c.username !== u.username), 5000, 'the aborted PUT to end');
    assert.equal(sha256(await readFile(join(u.home, 'q.bin'))), sha256(old));
    assert.deepEqual((await readdir(u.home)).sort(), ['q.bin']);
    // a new file (upload_mode 0: written in place) over the quota or cut short: nothing is left
    assert.equal((await dav(env, u, 'PUT', '/new.bin', { body: randomBytes(5000) })).status, 507);
    await abortedPut(env, u, '/cut.bin', 600, 200);
    await waitFor(() => env.connections().every((c) => c.username !== u.username), 5000, 'the aborted PUT to end');
    assert.deepEqual((await readdir(u.home)).sort(), ['q.bin']);
    // the counters know only the old file
    const quotaProps =
      '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-used-bytes/></D:prop></D:propfind>';
    const used = await dav(env, u, 'PROPFIND', '/', { headers: { depth: '0', 'content-type': 'application/xml' }, body: quotaProps });
    assert.match(await used.text(), /quota-used-bytes>300</);
    // the quota is full at open: 507 (2.1.2: 404)
    const files = await env.createUser({ quota_files: 1 });
    assert.equal((await dav(env, files, 'PUT', '/1', { body: 'a' })).status, 201);
    assert.equal((await dav(env, files, 'PUT', '/2', { body: 'b' })).status, 507);
  });

  void it('copies, moves and deletes collections through the core with permissions and quotas', async () => {
    const u = await env.createUser({ permissions: perms({ '/': ['*'], '/ro': ['list', 'download'] }) });
    await mkdir(join(u.home, 'src', 'deep'), { recursive: true });
    await mkdir(join(u.home, 'ro'), { recursive: true });
    const f1 = randomBytes(1000);
    await writeFile(join(u.home, 'src', 'one.bin'), f1);
    await writeFile(join(u.home, 'src', 'deep', 'two.txt'), 'two');
    const copy = (from: string, to: string, h: Record<string, string> = {}): Promise<Response> =>
      dav(env, u, 'COPY', from, { headers: { destination: `${env.url}${to}`, ...h } });
    assert.equal((await copy('/src', '/dst')).status, 201);
    assert.equal(sha256(await readFile(join(u.home, 'dst', 'one.bin'))), sha256(f1));
    assert.equal(await readFile(join(u.home, 'dst', 'deep', 'two.txt'), 'utf8'), 'two');
    // Overwrite: F on an existing destination
    assert.equal((await copy('/src', '/dst', { overwrite: 'F' })).status, 412);
    // Overwrite: T replaces (no merge): an extra file in the destination disappears
    await writeFile(join(u.home, 'dst', 'extra'), 'x');
    assert.equal((await copy('/src', '/dst', { overwrite: 'T' })).status, 204);
    await assert.rejects(stat(join(u.home, 'dst', 'extra')));
    // Depth 0: the collection alone
    assert.equal((await copy('/src', '/shallow', { depth: '0' })).status, 201);
    assert.deepEqual(await readdir(join(u.home, 'shallow')), []);
    // no upload permission at the destination
    assert.equal((await copy('/src', '/ro/x')).status, 403);
    await assert.rejects(stat(join(u.home, 'ro', 'x')));
    // MOVE of a collection, then DELETE
    const mv = await dav(env, u, 'MOVE', '/dst', { headers: { destination: `${env.url}/moved` } });
    assert.equal(mv.status, 201);
    assert.equal(await readFile(join(u.home, 'moved', 'deep', 'two.txt'), 'utf8'), 'two');
    assert.equal((await dav(env, u, 'DELETE', '/moved')).status, 204);
    await assert.rejects(stat(join(u.home, 'moved')));
    // a copy that would exceed the quota is refused before anything is written
    const q = await env.createUser({ quota_size: 1500 });
    await mkdir(join(q.home, 'src'));
    await writeFile(join(q.home, 'src', 'a'), randomBytes(600));
    await env.srv.api('PUT', `/quotas/users/${q.username}/usage`, { used_quota_size: 600, used_quota_files: 1 });
    const r = await dav(env, q, 'COPY', '/src', { headers: { destination: `${env.url}/c1` } });
    assert.equal(r.status, 201);
    const r2 = await dav(env, q, 'COPY', '/src', { headers: { destination: `${env.url}/c2` } });
    assert.equal(r2.status, 507);
    await assert.rejects(stat(join(q.home, 'c2')));
  });

  void it('lets rclone and curl copy and move collections server-side within the permissions', async () => {
    const u = await env.createUser({ permissions: perms({ '/': ['*'], '/locked': ['list', 'download'] }) });
    await mkdir(join(u.home, 'tree', 'sub'), { recursive: true });
    await mkdir(join(u.home, 'locked'));
    const a = randomBytes(10_000);
    await writeFile(join(u.home, 'tree', 'a.bin'), a);
    await writeFile(join(u.home, 'tree', 'sub', 'b.txt'), 'b');
    // rclone's server-side directory move is one MOVE of the collection
    const mv = await rclone(env, u, ['moveto', ':webdav:tree', ':webdav:tree2', '-v']);
    assert.equal(mv.code, 0, mv.stderr);
    assert.equal(sha256(await readFile(join(u.home, 'tree2', 'a.bin'))), sha256(a));
    await assert.rejects(stat(join(u.home, 'tree')));
    // into a directory without upload/create_dirs: refused, nothing written
    const denied = await rclone(env, u, ['moveto', ':webdav:tree2', ':webdav:locked/tree3']);
    assert.notEqual(denied.code, 0);
    assert.deepEqual(await readdir(join(u.home, 'locked')), []);
    assert.equal(sha256(await readFile(join(u.home, 'tree2', 'a.bin'))), sha256(a));
    // curl COPY of the collection, byte-exact
    const cp = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-u', `${u.username}:${u.password}`, '-X', 'COPY', '-H', `Destination: ${env.url}/copy`, `${env.url}/tree2/`]);
    assert.equal(cp.stdout, '201');
    assert.equal(sha256(await readFile(join(u.home, 'copy', 'a.bin'))), sha256(a));
    assert.equal(await readFile(join(u.home, 'copy', 'sub', 'b.txt'), 'utf8'), 'b');
    const again = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-u', `${u.username}:${u.password}`, '-X', 'COPY', '-H', 'Overwrite: F', '-H', `Destination: ${env.url}/copy`, `${env.url}/tree2/`]);
    assert.equal(again.stdout, '412');
  });

  void it('runs the LOCK / PUT with If / UNLOCK cycle of office suites', async () => {
    const lockBody =
      '<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>office</D:owner></D:lockinfo>';
    const l = await dav(env, user, 'LOCK', '/doc.odt', {
      headers: { 'content-type': 'application/xml', timeout: 'Second-600', depth: '0' },
      body: lockBody,
    });
    assert.equal(l.status, 201);
    const token = l.headers.get('lock-token');
    assert.ok(token, 'Lock-Token header');
    assert.match(await l.text(), /lockdiscovery/);
    // another client (no token) cannot write
    assert.equal((await dav(env, user, 'PUT', '/doc.odt', { body: 'intruder' })).status, 423);
    // the owner saves with its token
    const put = await dav(env, user, 'PUT', '/doc.odt', { headers: { if: `(${token})` }, body: 'v2' });
    assert.ok(put.status === 204 || put.status === 201, `PUT with If: ${put.status}`);
    assert.equal(await readFile(join(user.home, 'doc.odt'), 'utf8'), 'v2');
    // LibreOffice tags its list with the resource URL
    const tagged = await dav(env, user, 'PUT', '/doc.odt', { headers: { if: `<${env.url}/doc.odt> (${token})` }, body: 'v2b' });
    assert.equal(tagged.status, 204);
    assert.equal(await readFile(join(user.home, 'doc.odt'), 'utf8'), 'v2b');
    // the lock shows in lockdiscovery
    const pf = await dav(env, user, 'PROPFIND', '/doc.odt', {
      headers: { depth: '0', 'content-type': 'application/xml' },
      body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>',
    });
    assert.match(await pf.text(), new RegExp(token.replace(/[<>]/g, '')));
    // refresh
    const ref = await dav(env, user, 'LOCK', '/doc.odt', { headers: { if: `(${token})`, timeout: 'Second-600' } });
    assert.equal(ref.status, 200);
    // a bogus token is refused, the right one unlocks
    assert.equal((await dav(env, user, 'UNLOCK', '/doc.odt', { headers: { 'lock-token': '<urn:uuid:00000000-0000-0000-0000-000000000000>' } })).status, 409);
    assert.equal((await dav(env, user, 'UNLOCK', '/doc.odt', { headers: { 'lock-token': token } })).status, 204);
    assert.equal((await dav(env, user, 'PUT', '/doc.odt', { body: 'v3' })).status, 204);
  });

  void it('paces uploads and downloads to the user bandwidth through the core transfers', async () => {
    // 64 KiB/s: 256 KiB take ~3 s after the first burst; the server reads the body as it writes
    const u = await env.createUser({ upload_bandwidth: 64, download_bandwidth: 64 });
    const data = randomBytes(256 * 1024);
    let t = Date.now();
    const { done, sizes } = trackedPut(env, u, '/paced.bin', data, () =>
      env.connections().find((c) => c.username === u.username)?.active_transfers?.[0]?.size,
    );
    const status = await done;
    const upMs = Date.now() - t;
    assert.equal(status, 201);
    assert.ok(upMs >= 2000, `upload took ${upMs} ms`);
    // the transfer grew while the body was still arriving: the body was not buffered first
    assert.ok(sizes.some((x) => x > 0 && x < data.length), `sizes seen: ${sizes.join(',')}`);
    t = Date.now();
    const g = await dav(env, u, 'GET', '/paced.bin');
    assert.equal(sha256(Buffer.from(await g.arrayBuffer())), sha256(data));
    const downMs = Date.now() - t;
    assert.ok(downMs >= 2000, `download took ${downMs} ms`);
  });

  void it('lists each request as a DAV connection with its transfer, and closes it', async () => {
    const u = await env.createUser();
    const { done } = slowPut(env, u, '/slow.bin');
    await waitFor(() => env.connections().some((c) => c.username === u.username && (c.active_transfers?.length ?? 0) > 0), 5000, 'the upload to be listed');
    const c = env.connections().find((x) => x.username === u.username);
    assert.ok(c);
    assert.equal(c.protocol, 'DAV');
    assert.match(c.connection_id, /^DAV_[0-9a-v]{20}$/);
    assert.equal(c.active_transfers?.[0]?.operation_type, 'upload');
    const del = await env.srv.api('DELETE', `/connections/${c.connection_id}`);
    assert.equal(del.status, 200);
    await done;
    await waitFor(() => env.connections().every((x) => x.username !== u.username), 5000, 'the connection to go');
    await assert.rejects(stat(join(u.home, 'slow.bin')));
  });

  void it('denies the DAV protocol and disabled users through the login checks', async () => {
    const denied = await env.createUser({ filters: { denied_protocols: ['DAV'] } as never });
    const r = await dav(env, denied, 'PROPFIND', '/', { headers: { depth: '0' } });
    assert.equal(r.status, 403);
    assert.match(await r.text(), /protocol DAV is not allowed/);
    const ip = await env.createUser({ filters: { denied_ip: ['127.0.0.0/8'] } as never });
    assert.equal((await dav(env, ip, 'PROPFIND', '/', { headers: { depth: '0' } })).status, 403);
  });

  void it('keeps hostile paths inside the home directory', async () => {
    const u = await env.createUser();
    await writeFile(join(env.dir, 'outside.txt'), 'outside');
    for (const p of ['/%2e%2e/%2e%2e/outside.txt', '/..%2f..%2foutside.txt', '/%2e%2e%2f%2e%2e%2foutside.txt']) {
      const r = await dav(env, u, 'GET', p);
      assert.notEqual(r.status, 200, p);
    }
    // double-encoded: one decoding, the name is literally "%2e%2e"
    assert.equal((await dav(env, u, 'PUT', '/%252e%252e', { body: 'dd' })).status, 201);
    assert.equal(await readFile(join(u.home, '%2e%2e'), 'utf8'), 'dd');
    // a backslash is a name character
    assert.equal((await dav(env, u, 'PUT', '/..%5c..%5cbs.txt', { body: 'bs' })).status, 201);
    assert.equal(await readFile(join(u.home, '..\\..\\bs.txt'), 'utf8'), 'bs');
    // PUT through an encoded parent reference lands inside the home
    const up = await dav(env, u, 'PUT', '/%2e%2e/escape.txt', { body: 'e' });
    assert.ok(up.status === 201 || up.status === 400, `status ${up.status}`);
    await assert.rejects(stat(join(env.dir, 'escape.txt')));
    // COPY/MOVE destinations are held to the same rules
    await dav(env, u, 'PUT', '/c.txt', { body: 'c' });
    const cp = await dav(env, u, 'COPY', '/c.txt', { headers: { destination: `${env.url}/%2e%2e/%2e%2e/copied.txt` } });
    assert.ok(cp.status < 300 || cp.status === 400, `COPY status ${cp.status}`);
    await assert.rejects(stat(join(env.dir, 'copied.txt')));
    const nul = await dav(env, u, 'GET', '/a%00b');
    assert.equal(nul.status, 400);
    // literal ".." segments (sent raw; fetch would resolve them) stay inside the home
    await writeFile(join(u.home, 'inside.txt'), 'inside');
    const raw = await rawGet(env, u, '/../../../inside.txt');
    assert.equal(raw.status, 200);
    assert.equal(raw.body, 'inside');
    assert.equal((await rawGet(env, u, '/../../outside.txt')).status, 404);
    // DELETE of a symlink leading outside removes the link only
    const { symlink } = await import('node:fs/promises');
    await symlink(join(env.dir, 'outside.txt'), join(u.home, 'out-link'));
    assert.equal((await dav(env, u, 'GET', '/out-link')).status, 403);
    assert.equal((await dav(env, u, 'DELETE', '/out-link')).status, 204);
    await assert.rejects(stat(join(u.home, 'out-link')));
    assert.equal(await readFile(join(env.dir, 'outside.txt'), 'utf8'), 'outside');
  });

  void it('reads over WebDAV what SFTP wrote, and the reverse, byte-exact', async () => {
    const u = await env.createUser();
    const port = env.srv.sftpPort;
    assert.ok(port);
    const s = await ssh2Connect(port, u.username, { password: u.password });
    try {
      const viaSftp = randomBytes(600_000);
      const local = join(env.dir, 'via-sftp.bin');
      await writeFile(local, viaSftp);
      await s.call('fastPut', local, '/via-sftp.bin');
      const g = await dav(env, u, 'GET', '/via-sftp.bin');
      assert.equal(g.status, 200);
      assert.equal(sha256(Buffer.from(await g.arrayBuffer())), sha256(viaSftp));

      const viaDav = randomBytes(700_001);
      assert.equal((await dav(env, u, 'PUT', '/via-dav.bin', { body: viaDav })).status, 201);
      const back = join(env.dir, 'via-dav.bin');
      await s.call('fastGet', '/via-dav.bin', back);
      assert.equal(sha256(await readFile(back)), sha256(viaDav));
    } finally {
      await s.end();
    }
  });
});

/** a GET with the request path sent exactly as given */
function rawGet(env: DavTestEnv, u: DavUser, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: env.port, path, headers: { authorization: u.auth } });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.end();
  });
}

/** a PUT announcing `total` bytes that sends `sent` and then drops the connection */
function abortedPut(env: DavTestEnv, u: DavUser, path: string, total: number, sent: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(`${env.url}${path}`, {
      method: 'PUT',
      headers: { authorization: u.auth, 'content-length': String(total) },
    });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      resolve();
    });
    req.write(randomBytes(sent), () => {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
  });
}

/** a PUT of `data`, sampling `probe()` every 100 ms while it runs; resolves to the status */
function trackedPut(
  env: DavTestEnv,
  u: DavUser,
  path: string,
  data: Buffer,
  probe: () => number | undefined,
): { done: Promise<number>; sizes: number[] } {
  const sizes: number[] = [];
  const timer = setInterval(() => {
    const v = probe();
    if (v !== undefined) sizes.push(v);
  }, 100);
  const done = new Promise<number>((resolve, reject) => {
    const req = request(`${env.url}${path}`, {
      method: 'PUT',
      headers: { authorization: u.auth, 'content-length': String(data.length) },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.end(data);
  }).finally(() => clearInterval(timer));
  return { done, sizes };
}

/** a PUT that trickles its body until the server closes it */
function slowPut(env: DavTestEnv, u: DavUser, path: string): { done: Promise<void> } {
  const done = new Promise<void>((resolve) => {
    const req = request(`${env.url}${path}`, {
      method: 'PUT',
      headers: { authorization: u.auth, 'content-length': String(10 * 1024 * 1024) },
    });
    const timer = setInterval(() => {
      if (!req.destroyed) req.write(randomBytes(1024));
    }, 50);
    const end = (): void => {
      clearInterval(timer);
      resolve();
    };
    req.on('error', end);
    req.on('close', end);
    req.on('response', (res) => {
      res.resume();
      res.on('end', end);
    });
  });
  return { done };
}
