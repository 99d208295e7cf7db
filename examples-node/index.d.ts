// TypeScript typings of eve-node, the Node.js binding of libeve (see README.md).
//
// ZERO-COPY LIFETIME. Every Buffer a Read hands out (get, getMany, entries, and an Iter's
// next) is a view of the slab's shared memory, not a copy. It is valid only until that
// read ends (read.end(), `using`, or the Read being garbage collected) or, for an
// iterator's Buffers, until the iterator is closed. At that moment the binding detaches the
// Buffer's ArrayBuffer (napi_detach_arraybuffer): the Buffer then has length 0 and reads as
// empty, instead of pointing at memory that eve may have freed and reused. Copy what you
// keep: `Buffer.from(buf)`. Never write into these Buffers: they are the slab itself (on a
// read-only handle a write crashes the process; on a writable one it corrupts the slab for
// every process).
//
// Errors: every failing eve call throws (or, for waitForChange, rejects with) an EveError
// whose `code` is the eve status name (e.g. 'EVE_ERR_BUSY'), `status` the number and
// `message` eve's explanation. Arguments of the wrong type throw TypeError, out of range
// ones RangeError.
//
// DaoDB: slab.database(name) gives a database's root index; slab.transactEdn runs EDN
// transaction data; read.ident/datoms/log query the version a read sees and return plain
// datom objects whose values are copies (they outlive the read). read.query and read.pull
// return answers as JS values (EdnValue: Keyword and EdnSymbol instances, Dates, Buffers,
// Arrays, objects), read.queryEdn and read.pullEdn as EDN text. Entity ids, attribute ids
// and t are numbers (all below 2^53).
//
// Threads: a Slab may be used by the thread (main or worker_thread) that opened it; a Read
// and its Iters belong to the thread that began the read. Each worker opens its own Slab
// on the same file (or relies on the slab being shared memory across processes).

/// <reference types="node" />

/** A key or value: bytes (any ArrayBufferView or ArrayBuffer) or a string (as UTF-8). */
export type Bytes = string | ArrayBufferView | ArrayBuffer;

/** A 64-bit root word: a BigInt, or a non-negative safe integer number. */
export type U64 = bigint | number;

/** The index of a root (a map or a raw root), as returned by map() and root(). */
export type RootIndex = number;

/** One change of a transaction. */
export type Op =
  | { put: Bytes; value: Bytes }
  | { remove: Bytes }
  /** Compact put. */
  | [key: Bytes, value: Bytes]
  /** Compact remove. */
  | [key: Bytes]
  | [key: Bytes, value: null | undefined];

export interface OpenOptions {
  /** Map without write permission: writes fail with EVE_ERR_READ_ONLY; the file must exist. */
  readOnly?: boolean;
  /** Fail with EVE_ERR_IO instead of creating a missing file. */
  mustExist?: boolean;
  /** Reader slots of a newly created slab (threads reading at once, over all processes); 0 = default. */
  readerSlots?: number;
  /** The most the slab may grow to, in bytes (also the address range reserved); 0 = default (up to 1 TiB). */
  maxSize?: U64;
  /**
   * Permission bits (at most 0o777) of a file this open creates, before the umask; 0 = default,
   * 0o600 (whoever can write a slab can change its data). Ignored when the file exists.
   */
  mode?: number;
}

/** What a transaction did. */
export interface Commit {
  /** The map's root word after the transaction. */
  root: bigint;
  /** How many times the batch was re-applied because another writer published first. */
  retries: number;
  /** False when the batch changed nothing (then nothing was published). */
  changed: boolean;
}

export type RootKind = 'raw' | 'map' | 'set' | 'btree' | 'database';

export interface FoundRoot {
  index: RootIndex;
  kind: RootKind;
}

/** Counters describing a slab at one moment (numbers: all far below 2^53 in practice). */
export interface Stats {
  fileLen: number;
  heapBytes: number;
  bytesInUse: number;
  blocksInUse: number;
  freeBytes: number;
  liveReaders: number;
  oldestPinnedEpoch: number;
  globalEpoch: number;
  retiredBlocks: number;
  readerSlots: number;
  roots: number;
  sweeps: number;
  maxSize: number;
  /** Roots recovery sweeps set back to their last synced value so far. */
  rolledBackRoots: number;
}

