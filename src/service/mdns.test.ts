import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planAdvertisements } from './mdns.js';

void describe('portable mDNS: what is advertised', () => {
  void it('one service per running protocol, with upstream types and instance names, version only without -C', () => {
    const plan = planAdvertisements({
      ports: { SFTP: 50022, FTP: 50021, WebDAV: 50080 },
      version: '2.1.2',
    });
    assert.deepEqual(plan.notes, []);
    assert.deepEqual(plan.advertisements, [
      {
        protocol: 'SFTP',
        name: 'SFTPGo portable 50022',
        type: 'sftp-ssh',
        port: 50022,
        txt: { version: '2.1.2' },
      },
      {
        protocol: 'FTP',
        name: 'SFTPGo portable 50021',
        type: 'ftp',
        port: 50021,
        txt: { version: '2.1.2' },
      },
      {
        protocol: 'WebDAV',
        name: 'SFTPGo portable 50080',
        type: 'http',
        port: 50080,
        txt: { version: '2.1.2' },
      },
    ]);
  });

  void it('skips protocols that do not run', () => {
    const plan = planAdvertisements({ ports: { FTP: 2121, SFTP: 0 }, version: '2.1.2' });
    assert.deepEqual(
      plan.advertisements.map((a) => [a.protocol, a.type, a.port]),
      [['FTP', 'ftp', 2121]],
    );
  });

  void it('-C adds user and password to every record', () => {
    const plan = planAdvertisements({
      ports: { SFTP: 2022, FTP: 2121 },
      version: '2.1.2',
      credentials: { username: 'alice', password: 'p=ss word' },
    });
    assert.deepEqual(plan.notes, ['Advertising credentials via multicast DNS']);
    for (const a of plan.advertisements)
      assert.deepEqual(a.txt, { version: '2.1.2', user: 'alice', password: 'p=ss word' });
    // each record has its own TXT object
    assert.notEqual(plan.advertisements[0]?.txt, plan.advertisements[1]?.txt);
  });

  void it('-C with public keys only: the user is advertised, a note says the key cannot be', () => {
    for (const password of [undefined, '']) {
      const plan = planAdvertisements({
        ports: { SFTP: 2022 },
        version: '2.1.2',
        credentials: { username: 'bob', password },
      });
      assert.deepEqual(plan.advertisements[0]?.txt, { version: '2.1.2', user: 'bob' });
      assert.deepEqual(plan.notes, [
        'Advertising credentials via multicast DNS',
        "Unable to advertise key based credentials via multicast DNS, we don't have the private key",
      ]);
    }
  });
});
