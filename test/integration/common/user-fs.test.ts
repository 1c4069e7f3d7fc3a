import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  Connection,
  createUserFs,
  scanUserQuota,
  silentLogger,
} from '../../../src/common/index.js';
import { userUsesSftpOf } from '../../../src/common/user-fs.js';
import { defaultConfig } from '../../../src/config/index.js';
import { createProvider, type User } from '../../../src/dataprovider/index.js';
import { createKms } from '../../../src/kms/index.js';
import type { ApiFilesystemConfig } from '../../../src/api/index.js';
import { createFs, type Fs, type FsCapabilities } from '../../../src/vfs/index.js';
import { code, exists, makeEnv, type Env } from './helpers.js';

let env: Env;

beforeEach(async () => {
  env = await makeEnv();
});
afterEach(async () => {
  await env.cleanup();
});

/** a view of a backend with other capabilities and without the `hidden` methods */
function view(fs: Fs, over: Partial<FsCapabilities>, hidden: readonly (keyof Fs)[] = []): Fs {
  const caps = { ...fs.capabilities, ...over };
  return new Proxy(fs, {
    get(target, prop, receiver) {
      if (prop === 'capabilities') return caps;
      if ((hidden as readonly PropertyKey[]).includes(prop)) return undefined;
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** a view of a backend without random access, as object stores are (uploads go through openWrite) */
function streamOnly(fs: Fs): Fs {
  return view(fs, { randomAccess: false, resume: false, atomicUpload: false }, ['openFile']);
}

void describe('createUserFs', () => {
  void it('does not create anything with disable_fs_checks', async () => {
    const user = env.user({
      filters: { disable_fs_checks: true },
      virtual_folders: [{ name: 'f', mapped_path: env.p('f'), virtual_path: '/a/f' }],
    });
    const mounts = await createUserFs(user);
    assert.equal(await exists(env.home), false);
    assert.equal(await exists(env.p('f')), false);
    await assert.rejects(mounts.home.fs.stat('/'), code('NOT_FOUND'));
  });

  void it('refuses an unknown provider number with a clear message', async () => {
    const filesystem = { provider: 9 } as unknown as ApiFilesystemConfig;
    await assert.rejects(
      createUserFs(env.user({ filesystem })),
      code('INVALID_INPUT', 'invalid filesystem provider 9'),
    );
  });

  void it('gives every backend the secret decrypter, the username and the host key fingerprints', async () => {
    const seen: { root: string; username?: string; decrypted: string; fps?: readonly string[] }[] =
      [];
    const decryptSecret = (s: { payload?: string }) => Promise.resolve(`clear:${s.payload ?? ''}`);
    const user = env.user({
      virtual_folders: [{ name: 'f', mapped_path: env.p('f'), virtual_path: '/f' }],
    });
    const localHostKeyFingerprints = (): readonly string[] => ['SHA256:own'];
    const userUsesSftp = (): Promise<boolean> => Promise.resolve(false);
    const mounts = await createUserFs(user, {
      decryptSecret,
      localHostKeyFingerprints,
      userUsesSftp,
      createFs: async (cfg, o) => {
        assert.ok(o.decryptSecret, 'decryptSecret reaches the backend');
        assert.equal(o.userUsesSftp, userUsesSftp, 'the loop guard lookup reaches the backend');
        seen.push({
          root: o.root,
          ...(o.username !== undefined ? { username: o.username } : {}),
          decrypted: await o.decryptSecret({ status: 'Secretbox', payload: 'x' }),
          ...(o.localHostKeyFingerprints ? { fps: o.localHostKeyFingerprints } : {}),
        });
        return createFs(cfg, o);
      },
    });
    await mounts.close();
    const fp = ['SHA256:own'];
    assert.deepEqual(seen, [
      { root: env.home, username: user.username, decrypted: 'clear:x', fps: fp },
      { root: env.p('f'), username: user.username, decrypted: 'clear:x', fps: fp },
    ]);
  });

  void it('tells which local users have an SFTP backend, from the data provider', async () => {
    const provider = await createProvider(
      {
        driver: 'sqlite',
        name: env.p('users.sqlite'),
        password_hashing: { bcrypt_options: { cost: 4 } },
      },
      // the KMS encrypts the SFTP password on save
      { configDir: env.base, kms: createKms(defaultConfig().kms, env.base) },
    );
    try {
      const sftp = {
        provider: 5,
        sftpconfig: {
          endpoint: '127.0.0.1:2022',
          username: 'remote',
          password: { status: 'Plain', payload: 'pw' },
        },
      } as User['filesystem'];
      const user = (username: string, extra: Partial<User> = {}): User =>
        ({
          ...env.user(),
          username,
          password: 'secret',
          home_dir: env.p(username),
          ...extra,
        }) as User;
      await provider.addFolder({ name: 'remote', mapped_path: env.p('remote'), filesystem: sftp });
      await provider.addFolder({ name: 'plain', mapped_path: env.p('plain') });
      await provider.addUser(user('home-sftp', { filesystem: sftp }));
      await provider.addUser(
        user('folder-sftp', {
          virtual_folders: [
            { name: 'plain', virtual_path: '/p' },
            { name: 'remote', virtual_path: '/r' },
          ] as User['virtual_folders'],
        }),
      );
      await provider.addUser(
        user('local', {
          virtual_folders: [{ name: 'plain', virtual_path: '/p' }] as User['virtual_folders'],
        }),
      );
      const usesSftp = userUsesSftpOf(provider);
      assert.equal(await usesSftp('home-sftp'), true);
      assert.equal(await usesSftp('folder-sftp'), true);
      assert.equal(await usesSftp('local'), false);
      assert.equal(await usesSftp('nobody'), false, 'an unknown user is not a loop');
    } finally {
      await provider.close();
    }
  });

  void it('scans the user quota: home plus folders counted in it', async () => {
    const user = env.user({
      virtual_folders: [
        {
          name: 'in',
          mapped_path: env.p('in'),
          virtual_path: '/in',
          quota_size: -1,
          quota_files: -1,
        },
        {
          name: 'own',
          mapped_path: env.p('own'),
          virtual_path: '/own',
          quota_size: 0,
          quota_files: 0,
        },
      ],
    });
    const mounts = await createUserFs(user);
    await fsp.writeFile(path.join(env.home, 'a'), '12');
    await fsp.writeFile(env.p('in', 'b'), '345');
    await fsp.writeFile(env.p('own', 'c'), '6789');
    assert.deepEqual(await scanUserQuota(mounts), { files: 2, size: 5 });
  });
});

void describe('a backend without random access', () => {
  async function connect(uploadMode: 0 | 1 | 2): Promise<Connection> {
    const user = env.user();
    const mounts = await createUserFs(user, {
      createFs: async (cfg, o) => streamOnly(await createFs(cfg, o)),
    });
    return new Connection({
      id: 'SFTP_stream_1',
      protocol: 'SFTP',
      user,
      mounts,
      remoteAddress: '127.0.0.1:1',
      logger: silentLogger,
      provider: env.quota,
      config: { upload_mode: uploadMode, setstat_mode: 0, track_quota: 1 },
    });
  }

  void it('uploads sequentially through openWrite and downloads through openRead', async () => {
    const c = await connect(0);
    const t = await c.openUpload('/s.txt');
    await t.write(0, Buffer.from('abc'));
    await t.write(3, Buffer.from('def'));
    await assert.rejects(t.write(100, Buffer.from('x')), code('OP_UNSUPPORTED'));
    const t2 = await c.openUpload('/s2.txt');
    await t2.write(0, Buffer.from('hello'));
    await t2.close();
    assert.equal(await fsp.readFile(path.join(env.home, 's2.txt'), 'utf8'), 'hello');
    assert.deepEqual(env.quota.user(), { size: 5, files: 1 });

    const d = await c.openDownload('/s2.txt', { offset: 1 });
    assert.equal((await d.read(1, 2))?.toString(), 'el');
    // a read elsewhere reopens the backend's stream at that offset
    assert.equal((await d.read(0, 2))?.toString(), 'he');
    assert.equal((await d.read(3, 10))?.toString(), 'lo');
    assert.equal(await d.read(5, 10), null);
    await d.close();
  });

  void it('refuses resume and in-place writes', async () => {
    const c = await connect(0);
    await fsp.mkdir(env.home, { recursive: true });
    await fsp.writeFile(path.join(env.home, 'r.txt'), 'base');
    await assert.rejects(c.openUpload('/r.txt', { mode: 'append' }), code('OP_UNSUPPORTED'));
    await assert.rejects(c.openUpload('/r.txt', { mode: 'inplace' }), code('OP_UNSUPPORTED'));
  });
});

void describe('closing a connection cancels its backend operations', () => {
  void it('a listing in progress stops, and every backend call got the connection signal', async () => {
    await fsp.mkdir(path.join(env.home, 'many'), { recursive: true });
    for (let i = 0; i < 300; i++) await fsp.writeFile(path.join(env.home, 'many', `f${i}`), '');
    await fsp.writeFile(path.join(env.home, 'r.txt'), 'read me');
    const signals: (AbortSignal | undefined)[] = [];
    const user = env.user();
    const mounts = await createUserFs(user, {
      createFs: async (cfg, o) => {
        const fs = streamOnly(await createFs(cfg, o));
        return new Proxy(fs, {
          get(target, prop, receiver) {
            const v: unknown = Reflect.get(target, prop, receiver);
            if (prop !== 'list' && prop !== 'openRead' && prop !== 'openWrite') return v;
            return (p: string, op?: { signal?: AbortSignal }) => {
              signals.push(op?.signal);
              return (v as (p: string, op?: unknown) => unknown).call(target, p, op);
            };
          },
        });
      },
    });
    const c = new Connection({
      id: 'SFTP_abort_1',
      protocol: 'SFTP',
      user,
      mounts,
      remoteAddress: '127.0.0.1:40000',
      config: { upload_mode: 0, setstat_mode: 0, track_quota: 0 },
      provider: env.quota,
      logger: silentLogger,
    });
    const d = await c.openDownload('/r.txt');
    assert.equal((await d.read(0, 100))?.toString(), 'read me');
    await d.close();
    const up = await c.openUpload('/w.txt');
    await up.write(0, Buffer.from('w'));
    await up.close();
    const it = await c.list('/many');
    assert.ok(!(await it.next()).done);
    await c.close();
    await assert.rejects(
      (async () => {
        for (let r = await it.next(); !r.done; r = await it.next());
      })(),
      code('ABORTED'),
    );
    assert.equal(signals.length, 3);
    for (const s of signals) assert.equal(s?.aborted, true);
  });
});

void describe('a backend with emulated directories (object stores)', () => {
  void it('login creates neither its root nor the parents of mount points in it', async () => {
    const user = env.user({
      virtual_folders: [{ name: 'f', mapped_path: env.p('f'), virtual_path: '/a/f' }],
    });
    const mounts = await createUserFs(user, {
      createFs: async (cfg, o) => {
        const fs = await createFs(cfg, o);
        return o.root === env.home ? view(fs, { emulatedDirs: true }) : fs;
      },
    });
    assert.equal(await exists(env.home), false, 'no root check on the emulated home');
    assert.equal(await exists(env.p('f')), true, "the folder's own root is created as before");
    await mounts.close();
  });

  void it('rmdir of a missing directory succeeds there, and only there (upstream #149)', async () => {
    const user = env.user();
    const connect = async (emulatedDirs: boolean): Promise<Connection> =>
      new Connection({
        id: `SFTP_emulated_${String(emulatedDirs)}`,
        protocol: 'SFTP',
        user,
        mounts: await createUserFs(user, {
          createFs: async (cfg, o) => view(await createFs(cfg, o), { emulatedDirs }),
        }),
        remoteAddress: '127.0.0.1:1',
        logger: silentLogger,
        provider: env.quota,
        config: { upload_mode: 0, setstat_mode: 0, track_quota: 1 },
      });
    await fsp.mkdir(env.home, { recursive: true });
    await (await connect(true)).rmdir('/missing');
    await assert.rejects((await connect(false)).rmdir('/missing'), code('NOT_FOUND'));
  });
});
