'use strict';
// The DataScript benchmark queries (q1–q4, qpred1, qpred2) over 20,000 generated people
// (100,000 datoms), run in one process against the `datascript` npm package and against
// eve through its Node binding, on identical data: the people come from the same
// xorshift32 generator as benches/query.rs. Each query runs 30 times to warm up (both
// sides have a JIT or caches to fill), then 31 times; the median is reported. Answers are
// checked to be the same size on both sides.
//
//   npm ci && node query.js     (builds nothing: run examples-node/test.sh once first)
const d = require('datascript');
const path = require('path');
const fs = require('fs');
const os = require('os');

const PEOPLE = 20_000;
const NAMES = ['Ivan', 'Petr', 'Sergei', 'Oleg', 'Yuri', 'Dmitry', 'Fedor', 'Denis'];
const LAST_NAMES = ['Ivanov', 'Petrov', 'Sidorov', 'Kovalev', 'Kuznetsov', 'Voronoi'];

function people() {
  let x = 0x9E3779B9 >>> 0;
  const below = (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
  const out = [];
  for (let i = 0; i < PEOPLE; i++) {
    const name = NAMES[below(8)];
    const last = LAST_NAMES[below(6)];
    const sex = below(2) === 0 ? 'male' : 'female';
    const age = below(100);
    const salary = below(100_000);
    out.push({ name, last, sex, age, salary });
  }
  return out;
}

const QUERIES = [
  ['q1', '[:find ?e :where [?e :name "Ivan"]]'],
  ['q2', '[:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a]]'],
  ['q3', '[:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a] [?e :sex :male]]'],
  ['q4', '[:find ?e ?l ?a :where [?e :name "Ivan"] [?e :last-name ?l] [?e :age ?a] [?e :sex :male]]'],
  ['qpred1', '[:find ?e ?s :where [?e :salary ?s] [(> ?s 50000)]]'],
  ['qpred2', '[:find ?e ?s :in $ ?min_s :where [?e :salary ?s] [(> ?s ?min_s)]]'],
];

function median(run) {
  let size = 0;
  for (let i = 0; i < 30; i++) size = run();
  const times = [];
  for (let i = 0; i < 31; i++) {
    const start = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return [times[times.length >> 1], size];
}

const data = people();

// DataScript: entity maps with keyword values, as its own benchmark builds them.
const dsDb = d.db_with(d.empty_db({}), data.map((p, i) => ({
  ':db/id': -(i + 1), name: p.name, 'last-name': p.last, sex: p.sex, age: p.age, salary: p.salary,
})));

let eve = null;
try {
  eve = require(path.join(__dirname, '..', '..', 'examples-node'));
} catch (e) {
  console.error(`eve's Node binding is not built (${e.message}); run examples-node/test.sh`);
}

const edn = '[' + data.map((p) =>
  `{:name "${p.name}" :last-name "${p.last}" :sex :${p.sex} :age ${p.age} :salary ${p.salary}}`).join('\n') + ']';
const schema = `[
  {:db/ident :name :db/valueType :db.type/string}
  {:db/ident :last-name :db/valueType :db.type/string}
  {:db/ident :sex :db/valueType :db.type/keyword}
  {:db/ident :age :db/valueType :db.type/long}
  {:db/ident :salary :db/valueType :db.type/long}]`;

let slab = null;
let db = null;
let dir = null;
if (eve) {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eve-query-bench-'));
  slab = eve.open(path.join(dir, 'people.eve'));
  db = slab.database('people');
  slab.transactEdn(db, schema);
  slab.transactEdn(db, edn);
}

console.log(`${'query'.padEnd(8)} ${'rows'.padStart(7)} ${'datascript ms'.padStart(14)} ${'eve (Node) ms'.padStart(14)} ${'ratio'.padStart(7)}`);
const only = process.env.EVE_BENCH_ONLY;  // e.g. q2, to profile one query
for (const [label, query] of QUERIES) {
  if (only && only !== label) continue;
  const inputs = query.includes('?min_s') ? [50000] : [];
  // DataScript's JS API names attributes with strings and its :sex values were
  // transacted as strings.
  const dsQuery = query
    .replace(/:(last-name|name|sex|age|salary)\b/g, '"$1"')
    .replace('"sex" :male', '"sex" "male"');
  const [dsMs, dsRows] = median(() => d.q(dsQuery, dsDb, ...inputs).length);
  let eveMs = NaN;
  if (eve) {
    const [ms, rows] = median(() => {
      const read = slab.read();
      try {
        return read.query(db, query, inputs.length ? `[${inputs.join(' ')}]` : undefined).length;
      } finally {
        read.end();
      }
    });
    if (rows !== dsRows) throw new Error(`${label}: eve found ${rows} rows, DataScript ${dsRows}`);
    eveMs = ms;
  }
  console.log(`${label.padEnd(8)} ${String(dsRows).padStart(7)} ${dsMs.toFixed(3).padStart(14)} ${eveMs.toFixed(3).padStart(14)} ${(dsMs / eveMs).toFixed(1).padStart(6)}x`);
}
if (slab) {
  slab.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
