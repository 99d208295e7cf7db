package dev.eve;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiConsumer;

/**
 * A read ({@code eve_read *}): a pinned epoch, and a snapshot. The first lookup of a map in a
 * read fixes the version of that map the read sees; commits published after it are not seen
 * by this read (open a new one to see them). While the read is open no block it can reach is
 * freed by any process, so the values it hands out point straight into the slab (no copy).
 *
 * <p><b>A read belongs to the thread that opened it.</b> Only that thread may use and close
 * it: eve enforces this, and a call from another thread fails with an {@link EveException}
 * ({@code EVE_ERR_INVALID_ARGUMENT}). The segments it hands out are likewise confined to that
 * thread. Prefer platform threads for reads: a virtual thread may move to another carrier
 * between calls. Keep reads short (an open read holds back reclamation in every process) and
 * close them with try-with-resources; {@link Slab#close()} fails with {@code EVE_ERR_BUSY}
 * while one is open.
 *
 * <p>Values are read-only {@link MemorySegment}s into the slab, scoped to this read: using
 * one after {@link #close()} throws {@link IllegalStateException} instead of touching memory
 * that may have been freed. Copy what you keep ({@link #getBytes}, {@link #getString}).
 * Using a closed read throws {@link IllegalStateException} too.
 *
 * <p>The same goes for DaoDB databases: the first use of a database in a read ({@link
 * #ident}, {@link #datoms}, {@link #log}, {@link #query}, {@link #pull}) fixes the version it
 * sees. Their {@link Datom}s and query and pull answers are copies, valid for ever.
 */
public final class Read implements AutoCloseable {
    /** Entries fetched per {@code eve_iter_next} call. */
    public static final int ITER_BATCH = 256;

    private final MemorySegment handle;
    /** The scope of every value this read hands out; closed with the read. */
    private final Arena arena = Arena.ofConfined();
    /** The {@code eve_bytes} that eve_read_get fills in: a heap array, no native memory. */
    private final long[] found = new long[2];
    private final MemorySegment foundSegment = MemorySegment.ofArray(found);
    private final List<Entries> openIterators = new ArrayList<>();
    private final List<Datoms> openCursors = new ArrayList<>();
    private boolean closed;

    Read(MemorySegment handle) {
        this.handle = handle;
    }

    /** The eve handle (for tests). */
    MemorySegment handle() {
        return handle;
    }

    /**
     * The value of {@code key} in the map at {@code map} ({@code eve_read_get}), or {@code
     * null} when the key is absent: a read-only view of the bytes inside the slab, valid until
     * this read closes. An empty value is an empty segment, not {@code null}.
     */
    public MemorySegment get(int map, byte[] key) {
        return get(map, MemorySegment.ofArray(key));
    }

    /**
     * As {@link #get(int, byte[])}, with the key in a segment (on or off heap; it is passed as
     * is, without a copy).
     */
    public MemorySegment get(int map, MemorySegment key) {
        ensureOpen();
        int status = Native.readGet(handle, map, key, key.byteSize(), foundSegment);
        if (status != Status.OK) {
            throw Native.failure(status, "eve_read_get");
        }
        return view(found[0], found[1]);
    }

    /** The value of {@code key} copied into a new array, or {@code null} when absent. */
    public byte[] getBytes(int map, byte[] key) {
        MemorySegment value = get(map, key);
        return value == null ? null : value.toArray(JAVA_BYTE);
    }

