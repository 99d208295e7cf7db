package dev.eve.examples;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.eve.Read;
import dev.eve.Slab;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/**
 * The Java participant of the cross-runtime test (scripts/cross-runtime.sh), following the
 * same protocol as examples-c/cross_runtime.c and examples-node/cross-runtime.js:
 *
 * <pre>CrossRuntime &lt;slab path&gt; &lt;K&gt; &lt;own prefix&gt; &lt;all prefixes, comma-separated&gt;</pre>
 *
 * Puts K keys "prefix/i" -> "prefix value i" into the map "cross", increments the raw
 * root "counter" K times with compare-and-swap, waits until the counter reaches K times
 * the number of participants, then checks every participant's keys, reading in place.
 */
public final class CrossRuntime {
    public static void main(String[] args) {
        if (args.length != 4) {
            System.err.println("usage: CrossRuntime <slab> <K> <prefix> <prefixes>");
            System.exit(2);
        }
        Path path = Path.of(args[0]);
        long k = Long.parseLong(args[1]);
        String own = args[2];
        String[] all = args[3].split(",");
        try (Slab slab = Slab.open(path)) {
            int map = slab.map("cross");
            int counter = slab.root("counter");
            // Start together: announce this participant, then wait for all of them.
            int ready = slab.root("ready");
            long started = slab.load(ready);
            long previous;
            while ((previous = slab.compareExchange(ready, started, started + 1)) != started) {
                started = previous;
            }
            started++;
            long startDeadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (started < all.length) {
                if (System.nanoTime() > startDeadline) {
                    fail("only " + started + " of " + all.length + " participants started");
                }
                started = slab.waitForChange(ready, started, Duration.ofMillis(100));
            }
            for (long i = 0; i < k; i++) {
                slab.put(map, own + "/" + i, own + " value " + i);
                long seen = slab.load(counter);
                long actual;
                while ((actual = slab.compareExchange(counter, seen, seen + 1)) != seen) {
                    seen = actual;
                }
            }

            long total = k * all.length;
            long now = slab.load(counter);
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (now < total) {
                if (System.nanoTime() > deadline) {
                    fail("the counter stayed at " + now + " of " + total);
                }
                now = slab.waitForChange(counter, now, Duration.ofMillis(100));
            }
            if (now != total) {
                fail("counter " + now + ", expected " + total);
            }

            long verified = 0;
            try (Read read = slab.read()) {
                for (String prefix : all) {
                    for (long i = 0; i < k; i++) {
                        byte[] key = (prefix + "/" + i).getBytes(StandardCharsets.UTF_8);
                        byte[] expected = (prefix + " value " + i).getBytes(StandardCharsets.UTF_8);
                        MemorySegment value = read.get(map, key); // a view into the slab
                        if (value == null || !Arrays.equals(value.toArray(JAVA_BYTE), expected)) {
                            fail(prefix + "/" + i + " is wrong or missing");
                        }
                        verified++;
                    }
                }
            }
            System.out.printf("java: counter %d, verified %d keys of %d runtimes in place%n", now, verified, all.length);
        }
    }

    private static void fail(String why) {
        System.err.println("java: " + why);
        System.exit(1);
    }
}