export interface ReclaimReport {
  freedBlocks: number;
  keptBlocks: number;
}

export interface SweepReport {
  liveBlocks: number;
  liveBytes: number;
  freedBlocks: number;
  freedBytes: number;
  /** Roots this sweep set back to their last synced value. */
  rolledBackRoots: number;
}

// ---- DaoDB ------------------------------------------------------------------------------

/** The root index of a DaoDB database, as returned by database(). */
export type DbIndex = number;

/** An entity id (attribute ids and metadata entities are entities too); below 2^53. */
export type EntityId = number;

/** The four covering indexes (VAET holds reference datoms only). */
export type DatomIndexName = 'eavt' | 'aevt' | 'avet' | 'vaet';

/** Which datoms a query shows: true now, as of t, asserted after t (and true now), or every assertion and retraction. */
export type DatomViewName = 'current' | 'asOf' | 'since' | 'history';

/** eve_index values by name. */
export const DatomIndex: Readonly<Record<DatomIndexName, number>>;
/** eve_view values by name. */
export const DatomView: Readonly<Record<DatomViewName, number>>;

/** What a transaction did. */
export interface TxReport {
  /** The transaction's t (the database's basis t after it). */
  t: number;
  /** Datoms written (assertions and retractions); 0 when everything was already true. */
  datoms: number;
  /** Times the transaction was applied again because another writer published first. */
  retries: number;
  /** Each tempid of the data (strings as written, negative numbers as text like '-1') and its entity. */
  tempids: Record<string, EntityId>;
}

export interface TransactOptions {
  /** An EDN map (text) whose attributes describe the transaction: it becomes an entity, the `m` of the assertions. */
  metadata?: string | null;
  /** Return only once the transaction is on disk (EVE_TX_SYNCED); default false (survives a process crash, not a power loss). */
  synced?: boolean;
}

/** A JS value as a component of an index key (see toEdn). */
export type EdnComponent = number | bigint | boolean | null | string | Date | readonly EdnComponent[];

export interface DatomsOptions {
  /** The transaction of the asOf and since views (required for them, ignored otherwise). */
  t?: U64;
  /**
   * Leading components of the index's keys, in its order: EDN text ('[:person/email "a@x"]'
   * in AVET, '[20 :person/name]' in EAVT) or an array of JS values (see toEdn). None: all.
   */
  components?: string | readonly EdnComponent[] | null;
  /**
   * The end of a range (exclusive), in the same forms: with it the datoms run from
   * `components` up to `end` instead of sharing the prefix `components`.
   */
  end?: string | readonly EdnComponent[] | null;
}

/** The type of a datom's value, and the JS type it comes back as. */
export interface DatomValueTypes {
  nil: null;
  boolean: boolean;
  /** A number when it is a safe integer, else a BigInt. */
  long: number | bigint;
  double: number;
  string: string;
  /** Without the leading colon: 'person/name'. */
  keyword: string;
  symbol: string;
  /** Canonical text: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6'. */
  uuid: string;
  instant: Date;
  /** A copy. */
  bytes: Buffer;
  /** The entity referred to. */
  ref: EntityId;
}

export type DatomValueType = keyof DatomValueTypes;

/** One datom [e a v t m]; narrow `value` by testing `type`. */
export type Datom = {
  [K in DatomValueType]: {
    /** The entity. */
    e: EntityId;
    /** The attribute (an entity: read.ident(db, ':person/name')). */
    a: EntityId;
    /** The transaction. */
    t: number;
    /** 0 for a retraction, 1 for an assertion, or (>= 16) the transaction's metadata entity. */
    m: number;
    type: K;
    value: DatomValueTypes[K];
  };
}[DatomValueType];

/**
 * An EDN keyword in an answer of read.query or read.pull (keyword values come back as
 * instances, so that they can be told from strings).
 */
export class Keyword {
  constructor(name: string);
  /** The keyword without its colon: 'person/name' for :person/name. */
  readonly name: string;
  /** The keyword as EDN: ':person/name'. */
  toString(): string;
}

