/**
 * The shared cases: permissions per directory, quotas (user, folders, max upload size), file
 * patterns, hostile paths and virtual-folder boundaries, in protocol-neutral terms. Every
 * protocol suite runs all of them through its driver (run.ts). Expected outcomes are what the
 * core (src/common) decides; a protocol only changes how they travel.
 */
import type { ApiUser } from '../../src/api/index.js';
import type { Case, Category, Fixture, Given, Step } from './types.js';

const KiB = 1024;

const perms = (p: Record<string, string[]>): ApiUser['permissions'] =>
  p as unknown as ApiUser['permissions'];

export const FIXTURES: Record<string, Fixture> = {
  perms: {
    user: {
      permissions: perms({
        '/': ['list', 'download'],
        '/full': ['*'],
        '/uponly': ['list', 'upload'],
        '/nolist': ['download', 'upload', 'overwrite'],
        '/nodelete': ['list', 'download', 'upload', 'overwrite', 'create_dirs', 'rename'],
        '/renamedst': ['list', 'upload'],
      }),
    },
    given: [
      { path: '/root.txt', content: 'root\n', mode: 0o644, mtime: 2_000_000 },
      { path: '/full/f.txt', content: 'full\n', mode: 0o644 },
      { path: '/full/existing-link', symlink: 'f.txt' },
      { path: '/uponly/u.txt', content: 'up\n' },
      { path: '/uponly/sub/s.txt', content: 'sub\n' },
      { path: '/nolist/n.txt', content: 'nolist\n' },
      { path: '/nodelete/d.txt', content: 'nodelete\n' },
      { path: '/nodelete/ow.txt', content: 'old\n' },
      { path: '/nodelete/sub', dir: true },
      { path: '/renamedst', dir: true },
    ],
  },
  patterns: {
    user: {
      filters: {
        file_patterns: [
          { path: '/', denied_patterns: ['*.exe', '*.zip'] },
          { path: '/docs', allowed_patterns: ['*.txt'] },
        ],
      },
    },
    given: [
      { path: '/already.exe', content: 'MZ' },
      { path: '/docs/ok.txt', content: 'ok\n' },
      { path: '/docs/secret.pdf', content: '%PDF' },
    ],
  },
  'quota-size': { user: { quota_size: 1024 * KiB }, isolated: true },
  'quota-small': { user: { quota_size: 100 * KiB }, isolated: true },
  'quota-files': { user: { quota_files: 2 }, isolated: true },
  'max-upload': {
    user: { filters: { max_upload_file_size: 10 * KiB } },
    given: [{ path: '/keep.bin', content: 'keep' }],
  },
  hostile: {
    user: {},
    given: [
      { path: '/mine.txt', content: 'mine\n' },
      // admin-made symlinks leading out of the home, and one that stays inside
      { path: '/rootlink', symlink: '/' },
      { path: '/passwdlink', symlink: '/etc/passwd' },
      { path: '/outlink', symlink: '{outside}' },
      { path: '/secretlink', symlink: '{outside}/secret.txt' },
      { path: '/inlink', symlink: 'mine.txt' },
    ],
  },
  folders: {
    // a quota limit, so that track_quota=2 keeps the user's counters
    user: { quota_size: 100 * 1024 * KiB },
    folders: [
      { name: 'vf1', virtualPath: '/vdir', quotaSize: 0, quotaFiles: 0 },
      { name: 'vf2', virtualPath: '/deep/er/vdir2', quotaSize: -1, quotaFiles: -1 },
    ],
    given: [
      { path: '/home.txt', content: 'home\n' },
      { path: '/vdir/inside.txt', content: 'inside\n' },
      { path: '/vdir/ren.txt', content: 'ren\n' },
      { path: '/vdir/escape', symlink: '{outside}' },
      { path: '/to-folder.txt', content: 'to the folder\n' },
      { path: '/vdir/to-home.txt', content: 'to the home\n' },
    ],
  },
  // custom actions (ACTION_CASES): a hook that refuses names containing "deny-<operation>"
  actions: { user: { quota_size: 64 * KiB }, isolated: true },
  'folders-quota': {
    user: { quota_size: 100 * 1024 * KiB },
    folders: [
      { name: 'vf1', virtualPath: '/vdir', quotaSize: 0, quotaFiles: 0 },
      { name: 'vf2', virtualPath: '/deep/er/vdir2', quotaSize: -1, quotaFiles: -1 },
      { name: 'limited', virtualPath: '/limited', quotaSize: 0, quotaFiles: 1 },
    ],
    isolated: true,
  },
};

interface CaseSpec {
  title: string;
  fixture: string;
  given?: Given[];
}

function one(id: string, category: Category, c: CaseSpec, step: Step): Case {
  return { id, category, ...c, steps: [step] };
}

function many(id: string, category: Category, c: CaseSpec, steps: Step[]): Case {
  return { id, category, ...c, steps };
}

const P = 'permissions' as const;
const perm = (title: string): CaseSpec => ({ title, fixture: 'perms' });

