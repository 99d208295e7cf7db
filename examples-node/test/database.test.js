'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const eve = require('..');
const { tmpSlabPath, throwsEve } = require('../fixtures/helpers');

const SCHEMA = `[{:db/ident :person/email :db/valueType :db.type/string :db/unique :db.unique/identity}
 {:db/ident :person/name :db/valueType :db.type/string}
 {:db/ident :person/age :db/valueType :db.type/long}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]`;

const dbWorker = path.join(__dirname, '..', 'fixtures', 'db-worker.js');

/** A slab file with the database 'people' and its schema. */
function setup(file = tmpSlabPath()) {
  const slab = eve.open(file);
  const db = slab.database('people');
  const schema = slab.transactEdn(db, SCHEMA);
  assert.equal(schema.t, 1);
  assert.ok(schema.datoms > 0);
  return { file, slab, db };
}

/** The values of the datoms, in order. */
const values = (datoms) => datoms.map((d) => d.value);

/** Runs a worker_thread on db-worker.js; resolves with its last message once it exits cleanly. */
function runWorker(workerData) {
  const worker = new Worker(dbWorker, { workerData });
  return new Promise((resolve, reject) => {
    let result;
    worker.on('message', (m) => (result = m));
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? resolve(result) : reject(new Error(`worker exited ${code}`))));
  });
}

/** Counts setInterval ticks while `promise` is pending. */
async function ticksWhile(promise, everyMs = 10) {
  let ticks = 0;
  const timer = setInterval(() => ticks++, everyMs);
  try {
    return { value: await promise, ticks };
  } finally {
    clearInterval(timer);
  }
}

test('database: the same index by name; basisT follows transactions; findRoot sees a database', () => {
  const { slab, db } = setup();
  assert.equal(typeof db, 'number');
  assert.equal(slab.database('people'), db);
  assert.deepEqual(slab.findRoot('people'), { index: db, kind: 'database' });
  assert.equal(slab.basisT(db), 1);
  const other = slab.database('other');
  assert.notEqual(other, db);
  assert.equal(slab.basisT(other), 0, 'a new database has no transaction');
  slab.close();
});

test('tempids, upsert through :db.unique/identity, cardinality one in current/asOf/since/history', () => {
  const { slab, db } = setup();
  const first = slab.transactEdn(
    db,
    '[{:db/id "ada" :person/email "ada@x" :person/name "Ada" :person/age 36} {:db/id -1 :person/name "Alan"}]',
  );
  assert.equal(first.t, 2);
  assert.equal(first.datoms, 4);
  assert.equal(first.retries, 0);
  assert.deepEqual(Object.keys(first.tempids).sort(), ['-1', 'ada']);
  const ada = first.tempids.ada;
  assert.equal(typeof ada, 'number');
  assert.ok(ada >= 16 && Number.isSafeInteger(ada), `entity id ${ada}`);
  assert.notEqual(first.tempids['-1'], ada);

  // A new tempid carrying Ada's unique email upserts to Ada; her name is replaced.
  const second = slab.transactEdn(db, '[{:db/id "again" :person/email "ada@x" :person/name "Countess"}]');
  assert.equal(second.t, 3);
  assert.equal(second.tempids.again, ada);
  assert.equal(second.datoms, 2, 'one retraction and one assertion');
  // Asserting what is already true writes nothing, and a tempid still resolves.
  const noop = slab.transactEdn(db, '[[:db/add "x" :person/email "ada@x"]]');
  assert.equal(noop.tempids.x, ada);
  assert.equal(noop.datoms, 0);

  const read = slab.read();
  const name = read.ident(db, ':person/name');
  assert.equal(typeof name, 'number');
  assert.equal(read.ident(db, 'person/name'), name, 'the colon is optional');
  assert.equal(read.ident(db, ':person/shoe-size'), undefined);
  const nameOf = [ada, ':person/name'];

  const current = read.datoms(db, 'eavt', 'current', { components: nameOf });
  assert.deepEqual(current, [{ e: ada, a: name, t: 3, m: 1, type: 'string', value: 'Countess' }]);
  assert.deepEqual(values(read.datoms(db, 'eavt', 'asOf', { t: first.t, components: nameOf })), ['Ada']);
  assert.deepEqual(values(read.datoms(db, 'eavt', 'asOf', { t: 1, components: nameOf })), []);
  assert.deepEqual(values(read.datoms(db, 'eavt', 'since', { t: first.t, components: nameOf })), ['Countess']);
  assert.deepEqual(values(read.datoms(db, 'eavt', 'since', { t: 3n, components: nameOf })), []);
  const history = read
    .datoms(db, 'eavt', 'history', { components: `[${ada} :person/name]` })
    .map(({ value, t, m }) => [value, t, m])
    .sort((x, y) => x[0].localeCompare(y[0]) || x[1] - y[1]);
  assert.deepEqual(history, [
    ['Ada', 2, 1],
    ['Ada', 3, 0],
    ['Countess', 3, 1],
  ]);

  // All of Ada, EAVT order: email, name, age by attribute id.
  const all = read.datoms(db, 'eavt', 'current', { components: [ada] });
  assert.equal(all.length, 3);
  assert.ok(all.every((d) => d.e === ada && d.m === 1));
  assert.deepEqual(
    all.map((d) => d.a),
    [...all.map((d) => d.a)].sort((x, y) => x - y),
  );
  const age = all.find((d) => d.a === read.ident(db, ':person/age'));
  assert.deepEqual([age.type, age.value], ['long', 36]);
  // The default index and view: every current datom, the schema's included.
  assert.ok(read.datoms(db).length > all.length);
  read.end();
  // Datoms are copies: they outlive the read.
  assert.equal(current[0].value, 'Countess');
  throwsEve(assert, () => read.datoms(db), 'EVE_ERR_INVALID_ARGUMENT');
  slab.close();
});

