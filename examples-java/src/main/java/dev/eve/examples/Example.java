package dev.eve.examples;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.eve.Commit;
import dev.eve.Eve;
import dev.eve.Op;
import dev.eve.Read;
import dev.eve.Slab;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The shortest useful eve program, from Java: open a slab file, write two entries in one
 * atomic transaction, and read them back as zero-copy views into the shared mapping. The
 * same file can be opened by the C quickstart or any other process at the same time.
 *
 * <pre>./run.sh compile exec:exec [-Dexample.path=/tmp/java-example.slab]</pre>
 */
public final class Example {
    public static void main(String[] args) {
        Path path = Path.of(args.length > 0 ? args[0] : System.getProperty("example.path", "java-example.slab"));
        System.out.println("libeve " + Eve.version() + ", slab " + path.toAbsolutePath());

        try (Slab slab = Slab.open(path)) {
            int users = slab.map("users");

            Commit commit = slab.transact(users, List.of(
                    Op.put("ada", "Ada Lovelace"),
                    Op.put("alan", "Alan Turing"),
                    Op.remove("grace")));
            System.out.printf("committed: %s (after %d retries)%n", commit.changed() ? "changed" : "no change", commit.retries());

            try (Read read = slab.read()) {
                for (String name : List.of("ada", "alan", "grace")) {
                    MemorySegment value = read.get(users, name.getBytes(StandardCharsets.UTF_8)); // no copy
                    System.out.printf("%-5s -> %s%n", name,
                            value == null ? "(absent)" : new String(value.toArray(JAVA_BYTE), StandardCharsets.UTF_8));
                }
                System.out.println("users holds " + read.count(users) + " entries");
            } // the value segments are inaccessible from here

            int visits = slab.root("visits"); // a raw 64-bit word shared by every process
            long seen;
            do {
                seen = slab.load(visits);
            } while (slab.compareExchange(visits, seen, seen + 1) != seen);
            System.out.println("visit number " + (seen + 1));
        }
    }
}
