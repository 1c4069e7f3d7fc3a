/**
 * The shared case table (test/cases) is well-formed, and a protocol that cannot express an
 * operation or a path gets those cases skipped with its reason, the others not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataBytes, skipReason } from '../cases/run.js';
import { ACTION_CASES, CASES, FIXTURES } from '../cases/table.js';
import { OP_KINDS, OUTCOMES, type OpKind, type ProtocolDriver } from '../cases/types.js';

function fakeDriver(o: {
  no?: Partial<Record<OpKind, string>>;
  noNewlines?: boolean;
}): ProtocolDriver {
  return {
    name: 'FAKE',
    start: () => Promise.reject(new Error('not started in unit tests')),
    supports: (op) => o.no?.[op] ?? true,
    ...(o.noNewlines
      ? { transports: (p: string) => (/[\r\n]/.test(p) ? 'CR/LF end a command line' : true) }
      : {}),
  };
}

void describe('shared case table', () => {
  void it('has unique ids, known fixtures and valid outcomes; every fixture is used', () => {
    const ids = new Set<string>();
    for (const c of [...CASES, ...ACTION_CASES]) {
      assert.ok(!ids.has(c.id), `duplicate id ${c.id}`);
      ids.add(c.id);
      assert.ok(FIXTURES[c.fixture], `${c.id}: unknown fixture ${c.fixture}`);
      assert.ok(c.steps.length > 0, `${c.id}: no steps`);
      for (const s of c.steps) {
        const expected = typeof s.expect === 'string' ? [s.expect] : s.expect;
        assert.ok(expected.length > 0, `${c.id}: empty expectation`);
        for (const e of expected) assert.ok(OUTCOMES.includes(e), `${c.id}: unknown outcome ${e}`);
      }
    }
    for (const f of Object.keys(FIXTURES)) {
      assert.ok(
        [...CASES, ...ACTION_CASES].some((c) => c.fixture === f),
        `fixture ${f} is not used`,
      );
    }
  });

  void it('custom-action cases expect actions, the other cases none', () => {
    for (const c of ACTION_CASES) {
      assert.equal(c.category, 'actions', c.id);
      assert.ok(
        c.steps.some((s) => s.actions !== undefined),
        `${c.id}: no actions expected`,
      );
    }
    for (const c of CASES) {
      assert.notEqual(c.category, 'actions', c.id);
      assert.ok(
        c.steps.every((s) => s.actions === undefined),
        `${c.id} expects actions`,
      );
    }
  });

  void it('exercises every operation a driver may implement', () => {
    const used = new Set(CASES.flatMap((c) => c.steps.map((s) => s.do.op)));
    assert.deepEqual(
      [...OP_KINDS].filter((k) => !used.has(k)),
      [],
    );
  });

  void it('skips exactly the cases a protocol cannot express, with its reason', () => {
    const all = fakeDriver({});
    assert.deepEqual(
      CASES.filter((c) => skipReason(all, c) !== undefined).map((c) => c.id),
      [],
    );
    const noLinks = fakeDriver({
      no: { symlink: 'SITE SYMLINK is disabled', readlink: 'no command' },
    });
    for (const c of CASES) {
      const uses = c.steps.some((s) => s.do.op === 'symlink' || s.do.op === 'readlink');
      const r = skipReason(noLinks, c);
      if (uses)
        assert.match(
          r ?? '',
          /^FAKE cannot (symlink: SITE SYMLINK is disabled|readlink: no command)$/,
          c.id,
        );
      else assert.equal(r, undefined, c.id);
    }
    const noNewlines = fakeDriver({ noNewlines: true });
    const skipped = CASES.filter((c) => skipReason(noNewlines, c) !== undefined);
    assert.ok(skipped.length > 0, 'the table has a CR/LF name');
    for (const c of skipped)
      assert.match(skipReason(noNewlines, c) ?? '', /cannot transport .*CR\/LF end a command line/);
  });

  void it('generates payloads of the requested size, deterministically', () => {
    assert.equal(dataBytes('abc').toString(), 'abc');
    const a = dataBytes({ size: 70_000 });
    assert.equal(a.length, 70_000);
    assert.ok(a.equals(dataBytes({ size: 70_000 })));
  });
});