test('ranges of values: from components (inclusive) to end (exclusive)', () => {
  const { slab, db } = setup();
  slab.transactEdn(
    db,
    `[{:person/email "a@x" :person/age 9} {:person/email "b@x" :person/age 31}
      {:person/email "c@x" :person/age 39} {:person/email "d@x" :person/age 40}]`,
  );
  slab.withRead((read) => {
    const ages = (options) => read.datoms(db, 'avet', 'current', options).map((d) => d.value);
    assert.deepEqual(ages({ components: [':person/age', 30], end: [':person/age', 40] }), [31, 39]);
    assert.deepEqual(ages({ components: '[:person/age 30]', end: '[:person/age 40]' }), [31, 39]);
    assert.deepEqual(ages({ components: [':person/age'] }), [9, 31, 39, 40]);
    throwsEve(assert, () => ages({ components: [':person/age', 30], end: '[:person/age' }), 'EVE_ERR_INVALID_ARGUMENT');
    assert.throws(() => ages({ end: 42 }), TypeError);
  });
  slab.close();
});

test('Datalog queries as EDN (queryEdn, pullEdn) and as JS values (query, pull); errors name the clause', () => {
  const { slab, db } = setup();
  slab.transactEdn(
    db,
    `[{:db/id "ada" :person/email "ada@x" :person/name "Ada" :person/age 36 :person/friend ["bob"]}
      {:db/id "bob" :person/email "bob@x" :person/name "Bob" :person/age 41}]`,
  );
  slab.withRead((read) => {
    assert.equal(
      read.queryEdn(db, '[:find ?n ?fn :where [?e :person/friend ?f] [?e :person/name ?n] [?f :person/name ?fn]]'),
      '#{["Ada" "Bob"]}',
    );
    assert.equal(read.queryEdn(db, '[:find [?a ...] :in $ [?n ...] :where [?e :person/name ?n] [?e :person/age ?a]]', '[["Ada" "Bob"]]'), '[36 41]');
    throwsEve(assert, () => read.queryEdn(db, '[:find ?n :where [(< ?x 1)]]'), 'EVE_ERR_INVALID_ARGUMENT');
    assert.equal(
      read.pullEdn(db, '[:person/name {:person/friend [:person/name]}]', '[:person/email "ada@x"]'),
      '{:person/name "Ada", :person/friend [{:person/name "Bob"}]}',
    );
    assert.throws(() => read.pullEdn(db, '[*]'), TypeError);
    const history = read.queryEdn(db, '[:find [?a ...] :where [?e :person/age ?a]]', null, { view: 'history' });
    assert.equal(history, '[36 41]');
    assert.throws(() => read.queryEdn(db, '[:find ?a :where [?e :person/age ?a]]', null, { view: 'asOf' }), TypeError);
    assert.throws(() => read.queryEdn(db, 42), TypeError);
    // The same through eve's answer nodes: JS values (see query.test.js).
    assert.deepEqual(
      read.query(db, '[:find ?n ?fn :where [?e :person/friend ?f] [?e :person/name ?n] [?f :person/name ?fn]]'),
      [['Ada', 'Bob']],
    );
    assert.deepEqual(read.query(db, '[:find [?a ...] :where [?e :person/age ?a]]', null, { view: 'history' }), [36, 41]);
    assert.deepEqual(read.pull(db, '[:person/name {:person/friend [:person/name]}]', '[:person/email "ada@x"]'), {
      'person/name': 'Ada',
      'person/friend': [{ 'person/name': 'Bob' }],
    });
    throwsEve(assert, () => read.query(db, '[:find ?n :where [(< ?x 1)]]'), 'EVE_ERR_INVALID_ARGUMENT');
  });
  slab.close();
});

