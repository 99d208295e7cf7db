'use strict';
// read.query / read.pull: answers converted from eve's answer nodes (eve_db_query_answer,
// eve_db_pull_answer) into JS values, and their EDN-text twins queryEdn / pullEdn.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Worker } = require('node:worker_threads');
const eve = require('..');
const { Keyword, EdnSymbol } = eve;
const { throwsEve } = require('../fixtures/helpers');

const SCHEMA = `[{:db/ident :person/email :db/valueType :db.type/string :db/unique :db.unique/identity}
 {:db/ident :person/name :db/valueType :db.type/string}
 {:db/ident :person/age :db/valueType :db.type/long}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 {:db/ident :person/best :db/valueType :db.type/ref}
 {:db/ident :person/kind :db/valueType :db.type/keyword}
 {:db/ident :person/born :db/valueType :db.type/instant}
 {:db/ident :person/id :db/valueType :db.type/uuid}
 {:db/ident :person/height :db/valueType :db.type/double}
 {:db/ident :person/active :db/valueType :db.type/boolean}
 {:db/ident :person/tag :db/valueType :db.type/symbol}
 {:db/ident :person/blob :db/valueType :db.type/bytes}
 {:db/ident :person/big :db/valueType :db.type/long}]`;

const ADA_ID = 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6';

const kw = (name) => new Keyword(name);

/** An anonymous slab with the database 'people': Ada (friends Bob and Cy), Bob, Cy. */
function people() {
  const slab = eve.openAnonymous();
  const db = slab.database('people');
  slab.transactEdn(db, SCHEMA);
  const { tempids } = slab.transactEdn(
    db,
    `[{:db/id "ada" :person/email "ada@x" :person/name "Ada" :person/age 36 :person/friend ["bob" "cy"]
       :person/best "bob" :person/kind :kind/human :person/born #inst "2020-01-01T00:00:00Z"
       :person/id #uuid "${ADA_ID}" :person/height 1.65 :person/active true :person/tag my.ns/sym
       :person/blob "bytes!" :person/big 9007199254740993}
      {:db/id "bob" :person/email "bob@x" :person/name "Bob" :person/age 41 :person/kind :kind/robot
       :person/active false :person/big -9007199254740993}
      {:db/id "cy" :person/email "cy@x" :person/name "Cy" :person/age 36 :person/big 12}]`,
  );
  return { slab, db, ...tempids };
}

test('Keyword and EdnSymbol: exported classes with a name and EDN text', () => {
  const k = new Keyword('person/name');
  assert.equal(k.name, 'person/name');
  assert.equal(k.toString(), ':person/name');
  assert.equal(`${k}`, ':person/name');
  const s = new EdnSymbol('my.ns/sym');
  assert.equal(s.name, 'my.ns/sym');
  assert.equal(String(s), 'my.ns/sym');
  assert.ok(!(s instanceof Keyword));
});

test('query shapes: relation, scalar, collection, tuple', () => {
  const { slab, db } = people();
  slab.withRead((read) => {
    // A relation: an Array of row Arrays, in eve's (sorted) order.
    assert.deepEqual(read.query(db, '[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a]]'), [
      ['Ada', 36],
      ['Bob', 41],
      ['Cy', 36],
    ]);
    assert.deepEqual(read.query(db, '[:find ?n :where [?e :person/name ?n] [?e :person/age 99]]'), []);
    // A scalar: the value, or null when nothing matched.
    assert.equal(read.query(db, '[:find ?n . :where [?e :person/name ?n] [?e :person/age 41]]'), 'Bob');
    assert.equal(read.query(db, '[:find ?n . :where [?e :person/name ?n] [?e :person/age 99]]'), null);
    // A collection: an Array.
    assert.deepEqual(read.query(db, '[:find [?a ...] :where [_ :person/age ?a]]'), [36, 41]);
    assert.deepEqual(
      read.query(db, '[:find [?n ...] :in $ [?a ...] :where [?e :person/age ?a] [?e :person/name ?n]]', '[[36 99]]'),
      ['Ada', 'Cy'],
    );
    // A tuple: an Array, or null when nothing matched.
    assert.deepEqual(
      read.query(db, '[:find [?n ?a] :in $ ?m :where [?e :person/email ?m] [?e :person/name ?n] [?e :person/age ?a]]', '["bob@x"]'),
      ['Bob', 41],
    );
    assert.equal(
      read.query(db, '[:find [?n ?a] :where [?e :person/name ?n] [?e :person/age ?a] [(> ?a 100)]]'),
      null,
    );
  });
  slab.close();
});

