import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRows, filterRows, fit, sortRows, totals, type Snapshot } from './model.js';

const conn = (id: string, user: string, size: number, at: number): Snapshot['connections'][number] => ({
  connection_id: id,
  username: user,
  protocol: 'SFTP',
  remote_address: '127.0.0.1:1',
  connection_time: at - 10_000,
  last_activity: at - 1000,
  active_transfers: [{ operation_type: 'upload', path: `/${user}.bin`, size, start_time: at - 4000 }],
});

void describe('top model', () => {
  void it('computes speeds from successive polls (average since start on the first one)', () => {
    const first = buildRows({ at: 10_000, status: undefined, connections: [conn('a', 'alice', 4096, 10_000)] }, new Map());
    assert.equal(first.rows[0]?.transfers[0]?.speed, 1024);
    const c2 = conn('a', 'alice', 4096 + 2048, 10_000); // same transfer (same start_time)
    const second = buildRows({ at: 11_000, status: undefined, connections: [c2] }, first.history);
    assert.equal(second.rows[0]?.transfers[0]?.speed, 2048);
    assert.deepEqual(totals(second.rows), { connections: 1, transfers: 1, uploadSpeed: 2048, downloadSpeed: 0 });
  });

  void it('filters and sorts', () => {
    const { rows } = buildRows({ at: 10_000, status: undefined, connections: [conn('b', 'bob', 1, 10_000), conn('a', 'alice', 9999, 10_000)] }, new Map());
    assert.deepEqual(filterRows(rows, 'ALI').map((r) => r.id), ['a']);
    assert.deepEqual(filterRows(rows, '/bob.bin').map((r) => r.id), ['b']);
    assert.deepEqual(sortRows(rows, 'user').map((r) => r.user), ['alice', 'bob']);
    assert.deepEqual(sortRows(rows, 'speed').map((r) => r.user), ['alice', 'bob']);
  });

  void it('fits text to a width', () => {
    assert.equal(fit('abc', 5), 'abc  ');
    assert.equal(fit('abcdef', 4), 'abc…');
  });
});
