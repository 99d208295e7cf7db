'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const eve = require('..');
const { tmpSlabPath } = require('../fixtures/helpers');

const quickstart = process.env.EVE_QUICKSTART || path.join(__dirname, '..', '..', 'build', 'examples-c', 'eve_quickstart');

test(
  'a value written by the C quickstart is read by Node',
  { timeout: 60000, skip: fs.existsSync(quickstart) ? false : `${quickstart} not built (cmake --build build)` },
  () => {
    const file = tmpSlabPath('quickstart.slab');
    const out = execFileSync(quickstart, [file], { encoding: 'utf8' });
    assert.match(out, /ada\s+-> Ada Lovelace/);
    const slab = eve.open(file, { mustExist: true });
    const users = slab.map('users');
    slab.withRead((r) => {
      assert.equal(r.get(users, 'ada').toString(), 'Ada Lovelace');
      assert.equal(r.get(users, 'alan').toString(), 'Alan Turing');
      assert.equal(r.get(users, 'grace'), undefined);
      assert.equal(r.count(users), 2);
    });
    // And the other way round: Node writes, the C program (a second process) still works on it.
    slab.put(users, 'grace', 'Grace Hopper');
    slab.close();
    const again = execFileSync(quickstart, [file], { encoding: 'utf8' });
    assert.match(again, /grace -> Grace Hopper/);
    assert.match(again, /users holds 3 entries/);
  },
);