/** An EDN symbol in an answer of read.query or read.pull. */
export class EdnSymbol {
  constructor(name: string);
  /** The symbol's text: 'my.ns/sym'. */
  readonly name: string;
  /** The symbol as EDN (its name). */
  toString(): string;
}

/**
 * A value in an answer of read.query or read.pull:
 * - nil: null; boolean: boolean; double: number;
 * - long: number when it is a safe integer, else a BigInt;
 * - string: string; keyword: Keyword; symbol: EdnSymbol;
 * - uuid: string in canonical lowercase text ('f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
 * - instant: Date; bytes: Buffer (a copy); ref: the entity id (a number; a BigInt beyond 2^53);
 * - vector and set: Array (a set's items sorted and distinct);
 * - map: an EdnObject when every key is a keyword or a string and no two share a name (the
 *   property is the keyword without its colon, or the string), otherwise a Map.
 */
export type EdnValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Keyword
  | EdnSymbol
  | Date
  | Buffer
  | EdnValue[]
  | EdnObject
  | Map<EdnValue, EdnValue>;

/** An EDN map whose keys are keywords or strings: {'person/name': 'Ada', 'db/id': 1048576}. */
export interface EdnObject {
  [key: string]: EdnValue;
}

/** :find ?a ?b: the rows, each an Array with one cell per find element (sorted, distinct). */
export type QueryRelation = EdnValue[][];
/** :find ?a .: the value, or null when nothing matched. */
export type QueryScalar = EdnValue;
/** :find [?a ...]: the values. */
export type QueryCollection = EdnValue[];
/** :find [?a ?b]: one row, or null when nothing matched. */
export type QueryTuple = EdnValue[] | null;
/** :keys / :syms / :strs: one object per row, keyed by the names, in find order. */
export type QueryMaps = EdnObject[];
/** What read.query returns, by the shape of the :find spec. */
export type QueryResult = QueryRelation | QueryScalar | QueryCollection | QueryTuple | QueryMaps;

/** Options of read.query and read.queryEdn. */
export interface QueryOptions {
  /** Which datoms match (default 'current'); 'asOf' and 'since' need `t`. */
  view?: DatomViewName;
  /** The transaction of the asOf and since views. */
  t?: U64;
}

/**
 * EDN text for a JS value: integers (numbers or BigInts), doubles, booleans, null as nil, a
 * string starting with ':' as a keyword and any other string as a string, a Date as #inst,
 * an array as a vector. (A string value that starts with ':' must be given as EDN text.)
 */
export function toEdn(value: EdnComponent, what?: string): string;

/** The error of every failing eve call. */
export class EveError extends Error {
  constructor(message: string, code: StatusName, status: number);
  readonly name: 'EveError';
  /** The status name, e.g. 'EVE_ERR_BUSY'. */
  code: StatusName;
  /** The numeric eve_status. */
  status: number;
}

export type StatusName =
  | 'EVE_OK'
  | 'EVE_ERR_INVALID_ARGUMENT'
  | 'EVE_ERR_NULL_POINTER'
  | 'EVE_ERR_IO'
  | 'EVE_ERR_NOT_A_SLAB'
  | 'EVE_ERR_VERSION'
  | 'EVE_ERR_CORRUPT'
  | 'EVE_ERR_FULL'
  | 'EVE_ERR_BUSY'
  | 'EVE_ERR_NOT_FOUND'
  | 'EVE_ERR_READ_ONLY'
  | 'EVE_ERR_WRONG_KIND'
  | 'EVE_ERR_EXHAUSTED'
  | 'EVE_ERR_INTERNAL';

/** eve_status values by name. */
export const Status: Readonly<Record<StatusName, number>>;

