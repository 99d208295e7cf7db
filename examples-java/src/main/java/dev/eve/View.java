package dev.eve;

/** Which datoms a cursor shows ({@code enum eve_view}). */
public enum View {
    /** The datoms true now ({@code t} is ignored). */
    CURRENT(0),
    /** The datoms true as of transaction {@code t}. */
    AS_OF(1),
    /** The datoms true now that were asserted after transaction {@code t}. */
    SINCE(2),
    /** Every assertion and retraction ever written, with its {@code t} ({@code t} is ignored). */
    HISTORY(3);

    /** The {@code eve_view} value. */
    final int code;

    View(int code) {
        this.code = code;
    }
}
