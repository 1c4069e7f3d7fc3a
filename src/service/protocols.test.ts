import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfigFor, type Config } from '../config/index.js';
import { buildServicesStatus, PROTOCOLS, type RunningProtocol } from './protocols.js';
import { formatSummary } from './summary.js';

function config(edit: (c: Config) => void = () => undefined): Config {
  const c = structuredClone(defaultConfigFor('/tmp/sftpgo-protocols-test')) as Config;
  edit(c);
  return c;
}

function fakeServer(name: RunningProtocol['name'], port: number, status: unknown): RunningProtocol {
  return {
    name,
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    addresses: () => [{ address: '127.0.0.1', port }],
    status: () => status as never,
  };
}

void describe('the protocol list', () => {
  void it('has one entry per front end and per status key', () => {
    assert.deepEqual(
      PROTOCOLS.map((p) => [p.name, p.statusKey, p.label]),
      [
        ['sftpd', 'ssh', 'SFTP'],
        ['ftpd', 'ftp', 'FTP'],
        ['webdavd', 'webdav', 'WebDAV'],
      ],
    );
  });

  void it('tells a protocol is enabled from its bindings', () => {
    const c = config((x) => {
      x.sftpd.bindings = [{ ...x.sftpd.bindings[0]!, port: 0 }];
      x.ftpd.bindings = [{ ...x.ftpd.bindings[0]!, port: 2121 }];
      x.webdavd.bindings = [{ ...x.webdavd.bindings[0]!, port: 0 }];
    });
    assert.deepEqual(
      PROTOCOLS.filter((p) => p.enabled(c)).map((p) => p.name),
      ['ftpd'],
    );
  });
});

void describe('buildServicesStatus', () => {
  void it('reports every front end inactive when none runs, with the statically known config', () => {
    const c = config((x) => {
      x.ftpd.bindings = [{ ...x.ftpd.bindings[0]!, port: 2121 }];
      x.ftpd.passive_port_range = { start: 50000, end: 50100 };
    });
    const s = buildServicesStatus(c, [], { enabled: true });
    assert.equal(s.ssh?.is_active, false);
    assert.deepEqual(s.ssh?.ssh_commands, c.sftpd.enabled_ssh_commands);
    assert.equal(s.ftp?.is_active, false);
    assert.deepEqual(s.ftp?.passive_port_range, { start: 50000, end: 50100 });
    assert.equal(s.webdav?.is_active, false);
    assert.deepEqual(s.defender, { is_active: true });
  });

  void it('lets each running server describe itself under its own key', () => {
    const ssh = { is_active: true, bindings: [], host_keys: [], ssh_commands: ['scp'] };
    const ftp = { is_active: true, bindings: [], passive_port_range: { start: 1, end: 2 } };
    const s = buildServicesStatus(config(), [
      fakeServer('sftpd', 2022, ssh),
      fakeServer('ftpd', 2121, ftp),
    ]);
    assert.deepEqual(s.ssh, ssh);
    assert.deepEqual(s.ftp, ftp);
    assert.equal(s.webdav?.is_active, false);
  });
});

void describe('the startup summary', () => {
  const base = {
    config: config(),
    configDir: '/etc/sftpgo',
    configFile: undefined,
    logFilePath: '',
    httpd: undefined,
    unavailable: [],
    adminCount: 1,
    warnings: [],
  };

  void it('lists every running protocol with its addresses', () => {
    const text = formatSummary({
      ...base,
      protocols: [
        { label: 'SFTP', addresses: [{ address: '127.0.0.1', port: 2022 }] },
        { label: 'FTP', addresses: [{ address: '::1', port: 2121 }] },
      ],
    });
    assert.match(text, /\n {2}SFTP: {10}listening on 127\.0\.0\.1:2022\n/);
    assert.match(text, /\n {2}FTP: {11}listening on \[::1\]:2121\n/);
    assert.doesNotMatch(text, /SFTP: +disabled/);
  });

  void it('says SFTP is disabled when only another protocol runs', () => {
    const text = formatSummary({
      ...base,
      protocols: [{ label: 'FTP', addresses: [{ address: '127.0.0.1', port: 2121 }] }],
    });
    assert.match(text, /\n {2}SFTP: {10}disabled\n/);
    assert.match(text, /FTP: +listening on 127\.0\.0\.1:2121/);
  });

  void it('names the web UIs of each binding, and the setup page while no admin exists', () => {
    const text = formatSummary({
      ...base,
      adminCount: 0,
      httpd: [
        {
          address: '127.0.0.1',
          port: 8080,
          https: false,
          unix: false,
          web: { admin: true, client: true, webRoot: '/ui' },
        },
        {
          address: '127.0.0.1',
          port: 8443,
          https: true,
          unix: false,
          web: { admin: false, client: true, webRoot: '/ui' },
        },
      ],
      protocols: [],
    });
    assert.match(text, /\n {2}web admin: {5}http:\/\/127\.0\.0\.1:8080\/ui\/web\/admin\n/);
    assert.match(text, /\n {2}web client: {4}http:\/\/127\.0\.0\.1:8080\/ui\/web\/client\n/);
    assert.match(text, /\n {2}web client: {4}https:\/\/127\.0\.0\.1:8443\/ui\/web\/client\n/);
    assert.equal(text.match(/web admin:/g)?.length, 1);
    assert.match(
      text,
      /or create it in the browser: http:\/\/127\.0\.0\.1:8080\/ui\/web\/admin\/setup/,
    );
  });
});