    /** The value of the UTF-8 {@code key}, decoded as UTF-8, or {@code null} when absent. */
    public String getString(int map, String key) {
        MemorySegment value = get(map, key.getBytes(StandardCharsets.UTF_8));
        return value == null ? null : new String(value.toArray(JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /**
     * Looks up every key in one native call ({@code eve_read_get_many}); element {@code i} is
     * what {@link #get(int, byte[])} would return for {@code keys.get(i)}.
     */
    public MemorySegment[] getMany(int map, List<byte[]> keys) {
        ensureOpen();
        int count = keys.size();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment keyArray = MemorySegment.NULL;
            MemorySegment valueArray = MemorySegment.NULL;
            if (count > 0) {
                long bytes = 0;
                for (byte[] key : keys) {
                    bytes += key.length;
                }
                MemorySegment data = call.allocate(Math.max(bytes, 1));
                keyArray = call.allocate(Native.EVE_BYTES, count);
                valueArray = call.allocate(Native.EVE_BYTES, count);
                long at = 0;
                for (int i = 0; i < count; i++) {
                    byte[] key = keys.get(i);
                    MemorySegment.copy(key, 0, data, JAVA_BYTE, at, key.length);
                    long slot = i * Native.EVE_BYTES.byteSize();
                    keyArray.set(ADDRESS, slot + Native.BYTES_DATA, data.asSlice(at, 0));
                    keyArray.set(JAVA_LONG, slot + Native.BYTES_LEN, key.length);
                    at += key.length;
                }
            }
            Native.check(Native.readGetMany(handle, map, keyArray, count, valueArray), "eve_read_get_many");
            MemorySegment[] values = new MemorySegment[count];
            for (int i = 0; i < count; i++) {
                long slot = i * Native.EVE_BYTES.byteSize();
                values[i] = view(
                        valueArray.get(JAVA_LONG, slot + Native.BYTES_DATA),
                        valueArray.get(JAVA_LONG, slot + Native.BYTES_LEN));
            }
            return values;
        }
    }

    /** The number of entries of the map at {@code map}, as this read sees it ({@code eve_read_count}). */
    public long count(int map) {
        ensureOpen();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(JAVA_LONG);
            Native.check(Native.readCount(handle, map, out), "eve_read_count");
            return out.get(JAVA_LONG, 0);
        }
    }

    /**
     * Calls {@code action} with every entry of the map at {@code map} (in hash order), as
     * read-only segments into the slab that stay valid only during the call.
     */
    public void forEach(int map, BiConsumer<MemorySegment, MemorySegment> action) {
        Objects.requireNonNull(action, "action");
        try (Entries entries = entries(map)) {
            while (entries.hasNext()) {
                Entry entry = entries.next();
                action.accept(entry.key(), entry.value());
            }
        }
    }

    /**
     * An iterator over the entries of the map at {@code map} in the version this read sees
     * ({@code eve_iter_open}), fetching {@value #ITER_BATCH} entries per native call. Its
     * entries stay valid until the iteration finishes: the iterator closes itself once
     * exhausted, or when closed (use try-with-resources if you may stop early), or when this
     * read closes.
     */
    public Entries entries(int map) {
        ensureOpen();
        Entries entries = new Entries(this, map);
        openIterators.add(entries);
        return entries;
    }

    // ---- DaoDB ----------------------------------------------------------------------------

    /**
     * The entity named by the keyword {@code ident} ({@code "person/email"} or {@code
     * ":person/email"}) in the database at {@code db}, in the version this read sees ({@code
     * eve_db_ident}). Attribute ids in datoms are such entities. Fails with {@code
     * EVE_ERR_NOT_FOUND} when no entity has that ident.
     */
    public long ident(int db, String ident) {
        ensureOpen();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(JAVA_LONG);
            Native.check(Native.dbIdent(handle, db, Native.text(call, ident, "an ident"), out), "eve_db_ident " + ident);
            return out.get(JAVA_LONG, 0);
        }
    }