/** A slab handle (eve_slab). Create with open() or openAnonymous(); not constructible. */
export class Slab {
  private constructor();
  /**
   * Closes the handle and unmaps the slab. Throws EVE_ERR_BUSY (and stays open) while
   * reads or iterators of it are open or a waitForChange is in flight. Afterwards every
   * call on it throws EVE_ERR_INVALID_ARGUMENT. A Slab garbage collected unclosed is
   * closed then.
   */
  close(): void;
  /** True once close() succeeded. */
  readonly closed: boolean;
  /**
   * The index of the map `name` (1 to 80 bytes of UTF-8), created empty if missing on a
   * writable handle. EVE_ERR_WRONG_KIND for a raw root; EVE_ERR_NOT_FOUND on a read-only
   * handle when missing.
   */
  map(name: string): RootIndex;
  /** The index of the raw root `name`, created holding 0 if missing. EVE_ERR_WRONG_KIND for a map. */
  root(name: string): RootIndex;
  /** The root `name` of any kind, without creating it; undefined if there is none. */
  findRoot(name: string): FoundRoot | undefined;
  /** The current value of a root (for a map root: the offset of its current version). */
  load(root: RootIndex): bigint;
  /**
   * Atomically sets the raw root to `desired` if it holds `expected`; returns the value it
   * held (the swap happened iff that equals `expected`). Wakes every waiter, in every
   * process. EVE_ERR_WRONG_KIND on a map root, EVE_ERR_READ_ONLY on a read-only handle.
   */
  compareExchange(root: RootIndex, expected: U64, desired: U64): bigint;
  /**
   * Applies the whole batch to the map as one atomic transaction (one native call, one
   * CAS, retried on conflict); later ops on the same key win. Keys and values are copied
   * into the slab. EVE_ERR_READ_ONLY on a read-only handle.
   */
  transact(map: RootIndex, ops: readonly Op[]): Commit;
  /** transact(map, [{put: key, value}]). */
  put(map: RootIndex, key: Bytes, value: Bytes): Commit;
  /** transact(map, [{remove: key}]). */
  remove(map: RootIndex, key: Bytes): Commit;
  /**
   * Begins a read (a pinned snapshot) on the calling thread. The first lookup of a map in
   * the read fixes the version of it the read sees. Keep reads short: an open read holds
   * back reclamation in every process.
   */
  read(): Read;
  /** Runs fn(read) and ends the read afterwards, even if fn throws. Buffers die with the read. */
  withRead<T>(fn: (read: Read) => T): T;
  /** A copied value of `key` (valid for ever), or undefined; one read per call. */
  getCopy(map: RootIndex, key: Bytes): Buffer | undefined;
  /**
   * Resolves with the root's value once it differs from `seen` (a commit to a map root, a
   * CAS on a raw root, by any thread or process), or with `seen` itself after `timeoutMs`
   * milliseconds. A negative, infinite or omitted timeout waits for ever (and keeps the
   * process alive). The wait runs on the libuv threadpool, so the event loop keeps running;
   * each pending wait occupies one threadpool thread (4 by default, UV_THREADPOOL_SIZE).
   * While it is pending, close() throws EVE_ERR_BUSY.
   */
  waitForChange(root: RootIndex, seen: U64, timeoutMs?: number): Promise<bigint>;
  /**
   * The index of the DaoDB database `name`, created empty if missing on a writable handle.
   * EVE_ERR_WRONG_KIND for a root of another kind; EVE_ERR_NOT_FOUND on a read-only handle
   * when missing.
   */
  database(name: string): DbIndex;
  /**
   * Runs EDN transaction data (a vector of entity maps and [:db/add e a v],
   * [:db/retract e a v], [:db/retract e a], [:db/retractEntity e], with tempids, idents and
   * lookup refs) as one atomic transaction, re-run on conflict with another writer. Invalid
   * data (malformed EDN, an unknown attribute, a wrong value type, ...) throws
   * EVE_ERR_INVALID_ARGUMENT with eve's explanation and changes nothing.
   */
  transactEdn(db: DbIndex, txEdn: string, options?: TransactOptions): TxReport;
  /** The t of the database's latest transaction (0 for none). */
  basisT(db: DbIndex): number;
  /**
   * Resolves with the basis t once a transaction after `afterT` is published (by any thread
   * or process), or with the basis t (at most `afterT`) after `timeoutMs` milliseconds. A
   * negative, infinite or omitted timeout waits for ever. Runs on the libuv threadpool like
   * waitForChange; while it is pending, close() throws EVE_ERR_BUSY.
   */
  waitForTransaction(db: DbIndex, afterT: U64, timeoutMs?: number): Promise<number>;
  /** Counters. */
  stats(): Stats;
  /** Frees every retired block no reader can still reach. EVE_ERR_READ_ONLY on a read-only handle. */
  reclaim(): ReclaimReport;
  /** The recovery sweep; EVE_ERR_BUSY unless this is the only handle and nothing is read. */
  recover(): SweepReport;
  /** Validates every reachable block; returns their number. EVE_ERR_CORRUPT if damaged. */
  check(): number;
  /** Whether the handle was opened read-only. */
  isReadOnly(): boolean;
  /** close() unless already closed (for `using`). */
  [Symbol.dispose](): void;
}

