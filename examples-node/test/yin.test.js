'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { spawn, spawnSync } = require('node:child_process');
const eve = require('..');
const { tmpSlabPath, throwsEve } = require('../fixtures/helpers');

const { Yin, Keyword } = eve;
const moduleDir = path.join(__dirname, '..');

function withYin(body) {
  const slab = eve.openAnonymous();
  const yin = Yin.open(slab, 'yin');
  try {
    return body(yin, slab);
  } finally {
    yin.close();
    slab.close();
  }
}

for (const projection of ['walker', 'stack']) {
  test(`programs run to their values (${projection})`, () =>
    withYin((yin) => {
      const sum = yin.run(yin.compile('(+ 2 3)'), projection);
      assert.equal(sum.state, 'done');
      assert.equal(sum.value, 5);
      assert.equal(sum.valueEdn, '5');
      const fact = yin.compile('(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 5)');
      assert.equal(yin.run(fact, projection).value, 120);
      const data = yin.run(yin.compile('[1 "two" :three {:four 4.5} nil true]'), projection).value;
      assert.deepEqual(data, [1, 'two', new Keyword('three'), { four: 4.5 }, null, true]);
    }));

  test(`a traced run is queryable with Datalog (${projection})`, () =>
    withYin((yin, slab) => {
      assert.equal(yin.trace(), false);
      yin.setTrace(true);
      assert.equal(yin.trace(), true);
      const fact = yin.compile('(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 5)');
      const run = yin.run(fact, projection);
      assert.equal(run.value, 120);
      const trace = slab.database('yin/trace');
      const program = slab.database('yin');
      const inputs = `[#eve/db ${program} ${run.agent}]`;
      slab.withRead((read) => {
        // fact (the lambda with parameters "n") was applied 5 times.
        const calls = `[:find (count ?s) . :in $ $prog ?a :where [?s :trace/agent ?a] [?s :trace/kind :call]
                        [?s :trace/node ?n] [$prog ?n :yin/params "n"]]`;
        assert.equal(read.query(trace, calls, inputs), 5);
        const done = '[:find ?v . :in $ $prog ?a :where [?s :trace/agent ?a] [?s :trace/kind :done] [?s :trace/value ?v]]';
        assert.equal(read.query(trace, done, inputs), 120);
        const runs = '[:find ?r :in $ $prog ?a :where [?s :trace/agent ?a] [?s :trace/run ?r]]';
        assert.deepEqual(read.query(trace, runs, inputs), [[1]]);
      });
      yin.setTrace(false);
      const untraced = yin.run(fact, projection);
      slab.withRead((read) => {
        const q = '[:find (count ?s) . :in $ ?a :where [?s :trace/agent ?a]]';
        assert.equal(read.query(trace, q, `[${untraced.agent}]`), null);
      });
      assert.throws(() => yin.setTrace('yes'), TypeError);
    }));

  test(`park, then resume with 5 (${projection})`, () =>
    withYin((yin) => {
      const program = yin.compile('((fn [x] (+ x (park))) 10)');
      const parked = yin.run(program, projection);
      assert.equal(parked.state, 'parked');
      assert.equal(parked.parked, true);
      assert.equal(parked.wait, 'resume');
      assert.equal(parked.valueEdn, null);
      const info = yin.agent(parked.agent);
      assert.equal(info.state, 'parked');
      assert.equal(info.projection, projection);
      assert.equal(info.program, program);

      const done = yin.resume(parked.agent, 5);
      assert.equal(done.state, 'done');
      assert.equal(done.value, 15);
      assert.equal(yin.agent(parked.agent).result, 15);
      throwsEve(assert, () => yin.resume(parked.agent, 5), 'EVE_ERR_INVALID_ARGUMENT');
      assert.throws(() => yin.resume(parked.agent, 5), /not parked/);
    }));
}

