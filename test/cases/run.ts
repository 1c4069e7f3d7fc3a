/**
 * runCases(driver): turns the shared table (table.ts) into node:test tests for one protocol.
 * One server per call (per test file); one user and one session per fixture, created on first
 * use; `isolated` fixtures are emptied and their counters reset before each case. Set-up files are written straight to
 * disk (not through the protocol under test); outcomes come from the driver; side effects are
 * read from disk and from the REST API.
 *
 * A case whose operation or path the protocol cannot express is left out with the driver's
 * reason: one test lists them (its diagnostics) and fails when a driver leaves out too many.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiUser } from '../../src/api/index.js';
import { PROTOCOL_ACTIONS } from '../../src/config/index.js';
import { HookReceiver, type ReceivedRequest } from '../helpers/hooks.js';
import { mergeConfig, type ConfigOverrides, type TestServer } from '../helpers/server.js';
import { ACTION_CASES, CASES, FIXTURES } from './table.js';
import type {
  ActionExpect,
  Case,
  CaseUser,
  Category,
  Data,
  DriverSession,
  FileState,
  Fixture,
  Given,
  Op,
  OpResult,
  Outcome,
  ProtocolDriver,
  ProtocolServer,
  Step,
  Support,
} from './types.js';

/** the config the cases are written for (upload_mode 0, the default, is part of it) */
export const BASE_CONFIG: ConfigOverrides = { data_provider: { track_quota: 2 } };

const CATEGORIES: readonly Category[] = [
  'permissions',
  'quota',
  'patterns',
  'hostile-paths',
  'virtual-folders',
  'actions',
];

export interface RunCasesOptions {
  /** default: the whole table */
  cases?: readonly Case[];
  /**
   * Run with custom actions (for the steps' `actions` expectations): every action in
   * execute_on and execute_sync, the hook a recording HTTP receiver started here that answers
   * 403 to pre-X for a path whose name contains "deny-X" and 200 to everything else.
   */
  actions?: boolean;
}

const ALL_ACTIONS = [...PROTOCOL_ACTIONS];

/** the receiver's policy in `actions` runs */
function actionAnswer(r: ReceivedRequest): { status: number } {
  const n = JSON.parse(r.body) as { action: string; path: string };
  const op = n.action.startsWith('pre-') ? n.action.slice(4) : undefined;
  return { status: op !== undefined && basename(n.path).includes(`deny-${op}`) ? 403 : 200 };
}

