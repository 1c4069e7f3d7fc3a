import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import {
  connectionLogger,
  logConnectionFailed,
  logTransfer,
  openLogFile,
  openRootLogger,
  senderLogger,
  silentLogger,
} from './index.js';
import { parseStrictJson } from '../../test/helpers/strict-json.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'sftpgo-logger-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A stream collecting the written lines. */
function memory(): { stream: Writable; lines: () => Record<string, unknown>[]; raw: () => string } {
  let buf = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString();
      cb();
    },
  });
  return {
    stream,
    raw: () => buf,
    lines: () =>
      buf
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

void describe('logger', () => {
  void it('writes JSON lines with upstream field names to a file', async () => {
    const dir = tmp();
    const file = join(dir, 'sftpgo.log');
    const root = openRootLogger({
      filePath: file,
      verbose: true,
      maxSizeMB: 10,
      maxBackups: 5,
      maxAgeDays: 28,
      compress: false,
    });
    senderLogger(root.logger, 'sftpd').info('server listening on %s', '127.0.0.1:2022');
    root.logger.debug({ sender: 'config' }, 'debug line');
    await root.close();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2);
    const [first, second] = lines;
    assert.equal(first?.level, 'info');
    assert.equal(first?.sender, 'sftpd');
    assert.equal(first?.message, 'server listening on 127.0.0.1:2022');
    assert.match(String(first?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(!Number.isNaN(Date.parse(String(first?.time))));
    assert.equal(Object.hasOwn(first ?? {}, 'msg'), false);
    assert.equal(Object.hasOwn(first ?? {}, 'pid'), false);
    assert.equal(Object.hasOwn(first ?? {}, 'hostname'), false);
    assert.equal(second?.level, 'debug');
  });

  void it('drops debug lines unless verbose', () => {
    const m = memory();
    const { logger } = openRootLogger({ verbose: false, stream: m.stream });
    logger.debug('hidden');
    logger.warn('shown');
    assert.deepEqual(
      m.lines().map((l) => [l.level, l.message]),
      [['warn', 'shown']],
    );
  });

  void it('redacts secrets at the top level and one level down', () => {
    const m = memory();
    const { logger } = openRootLogger({ verbose: true, stream: m.stream });
    logger.info(
      {
        password: 'p1',
        user: { password: 'p2', username: 'bob' },
        s3: { access_secret: 'as', bucket: 'b' },
        secret: { payload: 'pl', key: 'k', status: 'AES-256-GCM' },
        token: 't',
        access_token: 'at',
        authorization: 'Bearer x',
        headers: { authorization: 'Basic y' },
        private_key: 'pk',
      },
      'login',
    );
    const raw = m.raw();
    for (const secret of [
      'p1',
      'p2',
      '"as"',
      '"pl"',
      '"k"',
      '"t"',
      '"at"',
      'Bearer x',
      'Basic y',
      '"pk"',
    ]) {
      assert.ok(!raw.includes(secret), `${secret} leaked: ${raw}`);
    }
    const [l] = m.lines();
    assert.equal(l?.password, '[redacted]');
    assert.deepEqual(l?.user, { password: '[redacted]', username: 'bob' });
    assert.deepEqual(l?.secret, {
      payload: '[redacted]',
      key: '[redacted]',
      status: 'AES-256-GCM',
    });
    assert.equal((l?.s3 as Record<string, unknown>).bucket, 'b');
  });

  void it('connection logger carries the connection fields', () => {
    const m = memory();
    const { logger } = openRootLogger({ verbose: true, stream: m.stream });
    const c = connectionLogger(logger, {
      sender: 'SFTP',
      connection_id: 'SFTP_abc',
      protocol: 'SFTP',
      username: 'alice',
      remote_addr: '10.0.0.1:5555',
    });
    c.info('opened');
    const [l] = m.lines();
    assert.deepEqual(
      { ...l, time: undefined },
      {
        level: 'info',
        time: undefined,
        sender: 'SFTP',
        connection_id: 'SFTP_abc',
        protocol: 'SFTP',
        username: 'alice',
        remote_addr: '10.0.0.1:5555',
        message: 'opened',
      },
    );
  });

  void it('connection_failed line matches the upstream fail2ban filter', () => {
    const m = memory();
    const { logger } = openRootLogger({ verbose: true, stream: m.stream });
    logConnectionFailed(logger, {
      client_ip: '192.0.2.7',
      username: 'x',
      login_type: 'password',
      protocol: 'SSH',
      error: 'bad password',
    });
    assert.match(
      m.raw(),
      /^\{"level":"debug","time":"[^"]+","sender":"connection_failed","client_ip":"192\.0\.2\.7",/,
    );
  });

  void it('transfer line has the upstream fields', () => {
    const m = memory();
    const { logger } = openRootLogger({ verbose: false, stream: m.stream });
    logTransfer(logger, {
      operation: 'Upload',
      elapsed_ms: 12,
      size_bytes: 3,
      username: 'u',
      file_path: '/a',
      connection_id: 'c',
      protocol: 'SFTP',
    });
    const [l] = m.lines();
    assert.equal(l?.sender, 'Upload');
    assert.equal(l?.elapsed_ms, 12);
    assert.equal(l?.size_bytes, 3);
    assert.equal(l?.file_path, '/a');
  });

  void it('silentLogger writes nothing and accepts every level', () => {
    const l = silentLogger();
    assert.equal(l.level, 'silent');
    l.error('nothing');
    assert.equal(l.isLevelEnabled('error'), false);
  });
});

void describe('logger: one key once per line', () => {
  /** every line strictly parsed: a duplicate key throws */
  function strictLines(m: ReturnType<typeof memory>): Record<string, unknown>[] {
    return m
      .raw()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => parseStrictJson(l) as Record<string, unknown>);
  }
  const conn = {
    sender: 'SFTP',
    connection_id: 'SFTP_abc',
    protocol: 'SFTP',
    username: 'alice',
    remote_addr: '10.0.0.1:5555',
  };

  void it('a child re-binding a key replaces it in place', () => {
    const m = memory();
    const { logger } = openRootLogger({ verbose: true, stream: m.stream });
    const a = logger.child({ sender: 'connections', x: 1 });
    const b = a.child({ sender: 'SFTP', y: 2 });
    b.child({ x: 3 }).info('deep');
    b.info('b');
    a.info('a');
    const [deep, lb, la] = strictLines(m);
    assert.deepEqual(Object.keys(deep ?? {}), ['level', 'time', 'sender', 'x', 'y', 'message']);
    assert.deepEqual([deep?.sender, deep?.x, deep?.y], ['SFTP', 3, 2]);
    assert.deepEqual([lb?.sender, lb?.x], ['SFTP', 1]);
    assert.equal(la?.sender, 'connections', 'the parent keeps its bindings');
    assert.deepEqual(b.bindings(), { sender: 'SFTP', x: 1, y: 2 });
  });

  void it('a call-site field named like a binding wins over it, once', () => {
    const m = memory();
    const { logger } = openRootLogger({ verbose: true, stream: m.stream });
    const c = connectionLogger(logger, conn);
    c.info(
      { sender: 'Upload', connection_id: 'SFTP_abc', username: 'alice', file_path: '/a' },
      'upload',
    );
    c.info({ file_path: '/b' }, 'plain');
    c.info({ sender: 'Upload', file_path: '/c' }, 'again');
    c.info({ sender: undefined, file_path: '/d' }, 'undefined keeps the binding');
    const [up, plain, again, undef] = strictLines(m);
    assert.deepEqual(up, {
      level: 'info',
      time: up?.time,
      protocol: 'SFTP',
      remote_addr: '10.0.0.1:5555',
      sender: 'Upload',
      connection_id: 'SFTP_abc',
      username: 'alice',
      file_path: '/a',
      message: 'upload',
    });
    assert.equal(plain?.sender, 'SFTP', 'no leak of the view into later calls');
    assert.equal(plain?.connection_id, 'SFTP_abc');
    assert.equal(again?.sender, 'Upload');
    assert.equal(again?.username, 'alice');
    assert.equal(undef?.sender, 'SFTP');
  });

  void it('the line keeps its own level, time and message', () => {
    const m = memory();
    const { logger } = openRootLogger({ verbose: true, stream: m.stream });
    const c = logger.child({ sender: 'x' });
    c.warn({ level: 'debug', time: 1, message: 'field', a: 1 }, 'argument');
    logger.info({ message: 'only field' });
    logger.child({ level: 'x', time: 2, message: 'bound', b: 1 }).info('bound reserved');
    const [w, only, bound] = strictLines(m);
    assert.deepEqual([w?.level, w?.message, w?.a], ['warn', 'argument', 1]);
    assert.match(String(w?.time), /^\d{4}-/);
    assert.equal(only?.message, 'only field');
    assert.deepEqual([bound?.level, bound?.message, bound?.b], ['info', 'bound reserved', 1]);
  });

  void it('the level of the logger still applies to calls with clashing fields', () => {
    const m = memory();
    const { logger } = openRootLogger({ verbose: true, stream: m.stream });
    const c = logger.child({ sender: 'a' });
    c.debug({ sender: 'b' }, 'shown');
    c.level = 'info';
    c.debug({ sender: 'b' }, 'hidden');
    c.info({ sender: 'b' }, 'info');
    assert.deepEqual(
      strictLines(m).map((l) => [l.sender, l.message]),
      [
        ['b', 'shown'],
        ['b', 'info'],
      ],
    );
  });

  void it('transfer lines on connection loggers are strict JSON', () => {
    const m = memory();
    const { logger } = openRootLogger({ verbose: true, stream: m.stream });
    const c = connectionLogger(logger.child({ sender: 'sftpd' }), conn);
    logTransfer(c, {
      operation: 'Download',
      elapsed_ms: 1,
      size_bytes: 2,
      username: 'alice',
      file_path: '/f',
      connection_id: 'SFTP_abc',
      protocol: 'SFTP',
    });
    const [t] = strictLines(m);
    assert.equal(t?.sender, 'Download');
    assert.equal(t?.remote_addr, '10.0.0.1:5555');
  });

  void it('secrets stay redacted in re-bound keys and views', () => {
    const m = memory();
    const { logger } = openRootLogger({ verbose: true, stream: m.stream });
    const c = logger.child({ token: 'tk1', sender: 'a' }).child({ token: 'tk2' });
    c.info({ sender: 'b' }, 'x');
    assert.ok(!m.raw().includes('tk'), m.raw());
    assert.equal(strictLines(m)[0]?.token, '[redacted]');
  });

  void it('logs errors told to clients without a stack, other errors with one', () => {
    const m = memory();
    const { logger } = openRootLogger({ verbose: true, stream: m.stream });
    const expected = Object.assign(new Error('denying write due to space limit'), {
      code: 'QUOTA_EXCEEDED',
      expose: true,
    });
    logger.warn({ err: expected }, 'upload failed');
    logger.error({ err: new Error('boom') }, 'bug');
    const [w, e] = strictLines(m);
    const we = w?.err as Record<string, unknown>;
    assert.equal(we.message, 'denying write due to space limit');
    assert.equal(we.code, 'QUOTA_EXCEEDED');
    assert.equal(Object.hasOwn(we, 'stack'), false);
    assert.match(String((e?.err as Record<string, unknown>).stack), /Error: boom/);
  });
});

void describe('log file rotation', () => {
  void it('rotates by size into a lumberjack-style backup name and keeps writing', async () => {
    const dir = tmp();
    const file = join(dir, 'sftpgo.log');
    const f = openLogFile({
      filePath: file,
      maxSizeMB: 1,
      maxBackups: 2,
      maxAgeDays: 0,
      compress: false,
    });
    const rotated = once(f.current, 'rotated');
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 1100; i++) f.stream.write(line);
    await rotated;
    f.stream.write('after\n');
    await f.close();
    const backups = readdirSync(dir).filter((n) =>
      /^sftpgo-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}(-\d+)?\.log$/.test(n),
    );
    assert.equal(backups.length, 1, readdirSync(dir).join(','));
    assert.ok(readFileSync(file, 'utf8').endsWith('after\n'));
  });
});