test('an entity as EDN, by lookup ref or id; unknown references throw', () => {
  const { slab, db } = setup();
  const { ada } = slab.transactEdn(db, '[{:db/id "ada" :person/email "ada@x" :person/name "Ada" :person/age 36}]').tempids;
  slab.withRead((read) => {
    const text = read.entity(db, '[:person/email "ada@x"]');
    assert.ok(text.startsWith(`{:db/id ${ada},`), text);
    assert.ok(text.includes(':person/name "Ada"') && text.includes(':person/age 36'), text);
    assert.equal(read.entity(db, String(ada)), text);
    throwsEve(assert, () => read.entity(db, '[:person/email "nobody@x"]'), 'EVE_ERR_INVALID_ARGUMENT');
    assert.throws(() => read.entity(db, 42), TypeError);
  });
  slab.close();
});

test('AVET lookup by value; VAET finds the references to an entity', () => {
  const { slab, db } = setup();
  const tx = slab.transactEdn(
    db,
    `[{:db/id "ada" :person/email "ada@x" :person/name "Ada"}
      {:db/id "bob" :person/email "bob@x" :person/name "Bob" :person/friend ["ada"]}
      {:db/id "cy" :person/email "cy@x" :person/friend ["ada" "bob"]}]`,
  );
  const { ada, bob, cy } = tx.tempids;
  slab.withRead((read) => {
    const email = read.ident(db, ':person/email');
    const friend = read.ident(db, ':person/friend');
    assert.deepEqual(read.datoms(db, 'avet', 'current', { components: '[:person/email "ada@x"]' }), [
      { e: ada, a: email, t: tx.t, m: 1, type: 'string', value: 'ada@x' },
    ]);
    // The same components as an array of JS values.
    assert.deepEqual(
      read.datoms(db, 'avet', 'current', { components: [':person/email', 'bob@x'] }).map((d) => d.e),
      [bob],
    );
    assert.deepEqual(read.datoms(db, 'avet', 'current', { components: [':person/email', 'nobody@x'] }), []);
    // Every email, in value order.
    assert.deepEqual(values(read.datoms(db, 'avet', 'current', { components: [':person/email'] })), [
      'ada@x',
      'bob@x',
      'cy@x',
    ]);

    // Who refers to Ada? VAET is keyed by the referenced entity.
    const toAda = read.datoms(db, 'vaet', 'current', { components: [ada] });
    assert.deepEqual(toAda.map((d) => d.e).sort((x, y) => x - y), [bob, cy].sort((x, y) => x - y));
    for (const d of toAda) {
      assert.equal(d.a, friend);
      assert.equal(d.type, 'ref');
      assert.equal(d.value, ada);
    }
    assert.deepEqual(read.datoms(db, 'vaet', 'current', { components: [bob, ':person/friend'] }).map((d) => d.e), [cy]);
    // VAET holds reference datoms only.
    assert.ok(read.datoms(db, 'vaet').every((d) => d.type === 'ref'));
    // AEVT: every friend link.
    assert.equal(read.datoms(db, 'aevt', 'current', { components: [':person/friend'] }).length, 3);
  });
  slab.close();
});

