package dev.eve;

/**
 * A failed eve call: the {@code eve_status} it returned ({@link #status()}, one of the
 * {@link Status} constants), its name ({@link #statusName()}, e.g. {@code "EVE_ERR_BUSY"})
 * and eve's explanation ({@link #errorMessage()}, from {@code eve_last_error_message()},
 * read on the failing thread right after the call).
 */
public final class EveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String statusName;
    private final String errorMessage;

    EveException(int status, String statusName, String operation, String errorMessage) {
        super(operation + ": " + statusName + (errorMessage.isEmpty() ? "" : ": " + errorMessage));
        this.status = status;
        this.statusName = statusName;
        this.errorMessage = errorMessage;
    }

    /** The {@code eve_status} code (a {@link Status} constant). */
    public int status() {
        return status;
    }

    /** The name of {@link #status()}, as {@code eve_status_name} gives it. */
    public String statusName() {
        return statusName;
    }

    /** eve's own explanation ({@code eve_last_error_message()} right after the failure). */
    public String errorMessage() {
        return errorMessage;
    }
}
