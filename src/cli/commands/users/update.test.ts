import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capture, execute, harness } from '../testing.js';
import { usersUpdateCommand, type UsersUpdateOptions } from './update.js';

const stored = {
  id: 7,
  username: 'alice',
  status: 1,
  home_dir: '/srv/alice',
  permissions: { '/': ['*'], '/ro': ['list', 'download'] },
  public_keys: ['ssh-ed25519 AAAA old'],
  filters: { allowed_ip: ['10.0.0.0/8'] },
  filesystem: { provider: 1, s3config: { bucket: 'b', region: 'r', access_secret: { status: 'Secretbox', payload: 'enc' } } },
};

void describe('users update', () => {
  void it('needs something to update (exit 2)', async () => {
    const h = harness();
    const c = capture<UsersUpdateOptions>();
    assert.equal(await execute(usersUpdateCommand(h.f, c.run), ['alice']), 2);
    assert.match(h.io.err(), /nothing to update/);
    assert.equal(await execute(usersUpdateCommand(h.f, c.run), ['alice', '--disconnect', '--max-sessions', '1']), 0);
    assert.equal(c.calls[0]?.disconnect, true);
  });

  void it('GETs, merges the flags, PUTs (keeping what was not changed)', async () => {
    const h = harness({
      routes: {
        'GET /users/alice': () => ({ body: stored }),
        'PUT /users/alice': () => ({ body: { message: 'User updated' } }),
      },
    });
    const code = await execute(usersUpdateCommand(h.f), [
      'alice', '--perm', '/ro=', '--perm', '/up=upload', '--public-key', '', '--s3-key-prefix', 'p/', '--description', 'd', '--disconnect',
    ]);
    assert.equal(code, 0, h.io.err());
    const put = h.calls.find((c) => c.method === 'PUT');
    assert.equal(put?.query.disconnect, '1');
    const body = put?.body as typeof stored & { description: string };
    assert.deepEqual(body.permissions, { '/': ['*'], '/up': ['upload'] });
    assert.deepEqual(body.public_keys, []);
    assert.equal(body.description, 'd');
    assert.deepEqual(body.filters, { allowed_ip: ['10.0.0.0/8'] });
    // the stored secret goes back as the server sent it, so the server keeps it
    assert.deepEqual(body.filesystem, { provider: 1, s3config: { ...stored.filesystem.s3config, key_prefix: 'p/' } });
    assert.equal(h.io.out(), 'User "alice" updated (disconnected)\n');
  });

  void it('switching the backend needs --fs-provider', async () => {
    const h = harness({ routes: { 'GET /users/alice': () => ({ body: stored }) } });
    assert.equal(await execute(usersUpdateCommand(h.f), ['alice', '--gcs-bucket', 'g']), 2);
    assert.match(h.io.err(), /the storage backend is s3: add --fs-provider gcs/);
  });

  void it('exits 1 with the message for an unknown user', async () => {
    const h = harness({ routes: { 'GET /users/nobody': () => ({ status: 404, body: { message: 'user "nobody" does not exist', error: 'Not Found' } }) } });
    assert.equal(await execute(usersUpdateCommand(h.f), ['nobody', '--status', 'enabled']), 1);
    assert.equal(h.io.err(), 'Error: user "nobody" does not exist\n');
  });
});
