package dev.eve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Raw roots: open, find, load, compare-exchange, and waiting for a change. */
class RootTest {
    private Slab slab;

    @BeforeEach
    void open() {
        slab = Slab.openAnonymous();
    }

    @AfterEach
    void close() {
        slab.close();
    }

    @Test
    void rootsStartAtZeroAndCompareExchange() {
        int root = slab.root("counter");
        assertEquals(root, slab.root("counter"));
        assertEquals(Optional.of(new RootInfo(root, RootInfo.Kind.RAW)), slab.findRoot("counter"));
        assertEquals(0, slab.load(root));
        assertEquals(0, slab.compareExchange(root, 0, 42), "swapped: returns the expected value");
        assertEquals(42, slab.load(root));
        assertEquals(42, slab.compareExchange(root, 7, 8), "not swapped: returns the value held");
        assertEquals(42, slab.load(root));
        assertEquals(42, slab.compareExchange(root, 42, -1));
        assertEquals(-1, slab.load(root), "all 64 bits (an unsigned word, seen as a long)");
        assertNotEquals(root, slab.root("other"));
    }

    @Test
    void unknownRootIndicesAreRefused() {
        for (int unknown : new int[] {200, 1234}) {
            int status = unknown == 200 ? Status.ERR_NOT_FOUND : Status.ERR_INVALID_ARGUMENT;
            EveException e = assertThrows(EveException.class, () -> slab.load(unknown));
            assertEquals(status, e.status(), e.getMessage());
            e = assertThrows(EveException.class, () -> slab.compareExchange(unknown, 0, 1));
            assertEquals(status, e.status(), e.getMessage());
            e = assertThrows(EveException.class, () -> slab.waitForChange(unknown, 0, Duration.ZERO));
            assertEquals(status, e.status(), e.getMessage());
        }
    }

    @Test
    void waitTimesOutWhenNothingChanges() {
        int root = slab.root("quiet");
        long start = System.nanoTime();
        assertEquals(0, slab.waitForChange(root, 0, Duration.ofMillis(100)));
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(waited >= 95, "waited " + waited + " ms");
        assertEquals(0, slab.waitForChange(root, 0, Duration.ZERO), "a zero timeout only looks");
        assertEquals(0, slab.waitForChange(root, 0, Duration.ofNanos(1)));
        slab.compareExchange(root, 0, 5);
        assertEquals(5, slab.waitForChange(root, 0, null), "returns at once when the value already differs");
    }

    @Test
    void timeoutsConvert() {
        assertEquals(-1, Slab.timeoutMillis(null));
        assertEquals(-1, Slab.timeoutMillis(Duration.ofMillis(-5)));
        assertEquals(0, Slab.timeoutMillis(Duration.ZERO));
        assertEquals(1, Slab.timeoutMillis(Duration.ofNanos(1)));
        assertEquals(1500, Slab.timeoutMillis(Duration.ofMillis(1500)));
        assertEquals(2, Slab.timeoutMillis(Duration.ofMillis(1).plusNanos(1)));
        assertEquals(-1, Slab.timeoutMillis(Duration.ofSeconds(Long.MAX_VALUE)));
        assertEquals(-1, Slab.timeoutMillis(Duration.ofDays(365L * 1000)));
    }

    @Test
    void aChangeFromAnotherThreadWakesTheWaiter() throws Exception {
        int root = slab.root("bell");
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Long> woken = new CompletableFuture<>();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() -> {
            try {
                started.countDown();
                woken.complete(slab.waitForChange(root, 0, null)); // for ever
            } catch (Throwable t) {
                woken.completeExceptionally(t);
            }
        });
        started.await();
        awaitInNativeWait(waiter);
        EveException busy = assertThrows(EveException.class, slab::close, "a thread is waiting in a call on the slab");
        assertEquals(Status.ERR_BUSY, busy.status());
        assertEquals(0, slab.compareExchange(root, 0, 99));
        assertEquals(99L, woken.get(10, TimeUnit.SECONDS));
        waiter.join(10_000);
    }

    /** Returns once {@code thread} has been inside the eve_root_wait downcall for a while. */
    private static void awaitInNativeWait(Thread thread) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Arrays.stream(thread.getStackTrace()).noneMatch(f -> f.getMethodName().equals("rootWait"))) {
            assertTrue(System.nanoTime() < deadline, "the waiter never reached eve_root_wait");
            Thread.sleep(5);
        }
        Thread.sleep(200); // from the Java frame into the C call
    }

    @Test
    void aCommitWakesAWaiterOnAMapRoot() throws Exception {
        int map = slab.map("watched");
        long before = slab.load(map);
        CompletableFuture<Long> woken = CompletableFuture.supplyAsync(
                () -> slab.waitForChange(map, before, Duration.ofSeconds(30)), r -> Thread.ofPlatform().start(r));
        Thread.sleep(100);
        Commit commit = slab.put(map, "k", "v");
        assertEquals(commit.root(), woken.get(10, TimeUnit.SECONDS));
        assertNotEquals(before, commit.root());
    }
}
