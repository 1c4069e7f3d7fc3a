import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../config/index.js';
import type { User } from '../dataprovider/provider.js';
import {
  clientAddressFromEnv,
  planSubsystemUser,
  subsystemProviderConfig,
  type SubsystemUserInput,
} from './subsystem.js';

const input = (o: Partial<SubsystemUserInput> = {}): SubsystemUserInput => ({
  username: 'alice',
  osHome: '/home/alice/',
  baseHomeDir: '',
  preserveHome: false,
  password: 'secret',
  ...o,
});

const stored: User = {
  id: 3,
  username: 'alice',
  status: 0,
  home_dir: '/srv/sftp/alice',
  permissions: { '/': ['list'] } as unknown as User['permissions'],
  filters: { denied_patterns: [{ path: '/', denied_patterns: ['*.exe'] }] } as User['filters'],
};

void describe('startsubsys: the user served', () => {
  void it('creates a missing user with every permission, in the OS home', () => {
    const plan = planSubsystemUser(undefined, input());
    assert.equal(plan.action, 'add');
    assert.deepEqual(plan.user, {
      username: 'alice',
      status: 1,
      home_dir: '/home/alice',
      password: 'secret',
      permissions: { '/': ['*'] },
    });
  });

  void it('creates a missing user in <base-home-dir>/<username> when given', () => {
    const plan = planSubsystemUser(undefined, input({ baseHomeDir: '/data/users' }));
    assert.equal(plan.action, 'add');
    assert.equal(plan.user.home_dir, '/data/users/alice');
  });

  void it("sets an existing user's home to the OS home (not the base home dir), keeping the rest", () => {
    const plan = planSubsystemUser(stored, input({ baseHomeDir: '/data/users' }));
    assert.equal(plan.action, 'update');
    assert.deepEqual(plan.user, { ...stored, home_dir: '/home/alice' });
  });

  void it("keeps an existing user's home with --preserve-home, and one already right", () => {
    assert.deepEqual(planSubsystemUser(stored, input({ preserveHome: true })), {
      action: 'keep',
      user: stored,
    });
    const atHome = { ...stored, home_dir: '/home/alice' };
    assert.deepEqual(planSubsystemUser(atHome, input()), { action: 'keep', user: atHome });
  });
});

void describe('startsubsys: the data provider', () => {
  void it('replaces sqlite with a private in-memory database', () => {
    const dp = { ...defaultConfig().data_provider, driver: 'sqlite' as const, name: 'x.db' };
    const out = subsystemProviderConfig(dp);
    assert.equal(out.driver, 'memory');
    assert.equal(out.name, '');
    assert.equal(out.prefer_database_credentials, true);
    assert.equal(out.update_mode, 0);
  });

  void it('keeps a shared provider as configured', () => {
    const dp = { ...defaultConfig().data_provider, driver: 'postgresql' as const, update_mode: 1 };
    assert.deepEqual(subsystemProviderConfig(dp), dp);
  });
});

void describe("startsubsys: the client's address from sshd", () => {
  void it('reads SSH_CONNECTION, then SSH_CLIENT, else 127.0.0.1', () => {
    assert.deepEqual(
      clientAddressFromEnv({
        SSH_CONNECTION: '192.0.2.7 50123 192.0.2.1 22',
        SSH_CLIENT: '198.51.100.1 1 22',
      }),
      { remoteAddress: '192.0.2.7:50123', localAddress: '192.0.2.1:22' },
    );
    assert.deepEqual(clientAddressFromEnv({ SSH_CLIENT: '2001:db8::5 40000 22' }), {
      remoteAddress: '[2001:db8::5]:40000',
      localAddress: undefined,
    });
    assert.deepEqual(clientAddressFromEnv({}), {
      remoteAddress: '127.0.0.1',
      localAddress: undefined,
    });
  });
});
