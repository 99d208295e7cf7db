package dev.eve;

import static dev.eve.Bytes.text;
import static dev.eve.Bytes.utf8;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Maps: transactions, zero-copy lookups, batches, counts, iteration and snapshots. */
class MapTest {
    private Slab slab;
    private int users;

    @BeforeEach
    void open() {
        slab = Slab.openAnonymous();
        users = slab.map("users");
    }

    @AfterEach
    void close() {
        slab.close();
    }

    private static EveException fails(int status, org.junit.jupiter.api.function.Executable call) {
        EveException e = assertThrows(EveException.class, call);
        assertEquals(status, e.status(), e.getMessage());
        return e;
    }

    @Test
    void mapIndicesAreStableAndFindable() {
        assertEquals(users, slab.map("users"));
        int other = slab.map("other");
        assertNotEquals(users, other);
        assertEquals(Optional.of(new RootInfo(users, RootInfo.Kind.MAP)), slab.findRoot("users"));
        assertEquals(Optional.empty(), slab.findRoot("nobody"));
        fails(Status.ERR_INVALID_ARGUMENT, () -> slab.map(""));
        fails(Status.ERR_INVALID_ARGUMENT, () -> slab.map("x".repeat(81)));
        assertThrows(IllegalArgumentException.class, () -> slab.map("a\0b"));
        assertEquals(slab.map("é".repeat(40)), slab.map("é".repeat(40)), "80 bytes of UTF-8 is allowed");
    }

    @Test
    void transactPutsAndRemovesAtomically() {
        Commit first = slab.transact(users, List.of(Op.put("ada", "Ada Lovelace"), Op.put("alan", "Alan Turing")));
        assertTrue(first.changed());
        assertEquals(0, first.retries());
        assertEquals(first.root(), slab.load(users));

        Commit second = slab.transact(users, List.of(
                Op.remove("alan"), Op.put("grace", "Grace Hopper"), Op.put("grace", "Grace B. Hopper")));
        assertTrue(second.changed());
        assertNotEquals(first.root(), second.root());
        try (Read read = slab.read()) {
            assertEquals("Ada Lovelace", read.getString(users, "ada"));
            assertNull(read.getString(users, "alan"));
            assertEquals("Grace B. Hopper", read.getString(users, "grace"), "later changes to the same key win");
            assertEquals(2, read.count(users));
        }

        Commit nothing = slab.transact(users, List.of(Op.remove("nobody")));
        assertFalse(nothing.changed());
        assertEquals(second.root(), nothing.root());
        Commit empty = slab.transact(users, List.of());
        assertFalse(empty.changed());
        assertEquals(second.root(), empty.root());
    }

    @Test
    void convenienceWrites() {
        assertTrue(slab.put(users, utf8("k"), utf8("v")).changed());
        assertTrue(slab.put(users, "s", "t").changed());
        assertFalse(slab.put(users, "s", "t").changed(), "writing the same value changes nothing");
        assertTrue(slab.remove(users, utf8("k")).changed());
        assertTrue(slab.remove(users, "s").changed());
        assertFalse(slab.remove(users, "s").changed());
        try (Read read = slab.read()) {
            assertEquals(0, read.count(users));
        }
    }

    @Test
    void lookupsAreZeroCopyViewsScopedToTheRead() {
        slab.put(users, "ada", "Ada Lovelace");
        MemorySegment value;
        try (Read read = slab.read()) {
            value = read.get(users, utf8("ada"));
            assertNotNull(value);
            assertEquals(12, value.byteSize());
            assertEquals("Ada Lovelace", text(value));
            assertTrue(value.isNative() && value.isReadOnly());
            assertNull(read.get(users, utf8("grace")));
            assertNull(read.getBytes(users, utf8("grace")));
            assertArrayEquals(utf8("Ada Lovelace"), read.getBytes(users, utf8("ada")));
            try (Arena arena = Arena.ofConfined()) {
                assertEquals("Ada Lovelace", text(read.get(users, arena.allocateFrom(JAVA_BYTE, utf8("ada")))),
                        "an off-heap key is passed as is");
            }
        }
        assertFalse(value.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> value.get(JAVA_BYTE, 0), "no access to memory the read no longer pins");
        assertThrows(IllegalStateException.class, () -> value.toArray(JAVA_BYTE));
    }

