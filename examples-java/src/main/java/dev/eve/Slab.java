package dev.eve;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An open eve slab ({@code eve_slab *}): a file (or anonymous shared memory) holding named
 * maps, raw 64-bit roots and DaoDB databases, shared by every process and handle that opens it.
 *
 * <p>A {@code Slab} may be used by any number of threads at once. Writes ({@link
 * #transact}, {@link #put}, {@link #compareExchange}) are atomic and lock-free; reads go
 * through a {@link Read}, which belongs to the thread that opened it.
 *
 * <p>Every failure is an {@link EveException}. Using a closed slab fails with {@code
 * EVE_ERR_INVALID_ARGUMENT} (eve checks every handle; nothing is ever dereferenced).
 */
public final class Slab implements AutoCloseable {
    private final MemorySegment handle;
    private final Path path;
    private volatile boolean closed;

    private Slab(MemorySegment handle, Path path) {
        this.handle = handle;
        this.path = path;
    }

    /** Opens (creating it if missing) the slab in the file at {@code path} with the default options. */
    public static Slab open(Path path) {
        return open(path, OpenOptions.DEFAULT);
    }

    /**
     * Opens the slab in the file at {@code path} ({@code eve_slab_open}). Fails with {@code
     * EVE_ERR_NOT_A_SLAB}, {@code EVE_ERR_VERSION} or {@code EVE_ERR_CORRUPT} for a file that
     * is not a slab this library can use (the file is left untouched), and {@code EVE_ERR_IO}
     * when it is missing and {@code options} say it must exist or is read-only.
     */
    public static Slab open(Path path, OpenOptions options) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
        String text = path.toString();
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a path must not contain NUL characters");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            Native.check(Native.slabOpen(arena.allocateFrom(text), options(arena, options), out), "eve_slab_open " + path);
            return new Slab(out.get(ADDRESS, 0), path);
        }
    }

    /** A new slab in anonymous shared memory, with the default options ({@code eve_slab_open_anonymous}). */
    public static Slab openAnonymous() {
        return openAnonymous(OpenOptions.DEFAULT);
    }

    /**
     * A new slab in anonymous shared memory. Only {@code readerSlots} and {@code maxSize} apply:
     * read-only and must-exist are refused with {@code EVE_ERR_INVALID_ARGUMENT}.
     */
    public static Slab openAnonymous(OpenOptions options) {
        Objects.requireNonNull(options, "options");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            Native.check(Native.slabOpenAnonymous(options(arena, options), out), "eve_slab_open_anonymous");
            return new Slab(out.get(ADDRESS, 0), null);
        }
    }

    private static MemorySegment options(Arena arena, OpenOptions options) {
        MemorySegment o = arena.allocate(Native.EVE_OPEN_OPTIONS);
        o.set(JAVA_INT, Native.OPTIONS_FLAGS, options.flags());
        o.set(JAVA_INT, Native.OPTIONS_READER_SLOTS, options.readerSlots());
        o.set(JAVA_LONG, Native.OPTIONS_MAX_SIZE, options.maxSize());
        o.set(JAVA_INT, Native.OPTIONS_MODE, options.mode());
        return o;
    }

    /** The eve handle (for {@link Yin}). */
    MemorySegment handle() {
        return handle;
    }

    /** The file this slab was opened from, or {@code null} for an anonymous slab. */
    public Path path() {
        return path;
    }

    /**
     * Closes the handle and unmaps the slab ({@code eve_slab_close}). Calling it again is a
     * no-op. Fails with {@code EVE_ERR_BUSY}, leaving the slab open, while {@link Read}s or
     * iterators opened from it are open or another thread is in a call on it (for example
     * waiting in {@link #waitForChange}).
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        Native.check(Native.slabClose(handle), "eve_slab_close");
        closed = true;
    }

    /**
     * The index of the map called {@code name} (1 to 80 bytes of UTF-8), created empty if it
     * is missing and the handle is writable ({@code eve_map_open}). Every process gets the
     * same index for the same name. Fails with {@code EVE_ERR_WRONG_KIND} if {@code name} is a
     * raw root, and {@code EVE_ERR_NOT_FOUND} on a read-only handle when it is missing.
     */
    public int map(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            Native.check(Native.mapOpen(handle, Native.name(arena, name), out), "eve_map_open " + name);
            return out.get(JAVA_INT, 0);
        }
    }

    /**
     * The index of the raw 64-bit root called {@code name}, created holding 0 if it is
     * missing ({@code eve_root_open}). Fails with {@code EVE_ERR_WRONG_KIND} if {@code name}
     * is a map, and {@code EVE_ERR_NOT_FOUND} on a read-only handle when it is missing.
     */
    public int root(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            Native.check(Native.rootOpen(handle, Native.name(arena, name), out), "eve_root_open " + name);
            return out.get(JAVA_INT, 0);
        }
    }

    /** The root called {@code name}, of any kind, without creating it ({@code eve_root_find}). */
    public Optional<RootInfo> findRoot(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment index = arena.allocate(JAVA_INT);
            MemorySegment kind = arena.allocate(JAVA_INT);
            int status = Native.rootFind(handle, Native.name(arena, name), index, kind);
            if (status == Status.ERR_NOT_FOUND) {
                return Optional.empty();
            }
            Native.check(status, "eve_root_find " + name);
            return Optional.of(new RootInfo(index.get(JAVA_INT, 0), RootInfo.Kind.of(kind.get(JAVA_INT, 0))));
        }
    }

    /**
     * The current value of the root at {@code root} ({@code eve_root_load}). For a map root it
     * is the offset of the map's current version (0 when empty); it changes on every commit.
     */
    public long load(int root) {
        // Kept inline: this is a hot path, and a capturing lambda may allocate.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            Native.check(Native.rootLoad(handle, root, out), "eve_root_load");
            return out.get(JAVA_LONG, 0);
        }
    }

    /**
     * Atomically replaces the value of the raw root at {@code root} with {@code desired} if it
     * holds {@code expected} ({@code eve_root_compare_exchange}), waking every waiter in any
     * process. Returns the value it held: the swap happened if and only if that equals
     * {@code expected}. Fails with {@code EVE_ERR_WRONG_KIND} for map roots.
     */
    public long compareExchange(int root, long expected, long desired) {
        // Kept inline: this is a hot path, and a capturing lambda may allocate.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            Native.check(Native.rootCompareExchange(handle, root, expected, desired, out), "eve_root_compare_exchange");
            return out.get(JAVA_LONG, 0);
        }
    }

    /**
     * Blocks until the root at {@code root} (raw or map) holds something other than {@code
     * seen}, or {@code timeout} passes ({@code eve_root_wait}); {@code null} or a negative
     * timeout waits for ever, a timeout is rounded up to whole milliseconds. Returns the value
     * seen last: equal to {@code seen} only on timeout. Changes by any process wake it.
     *
     * <p>The thread waits inside native code: {@link Thread#interrupt()} does not wake it
     * (use a timeout and loop to stay interruptible), and a virtual thread pins its carrier.
     * While it waits, {@link #close()} fails with {@code EVE_ERR_BUSY}.
     */
    public long waitForChange(int root, long seen, Duration timeout) {
        long millis = timeoutMillis(timeout);
        return Native.returningLong(out -> Native.rootWait(handle, root, seen, millis, out), "eve_root_wait");
    }

    /** Longer than this (about a century) is waiting for ever; it also keeps eve's deadline arithmetic in range. */
    private static final long FOREVER_MILLIS = 100L * 366 * 24 * 3600 * 1000;

    static long timeoutMillis(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            return -1;
        }
        try {
            long millis = timeout.toMillis();
            if (timeout.compareTo(Duration.ofMillis(millis)) > 0) {
                millis++; // round a fraction of a millisecond up, so a tiny timeout still waits
            }
            return millis > FOREVER_MILLIS ? -1 : millis;
        } catch (ArithmeticException tooLong) {
            return -1;
        }
    }

    /**
     * Applies {@code ops} to the map at {@code map} as one atomic transaction ({@code
     * eve_map_transact}): readers see all of them or none; later changes to the same key win.
     * If another writer (in any process) publishes first, the batch is re-applied to the new
     * version. Nothing is changed when it fails.
     */
    public Commit transact(int map, List<Op> ops) {
        Objects.requireNonNull(ops, "ops");
        int count = ops.size();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment batch = MemorySegment.NULL;
            if (count > 0) {
                long bytes = 0;
                for (Op op : ops) {
                    bytes += op.key().length + (op.kind() == Op.Kind.PUT ? op.value().length : 0);
                }
                batch = arena.allocate(Native.EVE_OP, count);
                // Every key and value in one block: one allocation per transaction.
                MemorySegment data = arena.allocate(Math.max(bytes, 1));
                long at = 0;
                long base = data.address();
                for (int i = 0; i < count; i++) {
                    Op op = ops.get(i);
                    long slot = i * Native.EVE_OP.byteSize();
                    batch.set(JAVA_INT, slot + Native.OP_KIND, op.kind().code);
                    at = put(batch, slot + Native.OP_KEY, data, base, at, op.key());
                    if (op.kind() == Op.Kind.PUT) {
                        at = put(batch, slot + Native.OP_VALUE, data, base, at, op.value());
                    } // a REMOVE's value stays {NULL, 0} (allocate zeroes the array)
                }
            }
            MemorySegment out = arena.allocate(Native.EVE_COMMIT);
            Native.check(Native.mapTransact(handle, map, batch, count, out), "eve_map_transact");
            return new Commit(
                    out.get(JAVA_LONG, Native.COMMIT_ROOT),
                    out.get(JAVA_LONG, Native.COMMIT_RETRIES),
                    out.get(JAVA_BOOLEAN, Native.COMMIT_CHANGED));
        }
    }

    /** Copies {@code bytes} to {@code data} at {@code at} and points the eve_bytes at {@code field} there. */
    private static long put(MemorySegment batch, long field, MemorySegment data, long base, long at, byte[] bytes) {
        MemorySegment.copy(bytes, 0, data, JAVA_BYTE, at, bytes.length);
        batch.set(ADDRESS, field + Native.BYTES_DATA, MemorySegment.ofAddress(base + at));
        batch.set(JAVA_LONG, field + Native.BYTES_LEN, bytes.length);
        return at + bytes.length;
    }

    /** Sets {@code key} to {@code value} in the map at {@code map} (a transaction of one). */
    public Commit put(int map, byte[] key, byte[] value) {
        return transact(map, List.of(Op.put(key, value)));
    }

    /** Sets {@code key} to {@code value}, both UTF-8 (a transaction of one). */
    public Commit put(int map, String key, String value) {
        return transact(map, List.of(Op.put(key, value)));
    }

    /** Removes {@code key} from the map at {@code map} if present (a transaction of one). */
    public Commit remove(int map, byte[] key) {
        return transact(map, List.of(Op.remove(key)));
    }

    /** Removes the UTF-8 {@code key} if present (a transaction of one). */
    public Commit remove(int map, String key) {
        return transact(map, List.of(Op.remove(key)));
    }

    // ---- DaoDB ----------------------------------------------------------------------------

    /**
     * The index of the DaoDB database called {@code name} (1 to 80 bytes of UTF-8), created
     * empty if it is missing and the handle is writable ({@code eve_db_open}). Every process
     * gets the same index for the same name. Fails with {@code EVE_ERR_WRONG_KIND} if {@code
     * name} is a root of another kind, and {@code EVE_ERR_NOT_FOUND} on a read-only handle
     * when it is missing.
     */
    public int database(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            Native.check(Native.dbOpen(handle, Native.name(arena, name), out), "eve_db_open " + name);
            return out.get(JAVA_INT, 0);
        }
    }

    /** Runs the EDN transaction data {@code txEdn} on the database at {@code db}, without metadata, not synced. */
    public TxReport transact(int db, String txEdn) {
        return transact(db, txEdn, null, false);
    }

    /**
     * Runs a transaction on the database at {@code db} ({@code eve_db_transact}). {@code
     * txEdn} is EDN transaction data: a vector of entity maps and {@code [:db/add e a v]},
     * {@code [:db/retract e a v]}, {@code [:db/retract e a]}, {@code [:db/retractEntity e]}
     * statements, with tempids, idents and lookup refs. {@code metadataEdn} is an EDN map
     * (or {@code null}) whose attributes describe the transaction: it becomes an entity of
     * its own, and the {@code m} of every assertion of the transaction. With {@code synced}
     * ({@code EVE_TX_SYNCED}) it returns only once the transaction is on disk; without it a
     * transaction survives any process crash but not a power loss.
     *
     * <p>Lock-free: if another writer (in any process) publishes first, the transaction is
     * run again on the new version ({@link TxReport#retries()}). Invalid data (malformed
     * EDN, an unknown attribute, a value of the wrong type, a unique conflict) fails with
     * {@code EVE_ERR_INVALID_ARGUMENT}, the message saying what and where, and changes
     * nothing; a root of another kind at {@code db} fails with {@code EVE_ERR_WRONG_KIND}.
     */
    public TxReport transact(int db, String txEdn, String metadataEdn, boolean synced) {
        Objects.requireNonNull(txEdn, "txEdn");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tx = Native.text(arena, txEdn, "the transaction data");
            MemorySegment metadata = Native.text(arena, metadataEdn, "the transaction metadata");
            MemorySegment out = arena.allocate(Native.EVE_TX_REPORT);
            int flags = synced ? Native.EVE_TX_SYNCED : 0;
            Native.check(Native.dbTransact(handle, db, tx, metadata, flags, out), "eve_db_transact");
            // The tempids text lives only until the next eve call on this thread: copy it first.
            String tempids = Native.cString(out.get(ADDRESS, Native.TX_REPORT_TEMPIDS));
            Map<String, Long> resolved = tempids.isEmpty() ? Map.of() : TxReport.parseTempids(tempids);
            return new TxReport(
                    out.get(JAVA_LONG, Native.TX_REPORT_T),
                    out.get(JAVA_LONG, Native.TX_REPORT_DATOMS),
                    out.get(JAVA_LONG, Native.TX_REPORT_RETRIES),
                    resolved);
        }
    }

    /**
     * Blocks until a transaction after {@code afterT} is published in the database at {@code
     * db} (by any process), or {@code timeout} passes ({@code eve_db_wait}); {@code null} or
     * a negative timeout waits for ever, a timeout is rounded up to whole milliseconds.
     * Returns the basis {@code t} seen last: at most {@code afterT} only on timeout.
     *
     * <p>Like {@link #waitForChange}, the thread waits inside native code: {@link
     * Thread#interrupt()} does not wake it, and {@link #close()} fails with {@code
     * EVE_ERR_BUSY} meanwhile.
     */
    public long waitForTransaction(int db, long afterT, Duration timeout) {
        long millis = timeoutMillis(timeout);
        return Native.returningLong(out -> Native.dbWait(handle, db, afterT, millis, out), "eve_db_wait");
    }

    /**
     * The basis {@code t} of the database at {@code db}: the {@code t} of its last
     * transaction, 0 before the first ({@code eve_db_wait(slab, db, 0, 0, &t)}, which does not wait).
     */
    public long basisT(int db) {
        return waitForTransaction(db, 0, Duration.ZERO);
    }

    /**
     * Begins a read on the calling thread ({@code eve_read_begin}): a snapshot that keeps every
     * value it hands out valid until it is closed. Close it on the same thread, soon (an open
     * read holds back reclamation in every process), preferably with try-with-resources.
     *
     * @see Read
     */
    public Read read() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            Native.check(Native.readBegin(handle, out), "eve_read_begin");
            return new Read(out.get(ADDRESS, 0));
        }
    }

    /** The slab's counters ({@code eve_slab_stats}). */
    public Stats stats() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(Native.EVE_STATS);
            Native.check(Native.slabStats(handle, s), "eve_slab_stats");
            long[] v = s.toArray(JAVA_LONG);
            return new Stats(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13]);
        }
    }

    /**
     * Frees every retired block no pinned reader in any process can still reach ({@code
     * eve_slab_reclaim}). Writers do this by themselves every few commits. Fails with {@code
     * EVE_ERR_READ_ONLY} on a read-only handle.
     */
    public ReclaimReport reclaim() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = arena.allocate(Native.EVE_RECLAIM_REPORT);
            Native.check(Native.slabReclaim(handle, r), "eve_slab_reclaim");
            return new ReclaimReport(r.get(JAVA_LONG, 0), r.get(JAVA_LONG, 8));
        }
    }

    /**
     * Runs the recovery sweep ({@code eve_slab_recover}): validates every reachable block and
     * frees every unreachable one. Needs the slab alone: fails with {@code EVE_ERR_BUSY} while
     * this handle has open reads or any other handle (in any process) has the slab open.
     */
    public SweepReport recover() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = arena.allocate(Native.EVE_SWEEP_REPORT);
            Native.check(Native.slabRecover(handle, r), "eve_slab_recover");
            return new SweepReport(
                    r.get(JAVA_LONG, 0), r.get(JAVA_LONG, 8), r.get(JAVA_LONG, 16), r.get(JAVA_LONG, 24), r.get(JAVA_LONG, 32));
        }
    }

    /**
     * Checks every reachable block without changing anything ({@code eve_slab_check}) and
     * returns how many there are. Fails with {@code EVE_ERR_CORRUPT} if something is damaged.
     */
    public long check() {
        return Native.returningLong(out -> Native.slabCheck(handle, out), "eve_slab_check");
    }

    /** Whether the handle was opened read-only ({@code eve_slab_is_read_only}). */
    public boolean isReadOnly() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_BOOLEAN);
            Native.check(Native.slabIsReadOnly(handle, out), "eve_slab_is_read_only");
            return out.get(JAVA_BOOLEAN, 0);
        }
    }

    @Override
    public String toString() {
        return "Slab[" + (path == null ? "anonymous" : path) + (closed ? ", closed" : "") + "]";
    }
}