const PERMISSIONS: Case[] = [
  one('P01', P, perm('list is denied without the list permission'), {
    do: { op: 'list', path: '/nolist' },
    expect: 'permission-denied',
  }),
  one('P02', P, perm('stat is denied without the list permission'), {
    do: { op: 'stat', path: '/nolist/n.txt' },
    expect: 'permission-denied',
  }),
  one('P03', P, perm('list is allowed with it'), {
    do: { op: 'list', path: '/full' },
    expect: 'ok',
    entries: { includes: ['f.txt', 'existing-link'] },
  }),
  one('P04', P, perm('download does not need list'), {
    do: { op: 'download', path: '/nolist/n.txt' },
    expect: 'ok',
    content: 'nolist\n',
  }),
  one('P05', P, perm('download is denied without the download permission'), {
    do: { op: 'download', path: '/uponly/u.txt' },
    expect: 'permission-denied',
  }),
  one('P06', P, perm('download is allowed with it'), {
    do: { op: 'download', path: '/root.txt' },
    expect: 'ok',
    content: 'root\n',
  }),
  one('P07', P, perm('upload is denied without the upload permission'), {
    do: { op: 'upload', path: '/new.txt', data: 'new' },
    expect: 'permission-denied',
    files: { '/new.txt': null },
  }),
  one('P08', P, perm('upload is allowed with it'), {
    do: { op: 'upload', path: '/uponly/new.txt', data: 'new' },
    expect: 'ok',
    files: { '/uponly/new.txt': 'new' },
  }),
  one('P09', P, perm('upload over an existing file needs overwrite'), {
    do: { op: 'upload', path: '/uponly/u.txt', data: 'replaced' },
    expect: 'permission-denied',
    files: { '/uponly/u.txt': 'up\n' },
  }),
  one('P10', P, perm('overwrite is allowed with it'), {
    do: { op: 'upload', path: '/nodelete/ow.txt', data: 'replaced' },
    expect: 'ok',
    files: { '/nodelete/ow.txt': 'replaced' },
  }),
  one('P11', P, perm('remove is denied without the delete permission'), {
    do: { op: 'remove', path: '/nodelete/d.txt' },
    expect: 'permission-denied',
    files: { '/nodelete/d.txt': 'nodelete\n' },
  }),
  one('P12', P, perm('rmdir is denied without the delete permission'), {
    do: { op: 'rmdir', path: '/nodelete/sub' },
    expect: 'permission-denied',
    files: { '/nodelete/sub': { dir: true } },
  }),
  one(
    'P13',
    P,
    { ...perm('remove is allowed with it'), given: [{ path: '/full/gone.txt', content: 'x' }] },
    {
      do: { op: 'remove', path: '/full/gone.txt' },
      expect: 'ok',
      files: { '/full/gone.txt': null },
    },
  ),
  one(
    'P14',
    P,
    { ...perm('rmdir is allowed with it'), given: [{ path: '/full/gonedir', dir: true }] },
    { do: { op: 'rmdir', path: '/full/gonedir' }, expect: 'ok', files: { '/full/gonedir': null } },
  ),
  one('P15', P, perm('mkdir is denied without create_dirs'), {
    do: { op: 'mkdir', path: '/newdir' },
    expect: 'permission-denied',
    files: { '/newdir': null },
  }),
  one('P16', P, perm('mkdir is allowed with it'), {
    do: { op: 'mkdir', path: '/full/newdir' },
    expect: 'ok',
    files: { '/full/newdir': { dir: true } },
  }),
  one(
    'P17',
    P,
    {
      ...perm('rename with rename on both sides'),
      given: [{ path: '/full/r1.txt', content: 'r1' }],
    },
    {
      do: { op: 'rename', from: '/full/r1.txt', to: '/full/r2.txt' },
      expect: 'ok',
      files: { '/full/r1.txt': null, '/full/r2.txt': 'r1' },
    },
  ),
  one('P18', P, perm('rename from a directory without rename nor delete'), {
    do: { op: 'rename', from: '/root.txt', to: '/full/root.txt' },
    expect: 'permission-denied',
    files: { '/root.txt': 'root\n', '/full/root.txt': null },
  }),
  one(
    'P19',
    P,
    {
      ...perm('rename with delete on the source and upload on the target'),
      given: [{ path: '/full/r3.txt', content: 'r3' }],
    },
    {
      do: { op: 'rename', from: '/full/r3.txt', to: '/renamedst/r3.txt' },
      expect: 'ok',
      files: { '/full/r3.txt': null, '/renamedst/r3.txt': 'r3' },
    },
  ),
  one(
    'P20',
    P,
    {
      ...perm('rename to a directory without rename nor upload'),
      given: [{ path: '/full/r4.txt', content: 'r4' }],
    },
    {
      do: { op: 'rename', from: '/full/r4.txt', to: '/r4.txt' },
      expect: 'permission-denied',
      files: { '/full/r4.txt': 'r4', '/r4.txt': null },
    },
  ),
  one('P21', P, perm('symlink is denied without create_symlinks'), {
    do: { op: 'symlink', target: '/root.txt', link: '/link' },
    expect: 'permission-denied',
    files: { '/link': null },
  }),
  one('P22', P, perm('chmod is denied without chmod'), {
    do: { op: 'chmod', path: '/root.txt', mode: 0o600 },
    expect: 'permission-denied',
    files: { '/root.txt': { mode: 0o644 } },
  }),
  one('P23', P, perm('chtimes is denied without chtimes'), {
    do: { op: 'chtimes', path: '/root.txt', mtime: 1_000_000 },
    expect: 'permission-denied',
    files: { '/root.txt': { mtime: 2_000_000 } },
  }),
  one('P24', P, perm('chmod is allowed with it'), {
    do: { op: 'chmod', path: '/full/f.txt', mode: 0o600 },
    expect: 'ok',
    files: { '/full/f.txt': { mode: 0o600 } },
  }),
  one('P25', P, perm('chtimes is allowed with it'), {
    do: { op: 'chtimes', path: '/full/f.txt', mtime: 1_000_000 },
    expect: 'ok',
    files: { '/full/f.txt': { mtime: 1_000_000 } },
  }),
  one('P26', P, perm('readlink shows an admin-made link as a virtual path'), {
    do: { op: 'readlink', path: '/full/existing-link' },
    expect: 'ok',
    path: '/full/f.txt',
  }),
  many('P27', P, perm('symlink is allowed with create_symlinks'), [
    { do: { op: 'symlink', target: '/full/f.txt', link: '/full/newlink' }, expect: 'ok' },
    { do: { op: 'readlink', path: '/full/newlink' }, expect: 'ok', path: '/full/f.txt' },
  ]),
  one('P28', P, perm('a subdirectory inherits the permissions of its closest configured parent'), {
    do: { op: 'upload', path: '/uponly/sub/new.txt', data: 'new' },
    expect: 'ok',
    files: { '/uponly/sub/new.txt': 'new' },
  }),
  one('P29', P, perm('an inherited restriction applies in the subdirectory too'), {
    do: { op: 'download', path: '/uponly/sub/s.txt' },
    expect: 'permission-denied',
  }),
];

