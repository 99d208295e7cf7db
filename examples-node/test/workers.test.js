'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const eve = require('..');
const { tmpSlabPath } = require('../fixtures/helpers');

const WORKERS = 4;
const ITERATIONS = 2000;

test(`${WORKERS} worker threads CAS a counter and put keys concurrently on one slab file`, { timeout: 60000 }, async (t) => {
  const file = tmpSlabPath();
  const slab = eve.open(file);
  const counter = slab.root('counter');
  const kv = slab.map('kv');

  const script = path.join(__dirname, '..', 'fixtures', 'cas-worker.js');
  const results = await Promise.all(
    Array.from({ length: WORKERS }, (_, id) => {
      const worker = new Worker(script, { workerData: { file, id, iterations: ITERATIONS } });
      return new Promise((resolve, reject) => {
        let result;
        worker.on('message', (m) => (result = m));
        worker.on('error', reject);
        worker.on('exit', (code) => (code === 0 ? resolve(result) : reject(new Error(`worker ${id} exited ${code}`))));
      });
    }),
  );
  assert.equal(results.length, WORKERS);

  assert.equal(slab.load(counter), BigInt(WORKERS * ITERATIONS));
  const r = slab.read();
  assert.equal(r.count(kv), WORKERS * ITERATIONS);
  for (let id = 0; id < WORKERS; id++) {
    const keys = Array.from({ length: ITERATIONS }, (_, i) => `w${id}-${i}`);
    const values = r.getMany(kv, keys);
    values.forEach((v, i) => {
      assert.ok(v, `w${id}-${i} missing`);
      assert.equal(v.toString(), `value of ${id}/${i}`);
    });
  }
  r.end();
  assert.equal(slab.stats().liveReaders, 0);
  slab.check();
  slab.close();
  const retries = results.reduce((s, x) => s + x.casRetries + x.txRetries, 0);
  t.diagnostic(`CAS and transaction retries under contention: ${retries}`);
});

test('a worker terminated with a read and a handle open releases both', { timeout: 60000 }, async () => {
  const file = tmpSlabPath();
  const slab = eve.open(file);
  const m = slab.map('m');
  slab.put(m, 'k', 'v');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const eve = require(workerData.module);
    const slab = eve.open(workerData.file);
    const read = slab.read();
    const it = read.iterate(slab.map('m'));
    globalThis.keep = [slab, read, it, read.get(slab.map('m'), 'k')];
    parentPort.postMessage(String(globalThis.keep[3]));
    setInterval(() => {}, 1000);
  `;
  const worker = new Worker(code, { eval: true, workerData: { file, module: path.join(__dirname, '..') } });
  let value;
  let pinned;
  try {
    value = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    pinned = slab.stats().liveReaders;
  } finally {
    await worker.terminate();
  }
  assert.equal(value, 'v');
  assert.equal(pinned, 1, 'the worker\'s thread is pinned');
  assert.equal(slab.stats().liveReaders, 0, 'ended when the worker went away');
  slab.recover(); // needs the slab alone: the worker's handle was closed
  slab.close();
});
