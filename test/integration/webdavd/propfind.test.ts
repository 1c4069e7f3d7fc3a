/**
 * PROPFIND's two paths give the same answer: Depth 0/1 of live properties for a user without
 * locks or dead properties is rendered by src/webdavd/propfind.ts, anything else by nephele.
 * The same listing is asked for on both (a dead property elsewhere sends the request to nephele)
 * and the multistatus bodies compared once whitespace, namespace declarations and prefixes, and
 * nephele's human-readable descriptions are set aside.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { directPropfindStats } from '../../../src/webdavd/propfind.js';
import { dav, startDavTestServer, type DavTestEnv, type DavUser } from '../../helpers/webdavd.js';

/** the multistatus reduced to what a client reads */
function canonical(xml: string): string[] {
  const body = xml
    .replace(/<\?xml[^>]*\?>/, '')
    .replace(/>\s+</g, '><')
    .replace(/ xmlns(:\w+)?="[^"]*"/g, '')
    .replace(/<(\/?)D:/g, '<$1')
    .replace(/<responsedescription>[^<]*<\/responsedescription>/g, '');
  return body.split('<response>').slice(1);
}

const PROPS_ASKED =
  '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontentlength/>' +
  '<D:resourcetype/><D:creationdate/><D:lockdiscovery/><D:quota-used-bytes/></D:prop></D:propfind>';

const PROPS_ASKED_2 =
  '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:displayname/><D:getcontenttype/>' +
  '<D:getlastmodified/><D:supportedlock/><D:creationdate/></D:prop></D:propfind>';

const PROPS_ASKED_MISSING =
  '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:creationdate/></D:prop></D:propfind>';