const Q = 'quota' as const;

const QUOTA: Case[] = [
  many(
    'Q01',
    Q,
    {
      title: 'an upload overrunning the size quota fails and leaves nothing behind',
      fixture: 'quota-size',
    },
    [
      {
        do: { op: 'upload', path: '/small.bin', data: { size: 600 * KiB } },
        expect: 'ok',
        quota: { user: { size: 600 * KiB, files: 1 } },
      },
      {
        do: { op: 'upload', path: '/big.bin', data: { size: 1536 * KiB } },
        expect: 'quota-exceeded',
        files: { '/big.bin': null },
        quota: { user: { size: 600 * KiB, files: 1 } },
      },
      {
        do: { op: 'upload', path: '/small.bin', data: { size: 600 * KiB } },
        expect: 'ok',
        files: { '/small.bin': { size: 600 * KiB } },
        quota: { user: { size: 600 * KiB, files: 1 } },
      },
    ],
  ),
  one(
    'Q02',
    Q,
    {
      title: 'a new file overrunning the quota on a later write is removed',
      fixture: 'quota-small',
    },
    {
      do: { op: 'upload', path: '/w.bin', data: { size: 128 * KiB } },
      expect: 'quota-exceeded',
      files: { '/w.bin': null },
      quota: { user: { size: 0, files: 0 } },
    },
  ),
  many(
    'Q03',
    Q,
    {
      title: 'the files quota refuses a new file but allows overwriting; remove frees it',
      fixture: 'quota-files',
    },
    [
      {
        do: { op: 'upload', path: '/1.bin', data: { size: 10 * KiB } },
        expect: 'ok',
        quota: { user: { size: 10 * KiB, files: 1 } },
      },
      {
        do: { op: 'upload', path: '/2.bin', data: { size: 10 * KiB } },
        expect: 'ok',
        quota: { user: { size: 20 * KiB, files: 2 } },
      },
      {
        do: { op: 'upload', path: '/3.bin', data: 'x' },
        expect: 'quota-exceeded',
        files: { '/3.bin': null },
        quota: { user: { size: 20 * KiB, files: 2 } },
      },
      {
        do: { op: 'upload', path: '/1.bin', data: 'x' },
        expect: 'ok',
        files: { '/1.bin': 'x' },
        quota: { user: { size: 10 * KiB + 1, files: 2 } },
      },
      {
        do: { op: 'remove', path: '/2.bin' },
        expect: 'ok',
        quota: { user: { size: 1, files: 1 } },
      },
    ],
  ),
  many(
    'Q04',
    Q,
    {
      title: 'an append overrunning the size quota leaves the file as it was',
      fixture: 'quota-small',
    },
    [
      {
        do: { op: 'upload', path: '/a.bin', data: { size: 60 * KiB } },
        expect: 'ok',
        quota: { user: { size: 60 * KiB, files: 1 } },
      },
      {
        do: { op: 'append', path: '/a.bin', data: { size: 60 * KiB } },
        expect: 'quota-exceeded',
        files: { '/a.bin': { size: 60 * KiB } },
        quota: { user: { size: 60 * KiB, files: 1 } },
      },
      {
        do: { op: 'append', path: '/a.bin', data: 'tail' },
        expect: 'ok',
        files: { '/a.bin': { size: 60 * KiB + 4 } },
        quota: { user: { size: 60 * KiB + 4, files: 1 } },
      },
    ],
  ),
  one(
    'Q05',
    Q,
    {
      title: 'max_upload_file_size refuses a bigger upload and leaves nothing behind',
      fixture: 'max-upload',
    },
    {
      do: { op: 'upload', path: '/big.bin', data: { size: 20 * KiB } },
      expect: 'quota-exceeded',
      files: { '/big.bin': null },
    },
  ),
  // upload_mode 0 (the default): the overwrite truncated the old file, so nothing is left of it
  one(
    'Q06',
    Q,
    {
      title: 'an overwrite beyond max_upload_file_size leaves no partial file',
      fixture: 'max-upload',
    },
    {
      do: { op: 'upload', path: '/keep.bin', data: { size: 20 * KiB } },
      expect: 'quota-exceeded',
      files: { '/keep.bin': null },
    },
  ),
  one(
    'Q07',
    Q,
    { title: 'max_upload_file_size allows a smaller upload', fixture: 'max-upload' },
    {
      do: { op: 'upload', path: '/small.bin', data: { size: 10 * KiB } },
      expect: 'ok',
      files: { '/small.bin': { size: 10 * KiB } },
    },
  ),
  many(
    'Q08',
    Q,
    {
      title: 'an overwrite overrunning the size quota leaves no partial file and frees its space',
      fixture: 'quota-size',
    },
    [
      {
        do: { op: 'upload', path: '/o.bin', data: { size: 600 * KiB } },
        expect: 'ok',
        quota: { user: { size: 600 * KiB, files: 1 } },
      },
      {
        // upload_mode 0: the truncated old file goes together with the partial data
        do: { op: 'upload', path: '/o.bin', data: { size: 1536 * KiB } },
        expect: 'quota-exceeded',
        files: { '/o.bin': null },
        quota: { user: { size: 0, files: 0 } },
      },
    ],
  ),
  many(
    'Q09',
    Q,
    { title: 'a rename over an existing file frees its size and file', fixture: 'quota-size' },
    [
      { do: { op: 'upload', path: '/a.bin', data: { size: 10 * KiB } }, expect: 'ok' },
      {
        do: { op: 'upload', path: '/b.bin', data: { size: 20 * KiB } },
        expect: 'ok',
        quota: { user: { size: 30 * KiB, files: 2 } },
      },
      {
        do: { op: 'rename', from: '/a.bin', to: '/b.bin' },
        expect: 'ok',
        files: { '/a.bin': null, '/b.bin': { size: 10 * KiB } },
        quota: { user: { size: 10 * KiB, files: 1 } },
      },
    ],
  ),
  many(
    'Q10',
    Q,
    {
      title: 'a rename over an existing file makes room in the files quota',
      fixture: 'quota-files',
    },
    [
      { do: { op: 'upload', path: '/a.txt', data: 'a' }, expect: 'ok' },
      {
        do: { op: 'upload', path: '/b.txt', data: 'bb' },
        expect: 'ok',
        quota: { user: { size: 3, files: 2 } },
      },
      {
        do: { op: 'rename', from: '/a.txt', to: '/b.txt' },
        expect: 'ok',
        quota: { user: { size: 1, files: 1 } },
      },
      {
        do: { op: 'upload', path: '/c.txt', data: 'c' },
        expect: 'ok',
        quota: { user: { size: 2, files: 2 } },
      },
    ],
  ),
  many(
    'Q11',
    Q,
    {
      title: 'appends, empty files, directories and renames count as they should',
      fixture: 'quota-size',
    },
    [
      {
        do: { op: 'append', path: '/n.txt', data: 'abc' },
        expect: 'ok',
        files: { '/n.txt': 'abc' },
        quota: { user: { size: 3, files: 1 } },
      },
      {
        do: { op: 'upload', path: '/empty.txt', data: '' },
        expect: 'ok',
        quota: { user: { size: 3, files: 2 } },
      },
      { do: { op: 'mkdir', path: '/d' }, expect: 'ok', quota: { user: { size: 3, files: 2 } } },
      {
        do: { op: 'rename', from: '/n.txt', to: '/d/n.txt' },
        expect: 'ok',
        quota: { user: { size: 3, files: 2 } },
      },
      {
        do: { op: 'remove', path: '/d/n.txt' },
        expect: 'ok',
        quota: { user: { size: 0, files: 1 } },
      },
    ],
  ),
  many(
    'Q12',
    Q,
    { title: 'symlinks do not count, and removing one frees nothing', fixture: 'quota-size' },
    [
      { do: { op: 'upload', path: '/a.bin', data: { size: 10 * KiB } }, expect: 'ok' },
      {
        do: { op: 'symlink', target: '/a.bin', link: '/l' },
        expect: 'ok',
        quota: { user: { size: 10 * KiB, files: 1 } },
      },
      {
        do: { op: 'remove', path: '/l' },
        expect: 'ok',
        files: { '/a.bin': { size: 10 * KiB } },
        quota: { user: { size: 10 * KiB, files: 1 } },
      },
    ],
  ),
];

