package dev.eve;

import static dev.eve.Bytes.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One slab shared by many threads; reads confined to their thread. */
class ThreadsTest {
    static final int THREADS = 8;
    static final int ROUNDS = 2000;

    @TempDir
    Path dir;

    private static byte[] key(int thread, int i) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(thread).putInt(i).array();
    }

    @Test
    void concurrentCompareExchangeAndPutsAreExact() throws Exception {
        try (Slab slab = Slab.open(dir.resolve("threads.slab"))) {
            int counter = slab.root("counter");
            int map = slab.map("keys");
            CyclicBarrier go = new CyclicBarrier(THREADS);
            List<CompletableFuture<Long>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                done.add(onPlatformThread(() -> {
                    await(go);
                    long retries = 0;
                    for (int i = 0; i < ROUNDS; i++) {
                        long seen = slab.load(counter);
                        long actual;
                        while ((actual = slab.compareExchange(counter, seen, seen + 1)) != seen) {
                            seen = actual;
                        }
                        Commit commit = slab.put(map, key(thread, i), utf8(thread + "/" + i));
                        assertTrue(commit.changed());
                        retries += commit.retries();
                        if (i % 100 == 0) {
                            try (Read read = slab.read()) { // reads interleave with the writes
                                assertEquals(thread + "/" + i, new String(read.getBytes(map, key(thread, i))));
                            }
                        }
                    }
                    return retries;
                }));
            }
            for (CompletableFuture<Long> f : done) {
                f.get(5, TimeUnit.MINUTES); // rethrows a thread's failure
            }
            assertEquals((long) THREADS * ROUNDS, slab.load(counter));
            try (Read read = slab.read()) {
                assertEquals((long) THREADS * ROUNDS, read.count(map));
                for (int t = 0; t < THREADS; t++) {
                    for (int i = 0; i < ROUNDS; i++) {
                        assertEquals(t + "/" + i, new String(read.getBytes(map, key(t, i))));
                    }
                }
            }
            assertTrue(slab.check() > 0);
        }
    }

    @Test
    void aReadBelongsToTheThreadThatOpenedIt() throws Exception {
        try (Slab slab = Slab.openAnonymous()) {
            int map = slab.map("m");
            slab.put(map, "k", "v");
            Read read = slab.read();
            assertEquals("v", read.getString(map, "k"));
            Read.Entries entries = read.entries(map);

            List<Throwable> failures = new ArrayList<>();
            for (Runnable misuse : List.<Runnable>of(
                    () -> read.get(map, utf8("k")),
                    () -> read.getMany(map, List.of(utf8("k"))),
                    () -> read.count(map),
                    () -> read.entries(map),
                    entries::hasNext,
                    entries::close,
                    read::close)) {
                failures.add(onPlatformThread(() -> {
                    try {
                        misuse.run();
                        return null;
                    } catch (Throwable t) {
                        return t;
                    }
                }).get(1, TimeUnit.MINUTES));
            }
            for (Throwable failure : failures) {
                EveException e = assertInstanceOf(EveException.class, failure);
                assertEquals(Status.ERR_INVALID_ARGUMENT, e.status(), e.getMessage());
                assertTrue(e.errorMessage().contains("another thread"), e.errorMessage());
            }
            // Nothing was harmed: the owner still uses and closes both.
            assertTrue(entries.hasNext());
            entries.close();
            assertEquals("v", read.getString(map, "k"));
            read.close();
            assertNull(onPlatformThread(() -> {
                try (Read mine = slab.read()) {
                    return mine.getString(map, "absent");
                }
            }).get(1, TimeUnit.MINUTES));
        }
    }

    private static <T> CompletableFuture<T> onPlatformThread(Supplier<T> body) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                result.complete(body.get());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(1, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
