package dev.eve;

import static dev.eve.Bytes.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening and closing slabs, options, statistics and maintenance, and their failures. */
class SlabTest {
    @TempDir
    Path dir;

    private static EveException fails(int status, org.junit.jupiter.api.function.Executable call) {
        EveException e = assertThrows(EveException.class, call);
        assertEquals(status, e.status(), e.getMessage());
        assertEquals(Eve.statusName(status), e.statusName());
        assertFalse(e.errorMessage().isEmpty(), "eve explains every failure");
        return e;
    }

    @Test
    void openCreatesAndReopensAFile() {
        Path path = dir.resolve("a.slab");
        try (Slab slab = Slab.open(path)) {
            assertEquals(path, slab.path());
            assertFalse(slab.isReadOnly());
            int map = slab.map("users");
            Commit commit = slab.put(map, "ada", "Ada Lovelace");
            assertTrue(commit.changed());
            assertEquals(0, commit.retries());
            assertEquals(commit.root(), slab.load(map));
        }
        assertTrue(Files.exists(path));
        try (Slab slab = Slab.open(path, OpenOptions.DEFAULT.withMustExist(true)); Read read = slab.read()) {
            assertEquals("Ada Lovelace", read.getString(slab.map("users"), "ada"));
        }
    }

    @Test
    void closeIsIdempotentAndAClosedSlabIsRefused() {
        Slab slab = Slab.open(dir.resolve("c.slab"));
        int map = slab.map("m");
        slab.close();
        assertDoesNotThrow(slab::close);
        assertTrue(slab.toString().contains("closed"));
        fails(Status.ERR_INVALID_ARGUMENT, () -> slab.map("m"));
        fails(Status.ERR_INVALID_ARGUMENT, () -> slab.root("r"));
        fails(Status.ERR_INVALID_ARGUMENT, () -> slab.findRoot("m"));
        fails(Status.ERR_INVALID_ARGUMENT, () -> slab.put(map, "k", "v"));
        fails(Status.ERR_INVALID_ARGUMENT, () -> slab.load(map));
        fails(Status.ERR_INVALID_ARGUMENT, () -> slab.read());
        fails(Status.ERR_INVALID_ARGUMENT, slab::stats);
        fails(Status.ERR_INVALID_ARGUMENT, slab::reclaim);
        fails(Status.ERR_INVALID_ARGUMENT, slab::recover);
        fails(Status.ERR_INVALID_ARGUMENT, slab::check);
        fails(Status.ERR_INVALID_ARGUMENT, slab::isReadOnly);
    }

    @Test
    void closeWithAnOpenReadIsBusyAndLeavesTheSlabOpen() {
        Slab slab = Slab.open(dir.resolve("busy.slab"));
        int map = slab.map("m");
        slab.put(map, "k", "v");
        Read read = slab.read();
        EveException e = fails(Status.ERR_BUSY, slab::close);
        assertTrue(e.getMessage().contains("EVE_ERR_BUSY"));
        assertEquals("v", read.getString(map, "k"), "the slab and the read stay usable");
        read.close();
        slab.close();
        fails(Status.ERR_INVALID_ARGUMENT, () -> slab.map("m"));
    }

    @Test
    void closeWithAnOpenIteratorIsBusy() {
        Slab slab = Slab.open(dir.resolve("busy-iter.slab"));
        int map = slab.map("m");
        slab.put(map, "k", "v");
        Read read = slab.read();
        Read.Entries entries = read.entries(map);
        fails(Status.ERR_BUSY, slab::close);
        entries.close();
        fails(Status.ERR_BUSY, slab::close);
        read.close();
        slab.close();
    }

