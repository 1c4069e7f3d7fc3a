/**
 * cadaver (neon, the library of davfs2 and other Unix WebDAV clients) against the real server:
 * a session of collection and file commands, a LOCK / PUT / UNLOCK cycle and what the lock does
 * to another client, and the permissions of a read-only user.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cadaver,
  dav,
  requireDavTools,
  startDavTestServer,
  type DavTestEnv,
} from '../../helpers/webdavd.js';

/** the API type's permission values are an enum of strings */
const perms = (p: Record<string, string[]>): never => p as never;

/** cadaver prints one "<action> `name': succeeded." or "... failed:" line per command */
function outcomes(out: string): string[] {
  return [...out.matchAll(/(succeeded\.|failed:)/g)].map((m) => m[1] ?? '');
}

void describe('cadaver', () => {
  let env: DavTestEnv;

  before(async () => {
    requireDavTools();
    env = await startDavTestServer();
  });
  after(async () => {
    await env?.stop();
  });

  void it('creates, uploads, lists, copies, moves, locks, downloads and removes', async () => {
    const u = await env.createUser();
    const first = join(env.dir, 'first.txt');
    const second = join(env.dir, 'second.txt');
    const got = join(env.dir, 'got.txt');
    await writeFile(first, 'first version\n');
    await writeFile(second, 'second version, written under the lock\n');
    const r = await cadaver(env, u, [
      'mkcol dir',
      `put ${first} dir/a.txt`,
      'ls dir',
      'copy dir/a.txt dir/b.txt',
      'move dir/b.txt c.txt',
      // no owner in cadaver's lockinfo (RFC 4918: optional)
      'lock c.txt',
      'discover c.txt',
      `put ${second} c.txt`,
      'unlock c.txt',
      `get c.txt ${got}`,
      // every property (a named one would be in cadaver's own namespace)
      'propget c.txt',
      'rmcol dir',
    ]);
    assert.equal(r.code, 0, r.stderr);
    // discover and propget print what they found instead of a status line
    assert.deepEqual(outcomes(r.stdout), Array<string>(10).fill('succeeded.'), r.stdout);
    assert.match(r.stdout, /a\.txt\s+14\s/, 'ls shows the file and its size');
    assert.match(r.stdout, /Lock token <[^>]+>:[\s\S]*Scope: exclusive\s+Type: write/);
    assert.match(r.stdout, /DAV: getcontentlength = 39\n/);
    assert.equal(await readFile(got, 'utf8'), 'second version, written under the lock\n');
    assert.deepEqual(await readdir(u.home), ['c.txt']);
    assert.equal(
      await readFile(join(u.home, 'c.txt'), 'utf8'),
      'second version, written under the lock\n',
    );
  });

  void it('holds its lock against other clients until it unlocks', async () => {
    const u = await env.createUser();
    await writeFile(join(u.home, 'locked.txt'), 'original');
    // the lock outlives the session (as on the server: cadaver does not unlock at quit)
    const r = await cadaver(env, u, ['lock locked.txt']);
    assert.deepEqual(outcomes(r.stdout), ['succeeded.'], r.stdout);
    assert.equal((await dav(env, u, 'PUT', '/locked.txt', { body: 'someone else' })).status, 423);
    assert.equal((await dav(env, u, 'DELETE', '/locked.txt')).status, 423);
    assert.equal(await readFile(join(u.home, 'locked.txt'), 'utf8'), 'original');
    const discovery = await dav(env, u, 'PROPFIND', '/locked.txt', {
      headers: { depth: '0', 'content-type': 'application/xml' },
      body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>',
    });
    const token = /<(?:D:)?href>(urn:uuid:[^<]+)<\/(?:D:)?href>/.exec(await discovery.text())?.[1];
    assert.ok(token, 'the lock is discoverable');
    const unlock = await dav(env, u, 'UNLOCK', '/locked.txt', {
      headers: { 'lock-token': `<${token}>` },
    });
    assert.equal(unlock.status, 204);
    assert.equal((await dav(env, u, 'PUT', '/locked.txt', { body: 'now free' })).status, 204);
  });

  void it('reports the refusals of a read-only user and changes nothing', async () => {
    const u = await env.createUser({ permissions: perms({ '/': ['list', 'download'] }) });
    await writeFile(join(u.home, 'keep.txt'), 'keep');
    const local = join(env.dir, 'upload.txt');
    await writeFile(local, 'nope');
    const r = await cadaver(env, u, [
      `put ${local} new.txt`,
      'mkcol sub',
      'delete keep.txt',
      'move keep.txt moved.txt',
      'ls',
    ]);
    assert.deepEqual(
      outcomes(r.stdout),
      ['failed:', 'failed:', 'failed:', 'failed:', 'succeeded.'],
      r.stdout,
    );
    assert.match(r.stdout, /403 Forbidden/);
    assert.deepEqual(await readdir(u.home), ['keep.txt']);
    assert.equal(await readFile(join(u.home, 'keep.txt'), 'utf8'), 'keep');
  });
});
