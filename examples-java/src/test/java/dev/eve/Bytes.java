package dev.eve;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/** Test helpers for byte strings. */
final class Bytes {
    private Bytes() {}

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static String text(MemorySegment segment) {
        return segment == null ? null : new String(segment.toArray(JAVA_BYTE), StandardCharsets.UTF_8);
    }
}
