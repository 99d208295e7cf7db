package dev.eve;

/**
 * The type of a datom's value ({@code enum eve_value_type}), with the Java class {@link
 * Datom#value()} has for it.
 */
public enum ValueType {
    /** No value: {@code null}. */
    NIL(0),
    /** {@link Boolean}. */
    BOOLEAN(1),
    /** {@link Long}. */
    LONG(2),
    /** {@link Double}. */
    DOUBLE(3),
    /** {@link String}. */
    STRING(4),
    /** {@link String}, without the leading colon ({@code "person/name"}). */
    KEYWORD(5),
    /** {@link String}. */
    SYMBOL(6),
    /** {@link java.util.UUID}. */
    UUID(7),
    /** {@link java.time.Instant}, to the millisecond. */
    INSTANT(8),
    /** {@code byte[]} (a copy). */
    BYTES(9),
    /** {@link Long}: the id of the entity referred to. */
    REF(10);

    private static final ValueType[] BY_CODE = values();

    /** The {@code eve_value_type} value. */
    final int code;

    ValueType(int code) {
        this.code = code;
    }

    /** The constant for an {@code eve_value_type} value. */
    static ValueType of(int code) {
        if (code < 0 || code >= BY_CODE.length) {
            throw new IllegalStateException("eve returned an unknown eve_value_type " + code
                    + " (a library newer than the binding?)");
        }
        return BY_CODE[code];
    }
}
