'use strict';
// The Node participant of the cross-runtime test (scripts/cross-runtime.sh), following the
// same protocol as examples-c/cross_runtime.c and the Java CrossRuntime:
//
//   node cross-runtime.js <slab path> <K> <own prefix> <all prefixes, comma-separated>
//
// Puts K keys "prefix/i" -> "prefix value i" into the map "cross", increments the raw root
// "counter" K times with compare-and-swap, waits (without blocking the event loop) until
// the counter reaches K times the number of participants, then checks every participant's
// keys, reading in place.
const eve = require('.');

async function main() {
  const [file, kText, own, prefixes] = process.argv.slice(2);
  if (!prefixes) {
    console.error('usage: node cross-runtime.js <slab> <K> <prefix> <prefixes>');
    process.exit(2);
  }
  const k = Number(kText);
  const all = prefixes.split(',');
  const slab = eve.open(file);
  const map = slab.map('cross');
  const counter = slab.root('counter');
  // Start together: announce this participant, then wait for all of them.
  const ready = slab.root('ready');
  let started = slab.load(ready);
  for (;;) {
    const actual = slab.compareExchange(ready, started, started + 1n);
    if (actual === started) break;
    started = actual;
  }
  started += 1n;
  const startDeadline = Date.now() + 120_000;
  while (started < BigInt(all.length)) {
    if (Date.now() > startDeadline) fail(`only ${started} of ${all.length} participants started`);
    started = await slab.waitForChange(ready, started, 100);
  }
  for (let i = 0; i < k; i++) {
    slab.transact(map, [[`${own}/${i}`, `${own} value ${i}`]]);
    let seen = slab.load(counter);
    for (;;) {
      const actual = slab.compareExchange(counter, seen, seen + 1n);
      if (actual === seen) break;
      seen = actual;
    }
  }

  const total = BigInt(k * all.length);
  let now = slab.load(counter);
  const deadline = Date.now() + 120_000;
  while (now < total) {
    if (Date.now() > deadline) fail(`the counter stayed at ${now} of ${total}`);
    now = await slab.waitForChange(counter, now, 100);
  }
  if (now !== total) fail(`counter ${now}, expected ${total}`);

  let verified = 0;
  const read = slab.read();
  for (const prefix of all) {
    for (let i = 0; i < k; i++) {
      const value = read.get(map, `${prefix}/${i}`); // a view of the slab, not a copy
      if (value === undefined || value.toString() !== `${prefix} value ${i}`) {
        fail(`${prefix}/${i} is wrong or missing`);
      }
      verified++;
    }
  }
  read.end();
  slab.close();
  console.log(`node: counter ${now}, verified ${verified} keys of ${all.length} runtimes in place`);
}

function fail(why) {
  console.error(`node: ${why}`);
  process.exit(1);
}

main().catch((error) => fail(error.stack || String(error)));
