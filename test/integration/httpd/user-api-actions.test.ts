/**
 * Custom actions through the user REST API (protocol HTTP): a file download is a pre-download
 * and a download, a refused pre-download is a 403 with no content, a HEAD fires nothing; a zip
 * stream downloads each file it contains.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HookReceiver } from '../../helpers/hooks.js';
import { basicAuth, startServer, type TestServer } from '../../helpers/server.js';
import { userBody } from './util.js';

void describe('httpd: custom actions of the user API', () => {
  const receiver = new HookReceiver();
  let s: TestServer;
  let token: string;
  let home: string;

  before(async () => {
    // pre-download refuses names containing "deny"
    await receiver.start((r) => {
      const n = JSON.parse(r.body) as { action: string; path: string };
      return { status: n.action === 'pre-download' && n.path.includes('deny') ? 403 : 200 };
    });
    s = await startServer({
      config: {
        common: {
          actions: {
            execute_on: ['pre-download', 'download'],
            execute_sync: ['download'],
            hook: receiver.url,
          },
        },
        http: { retry_max: 0 },
      },
    });
    const r = await s.api('POST', '/users', userBody(s, 'hana'));
    assert.equal(r.status, 201, r.text);
    home = join(s.configDir, 'homes', 'hana');
    await mkdir(home, { recursive: true });
    await writeFile(join(home, 'f.txt'), 'file content');
    await writeFile(join(home, 'deny.txt'), 'refused');
    const t = await s.api<{ access_token: string }>('GET', '/user/token', undefined, null, {
      headers: { authorization: basicAuth('hana', 'pw-hana-secret') },
    });
    assert.equal(t.status, 200, t.text);
    token = t.body.access_token;
  });
  after(async () => {
    await s.stop();
    await receiver.stop();
  });

  const get = (path: string, method = 'GET'): Promise<Response> =>
    fetch(`${s.httpUrl}/api/v2/user/file?path=${encodeURIComponent(path)}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
    });

  const actions = (from: number): unknown[] =>
    receiver.requests.slice(from).map((r) => JSON.parse(r.body) as unknown);

  void it('GET /user/file: pre-download, then download with the bytes sent', async () => {
    const from = receiver.requests.length;
    const r = await get('/f.txt');
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'file content');
    await receiver.waitFor(from + 2);
    const path = join(home, 'f.txt');
    assert.deepEqual(actions(from), [
      {
        action: 'pre-download',
        username: 'hana',
        path,
        fs_provider: 0,
        status: 1,
        protocol: 'HTTP',
      },
      {
        action: 'download',
        username: 'hana',
        path,
        file_size: 12,
        fs_provider: 0,
        status: 1,
        protocol: 'HTTP',
      },
    ]);
  });

  void it('a refused pre-download is a 403, without the content', async () => {
    const from = receiver.requests.length;
    const r = await get('/deny.txt');
    assert.equal(r.status, 403);
    assert.doesNotMatch(await r.text(), /refused/);
    assert.deepEqual(
      actions(from).map((a) => (a as { action: string }).action),
      ['pre-download'],
    );
  });

  void it('a HEAD fires no action', async () => {
    const from = receiver.requests.length;
    const r = await get('/f.txt', 'HEAD');
    assert.equal(r.status, 200);
    // a GET after it: its two notifications are the only new ones
    await (await get('/f.txt')).text();
    await receiver.waitFor(from + 2);
    assert.deepEqual(
      actions(from).map((a) => (a as { action: string }).action),
      ['pre-download', 'download'],
    );
  });

  void it('a zip stream downloads each file it contains', async () => {
    const from = receiver.requests.length;
    const r = await fetch(`${s.httpUrl}/api/v2/user/streamzip`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(['/f.txt']),
    });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    await receiver.waitFor(from + 2);
    assert.deepEqual(
      actions(from).map((a) => {
        const n = a as { action: string; path: string; file_size?: number };
        return [n.action, n.path, n.file_size ?? 0];
      }),
      [
        ['pre-download', join(home, 'f.txt'), 0],
        ['download', join(home, 'f.txt'), 12],
      ],
    );
  });
});
