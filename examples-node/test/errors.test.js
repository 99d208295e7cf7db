'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const eve = require('..');
const { tmpSlabPath, throwsEve } = require('../fixtures/helpers');

test('EveError carries code, status and eve\'s message', () => {
  const slab = eve.open(tmpSlabPath());
  const read = slab.read();
  let caught;
  try {
    slab.close();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof eve.EveError);
  assert.ok(caught instanceof Error);
  assert.equal(caught.name, 'EveError');
  assert.equal(caught.code, 'EVE_ERR_BUSY');
  assert.equal(caught.status, 8);
  assert.match(caught.message, /read/);
  assert.match(caught.stack, /EveError/);
  read.end();
  slab.close();
});

test('a closed slab: every call fails with EVE_ERR_INVALID_ARGUMENT', () => {
  const slab = eve.open(tmpSlabPath());
  const m = slab.map('m');
  const r = slab.root('r');
  slab.close();
  const code = 'EVE_ERR_INVALID_ARGUMENT';
  throwsEve(assert, () => slab.map('m'), code);
  throwsEve(assert, () => slab.root('r'), code);
  throwsEve(assert, () => slab.findRoot('r'), code);
  throwsEve(assert, () => slab.load(r), code);
  throwsEve(assert, () => slab.compareExchange(r, 0n, 1n), code);
  throwsEve(assert, () => slab.transact(m, [['k', 'v']]), code);
  throwsEve(assert, () => slab.read(), code);
  throwsEve(assert, () => slab.stats(), code);
  throwsEve(assert, () => slab.reclaim(), code);
  throwsEve(assert, () => slab.recover(), code);
  throwsEve(assert, () => slab.check(), code);
  throwsEve(assert, () => slab.isReadOnly(), code);
  throwsEve(assert, () => slab.close(), code);
});

test('an ended read: lookups fail with EVE_ERR_INVALID_ARGUMENT', () => {
  const slab = eve.open(tmpSlabPath());
  const m = slab.map('m');
  const read = slab.read();
  read.end();
  throwsEve(assert, () => read.get(m, 'k'), 'EVE_ERR_INVALID_ARGUMENT');
  throwsEve(assert, () => read.getMany(m, ['k']), 'EVE_ERR_INVALID_ARGUMENT');
  throwsEve(assert, () => read.count(m), 'EVE_ERR_INVALID_ARGUMENT');
  throwsEve(assert, () => read.iterate(m), 'EVE_ERR_INVALID_ARGUMENT');
  slab.close();
});

test('close with an open read or iterator: EVE_ERR_BUSY, and the handle stays usable', () => {
  const slab = eve.open(tmpSlabPath());
  const m = slab.map('m');
  slab.put(m, 'k', 'v');
  const read = slab.read();
  throwsEve(assert, () => slab.close(), 'EVE_ERR_BUSY');
  assert.equal(slab.closed, false);
  assert.equal(read.get(m, 'k').toString(), 'v');
  const iter = read.iterate(m);
  read.end(); // also closes the iterator
  assert.equal(iter.closed, true);
  throwsEve(assert, () => iter.next(), 'EVE_ERR_INVALID_ARGUMENT');

  const r2 = slab.read();
  const it2 = r2.iterate(m);
  it2.close();
  throwsEve(assert, () => slab.close(), 'EVE_ERR_BUSY');
  r2.end();
  slab.close();
});

test('writes through a read-only handle: EVE_ERR_READ_ONLY', () => {
  const file = tmpSlabPath();
  const rw = eve.open(file);
  const m = rw.map('m');
  const r = rw.root('r');
  rw.close();
  const ro = eve.open(file, { readOnly: true });
  throwsEve(assert, () => ro.transact(m, [['k', 'v']]), 'EVE_ERR_READ_ONLY');
  throwsEve(assert, () => ro.put(m, 'k', 'v'), 'EVE_ERR_READ_ONLY');
  throwsEve(assert, () => ro.compareExchange(r, 0n, 1n), 'EVE_ERR_READ_ONLY');
  throwsEve(assert, () => ro.reclaim(), 'EVE_ERR_READ_ONLY');
  throwsEve(assert, () => ro.map('new-map'), 'EVE_ERR_NOT_FOUND');
  throwsEve(assert, () => ro.root('new-root'), 'EVE_ERR_NOT_FOUND');
  assert.equal(ro.load(r), 0n);
  ro.close();
});

test('a root of another kind: EVE_ERR_WRONG_KIND', () => {
  const slab = eve.open(tmpSlabPath());
  const m = slab.map('users');
  slab.root('counter');
  throwsEve(assert, () => slab.root('users'), 'EVE_ERR_WRONG_KIND');
  throwsEve(assert, () => slab.map('counter'), 'EVE_ERR_WRONG_KIND');
  throwsEve(assert, () => slab.compareExchange(m, 0n, 1n), 'EVE_ERR_WRONG_KIND');
  slab.close();
});

