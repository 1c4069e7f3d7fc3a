import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execute, harness } from '../testing.js';
import { defenderGetCommand } from './get.js';
import { defenderListCommand } from './list.js';
import { defenderUnbanCommand } from './unban.js';

const host = { id: '3139322e302e322e31', ip: '192.0.2.1', ban_time: '2030-01-01T00:00:00Z' };

void describe('defender', () => {
  void it('list, get by IP or id, unban with confirmation', async () => {
    const h = harness({
      routes: {
        'GET /defender/hosts': () => ({ body: [host] }),
        [`GET /defender/hosts/${host.id}`]: () => ({ body: host }),
        [`DELETE /defender/hosts/${host.id}`]: () => ({ body: { message: 'OK' } }),
      },
    });
    assert.equal(await execute(defenderListCommand(h.f), []), 0);
    assert.equal(h.io.out(), `${host.id}\t192.0.2.1\t-\t2030-01-01T00:00:00Z\n`);
    assert.equal(await execute(defenderGetCommand(h.f), ['192.0.2.1', '--json']), 0);
    assert.equal(h.calls[1]?.path, `/defender/hosts/${host.id}`);
    assert.equal(await execute(defenderUnbanCommand(h.f), [host.id]), 2);
    assert.equal(await execute(defenderUnbanCommand(h.f), [host.id, '--yes']), 0);
    assert.equal(h.calls[2]?.method, 'DELETE');
  });

  void it('unknown host: exit 1 with the message', async () => {
    const h = harness({ routes: {} });
    assert.equal(await execute(defenderGetCommand(h.f), ['10.0.0.1']), 1);
    assert.match(h.io.err(), /^Error: /);
  });
});