test('return maps: :keys, :strs and :syms give plain objects keyed by the column names', () => {
  const { slab, db } = people();
  slab.withRead((read) => {
    const expected = [
      { name: 'Ada', age: 36 },
      { name: 'Bob', age: 41 },
      { name: 'Cy', age: 36 },
    ];
    const where = ':where [?e :person/name ?n] [?e :person/age ?a]]';
    for (const style of [':keys', ':strs', ':syms']) {
      const rows = read.query(db, `[:find ?n ?a ${style} name age ${where}`);
      assert.deepEqual(rows, expected, style);
      assert.deepEqual(Object.keys(rows[0]), ['name', 'age'], `${style}: find order`);
      assert.equal(Object.getPrototypeOf(rows[0]), Object.prototype);
    }
    assert.deepEqual(read.query(db, `[:find ?n ?a :keys name age :where [?e :person/name ?n] [?e :person/age ?a] [(> ?a 99)]]`), []);
    // A column called __proto__ is an own property, not the prototype.
    const [odd] = read.query(db, '[:find ?n :keys __proto__ :where [?e :person/name ?n] [?e :person/age 41]]');
    assert.deepEqual(Object.keys(odd), ['__proto__']);
    assert.equal(Object.getOwnPropertyDescriptor(odd, '__proto__').value, 'Bob');
    assert.equal(Object.getPrototypeOf(odd), Object.prototype);
  });
  slab.close();
});

test('aggregates, (distinct ?x) as an Array, and :with', () => {
  const { slab, db } = people();
  slab.withRead((read) => {
    assert.deepEqual(
      read.query(db, '[:find (count ?e) (count-distinct ?a) (sum ?a) (min ?a) (max ?a) (avg ?a) (median ?a) :where [?e :person/age ?a]]'),
      [[3, 2, 113, 36, 41, 113 / 3, 36]],
    );
    assert.deepEqual(read.query(db, '[:find (distinct ?a) . :where [_ :person/age ?a]]'), [36, 41]);
    assert.deepEqual(read.query(db, '[:find ?a (distinct ?n) :where [?e :person/age ?a] [?e :person/name ?n]]'), [
      [36, ['Ada', 'Cy']],
      [41, ['Bob']],
    ]);
    assert.deepEqual(read.query(db, '[:find (sum ?a) . :with ?e :where [?e :person/age ?a]]'), 113);
    assert.equal(read.query(db, '[:find (count ?e) . :where [?e :person/age ?a]]'), 3);
  });
  slab.close();
});

