package dev.eve;

/**
 * How to open a slab ({@code eve_open_options}). {@link #DEFAULT} (all zero): read and write,
 * create the file if it is missing (mode 0600), the default number of reader slots, the
 * largest address-space reservation available.
 *
 * @param readOnly    map without write permission: writes fail with {@code EVE_ERR_READ_ONLY}
 *                    and the file must exist
 * @param mustExist   fail with {@code EVE_ERR_IO} instead of creating a missing file
 * @param readerSlots reader slots (threads reading at once, over all processes) of a newly
 *                    created slab; 0 for the default. Ignored when the slab exists
 * @param maxSize     the most the slab may grow to, in bytes (also the address range reserved
 *                    in this process); 0 for the default
 * @param mode        permission bits (at most 0777) of a file this open creates, before the
 *                    umask; 0 for the default, 0600: whoever can write a slab can change its
 *                    data. Ignored when the file exists
 */
public record OpenOptions(boolean readOnly, boolean mustExist, int readerSlots, long maxSize, int mode) {
    /** The defaults (a zeroed {@code eve_open_options}). */
    public static final OpenOptions DEFAULT = new OpenOptions(false, false, 0, 0, 0);

    public OpenOptions {
        if (readerSlots < 0) {
            throw new IllegalArgumentException("readerSlots must not be negative");
        }
        if (maxSize < 0) {
            throw new IllegalArgumentException("maxSize must not be negative");
        }
        if ((mode & ~0777) != 0) {
            throw new IllegalArgumentException("mode must be permission bits (at most 0777)");
        }
    }

    /** Read-only, on an existing file. */
    public static OpenOptions readOnlyOptions() {
        return DEFAULT.withReadOnly(true);
    }

    public OpenOptions withReadOnly(boolean readOnly) {
        return new OpenOptions(readOnly, mustExist, readerSlots, maxSize, mode);
    }

    public OpenOptions withMustExist(boolean mustExist) {
        return new OpenOptions(readOnly, mustExist, readerSlots, maxSize, mode);
    }

    public OpenOptions withReaderSlots(int readerSlots) {
        return new OpenOptions(readOnly, mustExist, readerSlots, maxSize, mode);
    }

    public OpenOptions withMaxSize(long maxSize) {
        return new OpenOptions(readOnly, mustExist, readerSlots, maxSize, mode);
    }

    public OpenOptions withMode(int mode) {
        return new OpenOptions(readOnly, mustExist, readerSlots, maxSize, mode);
    }

    int flags() {
        return (readOnly ? Native.EVE_OPEN_READ_ONLY : 0) | (mustExist ? Native.EVE_OPEN_MUST_EXIST : 0);
    }
}
