'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
} catch {
  tsc = undefined;
}

test(
  'index.d.ts type-checks a use of every function and rejects misuse',
  { timeout: 120000, skip: tsc ? false : 'typescript is not installed (npm ci installs it)' },
  () => {
    assert.ok(fs.existsSync(path.join(root, 'index.d.ts')));
    const res = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'fixtures', 'tsconfig.json')], {
      encoding: 'utf8',
    });
    assert.equal(res.status, 0, `tsc failed:\n${res.stdout}${res.stderr}`);
  },
);