/** the bytes of a table payload; `{ size }` is a deterministic pattern */
export function dataBytes(d: Data): Buffer {
  if (typeof d === 'string') return Buffer.from(d);
  const b = Buffer.allocUnsafe(d.size);
  for (let i = 0; i < d.size; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

/** why a case cannot run over this driver, or undefined */
export function skipReason(
  driver: ProtocolDriver,
  c: Case,
  outside = '/outside',
): string | undefined {
  for (const s of c.steps) {
    const sup = driver.supports(s.do.op);
    if (sup !== true) return `${driver.name} cannot ${s.do.op}: ${sup}`;
    for (const p of opPaths(s.do)) {
      const t: Support = driver.transports?.(fill(p, outside)) ?? true;
      if (t !== true) return `${driver.name} cannot transport ${JSON.stringify(p)}: ${t}`;
    }
  }
  return undefined;
}

function opPaths(op: Op<Data>): string[] {
  switch (op.op) {
    case 'rename':
      return [op.from, op.to];
    case 'symlink':
      return [op.target, op.link];
    case 'upload':
    case 'append':
    case 'download':
    case 'mkdir':
    case 'rmdir':
    case 'remove':
    case 'list':
    case 'stat':
    case 'readlink':
    case 'realpath':
    case 'chmod':
    case 'chtimes':
      return [op.path];
  }
}

function fill(p: string, outside: string): string {
  return p.replaceAll('{outsideName}', basename(outside)).replaceAll('{outside}', outside);
}

function fillOp(op: Op<Data>, outside: string): Op {
  switch (op.op) {
    case 'upload':
    case 'append':
      return { ...op, path: fill(op.path, outside), data: dataBytes(op.data) };
    case 'rename':
      return { ...op, from: fill(op.from, outside), to: fill(op.to, outside) };
    case 'symlink':
      return { ...op, target: fill(op.target, outside), link: fill(op.link, outside) };
    case 'download':
    case 'mkdir':
    case 'rmdir':
    case 'remove':
    case 'list':
    case 'stat':
    case 'readlink':
    case 'realpath':
    case 'chmod':
    case 'chtimes':
      return { ...op, path: fill(op.path, outside) };
  }
}

function describeOp(op: Op<Data>): string {
  switch (op.op) {
    case 'rename':
      return `rename ${JSON.stringify(op.from)} -> ${JSON.stringify(op.to)}`;
    case 'symlink':
      return `symlink ${JSON.stringify(op.link)} -> ${JSON.stringify(op.target)}`;
    case 'upload':
    case 'append':
    case 'download':
    case 'mkdir':
    case 'rmdir':
    case 'remove':
    case 'list':
    case 'stat':
    case 'readlink':
    case 'realpath':
    case 'chmod':
    case 'chtimes':
      return `${op.op} ${JSON.stringify(op.path)}`;
  }
}

/** a user of one fixture, with its directories and (lazily) its session */
interface FixtureUser {
  user: CaseUser;
  home: string;
  /** virtual path -> host dir, longest first */
  mounts: { virtualPath: string; dir: string; folder: string; realName: string }[];
  session?: DriverSession;
}

export function runCases(driver: ProtocolDriver, o: RunCasesOptions = {}): void {
  const cases = o.cases ?? CASES;
  const ids = new Set<string>();
  for (const c of cases) {
    assert.ok(!ids.has(c.id), `duplicate case id ${c.id}`);
    ids.add(c.id);
    assert.ok(FIXTURES[c.fixture], `${c.id}: unknown fixture ${c.fixture}`);
    assert.ok(
      o.actions === true || c.steps.every((s) => s.actions === undefined),
      `${c.id} expects custom actions: run it with { actions: true }`,
    );
  }
  const receiver = o.actions === true ? new HookReceiver() : undefined;

  void describe(`${driver.name}: shared cases (test/cases)`, () => {
    let server: ProtocolServer | undefined;
    let srv: TestServer;
    let dir: string;
    let outside: string;
    let seq = 0;
    const fixtureUsers = new Map<string, Promise<FixtureUser>>();
    const open = new Set<FixtureUser>();

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `sftpgo-cases-${driver.name.toLowerCase()}-`));
      outside = join(dir, `outside-${randomBytes(3).toString('hex')}`);
      await mkdir(outside);
      await writeFile(join(outside, 'secret.txt'), 'secret\n');
      await chmod(join(outside, 'secret.txt'), 0o644);
      await utimes(join(outside, 'secret.txt'), 3_000_000, 3_000_000);
      let config = BASE_CONFIG;
      if (receiver) {
        await receiver.start(actionAnswer);
        config = mergeConfig(config, {
          common: {
            actions: { execute_on: ALL_ACTIONS, execute_sync: ALL_ACTIONS, hook: receiver.url },
          },
          http: { retry_max: 0 },
        }) as ConfigOverrides;
      }
      server = await driver.start(config);
      srv = server.srv;
    });
    after(async () => {
      for (const f of open) await f.session?.close();
      await server?.stop();
      await receiver?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    async function createFixtureUser(name: string, fx: Fixture): Promise<FixtureUser> {
      const username = `${name.replace(/[^a-z0-9]/g, '')}${++seq}${randomBytes(2).toString('hex')}`;
      const password = `pass-${username}`;
      const home = join(dir, username);
      await mkdir(home);
      const mounts: FixtureUser['mounts'] = [];
      const folders: Record<string, unknown>[] = [];
      for (const f of fx.folders ?? []) {
        const realName = `${username}-${f.name}`;
        const mapped = join(dir, realName);
        await mkdir(mapped);
        mounts.push({ virtualPath: f.virtualPath, dir: mapped, folder: f.name, realName });
        folders.push({
          name: realName,
          mapped_path: mapped,
          virtual_path: f.virtualPath,
          quota_size: f.quotaSize ?? -1,
          quota_files: f.quotaFiles ?? -1,
        });
      }
      mounts.sort((a, b) => b.virtualPath.length - a.virtualPath.length);
      const body = {
        status: 1,
        permissions: { '/': ['*'] },
        ...fx.user,
        username,
        password,
        home_dir: home,
        ...(folders.length > 0 ? { virtual_folders: folders } : {}),
      };
      const r = await srv.api('POST', '/users', body);
      assert.equal(r.status, 201, `create user for fixture ${name}: ${r.text}`);
      const fu: FixtureUser = { user: { username, password }, home, mounts };
      for (const g of fx.given ?? []) await makeGiven(fu, g);
      return fu;
    }

    /** host path of a virtual path, through the fixture's folders */
    function hostPath(fu: FixtureUser, virtualPath: string): string {
      const p = fill(virtualPath, outside);
      for (const m of fu.mounts) {
        if (p === m.virtualPath || p.startsWith(`${m.virtualPath}/`))
          return join(m.dir, p.slice(m.virtualPath.length));
      }
      return join(fu.home, p);
    }

    async function makeGiven(fu: FixtureUser, g: Given): Promise<void> {
      const p = hostPath(fu, g.path);
      await mkdir(g.dir ? p : dirname(p), { recursive: true });
      if (g.symlink !== undefined) await symlink(fill(g.symlink, outside), p);
      else if (g.content !== undefined) await writeFile(p, g.content);
      if (g.mode !== undefined) await chmod(p, g.mode);
      if (g.mtime !== undefined) await utimes(p, g.mtime, g.mtime);
    }

    async function session(fu: FixtureUser): Promise<DriverSession> {
      fu.session ??= await (server as ProtocolServer).connect(fu.user);
      open.add(fu);
      return fu.session;
    }

    async function checkFile(where: string, p: string, want: FileState): Promise<void> {
      const what = `${where} ${JSON.stringify(p)}`;
      if (want === null) {
        await assert.rejects(lstat(p), { code: 'ENOENT' }, `${what} must not exist`);
        return;
      }
      const w = typeof want === 'string' ? { content: want } : want;
      if (w.link !== undefined)
        assert.equal(await readlink(p), fill(w.link, outside), `${what}: link target`);
      if (
        w.dir === undefined &&
        w.content === undefined &&
        w.size === undefined &&
        w.mode === undefined &&
        w.mtime === undefined
      )
        return;
      const st = await stat(p).catch((e: unknown) =>
        assert.fail(`${what} must exist: ${String(e)}`),
      );
      if (w.dir) assert.ok(st.isDirectory(), `${what} must be a directory`);
      if (w.content !== undefined)
        assert.equal(await readFile(p, 'utf8'), w.content, `${what}: content`);
      if (w.size !== undefined) assert.equal(st.size, w.size, `${what}: size`);
      if (w.mode !== undefined) assert.equal(st.mode & 0o777, w.mode, `${what}: mode`);
      if (w.mtime !== undefined) assert.equal(st.mtimeMs, w.mtime * 1000, `${what}: mtime`);
    }

    async function checkQuota(fu: FixtureUser, step: Step): Promise<void> {
      const q = step.quota;
      if (!q) return;
      if (q.user) {
        const r = await srv.api<ApiUser>('GET', `/users/${encodeURIComponent(fu.user.username)}`);
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(
          { size: r.body.used_quota_size, files: r.body.used_quota_files },
          q.user,
          'user used_quota_size/used_quota_files',
        );
      }
      for (const [name, want] of Object.entries(q.folders ?? {})) {
        const m = fu.mounts.find((x) => x.folder === name);
        assert.ok(m, `folder ${name} is not in the fixture`);
        const r = await srv.api<{ used_quota_size?: number; used_quota_files?: number }>(
          'GET',
          `/folders/${encodeURIComponent(m.realName)}`,
        );
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(
          { size: r.body.used_quota_size, files: r.body.used_quota_files },
          want,
          `folder ${name} used_quota_size/used_quota_files`,
        );
      }
    }

    /** the exact JSON body of an expected notification */
    function expectedBody(fu: FixtureUser, a: ActionExpect): Record<string, unknown> {
      const flags = a.open_flags === undefined ? 0 : driver.actionOpenFlags?.[a.open_flags];
      assert.ok(flags !== undefined, `${driver.name} declares no ${a.open_flags} open flags`);
      return {
        action: a.action,
        username: fu.user.username,
        path: hostPath(fu, a.path),
        ...(a.target !== undefined ? { target_path: hostPath(fu, a.target) } : {}),
        ...(a.file_size ? { file_size: a.file_size } : {}),
        fs_provider: 0,
        status: a.status ?? 1,
        protocol: driver.name,
        ...(flags ? { open_flags: flags } : {}),
      };
    }

    /**
     * The notifications of `fu` since `from` (receiver.requests index) must be `want`, exactly.
     * They are synchronous, but a protocol may send its reply before a download's transfer is
     * closed (WebDAV): wait until as many have come.
     */
    async function checkActions(
      fu: FixtureUser,
      from: number,
      want: readonly ActionExpect[],
      label: string,
    ): Promise<void> {
      const r = receiver as HookReceiver;
      const mine = (x: ReceivedRequest): boolean =>
        r.requests.indexOf(x) >= from &&
        (JSON.parse(x.body) as { username?: string }).username === fu.user.username;
      if (want.length > 0) await r.waitFor(want.length, mine);
      const got = r.requests.filter(mine).map((x) => JSON.parse(x.body) as unknown);
      assert.deepEqual(
        got,
        want.map((a) => expectedBody(fu, a)),
        `${label}: custom action notifications`,
      );
    }

    /** the class representative of an outcome, for protocols that answer some alike */
    function canon(x: Outcome): Outcome {
      for (const cls of driver.indistinguishable ?? []) if (cls.includes(x)) return cls[0] ?? x;
      return x;
    }

    function checkResult(step: Step, res: OpResult, label: string): void {
      const expected: readonly Outcome[] =
        typeof step.expect === 'string' ? [step.expect] : step.expect;
      const same = expected.some((e) => canon(e) === canon(res.outcome));
      const alike = (driver.indistinguishable ?? []).map((c) => c.join('=')).join(', ');
      assert.ok(
        same,
        `${label}: expected ${expected.join(' or ')}, got ${res.outcome}` +
          (res.detail ? ` (${res.detail})` : '') +
          (alike ? ` [${driver.name} answers alike: ${alike}]` : ''),
      );
      if (res.outcome !== 'ok') return;
      if (step.content !== undefined) {
        assert.ok(res.content, `${label}: no content returned`);
        assert.ok(
          res.content.equals(dataBytes(step.content)),
          `${label}: downloaded content differs`,
        );
      }
      if (step.entries) {
        assert.ok(res.names, `${label}: no names returned`);
        for (const n of step.entries.includes ?? [])
          assert.ok(res.names.includes(n), `${label}: ${n} missing in ${res.names.join(', ')}`);
        for (const n of step.entries.excludes ?? [])
          assert.ok(!res.names.includes(n), `${label}: ${n} must not be listed`);
      }
      if (step.stat) {
        assert.ok(res.stat, `${label}: no stat returned`);
        if (step.stat.size !== undefined)
          assert.equal(res.stat.size, step.stat.size, `${label}: size`);
        if (step.stat.isDirectory !== undefined)
          assert.equal(res.stat.isDirectory, step.stat.isDirectory, `${label}: isDirectory`);
      }
      if (step.path !== undefined) assert.equal(res.path, step.path, `${label}: path`);
    }

    /** an isolated fixture's clean state: empty directories, its given files, zero counters */
    async function reset(fu: FixtureUser, fx: Fixture): Promise<void> {
      for (const d of [fu.home, ...fu.mounts.map((m) => m.dir)]) {
        for (const e of await readdir(d)) await rm(join(d, e), { recursive: true, force: true });
      }
      for (const g of fx.given ?? []) await makeGiven(fu, g);
      const zero = { used_quota_size: 0, used_quota_files: 0 };
      const targets = [
        `/quotas/users/${encodeURIComponent(fu.user.username)}/usage?mode=reset`,
        ...fu.mounts.map(
          (m) => `/quotas/folders/${encodeURIComponent(m.realName)}/usage?mode=reset`,
        ),
      ];
      for (const t of targets) {
        const r = await srv.api('PUT', t, zero);
        assert.equal(r.status, 200, `reset ${t}: ${r.text}`);
      }
    }

    async function runCase(c: Case): Promise<void> {
      const fx = FIXTURES[c.fixture];
      assert.ok(fx);
      let p = fixtureUsers.get(c.fixture);
      if (!p) {
        p = createFixtureUser(c.fixture, fx);
        fixtureUsers.set(c.fixture, p);
      }
      const fu = await p;
      if (fx.isolated) await reset(fu, fx);
      for (const g of c.given ?? []) await makeGiven(fu, g);
      const s = await session(fu);
      const different = driver.differences?.[c.id];
      for (const [i, tableStep] of c.steps.entries()) {
        const step: Step = { ...tableStep, ...different?.steps[i] };
        const label = `${c.id} step ${i + 1} (${describeOp(step.do)})${different ? ` [${driver.name}: ${different.reason}]` : ''}`;
        let res: OpResult;
        const actionsFrom = receiver?.requests.length ?? 0;
        try {
          res = await s.run(fillOp(step.do, outside));
        } catch (e) {
          // the protocol broke (not a refusal): the next case of this fixture reconnects
          fu.session = undefined;
          let closeError: unknown;
          try {
            await s.close();
          } catch (ce) {
            // a broken session may not close cleanly: reported with the error that broke it
            closeError = ce;
          }
          const why = closeError === undefined ? '' : ` (and closing it: ${String(closeError)})`;
          throw new Error(
            `${label}: ${driver.name} session failed: ${(e as Error).message}${why}`,
            {
              cause: e,
            },
          );
        }
        checkResult(step, res, label);
        for (const [fp, want] of Object.entries(step.files ?? {}))
          await checkFile(`${label}: file`, hostPath(fu, fp), want);
        for (const [fp, want] of Object.entries(step.home ?? {}))
          await checkFile(`${label}: home`, join(fu.home, fp), want);
        for (const [fp, want] of Object.entries(step.outside ?? {}))
          await checkFile(`${label}: outside`, join(outside, fp), want);
        await checkQuota(fu, step);
        if (step.actions) await checkActions(fu, actionsFrom, step.actions, label);
      }
    }

    // Cases the protocol cannot express are not run (and not reported as skipped): one test
    // lists them with their reasons and fails when a driver leaves out more than a few.
    const inexpressible = cases.flatMap((c) => {
      const reason = skipReason(driver, c);
      return reason === undefined ? [] : [{ c, reason }];
    });
    void it(`${inexpressible.length} cases ${driver.name} cannot express`, (t) => {
      for (const { c, reason } of inexpressible) t.diagnostic(`${c.id} ${c.title}: ${reason}`);
      const max = driver.maxLeftOut ?? Math.ceil(cases.length / 10);
      assert.ok(
        inexpressible.length <= max,
        `${driver.name} leaves out ${inexpressible.length} of ${cases.length} cases (at most ${max})`,
      );
    });
    // the driver's differences for the cases of this run (an id in no table still fails)
    const known = [...CASES, ...ACTION_CASES];
    const differences = Object.entries(driver.differences ?? {}).filter(
      ([id]) => cases.some((c) => c.id === id) || !known.some((c) => c.id === id),
    );
    if (differences.length > 0) {
      void it(`${differences.length} cases ${driver.name} answers differently on purpose`, (t) => {
        for (const [id, d] of differences) {
          const c = known.find((x) => x.id === id);
          assert.ok(c, `${driver.name} declares a difference for ${id}, which is not in the table`);
          assert.ok(d.steps.length <= c.steps.length, `${id}: more steps than the case has`);
          t.diagnostic(`${id} ${c.title}: ${d.reason}`);
        }
      });
    }
    for (const category of CATEGORIES) {
      const inCat = cases.filter((c) => c.category === category && skipReason(driver, c) === undefined);
      if (inCat.length === 0) continue;
      void describe(category, () => {
        for (const c of inCat) void it(`${c.id} ${c.title}`, () => runCase(c));
      });
    }
  });
}