test('park in this thread, resume in a worker thread', { timeout: 60000 }, async () => {
  const file = tmpSlabPath();
  const slab = eve.open(file);
  const yin = Yin.open(slab, 'yin');
  const parked = yin.run(yin.compile('((fn [x] (+ x (park))) 10)'), 'walker');
  assert.equal(parked.state, 'parked');
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const eve = require(workerData.dir);
    const slab = eve.open(workerData.file);
    const yin = eve.Yin.open(slab, 'yin');
    const r = yin.resume(workerData.agent, 5);
    parentPort.postMessage(r.value);
    yin.close();
    slab.close();`;
  const value = await new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { dir: moduleDir, file, agent: parked.agent } });
    let got;
    worker.on('message', (m) => (got = m));
    worker.on('error', reject);
    worker.on('exit', (c) => (c === 0 ? resolve(got) : reject(new Error(`worker exited ${c}`))));
  });
  assert.equal(value, 15);
  assert.equal(yin.agent(parked.agent).state, 'done');
  assert.equal(yin.agent(parked.agent).result, 15);
  yin.close();
  slab.close();
});

test('park in this process, resume in a child process', { timeout: 60000 }, () => {
  const file = tmpSlabPath();
  let slab = eve.open(file);
  let yin = Yin.open(slab, 'yin');
  const parked = yin.run(yin.compile('((fn [x] (+ x (park))) 10)'), 'stack');
  yin.close();
  slab.close();
  const code = `
    const eve = require(${JSON.stringify(moduleDir)});
    const slab = eve.open(${JSON.stringify(file)});
    const yin = eve.Yin.open(slab, 'yin');
    process.stdout.write(yin.resume(${parked.agent}, 5).valueEdn);
    yin.close();
    slab.close();`;
  const child = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout, '15');
  slab = eve.open(file);
  yin = Yin.open(slab, 'yin');
  assert.equal(yin.agent(parked.agent).result, 15);
  yin.close();
  slab.close();
});

test('an agent whose worker process is killed is taken over', { timeout: 60000 }, async () => {
  const file = tmpSlabPath();
  const slab = eve.open(file);
  const yin = Yin.open(slab, 'yin');
  try {
    const sleeper = yin.run(yin.compile('(+ 1 (park))'), 'stack').agent;
    const program = yin.compile(
      `(defn spin [n] (if (= n 0) 0 (spin (- n 1)))) (resume ${sleeper} 7) (spin 5000000) :finished`);
    const agent = yin.spawn(program, 'stack');
    const code = `
      const eve = require(${JSON.stringify(moduleDir)});
      const yin = eve.Yin.open(eve.open(${JSON.stringify(file)}), 'yin');
      yin.work(60000);`;
    const worker = spawn(process.execPath, ['-e', code], { stdio: 'inherit' });
    const exited = new Promise((resolve) => worker.on('exit', (status, signal) => resolve(signal)));
    // The worker has resumed the sleeper (its first effect) and is spinning.
    const start = Date.now();
    while (yin.agent(sleeper).state !== 'runnable') {
      assert.ok(Date.now() - start < 30000, 'the worker never ran the agent');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const running = yin.agent(agent);
    assert.equal(running.state, 'running');
    assert.equal(Number(running.owner), worker.pid);
    assert.equal(yin.recover(), 0);
    worker.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.equal(yin.agent(agent).state, 'running');
    assert.equal(yin.recover(), 1);
    assert.equal(yin.agent(agent).state, 'runnable');
    assert.deepEqual(yin.work(0), { taken: 2, finished: 2, parked: 0, failed: 0 });
    // Resumed once: a repeated (resume sleeper 7) would have failed the agent.
    assert.equal(yin.agent(sleeper).result, 8);
    assert.deepEqual(yin.agent(agent).result, new Keyword('finished'));
  } finally {
    yin.close();
    slab.close();
  }
});

for (const projection of ['walker', 'stack']) {
  test(`a step limit stops an endless loop (${projection})`, () =>
    withYin((yin) => {
      const forever = yin.compile('(defn f [x] (f x)) (f 1)');
      const fact = yin.compile('(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 10)');
      yin.setStepLimit(10000);
      throwsEve(assert, () => yin.run(forever, projection), 'EVE_ERR_INVALID_ARGUMENT');
      assert.throws(() => yin.run(forever, projection), /ran more than 10000 steps/);
      const agents = yin.agents();
      const failed = yin.agent(agents[agents.length - 1]);
      assert.equal(failed.state, 'failed');
      assert.match(failed.error, /ran more than 10000 steps/);
      // Under the limit a program finishes with its value.
      assert.equal(yin.run(fact, projection).value, 3628800);
      // 0 lifts the limit: a loop longer than it finishes.
      yin.setStepLimit(0n);
      const longer = yin.run(
        yin.compile('(defn countdown [n] (if (= n 0) :done (countdown (- n 1)))) (countdown 5000)'),
        projection,
      );
      assert.deepEqual(longer.value, new Keyword('done'));
      assert.ok(longer.steps > 10000, `steps ${longer.steps}`);
      assert.throws(() => yin.setStepLimit(-1), RangeError);
    }));
}

test('workers run spawned and woken agents; failures are recorded', () =>
  withYin((yin) => {
    const agent = yin.spawn(yin.compile('(* 2 (park))'), 'stack');
    assert.equal(yin.queued(), 1);
    assert.deepEqual(yin.work(0, 5000), { taken: 1, finished: 0, parked: 1, failed: 0 });
    yin.wake(agent, 21);
    assert.deepEqual(yin.work(), { taken: 1, finished: 1, parked: 0, failed: 0 });
    assert.equal(yin.agent(agent).result, 42);

    const failing = yin.spawn(yin.compile('(+ 1 :a)'), 'walker');
    assert.equal(yin.work(0).failed, 1);
    const info = yin.agent(failing);
    assert.equal(info.state, 'failed');
    assert.equal(typeof info.error, 'string');
    assert.ok(info.error.length > 0);
    assert.deepEqual(yin.agents(), [agent, failing]);
  }));

test('streams from the host', () =>
  withYin((yin) => {
    const stream = yin.streamMake();
    const cursor = yin.cursor(stream);
    assert.equal(yin.next(cursor), undefined);
    yin.put(stream, { a: 1 });
    yin.put(stream, null);
    yin.put(stream, ['x', 2.5, new Keyword('k')]);
    assert.deepEqual(yin.next(cursor), { value: { a: 1 } });
    assert.deepEqual(yin.next(cursor), { value: null });
    assert.deepEqual(yin.next(cursor), { value: ['x', 2.5, new Keyword('k')] });
    assert.equal(yin.next(cursor), undefined);
    assert.equal(yin.closed(stream), false);
    yin.closeStream(stream);
    assert.equal(yin.closed(stream), true);
    throwsEve(assert, () => yin.put(stream, 1), 'EVE_ERR_INVALID_ARGUMENT');
  }));

test('bad input is reported', () => {
  const slab = eve.openAnonymous();
  const yin = Yin.open(slab, 'yin');
  throwsEve(assert, () => yin.compile('(+ 1 2))'), 'EVE_ERR_INVALID_ARGUMENT');
  assert.throws(() => yin.compile('(+ 1 2))'), /line 1, column 8/);
  assert.throws(() => yin.compile('(+ 1\n  (* 2 3'), /line \d+, column \d+/);
  assert.throws(() => yin.compile(42), TypeError);
  assert.throws(() => yin.run(1, 'fast'), TypeError);
  throwsEve(assert, () => yin.resume(987654321, 1), 'EVE_ERR_INVALID_ARGUMENT');
  throwsEve(assert, () => yin.agent(987654321), 'EVE_ERR_NOT_FOUND');
  throwsEve(assert, () => yin.run(yin.compile('(+ 1 "a")'), 'stack'), 'EVE_ERR_INVALID_ARGUMENT');
  // A made-up handle is refused by eve, never followed.
  throwsEve(assert, () => eve.Yin.prototype.compile.call({ _handle: 0x7fff1236n }, '1'), 'EVE_ERR_INVALID_ARGUMENT');
  throwsEve(assert, () => eve.Yin.prototype.compile.call({ _handle: 0n }, '1'), 'EVE_ERR_NULL_POINTER');
  assert.throws(() => Yin.open({}, 'yin'), TypeError);
  // The runtime keeps the slab busy until it is closed; a closed one is refused.
  throwsEve(assert, () => slab.close(), 'EVE_ERR_BUSY');
  yin.close();
  yin.close();
  throwsEve(assert, () => eve.Yin.prototype.compile.call({ _handle: yin._handle }, '1'), 'EVE_ERR_INVALID_ARGUMENT');
  slab.close();
});

test('EDN round trips', () => {
  const text = '[1 -2 3.5 "a\\"b\\n" :k/w sym nil true {:x [1]} #yin/stream 3 ##Inf 12345678901234567890]';
  const value = eve.readEdn(text);
  assert.deepEqual(value, [
    1, -2, 3.5, 'a"b\n', new Keyword('k/w'), new eve.EdnSymbol('sym'), null, true, { x: [1] },
    new eve.Tagged('yin/stream', 3), Infinity, 12345678901234567890n,
  ]);
  assert.deepEqual(eve.readEdn(eve.writeEdn(value)), value);
});
