package dev.eve;

/** Library-wide information: the version of the loaded libeve and status names. */
public final class Eve {
    private Eve() {}

    /** The version of the loaded library, e.g. {@code "0.1.0"} ({@code eve_version}). */
    public static String version() {
        return Native.version();
    }

    /** {@code eve_version_major()}. */
    public static int versionMajor() {
        return Native.versionMajor();
    }

    /** {@code eve_version_minor()}. */
    public static int versionMinor() {
        return Native.versionMinor();
    }

    /** {@code eve_version_patch()}. */
    public static int versionPatch() {
        return Native.versionPatch();
    }

    /** The name of a status code ({@code eve_status_name}); {@code "EVE_UNKNOWN_STATUS"} for others. */
    public static String statusName(int status) {
        return Native.statusName(status);
    }

    /**
     * The message of the last failed eve call on the calling thread ({@code
     * eve_last_error_message}); empty if none failed. {@link EveException} already carries it.
     */
    public static String lastErrorMessage() {
        return Native.lastErrorMessage();
    }
}
