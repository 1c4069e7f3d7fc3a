/**
 * A private Azurite blob service for tests (the dev dependency azurite 3.35.0, the last release
 * whose engines field accepts Node 20): `azurite-blob` runs as a child process on a free
 * 127.0.0.1 port with its workspace in a temp dir; stop() kills exactly that process (by PID),
 * waits for it to exit and removes the dir. Telemetry is disabled. A test process that dies
 * without stopping it takes the emulator with it (its stdin pipe closes).
 *
 * Requests use the emulator's well-known development account (devstoreaccount1), addressed
 * IP-style: `http://127.0.0.1:<port>/devstoreaccount1/<container>/<blob>`. startAzuriteProxy puts
 * a recording proxy in front of it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { freePort } from './server.js';

/** the emulator's documented development account (public, not a secret) */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteServer {
  /** `http://127.0.0.1:<port>`: the `endpoint` of an azblobconfig with use_emulator */
  endpoint: string;
  port: number;
  account: string;
  key: string;
  /** `<endpoint>/<account>`: the service URL */
  serviceUrl: string;
  /** how the child was started (for error messages) */
  pid: number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

/**
 * Loaded into the emulator's process: it exits when its stdin (a pipe from the test process)
 * ends, i.e. when the test process is gone, even killed before it could stop the emulator. The
 * pipe does not keep the emulator alive otherwise (unref).
 */
const ORPHAN_WATCHDOG = `data:text/javascript,${encodeURIComponent(
  "process.stdin.on('end', () => process.exit(0)); process.stdin.on('error', () => process.exit(0)); process.stdin.resume(); process.stdin.unref();",
)}`;

function azuriteMain(): string {
  const require = createRequire(import.meta.url);
  return join(require.resolve('azurite/package.json'), '..', 'dist', 'src', 'blob', 'main.js');
}

/** waits until the child prints its listening line; rejects when it exits first */
function waitListening(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes(`listens on http://127.0.0.1:${port}`)) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanup();
      reject(
        new Error(
          `azurite-blob exited before listening (code ${String(code)}, signal ${String(signal)}): ${out}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`azurite-blob did not start within ${START_TIMEOUT_MS} ms: ${out}`));
    }, START_TIMEOUT_MS);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

function killAndWait(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
    process.kill(child.pid, 'SIGTERM');
  });
}

export async function startAzurite(): Promise<AzuriteServer> {
  const location = await mkdtemp(join(tmpdir(), 'sftpgo-azurite-'));
  const main = azuriteMain();
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--import',
        ORPHAN_WATCHDOG,
        main,
        '--blobHost',
        '127.0.0.1',
        '--blobPort',
        String(port),
        '--location',
        location,
        '--silent',
        '--skipApiVersionCheck',
        '--loose',
        '--disableTelemetry',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    try {
      await waitListening(child, port);
    } catch (e) {
      await killAndWait(child);
      // the port picked as free was taken meanwhile by a parallel test: pick again
      if (attempt < 3 && String(e).includes('EADDRINUSE')) continue;
      await rm(location, { recursive: true, force: true });
      throw e;
    }
    // keep draining the pipes so a chatty child never blocks on a full pipe
    child.stdout?.resume();
    child.stderr?.resume();
    const endpoint = `http://127.0.0.1:${port}`;
    return {
      endpoint,
      port,
      account: AZURITE_ACCOUNT,
      key: AZURITE_KEY,
      serviceUrl: `${endpoint}/${AZURITE_ACCOUNT}`,
      pid: child.pid ?? 0,
      async stop() {
        await killAndWait(child);
        await rm(location, { recursive: true, force: true });
      },
    };
  }
}

/** one request seen by an AzuriteProxy */
export interface ProxiedRequest {
  method: string;
  /** the `comp` query parameter ("block", "blocklist", "list", ...; "" for a plain blob GET/PUT) */
  comp: string;
  /** the `blockid` query parameter of a Put Block */
  blockid: string;
  /** the x-ms-range (or Range) header of a download */
  range: string;
}

export interface AzuriteProxy {
  /** `http://127.0.0.1:<port>`: use it as the endpoint instead of the emulator's */
  endpoint: string;
  /** every request, in arrival order */
  log: ProxiedRequest[];
  /** the most Put Block requests that were in flight at once */
  maxBlocksInFlight(): number;
  /** downloads (GET of a blob) whose answer is not finished or dropped yet */
  openDownloads(): number;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of Azurite that records every request and can hold the answer to one
 * until `hold(request)` resolves (to pin down how many requests overlap). Requests signed with
 * the shared key stay valid: the signature does not cover the host.
 */
export async function startAzuriteProxy(
  az: AzuriteServer,
  hold?: (r: ProxiedRequest) => Promise<void>,
): Promise<AzuriteProxy> {
  const log: ProxiedRequest[] = [];
  let blocks = 0;
  let maxBlocks = 0;
  let downloads = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const range = req.headers['x-ms-range'] ?? req.headers.range ?? '';
    const rec: ProxiedRequest = {
      method: req.method ?? '',
      comp: url.searchParams.get('comp') ?? '',
      blockid: url.searchParams.get('blockid') ?? '',
      range: Array.isArray(range) ? range.join(',') : range,
    };
    log.push(rec);
    let countedBlock = rec.comp === 'block';
    if (countedBlock) maxBlocks = Math.max(maxBlocks, ++blocks);
    if (rec.method === 'GET' && rec.comp === '') {
      downloads++;
      res.once('close', () => downloads--);
    }
    // 'finish': the answer is handed to the socket, before the client can react to it
    const blockDone = (): void => {
      if (countedBlock) blocks--;
      countedBlock = false;
    };
    res.once('finish', blockDone);
    res.once('close', blockDone);
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: az.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: `127.0.0.1:${az.port}` },
      },
      (answer) => {
        const reply = (): void => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          // a dropped client drops the upstream answer too (nothing left open in Azurite)
          pipeline(answer, res).catch(() => undefined);
        };
        if (hold) void hold(rec).then(reply);
        else reply();
      },
    );
    upstream.on('error', () => res.destroy());
    pipeline(req, upstream).catch(() => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    maxBlocksInFlight: () => maxBlocks,
    openDownloads: () => downloads,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
