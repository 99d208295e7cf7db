'use strict';
// Yin from JS: a runtime on a slab whose programs (a Clojure subset) run as agents that can
// park and be resumed by any thread or process that opens the same runtime. The addon's
// `yin` functions take the runtime's handle (a BigInt token eve checks on every call) and
// EDN text; this module turns JS values into EDN and back.

/** Which machine runs a program (eve_yin_projection). */
const Projection = Object.freeze({ walker: 0, stack: 1 });
/** Where an agent is in its life (eve_yin_state), by code. */
const AgentStates = Object.freeze([undefined, 'runnable', 'running', 'parked', 'done', 'failed']);
/** What a parked agent waits for (eve_yin_wait), by code. */
const Waits = Object.freeze(['none', 'resume', 'stream']);

module.exports = function makeYin(addon, Keyword, EdnSymbol) {
  const native = addon.yin;

  /** A tagged EDN value: `#yin/stream 3` is new Tagged('yin/stream', 3). */
  class Tagged {
    constructor(tag, value) {
      this.tag = tag;
      this.value = value;
    }

    toString() {
      return `#${this.tag} ${writeEdn(this.value)}`;
    }
  }

  /**
   * EDN text for a JS value: null/undefined nil, booleans, numbers (integers as integers),
   * BigInts, strings, Keyword and EdnSymbol instances, arrays as vectors, Maps and plain
   * objects as maps (an object's keys become keywords).
   */
  function writeEdn(value) {
    if (value === null || value === undefined) return 'nil';
    switch (typeof value) {
      case 'boolean':
        return value ? 'true' : 'false';
      case 'bigint':
        return value.toString();
      case 'number':
        if (Number.isNaN(value)) return '##NaN';
        if (!Number.isFinite(value)) return value > 0 ? '##Inf' : '##-Inf';
        return String(value);
      case 'string':
        return `"${value.replace(/[\\"\n\t\r]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t', '\r': '\\r' })[c])}"`;
      case 'object':
        if (value instanceof Keyword) return `:${value.name}`;
        if (value instanceof EdnSymbol) return value.name;
        if (value instanceof Tagged) return value.toString();
        if (Array.isArray(value)) return `[${value.map(writeEdn).join(' ')}]`;
        if (value instanceof Map) {
          return `{${[...value].map(([k, v]) => `${writeEdn(k)} ${writeEdn(v)}`).join(', ')}}`;
        }
        return `{${Object.entries(value)
          .map(([k, v]) => `:${k} ${writeEdn(v)}`)
          .join(', ')}}`;
      default:
        throw new TypeError(`no EDN for a ${typeof value}`);
    }
  }

  /**
   * The JS value of EDN text: nil null, integers Numbers (BigInts beyond 2^53), floats
   * Numbers, strings, keywords Keyword, symbols EdnSymbol, vectors and lists arrays, maps
   * plain objects when every key is a distinct keyword or string (named without the colon),
   * else Maps; tagged values (`#yin/fn 12`, `#yin/stream 3`) Tagged.
   */
  function readEdn(text) {
    let at = 0;
    const fail = (what) => {
      throw new SyntaxError(`EDN at offset ${at}: ${what} in ${text}`);
    };
    const space = () => {
      while (at < text.length) {
        const c = text[at];
        if (c === ',' || /\s/.test(c)) at++;
        else if (c === ';') while (at < text.length && text[at] !== '\n') at++;
        else break;
      }
    };
    const token = () => {
      const start = at;
      while (at < text.length && !/[\s,()[\]{}";]/.test(text[at])) at++;
      return text.slice(start, at);
    };
    const items = (close) => {
      const out = [];
      for (;;) {
        space();
        if (at >= text.length) fail(`missing ${close}`);
        if (text[at] === close) {
          at++;
          return out;
        }
        out.push(value());
      }
    };
    const string = () => {
      at++;
      let out = '';
      while (at < text.length) {
        const c = text[at++];
        if (c === '"') return out;
        if (c !== '\\') {
          out += c;
          continue;
        }
        const e = text[at++];
        if (e === 'n') out += '\n';
        else if (e === 't') out += '\t';
        else if (e === 'r') out += '\r';
        else if (e === 'u') {
          out += String.fromCharCode(parseInt(text.slice(at, at + 4), 16));
          at += 4;
        } else out += e;
      }
      return fail('a string without its closing quote');
    };
    const atom = (t) => {
      if (t === 'nil') return null;
      if (t === 'true') return true;
      if (t === 'false') return false;
      if (/^[+-]?\d/.test(t)) {
        const n = t.replace(/[NM]$/, '');
        if (/^[+-]?\d+$/.test(n)) {
          const big = BigInt(n);
          return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
        }
        const x = Number(n);
        if (Number.isNaN(x)) fail(`bad number ${t}`);
        return x;
      }
      return new EdnSymbol(t);
    };
    const mapOf = (kvs) => {
      const names = [];
      for (let i = 0; i < kvs.length; i += 2) {
        const k = kvs[i];
        if (k instanceof Keyword) names.push(k.name);
        else if (typeof k === 'string') names.push(k);
        else break;
      }
      if (names.length * 2 === kvs.length && new Set(names).size === names.length) {
        const out = {};
        names.forEach((name, i) => Object.defineProperty(out, name, { value: kvs[2 * i + 1], enumerable: true, writable: true, configurable: true }));
        return out;
      }
      const out = new Map();
      for (let i = 0; i < kvs.length; i += 2) out.set(kvs[i], kvs[i + 1]);
      return out;
    };
    const value = () => {
      space();
      if (at >= text.length) fail('the text ends where a value was expected');
      const c = text[at];
      if (c === '[' || c === '(') {
        at++;
        return items(c === '[' ? ']' : ')');
      }
      if (c === '{') {
        at++;
        const kvs = items('}');
        if (kvs.length % 2) fail('a map needs an even number of forms');
        return mapOf(kvs);
      }
      if (c === '"') return string();
      if (c === ':') {
        at++;
        return new Keyword(token());
      }
      if (c === '#') {
        if (text.startsWith('##', at)) {
          at += 2;
          const t = token();
          if (t === 'NaN') return NaN;
          if (t === 'Inf') return Infinity;
          if (t === '-Inf') return -Infinity;
          fail(`unknown ##${t}`);
        }
        at++;
        const tag = token();
        return new Tagged(tag, value());
      }
      const t = token();
      if (!t) fail(`unexpected ${c}`);
      return atom(t);
    };
    const out = value();
    space();
    if (at < text.length) fail('more than one value');
    return out;
  }

  function projectionArg(projection) {
    const name = projection ?? 'stack';
    if (!Object.prototype.hasOwnProperty.call(Projection, name)) {
      throw new TypeError(`projection must be 'walker' or 'stack', not ${String(name)}`);
    }
    return Projection[name];
  }

  function result(r) {
    return {
      agent: r.agent,
      state: AgentStates[r.state],
      parked: AgentStates[r.state] === 'parked',
      wait: Waits[r.wait],
      cursor: r.cursor,
      steps: r.steps,
      valueEdn: r.valueEdn,
      value: r.valueEdn === null ? undefined : readEdn(r.valueEdn),
    };
  }

  // Closes runtimes that were garbage collected without close() (they keep the slab busy).
  const finalizer = new FinalizationRegistry((handle) => {
    try {
      native.close(handle);
    } catch {
      // already closed
    }
  });

  /**
   * A Yin runtime on a slab (eve_yin_open): programs compiled to datoms in the slab, run as
   * agents whose parked states live in the slab too. Close it before the slab.
   */
  class Yin {
    /** Opens (creating it if needed) the runtime called `name` on `slab`. */
    static open(slab, name) {
      return new Yin(native.open(slab, name));
    }

    constructor(handle) {
      if (typeof handle !== 'bigint') throw new TypeError('use Yin.open(slab, name)');
      this._handle = handle;
      this._closed = false;
      finalizer.register(this, handle, this);
    }

    /** Closes the handle; agents, programs and streams stay in the slab. Again: a no-op. */
    close() {
      if (this._closed) return;
      native.close(this._handle);
      this._closed = true;
      finalizer.unregister(this);
    }

    [Symbol.dispose]() {
      this.close();
    }

    /** Compiles source text; returns the program's id. Errors say the line and column. */
    compile(source) {
      return native.compile(this._handle, source);
    }

    /**
     * Runs `program` here as a new agent ('walker' or 'stack', default 'stack') until it
     * finishes or parks: { agent, state: 'done'|'parked', parked, wait, cursor, steps,
     * value, valueEdn }.
     */
    run(program, projection) {
      return result(native.run(this._handle, program, projectionArg(projection)));
    }

    /** Compiles and runs `source` on the stack machine; returns its value (throws if it parks). */
    eval(source) {
      const r = this.run(this.compile(source), 'stack');
      if (r.parked) throw new Error(`the program parked (agent ${r.agent})`);
      return r.value;
    }

    /** Resumes the parked agent here with `value` as the value of its (park). */
    resume(agent, value) {
      return result(native.resume(this._handle, agent, writeEdn(value)));
    }

    /** Queues a new agent running `program` for a worker; returns its id. */
    spawn(program, projection) {
      return native.spawn(this._handle, program, projectionArg(projection));
    }

    /** Makes the parked agent runnable with `value` and queues it. */
    wake(agent, value) {
      native.wake(this._handle, agent, writeEdn(value));
    }

    /**
     * Works the run queue on this thread until it is empty for `idleMs` or `timeoutMs`
     * passes (omitted: no limit): { taken, finished, parked, failed }.
     */
    work(idleMs = 0, timeoutMs) {
      return native.work(this._handle, idleMs, timeoutMs);
    }

    /**
     * The record of `agent`: { agent, state, projection, program, owner, wait, cursor,
     * result (when done), resultEdn, error (when failed) }.
     */
    agent(agent) {
      const a = native.agent(this._handle, agent);
      return {
        agent: a.agent,
        state: AgentStates[a.state],
        projection: a.projection === Projection.walker ? 'walker' : 'stack',
        program: a.program,
        owner: a.owner,
        wait: Waits[a.wait],
        cursor: a.cursor,
        resultEdn: a.resultEdn,
        result: a.resultEdn === null ? undefined : readEdn(a.resultEdn),
        error: a.error,
      };
    }

    /** The ids of every agent, oldest first. */
    agents() {
      return native.agents(this._handle);
    }

    /**
     * Limits the machine steps of each run on this handle from now on: a run, resume or
     * worker's run that would take more than `limit` steps fails (EVE_ERR_INVALID_ARGUMENT,
     * "... ran more than N steps ...") and its agent is recorded as failed. 0 (the default)
     * means no limit.
     */
    setStepLimit(limit) {
      native.setStepLimit(this._handle, limit);
    }

    /** Agents in the run queue now. */
    queued() {
      return native.queued(this._handle);
    }

    /**
     * Takes over every agent whose owning process died while running it: each is queued
     * again from its last checkpoint (when it was taken to run, or its last stream
     * operation or resume); its effects are not repeated. `work` does this by itself when
     * the queue is empty. Returns how many were taken over.
     */
    recover() {
      return native.recover(this._handle);
    }

    /**
     * Turns the execution trace on or off for runs through this handle. While on, every
     * step is written as datoms to the database `<name>/trace` on the same slab
     * (:trace/agent, :trace/run, :trace/step, :trace/kind, :trace/node, :trace/value,
     * :trace/depth): open it with slab.database() and query it with read.query(), with the
     * program database (`name`) as a second source to join nodes.
     */
    setTrace(on) {
      native.setTrace(this._handle, on);
    }

    /** Whether runs through this handle are traced. */
    trace() {
      return native.trace(this._handle);
    }

    /** A new, open, empty stream; returns its id. */
    streamMake() {
      return native.streamMake(this._handle);
    }

    /** Appends `value` to `stream`; readers parked on it are queued. */
    put(stream, value) {
      native.streamPut(this._handle, stream, writeEdn(value));
    }

    /** A new cursor at the start of `stream`. */
    cursor(stream) {
      return native.streamCursor(this._handle, stream);
    }

    /**
     * The next value under `cursor` as { value }, or undefined if there is none yet or the
     * stream is closed and read to its end.
     */
    next(cursor) {
      const edn = native.streamNext(this._handle, cursor);
      return edn === null ? undefined : { value: readEdn(edn) };
    }

    /** Whether `stream` is closed. */
    closed(stream) {
      return native.streamClosed(this._handle, stream);
    }

    /** Closes `stream`; readers parked on it are queued with nil. */
    closeStream(stream) {
      native.streamClose(this._handle, stream);
    }
  }

  return { Yin, Tagged, readEdn, writeEdn, Projection };
};
