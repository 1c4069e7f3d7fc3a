/**
 * The web client in a real Chromium: a user with a virtual folder (created over the REST API)
 * logs in, browses into the folder, uploads through the form, downloads byte-exact (whole and a
 * Range), zips a selection and checks it with `unzip`, makes, renames and deletes a directory,
 * saves a public key and changes the password. Every page is captured on a desktop and at
 * 360 px, where the files and account pages must not scroll sideways.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchBrowser, snapBoth, startWebServer, webLogin } from '../../helpers/browser.js';
import { restUsers, type TestServer } from '../../helpers/server.js';

const run = promisify(execFile);

void describe('web client in Chromium', () => {
  let srv: TestServer;
  let dir: string;
  let browser: Browser;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-webc-browser-'));
    srv = await startWebServer({ config: { data_provider: { track_quota: 2 } } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
    await srv.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void it('browse, upload, download, zip, manage files and the account', async () => {
    const mapped = await mkdtemp(join(dir, 'folder-'));
    await writeFile(join(mapped, 'other.txt'), 'the other file\n');
    const users = restUsers(srv, dir, 'wcb');
    const u = await users.createUser({
      quota_size: 50 * 1024 * 1024,
      virtual_folders: [
        {
          name: `shared-${randomBytes(3).toString('hex')}`,
          mapped_path: mapped,
          virtual_path: '/shared',
          quota_size: -1,
          quota_files: -1,
        },
      ],
    } as never);
    const ctx = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 800 },
    });
    const page = await ctx.newPage();
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text()))
        cspErrors.push(m.text());
    });
    try {
      await page.goto(`${srv.httpUrl}/web/client/login`);
      await snapBoth(page, 'client-login', false);
      await webLogin(page, srv.httpUrl, 'client', u.username, u.password);
      assert.match(page.url(), /\/web\/client\/files$/);
      assert.ok(await page.isVisible('tr[data-name="shared"][data-type="dir"]'));
      await snapBoth(page, 'client-files-home', true);

      // into the virtual folder
      await Promise.all([
        page.waitForURL(/path=%2Fshared/),
        page.click('tr[data-name="shared"] a'),
      ]);
      assert.equal(
        (await page.textContent('[data-testid="breadcrumb"]'))?.replace(/\s+/g, ' ').trim(),
        'Home shared',
      );
      assert.ok(await page.isVisible('tr[data-name="other.txt"]'));

      // upload a file of random bytes through the form (with the progress script)
      const content = randomBytes(300 * 1024 + 7);
      const local = join(dir, 'upload.bin');
      await writeFile(local, content);
      await page.setInputFiles('#upload-files', local);
      await Promise.all([page.waitForURL(/done=upload/), page.click('[data-testid="upload"]')]);
      assert.match((await page.textContent('.flash-success')) ?? '', /Upload complete/);
      assert.ok((await readFile(join(mapped, 'upload.bin'))).equals(content), 'stored byte-exact');
      await snapBoth(page, 'client-files-folder', true);

      // download it: the browser's download, byte-exact
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click('tr[data-name="upload.bin"] .col-name a'),
      ]);
      assert.equal(download.suggestedFilename(), 'upload.bin');
      const saved = await download.path();
      assert.ok((await readFile(saved)).equals(content), 'downloaded byte-exact');

      // a Range of it, with the page's session cookie
      const jwt = (await ctx.cookies()).find((c) => c.name === 'jwt')?.value ?? '';
      const ranged = await fetch(
        `${srv.httpUrl}/web/client/files?path=${encodeURIComponent('/shared/upload.bin')}`,
        { headers: { cookie: `jwt=${jwt}`, range: 'bytes=1000-1999' } },
      );
      assert.equal(ranged.status, 206);
      assert.equal(ranged.headers.get('content-range'), `bytes 1000-1999/${content.length}`);
      assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(content.subarray(1000, 2000)));

      // zip two files and check the archive with unzip
      await page.check('input[name="files"][value="upload.bin"]');
      await page.check('input[name="files"][value="other.txt"]');
      const [zip] = await Promise.all([
        page.waitForEvent('download'),
        page.click('[data-testid="zip"]'),
      ]);
      const zipPath = join(dir, 'sel.zip');
      await zip.saveAs(zipPath);
      const listing = (await run('unzip', ['-Z1', zipPath])).stdout.split('\n').filter(Boolean);
      assert.deepEqual(listing.sort(), ['shared/other.txt', 'shared/upload.bin']);
      const out = join(dir, 'unzipped');
      await run('unzip', ['-q', zipPath, '-d', out]);
      assert.ok((await readFile(join(out, 'shared', 'upload.bin'))).equals(content));
      assert.equal(await readFile(join(out, 'shared', 'other.txt'), 'utf8'), 'the other file\n');

      // mkdir, rename, delete
      await page.fill('#mkdir-name', 'made');
      await Promise.all([page.waitForURL(/done=mkdir/), page.click('[data-testid="mkdir"]')]);
      assert.ok((await stat(join(mapped, 'made'))).isDirectory());
      await Promise.all([
        page.waitForURL(/\/rename\?/),
        page.click('tr[data-name="made"] a[aria-label="Rename made"]'),
      ]);
      await snapBoth(page, 'client-rename', false);
      await page.fill('#rename-to', 'renamed');
      await Promise.all([page.waitForURL(/done=rename/), page.click('[data-testid="rename"]')]);
      assert.ok((await stat(join(mapped, 'renamed'))).isDirectory());
      await writeFile(join(mapped, 'renamed', 'inside.txt'), 'x');
      await page.reload();
      await page.check('input[name="files"][value="renamed"]');
      page.once('dialog', (d) => void d.accept());
      await Promise.all([page.waitForURL(/\/delete$/), page.click('[data-testid="delete"]')]);
      // not empty: the confirmation page
      assert.match((await page.textContent('h1')) ?? '', /non-empty/);
      await snapBoth(page, 'client-delete-confirm', false);
      await Promise.all([
        page.waitForURL(/done=delete/),
        page.click('[data-testid="confirm-delete"]'),
      ]);
      assert.deepEqual((await readdir(mapped)).sort(), ['other.txt', 'upload.bin']);

      // an error shown on the page: a name the form refuses
      await page.fill('#mkdir-name', 'other.txt');
      await page.click('[data-testid="mkdir"]');
      assert.ok(await page.isVisible('.flash-error'));
      await snapBoth(page, 'client-files-error', true);

      // account: quota, public key, password
      await page.click('nav a[href$="/credentials"]');
      await page.waitForURL(/\/credentials$/);
      const quota = (await page.textContent('[data-testid="quota"]')) ?? '';
      assert.match(quota, /of 50 MB/);
      assert.match(quota, /\/shared/);
      await snapBoth(page, 'client-account', true);
      await run('ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-C',
        'web',
        '-f',
        join(dir, 'key'),
      ]);
      const KEY = (await readFile(join(dir, 'key.pub'), 'utf8')).trim();
      await page.fill('#public_keys', KEY);
      await page.click('[data-testid="save-keys"]');
      assert.match((await page.textContent('.flash-success')) ?? '', /Public keys saved/);
      assert.deepEqual((await users.getUser(u.username)).public_keys, [KEY]);

      await page.fill('#current_password', u.password);
      await page.fill('#new_password', 'a-new-password');
      await page.fill('#confirm_password', 'a-new-password');
      await page.click('[data-testid="changepwd"]');
      assert.match((await page.textContent('.flash-success')) ?? '', /Password changed/);
      // the session continues; the old password no longer logs in, the new one does
      await page.goto(`${srv.httpUrl}/web/client/files`);
      assert.match(page.url(), /\/files$/);
      await page.click('[data-testid="logout"]');
      await page.waitForURL(/\/login$/);
      await page.fill('#username', u.username);
      await page.fill('#password', u.password);
      await page.click('button[type="submit"]');
      assert.match((await page.textContent('#login-error')) ?? '', /Invalid credentials/);
      await webLogin(page, srv.httpUrl, 'client', u.username, 'a-new-password');
      assert.match(page.url(), /\/files$/);
      assert.deepEqual(cspErrors, []);
    } finally {
      await ctx.close();
    }
  });
});
