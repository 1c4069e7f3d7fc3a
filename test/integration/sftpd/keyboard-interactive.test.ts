/**
 * sftpd.keyboard_interactive_auth_hook end to end with OpenSSH's ssh and sftp: a two-round
 * one-time-password exchange (the password, checked by SFTPGo, then an OTP) answered through
 * SSH_ASKPASS, over a program hook and an HTTP hook; publickey+keyboard-interactive; and, as in
 * 2.1.2, no keyboard-interactive at all without a (valid) hook.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HookReceiver } from '../../helpers/hooks.js';
import { startSftpTestServer, waitFor, type SftpTestEnv } from '../../helpers/sftpd.js';
import { generateKey, sftpBatch, sshExec, type RunResult } from '../../helpers/ssh.js';

const OTP = '424242';

async function executable(path: string, lines: string[]): Promise<string> {
  await writeFile(path, `${lines.join('\n')}\n`);
  await chmod(path, 0o755);
  return path;
}

/** the hook program: asks the password (SFTPGo checks it), then an OTP */
function otpHook(dir: string): Promise<string> {
  return executable(join(dir, 'otp-hook.sh'), [
    '#!/bin/sh',
    `echo '{"questions":["Password: "],"echos":[false],"check_password":1}'`,
    'read pw',
    `echo '{"instruction":"Second factor","questions":["OTP: "],"echos":[true]}'`,
    'read otp',
    `if [ "$pw" = OK ] && [ "$otp" = ${OTP} ]; then echo '{"auth_result":1}'; else echo '{"auth_result":-1}'; fi`,
  ]);
}

/** SSH_ASKPASS: answers "Password" and "OTP" prompts from the environment, recording each */
function askpass(dir: string): Promise<string> {
  return executable(join(dir, 'askpass.sh'), [
    '#!/bin/sh',
    `printf '%s\\n' "$1" >> "$ASKPASS_LOG"`,
    'case "$1" in',
    '  *Password*) printf "%s\\n" "$TEST_PASSWORD" ;;',
    '  *OTP*) printf "%s\\n" "$TEST_OTP" ;;',
    '  *) exit 1 ;;',
    'esac',
  ]);
}

interface Answers {
  password: string;
  otp: string;
}

