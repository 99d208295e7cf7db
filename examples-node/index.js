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
//
// DaoDB: slab.database/transactEdn/basisT/waitForTransaction and read.ident/datoms/log.
// Datoms are plain objects {e, a, t, m, type, value} whose values are copies (they outlive
// the read). read.query and read.pull return JS values built in C++ from eve's answer nodes
// (eve_db_query_answer/eve_db_pull_answer); read.queryEdn and read.pullEdn return EDN text.

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

/**
 * An EDN keyword in a query or pull answer: `name` is the text without the colon
 * ('person/name' for :person/name). Keyword values come back as instances, so that they
 * can be told from strings.
 */
class Keyword {
  constructor(name) {
    /** The keyword without its colon: 'person/name'. */
    this.name = String(name);
  }

  /** The keyword as EDN: ':person/name'. */
  toString() {
    return `:${this.name}`;
  }
}

/** An EDN symbol in a query or pull answer (`name` as written: 'foo', 'my.ns/bar'). */
class EdnSymbol {
  constructor(name) {
    /** The symbol's text. */
    this.name = String(name);
  }

  /** The symbol as EDN (its name). */
  toString() {
    return this.name;
  }
}
addon.setValueClasses(Keyword, EdnSymbol);

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
  /** Resolves with the basis t once a transaction after `afterT` is published, or on timeout. */
  waitForTransaction: {
    value: function waitForTransaction(db, afterT, timeoutMs) {
      try {
        return this._waitForTransaction(db, afterT, timeoutMs);
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

// ---- DaoDB helpers ----------------------------------------------------------------------

/** eve_index values by name. */
const DatomIndex = Object.freeze({ eavt: 0, aevt: 1, avet: 2, vaet: 3 });
/** eve_view values by name. */
const DatomView = Object.freeze({ current: 0, asOf: 1, since: 2, history: 3 });

function enumArg(table, value, what) {
  if (typeof value !== 'string') throw new TypeError(`${what} must be one of ${Object.keys(table).join(', ')}`);
  if (!Object.prototype.hasOwnProperty.call(table, value)) {
    throw new TypeError(`${what} must be one of ${Object.keys(table).join(', ')}, not ${JSON.stringify(value)}`);
  }
  return table[value];
}

/**
 * EDN text for a JS value: numbers and BigInts as integers (or doubles), booleans, null as
 * nil, a string starting with ':' as a keyword and any other string as a string, a Date as
 * #inst, an array as a vector (e.g. a lookup ref).
 */
function toEdn(value, what) {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new RangeError(`${what} must be a finite number`);
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        throw new RangeError(`${what} must be a safe integer (or a BigInt)`);
      }
      return String(value); // '42' an integer; '1.5', '1e-7' doubles
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      if (value.startsWith(':')) {
        if (value.length < 2 || /[\s,"\\\[\]{}()]/.test(value)) {
          throw new TypeError(`${what}: ${JSON.stringify(value)} is not a keyword`);
        }
        return value;
      }
      return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    case 'object':
      if (value === null) return 'nil';
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new RangeError(`${what} is an invalid Date`);
        return `#inst "${value.toISOString()}"`;
      }
      if (Array.isArray(value)) return `[${value.map((v, i) => toEdn(v, `${what}[${i}]`)).join(' ')}]`;
      break;
    default:
      break;
  }
  throw new TypeError(`${what} must be a number, BigInt, boolean, null, string, Date or array`);
}

// ---- Read ------------------------------------------------------------------------------

/** The [view, t] arguments of the native query calls from {view, t}. */
function viewArgs(options) {
  const { view = 'current', t } = options ?? {};
  const v = enumArg(DatomView, view, 'view');
  if ((v === DatomView.asOf || v === DatomView.since) && t === undefined) {
    throw new TypeError(`the ${view} view needs options.t`);
  }
  return [v, t];
}

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
   * Runs a Datalog query (EDN) in this process on the shared indexes, in this read's
   * version, against `view` ('current', 'asOf', 'since', 'history'; `t` for asOf and
   * since); `inputs` is an EDN vector with one item per :in binding after $ (a `$name`
   * source may be another database: `#eve/db n`, n its root index). Returns the answer as
   * JS values: a relation is an Array of row Arrays, `?x .` a value or null, `[?x ...]` an
   * Array, `[?a ?b]` an Array or null, :keys/:syms/:strs an Array of objects; see README.
   */
  query: {
    value: function query(db, text, inputs, options) {
      const answer = this._query(db, text, inputs, ...viewArgs(options));
      // A relation of plain values comes as its cells in one array; cut it into rows.
      if (Array.isArray(answer) && Object.hasOwn(answer, '__eveRowWidth')) {
        const width = answer.__eveRowWidth;
        const rows = new Array(answer.length / width);
        for (let r = 0, at = 0; r < rows.length; r++, at += width) rows[r] = answer.slice(at, at + width);
        return rows;
      }
      return answer;
    },
    writable: true,
    configurable: true,
  },
  /** query(), with the answer as EDN text ('#{["Ada" 36]}'). */
  queryEdn: {
    value: function queryEdn(db, text, inputs, options) {
      return this._queryEdn(db, text, inputs, ...viewArgs(options));
    },
    writable: true,
    configurable: true,
  },
  /**
   * The datoms of `index` ('eavt', 'aevt', 'avet', 'vaet') in `view` ('current', 'asOf',
   * 'since', 'history'; `t` for asOf and since) whose keys start with `components` (EDN
   * text like '[:person/email "ada@x"]' or an array of JS values, see toEdn), as an array
   * of {e, a, t, m, type, value}: one native call, which drains the cursor 256 at a time.
   * With `end` (same forms) the keys run from `components` (inclusive) to `end`
   * (exclusive) instead: in AVET, [':person/age', 30] to [':person/age', 40] gives ages
   * 30 to 39.
   */
  datoms: {
    value: function datoms(db, index = 'eavt', view = 'current', { t, components, end } = {}) {
      const i = enumArg(DatomIndex, index, 'index');
      const v = enumArg(DatomView, view, 'view');
      if ((v === DatomView.asOf || v === DatomView.since) && t === undefined) {
        throw new TypeError(`the ${view} view needs options.t`);
      }
      let edn;
      if (components !== undefined && components !== null) {
        if (typeof components === 'string') edn = components;
        else if (Array.isArray(components)) edn = toEdn(components, 'components');
        else throw new TypeError('components must be EDN text or an array');
      }
      let endEdn;
      if (end !== undefined && end !== null) {
        if (typeof end === 'string') endEdn = end;
        else if (Array.isArray(end)) endEdn = toEdn(end, 'end');
        else throw new TypeError('end must be EDN text or an array');
      }
      return this._datoms(db, i, v, t, edn, endEdn);
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

// ---- Yin -------------------------------------------------------------------------------

const { Yin, Tagged, readEdn, writeEdn } = require('./yin.js')(addon, Keyword, EdnSymbol);

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
  DatomIndex,
  DatomView,
  toEdn,
  open,
  openAnonymous,
  version,
  statusName,
  bufferAddress,
  EveError,
  Status,
  Keyword,
  EdnSymbol,
  Slab,
  Read,
  Iter,
  Yin,
  Tagged,
  readEdn,
  writeEdn,
};