test('the log from t, and transaction metadata as the m of the assertions', () => {
  const { slab, db } = setup();
  slab.transactEdn(db, '[{:db/ident :tx/source :db/valueType :db.type/string}]'); // t 2
  const plain = slab.transactEdn(db, '[{:db/id "ada" :person/email "ada@x" :person/name "Ada"}]'); // t 3
  const ada = plain.tempids.ada;
  const tagged = slab.transactEdn(db, `[[:db/add ${ada} :person/age 36] {:person/email "bob@x"}]`, {
    metadata: '{:tx/source "import"}',
  });
  assert.equal(tagged.t, 4);

  const read = slab.read();
  const log = read.log(db, plain.t);
  assert.deepEqual([...new Set(log.map((d) => d.t))], [3, 4], 'in order of t');
  const ofPlain = log.filter((d) => d.t === plain.t);
  assert.equal(ofPlain.length, plain.datoms);
  assert.ok(ofPlain.every((d) => d.m === 1 && d.e === ada));
  const ofTagged = log.filter((d) => d.t === tagged.t);
  assert.equal(ofTagged.length, tagged.datoms);
  const source = read.ident(db, ':tx/source');
  const metaDatom = ofTagged.find((d) => d.a === source);
  assert.equal(metaDatom.value, 'import');
  const meta = metaDatom.e;
  assert.ok(meta >= 16, `metadata entity ${meta}`);
  const assertions = ofTagged.filter((d) => d.a !== source);
  assert.equal(assertions.length, 2);
  assert.ok(
    assertions.every((d) => d.m === meta),
    'm of the assertions is the metadata entity',
  );
  // The metadata entity is an ordinary entity.
  assert.deepEqual(values(read.datoms(db, 'eavt', 'current', { components: [meta, ':tx/source'] })), ['import']);
  assert.deepEqual(read.log(db, tagged.t), ofTagged);
  assert.deepEqual(read.log(db, tagged.t + 1), []);
  assert.equal(read.log(db).length, read.log(db, 0).length);
  assert.ok(read.log(db).length > log.length);
  read.end();
  slab.close();
});