void describe('sftpd: keyboard-interactive hook (OTP) with OpenSSH', () => {
  let env: SftpTestEnv;
  let noHook: SftpTestEnv;
  let badHook: SftpTestEnv;
  let viaHttp: SftpTestEnv;
  let receiver: HookReceiver;
  let pass: string;
  let n = 0;

  before(async () => {
    receiver = await new HookReceiver().start();
    const scratch = await startSftpTestServer();
    // the hook and askpass live in a dir that outlives the servers using them
    pass = await askpass(scratch.dir);
    const hook = await otpHook(scratch.dir);
    env = await startSftpTestServer({
      config: { sftpd: { keyboard_interactive_auth_hook: hook } },
    });
    noHook = scratch;
    badHook = await startSftpTestServer({
      config: { sftpd: { keyboard_interactive_auth_hook: 'relative/otp.sh' } },
    });
    viaHttp = await startSftpTestServer({
      config: { sftpd: { keyboard_interactive_auth_hook: `${receiver.url}/kbd` } },
    });
  });
  after(async () => {
    await Promise.all([env.stop(), badHook.stop(), viaHttp.stop()]);
    await noHook.stop();
    await receiver.stop();
  });

  /** ssh (or sftp -b) with keyboard-interactive only, answered by askpass */
  async function login(
    e: SftpTestEnv,
    user: string,
    a: Answers,
    o: { sftp?: string[]; extraArgs?: string[]; identity?: string } = {},
  ): Promise<RunResult & { prompts: string[] }> {
    const log = join(noHook.dir, `askpass-${++n}.log`);
    const runOpts = {
      extraArgs: [
        ...(o.extraArgs ?? ['-o', 'PreferredAuthentications=keyboard-interactive']),
        '-o',
        'NumberOfPasswordPrompts=1',
      ],
      env: {
        SSH_ASKPASS: pass,
        SSH_ASKPASS_REQUIRE: 'force',
        DISPLAY: ':0',
        ASKPASS_LOG: log,
        TEST_PASSWORD: a.password,
        TEST_OTP: a.otp,
      },
    };
    const creds = o.identity ? { user, identity: o.identity } : { user };
    const r = o.sftp
      ? await sftpBatch(e.target, creds, o.sftp, runOpts)
      : await sshExec(e.target, creds, 'pwd', runOpts);
    const prompts = await readFile(log, 'utf8').then(
      (t) => t.split('\n').filter((l) => l !== ''),
      () => [],
    );
    return { ...r, prompts };
  }

  void it('logs in with the password and the right OTP, two rounds; a wrong OTP or password fails', async () => {
    const u = await env.createUser();
    const ok = await login(env, u.username, { password: u.password, otp: OTP });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, '/\n');
    assert.equal(ok.prompts.length, 2, ok.prompts.join('|'));
    assert.match(ok.prompts[0] ?? '', /Password: $/);
    assert.match(ok.prompts[1] ?? '', /OTP: $/);

    const wrongOtp = await login(env, u.username, { password: u.password, otp: '000000' });
    assert.notEqual(wrongOtp.code, 0);
    assert.equal(wrongOtp.prompts.length, 2);
    const wrongPw = await login(env, u.username, { password: 'nope', otp: OTP });
    assert.notEqual(wrongPw.code, 0);
    assert.equal(wrongPw.prompts.length, 1, 'no OTP asked after a wrong password');

    const put = await login(
      env,
      u.username,
      { password: u.password, otp: OTP },
      { sftp: ['mkdir otp-dir', 'ls'] },
    );
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /otp-dir/);
    const got = await env.getUser(u.username);
    assert.ok((got.last_login ?? 0) > 0);
  });

  void it('publickey+keyboard-interactive: the key, then the hook', async () => {
    const key = await generateKey(env.dir, 'kbd-key');
    const u = await env.createUser({
      public_keys: [key.publicKey],
      filters: {
        denied_login_methods: [
          'publickey',
          'password',
          'keyboard-interactive',
          'publickey+password',
        ],
      },
    });
    const withKey = (methods: string, otp: string): ReturnType<typeof login> =>
      login(
        env,
        u.username,
        { password: u.password, otp },
        {
          identity: key.privatePath,
          extraArgs: ['-o', `PreferredAuthentications=${methods}`],
        },
      );
    const keyOnly = await withKey('publickey', OTP);
    assert.notEqual(keyOnly.code, 0, 'the key alone is not enough');
    const both = await withKey('publickey,keyboard-interactive', OTP);
    assert.equal(both.code, 0, both.stderr);
    assert.equal(both.prompts.length, 2);
    const wrong = await withKey('publickey,keyboard-interactive', '1');
    assert.notEqual(wrong.code, 0);
  });

  void it('an HTTP hook: one POST per round', async () => {
    receiver.requests.length = 0;
    receiver.respond = (r) => {
      const body = JSON.parse(r.body) as { answers?: string[] };
      if (body.answers === undefined)
        return { status: 200, body: '{"questions":["OTP: "],"echos":[false]}' };
      return {
        status: 200,
        body: JSON.stringify({ auth_result: body.answers[0] === OTP ? 1 : -1 }),
      };
    };
    const u = await viaHttp.createUser();
    const ok = await login(viaHttp, u.username, { password: '', otp: OTP });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(ok.prompts.length, 1);
    const bad = await login(viaHttp, u.username, { password: '', otp: '7' });
    assert.notEqual(bad.code, 0);
    const bodies = receiver.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    assert.equal(bodies.length, 4);
    assert.equal(bodies[0]?.['username'], u.username);
    assert.equal(bodies[0]?.['ip'], '127.0.0.1');
    assert.deepEqual(bodies[1]?.['answers'], [OTP]);
    assert.equal(bodies[1]?.['ip'], undefined);
    assert.equal(bodies[1]?.['request_id'], bodies[0]?.['request_id']);
    assert.notEqual(bodies[2]?.['request_id'], bodies[0]?.['request_id']);
  });

  void it('is not offered without a hook, nor with an invalid program (a warning at start)', async () => {
    for (const e of [noHook, badHook]) {
      const u = await e.createUser();
      const r = await login(e, u.username, { password: u.password, otp: OTP });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Permission denied \(publickey,password\)/);
      assert.equal(r.prompts.length, 0);
    }
    const withHook = await login(env, 'nobody', { password: 'x', otp: OTP });
    assert.match(withHook.stderr, /Permission denied \(publickey,password,keyboard-interactive\)/);
    const logFile = join(badHook.srv.configDir, 'sftpgo.log');
    await waitFor(
      async () =>
        (await readFile(logFile, 'utf8')).includes(
          'invalid keyboard interactive authentication program',
        ),
      10_000,
      'the warning',
    );
    const line = (await readFile(logFile, 'utf8'))
      .split('\n')
      .find((l) => l.includes('invalid keyboard interactive authentication program'));
    assert.match(line ?? '', /relative\/otp\.sh.*must be an absolute path/);
    assert.match(line ?? '', /"level":"?(warn|40)/);
  });
});
