'use strict';
// A short tour of eve from Node.js: open a slab file, commit a batch, read it back
// without copying, and wait for another thread's commit without blocking the event loop.
//
//   node example.js [path]      (default: a file in the OS temp directory)
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const eve = require('.');

const file = process.argv[2] || path.join(os.tmpdir(), 'eve-node-example.slab');
const slab = eve.open(file); // created if missing; any number of processes may open it
const users = slab.map('users'); // a map, by name: the same index in every process

// One atomic batch: readers see all of it or none of it.
const commit = slab.transact(users, [
  { remove: 'barbara' }, // (so that the worker below changes something on every run)
  { put: 'ada', value: 'Ada Lovelace' },
  { put: 'alan', value: 'Alan Turing' },
  ['grace', 'Grace Hopper'], // the compact form of a put
  { remove: 'nobody' },
]);
console.log(`committed: changed=${commit.changed}, retries=${commit.retries}`);

// A read pins a snapshot. Values are Buffers over the slab itself (no copy), valid until
// the read ends, when they are detached (length 0): copy what you keep.
const read = slab.read();
for (const name of ['ada', 'alan', 'edsger']) {
  const value = read.get(users, name);
  console.log(`${name.padEnd(6)} -> ${value === undefined ? '(absent)' : value.toString()}`);
}
const [a, g] = read.getMany(users, ['ada', 'grace']); // many keys, one native call
console.log(`getMany: ${a}, ${g}`);
for (const [key, value] of read.entries(users)) console.log(`  entry ${key} = ${value}`);
const kept = Buffer.from(a); // a copy outlives the read
read.end();
console.log(`after end: the view has ${a.length} bytes, the copy says "${kept}"`);

// Wait for a change made elsewhere (here a worker thread; another process works the same).
// The wait runs on the libuv threadpool, so the timer below keeps ticking.
const seen = slab.load(users);
const worker = new Worker(
  `const eve = require(${JSON.stringify(__dirname)});
   const { workerData } = require('node:worker_threads');
   const slab = eve.open(workerData);
   setTimeout(() => { slab.put(slab.map('users'), 'barbara', 'Barbara Liskov'); slab.close(); }, 200);`,
  { eval: true, workerData: file },
);
const exited = new Promise((resolve) => worker.once('exit', resolve));
let ticks = 0;
const timer = setInterval(() => ticks++, 20);
slab.waitForChange(users, seen, 5000).then(async (now) => {
  clearInterval(timer);
  await exited;
  console.log(`users changed (${seen} -> ${now}) while the event loop ticked ${ticks} times`);
  console.log(`barbara -> ${slab.getCopy(users, 'barbara')}`);
  slab.close();
});
