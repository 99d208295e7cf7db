'use strict';
// DataScript (in-memory, single process) loaded like benches/dao.rs loads eve: 1M datoms
// (250k entities with a long, a string, a ref and a keyword each) in transactions of
// 250,000, then single-datom transactions. It keeps no log and shares nothing, so it is a
// reference for the in-memory cost of maintaining the same indexes.
//
//   npm ci && node bench.js        (DATOMS=1000000 by default)
const d = require('datascript');

const DATOMS = Number(process.env.DATOMS || 1_000_000);
const BATCH = 250_000;
const schema = { 'e/ref': { ':db/valueType': ':db.type/ref' }, 'e/kind': {} };

function datom(i) {
  const e = 1000 + Math.floor(i / 4);
  switch (i % 4) {
    case 0: return [':db/add', e, 'e/long', i * 7];
    case 1: return [':db/add', e, 'e/name', `name-${Math.floor(i / 4)}`];
    case 2: return [':db/add', e, 'e/ref', 1000 + Math.floor(((i * 31) % DATOMS) / 4)];
    default: return [':db/add', e, 'e/kind', `:kind/k${i % 17}`];
  }
}

function rate(what, n, unit, seconds) {
  console.log(`${what.padEnd(44)} ${String(Math.round(n / seconds)).padStart(12)} ${unit}/s   (${n} in ${seconds.toFixed(2)} s)`);
}

const conn = d.create_conn(schema);
let start = performance.now();
for (let base = 0; base < DATOMS; base += BATCH) {
  const tx = [];
  for (let i = base; i < Math.min(base + BATCH, DATOMS); i++) tx.push(datom(i));
  d.transact(conn, tx);
}
rate('datascript bulk load (in memory)', DATOMS, 'datoms', (performance.now() - start) / 1000);

const n = 20_000;
start = performance.now();
for (let i = 0; i < n; i++) d.transact(conn, [[':db/add', 5_000_000 + i, 'e/long', i]]);
rate('datascript single-datom transactions', n, 'tx', (performance.now() - start) / 1000);
