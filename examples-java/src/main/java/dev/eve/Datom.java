package dev.eve;

/**
 * One datom {@code [e a v t m]} of a DaoDB database, as a cursor ({@link Read#datoms},
 * {@link Read#log}) hands it out. Everything in it is a copy: it stays valid after the
 * cursor, the read and the slab are closed.
 *
 * @param e     the entity
 * @param a     the attribute, itself an entity ({@link Read#ident} finds it by name)
 * @param t     the transaction that wrote the datom
 * @param m     0 for a retraction, 1 for a plain assertion, or (16 and up) the id of the
 *              transaction's metadata entity
 * @param type  the type of {@code value}
 * @param value {@code null} ({@link ValueType#NIL}), {@link Boolean}, {@link Long}, {@link
 *              Double}, {@link String} (strings; keywords without the colon; symbols),
 *              {@link java.util.UUID}, {@link java.time.Instant}, {@code byte[]}, or {@link
 *              Long} (the entity id of a {@link ValueType#REF})
 */
public record Datom(long e, long a, long t, long m, ValueType type, Object value) {
    /** Whether this datom is a retraction ({@code m == 0}). */
    public boolean retracted() {
        return m == 0;
    }

    /** The datom as {@code [e a v t m]}, the value written roughly as EDN. */
    @Override
    public String toString() {
        String v = switch (type) {
            case NIL -> "nil";
            case STRING -> '"' + (String) value + '"';
            case KEYWORD -> ":" + value;
            case UUID -> "#uuid \"" + value + '"';
            case INSTANT -> "#inst \"" + value + '"';
            case BYTES -> "#bytes[" + ((byte[]) value).length + "]";
            default -> String.valueOf(value);
        };
        return "[" + e + " " + a + " " + v + " " + t + " " + m + "]";
    }
}
