'use strict';
// eve for Node.js: a friendly layer over the Node-API addon in src/addon.cc.
//
// The addon's classes (Slab, Read, Iter) are used as they are; this module adds the
// conveniences that are easier in JavaScript (generators, Symbol.dispose, promises, small
// helpers) to their prototypes, so a lookup costs one native call and nothing more.
//
// Zero copy: Buffers handed out by a Read (get, getMany, entries) view the slab itself.
// They are valid until the read ends; then they are detached and read as empty (length 0).
// Copy what you keep (Buffer.from(buf)). Never write into them.

const path = require('node:path');

const addon = require(path.join(__dirname, 'build', 'Release', 'eve.node'));

/** The error thrown (or rejected) for every failing eve call. */
class EveError extends Error {
  constructor(message, code, status) {
    super(message);
    this.name = 'EveError';
    /** The status name, e.g. 'EVE_ERR_BUSY'. */
    this.code = code;
    /** The numeric eve_status. */
    this.status = status;
  }
}
addon.setErrorClass(EveError);

/** eve_status values by name. */
const Status = Object.freeze({
  EVE_OK: 0,
  EVE_ERR_INVALID_ARGUMENT: 1,
  EVE_ERR_NULL_POINTER: 2,
  EVE_ERR_IO: 3,
  EVE_ERR_NOT_A_SLAB: 4,
  EVE_ERR_VERSION: 5,
  EVE_ERR_CORRUPT: 6,
  EVE_ERR_FULL: 7,
  EVE_ERR_BUSY: 8,
  EVE_ERR_NOT_FOUND: 9,
  EVE_ERR_READ_ONLY: 10,
  EVE_ERR_WRONG_KIND: 11,
  EVE_ERR_EXHAUSTED: 12,
  EVE_ERR_INTERNAL: 13,
});

const { Slab, Read, Iter } = addon;
const dispose = Symbol.dispose;

// ---- Slab ------------------------------------------------------------------------------

Object.defineProperties(Slab.prototype, {
  /** Resolves with the root's new value once it differs from `seen`, or with `seen` on timeout. */
  waitForChange: {
    value: function waitForChange(root, seen, timeoutMs) {
      try {
        return this._waitForChange(root, seen, timeoutMs);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    writable: true,
    configurable: true,
  },
  /** Sets one key in one transaction. */
  put: {
    value: function put(map, key, value) {
      return this.transact(map, [{ put: key, value }]);
    },
    writable: true,
    configurable: true,
  },
  /** Removes one key in one transaction. */
  remove: {
    value: function remove(map, key) {
      return this.transact(map, [{ remove: key }]);
    },
    writable: true,
    configurable: true,
  },
  /** Runs fn(read) in a read and ends it afterwards, whatever happens; returns fn's result. */
  withRead: {
    value: function withRead(fn) {
      const read = this.read();
      try {
        return fn(read);
      } finally {
        read.end();
      }
    },
    writable: true,
    configurable: true,
  },
  /** A copy of the value of `key` (a Buffer that outlives the read), or undefined. */
  getCopy: {
    value: function getCopy(map, key) {
      const read = this.read();
      try {
        return read.getCopy(map, key);
      } finally {
        read.end();
      }
    },
    writable: true,
    configurable: true,
  },
});
if (dispose) {
  Object.defineProperty(Slab.prototype, dispose, {
    value: function () {
      if (!this.closed) this.close();
    },
    writable: true,
    configurable: true,
  });
}

// ---- Read ------------------------------------------------------------------------------

// getCopy copies through a scratch buffer with getInto: no external Buffer is created, which
// is several times cheaper than Buffer.from(read.get(...)).
let scratch = Buffer.allocUnsafe(4096);

Object.defineProperties(Read.prototype, {
  /** A copy of the value of `key` (an ordinary Buffer that outlives the read), or undefined. */
  getCopy: {
    value: function getCopy(map, key) {
      let n = this.getInto(map, key, scratch);
      if (n === undefined) return undefined;
      if (n > scratch.length) {
        scratch = Buffer.allocUnsafe(Math.max(n, scratch.length * 2));
        n = this.getInto(map, key, scratch);
      }
      return Buffer.from(scratch.subarray(0, n));
    },
    writable: true,
    configurable: true,
  },
  /**
   * Yields every [key, value] of the map (hash order), fetching `batchSize` per native call.
   * The Buffers stay valid until the read ends, even after the loop finishes.
   */
  entries: {
    value: function* entries(map, { batchSize = 256 } = {}) {
      const iter = this.iterate(map);
      for (;;) {
        const batch = iter.next(batchSize);
        if (batch.length === 0) return;
        yield* batch;
      }
    },
    writable: true,
    configurable: true,
  },
});
if (dispose) {
  Object.defineProperty(Read.prototype, dispose, {
    value: function () {
      this.end();
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(Iter.prototype, dispose, {
    value: function () {
      this.close();
    },
    writable: true,
    configurable: true,
  });
}

// ---- module ----------------------------------------------------------------------------

/** Opens (creating by default) the slab file at `path`. */
function open(path, options) {
  return addon.open(path, options);
}

/** Creates a slab in anonymous shared memory (shared with processes forked afterwards). */
function openAnonymous(options) {
  return addon.openAnonymous(options);
}

/** The library version, e.g. '0.1.0'. */
function version() {
  return addon.version();
}

/** The name of an eve_status value. */
function statusName(status) {
  return addon.statusName(status);
}

/** The address of a Buffer's first byte (for checking that lookups do not copy). */
function bufferAddress(buf) {
  return addon.bufferAddress(buf);
}

module.exports = {
  open,
  openAnonymous,
  version,
  statusName,
  bufferAddress,
  EveError,
  Status,
  Slab,
  Read,
  Iter,
};