const F = 'patterns' as const;
const pat = (title: string): CaseSpec => ({ title, fixture: 'patterns' });

const PATTERNS: Case[] = [
  one('F01', F, pat('upload of a denied name is refused'), {
    do: { op: 'upload', path: '/tool.exe', data: 'MZ' },
    expect: 'name-not-allowed',
    files: { '/tool.exe': null },
  }),
  one('F02', F, pat('denied patterns are case-insensitive'), {
    do: { op: 'upload', path: '/TOOL.EXE', data: 'MZ' },
    expect: 'name-not-allowed',
    files: { '/TOOL.EXE': null },
  }),
  one('F03', F, pat('upload of a name outside the allowed patterns is refused'), {
    do: { op: 'upload', path: '/docs/a.pdf', data: '%PDF' },
    expect: 'name-not-allowed',
    files: { '/docs/a.pdf': null },
  }),
  one('F04', F, pat('upload of an allowed name works'), {
    do: { op: 'upload', path: '/docs/a.txt', data: 'a' },
    expect: 'ok',
    files: { '/docs/a.txt': 'a' },
  }),
  one('F05', F, pat('upload of a name no pattern mentions works'), {
    do: { op: 'upload', path: '/notes.md', data: 'n' },
    expect: 'ok',
    files: { '/notes.md': 'n' },
  }),
  one('F06', F, pat('download of a denied name is refused'), {
    do: { op: 'download', path: '/already.exe' },
    expect: 'name-not-allowed',
  }),
  one('F07', F, pat('download of a name outside the allowed patterns is refused'), {
    do: { op: 'download', path: '/docs/secret.pdf' },
    expect: 'name-not-allowed',
  }),
  one('F08', F, pat('rename to a denied name is refused'), {
    do: { op: 'rename', from: '/docs/ok.txt', to: '/docs/ok.zip' },
    expect: 'name-not-allowed',
    files: { '/docs/ok.txt': 'ok\n', '/docs/ok.zip': null },
  }),
];

