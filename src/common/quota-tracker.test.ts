import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuotaTracker, type QuotaLeaseInit } from './quota-tracker.js';

const U = QuotaTracker.userKey('alice');
const F = QuotaTracker.folderKey('vf');

function init(t: QuotaTracker, o: Partial<QuotaLeaseInit> = {}): QuotaLeaseInit {
  return {
    check: U,
    targets: [U],
    quotaSize: 1000,
    quotaFiles: 0,
    usedSize: 0,
    usedFiles: 0,
    applied: t.appliedSnapshot(o.check ?? U),
    newFile: true,
    ...o,
  };
}

void describe('QuotaTracker', () => {
  void it('concurrent leases share the remaining bytes; the write that crosses is refused', () => {
    const t = new QuotaTracker();
    const a = t.lease(init(t, { usedSize: 200 }));
    const b = t.lease(init(t, { usedSize: 200 }));
    assert.equal(a.reserve(500), true);
    assert.equal(b.reserve(300), true);
    assert.equal(b.reserve(301), false, '200 used + 500 + 301 > 1000');
    assert.deepEqual(t.reserved(U), { size: 800, files: 2 });
    a.release();
    assert.equal(b.reserve(700), true);
    b.release();
    b.release(); // idempotent
    assert.deepEqual(t.reserved(U), { size: 0, files: 0 });
  });

  void it('files being uploaded count against quota_files at open', () => {
    const t = new QuotaTracker();
    const o = { quotaSize: 0, quotaFiles: 3, usedFiles: 1 };
    const a = t.lease(init(t, o));
    t.lease(init(t, o));
    assert.throws(() => t.lease(init(t, o)), /space limit/);
    // an overwrite adds no file
    assert.doesNotThrow(() => t.lease(init(t, { ...o, newFile: false })));
    a.release();
    assert.doesNotThrow(() => t.lease(init(t, o)));
  });

  void it('deltas applied after the snapshot count; those before it do not count twice', () => {
    const t = new QuotaTracker();
    t.applied([U], 1, 400); // before the snapshot: already in the provider's usedSize
    const snap = t.appliedSnapshot(U);
    t.applied([U], 1, 300); // another upload finished after the snapshot
    const l = t.lease({ ...init(t), usedSize: 400, applied: snap });
    assert.equal(l.reserve(300), true, '400 + 300 + 300 = 1000');
    assert.equal(l.reserve(301), false);
    t.applied([U], -1, -300); // a delete frees space
    assert.equal(l.reserve(600), true);
  });

  void it('a lease reserves on every target and checks only its check scope', () => {
    const t = new QuotaTracker();
    const l = t.lease(init(t, { check: F, targets: [F, U], applied: t.appliedSnapshot(F) }));
    assert.equal(l.reserve(100), true);
    assert.deepEqual(t.reserved(F), { size: 100, files: 1 });
    assert.deepEqual(t.reserved(U), { size: 100, files: 1 });
    l.release();
    assert.deepEqual(t.reserved(U), { size: 0, files: 0 });
  });

  void it('a full scope refuses a new lease; shrinking a reservation always succeeds', () => {
    const t = new QuotaTracker();
    assert.throws(() => t.lease(init(t, { usedSize: 1000 })), /space limit/);
    const l = t.lease(init(t, { usedSize: 900 }));
    assert.equal(l.reserve(100), true);
    assert.equal(l.reserve(50), true);
    assert.equal(l.reserve(-10), true, 'a shrinking overwrite reserves nothing');
    assert.deepEqual(t.reserved(U), { size: 0, files: 1 });
  });
});
