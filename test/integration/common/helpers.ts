/**
 * Test helpers for the common layer: a temp directory per test, a user on it, and an
 * in-memory fake of the data provider's quota counters (the only provider calls the core makes).
 */
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Connection,
  ConnectionRegistry,
  createUserFs,
  newConnectionId,
  silentLogger,
  type ConnectionConfig,
  type Protocol,
  type QuotaStore,
} from '../../../src/common/index.js';
import type { QuotaUsage, User } from '../../../src/dataprovider/provider.js';
import { SftpgoError, type ErrorCode } from '../../../src/errors/index.js';

export class FakeQuotaStore implements QuotaStore {
  readonly users = new Map<string, QuotaUsage>();
  readonly folders = new Map<string, QuotaUsage>();
  calls = 0;

  private apply(
    m: Map<string, QuotaUsage>,
    k: string,
    size: number,
    files: number,
    reset: boolean,
  ): void {
    const cur = m.get(k) ?? { usedQuotaSize: 0, usedQuotaFiles: 0 };
    m.set(
      k,
      reset
        ? { usedQuotaSize: size, usedQuotaFiles: files }
        : { usedQuotaSize: cur.usedQuotaSize + size, usedQuotaFiles: cur.usedQuotaFiles + files },
    );
  }

  async updateUserQuota(
    username: string,
    sizeDelta: number,
    filesDelta: number,
    reset: boolean,
  ): Promise<void> {
    this.calls++;
    this.apply(this.users, username, sizeDelta, filesDelta, reset);
  }

  async updateFolderQuota(
    name: string,
    sizeDelta: number,
    filesDelta: number,
    reset: boolean,
  ): Promise<void> {
    this.calls++;
    this.apply(this.folders, name, sizeDelta, filesDelta, reset);
  }

  async getUserUsedQuota(username: string): Promise<QuotaUsage> {
    return this.users.get(username) ?? { usedQuotaSize: 0, usedQuotaFiles: 0 };
  }

  async getFolderUsedQuota(name: string): Promise<QuotaUsage> {
    return this.folders.get(name) ?? { usedQuotaSize: 0, usedQuotaFiles: 0 };
  }

  user(name = 'alice'): { size: number; files: number } {
    const u = this.users.get(name) ?? { usedQuotaSize: 0, usedQuotaFiles: 0 };
    return { size: u.usedQuotaSize, files: u.usedQuotaFiles };
  }

  folder(name: string): { size: number; files: number } {
    const u = this.folders.get(name) ?? { usedQuotaSize: 0, usedQuotaFiles: 0 };
    return { size: u.usedQuotaSize, files: u.usedQuotaFiles };
  }
}

export interface Env {
  base: string;
  home: string;
  quota: FakeQuotaStore;
  registry: ConnectionRegistry;
  cleanup(): Promise<void>;
  connect(
    user: User,
    o?: {
      config?: Partial<ConnectionConfig>;
      protocol?: Protocol;
      onClose?: () => void;
      id?: string;
    },
  ): Promise<Connection>;
  user(extra?: Record<string, unknown>): User;
  /** absolute path inside the base dir */
  p(...parts: string[]): string;
}

let seq = 0;

export async function makeEnv(): Promise<Env> {
  const base = await fsp.realpath(await fsp.mkdtemp(path.join(tmpdir(), 'sftpgo-common-')));
  const home = path.join(base, 'home');
  const quota = new FakeQuotaStore();
  const registry = new ConnectionRegistry();
  return {
    base,
    home,
    quota,
    registry,
    p: (...parts) => path.join(base, ...parts),
    async cleanup() {
      registry.stopIdleChecker();
      await fsp.rm(base, { recursive: true, force: true });
    },
    user(extra = {}) {
      return {
        username: 'alice',
        status: 1,
        home_dir: home,
        permissions: { '/': ['*'] },
        ...extra,
      } as unknown as User;
    },
    async connect(user, o = {}) {
      const mounts = await createUserFs(user, { fsync: false });
      const config: ConnectionConfig = {
        upload_mode: 0,
        setstat_mode: 0,
        track_quota: 1,
        ...o.config,
      };
      const c = new Connection({
        id: o.id ?? newConnectionId(o.protocol ?? 'SFTP', 'cafe', ++seq),
        protocol: o.protocol ?? 'SFTP',
        user,
        mounts,
        remoteAddress: '127.0.0.1:40000',
        logger: silentLogger,
        provider: quota,
        config,
        registry,
        ...(o.onClose ? { onClose: o.onClose } : {}),
      });
      return c;
    },
  };
}

export function code(c: ErrorCode, text?: string | RegExp) {
  return (e: unknown): boolean => {
    assert.ok(SftpgoError.is(e), `expected SftpgoError ${c}, got ${String(e)}`);
    assert.equal(e.code, c, `expected ${c}, got ${e.code}: ${e.message}`);
    if (text !== undefined)
      assert.match(e.message, typeof text === 'string' ? new RegExp(text) : text);
    return true;
  };
}

export async function names(it: AsyncIterable<{ name: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const i of it) out.push(i.name);
  return out.sort();
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** uploads `data` as a whole new content of `vpath` */
export async function upload(c: Connection, vpath: string, data: Buffer | string): Promise<void> {
  const t = await c.openUpload(vpath, { mode: 'truncate' });
  await t.write(0, Buffer.isBuffer(data) ? data : Buffer.from(data));
  await t.close();
}

/** creates files (content = the string) and directories (key ending in "/") under `root` */
export async function makeTree(root: string, spec: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(spec)) {
    const p = path.join(root, rel);
    if (rel.endsWith('/')) await fsp.mkdir(p, { recursive: true });
    else {
      await fsp.mkdir(path.dirname(p), { recursive: true });
      await fsp.writeFile(p, content);
    }
  }
}