const H = 'hostile-paths' as const;
const hos = (title: string): CaseSpec => ({ title, fixture: 'hostile' });
/** enough ".." to climb out of any home */
const UP = '../../../../../../../../../..';

const HOSTILE: Case[] = [
  one('H01', H, hos('".." is resolved inside the home: ../../etc/passwd is not the system file'), {
    do: { op: 'stat', path: '../../etc/passwd' },
    expect: 'not-found',
  }),
  one('H02', H, hos('an absolute path with ".." cannot read the system file'), {
    do: { op: 'download', path: '/../../../etc/passwd' },
    expect: 'not-found',
  }),
  one('H03', H, hos('climbing above the root stays at the root'), {
    do: { op: 'realpath', path: '../../..' },
    expect: 'ok',
    path: '/',
  }),
  one('H04', H, hos('a listing through a symlink to "/" is refused'), {
    do: { op: 'list', path: '/rootlink' },
    expect: 'permission-denied',
  }),
  one('H05', H, hos('stat through a symlink to "/" is refused'), {
    do: { op: 'stat', path: '/rootlink/etc/passwd' },
    expect: 'permission-denied',
  }),
  one('H06', H, hos('a download through a symlink to "/" is refused'), {
    do: { op: 'download', path: '/rootlink/etc/passwd' },
    expect: 'permission-denied',
  }),
  one('H07', H, hos('a download of a symlink to /etc/passwd is refused'), {
    do: { op: 'download', path: '/passwdlink' },
    expect: 'permission-denied',
  }),
  one('H08', H, hos('a download through a symlink to an outside directory is refused'), {
    do: { op: 'download', path: '/outlink/secret.txt' },
    expect: 'permission-denied',
  }),
  one('H09', H, hos('a download of a symlink to an outside file is refused'), {
    do: { op: 'download', path: '/secretlink' },
    expect: 'permission-denied',
  }),
  one('H10', H, hos('an upload through a symlink to "/" does not reach the outside'), {
    do: { op: 'upload', path: '/rootlink{outside}/evil.txt', data: 'evil' },
    expect: 'permission-denied',
    outside: { 'evil.txt': null },
  }),
  one('H11', H, hos('an upload through a symlink to an outside directory is refused'), {
    do: { op: 'upload', path: '/outlink/evil2.txt', data: 'evil' },
    expect: 'permission-denied',
    outside: { 'evil2.txt': null },
  }),
  one('H12', H, hos('an upload to ../../<outside> lands (or fails) inside the home'), {
    do: { op: 'upload', path: `${UP}{outside}/evil3.txt`, data: 'evil' },
    expect: 'not-found',
    outside: { 'evil3.txt': null },
  }),
  one('H13', H, hos('mkdir through a symlink to an outside directory is refused'), {
    do: { op: 'mkdir', path: '/outlink/newdir' },
    expect: 'permission-denied',
    outside: { newdir: null },
  }),
  one('H14', H, hos('remove through a symlink to an outside directory is refused'), {
    do: { op: 'remove', path: '/outlink/secret.txt' },
    expect: 'permission-denied',
    outside: { 'secret.txt': 'secret\n' },
  }),
  one('H15', H, hos('a rename to ../../<outside> stays inside the home'), {
    do: { op: 'rename', from: '/mine.txt', to: `${UP}{outside}/escaped.txt` },
    expect: 'not-found',
    files: { '/mine.txt': 'mine\n' },
    outside: { 'escaped.txt': null },
  }),
  one('H16', H, hos('a rename through a symlink to "/" is refused'), {
    do: { op: 'rename', from: '/mine.txt', to: '/rootlink{outside}/escaped2.txt' },
    expect: 'permission-denied',
    files: { '/mine.txt': 'mine\n' },
    outside: { 'escaped2.txt': null },
  }),
  one('H17', H, hos('a rename through a symlink to an outside directory is refused'), {
    do: { op: 'rename', from: '/mine.txt', to: '/outlink/escaped3.txt' },
    expect: 'permission-denied',
    files: { '/mine.txt': 'mine\n' },
    outside: { 'escaped3.txt': null },
  }),
  many('H18', H, hos('a client-made symlink to /etc/passwd points into the home'), [
    {
      do: { op: 'symlink', target: '/etc/passwd', link: '/mylink' },
      expect: 'ok',
      home: { mylink: { link: 'etc/passwd' } },
    },
    { do: { op: 'download', path: '/mylink' }, expect: 'not-found' },
  ]),
  one('H19', H, hos('a client-made symlink to the host root is refused'), {
    do: { op: 'symlink', target: UP, link: '/up' },
    expect: 'permission-denied',
    home: { up: null },
  }),
  one('H20', H, hos('a symlink that stays inside the home is followed'), {
    do: { op: 'download', path: '/inlink' },
    expect: 'ok',
    content: 'mine\n',
  }),
  one('H21', H, hos('a NUL byte in a name is refused, not cut short'), {
    do: { op: 'upload', path: '/trunc.txt\u0000.jpg', data: 'x' },
    expect: 'failure',
    home: { 'trunc.txt': null },
  }),
  one('H22', H, hos('a name with CR/LF is stored as it is'), {
    do: { op: 'upload', path: '/cr\r\nlf.txt', data: 'x' },
    expect: 'ok',
    home: { 'cr\r\nlf.txt': 'x' },
  }),
  one('H23', H, hos('percent-encoded ".." is a plain name, not a way out'), {
    do: { op: 'upload', path: '/%2e%2e/{outsideName}/pct.txt', data: 'x' },
    expect: 'not-found',
    outside: { 'pct.txt': null },
  }),
  one('H24', H, hos('double-encoded ".." is a plain name, not a way out'), {
    do: { op: 'upload', path: '/%252e%252e/{outsideName}/pct2.txt', data: 'x' },
    expect: 'not-found',
    outside: { 'pct2.txt': null },
  }),
  one('H25', H, hos('backslashes are no way out'), {
    // a literal file name on POSIX (SFTP); a protocol that reads "\" as a separator resolves
    // it inside the home, where the parent does not exist
    do: { op: 'upload', path: '\\..\\{outsideName}\\bs.txt', data: 'x' },
    expect: ['ok', 'not-found'],
    outside: { 'bs.txt': null },
  }),
  one(
    'H26',
    H,
    { title: 'a NUL byte cannot cut a denied name short', fixture: 'patterns' },
    {
      do: { op: 'upload', path: '/tool.exe\u0000.txt', data: 'MZ' },
      expect: 'failure',
      files: { '/tool.exe': null },
    },
  ),
  one(
    'H27',
    H,
    {
      title: 'a NUL byte cannot rename to a denied name',
      fixture: 'patterns',
      given: [{ path: '/docs/nul.txt', content: 'nul\n' }],
    },
    {
      do: { op: 'rename', from: '/docs/nul.txt', to: '/docs/nul.exe\u0000.txt' },
      expect: 'failure',
      files: { '/docs/nul.txt': 'nul\n', '/docs/nul.exe': null },
    },
  ),
  many('H28', H, hos('a client-made relative symlink climbing out points into the home'), [
    { do: { op: 'symlink', target: '../{outsideName}', link: '/esc' }, expect: 'ok' },
    { do: { op: 'download', path: '/esc/secret.txt' }, expect: 'not-found' },
    {
      do: { op: 'upload', path: '/esc/evil4.txt', data: 'evil' },
      expect: 'not-found',
      outside: { 'evil4.txt': null },
    },
  ]),
  one('H29', H, hos('chmod does not follow a symlink out of the home'), {
    do: { op: 'chmod', path: '/secretlink', mode: 0o666 },
    expect: 'permission-denied',
    outside: { 'secret.txt': { content: 'secret\n', mode: 0o644 } },
  }),
  one('H30', H, hos('chtimes does not follow a symlink out of the home'), {
    do: { op: 'chtimes', path: '/outlink/secret.txt', mtime: 1_000_000 },
    expect: 'permission-denied',
    outside: { 'secret.txt': { mtime: 3_000_000 } },
  }),
  one('H31', H, hos('an upload over a symlink to an outside file does not write through it'), {
    do: { op: 'upload', path: '/secretlink', data: 'pwned' },
    expect: 'permission-denied',
    outside: { 'secret.txt': 'secret\n' },
  }),
  one('H32', H, hos('an append to a symlink to an outside file does not write through it'), {
    do: { op: 'append', path: '/secretlink', data: 'pwned' },
    expect: 'permission-denied',
    outside: { 'secret.txt': 'secret\n' },
  }),
  one('H33', H, hos('readlink does not reveal a host path outside the home'), {
    do: { op: 'readlink', path: '/secretlink' },
    expect: 'permission-denied',
  }),
  one(
    'H34',
    H,
    {
      ...hos('removing a symlink to an outside file removes the link only'),
      given: [{ path: '/rmlink', symlink: '{outside}/secret.txt' }],
    },
    {
      do: { op: 'remove', path: '/rmlink' },
      expect: 'ok',
      home: { rmlink: null },
      outside: { 'secret.txt': 'secret\n' },
    },
  ),
  one('H35', H, hos('rmdir of a symlink to an outside directory leaves it alone'), {
    do: { op: 'rmdir', path: '/outlink' },
    expect: 'failure',
    home: { outlink: { link: '{outside}' } },
    outside: { 'secret.txt': 'secret\n' },
  }),
];

