'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const eve = require('..');
const { tmpSlabPath, throwsEve } = require('../fixtures/helpers');

test('version and status names', () => {
  assert.match(eve.version(), /^\d+\.\d+\.\d+/);
  assert.equal(eve.statusName(8), 'EVE_ERR_BUSY');
  assert.equal(eve.statusName(0), 'EVE_OK');
  assert.equal(eve.statusName(999), 'EVE_UNKNOWN_STATUS');
  for (const [name, value] of Object.entries(eve.Status)) assert.equal(eve.statusName(value), name);
});

test('open creates a file; transact and read back', () => {
  const file = tmpSlabPath();
  const slab = eve.open(file);
  assert.ok(fs.existsSync(file));
  assert.equal(slab.closed, false);
  assert.equal(slab.isReadOnly(), false);
  const users = slab.map('users');
  assert.equal(typeof users, 'number');
  assert.equal(slab.map('users'), users, 'same name, same index');

  const commit = slab.transact(users, [
    { put: 'ada', value: 'Ada Lovelace' },
    { put: Buffer.from('alan'), value: Buffer.from('Alan Turing') },
    { remove: 'grace' },
  ]);
  assert.equal(typeof commit.root, 'bigint');
  assert.ok(commit.root > 0n);
  assert.equal(commit.changed, true);
  assert.equal(commit.retries, 0);
  assert.equal(slab.load(users), commit.root, 'a map root holds its current version');

  const read = slab.read();
  assert.equal(read.get(users, 'ada').toString(), 'Ada Lovelace');
  assert.equal(read.get(users, 'alan').toString(), 'Alan Turing');
  assert.equal(read.get(users, 'grace'), undefined);
  assert.equal(read.count(users), 2);
  assert.ok(Buffer.isBuffer(read.get(users, 'ada')));
  assert.equal(read.ended, false);
  read.end();
  assert.equal(read.ended, true);
  read.end(); // twice is harmless

  // Nothing to change: no publication.
  const again = slab.transact(users, [{ remove: 'nobody' }]);
  assert.equal(again.changed, false);
  assert.equal(again.root, commit.root);
  assert.equal(slab.transact(users, []).changed, false);

  slab.close();
  assert.equal(slab.closed, true);

  // Reopen: the data is in the file.
  const reopened = eve.open(file, { mustExist: true });
  assert.equal(reopened.getCopy(reopened.map('users'), 'ada').toString(), 'Ada Lovelace');
  reopened.close();
});

test('transact: compact forms, key and value types, later ops win', () => {
  const slab = eve.open(tmpSlabPath());
  const m = slab.map('m');
  const bytes = new Uint8Array([0, 1, 2, 0, 255]);
  slab.transact(m, [
    ['a', '1'],
    ['b', '2'],
    ['c', '3'],
    ['b'], // compact remove
    ['c', null], // compact remove
    [bytes, new Uint16Array([0x4241, 0x4443])], // binary key, typed-array value
    [new ArrayBuffer(3), 'zeros'],
    [new DataView(Buffer.from('dv').buffer, 0, 0), 'the empty key'],
    ['empty', ''],
    ['utf8', 'héllo ✓'],
    ['x', 'first'],
    { put: 'x', value: 'second' },
  ]);
  slab.withRead((r) => {
    assert.equal(r.get(m, 'a').toString(), '1');
    assert.equal(r.get(m, 'b'), undefined);
    assert.equal(r.get(m, 'c'), undefined);
    assert.equal(r.get(m, Buffer.from(bytes)).toString('latin1'), 'ABCD');
    assert.equal(r.get(m, Buffer.alloc(3)).toString(), 'zeros');
    assert.equal(r.get(m, '').toString(), 'the empty key');
    const empty = r.get(m, 'empty');
    assert.ok(Buffer.isBuffer(empty), 'an empty value is present, not undefined');
    assert.equal(empty.length, 0);
    assert.equal(r.get(m, 'utf8').toString('utf8'), 'héllo ✓');
    assert.equal(r.get(m, 'x').toString(), 'second');
  });

  // put / remove helpers and a large value.
  const big = Buffer.alloc(1 << 20, 7);
  slab.put(m, 'big', big);
  slab.remove(m, 'a');
  slab.withRead((r) => {
    assert.ok(r.get(m, 'big').equals(big));
    assert.equal(r.get(m, 'a'), undefined);
  });
  assert.equal(slab.check() > 0, true);
  slab.close();
});