test('pull inside :find and the pull call: objects keyed by attribute name, nested refs', () => {
  const { slab, db, ada, bob, cy } = people();
  slab.withRead((read) => {
    assert.deepEqual(
      read.query(db, '[:find (pull ?e [:person/name {:person/friend [:person/name]}]) :where [?e :person/email "ada@x"]]'),
      [[{ 'person/name': 'Ada', 'person/friend': [{ 'person/name': 'Bob' }, { 'person/name': 'Cy' }] }]],
    );
    assert.deepEqual(
      read.query(db, '[:find [(pull ?e [:db/id :person/name]) ...] :where [?e :person/age 36]]'),
      [
        { 'db/id': ada, 'person/name': 'Ada' },
        { 'db/id': cy, 'person/name': 'Cy' },
      ],
    );

    const pulled = read.pull(
      db,
      '[:person/name {:person/best [:person/name :person/kind]} {:person/friend [:db/id :person/email]}]',
      '[:person/email "ada@x"]',
    );
    assert.deepEqual(pulled, {
      'person/name': 'Ada',
      'person/best': { 'person/name': 'Bob', 'person/kind': kw('kind/robot') },
      'person/friend': [
        { 'db/id': bob, 'person/email': 'bob@x' },
        { 'db/id': cy, 'person/email': 'cy@x' },
      ],
    });
    assert.equal(Object.getPrototypeOf(pulled), Object.prototype);
    // A reference without a nested pattern is {'db/id': e}; reverse references are Arrays.
    assert.deepEqual(read.pull(db, '[:person/best :person/_friend]', String(bob)), {
      'person/_friend': [{ 'db/id': ada }],
    });
    assert.deepEqual(read.pull(db, '[:person/best]', String(ada)), { 'person/best': { 'db/id': bob } });
    // Options: :as with a string, :default, :limit.
    assert.deepEqual(
      read.pull(db, '[[:person/name :as "n"] [:person/friend :limit 1] [:person/best :default 0]]', String(ada)),
      { n: 'Ada', 'person/friend': [{ 'db/id': bob }], 'person/best': { 'db/id': bob } },
    );
    assert.deepEqual(read.pull(db, '[[:person/kind :default :kind/unknown] [:person/best :default 0]]', String(cy)), {
      'person/kind': kw('kind/unknown'),
      'person/best': 0,
    });
    // A key that is neither a keyword nor a string (here a symbol alias) makes a Map.
    const mixed = read.pull(db, '[:person/name [:person/age :as years]]', String(cy));
    assert.ok(mixed instanceof Map);
    assert.deepEqual([...mixed], [
      [kw('person/name'), 'Cy'],
      [new EdnSymbol('years'), 36],
    ]);
    // An entity with none of the attributes pulls as {}.
    assert.deepEqual(read.pull(db, '[:person/best]', String(cy)), {});
  });
  slab.close();
});