test('values of every type come back as JS values (copies)', () => {
  const { slab, db } = setup();
  slab.transactEdn(
    db,
    `[{:db/ident :v/kw :db/valueType :db.type/keyword} {:db/ident :v/sym :db/valueType :db.type/symbol}
      {:db/ident :v/b :db/valueType :db.type/boolean} {:db/ident :v/d :db/valueType :db.type/double}
      {:db/ident :v/u :db/valueType :db.type/uuid} {:db/ident :v/i :db/valueType :db.type/instant}
      {:db/ident :v/by :db/valueType :db.type/bytes} {:db/ident :v/l :db/valueType :db.type/long}]`,
  );
  const { x } = slab.transactEdn(
    db,
    `[{:db/id "x" :v/kw :a/b :v/sym foo.bar/baz :v/b true :v/d 2.5 :v/u #uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
       :v/i #inst "1990-05-01T00:00:00Z" :v/by "bytes!" :v/l 9007199254740993 :person/age -42 :person/name "Zoë ☃"}]`,
  ).tempids;
  const read = slab.read();
  const byAttr = {};
  for (const d of read.datoms(db, 'eavt', 'current', { components: [x] })) {
    byAttr[d.a] = d;
  }
  const get = (ident) => byAttr[read.ident(db, ident)];
  assert.deepEqual([get(':v/kw').type, get(':v/kw').value], ['keyword', 'a/b']);
  assert.deepEqual([get(':v/sym').type, get(':v/sym').value], ['symbol', 'foo.bar/baz']);
  assert.deepEqual([get(':v/b').type, get(':v/b').value], ['boolean', true]);
  assert.deepEqual([get(':v/d').type, get(':v/d').value], ['double', 2.5]);
  assert.deepEqual([get(':v/u').type, get(':v/u').value], ['uuid', 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6']);
  assert.equal(get(':v/i').type, 'instant');
  assert.ok(get(':v/i').value instanceof Date);
  assert.equal(get(':v/i').value.getTime(), 641520000000);
  assert.equal(get(':v/by').type, 'bytes');
  const bytes = get(':v/by').value;
  assert.ok(Buffer.isBuffer(bytes));
  assert.equal(bytes.toString(), 'bytes!');
  assert.deepEqual([get(':v/l').type, get(':v/l').value], ['long', 9007199254740993n], 'beyond 2^53: a BigInt');
  assert.deepEqual([get(':person/age').type, get(':person/age').value], ['long', -42]);
  assert.equal(get(':person/name').value, 'Zoë ☃');
  // AVET components of other types.
  assert.deepEqual(read.datoms(db, 'avet', 'current', { components: [':v/l', 9007199254740993n] }).map((d) => d.e), [x]);
  assert.deepEqual(read.datoms(db, 'avet', 'current', { components: [':v/b', true] }).map((d) => d.e), [x]);
  assert.deepEqual(read.datoms(db, 'avet', 'current', { components: [':v/kw', ':a/b'] }).map((d) => d.e), [x]);
  assert.deepEqual(
    read.datoms(db, 'avet', 'current', { components: [':v/i', new Date(641520000000)] }).map((d) => d.e),
    [x],
  );
  read.end();
  assert.equal(bytes.toString(), 'bytes!', 'a copy: still readable after the read ended');
  assert.equal(eve.toEdn([1, 1.5, 'a"b\\', ':k/w', null, false, 2n]), '[1 1.5 "a\\"b\\\\" :k/w nil false 2]');
  slab.close();
});

test('a synced transaction is on disk when it returns', () => {
  const { file, slab, db } = setup();
  const tx = slab.transactEdn(db, '[{:db/id "s" :person/email "s@x" :person/name "Synced"}]', { synced: true });
  assert.equal(tx.t, 2);
  const plain = slab.transactEdn(db, '[{:person/email "p@x"}]', { synced: false, metadata: null });
  assert.equal(plain.t, 3);
  slab.close();
  const again = eve.open(file, { mustExist: true });
  const db2 = again.database('people');
  assert.equal(again.basisT(db2), 3);
  again.withRead((read) => {
    assert.deepEqual(
      values(read.datoms(db2, 'eavt', 'current', { components: [tx.tempids.s, ':person/name'] })),
      ['Synced'],
    );
  });
  again.close();
});

test('DaoDB errors are EveErrors with codes, and change nothing', () => {
  const { slab, db } = setup();
  slab.transactEdn(db, '[{:person/email "u@x"}]');
  const t = slab.basisT(db);
  const invalid = (fn, pattern) =>
    throwsEve(
      assert,
      () => {
        try {
          fn();
        } catch (err) {
          assert.match(err.message, pattern);
          throw err;
        }
      },
      'EVE_ERR_INVALID_ARGUMENT',
    );
  invalid(() => slab.transactEdn(db, '[{:person/shoe-size 44}]'), /unknown attribute :person\/shoe-size/);
  invalid(() => slab.transactEdn(db, '[{:person/name "x"}\n {:person/age]'), /malformed EDN.*line 2/);
  invalid(() => slab.transactEdn(db, '[] []'), /malformed EDN/);
  invalid(() => slab.transactEdn(db, '[{:person/age "old"}]'), /not a valid value of :person\/age/);
  invalid(() => slab.transactEdn(db, '[{:person/age 1}]', { metadata: '[1 2]' }), /metadata/);
  invalid(() => slab.transactEdn(db, '[{:person/age 1}]', { metadata: '{:tx/nope 1}' }), /unknown attribute/);
  assert.equal(slab.basisT(db), t, 'nothing was written');

  const read = slab.read();
  invalid(() => read.datoms(db, 'avet', 'current', { components: '[:person/email' }), /malformed EDN/);
  invalid(() => read.datoms(db, 'avet', 'current', { components: [':person/shoe-size', 1] }), /unknown attribute/);
  read.end();

  // Wrong-kind roots: a map is not a database, and a database is not a map.
  const kv = slab.map('kv');
  throwsEve(assert, () => slab.database('kv'), 'EVE_ERR_WRONG_KIND');
  throwsEve(assert, () => slab.transactEdn(kv, '[]'), 'EVE_ERR_WRONG_KIND');
  throwsEve(assert, () => slab.basisT(kv), 'EVE_ERR_WRONG_KIND');
  throwsEve(assert, () => slab.map('people'), 'EVE_ERR_WRONG_KIND');
  slab.withRead((r) => {
    throwsEve(assert, () => r.datoms(kv), 'EVE_ERR_WRONG_KIND');
    throwsEve(assert, () => r.log(kv), 'EVE_ERR_WRONG_KIND');
    throwsEve(assert, () => r.ident(kv, ':db/ident'), 'EVE_ERR_WRONG_KIND');
  });

  // Read-only handles and closed slabs.
  const file = tmpSlabPath();
  const rw = eve.open(file);
  const d = rw.database('d');
  rw.close();
  const ro = eve.open(file, { readOnly: true });
  throwsEve(assert, () => ro.transactEdn(d, '[]'), 'EVE_ERR_READ_ONLY');
  throwsEve(assert, () => ro.database('missing'), 'EVE_ERR_NOT_FOUND');
  assert.equal(ro.basisT(d), 0);
  ro.close();
  slab.close();
  throwsEve(assert, () => slab.database('people'), 'EVE_ERR_INVALID_ARGUMENT');
  throwsEve(assert, () => slab.transactEdn(db, '[]'), 'EVE_ERR_INVALID_ARGUMENT');
  throwsEve(assert, () => slab.basisT(db), 'EVE_ERR_INVALID_ARGUMENT');
});

test('DaoDB argument types: TypeError (RangeError for out-of-range numbers)', async () => {
  const { slab, db } = setup();
  assert.throws(() => slab.database(), TypeError);
  assert.throws(() => slab.database(1), TypeError);
  assert.throws(() => slab.transactEdn('people', '[]'), TypeError);
  assert.throws(() => slab.transactEdn(db, ['x']), TypeError);
  assert.throws(() => slab.transactEdn(db, '[]', 'synced'), TypeError);
  assert.throws(() => slab.transactEdn(db, '[]', { synced: 1 }), TypeError);
  assert.throws(() => slab.transactEdn(db, '[]', { metadata: { a: 1 } }), TypeError);
  assert.throws(() => slab.transactEdn(db, '[]\0'), TypeError);
  assert.throws(() => slab.basisT(-1), RangeError);
  const read = slab.read();
  assert.throws(() => read.ident(db), TypeError);
  assert.throws(() => read.ident(db, 5), TypeError);
  assert.throws(() => read.datoms(db, 'xyzt'), TypeError);
  assert.throws(() => read.datoms(db, 0), TypeError);
  assert.throws(() => read.datoms(db, 'eavt', 'past'), TypeError);
  assert.throws(() => read.datoms(db, 'eavt', 'toString'), TypeError);
  assert.throws(() => read.datoms(db, 'eavt', 'asOf'), TypeError, 'asOf needs t');
  assert.throws(() => read.datoms(db, 'eavt', 'since', {}), TypeError, 'since needs t');
  assert.throws(() => read.datoms(db, 'eavt', 'asOf', { t: -1 }), RangeError);
  assert.throws(() => read.datoms(db, 'eavt', 'asOf', { t: '1' }), TypeError);
  assert.throws(() => read.datoms(db, 'eavt', 'current', { components: 5 }), TypeError);
  assert.throws(() => read.datoms(db, 'eavt', 'current', { components: [{}] }), TypeError);
  assert.throws(() => read.datoms(db, 'eavt', 'current', { components: [1.5e300 * 1e10] }), RangeError);
  assert.throws(() => read.datoms(db, 'eavt', 'current', { components: [':bad keyword'] }), TypeError);
  assert.throws(() => read.log(db, 'x'), TypeError);
  assert.throws(() => read.log('people'), TypeError);
  read.end();
  await assert.rejects(slab.waitForTransaction('people', 0, 10), TypeError);
  await assert.rejects(slab.waitForTransaction(db, 'x', 10), TypeError);
  await assert.rejects(slab.waitForTransaction(db, 0, '10'), TypeError);
  slab.close();
  await assert.rejects(slab.waitForTransaction(db, 0, 10), (err) => {
    assert.ok(err instanceof eve.EveError);
    assert.equal(err.code, 'EVE_ERR_INVALID_ARGUMENT');
    return true;
  });
});

test('waitForTransaction times out with the basis t, without blocking the loop', { timeout: 60000 }, async () => {
  const { slab, db } = setup();
  const start = performance.now();
  const { value, ticks } = await ticksWhile(slab.waitForTransaction(db, 1, 300));
  const elapsed = performance.now() - start;
  assert.equal(value, 1, 'timeout: the basis t, not after afterT');
  assert.ok(elapsed >= 280, `waited ${elapsed} ms`);
  assert.ok(elapsed < 5000, `waited ${elapsed} ms`);
  assert.ok(ticks >= 10, `the event loop ticked only ${ticks} times`);
  // Already past afterT: resolves at once; a 0 timeout polls.
  assert.equal(await slab.waitForTransaction(db, 0, 10000), 1);
  assert.equal(await slab.waitForTransaction(db, 1, 0), 1);
  // close() while a wait is pending is refused.
  const pending = slab.waitForTransaction(db, 1, 400);
  await new Promise((resolve) => setTimeout(resolve, 50));
  throwsEve(assert, () => slab.close(), 'EVE_ERR_BUSY');
  assert.equal(await pending, 1);
  slab.close();
});

test('waitForTransaction resolves when a worker thread commits', { timeout: 60000 }, async () => {
  const { file, slab, db } = setup();
  const basis = slab.basisT(db);
  const wait = slab.waitForTransaction(db, basis, 20000);
  const committed = runWorker({ file, name: 'people', mode: 'later', delayMs: 300, email: 'later@x' });
  const start = performance.now();
  const { value, ticks } = await ticksWhile(wait);
  const elapsed = performance.now() - start;
  const t = await committed;
  assert.equal(value, t);
  assert.equal(t, basis + 1);
  assert.equal(slab.basisT(db), t);
  assert.ok(elapsed < 15000, `took ${elapsed} ms`);
  assert.ok(ticks >= 5, `the event loop ticked only ${ticks} times while waiting`);
  slab.withRead((read) => {
    assert.deepEqual(values(read.datoms(db, 'avet', 'current', { components: [':person/email', 'later@x'] })), [
      'later@x',
    ]);
  });
  slab.close();
});

test('two worker threads transacting concurrently get gap-free t', { timeout: 60000 }, async (t) => {
  const COUNT = 200;
  const { file, slab, db } = setup();
  const start = slab.basisT(db);
  const barrier = new Int32Array(new SharedArrayBuffer(4));
  const results = await Promise.all(
    [0, 1].map((id) => runWorker({ file, name: 'people', mode: 'many', id, count: COUNT, barrier, parties: 2 })),
  );
  const all = results.flatMap((r) => r.ts);
  for (const r of results) {
    assert.equal(r.ts.length, COUNT);
    assert.ok(
      r.ts.every((x, i) => i === 0 || x > r.ts[i - 1]),
      `worker ${r.id}: its own t increase`,
    );
  }
  const sorted = [...all].sort((x, y) => x - y);
  assert.deepEqual(
    sorted,
    Array.from({ length: 2 * COUNT }, (_, i) => start + 1 + i),
    'every t once, no gaps',
  );
  assert.equal(slab.basisT(db), start + 2 * COUNT);
  slab.withRead((read) => {
    const log = read.log(db, start + 1);
    assert.equal(log.length, 2 * 2 * COUNT);
    assert.ok(log.every((d, i) => i === 0 || d.t >= log[i - 1].t), 'the log is in order of t');
    assert.equal(read.datoms(db, 'avet', 'current', { components: [':person/email'] }).length, 2 * COUNT);
    assert.deepEqual(values(read.datoms(db, 'avet', 'current', { components: [':person/email', 'w1-7@x'] })), [
      'w1-7@x',
    ]);
  });
  t.diagnostic(`transaction retries under contention: ${results.reduce((s, r) => s + r.retries, 0)}`);
  slab.check();
  slab.close();
});