    /**
     * Runs a Datalog query ({@code eve_db_query_answer}) on the database at {@code db}, in
     * the version this read sees, in this process on the shared indexes, and returns the
     * answer as Java values, shaped by the find spec:
     *
     * <ul>
     *   <li>{@code :find ?a ?b} (a relation): a {@code Set<List<Object>>}, one list per tuple;
     *   <li>{@code :find ?a .} (a scalar): the value, or {@code null} when nothing matched;
     *   <li>{@code :find [?a ...]} (a collection): a {@code List<Object>};
     *   <li>{@code :find [?a ?b]} (a tuple): a {@code List<Object>}, or {@code null} when
     *       nothing matched;
     *   <li>{@code :keys}, {@code :syms}, {@code :strs}: a {@code List<Map<Object, Object>>},
     *       one map per tuple, keyed by {@link Keyword}s, {@link Symbol}s or {@code String}s;
     *   <li>{@code (pull ?e [...])} in {@code :find}: a {@code Map<Object, Object>} (as {@link
     *       #pull}) in the tuple's place.
     * </ul>
     *
     * <p>Values are {@code null} (nil), {@link Boolean}, {@link Long}, {@link Double}, {@link
     * String}, {@link Keyword}, {@link Symbol}, {@link java.util.UUID}, {@link Instant}, {@code
     * byte[]}, a {@link Long} entity id for a reference, and for collections unmodifiable
     * {@link List}s (vectors), {@link Set}s and {@link Map}s that keep eve's order (sets, for
     * instance a {@code (distinct ?x)} aggregate, come sorted). Everything is a copy: eve's
     * answer is freed before this returns, and the result stays valid after the read closes.
     *
     * <p>{@code inputsEdn} is an EDN vector with one item per {@code :in} binding after {@code
     * $}, or null; a source {@code $name} is given as {@code #eve/db n}, the database at root
     * index {@code n} ({@link Slab#database}) read in the same version. A malformed query, an
     * unknown attribute or an unbound variable throws {@link EveException} ({@code
     * EVE_ERR_INVALID_ARGUMENT}) with a message naming the clause. {@link #queryEdn} gives the
     * same answer as EDN text.
     */
    public Object query(int db, String queryEdn, String inputsEdn) {
        return query(db, View.CURRENT, 0, queryEdn, inputsEdn);
    }

    /**
     * As {@link #query(int, String, String)}, against {@code view} of the database (as of or
     * since transaction {@code t}, or the history, where every assertion and retraction
     * matches).
     */
    public Object query(int db, View view, long t, String queryEdn, String inputsEdn) {
        return queryAnswer(db, view, t, queryEdn, inputsEdn).value();
    }

    /**
     * The answer of a relation query ({@code :find ?a ?b}, see {@link #query(int, String,
     * String)}): one unmodifiable list per tuple, in eve's (sorted) order. A query of another
     * shape throws {@link IllegalArgumentException}.
     */
    @SuppressWarnings("unchecked")
    public Set<List<Object>> querySet(int db, String queryEdn, String inputsEdn) {
        return (Set<List<Object>>) queryShaped(db, queryEdn, inputsEdn, Native.EVE_SHAPE_RELATION, -1);
    }

    /**
     * The answer of a collection query ({@code :find [?a ...]}) or a tuple query ({@code :find
     * [?a ?b]}; {@code null} when nothing matched), see {@link #query(int, String, String)}. A
     * query of another shape throws {@link IllegalArgumentException}.
     */
    @SuppressWarnings("unchecked")
    public List<Object> queryList(int db, String queryEdn, String inputsEdn) {
        return (List<Object>) queryShaped(
                db, queryEdn, inputsEdn, Native.EVE_SHAPE_COLLECTION, Native.EVE_SHAPE_TUPLE);
    }

    /**
     * The answer of a return-maps query ({@code :keys}, {@code :syms} or {@code :strs}, see
     * {@link #query(int, String, String)}): one unmodifiable map per tuple, its entries in
     * the order of the names. A query of another shape throws {@link IllegalArgumentException}.
     */
    @SuppressWarnings("unchecked")
    public List<Map<Object, Object>> queryMaps(int db, String queryEdn, String inputsEdn) {
        return (List<Map<Object, Object>>) queryShaped(db, queryEdn, inputsEdn, Native.EVE_SHAPE_MAPS, -1);
    }

    private Object queryShaped(int db, String queryEdn, String inputsEdn, int shape, int otherShape) {
        Answers.Decoded answer = queryAnswer(db, View.CURRENT, 0, queryEdn, inputsEdn);
        if (answer.shape() != shape && answer.shape() != otherShape) {
            throw new IllegalArgumentException("the query answers " + Answers.shapeName(answer.shape()) + ", not "
                    + Answers.shapeName(shape) + (otherShape < 0 ? "" : " or " + Answers.shapeName(otherShape)));
        }
        return answer.value();
    }

