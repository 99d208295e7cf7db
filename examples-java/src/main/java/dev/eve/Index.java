package dev.eve;

/**
 * The four covering indexes of a DaoDB database ({@code enum eve_index}), named by their
 * sort order: entity, attribute, value, transaction.
 */
public enum Index {
    /** By entity, then attribute, value, t. */
    EAVT(0),
    /** By attribute, then entity, value, t. */
    AEVT(1),
    /** By attribute, then value, entity, t: lookups by value. */
    AVET(2),
    /** By referenced entity, then attribute, entity, t: reference datoms only (reverse lookups). */
    VAET(3);

    /** The {@code eve_index} value. */
    final int code;

    Index(int code) {
        this.code = code;
    }
}
