import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import { createDefender, Defender, hostId, parseHostList, rfc3339, type DefenderSettings } from './defender.js';

const MIN = 60_000;

function settings(over: Partial<DefenderSettings> = {}): DefenderSettings {
  return {
    enabled: true,
    ban_time: 10,
    ban_time_increment: 50,
    threshold: 5,
    score_invalid: 2,
    score_valid: 1,
    score_limit_exceeded: 3,
    observation_time: 15,
    entries_soft_limit: 3,
    entries_hard_limit: 5,
    safelist_file: '',
    blocklist_file: '',
    ...over,
  };
}

function clock(start = Date.UTC(2021, 5, 1, 12, 0, 0)): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

void describe('Defender', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'defender-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('scores events by kind and bans at the threshold', () => {
    const c = clock();
    const d = new Defender(settings(), { now: c.now });
    d.addEvent('10.0.0.1', 'login_failed');
    assert.equal(d.getScore('10.0.0.1'), 1);
    d.addEvent('10.0.0.1', 'user_not_found');
    assert.equal(d.getScore('10.0.0.1'), 3);
    assert.equal(d.isBanned('10.0.0.1'), false);
    assert.deepEqual(d.getHost('10.0.0.1'), { id: hostId('10.0.0.1'), ip: '10.0.0.1', score: 3 });
    d.addEvent('10.0.0.1', 'no_login_tried');
    // 5 >= threshold: banned, score gone
    assert.equal(d.getScore('10.0.0.1'), 0);
    assert.equal(d.getBanTime('10.0.0.1')?.getTime(), c.now() + 10 * MIN);
    assert.deepEqual(d.getHost('10.0.0.1'), {
      id: '31302e302e302e31',
      ip: '10.0.0.1',
      ban_time: rfc3339(c.now() + 10 * MIN),
    });
    assert.equal(d.isBanned('10.0.0.1'), true);
    // a connection attempt while banned extends the ban by 50% of ban_time (5 minutes)
    assert.equal(d.getBanTime('10.0.0.1')?.getTime(), c.now() + 15 * MIN);
    assert.equal(d.isBannedNow('10.0.0.1'), true);
    assert.equal(d.getBanTime('10.0.0.1')?.getTime(), c.now() + 15 * MIN);
    // events of a banned host are ignored
    d.addEvent('10.0.0.1', 'limit_exceeded');
    assert.equal(d.getScore('10.0.0.1'), 0);
    c.advance(15 * MIN + 1);
    assert.equal(d.isBanned('10.0.0.1'), false);
    assert.equal(d.getBanTime('10.0.0.1'), undefined);
    assert.throws(() => d.getHost('10.0.0.1'), (e: unknown) => SftpgoError.is(e, 'NOT_FOUND'));
  });

  void it('limit_exceeded uses score_limit_exceeded; the increment is at least one minute', () => {
    const c = clock();
    const d = new Defender(settings({ ban_time: 1, ban_time_increment: 10 }), { now: c.now });
    d.addEvent('10.0.0.2', 'limit_exceeded');
    assert.equal(d.getScore('10.0.0.2'), 3);
    d.addEvent('10.0.0.2', 'limit_exceeded');
    const until = d.getBanTime('10.0.0.2')?.getTime();
    assert.equal(until, c.now() + MIN);
    assert.equal(d.isBanned('10.0.0.2'), true);
    assert.equal(d.getBanTime('10.0.0.2')?.getTime(), c.now() + 2 * MIN);
  });

  void it('forgets events older than the observation window', () => {
    const c = clock();
    const d = new Defender(settings(), { now: c.now });
    d.addEvent('10.0.0.3', 'user_not_found');
    d.addEvent('10.0.0.3', 'user_not_found');
    c.advance(15 * MIN);
    assert.equal(d.getScore('10.0.0.3'), 0);
    assert.deepEqual(d.getHosts(), []);
    d.addEvent('10.0.0.3', 'user_not_found');
    assert.equal(d.getScore('10.0.0.3'), 2);
    assert.equal(d.isBanned('10.0.0.3'), false);
  });

  void it('lists hosts, deletes them, normalizes addresses', () => {
    const c = clock();
    const d = new Defender(settings(), { now: c.now });
    d.addEvent('::ffff:192.168.1.1', 'login_failed');
    d.addEvent('192.168.1.2:2222', 'no_login_tried');
    d.addEvent('192.168.1.2', 'no_login_tried');
    d.addEvent('192.168.1.2', 'no_login_tried');
    d.addEvent('2001:DB8::1', 'login_failed');
    const hosts = d.getHosts();
    assert.deepEqual(
      hosts.map((h) => [h.ip, h.score, h.ban_time !== undefined]),
      [
        ['192.168.1.2', undefined, true],
        ['192.168.1.1', 1, false],
        ['2001:db8::1', 1, false],
      ],
    );
    assert.equal(d.deleteHost('192.168.1.2'), true);
    assert.equal(d.isBanned('192.168.1.2'), false);
    assert.equal(d.deleteHost('192.168.1.2'), false);
    assert.equal(d.deleteHost('192.168.1.1'), true);
    assert.equal(d.getScore('192.168.1.1'), 0);
  });

  void it('keeps the in-memory lists between the soft and the hard limit', () => {
    const c = clock();
    const d = new Defender(settings(), { now: c.now });
    for (let i = 1; i <= 6; i++) {
      d.addEvent(`10.1.0.${i}`, 'login_failed');
      c.advance(1000);
    }
    // 6 > hard limit 5: trimmed to the soft limit 3, the most recent kept
    assert.equal(d.counts().hosts, 3);
    assert.deepEqual(
      d.getHosts().map((h) => h.ip),
      ['10.1.0.4', '10.1.0.5', '10.1.0.6'],
    );
    for (let i = 1; i <= 6; i++) {
      d.addEvent(`10.2.0.${i}`, 'limit_exceeded');
      d.addEvent(`10.2.0.${i}`, 'limit_exceeded');
      c.advance(1000);
    }
    assert.equal(d.counts().banned, 3);
    assert.equal(d.isBannedNow('10.2.0.6'), true);
    assert.equal(d.isBannedNow('10.2.0.1'), false);
  });

  void it('a disabled defender bans nobody and lists nothing', async () => {
    const d = await createDefender(settings({ enabled: false, blocklist_file: '/nonexistent/list.json' }));
    for (let i = 0; i < 10; i++) d.addEvent('10.0.0.9', 'user_not_found');
    assert.equal(d.isBanned('10.0.0.9'), false);
    assert.deepEqual(d.getHosts(), []);
    assert.equal(d.getScore('10.0.0.9'), 0);
    assert.equal(d.deleteHost('10.0.0.9'), false);
    assert.throws(() => d.getHost('10.0.0.9'), (e: unknown) => SftpgoError.is(e, 'NOT_FOUND'));
  });

  void it('safelist and blocklist files, reloaded on demand', async () => {
    const safe = join(dir, 'safe.json');
    const block = join(dir, 'block.json');
    await writeFile(safe, JSON.stringify({ addresses: ['172.16.0.1', 'not-an-ip'], networks: ['192.168.10.0/24', '1.2.3.4/99'] }));
    await writeFile(block, JSON.stringify({ addresses: ['172.16.0.66'], networks: ['10.10.0.0/16', '2001:db8:1::/48'] }));
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_o: object, msg?: string) => warnings.push(msg ?? ''),
      error: () => undefined,
    };
    const d = await createDefender(settings({ safelist_file: safe, blocklist_file: block }), { logger });
    assert.equal(warnings.length, 2);
    for (let i = 0; i < 10; i++) {
      d.addEvent('172.16.0.1', 'user_not_found');
      d.addEvent('192.168.10.77', 'user_not_found');
    }
    assert.equal(d.isBanned('172.16.0.1'), false);
    assert.equal(d.isBanned('192.168.10.77'), false);
    assert.equal(d.isBanned('172.16.0.66'), true);
    assert.equal(d.isBanned('10.10.200.1'), true);
    assert.equal(d.isBanned('2001:db8:1::5'), true);
    assert.equal(d.isBanned('10.11.0.1'), false);
    // blocklisted hosts are refused but not listed as banned
    assert.deepEqual(d.getHosts(), []);

    await writeFile(block, JSON.stringify({ addresses: [], networks: [] }));
    await d.reload();
    assert.equal(d.isBanned('172.16.0.66'), false);

    // a broken file keeps the previous lists and reports the error
    await writeFile(safe, '{ not json');
    await assert.rejects(d.reload(), (e: unknown) => SftpgoError.is(e, 'INVALID_INPUT'));
    d.addEvent('172.16.0.1', 'user_not_found');
    assert.equal(d.getScore('172.16.0.1'), 0);
    await assert.rejects(
      createDefender(settings({ blocklist_file: join(dir, 'missing.json') })),
      (e: unknown) => SftpgoError.is(e, 'INVALID_INPUT') && e.message.includes('missing.json'),
    );
  });

  void it('parseHostList validates the shape', () => {
    assert.throws(() => parseHostList([], 'x'), /expected an object/);
    assert.throws(() => parseHostList({ addresses: 'a' }, 'x'), /"addresses" must be a list of strings/);
    assert.equal(parseHostList({}, 'x'), undefined);
    const l = parseHostList({ addresses: ['::FFFF:1.2.3.4'] }, 'x');
    assert.equal(l?.has('1.2.3.4'), true);
  });

  void it('host ids are the hex of the IP string and ban times Go RFC 3339', () => {
    assert.equal(hostId('127.0.0.1'), '3132372e302e302e31');
    assert.equal(rfc3339(Date.UTC(2021, 0, 2, 3, 4, 5, 678)), '2021-01-02T03:04:05Z');
  });
});