    private Answers.Decoded queryAnswer(int db, View view, long t, String queryEdn, String inputsEdn) {
        Objects.requireNonNull(view, "view");
        return answer("eve_db_query_answer", (call, out) -> Native.dbQueryAnswer(handle, db, view.code, t,
                Native.text(call, queryEdn, "the query"), Native.text(call, inputsEdn, "the inputs"), out));
    }

    /**
     * Pulls the entity named by {@code entityEdn} (an id, ident or lookup ref) with the pull
     * pattern {@code patternEdn} ({@code eve_db_pull_answer}), e.g. {@code [:person/name
     * {:person/friend [:person/name]}]}, and returns the result as an unmodifiable map in
     * eve's order, keyed by {@link Keyword}s ({@code Keyword.of("person/name")}, {@code
     * Keyword.of("db/id")}; an {@code :as} option gives its own key). Values are as in {@link #query(int, String, String)}: a nested
     * pattern gives a map per referenced entity, and a cardinality-many attribute a list.
     * {@link #pullEdn} gives the same answer as EDN text.
     */
    @SuppressWarnings("unchecked")
    public Map<Object, Object> pull(int db, String patternEdn, String entityEdn) {
        Object pulled = answer("eve_db_pull_answer", (call, out) -> Native.dbPullAnswer(handle, db,
                        Native.text(call, patternEdn, "the pattern"), Native.text(call, entityEdn, "the entity"), out))
                .value();
        return (Map<Object, Object>) pulled;
    }

    /**
     * Runs a Datalog query ({@code eve_db_query}) like {@link #query(int, String, String)}
     * and returns the answer as EDN text ({@code #{[...]}}, a value or {@code nil}, or {@code
     * [...]}).
     */
    public String queryEdn(int db, String queryEdn, String inputsEdn) {
        return queryEdn(db, View.CURRENT, 0, queryEdn, inputsEdn);
    }

    /**
     * As {@link #queryEdn(int, String, String)}, against {@code view} of the database (as of
     * or since transaction {@code t}, or the history).
     */
    public String queryEdn(int db, View view, long t, String queryEdn, String inputsEdn) {
        Objects.requireNonNull(view, "view");
        return textAnswer("eve_db_query", (call, out) -> Native.dbQuery(handle, db, view.code, t,
                Native.text(call, queryEdn, "the query"), Native.text(call, inputsEdn, "the inputs"), out));
    }

    /**
     * Pulls like {@link #pull(int, String, String)} ({@code eve_db_pull}) and returns the
     * result as EDN text, e.g. {@code {:person/name "Ada", :person/friend [{:person/name
     * "Bob"}]}}.
     */
    public String pullEdn(int db, String patternEdn, String entityEdn) {
        return textAnswer("eve_db_pull", (call, out) -> Native.dbPull(handle, db,
                Native.text(call, patternEdn, "the pattern"), Native.text(call, entityEdn, "the entity"), out));
    }

    /**
     * The entity named by {@code entityEdn} (an id such as {@code "1048576"}, an ident such as
     * {@code ":color/red"} or a lookup ref such as {@code "[:person/email \"a@x\"]"}) as an
     * EDN map of its attributes in the version this read sees ({@code eve_db_entity}), e.g.
     * {@code {:db/id 1048576, :person/name "Ada"}}.
     */
    public String entity(int db, String entityEdn) {
        return textAnswer("eve_db_entity " + entityEdn, (call, out) ->
                Native.dbEntity(handle, db, Native.text(call, entityEdn, "an entity reference"), out));
    }

    /**
     * A native call that stores its result through the out-pointer {@code out}: text in
     * eve's per-thread buffer, or an {@code eve_answer *}. Its arguments live in {@code call}.
     */
    private interface OutCall {
        int call(Arena call, MemorySegment out);
    }

