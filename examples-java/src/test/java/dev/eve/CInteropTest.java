package dev.eve;

import static dev.eve.Bytes.text;
import static dev.eve.Bytes.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A slab written by the C quickstart (examples-c/quickstart.c) is read from Java, zero copy.
 * Skipped unless the program named by the system property eve.c.quickstart exists (build it
 * with cmake; see README.md).
 */
class CInteropTest {
    @TempDir
    Path dir;

    @Test
    void javaReadsWhatCWrote() throws Exception {
        String program = System.getProperty("eve.c.quickstart", "");
        Assumptions.assumeTrue(!program.isEmpty() && Files.isExecutable(Path.of(program)),
                "C quickstart not built (" + program + "): cmake -S .. -B ../build && cmake --build ../build");
        Path slabPath = dir.resolve("from-c.slab");
        Process process = new ProcessBuilder(program, slabPath.toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(1, TimeUnit.MINUTES), "the C program finished");
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("ada   -> Ada Lovelace"), output);

        try (Slab slab = Slab.open(slabPath, OpenOptions.DEFAULT.withMustExist(true))) {
            int users = slab.findRoot("users").orElseThrow().index();
            assertEquals(users, slab.map("users"));
            try (Read read = slab.read()) {
                MemorySegment ada = read.get(users, utf8("ada"));
                MemorySegment alan = read.get(users, utf8("alan"));
                assertTrue(ada.isNative(), "a view into the mapping, not a copy");
                assertEquals("Ada Lovelace", text(ada));
                assertEquals("Alan Turing", text(alan));
                assertEquals(2, read.count(users));
            }
            // And C sees what Java writes: run the quickstart again on the same file.
            slab.put(users, "grace", "Grace Hopper");
        }
        Process again = new ProcessBuilder(program, slabPath.toString()).redirectErrorStream(true).start();
        String second = new String(again.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(again.waitFor(1, TimeUnit.MINUTES));
        assertEquals(0, again.exitValue(), second);
        assertTrue(second.contains("grace -> Grace Hopper"), second);
        assertTrue(second.contains("users holds 3 entries"), second);
    }
}