    @Test
    void aClosedReadIsRefused() {
        Read read = slab.read();
        read.close();
        assertTrue(read.isClosed());
        assertDoesNotThrow(read::close);
        assertThrows(IllegalStateException.class, () -> read.get(users, utf8("ada")));
        assertThrows(IllegalStateException.class, () -> read.getMany(users, List.of(utf8("ada"))));
        assertThrows(IllegalStateException.class, () -> read.count(users));
        assertThrows(IllegalStateException.class, () -> read.entries(users));
    }

    @Test
    void emptyKeysAndValuesAndBinaryData() {
        byte[] binary = new byte[256];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) i;
        }
        byte[] big = new byte[1 << 20];
        Arrays.fill(big, (byte) 7);
        slab.transact(users, List.of(
                Op.put(new byte[0], utf8("empty key")),
                Op.put(utf8("empty"), new byte[0]),
                Op.put(binary, binary),
                Op.put(utf8("big"), big)));
        try (Read read = slab.read()) {
            assertEquals("empty key", read.getString(users, ""));
            MemorySegment empty = read.get(users, utf8("empty"));
            assertNotNull(empty, "an empty value is present, not absent");
            assertEquals(0, empty.byteSize());
            assertArrayEquals(binary, read.getBytes(users, binary));
            assertArrayEquals(big, read.getBytes(users, utf8("big")));
            assertEquals(4, read.count(users));
        }
    }

    @Test
    void getManyLooksUpABatchInOneCall() {
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            ops.add(Op.put("key-" + i, "value-" + i));
        }
        slab.transact(users, ops);
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < 200; i += 2) {
            keys.add(utf8("key-" + i));
        }
        keys.add(new byte[0]);
        try (Read read = slab.read()) {
            MemorySegment[] values = read.getMany(users, keys);
            assertEquals(keys.size(), values.length);
            for (int i = 0; i < 100; i++) {
                int k = 2 * i;
                if (k < 100) {
                    assertEquals("value-" + k, text(values[i]));
                } else {
                    assertNull(values[i], "key-" + k);
                }
            }
            assertNull(values[100]);
            assertEquals(0, read.getMany(users, List.of()).length);
            fails(Status.ERR_WRONG_KIND, () -> read.getMany(slab.root("raw"), keys));
        }
    }

    @Test
    void iterationSeesEveryEntryInBatches() {
        int n = 1000; // several eve_iter_next batches of 256
        Map<String, String> expected = new HashMap<>();
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            expected.put("key-" + i, "value-" + i);
            ops.add(Op.put("key-" + i, "value-" + i));
        }
        slab.transact(users, ops);
        try (Read read = slab.read()) {
            Map<String, String> seen = new HashMap<>();
            read.forEach(users, (k, v) -> assertNull(seen.put(text(k), text(v)), "each entry once"));
            assertEquals(expected, seen);

            Map<String, String> again = new HashMap<>();
            Read.Entry last = null;
            try (Read.Entries entries = read.entries(users)) {
                while (entries.hasNext()) {
                    last = entries.next();
                    again.put(new String(last.keyBytes()), new String(last.valueBytes()));
                }
                assertThrows(NoSuchElementException.class, entries::next);
            }
            assertEquals(expected, again);
            Read.Entry gone = last;
            assertThrows(IllegalStateException.class, () -> gone.key().get(JAVA_BYTE, 0),
                    "entries are scoped to the iterator");

            int empty = slab.map("empty");
            read.forEach(empty, (k, v) -> {
                throw new AssertionError("an empty map has no entries");
            });
            assertFalse(read.entries(empty).hasNext());
        }
    }

    @Test
    void anIteratorClosedEarlyOrWithItsReadReleasesItsPin() {
        for (int i = 0; i < 10; i++) {
            slab.put(users, "key-" + i, "value-" + i);
        }
        Read read = slab.read();
        Read.Entries early = read.entries(users);
        assertTrue(early.hasNext());
        Read.Entry entry = early.next();
        assertNotNull(entry.key());
        early.close();
        early.close();
        assertFalse(early.hasNext());
        assertThrows(IllegalStateException.class, () -> entry.value().get(JAVA_BYTE, 0));

        Read.Entries open = read.entries(users);
        assertTrue(open.hasNext());
        Read.Entry pending = open.next();
        read.close(); // closes the iterator too
        assertThrows(IllegalStateException.class, () -> pending.key().get(JAVA_BYTE, 0));
        assertEquals(0, slab.stats().liveReaders());
    }

    @Test
    void aReadIsASnapshot() {
        slab.put(users, "k", "v1");
        try (Read read = slab.read()) {
            assertEquals("v1", read.getString(users, "k")); // the first lookup fixes the version
            slab.put(users, "k", "v2");
            slab.put(users, "new", "entry");
            assertEquals("v1", read.getString(users, "k"), "a commit after the first lookup is not seen");
            assertNull(read.getString(users, "new"));
            assertEquals(1, read.count(users));
            List<String> keys = new ArrayList<>();
            read.forEach(users, (k, v) -> keys.add(text(k)));
            assertEquals(List.of("k"), keys);
            try (Read fresh = slab.read()) {
                assertEquals("v2", fresh.getString(users, "k"), "a new read sees the commit");
                assertEquals(2, fresh.count(users));
            }
        }
        try (Read read = slab.read()) {
            slab.put(users, "k", "v3");
            assertEquals("v3", read.getString(users, "k"), "the version is fixed by the first lookup, not by begin");
        }
    }

    @Test
    void readsNest() {
        slab.put(users, "k", "v");
        try (Read outer = slab.read(); Read inner = slab.read()) {
            assertEquals("v", outer.getString(users, "k"));
            assertEquals("v", inner.getString(users, "k"));
        }
    }

    /** An unused index in the root table is NOT_FOUND, one past its end INVALID_ARGUMENT. */
    @Test
    void unknownMapIndicesAreRefused() {
        for (int unknown : new int[] {200, 4000, -1}) {
            int status = unknown == 200 ? Status.ERR_NOT_FOUND : Status.ERR_INVALID_ARGUMENT;
            fails(status, () -> slab.put(unknown, "k", "v"));
            fails(status, () -> slab.transact(unknown, List.of()));
            fails(status, () -> slab.load(unknown));
            try (Read read = slab.read()) {
                fails(status, () -> read.get(unknown, utf8("k")));
                fails(status, () -> read.getMany(unknown, List.of(utf8("k"))));
                fails(status, () -> read.count(unknown));
                fails(status, () -> read.entries(unknown));
                fails(status, () -> read.forEach(unknown, (k, v) -> {}));
            }
        }
    }

    @Test
    void wrongKindsAreRefused() {
        int raw = slab.root("counter");
        fails(Status.ERR_WRONG_KIND, () -> slab.map("counter"));
        fails(Status.ERR_WRONG_KIND, () -> slab.root("users"));
        fails(Status.ERR_WRONG_KIND, () -> slab.put(raw, "k", "v"));
        fails(Status.ERR_WRONG_KIND, () -> slab.compareExchange(users, 0, 1));
        try (Read read = slab.read()) {
            fails(Status.ERR_WRONG_KIND, () -> read.get(raw, utf8("k")));
            fails(Status.ERR_WRONG_KIND, () -> read.count(raw));
            fails(Status.ERR_WRONG_KIND, () -> read.entries(raw));
        }
    }
}