    /**
     * Runs {@code body} with an out-pointer for the answer and copies the text it points at:
     * eve keeps it only until the next eve call on this thread.
     */
    private String textAnswer(String what, OutCall body) {
        ensureOpen();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(ADDRESS);
            Native.check(body.call(call, out), what);
            return out.get(ADDRESS, 0).reinterpret(Long.MAX_VALUE).getString(0);
        }
    }

    /**
     * Runs {@code body} with an out-pointer for an {@code eve_answer *}, turns the answer into
     * Java values and frees it.
     */
    private Answers.Decoded answer(String what, OutCall body) {
        ensureOpen();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(ADDRESS);
            Native.check(body.call(call, out), what);
            return Answers.readAndFree(out.get(ADDRESS, 0), call);
        }
    }

    /** Every datom true now in {@code index} of the database at {@code db}. */
    public Datoms datoms(int db, Index index) {
        return datoms(db, index, View.CURRENT, 0, null);
    }

    /** The datoms true now in {@code index} whose keys start with {@code componentsEdn} (see below). */
    public Datoms datoms(int db, Index index, String componentsEdn) {
        return datoms(db, index, View.CURRENT, 0, componentsEdn);
    }

    /**
     * A cursor over the datoms of {@code index} in the database at {@code db}, in the
     * version this read sees ({@code eve_db_datoms}), in index order. {@code view} filters
     * them ({@code t} is the transaction for {@link View#AS_OF} and {@link View#SINCE},
     * ignored otherwise); {@code componentsEdn}, an EDN vector of leading components in the
     * index's order ({@code [20 :person/name]} in EAVT, {@code [:person/email "a@x"]} in
     * AVET), keeps only the datoms that start with them, and {@code null} keeps all.
     *
     * <p>The cursor fetches {@value #ITER_BATCH} datoms per native call and copies each
     * value out as it hands it over. It closes itself once exhausted, or when closed (use
     * try-with-resources if you may stop early), or when this read closes. It belongs to
     * this thread, like the read. Malformed components fail with {@code
     * EVE_ERR_INVALID_ARGUMENT}.
     */
    public Datoms datoms(int db, Index index, View view, long t, String componentsEdn) {
        Objects.requireNonNull(index, "index");
        Objects.requireNonNull(view, "view");
        ensureOpen();
        return register(new Datoms(this, (call, out) -> Native.dbDatoms(
                handle, db, index.code, view.code, t, Native.text(call, componentsEdn, "the components"), out),
                "eve_db_datoms"));
    }

    /**
     * A cursor over a range of keys of {@code index} ({@code eve_db_range}): from the leading
     * components {@code startEdn} (inclusive; null: from the first key) up to the leading
     * components {@code endEdn} (exclusive; null: every key that starts with {@code
     * startEdn}), both EDN vectors in the index's order — in AVET, {@code "[:person/age 30]"}
     * to {@code "[:person/age 40]"} gives the people aged 30 to 39. Otherwise like {@link
     * #datoms(int, Index, View, long, String)}.
     */
    public Datoms range(int db, Index index, View view, long t, String startEdn, String endEdn) {
        Objects.requireNonNull(index, "index");
        Objects.requireNonNull(view, "view");
        ensureOpen();
        return register(new Datoms(this, (call, out) -> Native.dbRange(
                handle, db, index.code, view.code, t,
                Native.text(call, startEdn, "the start"), Native.text(call, endEdn, "the end"), out),
                "eve_db_range"));
    }

    /**
     * A cursor over the transaction log of the database at {@code db}, in the version this
     * read sees, from transaction {@code fromT} on ({@code eve_db_log}): every datom of every
     * transaction (assertions and retractions), in order of {@code t} and then of the
     * transaction's own order. Otherwise like {@link #datoms(int, Index, View, long, String)}.
     */
    public Datoms log(int db, long fromT) {
        ensureOpen();
        return register(new Datoms(this, (call, out) -> Native.dbLog(handle, db, fromT, out), "eve_db_log"));
    }

    private Datoms register(Datoms datoms) {
        openCursors.add(datoms);
        return datoms;
    }

    /**
     * Ends the read ({@code eve_read_end}), after closing the iterators and datom cursors
     * still open on it.
     * Every segment it handed out becomes inaccessible. Calling it again is a no-op.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        for (Entries entries : List.copyOf(openIterators)) {
            entries.close();
        }
        for (Datoms datoms : List.copyOf(openCursors)) {
            datoms.close();
        }
        Native.check(Native.readEnd(handle), "eve_read_end");
        closed = true;
        arena.close();
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the read is closed");
        }
    }

    private MemorySegment view(long data, long length) {
        if (data == 0) {
            return null;
        }
        return MemorySegment.ofAddress(data).reinterpret(length, arena, null).asReadOnly();
    }

    /** One entry of a map: read-only views into the slab. */
    public record Entry(MemorySegment key, MemorySegment value) {
        /** A copy of the key. */
        public byte[] keyBytes() {
            return key.toArray(JAVA_BYTE);
        }

        /** A copy of the value. */
        public byte[] valueBytes() {
            return value.toArray(JAVA_BYTE);
        }
    }

    /**
     * An open iterator ({@code eve_iter *}) over a map's entries. It keeps its own pin in eve;
     * its entries are scoped to an arena of its own, closed with it. Confined to the thread
     * that opened it, like the read (eve refuses calls from other threads with an {@link
     * EveException}).
     */
    public static final class Entries implements Iterator<Entry>, AutoCloseable {
        private final Read read;
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment iter;
        /** eve_iter_next fills these heap arrays (eve_bytes pairs) directly: no native buffers. */
        private final long[] keys = new long[2 * ITER_BATCH];
        private final long[] values = new long[2 * ITER_BATCH];
        private final long[] fetched = new long[1];
        private final MemorySegment keysSegment = MemorySegment.ofArray(keys);
        private final MemorySegment valuesSegment = MemorySegment.ofArray(values);
        private final MemorySegment fetchedSegment = MemorySegment.ofArray(fetched);
        private int position;
        private int available;
        private boolean exhausted;
        private boolean closed;

        private Entries(Read read, int map) {
            this.read = read;
            try {
                MemorySegment out = arena.allocate(ADDRESS);
                Native.check(Native.iterOpen(read.handle, map, out), "eve_iter_open");
                iter = out.get(ADDRESS, 0);
            } catch (RuntimeException e) {
                arena.close();
                throw e;
            }
        }

        @Override
        public boolean hasNext() {
            if (position < available) {
                return true;
            }
            if (exhausted || closed) {
                return false;
            }
            int status = Native.iterNext(iter, keysSegment, valuesSegment, ITER_BATCH, fetchedSegment);
            if (status != Status.OK) {
                throw Native.failure(status, "eve_iter_next");
            }
            available = (int) fetched[0];
            position = 0;
            if (available == 0) {
                exhausted = true;
                close();
                return false;
            }
            return true;
        }

        @Override
        public Entry next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            int slot = 2 * position++; // eve_bytes = {data, len}
            return new Entry(entry(keys[slot], keys[slot + 1]), entry(values[slot], values[slot + 1]));
        }

        private MemorySegment entry(long data, long length) {
            return MemorySegment.ofAddress(data).reinterpret(length, arena, null).asReadOnly();
        }

        /** Closes the iterator ({@code eve_iter_close}); its entries become inaccessible. Idempotent. */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            Native.check(Native.iterClose(iter), "eve_iter_close");
            closed = true;
            available = 0;
            arena.close();
            read.openIterators.remove(this);
        }
    }

    /** Opens a cursor: one of eve_db_datoms or eve_db_log, with its arguments in {@code call}. */
    @FunctionalInterface
    private interface CursorOpener {
        int open(Arena call, MemorySegment out);
    }

    /**
     * An open datom cursor ({@code eve_cursor *}) over an index or the log of a DaoDB
     * database. It keeps its own pin in eve. Every {@link Datom} it returns is a copy; the
     * bytes eve hands out are only valid until its next batch, so values are copied as
     * {@link #next()} returns them. Confined to the thread that opened it, like the read
     * (eve refuses calls from other threads with an {@link EveException}). Once closed,
     * {@link #hasNext()} is false.
     */
    public static final class Datoms implements Iterator<Datom>, AutoCloseable {
        /** eve_datom as longs: 72 bytes, every field 8-byte aligned. */
        private static final int DATOM_LONGS = (int) (Native.EVE_DATOM.byteSize() / Long.BYTES);

        private final Read read;
        private final MemorySegment cursor;
        /** eve_cursor_next fills this heap array (an eve_datom[ITER_BATCH]) directly: no native buffer. */
        private final MemorySegment batch = MemorySegment.ofArray(new long[DATOM_LONGS * ITER_BATCH]);
        private final long[] fetched = new long[1];
        private final MemorySegment fetchedSegment = MemorySegment.ofArray(fetched);
        private int position;
        private int available;
        private boolean exhausted;
        private boolean closed;

        private Datoms(Read read, CursorOpener opener, String what) {
            this.read = read;
            try (Arena call = Arena.ofConfined()) {
                MemorySegment out = call.allocate(ADDRESS);
                Native.check(opener.open(call, out), what);
                cursor = out.get(ADDRESS, 0);
            }
        }

        /** The eve handle (for tests). */
        MemorySegment handle() {
            return cursor;
        }

        @Override
        public boolean hasNext() {
            if (position < available) {
                return true;
            }
            if (exhausted || closed) {
                return false;
            }
            int status = Native.cursorNext(cursor, batch, ITER_BATCH, fetchedSegment);
            if (status != Status.OK) {
                throw Native.failure(status, "eve_cursor_next");
            }
            available = (int) fetched[0];
            position = 0;
            if (available == 0) {
                exhausted = true;
                close();
                return false;
            }
            return true;
        }

        @Override
        public Datom next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            long at = position++ * Native.EVE_DATOM.byteSize();
            ValueType type = ValueType.of(batch.get(JAVA_INT, at + Native.DATOM_VALUE_TYPE));
            long number = batch.get(JAVA_LONG, at + Native.DATOM_INT_VALUE);
            Object value = switch (type) {
                case NIL -> null;
                case BOOLEAN -> number != 0;
                case LONG, REF -> number;
                case DOUBLE -> batch.get(JAVA_DOUBLE, at + Native.DATOM_DOUBLE_VALUE);
                case INSTANT -> Instant.ofEpochMilli(number);
                case STRING, KEYWORD, SYMBOL -> new String(bytes(at), StandardCharsets.UTF_8);
                case BYTES -> bytes(at);
                case UUID -> {
                    ByteBuffer uuid = ByteBuffer.wrap(bytes(at)); // 16 bytes, big-endian
                    yield new UUID(uuid.getLong(), uuid.getLong());
                }
            };
            return new Datom(
                    batch.get(JAVA_LONG, at + Native.DATOM_E),
                    batch.get(JAVA_LONG, at + Native.DATOM_A),
                    batch.get(JAVA_LONG, at + Native.DATOM_T),
                    batch.get(JAVA_LONG, at + Native.DATOM_M),
                    type,
                    value);
        }

        /** A copy of the eve_bytes of the datom at {@code at}: valid only until the next batch. */
        private byte[] bytes(long at) {
            long data = batch.get(JAVA_LONG, at + Native.DATOM_BYTES + Native.BYTES_DATA);
            long length = batch.get(JAVA_LONG, at + Native.DATOM_BYTES + Native.BYTES_LEN);
            if (data == 0 || length == 0) {
                return new byte[0];
            }
            return MemorySegment.ofAddress(data).reinterpret(length).toArray(JAVA_BYTE);
        }

        /** Closes the cursor ({@code eve_cursor_close}). Idempotent. */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            Native.check(Native.cursorClose(cursor), "eve_cursor_close");
            closed = true;
            available = 0;
            read.openCursors.remove(this);
        }
    }
}