test('getMany returns values in key order, undefined when absent', () => {
  const slab = eve.open(tmpSlabPath());
  const m = slab.map('m');
  const ops = [];
  for (let i = 0; i < 500; i++) ops.push([`k${i}`, `v${i}`]);
  slab.transact(m, ops);
  const keys = [];
  for (let i = 0; i < 600; i += 3) keys.push(i % 2 ? Buffer.from(`k${i}`) : `k${i}`);
  const r = slab.read();
  const values = r.getMany(m, keys);
  assert.equal(values.length, keys.length);
  keys.forEach((k, j) => {
    const i = Number(String(k).slice(1));
    if (i < 500) assert.equal(values[j].toString(), `v${i}`);
    else assert.equal(values[j], undefined);
  });
  assert.deepEqual(r.getMany(m, []), []);
  r.end();
  slab.close();
});

test('raw roots: root, load, compareExchange, findRoot', () => {
  const slab = eve.open(tmpSlabPath());
  const counter = slab.root('counter');
  assert.equal(slab.root('counter'), counter);
  assert.equal(slab.load(counter), 0n);
  assert.equal(slab.compareExchange(counter, 0n, 5n), 0n, 'swapped: returns the old value');
  assert.equal(slab.load(counter), 5n);
  assert.equal(slab.compareExchange(counter, 0n, 9n), 5n, 'not swapped: returns the current value');
  assert.equal(slab.load(counter), 5n);
  assert.equal(slab.compareExchange(counter, 5, 6), 5n, 'numbers are accepted');
  const max = (1n << 64n) - 1n;
  assert.equal(slab.compareExchange(counter, 6n, max), 6n);
  assert.equal(slab.load(counter), max);

  const users = slab.map('users');
  assert.deepEqual(slab.findRoot('counter'), { index: counter, kind: 'raw' });
  assert.deepEqual(slab.findRoot('users'), { index: users, kind: 'map' });
  assert.equal(slab.findRoot('missing'), undefined);
  slab.close();
});

test('a created file is its owner\'s alone unless options.mode asks otherwise', () => {
  const owned = tmpSlabPath();
  eve.open(owned).close();
  assert.equal(fs.statSync(owned).mode & 0o777, 0o600);
  // 0o644 passes a umask of 0o022 or 0o002 unchanged.
  const shared = tmpSlabPath();
  eve.open(shared, { mode: 0o644 }).close();
  assert.equal(fs.statSync(shared).mode & 0o777, 0o644);
  assert.throws(() => eve.open(tmpSlabPath(), { mode: 0o4755 }), RangeError);
  assert.throws(() => eve.open(tmpSlabPath(), { mode: '644' }), TypeError);
});

test('open options, stats, reclaim, recover, check', () => {
  const file = tmpSlabPath();
  const slab = eve.open(file, { readerSlots: 64, maxSize: 64 * 1024 * 1024 });
  const s = slab.stats();
  for (const key of [
    'fileLen', 'heapBytes', 'bytesInUse', 'blocksInUse', 'freeBytes', 'liveReaders',
    'oldestPinnedEpoch', 'globalEpoch', 'retiredBlocks', 'readerSlots', 'roots', 'sweeps', 'maxSize',
    'rolledBackRoots',
  ]) {
    assert.equal(typeof s[key], 'number', key);
  }
  assert.equal(s.readerSlots, 64);
  assert.equal(s.maxSize, 64 * 1024 * 1024);

  const m = slab.map('m');
  for (let i = 0; i < 20; i++) slab.put(m, 'k', `v${i}`);
  const r = slab.read();
  r.get(m, 'k');
  assert.equal(slab.stats().liveReaders, 1);
  throwsEve(assert, () => slab.recover(), 'EVE_ERR_BUSY');
  r.end();
  assert.equal(slab.stats().liveReaders, 0);

  const rec = slab.reclaim();
  assert.equal(typeof rec.freedBlocks, 'number');
  assert.equal(typeof rec.keptBlocks, 'number');
  assert.equal(slab.stats().retiredBlocks, 0);

  // recover needs the slab alone.
  const other = eve.open(file);
  throwsEve(assert, () => slab.recover(), 'EVE_ERR_BUSY');
  other.close();
  const sweep = slab.recover();
  assert.ok(sweep.liveBlocks > 0);
  assert.ok(sweep.liveBytes > 0);
  assert.equal(typeof sweep.freedBlocks, 'number');
  assert.equal(typeof sweep.freedBytes, 'number');
  assert.equal(slab.check(), sweep.liveBlocks);
  assert.equal(slab.stats().maxSize, 64 * 1024 * 1024);
  slab.close();

  // maxSize as a BigInt.
  const again = eve.open(file, { maxSize: 32n * 1024n * 1024n });
  assert.equal(again.stats().maxSize, 32 * 1024 * 1024);
  again.close();
});

