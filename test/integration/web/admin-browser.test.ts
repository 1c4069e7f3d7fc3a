/**
 * The web admin in a real Chromium: sign in, users (add with a virtual folder, list and search,
 * edit, clone, a field error shown next to its field with the typed values kept), folders,
 * admins, closing a live SFTP connection, unbanning a host, backup download and restore, own
 * password change. Every page visited is saved as a screenshot, the main ones also at 360 px,
 * where the page itself must not scroll sideways (tables scroll inside their .table-wrap).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  launchBrowser,
  snap,
  snapBoth,
  startWebServer,
  WIDE,
  webLogin,
} from '../../helpers/browser.js';
import type { TestServer } from '../../helpers/server.js';
import { ssh2Connect, waitFor } from '../../helpers/sftpd.js';

async function submit(
  page: Page,
  selector = 'button[type="submit"][data-testid="save"]',
): Promise<void> {
  await Promise.all([
    page.waitForLoadState('load'),
    page.waitForNavigation(),
    page.click(selector),
  ]);
}

void describe('web admin in Chromium', () => {
  let srv: TestServer;
  let browser: Browser;
  let page: Page;
  let dir: string;
  const cspErrors: string[] = [];
  const admin = (p: string): string => `${srv.httpUrl}/web/admin${p}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-webadmin-'));
    srv = await startWebServer({
      config: {
        common: { defender: { enabled: true, threshold: 5, ban_time: 10, observation_time: 10 } },
      },
    });
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: WIDE, acceptDownloads: true });
    page = await ctx.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') cspErrors.push(m.text());
    });
    // confirm() dialogs of data-confirm forms
    page.on('dialog', (d) => void d.accept());
    await webLogin(page, srv.httpUrl, 'admin', srv.admin.username, srv.admin.password);
  });
  after(async () => {
    await browser.close();
    await srv.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void it('folders: add one', async () => {
    await page.goto(admin('/folders'));
    await snap(page, 'admin-folders-empty');
    await page.click('[data-testid="add-folder"]');
    await page.fill('#name', 'shared');
    await page.fill('#mapped_path', join(dir, 'shared'));
    await page.fill('#description', 'shared files');
    await snap(page, 'admin-folder-form');
    await submit(page);
    assert.match(page.url(), /\/web\/admin\/folders\?ok=folder-added$/);
    assert.match(
      (await page.textContent('[data-testid="folders-table"]')) ?? '',
      /shared files|shared/,
    );
    await snapBoth(page, 'admin-folders');
  });

  void it('users: add with a virtual folder, list, search', async () => {
    await page.goto(admin('/users'));
    await page.click('[data-testid="add-user"]');
    await page.fill('#username', 'alice');
    await page.fill('#password', 'alice-password');
    await page.fill('#home_dir', join(dir, 'alice'));
    await page.fill('#permissions', '/: *\n/shared: list,download');
    await page.fill('#quota_files', '100');
    await page.fill('#vf_name_0', 'shared');
    await page.fill('#vf_path_0', '/shared');
    await page.check('input[name="denied_protocols"][value="FTP"]');
    await page.fill('#allowed_ip', '127.0.0.0/8');
    await snapBoth(page, 'admin-user-add');
    await submit(page);
    assert.match(page.url(), /\/users\?ok=user-added$/);
    assert.ok(await page.isVisible('tr[data-username="alice"]'));
    await snapBoth(page, 'admin-users');

    const u = await srv.api<{
      virtual_folders: { name: string; virtual_path: string }[];
      filters: { denied_protocols: string[] };
      quota_files: number;
    }>('GET', '/users/alice');
    assert.deepEqual(
      u.body.virtual_folders.map((v) => [v.name, v.virtual_path]),
      [['shared', '/shared']],
    );
    assert.deepEqual(u.body.filters.denied_protocols, ['FTP']);
    assert.equal(u.body.quota_files, 100);

    await srv.api('POST', '/users', {
      username: 'bob',
      password: 'bob-password',
      home_dir: join(dir, 'bob'),
      permissions: { '/': ['*'] },
    });
    await page.fill('input[name="q"]', 'LIC');
    await Promise.all([page.waitForNavigation(), page.click('form[role="search"] button')]);
    assert.ok(await page.isVisible('tr[data-username="alice"]'));
    assert.equal(await page.isVisible('tr[data-username="bob"]'), false);
    await snap(page, 'admin-users-search');
  });

  void it('users: a field error shows next to its field and keeps what was typed', async () => {
    await page.goto(admin('/user'));
    await page.fill('#username', 'carol');
    await page.fill('#password', 'carol-password');
    await page.fill('#description', 'typed description');
    await page.fill('#home_dir', 'relative/home');
    await page.click('[data-testid="save"]');
    await page.waitForSelector('#home_dir[aria-invalid="true"]');
    const msg = await page.textContent('#home_dir-error');
    assert.match(msg ?? '', /home_dir must be an absolute path/);
    assert.match((await page.textContent('[data-testid="form-error"]')) ?? '', /absolute path/);
    assert.equal(await page.inputValue('#username'), 'carol');
    assert.equal(await page.inputValue('#description'), 'typed description');
    assert.equal(await page.inputValue('#home_dir'), 'relative/home');
    await snapBoth(page, 'admin-user-field-error');
  });

  void it('users: edit and clone', async () => {
    await page.goto(admin('/users'));
    await Promise.all([
      page.waitForNavigation(),
      page.click('tr[data-username="alice"] a:text("Edit")'),
    ]);
    assert.equal(await page.inputValue('#vf_name_0'), 'shared');
    assert.equal(await page.inputValue('#password'), '', 'no password in the form');
    await page.fill('#description', 'edited by the web admin');
    await snap(page, 'admin-user-edit');
    await submit(page);
    assert.match(page.url(), /ok=user-updated/);
    const u = await srv.api<{ description: string; virtual_folders: unknown[] }>(
      'GET',
      '/users/alice',
    );
    assert.equal(u.body.description, 'edited by the web admin');
    assert.equal(u.body.virtual_folders.length, 1, 'the virtual folder was kept');
    // the password was kept too
    assert.ok((await srv.userToken('alice', 'alice-password')).length > 0);

    await Promise.all([
      page.waitForNavigation(),
      page.click('tr[data-username="alice"] a:text("Clone")'),
    ]);
    assert.equal(await page.inputValue('#username'), '');
    assert.equal(await page.inputValue('#description'), 'edited by the web admin');
    await page.fill('#username', 'alice2');
    await page.fill('#password', 'alice2-password');
    await page.fill('#home_dir', join(dir, 'alice2'));
    await snap(page, 'admin-user-clone');
    await submit(page);
    const c = await srv.api<{
      virtual_folders: { name: string }[];
      permissions: Record<string, string[]>;
    }>('GET', '/users/alice2');
    assert.equal(c.status, 200);
    assert.deepEqual(
      c.body.virtual_folders.map((v) => v.name),
      ['shared'],
    );
    assert.deepEqual(c.body.permissions['/shared'], ['list', 'download']);
  });

  void it('admins: add one', async () => {
    await page.goto(admin('/admins'));
    await snap(page, 'admin-admins');
    await page.click('[data-testid="add-admin"]');
    await page.fill('#username', 'viewer');
    await page.fill('#password', 'viewer-password');
    await page.fill('#email', 'viewer@example.com');
    await page.check('input[name="permissions"][value="view_users"]');
    await page.check('input[name="permissions"][value="view_conns"]');
    await snap(page, 'admin-admin-add');
    await submit(page);
    assert.match(page.url(), /ok=admin-added/);
    const a = await srv.api<{ permissions: string[]; email: string }>('GET', '/admins/viewer');
    assert.deepEqual(a.body.permissions, ['view_users', 'view_conns']);
    assert.equal(a.body.email, 'viewer@example.com');
  });

  void it('connections: close a live SFTP connection', async () => {
    assert.ok(srv.sftpPort);
    const sftp = await ssh2Connect(srv.sftpPort, 'alice', { password: 'alice-password' });
    // closing a connection ends its SFTP channel (upstream closes the channel, not the SSH session)
    let closed = false;
    sftp.sftp.on('close', () => {
      closed = true;
    });
    sftp.client.on('close', () => {
      closed = true;
    });
    await page.goto(admin('/connections'));
    const row = page.locator('tr[data-username="alice"]');
    assert.equal(await row.count(), 1);
    await snapBoth(page, 'admin-connections');
    await Promise.all([page.waitForNavigation(), row.locator('button:text("Close")').click()]);
    assert.match(page.url(), /ok=conn-closed/);
    try {
      await waitFor(() => closed, 10_000, 'the SFTP channel is closed');
    } finally {
      sftp.client.destroy();
    }
    await page.goto(admin('/connections'));
    assert.equal(await page.locator('tr[data-username="alice"]').count(), 0);
  });

  void it('defender: unban a host', async () => {
    for (let i = 0; i < 5; i++) srv.service.defender.addEvent('192.0.2.10', 'user_not_found');
    assert.ok(srv.service.defender.isBanned('192.0.2.10'));
    await page.goto(admin('/defender'));
    assert.ok(await page.isVisible('tr[data-ip="192.0.2.10"]'));
    await snapBoth(page, 'admin-defender');
    await Promise.all([page.waitForNavigation(), page.click('tr[data-ip="192.0.2.10"] button')]);
    assert.match(page.url(), /ok=host-unbanned/);
    assert.equal(srv.service.defender.isBanned('192.0.2.10'), false);
  });

  void it('maintenance: download a backup, restore a changed one', async () => {
    await page.goto(admin('/maintenance'));
    await snapBoth(page, 'admin-maintenance');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid="backup"]'),
    ]);
    assert.equal(download.suggestedFilename(), 'sftpgo-backup.json');
    const file = join(dir, 'backup.json');
    await download.saveAs(file);
    const dump = JSON.parse(await readFile(file, 'utf8')) as {
      users: { username: string; description?: string }[];
    };
    assert.ok(dump.users.some((u) => u.username === 'alice'));
    for (const u of dump.users) if (u.username === 'bob') u.description = 'restored from the web';
    await writeFile(file, JSON.stringify(dump));
    await page.selectOption('#mode', '0');
    await page.setInputFiles('#backup_file', file);
    await Promise.all([
      page.waitForNavigation(),
      page.click('[data-testid="restore-form"] button'),
    ]);
    assert.match(page.url(), /ok=restored/);
    const bob = await srv.api<{ description: string }>('GET', '/users/bob');
    assert.equal(bob.body.description, 'restored from the web');
  });

  void it('status page and own password change', async () => {
    await page.goto(admin('/status'));
    await snapBoth(page, 'admin-status');
    await page.goto(admin('/changepwd'));
    await page.fill('#current_password', srv.admin.password);
    await page.fill('#new_password', 'a-new-admin-password');
    await page.fill('#confirm_password', 'a-new-admin-password');
    await snap(page, 'admin-changepwd');
    await Promise.all([
      page.waitForNavigation(),
      page.click('[data-testid="changepwd-form"] button'),
    ]);
    assert.match((await page.textContent('main')) ?? '', /Password changed/);
    // the session goes on with the new password; the old one no longer logs in
    await page.goto(admin('/users'));
    assert.match(page.url(), /\/users$/);
    assert.ok((await srv.token(srv.admin.username, 'a-new-admin-password')).length > 0);
    assert.deepEqual(
      cspErrors.filter((e) => /Content Security Policy/i.test(e)),
      [],
    );
  });
});
