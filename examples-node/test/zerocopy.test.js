'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const eve = require('..');
const { tmpSlabPath } = require('../fixtures/helpers');

function filled(n) {
  const slab = eve.open(tmpSlabPath());
  const m = slab.map('m');
  const ops = [];
  for (let i = 0; i < n; i++) ops.push([`key-${i}`, `value-${i}`.repeat(3)]);
  if (n) slab.transact(m, ops);
  return { slab, m };
}

test('lookups do not copy: the same key gives the same address, in get and getMany', () => {
  const { slab, m } = filled(100);
  const r = slab.read();
  const a = r.get(m, 'key-7');
  const b = r.get(m, Buffer.from('key-7'));
  const [c] = r.getMany(m, ['key-7']);
  assert.notEqual(a, b, 'two Buffer objects');
  assert.equal(eve.bufferAddress(a), eve.bufferAddress(b), 'over the same bytes');
  assert.equal(eve.bufferAddress(a), eve.bufferAddress(c));
  assert.notEqual(eve.bufferAddress(a), eve.bufferAddress(r.get(m, 'key-8')));
  // An iterator hands out the same bytes too.
  for (const [k, v] of r.entries(m)) {
    if (k.toString() === 'key-7') assert.equal(eve.bufferAddress(v), eve.bufferAddress(a));
  }
  const copy = Buffer.from(a);
  assert.notEqual(eve.bufferAddress(copy), eve.bufferAddress(a));
  r.end();
  slab.close();
});

test('Buffers are detached (empty) once their read ends; copies survive', () => {
  const { slab, m } = filled(10);
  const r = slab.read();
  const v = r.get(m, 'key-1');
  const many = r.getMany(m, ['key-2', 'key-3', 'nope']);
  const entries = [...r.entries(m)];
  const copy = Buffer.from(v);
  assert.equal(v.toString(), 'value-1'.repeat(3));
  assert.equal(entries.length, 10);
  assert.equal(entries[0][0].length > 0, true, 'entries stay valid after the generator finished');
  r.end();
  for (const buf of [v, many[0], many[1], ...entries.flat()]) {
    assert.equal(buf.length, 0, 'detached: a view of nothing');
    assert.equal(buf.byteLength, 0);
    assert.equal(buf.buffer.byteLength, 0);
    assert.equal(buf.toString(), '');
    assert.equal(buf[0], undefined);
  }
  assert.equal(many[2], undefined);
  assert.equal(copy.toString(), 'value-1'.repeat(3));
  slab.close();
});

test('closing an iterator detaches only its own Buffers', () => {
  const { slab, m } = filled(5);
  const r = slab.read();
  const got = r.get(m, 'key-0');
  const it = r.iterate(m);
  const batch = it.next(2);
  assert.equal(batch.length, 2);
  assert.ok(batch[0][1].length > 0);
  it.close();
  assert.equal(it.closed, true);
  it.close(); // twice is harmless
  assert.equal(batch[0][1].length, 0);
  assert.equal(batch[1][0].length, 0);
  assert.equal(got.toString(), 'value-0'.repeat(3), 'the read\'s own Buffers are still valid');
  r.end();
  slab.close();
});

test('a Read that is garbage collected unended is ended, and its Buffers detached', () => {
  // Needs --expose-gc, so it runs in a child process.
  const script = `
    const eve = require(${JSON.stringify(path.join(__dirname, '..'))});
    const slab = eve.openAnonymous();
    const m = slab.map('m');
    slab.put(m, 'k', 'v');
    let kept;
    (function () { const r = slab.read(); kept = r.get(m, 'k'); })();
    if (slab.stats().liveReaders !== 1) throw new Error('read not open');
    (async () => {
      for (let i = 0; i < 20 && slab.stats().liveReaders !== 0; i++) {
        globalThis.gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (slab.stats().liveReaders !== 0) throw new Error('read not ended by GC');
      if (kept.length !== 0) throw new Error('buffer not detached');
      slab.close();
      console.log('ok');
    })();
  `;
  const res = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.stdout.trim(), 'ok');
});

test('snapshot: a commit after the first lookup is not seen by that read', () => {
  const { slab, m } = filled(0);
  slab.transact(m, [['k', 'v1'], ['other', 'o1']]);
  const r = slab.read();
  const first = r.get(m, 'k');
  assert.equal(first.toString(), 'v1');
  assert.equal(r.count(m), 2);

  slab.transact(m, [['k', 'v2'], ['new', 'n'], ['other']]);

  assert.equal(r.get(m, 'k').toString(), 'v1', 'still the version of the first lookup');
  assert.equal(r.get(m, 'new'), undefined);
  assert.equal(r.get(m, 'other').toString(), 'o1');
  assert.equal(r.count(m), 2);
  assert.deepEqual(
    [...r.entries(m)].map(([k, v]) => `${k}=${v}`).sort(),
    ['k=v1', 'other=o1'],
  );
  assert.equal(first.toString(), 'v1', 'old values stay valid while the read is open');
  slab.reclaim(); // may not free what this read can reach
  assert.equal(first.toString(), 'v1');

  const fresh = slab.read();
  assert.equal(fresh.get(m, 'k').toString(), 'v2');
  assert.equal(fresh.get(m, 'new').toString(), 'n');
  assert.equal(fresh.get(m, 'other'), undefined);
  assert.equal(fresh.count(m), 2);
  fresh.end();
  r.end();
  slab.close();
});

test('iteration sees every entry exactly once, in any batch size', () => {
  const n = 5000;
  const { slab, m } = filled(n);
  const r = slab.read();
  assert.equal(r.count(m), n);
  for (const batchSize of [1, 7, 256, 10000]) {
    const seen = new Map();
    for (const [k, v] of r.entries(m, { batchSize })) {
      const key = k.toString();
      assert.equal(seen.has(key), false, `duplicate ${key}`);
      seen.set(key, v.toString());
    }
    assert.equal(seen.size, n);
    for (let i = 0; i < n; i += 97) assert.equal(seen.get(`key-${i}`), `value-${i}`.repeat(3));
  }
  // The low-level iterator: batches, then [] when exhausted.
  const it = r.iterate(m);
  let total = 0;
  for (let batch = it.next(1000); batch.length; batch = it.next(1000)) {
    assert.ok(batch.length <= 1000);
    total += batch.length;
  }
  assert.equal(total, n);
  assert.deepEqual(it.next(), []);
  it.close();
  // An empty map.
  const empty = slab.map('empty');
  assert.deepEqual([...r.entries(empty)], []);
  r.end();
  slab.close();
});