const V = 'virtual-folders' as const;
const vf = (title: string): CaseSpec => ({ title, fixture: 'folders' });

const FOLDERS: Case[] = [
  one('V01', V, vf('the root listing shows the mount points'), {
    do: { op: 'list', path: '/' },
    expect: 'ok',
    entries: { includes: ['vdir', 'deep', 'home.txt'] },
  }),
  one('V02', V, vf('intermediate directories of a deep mount point are listed'), {
    do: { op: 'list', path: '/deep' },
    expect: 'ok',
    entries: { includes: ['er'] },
  }),
  one('V03', V, vf('a folder lists its mapped directory'), {
    do: { op: 'list', path: '/vdir' },
    expect: 'ok',
    entries: { includes: ['inside.txt'] },
  }),
  one('V04', V, vf('an upload into a folder lands in its mapped directory'), {
    do: { op: 'upload', path: '/vdir/up.txt', data: 'up' },
    expect: 'ok',
    files: { '/vdir/up.txt': 'up' },
    home: { 'vdir/up.txt': null },
  }),
  one('V05', V, vf('an upload into a deep folder lands in its mapped directory'), {
    do: { op: 'upload', path: '/deep/er/vdir2/up2.txt', data: 'up2' },
    expect: 'ok',
    files: { '/deep/er/vdir2/up2.txt': 'up2' },
    home: { 'deep/er/vdir2/up2.txt': null },
  }),
  one('V06', V, vf('a download from a folder reads its mapped directory'), {
    do: { op: 'download', path: '/vdir/inside.txt' },
    expect: 'ok',
    content: 'inside\n',
  }),
  one('V07', V, vf('a rename from the home into a folder moves the file'), {
    do: { op: 'rename', from: '/to-folder.txt', to: '/vdir/to-folder.txt' },
    expect: 'ok',
    files: { '/to-folder.txt': null, '/vdir/to-folder.txt': 'to the folder\n' },
    home: { 'vdir/to-folder.txt': null },
  }),
  one('V08', V, vf('a rename from a folder into the home moves the file'), {
    do: { op: 'rename', from: '/vdir/to-home.txt', to: '/to-home.txt' },
    expect: 'ok',
    files: { '/vdir/to-home.txt': null, '/to-home.txt': 'to the home\n' },
  }),
  one('V09', V, vf('a mount point cannot be renamed'), {
    do: { op: 'rename', from: '/vdir', to: '/vdir-renamed' },
    expect: 'permission-denied',
    files: { '/vdir/inside.txt': 'inside\n' },
    home: { 'vdir-renamed': null },
  }),
  one('V10', V, vf('a mount point cannot be removed'), {
    do: { op: 'rmdir', path: '/vdir' },
    expect: 'permission-denied',
    files: { '/vdir/inside.txt': 'inside\n' },
  }),
  one('V11', V, vf('a rename inside a folder works'), {
    do: { op: 'rename', from: '/vdir/ren.txt', to: '/vdir/ren2.txt' },
    expect: 'ok',
    files: { '/vdir/ren.txt': null, '/vdir/ren2.txt': 'ren\n' },
  }),
  one('V12', V, vf('a symlink in a mapped directory cannot lead out of it'), {
    do: { op: 'download', path: '/vdir/escape/secret.txt' },
    expect: 'permission-denied',
  }),
  one('V13', V, vf('".." cannot climb out of a folder'), {
    do: { op: 'download', path: '/vdir/../../{outsideName}/secret.txt' },
    expect: 'not-found',
  }),
  many(
    'V14',
    V,
    {
      title: 'folder quotas are tracked per folder, and in the user quota for -1/-1 folders',
      fixture: 'folders-quota',
    },
    [
      {
        do: { op: 'upload', path: '/vdir/a.bin', data: { size: 300 * KiB } },
        expect: 'ok',
        quota: { user: { size: 0, files: 0 }, folders: { vf1: { size: 300 * KiB, files: 1 } } },
      },
      {
        do: { op: 'upload', path: '/vdir/b.bin', data: { size: 300 * KiB } },
        expect: 'ok',
        quota: { user: { size: 0, files: 0 }, folders: { vf1: { size: 600 * KiB, files: 2 } } },
      },
      {
        do: { op: 'upload', path: '/deep/er/vdir2/c.bin', data: { size: 300 * KiB } },
        expect: 'ok',
        quota: {
          user: { size: 300 * KiB, files: 1 },
          folders: { vf1: { size: 600 * KiB, files: 2 }, vf2: { size: 300 * KiB, files: 1 } },
        },
      },
      {
        do: { op: 'remove', path: '/vdir/a.bin' },
        expect: 'ok',
        quota: {
          user: { size: 300 * KiB, files: 1 },
          folders: { vf1: { size: 300 * KiB, files: 1 } },
        },
      },
    ],
  ),
  many(
    'V15',
    V,
    {
      title: 'a folder with its own files quota refuses the file too many',
      fixture: 'folders-quota',
    },
    [
      {
        do: { op: 'upload', path: '/limited/1.txt', data: 'one' },
        expect: 'ok',
        quota: { user: { size: 0, files: 0 }, folders: { limited: { size: 3, files: 1 } } },
      },
      {
        do: { op: 'upload', path: '/limited/2.txt', data: 'two' },
        expect: 'quota-exceeded',
        files: { '/limited/2.txt': null },
        quota: { user: { size: 0, files: 0 }, folders: { limited: { size: 3, files: 1 } } },
      },
      // the user's own space is not limited by the folder
      {
        do: { op: 'upload', path: '/2.txt', data: 'two' },
        expect: 'ok',
        quota: { user: { size: 3, files: 1 } },
      },
    ],
  ),
];

