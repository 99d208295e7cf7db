package dev.eve;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
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
    private boolean closed;

    Read(MemorySegment handle) {
        this.handle = handle;
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

    /**
     * Ends the read ({@code eve_read_end}), after closing the iterators still open on it.
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
}
