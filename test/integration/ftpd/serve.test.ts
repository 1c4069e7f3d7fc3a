/**
 * `sftpgo serve` starts the FTP server from `ftpd.bindings[].port > 0` (the one protocol list
 * of src/service), reports it in GET /api/v2/status and the startup summary, lists FTP
 * connections in GET /api/v2/connections and closes them with DELETE /api/v2/connections/{id}.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiUser } from '../../../src/api/index.js';
import { peerFingerprint, RawFtp, requireFtpTools, run, testCerts } from '../../helpers/ftpd.js';
import { freePort, startServer, type TestServer } from '../../helpers/server.js';

void describe('ftpd: wired into sftpgo serve', () => {
  let srv: TestServer;
  let port: number;
  const user = { username: 'serveftp', password: 'serve-ftp-pass' };

  before(async () => {
    requireFtpTools();
    port = await freePort();
    srv = await startServer({ config: { ftpd: { bindings: [{ port, address: '127.0.0.1' }], banner: 'hello from ftpd' } } });
    const home = await mkdtemp(join(srv.configDir, 'home-'));
    const body: ApiUser = {
      status: 1,
      username: user.username,
      password: user.password,
      home_dir: home,
      permissions: { '/': ['*'] } as unknown as ApiUser['permissions'],
    };
    const r = await srv.api('POST', '/users', body);
    assert.equal(r.status, 201, r.text);
  });
  after(async () => {
    await srv.stop();
  });

  void it('listens, greets with the configured banner, and shows in /api/v2/status and the summary', async () => {
    const c = await RawFtp.connect(port);
    const g = await c.read();
    assert.equal(g.code, 220);
    assert.equal(g.text, 'hello from ftpd');
    c.close();
    const st = await srv.api<{ ftp: { is_active: boolean; bindings: { port: number; tls_mode: number }[] } }>('GET', '/status');
    assert.equal(st.status, 200);
    assert.equal(st.body.ftp.is_active, true);
    assert.equal(st.body.ftp.bindings[0]?.port, port);
    assert.match(srv.summary, new RegExp(`FTP.*127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(srv.summary, /no FTP listener/);
  });

  void it('lists FTP connections (before and after login) and closes them on DELETE', async () => {
    const c = await RawFtp.connect(port);
    await c.read();
    const list0 = await srv.api<{ connection_id: string; protocol: string; username: string }[]>('GET', '/connections');
    const pre = list0.body.find((x) => x.protocol === 'FTP');
    assert.ok(pre, JSON.stringify(list0.body));
    assert.match(pre.connection_id, /^FTP_0_\d+$/);
    assert.equal(pre.username, '');
    await c.login(user.username, user.password);
    assert.equal((await c.cmd('NOOP')).code, 200);
    const list1 = await srv.api<{ connection_id: string; protocol: string; username: string }[]>('GET', '/connections');
    const post = list1.body.find((x) => x.protocol === 'FTP');
    assert.equal(post?.username, user.username);
    assert.equal(post?.connection_id, pre.connection_id);
    const del = await srv.api('DELETE', `/connections/${post.connection_id}`);
    assert.equal(del.status, 200, del.text);
    await assert.rejects(c.read(5000), /closed/);
    const list2 = await srv.api<{ protocol: string }[]>('GET', '/connections');
    assert.equal(list2.body.filter((x) => x.protocol === 'FTP').length, 0);
  });

  void it('an FTP transfer in progress is listed with its connection', async () => {
    const slow = { username: 'slowftp', password: 'slow-ftp-pass' };
    const home = await mkdtemp(join(srv.configDir, 'slow-'));
    await writeFile(join(home, 'big.bin'), Buffer.alloc(300 * 1024, 1));
    const r = await srv.api('POST', '/users', {
      status: 1,
      ...slow,
      home_dir: home,
      download_bandwidth: 100,
      permissions: { '/': ['*'] },
    });
    assert.equal(r.status, 201, r.text);
    const c = await RawFtp.connect(port);
    await c.read();
    await c.login(slow.username, slow.password);
    const pasv = await c.pasv();
    const data = await pasv.connect();
    c.send('RETR big.bin');
    assert.equal((await c.read()).code, 150);
    let seen: unknown;
    for (let i = 0; i < 20 && !seen; i++) {
      const list = await srv.api<{ protocol: string; active_transfers?: { operation_type: string; path: string }[] }[]>('GET', '/connections');
      seen = list.body.find((x) => x.protocol === 'FTP')?.active_transfers?.find((t) => t.operation_type === 'download' && t.path === '/big.bin');
      if (!seen) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(seen, 'the download is listed');
    data.destroy();
    c.close();
  });
});

void describe('ftpd: SIGHUP reload through the service', () => {
  let srv: TestServer;
  let port: number;
  let certFile: string;
  let keyFile: string;

  before(async () => {
    requireFtpTools();
    const certs = await testCerts();
    port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'sftpgo-hup-'));
    certFile = join(dir, 'c.crt');
    keyFile = join(dir, 'c.key');
    await copyFile(certs.serverCert, certFile);
    await copyFile(certs.serverKey, keyFile);
    srv = await startServer({
      config: {
        ftpd: {
          bindings: [{ port, address: '127.0.0.1', tls_mode: 2 }],
          certificate_file: certFile,
          certificate_key_file: keyFile,
        },
      },
    });
  });
  after(async () => {
    await srv.stop();
  });

  void it('reload() (what SIGHUP runs) serves the new FTPS certificate; a broken one is reported and the old stays', async () => {
    const first = await peerFingerprint(port);
    const r = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=after-hup']);
    assert.equal(r.code, 0, r.stderr);
    await srv.service.reload();
    const second = await peerFingerprint(port);
    assert.notEqual(second, first);
    await writeFile(certFile, 'not a certificate');
    await assert.rejects(srv.service.reload(), /certificate/);
    assert.equal(await peerFingerprint(port), second);
  });
});

