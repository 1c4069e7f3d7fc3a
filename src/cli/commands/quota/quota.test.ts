import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capture, execute, harness } from '../testing.js';
import { quotaAddCommand } from './add.js';
import { quotaScanCommand, type QuotaScanOptions } from './scan.js';
import { quotaScansCommand } from './scans.js';
import { quotaSetCommand } from './set.js';

void describe('quota', () => {
  void it('scan parses kind and name', async () => {
    const h = harness();
    const c = capture<QuotaScanOptions>();
    assert.equal(await execute(quotaScanCommand(h.f, c.run), ['users', 'alice', '--wait']), 0);
    assert.deepEqual(
      [c.calls[0]?.kind, c.calls[0]?.name, c.calls[0]?.wait],
      ['user', 'alice', true],
    );
    assert.equal(await execute(quotaScanCommand(h.f, c.run), ['group', 'x']), 2);
  });

  void it('scan starts the scan; --wait polls the scans list until it ends, then prints the usage', async () => {
    let polls = 0;
    const h = harness({
      tty: true,
      routes: {
        'POST /quotas/users/alice/scan': () => ({ status: 202, body: { message: 'Scan started' } }),
        'GET /quotas/users/scans': () => ({
          body: ++polls < 3 ? [{ username: 'alice', start_time: Date.now() }] : [],
        }),
        'GET /users/alice': () => ({
          body: { username: 'alice', used_quota_files: 4, used_quota_size: 4096, quota_files: 10 },
        }),
        'POST /quotas/folders/f1/scan': () => ({ status: 202, body: { message: 'Scan started' } }),
      },
    });
    const cmd = quotaScanCommand(h.f);
    assert.equal(
      await execute(cmd, ['user', 'alice', '--wait', '--interval', '50']),
      0,
      h.io.err(),
    );
    assert.equal(polls, 3);
    assert.match(h.io.err(), /scanning user "alice"/);
    assert.match(h.io.out(), /Quota usage of user "alice": 4 of 10 files, 4\.0 KiB/);
    const nowait = harness({
      routes: {
        'POST /quotas/folders/f1/scan': () => ({ status: 202, body: { message: 'Scan started' } }),
      },
    });
    assert.equal(await execute(quotaScanCommand(nowait.f), ['folder', 'f1', '--json']), 0);
    assert.deepEqual(JSON.parse(nowait.io.out()), { message: 'Scan started' });
  });

  void it('a scan already running is a 409 failure', async () => {
    const h = harness({
      routes: {
        'POST /quotas/users/alice/scan': () => ({
          status: 409,
          body: { message: 'Another scan is already in progress', error: 'Conflict' },
        }),
      },
    });
    assert.equal(await execute(quotaScanCommand(h.f), ['user', 'alice']), 1);
    assert.equal(h.io.err(), 'Error: Another scan is already in progress\n');
  });

  void it('scans lists both kinds', async () => {
    const routes = {
      'GET /quotas/users/scans': () => ({ body: [{ username: 'alice', start_time: 1 }] }),
      'GET /quotas/folders/scans': () => ({ body: [{ name: 'f1', start_time: 2 }] }),
    };
    const h = harness({ routes });
    assert.equal(await execute(quotaScansCommand(h.f), ['--json']), 0);
    assert.deepEqual(JSON.parse(h.io.out()), {
      users: [{ username: 'alice', start_time: 1 }],
      folders: [{ name: 'f1', start_time: 2 }],
    });
    const u = harness({ routes });
    await execute(quotaScansCommand(u.f), ['user', '--json']);
    assert.deepEqual(JSON.parse(u.io.out()), [{ username: 'alice', start_time: 1 }]);
    const t = harness({ routes });
    await execute(quotaScansCommand(t.f), []);
    assert.match(t.io.out(), /^user\talice\t/m);
    assert.match(t.io.out(), /^folder\tf1\t/m);
  });

  void it('set keeps the counter not given; add sends only the deltas', async () => {
    const h = harness({
      routes: {
        'GET /users/alice': () => ({
          body: { username: 'alice', used_quota_size: 100, used_quota_files: 7 },
        }),
        'PUT /quotas/users/alice/usage': () => ({ body: { message: 'Quota updated' } }),
        'PUT /quotas/folders/f1/usage': () => ({ body: { message: 'Quota updated' } }),
      },
    });
    assert.equal(
      await execute(quotaSetCommand(h.f), ['user', 'alice', '--files', '3', '--json']),
      0,
      h.io.err(),
    );
    const set = h.calls.find((c) => c.method === 'PUT');
    assert.deepEqual(
      [set?.query.mode, set?.body],
      ['reset', { used_quota_size: 100, used_quota_files: 3 }],
    );
    assert.equal(
      await execute(quotaAddCommand(h.f), ['folder', 'f1', '--size', '1K', '--json']),
      0,
      h.io.err(),
    );
    const add = h.calls.filter((c) => c.method === 'PUT')[1];
    assert.deepEqual([add?.query.mode, add?.body], ['add', { used_quota_size: 1024 }]);
    // the API refuses negative values in both modes: a usage error before any request
    assert.equal(await execute(quotaAddCommand(h.f), ['folder', 'f1', '--size', '-1K']), 2);
    assert.equal(await execute(quotaAddCommand(h.f), ['folder', 'f1', '--files', '-2']), 2);
    assert.equal(h.calls.filter((c) => c.method === 'PUT').length, 2);
    assert.equal(await execute(quotaSetCommand(h.f), ['user', 'alice']), 2);
    assert.equal(await execute(quotaSetCommand(h.f), ['user', 'alice', '--files', '-1']), 2);
  });
});