test('files that are not slabs, and missing files', () => {
  const file = tmpSlabPath('junk.bin');
  fs.writeFileSync(file, Buffer.alloc(64 * 1024, 'this is not an eve slab. '));
  throwsEve(assert, () => eve.open(file), 'EVE_ERR_NOT_A_SLAB');
  assert.equal(fs.readFileSync(file, 'utf8').slice(0, 10), 'this is no', 'left untouched');

  const missing = path.join(path.dirname(file), 'missing.slab');
  throwsEve(assert, () => eve.open(missing, { mustExist: true }), 'EVE_ERR_IO');
  assert.throws(() => eve.open(missing, { readOnly: true }), eve.EveError);
  assert.equal(fs.existsSync(missing), false);
  throwsEve(assert, () => eve.open(path.join(path.dirname(file), 'no', 'such', 'dir.slab')), 'EVE_ERR_IO');
  // Anonymous slabs refuse the read-only flag.
  assert.throws(() => eve.openAnonymous({ readOnly: true }), eve.EveError);
});

test('bad names and indexes are eve errors', () => {
  const slab = eve.open(tmpSlabPath());
  throwsEve(assert, () => slab.map(''), 'EVE_ERR_INVALID_ARGUMENT');
  throwsEve(assert, () => slab.map('x'.repeat(81)), 'EVE_ERR_INVALID_ARGUMENT');
  assert.throws(() => slab.load(123456), eve.EveError);
  const r = slab.read();
  assert.throws(() => r.get(4000, 'k'), eve.EveError);
  r.end();
  slab.close();
});

test('bad argument types: TypeError (RangeError for out-of-range numbers)', () => {
  const file = tmpSlabPath();
  assert.throws(() => eve.open(), TypeError);
  assert.throws(() => eve.open(42), TypeError);
  assert.throws(() => eve.open(file, 'rw'), TypeError);
  assert.throws(() => eve.open(file, { readOnly: 'yes' }), TypeError);
  assert.throws(() => eve.open(file, { readerSlots: '8' }), TypeError);
  assert.throws(() => eve.open(file, { maxSize: '1G' }), TypeError);
  assert.throws(() => eve.open(file, { maxSize: -1 }), RangeError);
  assert.throws(() => eve.open('a\0b'), TypeError);
  assert.throws(() => new eve.Slab(), TypeError);
  assert.throws(() => new eve.Read(), TypeError);
  assert.throws(() => new eve.Iter(), TypeError);

  const slab = eve.open(file);
  const m = slab.map('m');
  const c = slab.root('c');
  assert.throws(() => slab.map(), TypeError);
  assert.throws(() => slab.map(1), TypeError);
  assert.throws(() => slab.root(Buffer.from('c')), TypeError);
  assert.throws(() => slab.load('c'), TypeError);
  assert.throws(() => slab.load(-1), RangeError);
  assert.throws(() => slab.load(1.5), RangeError);
  assert.throws(() => slab.compareExchange(c, 'a', 1n), TypeError);
  assert.throws(() => slab.compareExchange(c, 0n, -1n), RangeError);
  assert.throws(() => slab.compareExchange(c, 0n, 1n << 64n), RangeError);
  assert.throws(() => slab.compareExchange(c, -1, 0), RangeError);
  assert.throws(() => slab.transact(m, 'k=v'), TypeError);
  assert.throws(() => slab.transact(m, [42]), TypeError);
  assert.throws(() => slab.transact(m, [{ put: 1, value: 'x' }]), TypeError);
  assert.throws(() => slab.transact(m, [{ put: 'k' }]), TypeError);
  assert.throws(() => slab.transact(m, [{ nothing: 'k' }]), TypeError);
  assert.throws(() => slab.transact(m, [[]]), TypeError);
  assert.throws(() => slab.transact(m, [['k', 'v', 'extra']]), TypeError);
  assert.throws(() => slab.transact(m, [['k', 5]]), TypeError);
  assert.throws(() => slab.transact('m', [['k', 'v']]), TypeError);
  // A failed argument check commits nothing, even for the valid ops before it.
  assert.throws(() => slab.transact(m, [['ok', 'v'], [{}, 'v']]), TypeError);
  assert.equal(slab.getCopy(m, 'ok'), undefined);

  const r = slab.read();
  assert.throws(() => r.get(m, 42), TypeError);
  assert.throws(() => r.get(m), TypeError);
  assert.throws(() => r.get('m', 'k'), TypeError);
  assert.throws(() => r.getMany(m, 'k'), TypeError);
  assert.throws(() => r.getMany(m, ['k', 1]), TypeError);
  assert.throws(() => r.count('m'), TypeError);
  const it = r.iterate(m);
  assert.throws(() => it.next('5'), TypeError);
  assert.throws(() => it.next(0), RangeError);
  r.end();
  slab.close();
});

test('waitForChange rejects (does not throw) on bad arguments and closed slabs', async () => {
  const slab = eve.open(tmpSlabPath());
  const c = slab.root('c');
  await assert.rejects(slab.waitForChange('c', 0n, 10), TypeError);
  await assert.rejects(slab.waitForChange(c, 'x', 10), TypeError);
  await assert.rejects(slab.waitForChange(c, 0n, '10'), TypeError);
  slab.close();
  await assert.rejects(slab.waitForChange(c, 0n, 10), (err) => {
    assert.ok(err instanceof eve.EveError);
    assert.equal(err.code, 'EVE_ERR_INVALID_ARGUMENT');
    return true;
  });
});
