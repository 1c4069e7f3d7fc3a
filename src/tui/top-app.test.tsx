import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { cleanup, render } from 'ink-testing-library';
import type { ConnectionStatus } from '../client/index.js';
import type { TopDataSource } from './data-source.js';
import type { Snapshot } from './model.js';
import { TopApp } from './top-app.js';

/** A data source the test drives: each poll returns the current connections or throws. */
function fakeSource(initial: ConnectionStatus[]) {
  const state = { connections: initial, down: false, closed: [] as string[], polls: 0, bytes: 0 };
  const source: TopDataSource = {
    label: 'http://fake:8080',
    poll(): Promise<Snapshot> {
      state.polls++;
      if (state.down) return Promise.reject(new Error('cannot reach the SFTPGo server at http://fake:8080: ECONNREFUSED'));
      return Promise.resolve({
        at: Date.now(),
        connections: state.connections,
        status: { ssh: { is_active: true }, ftp: { is_active: false }, webdav: { is_active: false }, data_provider: { is_active: true } },
      });
    },
    closeConnection(id) {
      state.closed.push(id);
      state.connections = state.connections.filter((c) => c.connection_id !== id);
      return Promise.resolve();
    },
  };
  return { source, state };
}

const now = Date.now();
const alice: ConnectionStatus = {
  connection_id: 'SFTP_a_1', username: 'alice', protocol: 'SFTP', remote_address: '10.0.0.1:50000',
  connection_time: now - 90_000, last_activity: now - 1000, command: '',
  active_transfers: [{ operation_type: 'upload', path: '/upload/big.iso', size: 5 * 1024 * 1024, start_time: now - 5000 }],
};
const bob: ConnectionStatus = {
  connection_id: 'FTP_b_2', username: 'bob', protocol: 'FTP', remote_address: '10.0.0.2:40000',
  connection_time: now - 30_000, last_activity: now - 5000, command: 'LIST',
};

/** Waits until the last frame satisfies `pred` (a state condition, not a timing assertion). */
async function frameWhere(app: ReturnType<typeof render>, pred: (f: string) => boolean, what: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const f = app.lastFrame() ?? '';
    if (pred(f)) return f;
    await sleep(10);
  }
  assert.fail(`no frame with ${what}; last frames: ${JSON.stringify(app.frames.slice(-2))}`);
}

const selectedLine = (f: string): string => f.split('\n').find((l) => l.startsWith('>')) ?? '';

void describe('sftpgo top (ink)', () => {
  afterEach(() => cleanup());

  void it('renders the header, totals and one row per connection with its transfer', async () => {
    const { source } = fakeSource([alice, bob]);
    const app = render(<TopApp source={source} intervalMs={50} />);
    const f = await frameWhere(app, (x) => x.includes('alice') && x.includes('bob'), 'both users');
    assert.match(f, /SFTPGo top {2}http:\/\/fake:8080 {2}SSH● FTP○ DAV○ DB●/);
    assert.match(f, /2 conns {2}1 transfer {2}↑ [\d.]+ \w+\/s {2}↓ 0 B\/s {2}sort: connected/);
    assert.match(f, /USER +PROTO +REMOTE +CONN +IDLE +ACTIVITY/);
    assert.match(f, /alice +SFTP +10\.0\.0\.1:50000 +1m3\ds +1s +↑ \/upload\/big\.iso 5\.0 MiB/);
    assert.match(f, /bob +FTP +10\.0\.0\.2:40000 .* LIST/);
    for (const line of f.split('\n')) assert.ok([...line].length <= 100, `line too wide: ${line}`);
  });

  void it('moves the selection with j/k and arrows, sorts with s, filters with /', async () => {
    const { source } = fakeSource([alice, bob]);
    const app = render(<TopApp source={source} intervalMs={50} />);
    await frameWhere(app, (x) => x.includes('bob'), 'rows');
    assert.match(selectedLine(app.lastFrame() ?? ''), /alice/); // longest connected first
    app.stdin.write('j');
    await frameWhere(app, (x) => /bob/.test(selectedLine(x)), 'bob selected');
    app.stdin.write('\u001B[A'); // arrow up
    await frameWhere(app, (x) => /alice/.test(selectedLine(x)), 'alice selected again');
    app.stdin.write('s');
    await frameWhere(app, (x) => x.includes('sort: user'), 'sort by user');
    app.stdin.write('/');
    await frameWhere(app, (x) => x.includes('filter: █'), 'filter prompt');
    app.stdin.write('10.0.0.2');
    app.stdin.write('\r');
    const f = await frameWhere(app, (x) => x.includes('filter: 10.0.0.2') && !x.includes('alice'), 'filtered');
    assert.match(f, /bob/);
    assert.match(f, /1 conn /);
  });

  void it('d asks for confirmation and closes the selected connection on y', async () => {
    const { source, state } = fakeSource([alice, bob]);
    const app = render(<TopApp source={source} intervalMs={50} />);
    await frameWhere(app, (x) => x.includes('bob'), 'rows');
    app.stdin.write('d');
    await frameWhere(app, (x) => x.includes('Close connection SFTP_a_1 of alice? (y/N)'), 'confirmation');
    app.stdin.write('n');
    await frameWhere(app, (x) => x.includes('not closed'), 'declined');
    assert.deepEqual(state.closed, []);
    app.stdin.write('d');
    await frameWhere(app, (x) => x.includes('(y/N)'), 'confirmation again');
    app.stdin.write('y');
    const f = await frameWhere(app, (x) => x.includes('connection SFTP_a_1 closed') && !x.includes('alice'), 'closed');
    assert.deepEqual(state.closed, ['SFTP_a_1']);
    assert.match(f, /bob/);
  });

  void it('shows a clear message while the server is unreachable and recovers when it is back', async () => {
    const { source, state } = fakeSource([bob]);
    state.down = true;
    const app = render(<TopApp source={source} intervalMs={30} />);
    await frameWhere(app, (x) => x.includes('cannot reach the SFTPGo server at http://fake:8080: ECONNREFUSED'), 'error line');
    state.down = false;
    const f = await frameWhere(app, (x) => x.includes('bob') && !x.includes('ECONNREFUSED'), 'recovered');
    assert.match(f, /1 conn /);
  });

  void it('q quits and polling stops', async () => {
    const { source, state } = fakeSource([]);
    const app = render(<TopApp source={source} intervalMs={20} />);
    await frameWhere(app, (x) => x.includes('no active connections'), 'empty list');
    app.stdin.write('q');
    await sleep(100); // let the exit and any poll already in flight settle
    const polls = state.polls;
    await sleep(200); // ten intervals: a running dashboard would have polled again
    assert.equal(state.polls, polls);
  });
});