void describe('webdavd PROPFIND: the direct rendering answers as nephele does', () => {
  let env: DavTestEnv;
  let user: DavUser;

  /** a tree of a few kinds of members in the user's home */
  async function makeTree(home: string): Promise<void> {
    const d = join(home, 'list');
    await mkdir(join(d, 'sub dir'), { recursive: true });
    await writeFile(join(d, 'a.txt'), 'hello\n');
    await writeFile(join(d, 'r&d <x>.json'), '{}');
    await writeFile(join(d, 'noext'), Buffer.from([0, 1, 2]));
    await writeFile(join(d, 'ünï.html'), '<html></html>');
    // an extension no table knows: its content type is sniffed (renderResponse, not renderFromInfo)
    await writeFile(join(d, 'doc.zzunknown'), '%PDF-1.4');
  }

  before(async () => {
    env = await startDavTestServer();
    user = await env.createUser();
    await makeTree(user.home);
  });

  after(async () => {
    await env?.stop();
  });

  async function propfind(path: string, depth: string, body?: string): Promise<string> {
    const r = await dav(env, user, 'PROPFIND', path, {
      headers: { depth, ...(body ? { 'content-type': 'application/xml' } : {}) },
      ...(body ? { body } : {}),
    });
    assert.equal(r.status, 207);
    assert.match(r.headers.get('content-type') ?? '', /^application\/xml; charset=utf-8$/);
    return r.text();
  }

  void it('lists the same responses with and without a dead property elsewhere', async () => {
    const requests: [string, string, string | undefined][] = [
      ['/list/', '1', undefined],
      ['/list/', '0', undefined],
      ['/list/a.txt', '0', undefined],
      ['/list/', '1', '<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>'],
      ['/list/', '1', PROPS_ASKED],
      ['/list/', '1', PROPS_ASKED_2],
      ['/list/', '1', PROPS_ASKED_MISSING],
      ['/list/doc.zzunknown', '0', undefined],
      ['/list/noext', '0', undefined],
    ];
    const direct = [];
    for (const [p, d, b] of requests) direct.push(await propfind(p, d, b));
    // the direct rendering: no indentation
    assert.doesNotMatch(direct[0] ?? '', /\n\s+<response>/);
    assert.equal(canonical(direct[0] ?? '').length, 7, 'the collection and its 6 members');
    assert.match(direct[7] ?? '', /<getcontenttype>application\/pdf<\/getcontenttype>/);
    assert.match(
      direct[0] ?? '',
      /<href>http:\/\/127\.0\.0\.1:\d+\/list\/r%26d%20%3Cx%3E\.json<\/href>/,
    );
    assert.match(direct[0] ?? '', /<displayname>r&amp;d &lt;x&gt;\.json<\/displayname>/);
    assert.match(direct[0] ?? '', /<href>[^<]*\/list\/sub%20dir\/<\/href>/);
    assert.match(
      direct[4] ?? '',
      /<status>HTTP\/1\.1 404 Not Found<\/status><prop><creationdate\/><\/prop>/,
    );

    // a dead property on another resource: the user's requests now go through nephele
    const patch = await dav(env, user, 'PROPPATCH', '/', {
      headers: { 'content-type': 'application/xml' },
      body: '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:color>red</Z:color></D:prop></D:set></D:propertyupdate>',
    });
    assert.equal(patch.status, 207);
    for (const [i, [p, d, b]] of requests.entries()) {
      const viaNephele = await propfind(p, d, b);
      assert.match(viaNephele, /\n\s+<response>/, 'nephele indents its output');
      assert.deepEqual(
        canonical(viaNephele),
        canonical(direct[i] ?? ''),
        `PROPFIND ${p} Depth ${d}`,
      );
    }
  });

  void it('answers a PROPFIND without body outside of nephele as through it', async () => {
    // the same requests through nephele (an explicit Accept sends them there, to the same
    // rendering) and without it: the same status, headers but Date, and bytes
    // a user of its own: the other tests' user holds a dead property
    const fresh = await env.createUser();
    await makeTree(fresh.home);
    const ask = async (path: string, depth: string, viaNephele: boolean): Promise<string> => {
      const r = await dav(env, fresh, 'PROPFIND', path, {
        headers: { depth, ...(viaNephele ? { accept: 'application/xml' } : {}) },
      });
      const headers = [...r.headers].filter(([k]) => k !== 'date' && k !== 'keep-alive');
      return JSON.stringify([r.status, headers, await r.text()]);
    };
    const cases: [string, string, boolean][] = [
      ['/list/', '1', true],
      ['/list', '1', true],
      ['/list/', '0', true],
      ['/list/a.txt', '0', true],
      ['/list/noext', '1', true],
      ['/', '1', true],
      ['/missing', '0', false],
      ['/list/', 'infinity', false],
    ];
    const direct: string[] = [];
    const before = directPropfindStats.answered;
    for (const [p, d] of cases) direct.push(await ask(p, d, false));
    assert.equal(directPropfindStats.answered - before, cases.filter(([, , d]) => d).length);
    assert.match(direct[1] ?? '', /"content-location","http:\/\/127\.0\.0\.1:\d+\/list\/"/);
    assert.match(direct[6] ?? '', /^\[404,/);
    const answered = directPropfindStats.answered;
    for (const [i, [p, d]] of cases.entries()) {
      assert.equal(await ask(p, d, true), direct[i], `PROPFIND ${p} Depth ${d}`);
    }
    assert.equal(directPropfindStats.answered, answered, 'nephele answered with Accept');
  });

  void it('a lock on an ancestor still guards PUT and MKCOL below it (the lock walk runs only with locks)', async () => {
    await mkdir(join(user.home, 'deep', 'a', 'b'), { recursive: true });
    assert.equal((await dav(env, user, 'PUT', '/deep/a/b/free.txt', { body: 'x' })).status, 201);
    const lock = await dav(env, user, 'LOCK', '/deep/', {
      headers: { depth: 'infinity', 'content-type': 'application/xml', timeout: 'Second-60' },
      body: '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>t</D:owner></D:lockinfo>',
    });
    assert.equal(lock.status, 200);
    const token = lock.headers.get('lock-token') ?? '';
    assert.match(token, /^<urn:uuid:/);
    assert.equal((await dav(env, user, 'PUT', '/deep/a/b/new.txt', { body: 'y' })).status, 423);
    assert.equal((await dav(env, user, 'MKCOL', '/deep/a/b/c/')).status, 423);
    assert.equal(
      (
        await dav(env, user, 'PUT', '/deep/a/b/new.txt', {
          body: 'y',
          headers: { if: `<${env.url}/deep/> (${token})` },
        })
      ).status,
      201,
    );
    assert.equal(
      (await dav(env, user, 'UNLOCK', '/deep/', { headers: { 'lock-token': token } })).status,
      204,
    );
    assert.equal((await dav(env, user, 'MKCOL', '/deep/a/b/c/')).status, 201);
  });

  void it('leaves other namespaces and propname to nephele', async () => {
    const ns = await propfind(
      '/list/a.txt',
      '0',
      '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><x:foo xmlns:x="urn:x"/></D:prop></D:propfind>',
    );
    assert.match(ns, /<x:foo\/>/);
    const names = await propfind(
      '/list/a.txt',
      '0',
      '<?xml version="1.0"?><propfind xmlns="DAV:"><propname/></propfind>',
    );
    assert.match(names, /<getetag\/>/);
    assert.doesNotMatch(names, /<getetag>"/);
  });
});
