/**
 * GET/HEAD, PUT and DELETE of a file have two paths that must answer the same: src/webdavd/fast.ts for
 * a user holding no lock and a request without conditional or Range headers, nephele for
 * anything else. The same requests are asked through both (a lock on another file sends the
 * user's requests to nephele) and the answers compared: status, headers (but Date) and body.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fastPathStats } from '../../../src/webdavd/fast.js';
import { dav, startDavTestServer, type DavTestEnv, type DavUser } from '../../helpers/webdavd.js';

const perms = (p: Record<string, string[]>): never => p as never;

interface Answer {
  status: number;
  headers: [string, string][];
  body: string;
}

interface Case {
  method: 'GET' | 'HEAD' | 'PUT' | 'DELETE';
  path: string;
  body?: string;
  /** the fast path answers it (false: it hands it to nephele) */
  fast: boolean;
  /** puts the files back as the case expects them */
  prep?: () => Promise<void>;
}

const LOCK_BODY =
  '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>' +
  '<D:locktype><D:write/></D:locktype><D:owner>t</D:owner></D:lockinfo>';

void describe('webdavd GET/HEAD/PUT/DELETE: the fast path answers as nephele does', () => {
  let env: DavTestEnv;
  let user: DavUser;
  let full: DavUser;

  before(async () => {
    env = await startDavTestServer();
    user = await env.createUser({
      permissions: perms({
        '/': ['*'],
        '/nodl': ['list', 'upload'],
        '/nolist': ['download', 'upload'],
        // a parent that may be listed in a directory that may not: PUT's parent check refuses
        '/gp': ['upload', 'overwrite'],
        '/gp/sub': ['*'],
      }),
    });
    full = await env.createUser({ quota_files: 2 });
    const d = join(user.home, 'list');
    await mkdir(join(d, 'sub dir'), { recursive: true });
    await writeFile(join(d, 'a.txt'), 'hello\n');
    await writeFile(join(d, 'data.json'), '{"a":1}');
    await writeFile(join(d, 'noext'), Buffer.from([0, 1, 2]));
    await writeFile(join(d, 'ünï.html'), '<html></html>');
    await mkdir(join(user.home, 'nodl'));
    await writeFile(join(user.home, 'nodl', 'f.txt'), 'secret');
    await writeFile(join(user.home, 'nodl', 'noext'), '%PDF-');
    await writeFile(join(d, 'empty'), '');
    await mkdir(join(user.home, 'nolist'));
    await writeFile(join(user.home, 'nolist', 'n.txt'), 'known name');
    await mkdir(join(user.home, 'up'));
    await mkdir(join(user.home, 'gp', 'sub'), { recursive: true });
    await writeFile(join(user.home, 'gp', 'sub', 'old.txt'), 'old');
    await writeFile(join(user.home, 'locked.txt'), 'l');
    await writeFile(join(full.home, 'locked.txt'), 'l');
  });

  after(async () => {
    await env?.stop();
  });

  async function ask(u: DavUser, c: Case): Promise<Answer> {
    await c.prep?.();
    const r = await dav(env, u, c.method, c.path, c.body !== undefined ? { body: c.body } : {});
    const headers = [...r.headers.entries()].filter(([k]) => k !== 'date').sort();
    return { status: r.status, headers, body: await r.text() };
  }

  async function lock(u: DavUser): Promise<void> {
    const r = await dav(env, u, 'LOCK', '/locked.txt', {
      headers: { depth: '0', 'content-type': 'application/xml', timeout: 'Second-600' },
      body: LOCK_BODY,
    });
    assert.equal(r.status, 200);
  }

  void it('gives the same status, headers and body on both paths', async () => {
    const up = (name: string): string => join(user.home, 'up', name);
    const cases: Case[] = [
      { method: 'GET', path: '/list/a.txt', fast: true },
      { method: 'HEAD', path: '/list/a.txt', fast: true },
      { method: 'GET', path: '/list/noext', fast: true },
      { method: 'GET', path: '/list/data.json', fast: true },
      { method: 'GET', path: `/list/${encodeURIComponent('ünï.html')}`, fast: true },
      { method: 'GET', path: '/list/missing.txt', fast: true },
      { method: 'GET', path: '/list/a%5Cb', fast: true },
      { method: 'GET', path: '/nodl/f.txt', fast: true },
      { method: 'GET', path: '/nolist/n.txt', fast: true },
      { method: 'GET', path: '/list/sub%20dir', fast: false },
      { method: 'HEAD', path: '/list/sub%20dir', fast: false },
      { method: 'GET', path: '/list/a.txt?x=1', fast: false },
      {
        method: 'PUT',
        path: '/up/new.txt',
        body: 'new',
        fast: true,
        prep: () => rm(up('new.txt'), { force: true }),
      },
      {
        method: 'PUT',
        path: '/up/old.txt',
        body: 'replaced',
        fast: true,
        prep: () => writeFile(up('old.txt'), 'old'),
      },
      {
        method: 'PUT',
        path: '/up/empty.txt',
        body: '',
        fast: true,
        prep: () => rm(up('empty.txt'), { force: true }),
      },
      { method: 'PUT', path: '/missing/x.txt', body: 'x', fast: true },
      { method: 'PUT', path: '/list/a.txt/x', body: 'x', fast: true },
      { method: 'PUT', path: '/nolist/p.txt', body: 'x', fast: true },
      { method: 'PUT', path: '/gp/sub/new.txt', body: 'x', fast: true },
      { method: 'PUT', path: '/gp/sub/old.txt', body: 'x', fast: true },
      { method: 'PUT', path: '/list/sub%20dir', body: 'x', fast: false },
      {
        method: 'DELETE',
        path: '/up/gone.txt',
        fast: true,
        prep: () => writeFile(up('gone.txt'), 'bye'),
      },
      { method: 'DELETE', path: '/up/never.txt', fast: true },
      {
        method: 'DELETE',
        path: '/up/dangling',
        fast: true,
        prep: () => symlink('/nowhere/at/all', up('dangling')).catch(() => undefined),
      },
      {
        method: 'DELETE',
        path: '/nodl/f.txt',
        fast: true,
      },
      {
        method: 'DELETE',
        path: '/up/dir',
        fast: false,
        prep: () => mkdir(up('dir'), { recursive: true }).then(() => undefined),
      },
      // a type sniffed from the download itself: empty, refused download
      { method: 'GET', path: '/list/empty', fast: true },
      { method: 'GET', path: '/nodl/noext', fast: true },
      { method: 'HEAD', path: '/nodl/noext', fast: true },
    ];
    const direct: Answer[] = [];
    const before = fastPathStats.answered;
    for (const c of cases) direct.push(await ask(user, c));
    assert.equal(fastPathStats.answered - before, cases.filter((c) => c.fast).length);
    // spot checks of the direct answers
    assert.equal(direct[0]?.status, 200);
    assert.equal(direct[0]?.body, 'hello\n');
    assert.deepEqual(
      direct[0]?.headers.find(([k]) => k === 'content-type'),
      ['content-type', 'text/plain; charset=utf-8'],
    );
    assert.equal(direct[7]?.status, 403);
    assert.equal(direct[8]?.body, 'known name');
    assert.equal(direct[12]?.status, 201);
    assert.match(direct[12]?.headers.find(([k]) => k === 'location')?.[1] ?? '', /\/up\/new\.txt$/);
    assert.equal(direct[13]?.status, 204);
    assert.equal(direct[15]?.status, 409);
    assert.equal(direct[18]?.status, 403, 'the parent cannot be listed');
    assert.equal(direct[19]?.status, 403, 'the parent cannot be listed');
    assert.equal(direct[21]?.status, 204);
    assert.equal(direct[22]?.status, 404);
    assert.equal(direct[23]?.status, 204, 'a dangling link is deleted itself');
    assert.equal(direct[24]?.status, 403);
    assert.equal(direct[25]?.status, 204);
    assert.equal(direct[26]?.status, 200);
    assert.deepEqual(
      direct[26]?.headers.find(([k]) => k === 'content-type'),
      ['content-type', 'text/plain; charset=utf-8'],
    );
    assert.equal(direct[27]?.status, 403);
    assert.equal(direct[28]?.status, 200);
    assert.deepEqual(
      direct[28]?.headers.find(([k]) => k === 'content-type'),
      ['content-type', 'application/octet-stream'],
      'a type that cannot be sniffed',
    );

    await lock(user);
    const viaNephele = before + cases.filter((c) => c.fast).length;
    for (const [i, c] of cases.entries()) {
      assert.deepEqual(await ask(user, c), direct[i], `${c.method} ${c.path}`);
    }
    assert.equal(fastPathStats.answered, viaNephele, 'nephele answered while a lock is held');
  });

  void it('answers 507 over quota on both paths', async () => {
    // the files of the quota are used up (the file on disk is not counted)
    await env.srv.api('PUT', `/quotas/users/${full.username}/usage`, {
      used_quota_size: 2,
      used_quota_files: 2,
    });
    const c: Case = { method: 'PUT', path: '/two', body: 'b', fast: true };
    const direct = await ask(full, c);
    assert.equal(direct.status, 507);
    await lock(full);
    assert.deepEqual(await ask(full, c), direct);
  });
});
