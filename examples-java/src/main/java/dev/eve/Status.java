package dev.eve;

/**
 * The {@code eve_status} codes of {@code eve.h}, as carried by {@link EveException#status()}.
 * {@link Eve#statusName(int)} names any of them.
 */
public final class Status {
    private Status() {}

    /** Success. */
    public static final int OK = 0;
    /** An argument was out of range or malformed (also: a closed or foreign handle). */
    public static final int ERR_INVALID_ARGUMENT = 1;
    /** A required pointer argument was NULL (cannot happen through this binding). */
    public static final int ERR_NULL_POINTER = 2;
    /** An operating-system call failed. */
    public static final int ERR_IO = 3;
    /** The file is not an eve slab. */
    public static final int ERR_NOT_A_SLAB = 4;
    /** The slab has a format version this library does not read. */
    public static final int ERR_VERSION = 5;
    /** The slab or a structure in it is damaged. */
    public static final int ERR_CORRUPT = 6;
    /** The slab cannot grow (disk full, size limit, reservation used up). */
    public static final int ERR_FULL = 7;
    /** The operation needs exclusive access and another handle (or an open read) holds the slab. */
    public static final int ERR_BUSY = 8;
    /** A named root or key does not exist. */
    public static final int ERR_NOT_FOUND = 9;
    /** The handle is read-only and the operation writes. */
    public static final int ERR_READ_ONLY = 10;
    /** A root exists with another kind than the one asked for. */
    public static final int ERR_WRONG_KIND = 11;
    /** A fixed table in the slab (reader slots, roots) is full. */
    public static final int ERR_EXHAUSTED = 12;
    /** eve itself failed unexpectedly (a bug); the message says where. */
    public static final int ERR_INTERNAL = 13;
}
