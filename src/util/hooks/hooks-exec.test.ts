import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { httpClientSchema } from '../../config/schema.js';
import { HookHttpClient, redactUrl, withQuery } from './http-client.js';
import { isHttpHook, runProgram } from './program.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hooks-exec-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function script(name: string, body: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, `#!/bin/sh\n${body}\n`);
  await chmod(p, 0o755);
  return p;
}

void describe('runProgram', () => {
  void test('passes the arguments and the hook variables on top of our environment', async () => {
    const p = await script('echo.sh', 'printf "%s|" "$@"; printf "%s|%s" "$HOOK_VAR" "$PATH"');
    const r = await runProgram(p, {
      args: ['a b', '', 'c'],
      env: { HOOK_VAR: 'x y' },
      timeoutMs: 5000,
      maxStdout: 1024,
    });
    assert.equal(r.stdout, `a b||c|x y|${process.env.PATH ?? ''}`);
  });

  void test('a hook variable wins over an inherited one', async () => {
    const p = await script('home.sh', 'printf "%s" "$HOME"');
    const r = await runProgram(p, { env: { HOME: '/elsewhere' }, timeoutMs: 5000, maxStdout: 100 });
    assert.equal(r.stdout, '/elsewhere');
  });

  void test('keeps at most maxStdout bytes and still reads the rest', async () => {
    const p = await script('big.sh', 'head -c 200000 /dev/zero | tr "\\0" a');
    const r = await runProgram(p, { timeoutMs: 5000, maxStdout: 10 });
    assert.equal(r.stdout, 'aaaaaaaaaa');
  });

  void test('a non-zero exit fails, naming the hook', async () => {
    const p = await script('fail.sh', 'exit 3');
    await assert.rejects(runProgram(p, { timeoutMs: 5000 }), /fail\.sh.*exit status 3/);
  });

  void test('a program that hangs is killed at the timeout', async () => {
    const p = await script('hang.sh', 'exec sleep 30');
    await assert.rejects(runProgram(p, { timeoutMs: 300 }), /timed out after 300 ms, killed/);
  });

  void test('a killed script whose child keeps stdout open fails at the timeout too', async () => {
    const pidFile = join(dir, 'orphan.pid');
    const p = await script('hang-child.sh', `sleep 600 & echo $! > ${pidFile}; wait`);
    // long enough for the script to start its child on a loaded machine (the pid file below)
    await assert.rejects(
      runProgram(p, { timeoutMs: 2000, maxStdout: 100 }),
      /timed out after 2000 ms/,
    );
    // the orphaned sleep still holds the pipe: runProgram did not wait for it
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    assert.doesNotThrow(() => process.kill(pid, 0), 'the orphan is still running');
    process.kill(pid, 'SIGKILL');
  });

  void test('a relative path and a missing program fail', async () => {
    await assert.rejects(runProgram('hook.sh', { timeoutMs: 1000 }), /must be an absolute path/);
    await assert.rejects(runProgram(join(dir, 'missing'), { timeoutMs: 1000 }), /could not be run/);
  });

  void test('isHttpHook is the case-sensitive "http" prefix test', () => {
    assert.equal(isHttpHook('https://h/x'), true);
    assert.equal(isHttpHook('http://h/x'), true);
    assert.equal(isHttpHook('HTTP://h/x'), false);
    assert.equal(isHttpHook('/usr/bin/hook'), false);
  });
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

void describe('HookHttpClient', () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse, n: number) => void = () => undefined;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        handler(req, res, seen.length);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
  });

  const client = (over: Record<string, unknown> = {}): HookHttpClient =>
    new HookHttpClient(
      httpClientSchema.parse({ retry_wait_min: 0, retry_wait_max: 0, ...over }),
      dir,
    );

  void test('a POST carries the JSON body, the query keys sorted and the matching extra headers', async () => {
    seen.length = 0;
    handler = (_q, res) => res.end('ok');
    const c = client({
      headers: [
        { key: 'X-A', value: '1', url: '' },
        { key: 'X-B', value: '2', url: `${base}/hook` },
        { key: 'X-C', value: '3', url: `${base}/other` },
        { key: 'X-D', value: '', url: '' },
      ],
    });
    const r = await c.request({
      method: 'POST',
      url: `${base}/hook?z=1`,
      query: { protocol: 'SSH', ip: '1.2.3.4' },
      body: '{"a":1}',
      retryable: false,
    });
    c.close();
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.url, '/hook?ip=1.2.3.4&protocol=SSH&z=1');
    assert.equal(seen[0]?.body, '{"a":1}');
    assert.equal(seen[0]?.headers['content-type'], 'application/json');
    assert.equal(seen[0]?.headers['x-a'], '1');
    assert.equal(seen[0]?.headers['x-b'], '2');
    assert.equal(seen[0]?.headers['x-c'], undefined);
    assert.equal(seen[0]?.headers['x-d'], undefined);
  });

  void test('retryable: a 503 is retried, then the answer of the last attempt is returned', async () => {
    seen.length = 0;
    handler = (_q, res, n) => {
      res.statusCode = n < 3 ? 503 : 200;
      res.end();
    };
    const c = client({ retry_max: 3 });
    const r = await c.request({ method: 'GET', url: `${base}/r`, retryable: true });
    c.close();
    assert.equal(r.status, 200);
    assert.equal(seen.length, 3);
  });

  void test('retryable: out of retries on a retryable status is an error, not the response', async () => {
    seen.length = 0;
    handler = (_q, res) => {
      res.statusCode = 500;
      res.end();
    };
    const c = client({ retry_max: 2 });
    await assert.rejects(
      c.request({ method: 'GET', url: `${base}/r`, retryable: true }),
      /GET .* giving up after 3 attempt\(s\)/,
    );
    c.close();
    assert.equal(seen.length, 3);
  });

  void test('a 501 and a 404 are returned at once; a plain request is never retried', async () => {
    seen.length = 0;
    handler = (_q, res, n) => {
      res.statusCode = n === 1 ? 501 : n === 2 ? 404 : 500;
      res.end();
    };
    const c = client({ retry_max: 3 });
    assert.equal(
      (await c.request({ method: 'GET', url: `${base}/a`, retryable: true })).status,
      501,
    );
    assert.equal(
      (await c.request({ method: 'GET', url: `${base}/b`, retryable: true })).status,
      404,
    );
    assert.equal(
      (await c.request({ method: 'GET', url: `${base}/c`, retryable: false })).status,
      500,
    );
    c.close();
    assert.equal(seen.length, 3);
  });

  void test('a connection refused is retried and then reported', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const c = client({ retry_max: 1 });
    await assert.rejects(
      c.request({ method: 'GET', url: `http://127.0.0.1:${port}/`, retryable: true }),
      /giving up after 2 attempt\(s\): .*ECONNREFUSED/,
    );
    c.close();
  });

  void test('the timeout bounds each attempt', async () => {
    seen.length = 0;
    handler = () => undefined; // never answers
    const c = client({ timeout: 0.2 });
    await assert.rejects(
      c.request({ method: 'GET', url: `${base}/slow`, retryable: false }),
      /timeout after 0\.2 s/,
    );
    c.close();
  });

  void test('a 302 after a POST becomes a body-less GET; a 307 repeats the POST', async () => {
    seen.length = 0;
    handler = (req, res) => {
      if (req.url === '/r302') {
        res.writeHead(302, { location: '/final' });
      } else if (req.url === '/r307') {
        res.writeHead(307, { location: '/final' });
      }
      res.end(req.url === '/final' ? 'done' : '');
    };
    const c = client();
    const a = await c.request({
      method: 'POST',
      url: `${base}/r302`,
      body: '{}',
      retryable: false,
    });
    const b = await c.request({
      method: 'POST',
      url: `${base}/r307`,
      body: '{"x":1}',
      retryable: false,
    });
    c.close();
    assert.equal(a.body.toString(), 'done');
    assert.equal(b.body.toString(), 'done');
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.body]),
      [
        ['POST', '/r302', '{}'],
        ['GET', '/final', ''],
        ['POST', '/r307', '{"x":1}'],
        ['POST', '/final', '{"x":1}'],
      ],
    );
  });

  void test('the body is cut at maxBody', async () => {
    handler = (_q, res) => res.end('x'.repeat(5000));
    const c = client();
    const r = await c.request({
      method: 'GET',
      url: `${base}/big`,
      retryable: false,
      maxBody: 100,
    });
    c.close();
    assert.equal(r.body.length, 100);
  });

  void test('a CA file that cannot be read is an error at construction', () => {
    assert.throws(() => client({ ca_certificates: ['missing-ca.pem'] }), /ENOENT/);
  });

  void test('redactUrl hides the password; withQuery sorts keys', () => {
    assert.equal(redactUrl('http://u:secret@h/p'), 'http://u:xxxxx@h/p');
    assert.equal(withQuery('http://h/p?b=2', { a: '1 2' }), 'http://h/p?a=1+2&b=2');
  });
});