test('value types round trip: string, keyword, symbol, instant, uuid, double, boolean, long, bytes, ref', () => {
  const { slab, db, ada, bob } = people();
  slab.withRead((read) => {
    const row = read.query(
      db,
      `[:find ?name ?kind ?tag ?born ?id ?h ?active ?big ?blob ?best
        :where [?e :person/email "ada@x"] [?e :person/name ?name] [?e :person/kind ?kind] [?e :person/tag ?tag]
               [?e :person/born ?born] [?e :person/id ?id] [?e :person/height ?h] [?e :person/active ?active]
               [?e :person/big ?big] [?e :person/blob ?blob] [?e :person/best ?best]]`,
    );
    assert.equal(row.length, 1);
    const [name, kind, tag, born, id, h, active, big, blob, best] = row[0];
    assert.equal(name, 'Ada');
    assert.ok(kind instanceof Keyword);
    assert.deepEqual(kind, kw('kind/human'));
    assert.equal(String(kind), ':kind/human');
    assert.ok(tag instanceof EdnSymbol);
    assert.equal(tag.name, 'my.ns/sym');
    assert.ok(born instanceof Date);
    assert.equal(born.getTime(), Date.UTC(2020, 0, 1));
    assert.equal(born.toISOString(), '2020-01-01T00:00:00.000Z');
    assert.equal(id, ADA_ID);
    assert.equal(h, 1.65);
    assert.equal(active, true);
    assert.equal(big, 9007199254740993n, 'a long beyond 2^53 is a BigInt');
    assert.ok(Buffer.isBuffer(blob));
    assert.equal(blob.toString(), 'bytes!');
    assert.equal(best, bob, 'a ref is the entity id');

    assert.equal(read.query(db, '[:find ?b . :where [?e :person/email "bob@x"] [?e :person/active ?b]]'), false);
    assert.equal(read.query(db, '[:find ?b . :where [?e :person/email "bob@x"] [?e :person/big ?b]]'), -9007199254740993n);
    assert.equal(read.query(db, '[:find ?b . :where [?e :person/email "cy@x"] [?e :person/big ?b]]'), 12);
    // A keyword value is told apart from a string; keyword inputs match keyword values.
    assert.deepEqual(read.query(db, '[:find [?k ...] :where [_ :person/kind ?k]]'), [kw('kind/human'), kw('kind/robot')]);
    assert.equal(read.query(db, '[:find ?n . :in $ ?k :where [?e :person/kind ?k] [?e :person/name ?n]]', '[:kind/robot]'), 'Bob');
    // Values in clauses: uuid, instant.
    assert.equal(read.query(db, `[:find ?e . :where [?e :person/id #uuid "${ADA_ID}"]]`), ada);
    assert.equal(read.query(db, '[:find ?e . :where [?e :person/born #inst "2020-01-01T00:00:00Z"]]'), ada);
    // Scalars given as inputs come back as themselves.
    assert.deepEqual(read.query(db, '[:find ?x ?y ?z :in $ ?x ?y ?z]', '[nil 2.5 "s"]'), [[null, 2.5, 's']]);
    assert.equal(read.query(db, '[:find ?x . :in $ ?x]', '[-9223372036854775808]'), -9223372036854775808n);
    // The pull of everything: each type, refs as {'db/id': e}.
    assert.deepEqual(read.pull(db, '[*]', '[:person/email "ada@x"]'), {
      'db/id': ada,
      'person/email': 'ada@x',
      'person/name': 'Ada',
      'person/age': 36,
      'person/friend': [{ 'db/id': bob }, { 'db/id': read.query(db, '[:find ?e . :where [?e :person/name "Cy"]]') }],
      'person/best': { 'db/id': bob },
      'person/kind': kw('kind/human'),
      'person/born': new Date('2020-01-01T00:00:00Z'),
      'person/id': ADA_ID,
      'person/height': 1.65,
      'person/active': true,
      'person/tag': new EdnSymbol('my.ns/sym'),
      'person/blob': Buffer.from('bytes!'),
      'person/big': 9007199254740993n,
    });
  });
  slab.close();
});

test('another database as a $b source: [#eve/db n] with the index from slab.database()', () => {
  const { slab, db } = people();
  const cities = slab.database('cities');
  assert.notEqual(cities, db);
  slab.transactEdn(
    cities,
    `[{:db/ident :city/name :db/valueType :db.type/string} {:db/ident :city/resident :db/valueType :db.type/string}]`,
  );
  slab.transactEdn(cities, '[{:city/name "Paris" :city/resident "ada@x"} {:city/name "Oslo" :city/resident "cy@x"}]');
  slab.withRead((read) => {
    const q = `[:find ?n ?c :in $ $b :where [?e :person/email ?m] [?e :person/name ?n]
                [$b ?x :city/resident ?m] [$b ?x :city/name ?c]]`;
    assert.deepEqual(read.query(db, q, `[#eve/db ${cities}]`), [
      ['Ada', 'Paris'],
      ['Cy', 'Oslo'],
    ]);
    assert.equal(read.queryEdn(db, q, `[#eve/db ${cities}]`), '#{["Ada" "Paris"] ["Cy" "Oslo"]}');
    // A relation given as a source works as well.
    assert.deepEqual(
      read.query(db, '[:find ?n ?c :in $ $b :where [?e :person/email ?m] [?e :person/name ?n] [$b ?m ?c]]', '[[["bob@x" "Rome"]]]'),
      [['Bob', 'Rome']],
    );
  });
  slab.close();
});

