package dev.eve;

/**
 * A named root found by {@link Slab#findRoot(String)}.
 *
 * @param index the root index (as {@link Slab#map} or {@link Slab#root} return it)
 * @param kind  what the root holds
 */
public record RootInfo(int index, Kind kind) {
    /** {@code eve_root_kind}. */
    public enum Kind {
        /** {@code EVE_ROOT_RAW}: a plain 64-bit word owned by the application. */
        RAW,
        /** {@code EVE_ROOT_MAP}: the current version of a map. */
        MAP,
        /** {@code EVE_ROOT_SET}: the current version of a set. */
        SET,
        /** {@code EVE_ROOT_BTREE}: the current version of a B+tree (a sorted set). */
        BTREE,
        /** {@code EVE_ROOT_DATABASE}: a DaoDB database. */
        DATABASE;

        static Kind of(int code) {
            return switch (code) {
                case 0 -> RAW;
                case 1 -> MAP;
                case 2 -> SET;
                case 3 -> BTREE;
                case 4 -> DATABASE;
                default -> throw new IllegalStateException("unknown eve_root_kind " + code);
            };
        }
    }
}