test('read-only handles read the same data', () => {
  const file = tmpSlabPath();
  const rw = eve.open(file);
  const m = rw.map('m');
  rw.put(m, 'k', 'v');
  const ro = eve.open(file, { readOnly: true });
  assert.equal(ro.isReadOnly(), true);
  assert.equal(ro.map('m'), m);
  assert.equal(ro.getCopy(m, 'k').toString(), 'v');
  rw.put(m, 'k', 'v2');
  assert.equal(ro.getCopy(m, 'k').toString(), 'v2', 'sees other handles\' commits');
  ro.close();
  rw.close();
});

test('anonymous slabs', () => {
  const slab = eve.openAnonymous({ readerSlots: 16 });
  const m = slab.map('m');
  slab.put(m, 'k', 'v');
  assert.equal(slab.getCopy(m, 'k').toString(), 'v');
  assert.equal(slab.stats().readerSlots, 16);
  slab.close();
  const plain = eve.openAnonymous();
  plain.close();
});

test('withRead ends the read when the callback throws; Symbol.dispose', () => {
  const slab = eve.open(tmpSlabPath());
  const m = slab.map('m');
  slab.put(m, 'k', 'v');
  let kept;
  assert.throws(
    () =>
      slab.withRead((r) => {
        kept = r;
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.equal(kept.ended, true);
  assert.equal(slab.stats().liveReaders, 0);

  const r = slab.read();
  r[Symbol.dispose]();
  assert.equal(r.ended, true);
  slab[Symbol.dispose]();
  assert.equal(slab.closed, true);
  slab[Symbol.dispose](); // already closed: nothing
});

test('getInto and getCopy copy values out', () => {
  const slab = eve.open(tmpSlabPath());
  const m = slab.map('m');
  const big = Buffer.alloc(10000, 'x');
  slab.transact(m, [['k', 'hello'], ['empty', ''], ['big', big]]);
  const r = slab.read();
  const target = Buffer.alloc(16, '.');
  assert.equal(r.getInto(m, 'k', target), 5);
  assert.equal(target.toString(), 'hello...........');
  assert.equal(r.getInto(m, 'k', target, 10), 5);
  assert.equal(target.toString(), 'hello.....hello.');
  assert.equal(r.getInto(m, 'k', target, 12), 5, 'too little room: the length, nothing copied');
  assert.equal(target.toString(), 'hello.....hello.');
  assert.equal(r.getInto(m, 'k', target, 16), 5);
  assert.equal(r.getInto(m, 'missing', target), undefined);
  assert.equal(r.getInto(m, 'empty', target), 0);
  const u32 = new Uint32Array(2);
  assert.equal(r.getInto(m, 'k', u32), 5);
  assert.equal(Buffer.from(u32.buffer).subarray(0, 5).toString(), 'hello');
  assert.equal(r.getInto(m, 'k', new ArrayBuffer(8)), 5);
  assert.throws(() => r.getInto(m, 'k', 'not a buffer'), TypeError);
  assert.throws(() => r.getInto(m, 'k', target, 17), RangeError);
  assert.throws(() => r.getInto(m, 'k', target, -1), RangeError);

  const copy = r.getCopy(m, 'k');
  const bigCopy = r.getCopy(m, 'big');
  assert.equal(r.getCopy(m, 'missing'), undefined);
  assert.equal(r.getCopy(m, 'empty').length, 0);
  r.end();
  assert.equal(copy.toString(), 'hello', 'copies outlive the read');
  assert.ok(bigCopy.equals(big));
  assert.equal(slab.getCopy(m, 'big').length, 10000);
  slab.close();
});
