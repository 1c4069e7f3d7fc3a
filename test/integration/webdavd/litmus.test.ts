/**
 * litmus (the WebDAV conformance suite, Debian package) against the real server, one litmus
 * run per suite so each is counted. Targets (issue 11): basic, copymove and http 100 %; props
 * and locks >= 95 %.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  requireDavTools,
  runLitmus,
  startDavTestServer,
  type DavTestEnv,
  type DavUser,
} from '../../helpers/webdavd.js';

const TARGETS: [suite: string, minPercent: number][] = [
  ['basic', 100],
  ['copymove', 100],
  ['props', 95],
  ['locks', 95],
  ['http', 100],
];

void describe('litmus', () => {
  let env: DavTestEnv;
  let user: DavUser;
  const counts: string[] = [];

  before(async () => {
    requireDavTools();
    env = await startDavTestServer({ prefix: '/dav' });
    user = await env.createUser();
  });

  after(async () => {
    // the per-suite pass counts, for the test log
    console.log(`litmus: ${counts.join(', ')}`);
    await env?.stop();
  });

  for (const [suite, min] of TARGETS) {
    void it(`${suite} passes >= ${min} %`, async () => {
      const r = await runLitmus(`${env.url}/`, user.username, user.password, { suites: suite, cwd: env.dir });
      const s = r.suites.get(suite);
      assert.ok(s, `no summary for ${suite}:\n${r.output}`);
      counts.push(`${suite} ${s.passed}/${s.total}`);
      const pct = (100 * s.passed) / s.total;
      assert.ok(pct >= min, `${suite}: ${s.passed}/${s.total} (${pct.toFixed(1)} %) < ${min} %:\n${r.output}`);
    });
  }
});
