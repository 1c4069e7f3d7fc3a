import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { capture, execute, harness } from '../testing.js';
import { usersAddCommand, type UsersAddOptions } from './add.js';

void describe('users add: parsing', () => {
  void it('maps flags named after the API fields', async () => {
    const h = harness();
    const c = capture<UsersAddOptions>();
    const code = await execute(usersAddCommand(h.f, c.run), [
      'alice', '--password', 'pw', '--home-dir', '/srv/alice', '--perm', '/=*', '--perm', '/in=list,upload',
      '--public-key', 'ssh-ed25519 AAAA k1', '--public-key', 'ssh-ed25519 BBBB k2', '--quota-size', '10M',
      '--quota-files', '100', '--upload-bandwidth', '50', '--download-bandwidth', '60', '--max-sessions', '2',
      '--expiration-date', '2030-01-02', '--status', 'disabled', '--uid', '1000', '--gid', '1001',
      '--allowed-ip', '10.0.0.0/8,192.168.0.0/16', '--denied-protocols', 'FTP', '--denied-protocols', 'DAV',
      '--max-upload-file-size', '1G', '--json',
    ]);
    assert.equal(code, 0, h.io.err());
    const o = c.calls[0];
    assert.ok(o);
    assert.equal(o.username, 'alice');
    assert.equal(o.json, true);
    assert.deepEqual(o.flags.perm, ['/=*', '/in=list,upload']);
    assert.equal(o.flags.quotaSize, 10 * 1024 * 1024);
    assert.equal(o.flags.expirationDate, Date.parse('2030-01-02T00:00:00Z'));
    assert.equal(o.flags.status, 0);
    assert.deepEqual(o.flags.allowedIp, ['10.0.0.0/8', '192.168.0.0/16']);
    assert.deepEqual(o.flags.deniedProtocols, ['FTP', 'DAV']);
    assert.equal(o.flags.maxUploadFileSize, 1024 ** 3);
  });

  void it('rejects bad values with exit code 2', async () => {
    for (const args of [
      ['bob', '--quota-size', 'lots'],
      ['bob', '--max-sessions', '-1'],
      ['bob', '--expiration-date', 'tomorrow'],
      ['bob', '--fs-provider', 'ftp'],
      ['bob', '--bogus'],
      [],
    ]) {
      const h = harness();
      const c = capture<UsersAddOptions>();
      assert.equal(await execute(usersAddCommand(h.f, c.run), args), 2, `args ${args.join(' ')}`);
      assert.equal(c.calls.length, 0);
      assert.match(h.io.err(), /error|Error/);
    }
  });
});

void describe('users add: run', () => {
  void it('POSTs the user with defaults and prints a success line', async () => {
    const h = harness({ routes: { 'POST /users': (r) => ({ status: 201, body: { id: 1, ...(r.body as object), password: undefined } }) } });
    assert.equal(await execute(usersAddCommand(h.f), ['alice', '--password', 'pw', '--home-dir', '/srv/a', '--s3-bucket', 'b', '--s3-region', 'r', '--s3-access-secret', 'shh']), 0, h.io.err());
    const body = h.calls[0]?.body as Record<string, unknown>;
    assert.deepEqual(body.permissions, { '/': ['*'] });
    assert.equal(body.status, 1);
    assert.deepEqual(body.filesystem, { provider: 1, s3config: { bucket: 'b', region: 'r', access_secret: { status: 'Plain', payload: 'shh' } } });
    assert.equal(h.io.out(), 'User "alice" added\n');
    assert.doesNotMatch(h.io.out() + h.io.err(), /pw|shh/);
  });

  void it('reads the whole object from --from-file (or stdin) and lets flags override it', async () => {
    const h = harness({ stdin: JSON.stringify({ username: 'carol', home_dir: '/x', permissions: { '/': ['list'] } }), routes: { 'POST /users': (r) => ({ status: 201, body: r.body }) } });
    assert.equal(await execute(usersAddCommand(h.f), ['--from-file', '-', '--home-dir', '/y', '--json']), 0, h.io.err());
    assert.deepEqual(h.calls[0]?.body, { username: 'carol', home_dir: '/y', permissions: { '/': ['list'] }, status: 1 });
    assert.equal(JSON.parse(h.io.out()).username, 'carol');
    const file = join(h.configHome, 'u.json');
    await writeFile(file, '[1,2]');
    const h2 = harness();
    assert.equal(await execute(usersAddCommand(h2.f), ['--from-file', file]), 2);
    assert.match(h2.io.err(), /expected a JSON object/);
  });

  void it('reports server validation errors with exit code 1', async () => {
    const h = harness({ routes: { 'POST /users': () => ({ status: 400, body: { message: 'home_dir is mandatory', error: 'home_dir is mandatory' } }) } });
    assert.equal(await execute(usersAddCommand(h.f), ['dave', '--password', 'x']), 1);
    assert.equal(h.io.err(), 'Error: home_dir is mandatory\n');
    assert.equal(h.io.out(), '');
  });

  void it('rejects mixed storage backends and unknown permissions as usage errors', async () => {
    const h = harness();
    assert.equal(await execute(usersAddCommand(h.f), ['e', '--s3-bucket', 'b', '--gcs-bucket', 'g']), 2);
    assert.match(h.io.err(), /different storage backends/);
    const h2 = harness();
    assert.equal(await execute(usersAddCommand(h2.f), ['e', '--perm', '/=fly']), 2);
    assert.match(h2.io.err(), /unknown permission fly/);
    const h3 = harness();
    assert.equal(await execute(usersAddCommand(h3.f), ['e', '--fs-provider', 'gcs', '--s3-bucket', 'b']), 2);
    assert.match(h3.io.err(), /does not apply to --fs-provider gcs/);
  });
});