void describe('log file after close', () => {
  void it('a line logged after close() goes to afterClose, not to the ended stream (no warning)', async () => {
    const dir = tmp();
    const file = join(dir, 'sftpgo.log');
    const late: string[] = [];
    const warnings: Error[] = [];
    const f = openLogFile({
      filePath: file,
      maxSizeMB: 0,
      maxBackups: 0,
      maxAgeDays: 0,
      compress: false,
      onWarning: (e) => warnings.push(e),
      afterClose: (line) => late.push(line),
    });
    f.stream.write('before\n');
    await f.close();
    assert.equal(f.stream.write('after\n'), true);
    assert.deepEqual(late, ['after\n']);
    assert.deepEqual(warnings, []);
    assert.equal(readFileSync(file, 'utf8'), 'before\n');
  });
});

void describe('log file reopen (SIGUSR1)', () => {
  const open = (file: string) =>
    openLogFile({ filePath: file, maxSizeMB: 0, maxBackups: 2, maxAgeDays: 0, compress: false });
  const settle = () => new Promise((r) => setTimeout(r, 100));

  void it('rotates a file still in place to a backup, losing no line written meanwhile, and keeps maxBackups', async () => {
    const dir = tmp();
    const file = join(dir, 'sftpgo.log');
    const f = open(file);
    f.stream.write('one\n');
    await settle();
    // a writer that logs a numbered line every millisecond or so during the rotations
    let n = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        f.stream.write(`line-${n++}\n`);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    for (let round = 0; round < 3; round++) {
      assert.equal(await f.reopen(), 'rotated');
      await settle();
    }
    writing = false;
    await writer;
    f.stream.write('last\n');
    await f.close();
    const backups = readdirSync(dir)
      .filter((b) => /^sftpgo-.*\.log$/.test(b))
      .sort();
    assert.equal(backups.length, 2, readdirSync(dir).join(','));
    const all = [
      ...backups.map((b) => readFileSync(join(dir, b), 'utf8')),
      readFileSync(file, 'utf8'),
    ].join('');
    assert.equal(all.includes('one\n'), false, 'the oldest backup was pruned');
    assert.ok(readFileSync(file, 'utf8').endsWith('last\n'));
    // the kept files hold an unbroken run of numbered lines up to the last one written
    const nums = [...all.matchAll(/^line-(\d+)$/gm)].map((m) => Number(m[1]));
    assert.ok(nums.length > 10, `${nums.length} lines`);
    assert.equal(nums.at(-1), n - 1);
    nums.forEach((v, i) => assert.equal(v, (nums[0] ?? 0) + i, `line ${v} out of order or lost`));
  });

  void it('opens a new file when the old one was moved away, and writes nothing more to the moved one', async () => {
    const dir = tmp();
    const file = join(dir, 'sftpgo.log');
    const f = open(file);
    f.stream.write('before\n');
    await settle();
    renameSync(file, `${file}.1`);
    assert.equal(await f.reopen(), 'reopened');
    f.stream.write('after\n');
    await f.close();
    assert.equal(readFileSync(`${file}.1`, 'utf8'), 'before\n');
    assert.equal(readFileSync(file, 'utf8'), 'after\n');
  });
});
