'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const eve = require('..');
const { tmpSlabPath, throwsEve } = require('../fixtures/helpers');

const committer = path.join(__dirname, '..', 'fixtures', 'commit-later.js');

/** Counts setInterval ticks while `promise` is pending. */
async function ticksWhile(promise, everyMs = 10) {
  let ticks = 0;
  const timer = setInterval(() => ticks++, everyMs);
  try {
    const value = await promise;
    return { value, ticks };
  } finally {
    clearInterval(timer);
  }
}

test('waitForChange times out with the value it was given, without blocking the loop', { timeout: 60000 }, async () => {
  const slab = eve.open(tmpSlabPath());
  const c = slab.root('c');
  const m = slab.map('m');
  const start = performance.now();
  const { value, ticks } = await ticksWhile(slab.waitForChange(c, 0n, 300));
  const elapsed = performance.now() - start;
  assert.equal(value, 0n, 'timeout: resolves with seen');
  assert.ok(elapsed >= 280, `waited ${elapsed} ms`);
  assert.ok(elapsed < 5000, `waited ${elapsed} ms`);
  assert.ok(ticks >= 10, `the event loop ticked only ${ticks} times`);

  // Also on a map root, and with a 0 timeout.
  const root = slab.load(m);
  assert.equal(await slab.waitForChange(m, root, 50), root);
  assert.equal(await slab.waitForChange(c, 0n, 0), 0n);
  // A value other than the current one returns at once.
  assert.equal(await slab.waitForChange(c, 42n, 10000), 0n);
  slab.close();
});

test('waitForChange resolves when a worker thread commits to a map', { timeout: 60000 }, async () => {
  const file = tmpSlabPath();
  const slab = eve.open(file);
  const m = slab.map('events');
  const seen = slab.load(m);
  const wait = slab.waitForChange(m, seen, 20000);
  const worker = new Worker(committer, { workerData: { file, kind: 'map', name: 'events', delayMs: 300 } });
  const posted = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const start = performance.now();
  const { value, ticks } = await ticksWhile(wait);
  const elapsed = performance.now() - start;
  assert.notEqual(value, seen);
  assert.equal(value, slab.load(m));
  assert.equal(value.toString(), await posted);
  assert.ok(elapsed < 15000, `took ${elapsed} ms`);
  assert.ok(ticks >= 5, `the event loop ticked only ${ticks} times while waiting`);
  assert.equal(slab.getCopy(m, 'from-elsewhere').toString().startsWith('pid '), true);
  slab.close();
});

test('waitForChange resolves when another process CASes a raw root', { timeout: 60000 }, async () => {
  const file = tmpSlabPath();
  const slab = eve.open(file);
  const c = slab.root('ticks');
  slab.compareExchange(c, 0n, 10n);
  const wait = slab.waitForChange(c, 10n, 20000);
  const child = spawn(process.execPath, [committer, file, 'raw', 'ticks', '300'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const { value, ticks } = await ticksWhile(wait);
  assert.equal(value, 11n);
  assert.ok(ticks >= 5, `the event loop ticked only ${ticks} times while waiting`);
  assert.equal(await exited, 0);
  assert.equal(out.trim(), '11');
  slab.close();
});

test('close while a wait is pending: EVE_ERR_BUSY; several waits at once', { timeout: 60000 }, async () => {
  const slab = eve.open(tmpSlabPath());
  const a = slab.root('a');
  const b = slab.root('b');
  const waits = [slab.waitForChange(a, 0n, 400), slab.waitForChange(b, 0n, 5000)];
  await new Promise((resolve) => setTimeout(resolve, 50));
  throwsEve(assert, () => slab.close(), 'EVE_ERR_BUSY');
  slab.compareExchange(b, 0n, 7n); // wakes the second wait
  assert.deepEqual(await Promise.all(waits), [0n, 7n]);
  slab.close();
});