/**
 * A read (eve_read): a snapshot pinned on the thread that began it.
 *
 * Buffers it returns VIEW the slab (zero copy) and are detached (length 0) when the read
 * ends. Copy what must outlive the read.
 */
export class Read {
  private constructor();
  /**
   * The value of `key` as a zero-copy Buffer over the slab, or undefined when absent.
   * Valid until the read ends; then it is detached and empty. Read-only: never write to it.
   */
  get(map: RootIndex, key: Bytes): Buffer | undefined;
  /**
   * Looks up every key in one native call (eve_read_get_many); result[i] is the value of
   * keys[i] (a zero-copy Buffer, valid until the read ends) or undefined.
   */
  getMany(map: RootIndex, keys: readonly Bytes[]): (Buffer | undefined)[];
  /**
   * Copies the value of `key` into `target` at byte `offset` (default 0) if it fits, and
   * returns the value's length; a result larger than the room left (target.byteLength -
   * offset) means nothing was copied. Undefined when the key is absent. Creates no Buffer:
   * several times cheaper than get() when a copy is what you want.
   */
  getInto(map: RootIndex, key: Bytes, target: ArrayBufferView | ArrayBuffer, offset?: number): number | undefined;
  /** A copy of the value of `key` (an ordinary Buffer that outlives the read), or undefined. */
  getCopy(map: RootIndex, key: Bytes): Buffer | undefined;
  /** The number of entries of the map in this read's snapshot. */
  count(map: RootIndex): number;
  /**
   * Opens an iterator over the map's entries (hash order) in this read's snapshot. It is
   * closed by iter.close() or, at the latest, when the read ends.
   */
  iterate(map: RootIndex): Iter;
  /**
   * Yields every [key, value] of the map, fetching `batchSize` (default 256) entries per
   * native call. The Buffers are zero-copy and stay valid until the read ends (so
   * `[...read.entries(map)]` is fine inside the read).
   */
  entries(map: RootIndex, options?: { batchSize?: number }): Generator<[Buffer, Buffer], void, undefined>;
  /**
   * Ends the read: closes its open iterators and detaches every Buffer it handed out
   * (they become empty). Ending twice does nothing. A Read garbage collected unended is
   * ended then.
   */
  end(): void;
  /** True once the read has ended. */
  readonly ended: boolean;
  /**
   * The entity whose :db/ident is `ident` (a keyword, with or without the colon) in the
   * version of the database this read sees (fixed at its first use in the read), or undefined.
   */
  ident(db: DbIndex, ident: string): EntityId | undefined;
  /**
   * The entity an EDN reference names (`'1048576'`, `':color/red'` or
   * `'[:person/email "a@x"]'`) as EDN text of its attributes in this read's version, e.g.
   * `{:db/id 1048576, :person/name "Ada"}`. Throws EVE_ERR_INVALID_ARGUMENT if none.
   */
  entity(db: DbIndex, reference: string): string;
  /**
   * Runs a Datalog query (EDN, e.g. '[:find ?n :where [?e :person/name ?n]]') in this
   * process on the shared indexes, in this read's version, against `options.view`.
   * `inputs` is an EDN vector with one item per :in binding after $: a value for `?x`, a
   * vector for `[?x ...]`, and for a `$b` source another database as `#eve/db n` (n its
   * index from slab.database(), read in the same version) or a relation (a vector of
   * tuples): `'[#eve/db 3 "Ada"]'` for `:in $ $b ?n`. The answer is converted from eve's answer
   * nodes into JS values (EdnValue) in one native call and outlives the read:
   * - `:find ?a ?b`: an Array of row Arrays (QueryRelation), sorted;
   * - `:find ?a .`: the value or null (QueryScalar);
   * - `:find [?a ...]`: an Array (QueryCollection);
   * - `:find [?a ?b]`: an Array or null (QueryTuple);
   * - `:keys`/`:syms`/`:strs`: an Array of objects keyed by the names (QueryMaps);
   * - `(pull ?e pattern)` cells are objects like read.pull's, `(distinct ?x)` cells Arrays.
   * `T` names the shape you expect: `read.query<[string, number][]>(...)`. A malformed
   * query, an unknown attribute or an unbound variable throws EVE_ERR_INVALID_ARGUMENT with
   * eve's message naming the clause.
   */
  query<T extends QueryResult = QueryResult>(
    db: DbIndex,
    query: string,
    inputs?: string | null,
    options?: QueryOptions,
  ): T;
  /** query(), with the answer as EDN text: '#{["Ada" 36]}', '"Ada"', 'nil', '[36 41]'. */
  queryEdn(db: DbIndex, query: string, inputs?: string | null, options?: QueryOptions): string;
  /**
   * The entity an EDN reference names (an id '1048576', an ident ':color/red' or a lookup
   * ref '[:person/email "a@x"]') shaped by a pull pattern ('[:person/name {:person/friend
   * [:person/name]}]', '[*]', reverse ':person/_friend', '[:attr :limit n :default v :as
   * name]'), as an object keyed by attribute name without the colon: {'person/name': 'Ada',
   * 'person/friend': [{'person/name': 'Bob'}]}. A reference without a nested pattern is
   * {'db/id': e}; a many or reverse attribute an Array. (A symbol `:as` alias makes that
   * map a Map.) Throws EVE_ERR_INVALID_ARGUMENT for a malformed pattern or an unknown
   * entity.
   */
  pull<T extends EdnObject | Map<EdnValue, EdnValue> = EdnObject>(db: DbIndex, pattern: string, reference: string): T;
  /** pull(), with the entity as EDN text: '{:person/name "Ada", :person/friend [{:person/name "Bob"}]}'. */
  pullEdn(db: DbIndex, pattern: string, reference: string): string;
  /**
   * Every datom of `index` (default 'eavt') in `view` (default 'current') whose key starts
   * with `options.components`, in index order; one native call that drains eve's cursor 256
   * datoms at a time. The datoms are copies: they outlive the read. The asOf and since
   * views need `options.t`.
   */
  datoms(db: DbIndex, index?: DatomIndexName, view?: DatomViewName, options?: DatomsOptions): Datom[];
  /** Every datom of every transaction from `fromT` (default 0) on, in order of t and then of each transaction. */
  log(db: DbIndex, fromT?: U64): Datom[];
  /** end() (for `using`). */
  [Symbol.dispose](): void;
}

