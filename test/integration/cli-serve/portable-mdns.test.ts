/**
 * `sftpgo portable -S [-C]` as a real process, browsed over real multicast DNS (port 5353 on
 * this host's interfaces) by a separate bonjour-service instance in the test process: one
 * service per running protocol (SFTP `_sftp-ssh._tcp`, FTP `_ftp._tcp`, WebDAV `_http._tcp`,
 * instance "SFTPGo portable <port>") with `version` in TXT, and `user`/`password` only with -C;
 * SIGTERM sends the goodbye packets, so the browser sees the services go down.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Bonjour, type Browser, type Service } from 'bonjour-service';
import { listeningPort as portOf, start, waitFor } from '../../helpers/cli-process.js';
import { generateKey } from '../../helpers/ssh.js';

/** a hang guard, not a timing assertion: nothing seen by then is a failure */
const BROWSE_GUARD_MS = 30_000;

interface Watched {
  up: Promise<Service>;
  down: Promise<Service>;
  browser: Browser;
}

/** browses `type` for the instance `name`; `up`/`down` reject when not seen within the guard */
function watch(bonjour: Bonjour, type: string, name: string): Watched {
  const browser = bonjour.find({ type, protocol: 'tcp' });
  const seen = (event: 'up' | 'down'): Promise<Service> =>
    new Promise((resolve, reject) => {
      const guard = setTimeout(
        () =>
          reject(
            new Error(
              `mDNS: no "${event}" for "${name}" (_${type}._tcp) within ${BROWSE_GUARD_MS} ms`,
            ),
          ),
        BROWSE_GUARD_MS,
      );
      const on = (s: Service): void => {
        if (s.name !== name) return;
        clearTimeout(guard);
        browser.off(event, on);
        resolve(s);
      };
      browser.on(event, on);
    });
  const up = seen('up');
  // the down listener is attached at once too, so a goodbye is never missed
  const down = seen('down');
  // (a test that fails before stopping the process does not await `down`)
  down.catch(() => undefined);
  return { up, down, browser };
}

void describe('sftpgo portable: mDNS advertising', () => {
  let dir: string;
  let bonjour: Bonjour;
  const portable = (...args: string[]): ReturnType<typeof start> =>
    start(['portable', '-d', dir, '--bind-address', '127.0.0.1', ...args]);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-portable-mdns-'));
    bonjour = new Bonjour();
  });
  after(async () => {
    await new Promise<void>((resolve) => bonjour.destroy(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  void it('-S -C: SFTP, FTP and WebDAV are advertised with version, user and password; SIGTERM takes them down', async () => {
    const p = portable(
      ...'--ftpd-port 0 --webdav-port 0 -u alice -p alice-secret -S -C'.split(' '),
    );
    const watched: [string, Watched, number][] = [];
    try {
      await waitFor(p, /Portable mode ready/);
      assert.match(p.out.stderr, /Advertising credentials via multicast DNS/);
      const services: [string, string][] = [
        ['SFTP', 'sftp-ssh'],
        ['FTP', 'ftp'],
        ['WebDAV', 'http'],
      ];
      for (const [label, type] of services) {
        const port = portOf(p.out.stderr, label);
        watched.push([type, watch(bonjour, type, `SFTPGo portable ${port}`), port]);
      }
      for (const [type, w, port] of watched) {
        const s = await w.up;
        assert.equal(s.type, type);
        assert.equal(s.protocol, 'tcp');
        assert.equal(s.port, port);
        assert.deepEqual(s.txt, { version: '2.1.2', user: 'alice', password: 'alice-secret' });
      }
      await waitFor(p, /SFTP service advertised via multicast DNS/);
      await waitFor(p, /FTP service advertised via multicast DNS/);
      await waitFor(p, /WebDAV service advertised via multicast DNS/);
    } finally {
      p.child.kill('SIGTERM');
    }
    for (const [type, w, port] of watched) {
      const gone = await w.down;
      assert.equal(gone.port, port, type);
      w.browser.stop();
    }
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /unregistering multicast DNS SFTP service/);
    assert.match(r.stderr, /unregistering multicast DNS WebDAV service/);
  });

  void it('-S without -C: only the version is advertised, no credentials', async () => {
    const p = portable('-p', 'hidden', '-S');
    let w: Watched | undefined;
    try {
      await waitFor(p, /Portable mode ready/);
      const port = portOf(p.out.stderr, 'SFTP');
      w = watch(bonjour, 'sftp-ssh', `SFTPGo portable ${port}`);
      const s = await w.up;
      assert.equal(s.port, port);
      assert.deepEqual(s.txt, { version: '2.1.2' });
      assert.doesNotMatch(p.out.stderr, /Advertising credentials/);
    } finally {
      p.child.kill('SIGINT');
    }
    await w?.down;
    w?.browser.stop();
    assert.equal((await p.done).code, 0);
  });

  void it('-S -C with a public key only: the user is advertised, not a password, and the console says why', async () => {
    const key = await generateKey(dir, 'mdns_key');
    const p = portable('-u', 'bob', '-k', key.publicKey, '-S', '-C');
    let w: Watched | undefined;
    try {
      await waitFor(p, /Portable mode ready/);
      assert.match(
        p.out.stderr,
        /Unable to advertise key based credentials via multicast DNS, we don't have the private key/,
      );
      const port = portOf(p.out.stderr, 'SFTP');
      w = watch(bonjour, 'sftp-ssh', `SFTPGo portable ${port}`);
      const s = await w.up;
      assert.deepEqual(s.txt, { version: '2.1.2', user: 'bob' });
    } finally {
      p.child.kill('SIGTERM');
    }
    await w?.down;
    w?.browser.stop();
    assert.equal((await p.done).code, 0);
  });
});
