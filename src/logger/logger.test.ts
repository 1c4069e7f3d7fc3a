import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
    const rotated = once(f.stream, 'rotated');
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