test('a large relation: 10,000 rows convert exactly', () => {
  const slab = eve.openAnonymous();
  const db = slab.database('big');
  slab.transactEdn(
    db,
    `[{:db/ident :item/n :db/valueType :db.type/long :db/unique :db.unique/identity}
      {:db/ident :item/label :db/valueType :db.type/string}
      {:db/ident :item/kind :db/valueType :db.type/keyword}]`,
  );
  const N = 10000;
  const items = [];
  for (let i = 0; i < N; i++) items.push(`{:item/n ${i} :item/label "item-${i}" :item/kind :k/${i % 3}}`);
  slab.transactEdn(db, `[${items.join('\n')}]`);
  slab.withRead((read) => {
    const rows = read.query(db, '[:find ?n ?l ?k :where [?e :item/n ?n] [?e :item/label ?l] [?e :item/kind ?k]]');
    assert.equal(rows.length, N);
    rows.forEach((row, i) => {
      assert.equal(row.length, 3);
      assert.equal(row[0], i, 'rows are sorted by their first column');
      assert.equal(row[1], `item-${i}`);
      assert.ok(row[2] instanceof Keyword);
      assert.equal(row[2].name, `k/${i % 3}`);
    });
    const maps = read.query(db, '[:find ?n ?l :keys n label :where [?e :item/n ?n] [?e :item/label ?l]]');
    assert.equal(maps.length, N);
    assert.deepEqual(maps[N - 1], { n: N - 1, label: `item-${N - 1}` });
    const all = read.query(db, '[:find [?n ...] :where [_ :item/n ?n]]');
    assert.deepEqual(all, Array.from({ length: N }, (_, i) => i));
    assert.equal(read.query(db, '[:find (count ?e) . :where [?e :item/n _]]'), N);
    // The EDN twin agrees.
    const edn = read.queryEdn(db, '[:find [?n ...] :where [_ :item/n ?n]]');
    assert.equal(edn, `[${all.join(' ')}]`);
  });
  slab.close();
});

test('queryEdn and pullEdn return EDN text; query options (views) apply to both', () => {
  const { slab, db } = people();
  const before = slab.basisT(db);
  slab.transactEdn(db, '[{:person/email "bob@x" :person/age 42}]');
  slab.withRead((read) => {
    const q = '[:find [?a ...] :in $ ?m :where [?e :person/email ?m] [?e :person/age ?a]]';
    assert.equal(read.queryEdn(db, q, '["bob@x"]'), '[42]');
    assert.deepEqual(read.query(db, q, '["bob@x"]'), [42]);
    assert.deepEqual(read.query(db, q, '["bob@x"]', { view: 'asOf', t: before }), [41]);
    assert.equal(read.queryEdn(db, q, '["bob@x"]', { view: 'asOf', t: before }), '[41]');
    assert.deepEqual(read.query(db, q, '["bob@x"]', { view: 'history' }), [41, 42]);
    // since: only the datoms asserted after `before` match (Bob's email is older).
    assert.deepEqual(read.query(db, q, '["bob@x"]', { view: 'since', t: before }), []);
    assert.deepEqual(read.query(db, '[:find [?a ...] :where [_ :person/age ?a]]', null, { view: 'since', t: before }), [42]);
    assert.equal(
      read.pullEdn(db, '[:person/name :person/kind]', '[:person/email "bob@x"]'),
      '{:person/name "Bob", :person/kind :kind/robot}',
    );
    assert.equal(read.queryEdn(db, '[:find ?k . :where [?e :person/email "bob@x"] [?e :person/kind ?k]]'), ':kind/robot');
    assert.throws(() => read.query(db, q, '["bob@x"]', { view: 'asOf' }), TypeError);
    assert.throws(() => read.queryEdn(db, q, '["bob@x"]', { view: 'past' }), TypeError);
  });
  slab.close();
});

