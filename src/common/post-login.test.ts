import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { HookReceiver } from '../../test/helpers/hooks.js';
import { httpClientSchema } from '../config/schema.js';
import { renderedUserObject } from '../dataprovider/hooks/user-json.js';
import type { User } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import { HookHttpClient } from '../util/hooks/http-client.js';
import { NO_AUTH_TRIED, PostLoginNotifier } from './post-login.js';
import { silentLogger } from './types.js';

const stored: User = {
  id: 7,
  status: 1,
  username: 'alice',
  password: '$2a$10$hash',
  home_dir: '/srv/alice',
  permissions: { '/': ['*'] } as unknown as User['permissions'],
  filters: { hooks: { pre_login_disabled: true } },
  filesystem: { provider: 0 },
};

const provider = {
  getUser: (name: string): Promise<User> =>
    name === 'alice'
      ? Promise.resolve(structuredClone(stored))
      : Promise.reject(new SftpgoError('NOT_FOUND', 'no such user')),
};

void describe('PostLoginNotifier scope', () => {
  void it('1: failures only, 2: successes only, anything else both', () => {
    const wants = (scope: number): [boolean, boolean] => {
      const n = new PostLoginNotifier('/bin/true', { scope, logger: silentLogger });
      return [n.wants(true), n.wants(false)];
    };
    assert.deepEqual(wants(1), [false, true]);
    assert.deepEqual(wants(2), [true, false]);
    assert.deepEqual(wants(0), [true, true]);
    assert.deepEqual(wants(3), [true, true]);
  });
});

void describe('PostLoginNotifier over HTTP', () => {
  const receiver = new HookReceiver();
  let http: HookHttpClient;
  before(async () => {
    await receiver.start();
    http = new HookHttpClient(httpClientSchema.parse({ retry_max: 0 }), tmpdir());
  });
  after(async () => {
    http.close();
    await receiver.stop();
  });

  void it('the user sent: the logged-in one, the stored one of a failed login, else the zero-valued one', async () => {
    const n = new PostLoginNotifier(`${receiver.url}/pl`, {
      scope: 0,
      http,
      provider,
      logger: silentLogger,
    });
    const base = { protocol: 'SSH' as const, ip: '10.0.0.5' };
    n.notify({ ...base, method: 'password', username: 'alice', user: structuredClone(stored) });
    await receiver.waitFor(1);
    n.notify({ ...base, method: 'publickey', username: 'alice', error: new Error('bad key') });
    await receiver.waitFor(2);
    n.notify({ ...base, method: 'password', username: 'bob', error: new Error('no such user') });
    await receiver.waitFor(3);
    n.notify({
      ...base,
      method: NO_AUTH_TRIED,
      username: '',
      error: new Error('gone'),
      noLookup: true,
    });
    const got = await receiver.waitFor(4);
    await n.close();

    assert.deepEqual(
      got.map((q) => q.url),
      [
        '/pl?ip=10.0.0.5&login_method=password&protocol=SSH&status=1',
        '/pl?ip=10.0.0.5&login_method=publickey&protocol=SSH&status=0',
        '/pl?ip=10.0.0.5&login_method=password&protocol=SSH&status=0',
        '/pl?ip=10.0.0.5&login_method=no_auth_tryed&protocol=SSH&status=0',
      ],
    );
    const [ok, failed, unknown, none] = got.map((q) => q.body);
    // the rendered form: 2.1.2's JSON of the user, without the password hash
    const expected = JSON.stringify(renderedUserObject(stored));
    assert.ok(!('password' in JSON.parse(expected)));
    assert.ok(expected.includes('"pre_login_disabled":true'));
    assert.equal(ok, expected);
    assert.equal(failed, expected);
    assert.equal(unknown, JSON.stringify(renderedUserObject(undefined, 'bob')));
    assert.equal(none, JSON.stringify(renderedUserObject(undefined, '')));
    assert.match(unknown ?? '', /^\{"id":0,"status":0,"username":"bob",.*"permissions":null,/);
  });

  void it('excluded by the scope: nothing is sent', async () => {
    const before = receiver.requests.length;
    const n = new PostLoginNotifier(`${receiver.url}/scoped`, {
      scope: 2,
      http,
      provider,
      logger: silentLogger,
    });
    n.notify({
      protocol: 'FTP',
      ip: '10.0.0.5',
      method: 'password',
      username: 'alice',
      error: new Error('x'),
    });
    n.notify({
      protocol: 'FTP',
      ip: '10.0.0.5',
      method: 'password',
      username: 'alice',
      user: stored,
    });
    const got = await receiver.waitFor(before + 1);
    await n.close();
    assert.deepEqual(
      got.slice(before).map((q) => q.url),
      ['/scoped?ip=10.0.0.5&login_method=password&protocol=FTP&status=1'],
    );
  });
});
