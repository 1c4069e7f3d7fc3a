// Starts sftpgo-ts's service for the benchmarks, SFTP only, FTP only with `ftp`, WebDAV only
// (plain HTTP) with `webdav`, or the REST API only with `httpd` (plus the admin "benchadmin",
// password "benchadminpw", all permissions):
//   node bench/lib/ours-server.mjs <configDir> <port> <homeDir> <publicKeyFile> [ftp <passiveStart> <passiveEnd> | webdav | httpd]
// BENCH_SERVICE_MODULE: the service module to load (a compiled dist/service/index.js);
// default src/service/index.ts, which needs `node --import tsx`.
// Creates the user "bench" (all permissions, the given public key, password "benchpw" hashed
// with the provider's default, bcrypt; BENCH_USER_FILESYSTEM: the JSON of its `filesystem`, e.g.
// an S3 config, default the local home dir; BENCH_DATA_PROVIDER: JSON merged over the
// `data_provider` section, e.g. a PostgreSQL driver, default SQLite in the config dir), then prints one JSON line
// {"ready":true,"pid":...,"port":...} on stdout and runs until SIGTERM.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const serviceModule = process.env.BENCH_SERVICE_MODULE
  ? pathToFileURL(process.env.BENCH_SERVICE_MODULE).href
  : new URL('../../src/service/index.ts', import.meta.url).href;
const { startService } = await import(serviceModule);

const [configDir, port, home, pubKeyFile, protocol, passiveStart, passiveEnd] = process.argv.slice(2);
const badProtocol = protocol !== undefined && !((protocol === 'ftp' && passiveEnd) || protocol === 'webdav' || protocol === 'httpd');
if (!configDir || !port || !home || !pubKeyFile || badProtocol) {
  process.stderr.write('usage: ours-server.mjs <configDir> <port> <homeDir> <publicKeyFile> [ftp <passiveStart> <passiveEnd> | webdav | httpd]\n');
  process.exit(2);
}
const binding = { port: Number(port), address: '127.0.0.1' };
const config =
  protocol === 'ftp'
    ? {
        sftpd: { bindings: [{ port: 0 }] },
        ftpd: { bindings: [binding], passive_port_range: { start: Number(passiveStart), end: Number(passiveEnd) } },
      }
    : protocol === 'webdav'
      ? { sftpd: { bindings: [{ port: 0 }] }, webdavd: { bindings: [binding] } }
      : protocol === 'httpd'
        ? // the load generator's 50 connections come from one address: no per-host limit (default 20)
          { sftpd: { bindings: [{ port: 0 }] }, common: { max_per_host_connections: 0 } }
        : { sftpd: { bindings: [binding], host_keys: [join(configDir, 'id_ed25519'), join(configDir, 'id_ecdsa')] } };
Object.assign(config, {
  // no telemetry listener: two benches at once would both want its port 10000
  telemetry: { bind_port: 0 },
  httpd: { bindings: [protocol === 'httpd' ? binding : { port: 0 }] },
  // BENCH_PASSWORD_CACHING=0: verify the bcrypt hash on every login (the default, as upstream,
  // caches a verified password until the user changes)
  data_provider: {
    driver: 'sqlite',
    name: 'sftpgo.db',
    password_caching: process.env.BENCH_PASSWORD_CACHING !== '0',
    ...(process.env.BENCH_DATA_PROVIDER ? JSON.parse(process.env.BENCH_DATA_PROVIDER) : {}),
  },
});
await writeFile(join(configDir, 'sftpgo.json'), JSON.stringify(config, null, 2));
const svc = await startService({
  configDir,
  env: {},
  logFilePath: 'sftpgo.log',
  logVerbose: false,
  summary: { write: () => true },
});
const publicKey = (await readFile(pubKeyFile, 'utf8')).trim();
await svc.provider.addUser({
  username: 'bench',
  status: 1,
  home_dir: home,
  password: 'benchpw',
  public_keys: [publicKey],
  permissions: { '/': ['*'] },
  ...(process.env.BENCH_USER_FILESYSTEM ? { filesystem: JSON.parse(process.env.BENCH_USER_FILESYSTEM) } : {}),
});
if (protocol === 'httpd') {
  await svc.provider.addAdmin({ username: 'benchadmin', password: 'benchadminpw', status: 1, permissions: ['*'] });
}
const stop = () => {
  svc.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// BENCH_MEMLOG=1: a line `mem {...}` on stdout every second (with BENCH_SERVER_STDOUT, between the
// harness's test markers): process.memoryUsage() and the resident KiB of the main malloc arena
// ([heap] in smaps), anonymous mappings and the node binary, to tell V8's heap, Buffers and
// malloc's retained memory apart
if (process.env.BENCH_MEMLOG === '1') {
  const smaps = async () => {
    const out = { heapSeg: 0, anon: 0, binary: 0 };
    let key = '';
    for (const line of (await readFile('/proc/self/smaps', 'utf8')).split('\n')) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
        const name = line.split(/\s+/)[5] ?? '';
        key = name === '[heap]' ? 'heapSeg' : name === '' ? 'anon' : name === process.execPath ? 'binary' : '';
      } else if (key && line.startsWith('Rss:')) out[key] += Number(line.split(/\s+/)[1]);
    }
    return out;
  };
  const mib = (b) => Math.round(b / 104857.6) / 10;
  setInterval(async () => {
    const m = process.memoryUsage();
    const s = await smaps();
    const line = { t: Date.now(), rss: mib(m.rss), heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed), external: mib(m.external), arrayBuffers: mib(m.arrayBuffers) };
    for (const [k, v] of Object.entries(s)) line[k] = Math.round(v / 102.4) / 10;
    process.stdout.write(`mem ${JSON.stringify(line)}\n`);
  }, 1000).unref();
}
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, port: Number(port) })}\n`);
