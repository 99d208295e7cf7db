package dev.eve;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One change in a batch given to {@link Slab#transact}: an {@code eve_op}. Keys and values
 * are copied into the slab by the transaction; the arrays are not kept.
 *
 * @param kind  what the change does
 * @param key   the key (any bytes, possibly empty)
 * @param value the new value for {@link Kind#PUT}; ignored (and may be {@code null}) for
 *              {@link Kind#REMOVE}
 */
public record Op(Kind kind, byte[] key, byte[] value) {
    /** {@code eve_op_kind}. */
    public enum Kind {
        /** {@code EVE_OP_PUT}: set the key to the value, adding it if it is missing. */
        PUT(Native.EVE_OP_PUT),
        /** {@code EVE_OP_REMOVE}: remove the key if present. */
        REMOVE(Native.EVE_OP_REMOVE);

        final int code;

        Kind(int code) {
            this.code = code;
        }
    }

    public Op {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(key, "key");
        if (kind == Kind.PUT) {
            Objects.requireNonNull(value, "value");
        }
    }

    /** Sets {@code key} to {@code value}. */
    public static Op put(byte[] key, byte[] value) {
        return new Op(Kind.PUT, key, value);
    }

    /** Sets {@code key} to {@code value}, both as UTF-8. */
    public static Op put(String key, String value) {
        return put(utf8(key), utf8(value));
    }

    /** Removes {@code key} if present. */
    public static Op remove(byte[] key) {
        return new Op(Kind.REMOVE, key, null);
    }

    /** Removes {@code key} (UTF-8) if present. */
    public static Op remove(String key) {
        return remove(utf8(key));
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