test('errors: malformed queries and pulls throw EveError with eve message; bad arguments TypeError', () => {
  const { slab, db } = people();
  slab.withRead((read) => {
    const message = (fn) => {
      try {
        fn();
      } catch (err) {
        return err.message;
      }
      assert.fail('expected a throw');
    };
    for (const query of [read.query, read.queryEdn]) {
      throwsEve(assert, () => query.call(read, db, '[:find ?n :where [?e :person/name ?n]'), 'EVE_ERR_INVALID_ARGUMENT');
      assert.match(message(() => query.call(read, db, '[:find ?n :where [?e :person/name ?n]')), /malformed EDN in the query/);
      throwsEve(assert, () => query.call(read, db, '[:find ?x :where [(< ?x 1)]]'), 'EVE_ERR_INVALID_ARGUMENT');
      assert.match(message(() => query.call(read, db, '[:find ?x :where [(< ?x 1)]]')), /\?x/);
      throwsEve(assert, () => query.call(read, db, '[:find ?n :where [?e :person/shoe ?n]]'), 'EVE_ERR_INVALID_ARGUMENT');
      throwsEve(assert, () => query.call(read, db, '[:find ?n :in $ ?x :where [?e :person/name ?x]]', '[1'), 'EVE_ERR_INVALID_ARGUMENT');
      throwsEve(assert, () => query.call(read, db, '[:find ?n :in $ $b :where [$b ?e :person/name ?n]]', '[#eve/db 9999]'), 'EVE_ERR_INVALID_ARGUMENT');
      assert.throws(() => query.call(read, db, 42), TypeError);
      assert.throws(() => query.call(read, db, '[:find ?n :where [?e :person/name ?n]]', 42), TypeError);
    }
    for (const pull of [read.pull, read.pullEdn]) {
      throwsEve(assert, () => pull.call(read, db, '[:person/name', '[:person/email "ada@x"]'), 'EVE_ERR_INVALID_ARGUMENT');
      throwsEve(assert, () => pull.call(read, db, '[:person/name]', '[:person/email "nobody@x"]'), 'EVE_ERR_INVALID_ARGUMENT');
      assert.throws(() => pull.call(read, db, '[*]'), TypeError);
    }
    // Failing and succeeding calls interleaved: every answer is freed, nothing leaks state.
    for (let i = 0; i < 1000; i++) {
      assert.throws(() => read.query(db, '[:find ?n :where'));
      assert.equal(read.query(db, '[:find ?n . :where [?e :person/age 41] [?e :person/name ?n]]'), 'Bob');
    }
  });
  const read = slab.read();
  read.end();
  throwsEve(assert, () => read.query(db, '[:find ?n :where [?e :person/name ?n]]'), 'EVE_ERR_INVALID_ARGUMENT');
  throwsEve(assert, () => read.pull(db, '[*]', '1'), 'EVE_ERR_INVALID_ARGUMENT');
  slab.close();
});

test('answers outlive the read; a worker thread gets its own Keyword instances', async () => {
  const { slab, db } = people();
  const read = slab.read();
  const kinds = read.query(db, '[:find [?k ...] :where [_ :person/kind ?k]]');
  const pulled = read.pull(db, '[:person/blob]', '[:person/email "ada@x"]');
  read.end();
  assert.deepEqual(kinds, [kw('kind/human'), kw('kind/robot')]);
  assert.equal(pulled['person/blob'].toString(), 'bytes!', 'bytes are a copy, not a view of the slab');
  slab.close();

  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const eve = require(${JSON.stringify(require.resolve('..'))});
     const slab = eve.openAnonymous();
     const db = slab.database('w');
     slab.transactEdn(db, '[{:db/ident :w/k :db/valueType :db.type/keyword}]');
     slab.transactEdn(db, '[{:w/k :a/b}]');
     const k = slab.withRead((r) => r.query(db, '[:find ?k . :where [_ :w/k ?k]]'));
     parentPort.postMessage([k instanceof eve.Keyword, String(k)]);
     slab.close();`,
    { eval: true },
  );
  const [message] = await Promise.all([
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    }),
    new Promise((resolve) => worker.once('exit', resolve)),
  ]);
  assert.deepEqual(message, [true, ':a/b']);
});