    @Test
    void readOnlyHandlesRefuseWrites() {
        Path path = dir.resolve("ro.slab");
        try (Slab slab = Slab.open(path)) {
            slab.put(slab.map("m"), "k", "v");
            slab.root("r");
        }
        try (Slab slab = Slab.open(path, OpenOptions.readOnlyOptions())) {
            assertTrue(slab.isReadOnly());
            int map = slab.map("m");
            int root = slab.root("r");
            fails(Status.ERR_READ_ONLY, () -> slab.put(map, "k", "w"));
            fails(Status.ERR_READ_ONLY, () -> slab.remove(map, "k"));
            fails(Status.ERR_READ_ONLY, () -> slab.transact(map, List.of(Op.put("a", "b"))));
            fails(Status.ERR_READ_ONLY, () -> slab.compareExchange(root, 0, 1));
            fails(Status.ERR_READ_ONLY, slab::reclaim);
            fails(Status.ERR_NOT_FOUND, () -> slab.map("missing"));
            fails(Status.ERR_NOT_FOUND, () -> slab.root("missing"));
            try (Read read = slab.read()) {
                assertEquals("v", read.getString(map, "k"), "reads stay zero-copy on a read-only mapping");
                assertThrows(IllegalArgumentException.class, () -> read.get(map, utf8("k")).set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 1),
                        "values are read-only segments");
            }
            assertEquals(0, slab.load(root));
        }
    }

    @Test
    void readOnlyAndMustExistNeedAnExistingFile() {
        Path missing = dir.resolve("missing.slab");
        fails(Status.ERR_IO, () -> Slab.open(missing, OpenOptions.DEFAULT.withMustExist(true)));
        fails(Status.ERR_IO, () -> Slab.open(missing, OpenOptions.readOnlyOptions()));
        assertFalse(Files.exists(missing));
    }

    @Test
    void aFileThatIsNotASlabIsRefusedAndLeftAlone() throws IOException {
        Path path = dir.resolve("text.txt");
        String text = "just some text, not a slab at all, but long enough to hold a header's magic\n";
        Files.writeString(path, text);
        fails(Status.ERR_NOT_A_SLAB, () -> Slab.open(path));
        fails(Status.ERR_NOT_A_SLAB, () -> Slab.open(path, OpenOptions.readOnlyOptions()));
        assertEquals(text, Files.readString(path, StandardCharsets.UTF_8));
    }

    @Test
    void anonymousSlabs() {
        try (Slab slab = Slab.openAnonymous()) {
            assertNull(slab.path());
            assertFalse(slab.isReadOnly());
            int map = slab.map("m");
            slab.put(map, "k", "v");
            try (Read read = slab.read()) {
                assertEquals("v", read.getString(map, "k"));
            }
        }
        try (Slab slab = Slab.openAnonymous(OpenOptions.DEFAULT.withReaderSlots(8).withMaxSize(64L << 20))) {
            Stats stats = slab.stats();
            assertEquals(8, stats.readerSlots());
            assertEquals(64L << 20, stats.maxSize());
            assertEquals(0, stats.rolledBackRoots());
        }
        fails(Status.ERR_INVALID_ARGUMENT, () -> Slab.openAnonymous(OpenOptions.readOnlyOptions()));
        fails(Status.ERR_INVALID_ARGUMENT, () -> Slab.openAnonymous(OpenOptions.DEFAULT.withMustExist(true)));
    }

    @Test
    void optionsAreValidatedInJava() {
        assertThrows(IllegalArgumentException.class, () -> new OpenOptions(false, false, -1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new OpenOptions(false, false, 0, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> OpenOptions.DEFAULT.withMode(04755));
        assertThrows(IllegalArgumentException.class, () -> Slab.open(dir.resolve("a\0b")));
    }

    @Test
    void aCreatedFileIsItsOwnersAloneUnlessAskedOtherwise() throws IOException {
        Path owned = dir.resolve("owned.slab");
        try (Slab slab = Slab.open(owned)) {
            assertFalse(slab.isReadOnly());
        }
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(owned)));
        // 0644 passes a umask of 022 or 002 unchanged.
        Path shared = dir.resolve("shared.slab");
        try (Slab slab = Slab.open(shared, OpenOptions.DEFAULT.withMode(0644))) {
            assertFalse(slab.isReadOnly());
        }
        assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(shared)));
    }

    @Test
    void aSizeLimitIsEnforced() {
        try (Slab slab = Slab.open(dir.resolve("small.slab"), OpenOptions.DEFAULT.withMaxSize(8L << 20))) {
            assertEquals(8L << 20, slab.stats().maxSize());
            int map = slab.map("m");
            byte[] value = new byte[64 << 10];
            EveException e = assertThrows(EveException.class, () -> {
                for (int i = 0; i < 1000; i++) {
                    slab.put(map, utf8("key-" + i), value);
                }
            });
            assertEquals(Status.ERR_FULL, e.status(), e.getMessage());
            assertTrue(slab.check() > 0, "a failed transaction leaves the slab whole");
        }
    }

    @Test
    void statisticsAndMaintenance() {
        Path path = dir.resolve("stats.slab");
        try (Slab slab = Slab.open(path, OpenOptions.DEFAULT.withReaderSlots(32).withMaxSize(1L << 32))) {
            int map = slab.map("stats");
            for (int i = 0; i < 200; i++) {
                slab.put(map, "key-" + i, "value-" + i);
            }
            Stats stats = slab.stats();
            assertEquals(32, stats.readerSlots());
            assertEquals(1L << 32, stats.maxSize());
            assertEquals(1, stats.roots());
            assertTrue(stats.bytesInUse() > 0 && stats.blocksInUse() > 0);
            assertTrue(stats.fileLen() >= stats.bytesInUse());
            assertTrue(stats.heapBytes() > 0);
            assertTrue(stats.freeBytes() >= 0);
            assertEquals(0, stats.liveReaders());
            assertEquals(0, stats.oldestPinnedEpoch());
            assertTrue(stats.globalEpoch() > 0);

            try (Read read = slab.read()) {
                assertEquals("value-0", read.getString(map, "key-0")); // fixes the version this read sees
                stats = slab.stats();
                assertEquals(1, stats.liveReaders());
                assertTrue(stats.oldestPinnedEpoch() != 0);
                slab.put(map, "key-0", "changed"); // blocks replaced under a pinned reader are kept for it
                ReclaimReport kept = slab.reclaim();
                assertTrue(slab.stats().retiredBlocks() > 0);
                assertTrue(kept.keptBlocks() > 0, kept.toString());
                fails(Status.ERR_BUSY, slab::recover);
                assertEquals("value-0", read.getString(map, "key-0"), "the read's snapshot predates the put");
            }
            ReclaimReport freed = slab.reclaim();
            assertTrue(freed.freedBlocks() > 0, freed.toString());
            assertEquals(0, slab.stats().retiredBlocks());

            long reachable = slab.check();
            assertTrue(reachable > 0);
            try (Slab other = Slab.open(path)) {
                fails(Status.ERR_BUSY, slab::recover); // another handle has the slab open
                assertEquals(reachable, other.check());
            }
            long sweepsBefore = slab.stats().sweeps();
            SweepReport sweep = slab.recover();
            assertEquals(reachable, sweep.liveBlocks());
            assertTrue(sweep.liveBytes() > 0);
            assertEquals(0, sweep.freedBlocks());
            assertEquals(0, sweep.freedBytes());
            assertEquals(0, sweep.rolledBackRoots());
            assertEquals(sweepsBefore + 1, slab.stats().sweeps());
        }
    }

    @Test
    void manySlabsOpenAndCloseCleanly() {
        List<Slab> slabs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            slabs.add(Slab.open(dir.resolve("s" + i + ".slab")));
        }
        for (Slab slab : slabs) {
            slab.put(slab.map("m"), utf8("k"), utf8(slab.path().getFileName().toString()));
        }
        for (Slab slab : slabs) {
            try (Read read = slab.read()) {
                assertArrayEquals(utf8(slab.path().getFileName().toString()), read.getBytes(slab.map("m"), utf8("k")));
            }
            slab.close();
        }
    }
}