/** An iterator (eve_iter) over a map, opened by read.iterate(). */
export class Iter {
  private constructor();
  /**
   * Up to `max` (default 256, at most 1048576) further entries as [key, value] zero-copy
   * Buffers, or [] once exhausted. They stay valid until the iterator is closed (at the
   * latest when its read ends).
   */
  next(max?: number): [Buffer, Buffer][];
  /** Closes the iterator and detaches the Buffers it handed out. Closing twice does nothing. */
  close(): void;
  readonly closed: boolean;
  [Symbol.dispose](): void;
}

/** Opens (creating it by default) the slab file at `path`. */
export function open(path: string, options?: OpenOptions): Slab;
/** Creates a slab in anonymous shared memory (read-only and must-exist are refused). */
export function openAnonymous(options?: Pick<OpenOptions, 'readerSlots' | 'maxSize'>): Slab;
/** The library version, e.g. '0.1.0'. */
export function version(): string;
/** The name of an eve_status number ('EVE_UNKNOWN_STATUS' for other numbers). */
export function statusName(status: number): string;
/** The address of a Buffer's first byte: equal addresses show that lookups do not copy. */
export function bufferAddress(buf: ArrayBufferView): bigint;

// ---- Yin ------------------------------------------------------------------------------

/** Which machine runs a Yin program. */
export type YinProjection = 'walker' | 'stack';
/** Where a Yin agent is in its life. */
export type YinAgentState = 'runnable' | 'running' | 'parked' | 'done' | 'failed';
/** What a parked Yin agent waits for. */
export type YinWait = 'none' | 'resume' | 'stream';

