'use strict';
// The cost of one lookup from Node.js, on the data set of examples-c/bench_lookup.c and the
// Rust benchmarks: 1M random 8-byte keys (xorshift64 from 0x2545F4914F6CDD1D, little-endian)
// with 150-byte values; random gets in reads of 1000, one read.get() per key, and the same
// through read.getMany() in batches of 1000 (one read per batch). Both hand out zero-copy
// Buffers; for comparison, read.getInto() copies each value into one reused Buffer instead.
//
//   node bench.js [path]        (default: a file in the OS temp directory; removed afterwards)
//   ROUNDS=5 LOOKUPS=1000000 node bench.js
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const eve = require('.');

const KEYS = 1_000_000;
const VALUE_LEN = 150;
const BATCH = 1000;
const ROUNDS = Number(process.env.ROUNDS || 5);
const LOOKUPS = Number(process.env.LOOKUPS || 1_000_000); // per round and per method
const LOAD_BATCH = 20_000;

// xorshift64 on a 64-bit state held as two unsigned 32-bit halves (no BigInt in the loop).
class XorShift64 {
  constructor(seed) {
    this.hi = Number(seed >> 32n) >>> 0;
    this.lo = Number(seed & 0xffffffffn) >>> 0;
  }
  next() {
    let { hi, lo } = this;
    // x ^= x << 13
    hi = (hi ^ ((hi << 13) | (lo >>> 19))) >>> 0;
    lo = (lo ^ (lo << 13)) >>> 0;
    // x ^= x >> 7
    lo = (lo ^ ((lo >>> 7) | (hi << 25))) >>> 0;
    hi = (hi ^ (hi >>> 7)) >>> 0;
    // x ^= x << 17
    hi = (hi ^ ((hi << 17) | (lo >>> 15))) >>> 0;
    lo = (lo ^ (lo << 17)) >>> 0;
    this.hi = hi;
    this.lo = lo;
  }
  /** The state modulo n (n < 2^20 keeps every product exact). */
  mod(n) {
    return ((this.hi % n) * (2 ** 32 % n) + (this.lo % n)) % n;
  }
}

function checkXorShift() {
  // The same sequence as the BigInt definition.
  const mask = (1n << 64n) - 1n;
  let x = 0x2545f4914f6cdd1dn;
  const fast = new XorShift64(x);
  for (let i = 0; i < 1000; i++) {
    x ^= (x << 13n) & mask;
    x ^= x >> 7n;
    x ^= (x << 17n) & mask;
    fast.next();
    if (BigInt(fast.hi) * 2n ** 32n + BigInt(fast.lo) !== x || fast.mod(KEYS) !== Number(x % BigInt(KEYS)))
      throw new Error('xorshift mismatch');
  }
}

function stats(ns) {
  const s = [...ns].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], best: s[0], worst: s[s.length - 1] };
}

function report(what, ns) {
  const { median, best, worst } = stats(ns);
  console.log(
    `${what.padEnd(40)} median ${median.toFixed(1).padStart(6)} ns/lookup   ` +
      `(best ${best.toFixed(1)}, worst ${worst.toFixed(1)}, ${ns.length} rounds of ${LOOKUPS})`,
  );
}

async function main() {
  checkXorShift();
  const file = process.argv[2] || path.join(os.tmpdir(), `eve-node-bench-${process.pid}.slab`);
  fs.rmSync(file, { force: true });
  const slab = eve.open(file);
  const map = slab.map('bench');

  // Keys: little-endian bytes of the xorshift sequence, contiguous like the C benchmark's
  // array; each lookup passes an 8-byte view of it (a short-lived Buffer, as an application
  // deriving its keys would).
  const keyBytes = Buffer.alloc(KEYS * 8);
  const rng = new XorShift64(0x2545f4914f6cdd1dn);
  for (let i = 0; i < KEYS; i++) {
    rng.next();
    keyBytes.writeUInt32LE(rng.lo, i * 8);
    keyBytes.writeUInt32LE(rng.hi, i * 8 + 4);
  }
  const key = (i) => keyBytes.subarray(i * 8, i * 8 + 8);

  let start = performance.now();
  for (let base = 0; base < KEYS; base += LOAD_BATCH) {
    const ops = new Array(LOAD_BATCH);
    for (let i = 0; i < LOAD_BATCH; i++) {
      const value = Buffer.alloc(VALUE_LEN); // zeros, the key in the first 8 bytes
      keyBytes.copy(value, 0, (base + i) * 8, (base + i) * 8 + 8);
      ops[i] = [key(base + i), value];
    }
    slab.transact(map, ops);
  }
  const loadMs = performance.now() - start;
  console.log(
    `eve ${eve.version()} from Node ${process.version}: loaded ${KEYS} keys (${VALUE_LEN}-byte values) ` +
      `in ${(loadMs / 1000).toFixed(2)} s, ${(slab.stats().fileLen / 2 ** 20).toFixed(0)} MiB file`,
  );

  const pick = new XorShift64(7n); // the C benchmark's lookup sequence
  const single = [];
  const many = [];
  const into = [];
  const target = Buffer.alloc(4096);
  let total = 0;
  const batchKeys = new Array(BATCH);
  // Node frees what an external Buffer needs (a cleanup hook, a weak handle) from the event
  // loop, so each timed run starts after a turn of the loop, as a server's requests would.
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  for (let round = 0; round < ROUNDS; round++) {
    await turn();
    start = performance.now();
    for (let done = 0; done < LOOKUPS; done += BATCH) {
      const read = slab.read();
      for (let i = 0; i < BATCH; i++) {
        pick.next();
        total += read.get(map, key(pick.mod(KEYS))).length;
      }
      read.end();
    }
    single.push(((performance.now() - start) * 1e6) / LOOKUPS);
    await turn();

    start = performance.now();
    for (let done = 0; done < LOOKUPS; done += BATCH) {
      for (let i = 0; i < BATCH; i++) {
        pick.next();
        batchKeys[i] = key(pick.mod(KEYS));
      }
      const read = slab.read();
      const values = read.getMany(map, batchKeys);
      for (let i = 0; i < BATCH; i++) total += values[i].length;
      read.end();
    }
    many.push(((performance.now() - start) * 1e6) / LOOKUPS);
    await turn();

    start = performance.now();
    for (let done = 0; done < LOOKUPS; done += BATCH) {
      const read = slab.read();
      for (let i = 0; i < BATCH; i++) {
        pick.next();
        total += read.getInto(map, key(pick.mod(KEYS)), target);
      }
      read.end();
    }
    into.push(((performance.now() - start) * 1e6) / LOOKUPS);
  }
  if (total !== ROUNDS * 3 * LOOKUPS * VALUE_LEN) throw new Error('some lookups found nothing');
  report('read.get (Node, reads of 1000)', single);
  report('read.getMany (Node, batches of 1000)', many);
  report('read.getInto (Node, copy, reads of 1000)', into);
  slab.close();
  fs.rmSync(file, { force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