export const CASES: readonly Case[] = [
  ...PERMISSIONS,
  ...QUOTA,
  ...PATTERNS,
  ...HOSTILE,
  ...FOLDERS,
];

const A = 'actions' as const;
const act = (title: string, given?: Given[]): CaseSpec => ({
  title,
  fixture: 'actions',
  ...(given ? { given } : {}),
});

/**
 * Custom actions, run with `runCases(driver, { cases: ACTION_CASES, actions: true })`: every
 * action configured and synchronous, the hook a recording HTTP receiver that refuses pre-X for
 * names containing "deny-X" (X = upload, download, delete) and accepts everything else.
 */
export const ACTION_CASES: readonly Case[] = [
  one(
    'A01',
    A,
    act('an upload: pre-upload (new file: size 0, no flags), then upload with the size'),
    {
      do: { op: 'upload', path: '/a.txt', data: 'hello' },
      expect: 'ok',
      files: { '/a.txt': 'hello' },
      actions: [
        { action: 'pre-upload', path: '/a.txt' },
        { action: 'upload', path: '/a.txt', file_size: 5 },
      ],
    },
  ),
  one(
    'A02',
    A,
    act('an overwrite: pre-upload reports the current size and the open flags', [
      { path: '/o.txt', content: 'old content' },
    ]),
    {
      do: { op: 'upload', path: '/o.txt', data: 'new' },
      expect: 'ok',
      files: { '/o.txt': 'new' },
      actions: [
        { action: 'pre-upload', path: '/o.txt', file_size: 11, open_flags: 'truncate' },
        { action: 'upload', path: '/o.txt', file_size: 3 },
      ],
    },
  ),
  one('A03', A, act('a pre-upload refusal denies a new file: nothing written, no upload action'), {
    do: { op: 'upload', path: '/deny-upload.txt', data: 'data' },
    expect: 'permission-denied',
    files: { '/deny-upload.txt': null },
    quota: { user: { size: 0, files: 0 } },
    actions: [{ action: 'pre-upload', path: '/deny-upload.txt' }],
  }),
  one(
    'A04',
    A,
    act('a pre-upload refusal keeps an existing file as it was', [
      { path: '/old-deny-upload.txt', content: 'keep' },
    ]),
    {
      do: { op: 'upload', path: '/old-deny-upload.txt', data: 'replaced' },
      expect: 'permission-denied',
      files: { '/old-deny-upload.txt': 'keep' },
      actions: [
        {
          action: 'pre-upload',
          path: '/old-deny-upload.txt',
          file_size: 4,
          open_flags: 'truncate',
        },
      ],
    },
  ),
  one(
    'A05',
    A,
    act('a download: pre-download, then download with the bytes sent', [
      { path: '/d.txt', content: '0123456789' },
    ]),
    {
      do: { op: 'download', path: '/d.txt' },
      expect: 'ok',
      content: '0123456789',
      actions: [
        { action: 'pre-download', path: '/d.txt' },
        { action: 'download', path: '/d.txt', file_size: 10 },
      ],
    },
  ),
  one(
    'A06',
    A,
    act('a pre-download refusal denies the download', [
      { path: '/deny-download.txt', content: 'secret' },
    ]),
    {
      do: { op: 'download', path: '/deny-download.txt' },
      expect: 'permission-denied',
      actions: [{ action: 'pre-download', path: '/deny-download.txt' }],
    },
  ),
  many(
    'A07',
    A,
    act(
      'a pre-delete that succeeds takes the file over: left in place, quota decremented, no delete',
    ),
    [
      {
        do: { op: 'upload', path: '/e.txt', data: 'abcde' },
        expect: 'ok',
        quota: { user: { size: 5, files: 1 } },
        actions: [
          { action: 'pre-upload', path: '/e.txt' },
          { action: 'upload', path: '/e.txt', file_size: 5 },
        ],
      },
      {
        do: { op: 'remove', path: '/e.txt' },
        expect: 'ok',
        files: { '/e.txt': 'abcde' },
        quota: { user: { size: 0, files: 0 } },
        actions: [{ action: 'pre-delete', path: '/e.txt', file_size: 5 }],
      },
    ],
  ),
  many('A08', A, act('a pre-delete that fails: the server deletes the file, then delete'), [
    { do: { op: 'upload', path: '/deny-delete.txt', data: 'abc' }, expect: 'ok' },
    {
      do: { op: 'remove', path: '/deny-delete.txt' },
      expect: 'ok',
      files: { '/deny-delete.txt': null },
      quota: { user: { size: 0, files: 0 } },
      actions: [
        { action: 'pre-delete', path: '/deny-delete.txt', file_size: 3 },
        { action: 'delete', path: '/deny-delete.txt', file_size: 3 },
      ],
    },
  ]),
  one('A09', A, act('a rename: source and target', [{ path: '/r.txt', content: 'r' }]), {
    do: { op: 'rename', from: '/r.txt', to: '/r2.txt' },
    expect: 'ok',
    files: { '/r.txt': null, '/r2.txt': 'r' },
    actions: [{ action: 'rename', path: '/r.txt', target: '/r2.txt' }],
  }),
  one(
    'A10',
    A,
    act('an upload cut by the quota: upload with status 2 (the partial file removed, size 0)'),
    {
      do: { op: 'upload', path: '/big.bin', data: { size: 200 * KiB } },
      expect: 'quota-exceeded',
      files: { '/big.bin': null },
      quota: { user: { size: 0, files: 0 } },
      actions: [
        { action: 'pre-upload', path: '/big.bin' },
        { action: 'upload', path: '/big.bin', status: 2 },
      ],
    },
  ),
  one(
    'A11',
    A,
    act('an append: pre-upload with the size and the append flags', [
      { path: '/ap.txt', content: 'abc' },
    ]),
    {
      do: { op: 'append', path: '/ap.txt', data: 'def' },
      expect: 'ok',
      files: { '/ap.txt': 'abcdef' },
      actions: [
        { action: 'pre-upload', path: '/ap.txt', file_size: 3, open_flags: 'append' },
        { action: 'upload', path: '/ap.txt', file_size: 6 },
      ],
    },
  ),
];