/** A tagged EDN value from Yin: `#yin/stream 3`, `#yin/fn 12`. */
export class Tagged {
  constructor(tag: string, value: unknown);
  readonly tag: string;
  readonly value: unknown;
}

/** How a run here ended. */
export interface YinResult {
  agent: number | bigint;
  state: 'done' | 'parked';
  parked: boolean;
  wait: YinWait;
  /** The cursor a 'stream' wait is on. */
  cursor: number | bigint;
  steps: number | bigint;
  /** The program's value when done (undefined when parked). */
  value: unknown;
  valueEdn: string | null;
}

/** What an agent record says. */
export interface YinAgentInfo {
  agent: number | bigint;
  state: YinAgentState;
  projection: YinProjection;
  program: number | bigint;
  owner: number | bigint;
  wait: YinWait;
  cursor: number | bigint;
  /** The result when done. */
  result: unknown;
  resultEdn: string | null;
  /** The error message when failed. */
  error: string | null;
}

/** What `work` did. */
export interface YinWorkReport {
  taken: number;
  finished: number;
  parked: number;
  failed: number;
}

/**
 * A Yin runtime on a slab: Clojure-subset programs run as agents whose parked states live
 * in the slab, resumable from any thread or process. Close it before the slab.
 */
export class Yin {
  private constructor(handle: bigint);
  /** Opens (creating it if needed) the runtime called `name` on `slab`. */
  static open(slab: Slab, name: string): Yin;
  close(): void;
  [Symbol.dispose](): void;
  /** Compiles source; returns the program id. Errors give the line and column. */
  compile(source: string): number | bigint;
  /** Runs a program here as a new agent (default 'stack') until it finishes or parks. */
  run(program: U64, projection?: YinProjection): YinResult;
  /** Compiles and runs on the stack machine; returns the value (throws if it parks). */
  eval(source: string): unknown;
  /** Resumes a parked agent here with `value` as the value of its (park). */
  resume(agent: U64, value?: unknown): YinResult;
  /** Queues a new agent for a worker; returns its id. */
  spawn(program: U64, projection?: YinProjection): number | bigint;
  /** Makes a parked agent runnable with `value` and queues it. */
  wake(agent: U64, value?: unknown): void;
  /** Works the run queue until it is empty for `idleMs`, or `timeoutMs` passes. */
  work(idleMs?: number, timeoutMs?: number): YinWorkReport;
  agent(agent: U64): YinAgentInfo;
  agents(): (number | bigint)[];
  /**
   * Limits the machine steps of each run on this handle: a longer run fails with
   * EVE_ERR_INVALID_ARGUMENT and its agent is recorded as failed. 0 (the default): no limit.
   */
  setStepLimit(limit: U64): void;
  queued(): number;
  /**
   * Takes over agents whose owning process died while running them: each is queued again
   * from its last checkpoint, without repeating its effects. Returns how many.
   */
  recover(): number;
  /**
   * Turns the execution trace on or off for runs through this handle: every step becomes
   * datoms (:trace/agent, :trace/run, :trace/step, :trace/kind, :trace/node, :trace/value,
   * :trace/depth) in the database `<name>/trace`, queryable with read.query().
   */
  setTrace(on: boolean): void;
  /** Whether runs through this handle are traced. */
  trace(): boolean;
  streamMake(): number | bigint;
  put(stream: U64, value: unknown): void;
  cursor(stream: U64): number | bigint;
  /** The next value as { value }, or undefined if there is none (yet). */
  next(cursor: U64): { value: unknown } | undefined;
  closed(stream: U64): boolean;
  closeStream(stream: U64): void;
}

/** Reads EDN text as JS values (as Yin results come back). */
export function readEdn(text: string): unknown;
/** Writes a JS value as EDN (as Yin values go in). */
export function writeEdn(value: unknown): string;
