package dev.eve;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The raw C ABI of libeve ({@code include/eve.h}): the library, the struct layouts and one
 * downcall handle per function, each created once. Every wrapper returns the {@code
 * eve_status} as an {@code int}; {@link #check} turns a failure into an {@link
 * EveException} carrying {@code eve_last_error_message()}, read on the same thread right
 * after the failing call.
 *
 * <p>The library is found through the system property {@code eve.library} (a path), else
 * the environment variable {@code EVE_LIBRARY} (a path), else {@code
 * System.loadLibrary("eve")} ({@code java.library.path}).
 */
final class Native {
    private Native() {}

    static final Linker LINKER = Linker.nativeLinker();
    static final SymbolLookup LOOKUP = openLibrary();

    // ---- layouts (x86_64 / aarch64 Linux: size_t and pointers are 8 bytes) ----------------

    /** {@code size_t}. */
    static final ValueLayout.OfLong SIZE_T = JAVA_LONG;

    static {
        long sizeT = LINKER.canonicalLayouts().get("size_t").byteSize();
        if (sizeT != 8 || ADDRESS.byteSize() != 8) {
            throw new UnsupportedOperationException("the eve binding needs a 64-bit platform");
        }
    }

    /** {@code struct eve_bytes { const uint8_t *data; size_t len; }}: 16 bytes. */
    static final StructLayout EVE_BYTES =
            MemoryLayout.structLayout(ADDRESS.withName("data"), SIZE_T.withName("len")).withName("eve_bytes");

    static final long BYTES_DATA = offset(EVE_BYTES, "data");
    static final long BYTES_LEN = offset(EVE_BYTES, "len");

    /** {@code struct eve_op { uint32_t kind; <4 bytes padding> eve_bytes key; eve_bytes value; }}: 40 bytes. */
    static final StructLayout EVE_OP = MemoryLayout.structLayout(
                    JAVA_INT.withName("kind"),
                    MemoryLayout.paddingLayout(4),
                    EVE_BYTES.withName("key"),
                    EVE_BYTES.withName("value"))
            .withName("eve_op");

    static final long OP_KIND = offset(EVE_OP, "kind");
    static final long OP_KEY = offset(EVE_OP, "key");
    static final long OP_VALUE = offset(EVE_OP, "value");

    /** {@code struct eve_commit { uint64_t root; uint64_t retries; bool changed; <7 bytes padding> }}: 24 bytes. */
    static final StructLayout EVE_COMMIT = MemoryLayout.structLayout(
                    JAVA_LONG.withName("root"),
                    JAVA_LONG.withName("retries"),
                    JAVA_BOOLEAN.withName("changed"),
                    MemoryLayout.paddingLayout(7))
            .withName("eve_commit");

    static final long COMMIT_ROOT = offset(EVE_COMMIT, "root");
    static final long COMMIT_RETRIES = offset(EVE_COMMIT, "retries");
    static final long COMMIT_CHANGED = offset(EVE_COMMIT, "changed");

    /**
     * {@code struct eve_open_options { uint32_t flags; uint32_t reader_slots; uint64_t max_size;
     * uint32_t mode; uint32_t reserved; }}: 24 bytes.
     */
    static final StructLayout EVE_OPEN_OPTIONS = MemoryLayout.structLayout(
                    JAVA_INT.withName("flags"), JAVA_INT.withName("reader_slots"), JAVA_LONG.withName("max_size"),
                    JAVA_INT.withName("mode"), JAVA_INT.withName("reserved"))
            .withName("eve_open_options");

    static final long OPTIONS_FLAGS = offset(EVE_OPEN_OPTIONS, "flags");
    static final long OPTIONS_READER_SLOTS = offset(EVE_OPEN_OPTIONS, "reader_slots");
    static final long OPTIONS_MAX_SIZE = offset(EVE_OPEN_OPTIONS, "max_size");
    static final long OPTIONS_MODE = offset(EVE_OPEN_OPTIONS, "mode");

    /** {@code struct eve_stats}: 14 {@code uint64_t}, in header order. */
    static final StructLayout EVE_STATS = MemoryLayout.structLayout(
                    JAVA_LONG.withName("file_len"),
                    JAVA_LONG.withName("heap_bytes"),
                    JAVA_LONG.withName("bytes_in_use"),
                    JAVA_LONG.withName("blocks_in_use"),
                    JAVA_LONG.withName("free_bytes"),
                    JAVA_LONG.withName("live_readers"),
                    JAVA_LONG.withName("oldest_pinned_epoch"),
                    JAVA_LONG.withName("global_epoch"),
                    JAVA_LONG.withName("retired_blocks"),
                    JAVA_LONG.withName("reader_slots"),
                    JAVA_LONG.withName("roots"),
                    JAVA_LONG.withName("sweeps"),
                    JAVA_LONG.withName("max_size"),
                    JAVA_LONG.withName("rolled_back_roots"))
            .withName("eve_stats");

    /** {@code struct eve_reclaim_report { uint64_t freed_blocks; uint64_t kept_blocks; }}. */
    static final StructLayout EVE_RECLAIM_REPORT = MemoryLayout.structLayout(
                    JAVA_LONG.withName("freed_blocks"), JAVA_LONG.withName("kept_blocks"))
            .withName("eve_reclaim_report");

    /** {@code struct eve_sweep_report}: live_blocks, live_bytes, freed_blocks, freed_bytes, rolled_back_roots. */
    static final StructLayout EVE_SWEEP_REPORT = MemoryLayout.structLayout(
                    JAVA_LONG.withName("live_blocks"),
                    JAVA_LONG.withName("live_bytes"),
                    JAVA_LONG.withName("freed_blocks"),
                    JAVA_LONG.withName("freed_bytes"),
                    JAVA_LONG.withName("rolled_back_roots"))
            .withName("eve_sweep_report");

    /**
     * {@code struct eve_datom { uint64_t e, a, t, m; uint32_t value_type; <4 bytes padding>
     * int64_t int_value; double double_value; eve_bytes bytes; }}: 72 bytes.
     */
    static final StructLayout EVE_DATOM = MemoryLayout.structLayout(
                    JAVA_LONG.withName("e"),
                    JAVA_LONG.withName("a"),
                    JAVA_LONG.withName("t"),
                    JAVA_LONG.withName("m"),
                    JAVA_INT.withName("value_type"),
                    MemoryLayout.paddingLayout(4),
                    JAVA_LONG.withName("int_value"),
                    JAVA_DOUBLE.withName("double_value"),
                    EVE_BYTES.withName("bytes"))
            .withName("eve_datom");

    static final long DATOM_E = offset(EVE_DATOM, "e");
    static final long DATOM_A = offset(EVE_DATOM, "a");
    static final long DATOM_T = offset(EVE_DATOM, "t");
    static final long DATOM_M = offset(EVE_DATOM, "m");
    static final long DATOM_VALUE_TYPE = offset(EVE_DATOM, "value_type");
    static final long DATOM_INT_VALUE = offset(EVE_DATOM, "int_value");
    static final long DATOM_DOUBLE_VALUE = offset(EVE_DATOM, "double_value");
    static final long DATOM_BYTES = offset(EVE_DATOM, "bytes");

    /** {@code struct eve_tx_report { uint64_t t, datoms, retries; const char *tempids; }}: 32 bytes. */
    static final StructLayout EVE_TX_REPORT = MemoryLayout.structLayout(
                    JAVA_LONG.withName("t"),
                    JAVA_LONG.withName("datoms"),
                    JAVA_LONG.withName("retries"),
                    ADDRESS.withName("tempids"))
            .withName("eve_tx_report");

    static final long TX_REPORT_T = offset(EVE_TX_REPORT, "t");
    static final long TX_REPORT_DATOMS = offset(EVE_TX_REPORT, "datoms");
    static final long TX_REPORT_RETRIES = offset(EVE_TX_REPORT, "retries");
    static final long TX_REPORT_TEMPIDS = offset(EVE_TX_REPORT, "tempids");

    /**
     * {@code struct eve_node { uint32_t value_type; uint32_t count; uint64_t first; int64_t
     * int_value; double double_value; eve_bytes bytes; }}: 48 bytes, one node of an answer.
     */
    static final StructLayout EVE_NODE = MemoryLayout.structLayout(
                    JAVA_INT.withName("value_type"),
                    JAVA_INT.withName("count"),
                    JAVA_LONG.withName("first"),
                    JAVA_LONG.withName("int_value"),
                    JAVA_DOUBLE.withName("double_value"),
                    EVE_BYTES.withName("bytes"))
            .withName("eve_node");

    static final long NODE_VALUE_TYPE = offset(EVE_NODE, "value_type");
    static final long NODE_COUNT = offset(EVE_NODE, "count");
    static final long NODE_FIRST = offset(EVE_NODE, "first");
    static final long NODE_INT_VALUE = offset(EVE_NODE, "int_value");
    static final long NODE_DOUBLE_VALUE = offset(EVE_NODE, "double_value");
    static final long NODE_BYTES = offset(EVE_NODE, "bytes");

    /**
     * {@code struct eve_yin_result { uint64_t agent, cursor, steps; uint32_t state, wait;
     * const char *value_edn; }}: 40 bytes, how a Yin run ended.
     */
    static final StructLayout EVE_YIN_RESULT = MemoryLayout.structLayout(
                    JAVA_LONG.withName("agent"),
                    JAVA_LONG.withName("cursor"),
                    JAVA_LONG.withName("steps"),
                    JAVA_INT.withName("state"),
                    JAVA_INT.withName("wait"),
                    ADDRESS.withName("value_edn"))
            .withName("eve_yin_result");

    static final long YIN_RESULT_AGENT = offset(EVE_YIN_RESULT, "agent");
    static final long YIN_RESULT_CURSOR = offset(EVE_YIN_RESULT, "cursor");
    static final long YIN_RESULT_STEPS = offset(EVE_YIN_RESULT, "steps");
    static final long YIN_RESULT_STATE = offset(EVE_YIN_RESULT, "state");
    static final long YIN_RESULT_WAIT = offset(EVE_YIN_RESULT, "wait");
    static final long YIN_RESULT_VALUE_EDN = offset(EVE_YIN_RESULT, "value_edn");

    /**
     * {@code struct eve_yin_agent_info { uint64_t agent, program, owner, cursor; uint32_t
     * state, projection, wait; <4 bytes padding> const char *result_edn, *error; }}: 64 bytes.
     */
    static final StructLayout EVE_YIN_AGENT_INFO = MemoryLayout.structLayout(
                    JAVA_LONG.withName("agent"),
                    JAVA_LONG.withName("program"),
                    JAVA_LONG.withName("owner"),
                    JAVA_LONG.withName("cursor"),
                    JAVA_INT.withName("state"),
                    JAVA_INT.withName("projection"),
                    JAVA_INT.withName("wait"),
                    MemoryLayout.paddingLayout(4),
                    ADDRESS.withName("result_edn"),
                    ADDRESS.withName("error"))
            .withName("eve_yin_agent_info");

    static final long YIN_AGENT_AGENT = offset(EVE_YIN_AGENT_INFO, "agent");
    static final long YIN_AGENT_PROGRAM = offset(EVE_YIN_AGENT_INFO, "program");
    static final long YIN_AGENT_OWNER = offset(EVE_YIN_AGENT_INFO, "owner");
    static final long YIN_AGENT_CURSOR = offset(EVE_YIN_AGENT_INFO, "cursor");
    static final long YIN_AGENT_STATE = offset(EVE_YIN_AGENT_INFO, "state");
    static final long YIN_AGENT_PROJECTION = offset(EVE_YIN_AGENT_INFO, "projection");
    static final long YIN_AGENT_WAIT = offset(EVE_YIN_AGENT_INFO, "wait");
    static final long YIN_AGENT_RESULT_EDN = offset(EVE_YIN_AGENT_INFO, "result_edn");
    static final long YIN_AGENT_ERROR = offset(EVE_YIN_AGENT_INFO, "error");

    /** {@code struct eve_yin_work_report { uint64_t taken, finished, parked, failed; }}: 32 bytes. */
    static final StructLayout EVE_YIN_WORK_REPORT = MemoryLayout.structLayout(
                    JAVA_LONG.withName("taken"),
                    JAVA_LONG.withName("finished"),
                    JAVA_LONG.withName("parked"),
                    JAVA_LONG.withName("failed"))
            .withName("eve_yin_work_report");

    /** {@code enum eve_status} (a C enum: an {@code int}). */
    static final ValueLayout.OfInt STATUS = JAVA_INT;

    static final int EVE_OP_PUT = 1;
    static final int EVE_OP_REMOVE = 2;
    static final int EVE_OPEN_READ_ONLY = 1;
    static final int EVE_OPEN_MUST_EXIST = 2;
    static final int EVE_TX_SYNCED = 1;

    /** {@code eve_value_type} codes of answer collections (answers only). */
    static final int EVE_VALUE_VECTOR = 11;
    static final int EVE_VALUE_SET = 12;
    static final int EVE_VALUE_MAP = 13;

    /**
     * {@code eve_shape} (what {@code eve_answer_shape} stores). src/ffi/answer.rs defines
     * the enum; include/eve.h names it without declaring it, so the values are copied here.
     */
    static final int EVE_SHAPE_RELATION = 0;
    static final int EVE_SHAPE_SCALAR = 1;
    static final int EVE_SHAPE_COLLECTION = 2;
    static final int EVE_SHAPE_TUPLE = 3;
    static final int EVE_SHAPE_MAPS = 4;
    static final int EVE_SHAPE_PULL = 5;

    // ---- downcall handles --------------------------------------------------------------

    private static final MethodHandle LAST_ERROR_MESSAGE = function("eve_last_error_message", FunctionDescriptor.of(ADDRESS));
    private static final MethodHandle STATUS_NAME = function("eve_status_name", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle VERSION = function("eve_version", FunctionDescriptor.of(ADDRESS));
    private static final MethodHandle VERSION_MAJOR = function("eve_version_major", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle VERSION_MINOR = function("eve_version_minor", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle VERSION_PATCH = function("eve_version_patch", FunctionDescriptor.of(JAVA_INT));

    private static final MethodHandle SLAB_OPEN =
            function("eve_slab_open", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle SLAB_OPEN_ANONYMOUS =
            function("eve_slab_open_anonymous", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));
    private static final MethodHandle SLAB_CLOSE = function("eve_slab_close", FunctionDescriptor.of(STATUS, ADDRESS));
    private static final MethodHandle SLAB_STATS = function("eve_slab_stats", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));
    private static final MethodHandle SLAB_RECLAIM =
            function("eve_slab_reclaim", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));
    private static final MethodHandle SLAB_RECOVER =
            function("eve_slab_recover", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));
    private static final MethodHandle SLAB_CHECK = function("eve_slab_check", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));
    private static final MethodHandle SLAB_IS_READ_ONLY =
            function("eve_slab_is_read_only", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));

    private static final MethodHandle MAP_OPEN =
            function("eve_map_open", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle MAP_TRANSACT =
            function("eve_map_transact", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, ADDRESS, SIZE_T, ADDRESS));

    private static final MethodHandle ROOT_OPEN =
            function("eve_root_open", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle ROOT_FIND =
            function("eve_root_find", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle ROOT_LOAD =
            function("eve_root_load", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle ROOT_COMPARE_EXCHANGE = function(
            "eve_root_compare_exchange", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS));
    private static final MethodHandle ROOT_WAIT =
            function("eve_root_wait", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS));

    private static final MethodHandle READ_BEGIN =
            function("eve_read_begin", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));
    private static final MethodHandle READ_END = function("eve_read_end", FunctionDescriptor.of(STATUS, ADDRESS));
    /**
     * {@code eve_read_get}, linked as a critical function with heap access: the key may be a
     * {@code byte[]} and the result a {@code long[2]}, passed without copying. It is short,
     * never blocks and never calls back into Java, which is what critical requires.
     */
    private static final MethodHandle READ_GET = function(
            "eve_read_get",
            FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, ADDRESS, SIZE_T, ADDRESS),
            Linker.Option.critical(true));
    private static final MethodHandle READ_GET_MANY =
            function("eve_read_get_many", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, ADDRESS, SIZE_T, ADDRESS));
    private static final MethodHandle READ_COUNT =
            function("eve_read_count", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, ADDRESS));

    private static final MethodHandle ITER_OPEN =
            function("eve_iter_open", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, ADDRESS));
    /** {@code eve_iter_next}, critical with heap access like {@link #READ_GET}: it fills {@code long[]} buffers. */
    private static final MethodHandle ITER_NEXT = function(
            "eve_iter_next",
            FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS, ADDRESS, SIZE_T, ADDRESS),
            Linker.Option.critical(true));
    private static final MethodHandle ITER_CLOSE = function("eve_iter_close", FunctionDescriptor.of(STATUS, ADDRESS));

    private static final MethodHandle DB_OPEN =
            function("eve_db_open", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle DB_TRANSACT = function(
            "eve_db_transact", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle DB_WAIT =
            function("eve_db_wait", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS));
    private static final MethodHandle DB_QUERY =
            function("eve_db_query", FunctionDescriptor.of(
                    STATUS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle DB_PULL =
            function("eve_db_pull", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle DB_QUERY_ANSWER =
            function("eve_db_query_answer", FunctionDescriptor.of(
                    STATUS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle DB_PULL_ANSWER =
            function("eve_db_pull_answer", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle ANSWER_FREE = function("eve_answer_free", FunctionDescriptor.of(STATUS, ADDRESS));
    private static final MethodHandle ANSWER_SHAPE =
            function("eve_answer_shape", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));
    private static final MethodHandle ANSWER_NODES =
            function("eve_answer_nodes", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle ANSWER_NODE =
            function("eve_answer_node", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle ANSWER_CHILD =
            function("eve_answer_child", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    private static final MethodHandle ANSWER_ROWS =
            function("eve_answer_rows", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle ANSWER_CELL =
            function("eve_answer_cell", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    private static final MethodHandle ANSWER_COLUMN_NAME =
            function("eve_answer_column_name", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle ANSWER_LONG =
            function("eve_answer_long", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle ANSWER_DOUBLE =
            function("eve_answer_double", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle ANSWER_TEXT =
            function("eve_answer_text", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
    private static final MethodHandle ANSWER_EDN = function("eve_answer_edn", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));
    private static final MethodHandle DB_ENTITY =
            function("eve_db_entity", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle DB_IDENT =
            function("eve_db_ident", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle DB_DATOMS = function(
            "eve_db_datoms",
            FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    private static final MethodHandle DB_RANGE = function(
            "eve_db_range",
            FunctionDescriptor.of(
                    STATUS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle DB_LOG =
            function("eve_db_log", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
    /**
     * {@code eve_cursor_next}, critical with heap access like {@link #ITER_NEXT}: it fills a
     * {@code long[]} that holds the {@code eve_datom} array (every field is 8-byte aligned).
     * One call decodes at most a batch of datoms from the pinned slab; it never blocks and
     * never calls back into Java.
     */
    private static final MethodHandle CURSOR_NEXT = function(
            "eve_cursor_next",
            FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS, SIZE_T, ADDRESS),
            Linker.Option.critical(true));
    private static final MethodHandle YIN_OPEN =
            function("eve_yin_open", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle YIN_CLOSE =
            function("eve_yin_close", FunctionDescriptor.of(STATUS, ADDRESS));
    private static final MethodHandle YIN_COMPILE =
            function("eve_yin_compile", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle YIN_RUN =
            function("eve_yin_run", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
    private static final MethodHandle YIN_RESUME =
            function("eve_yin_resume", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
    private static final MethodHandle YIN_SPAWN =
            function("eve_yin_spawn", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
    private static final MethodHandle YIN_WAKE =
            function("eve_yin_wake", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle YIN_WORK =
            function("eve_yin_work", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    private static final MethodHandle YIN_AGENT =
            function("eve_yin_agent", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle YIN_AGENTS =
            function("eve_yin_agents", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS, SIZE_T, ADDRESS));
    private static final MethodHandle YIN_SET_STEP_LIMIT =
            function("eve_yin_set_step_limit", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG));
    private static final MethodHandle YIN_QUEUED =
            function("eve_yin_queued", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));
    private static final MethodHandle YIN_RECOVER =
            function("eve_yin_recover", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));
    private static final MethodHandle YIN_SET_TRACE =
            function("eve_yin_set_trace", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_INT));
    private static final MethodHandle YIN_TRACE =
            function("eve_yin_trace", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));
    private static final MethodHandle YIN_STREAM_MAKE =
            function("eve_yin_stream_make", FunctionDescriptor.of(STATUS, ADDRESS, ADDRESS));
    private static final MethodHandle YIN_STREAM_PUT =
            function("eve_yin_stream_put", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle YIN_STREAM_CURSOR =
            function("eve_yin_stream_cursor", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle YIN_STREAM_NEXT =
            function("eve_yin_stream_next", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle YIN_STREAM_CLOSED =
            function("eve_yin_stream_closed", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle YIN_STREAM_CLOSE =
            function("eve_yin_stream_close", FunctionDescriptor.of(STATUS, ADDRESS, JAVA_LONG));
    private static final MethodHandle CURSOR_CLOSE = function("eve_cursor_close", FunctionDescriptor.of(STATUS, ADDRESS));

    // ---- wrappers (one per C function) ---------------------------------------------------

    static String lastErrorMessage() {
        try {
            return cString((MemorySegment) LAST_ERROR_MESSAGE.invokeExact());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static String statusName(int status) {
        try {
            return cString((MemorySegment) STATUS_NAME.invokeExact(status));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static String version() {
        try {
            return cString((MemorySegment) VERSION.invokeExact());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int versionMajor() {
        try {
            return (int) VERSION_MAJOR.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int versionMinor() {
        try {
            return (int) VERSION_MINOR.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int versionPatch() {
        try {
            return (int) VERSION_PATCH.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int slabOpen(MemorySegment path, MemorySegment options, MemorySegment out) {
        try {
            return (int) SLAB_OPEN.invokeExact(path, options, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int slabOpenAnonymous(MemorySegment options, MemorySegment out) {
        try {
            return (int) SLAB_OPEN_ANONYMOUS.invokeExact(options, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int slabClose(MemorySegment slab) {
        try {
            return (int) SLAB_CLOSE.invokeExact(slab);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int slabStats(MemorySegment slab, MemorySegment out) {
        try {
            return (int) SLAB_STATS.invokeExact(slab, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int slabReclaim(MemorySegment slab, MemorySegment out) {
        try {
            return (int) SLAB_RECLAIM.invokeExact(slab, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int slabRecover(MemorySegment slab, MemorySegment out) {
        try {
            return (int) SLAB_RECOVER.invokeExact(slab, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int slabCheck(MemorySegment slab, MemorySegment reachableBlocks) {
        try {
            return (int) SLAB_CHECK.invokeExact(slab, reachableBlocks);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int slabIsReadOnly(MemorySegment slab, MemorySegment readOnly) {
        try {
            return (int) SLAB_IS_READ_ONLY.invokeExact(slab, readOnly);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int mapOpen(MemorySegment slab, MemorySegment name, MemorySegment map) {
        try {
            return (int) MAP_OPEN.invokeExact(slab, name, map);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int mapTransact(MemorySegment slab, int map, MemorySegment ops, long count, MemorySegment out) {
        try {
            return (int) MAP_TRANSACT.invokeExact(slab, map, ops, count, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int rootOpen(MemorySegment slab, MemorySegment name, MemorySegment root) {
        try {
            return (int) ROOT_OPEN.invokeExact(slab, name, root);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int rootFind(MemorySegment slab, MemorySegment name, MemorySegment root, MemorySegment kind) {
        try {
            return (int) ROOT_FIND.invokeExact(slab, name, root, kind);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int rootLoad(MemorySegment slab, int root, MemorySegment value) {
        try {
            return (int) ROOT_LOAD.invokeExact(slab, root, value);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int rootCompareExchange(MemorySegment slab, int root, long expected, long desired, MemorySegment actual) {
        try {
            return (int) ROOT_COMPARE_EXCHANGE.invokeExact(slab, root, expected, desired, actual);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int rootWait(MemorySegment slab, int root, long seen, long timeoutMs, MemorySegment value) {
        try {
            return (int) ROOT_WAIT.invokeExact(slab, root, seen, timeoutMs, value);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int readBegin(MemorySegment slab, MemorySegment out) {
        try {
            return (int) READ_BEGIN.invokeExact(slab, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int readEnd(MemorySegment read) {
        try {
            return (int) READ_END.invokeExact(read);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code key} and {@code value} may be heap segments (critical downcall). */
    static int readGet(MemorySegment read, int map, MemorySegment key, long keyLen, MemorySegment value) {
        try {
            return (int) READ_GET.invokeExact(read, map, key, keyLen, value);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int readGetMany(MemorySegment read, int map, MemorySegment keys, long count, MemorySegment values) {
        try {
            return (int) READ_GET_MANY.invokeExact(read, map, keys, count, values);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int readCount(MemorySegment read, int map, MemorySegment count) {
        try {
            return (int) READ_COUNT.invokeExact(read, map, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int iterOpen(MemorySegment read, int map, MemorySegment out) {
        try {
            return (int) ITER_OPEN.invokeExact(read, map, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The buffers may be heap segments (critical downcall). */
    static int iterNext(MemorySegment iter, MemorySegment keys, MemorySegment values, long capacity, MemorySegment count) {
        try {
            return (int) ITER_NEXT.invokeExact(iter, keys, values, capacity, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int iterClose(MemorySegment iter) {
        try {
            return (int) ITER_CLOSE.invokeExact(iter);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dbOpen(MemorySegment slab, MemorySegment name, MemorySegment db) {
        try {
            return (int) DB_OPEN.invokeExact(slab, name, db);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dbTransact(
            MemorySegment slab, int db, MemorySegment txEdn, MemorySegment metadataEdn, int flags, MemorySegment out) {
        try {
            return (int) DB_TRANSACT.invokeExact(slab, db, txEdn, metadataEdn, flags, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dbWait(MemorySegment slab, int db, long afterT, long timeoutMs, MemorySegment basisT) {
        try {
            return (int) DB_WAIT.invokeExact(slab, db, afterT, timeoutMs, basisT);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dbQuery(
            MemorySegment read, int db, int view, long viewT, MemorySegment query, MemorySegment inputs, MemorySegment result) {
        try {
            return (int) DB_QUERY.invokeExact(read, db, view, viewT, query, inputs, result);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dbPull(MemorySegment read, int db, MemorySegment pattern, MemorySegment entity, MemorySegment result) {
        try {
            return (int) DB_PULL.invokeExact(read, db, pattern, entity, result);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dbQueryAnswer(
            MemorySegment read, int db, int view, long viewT, MemorySegment query, MemorySegment inputs, MemorySegment answer) {
        try {
            return (int) DB_QUERY_ANSWER.invokeExact(read, db, view, viewT, query, inputs, answer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dbPullAnswer(MemorySegment read, int db, MemorySegment pattern, MemorySegment entity, MemorySegment answer) {
        try {
            return (int) DB_PULL_ANSWER.invokeExact(read, db, pattern, entity, answer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int answerFree(MemorySegment answer) {
        try {
            return (int) ANSWER_FREE.invokeExact(answer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int answerShape(MemorySegment answer, MemorySegment shape) {
        try {
            return (int) ANSWER_SHAPE.invokeExact(answer, shape);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int answerNodes(MemorySegment answer, MemorySegment nodes, MemorySegment count) {
        try {
            return (int) ANSWER_NODES.invokeExact(answer, nodes, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int answerNode(MemorySegment answer, long index, MemorySegment node) {
        try {
            return (int) ANSWER_NODE.invokeExact(answer, index, node);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int answerChild(MemorySegment answer, long index, long i, MemorySegment child) {
        try {
            return (int) ANSWER_CHILD.invokeExact(answer, index, i, child);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int answerRows(MemorySegment answer, MemorySegment rows, MemorySegment columns) {
        try {
            return (int) ANSWER_ROWS.invokeExact(answer, rows, columns);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int answerCell(MemorySegment answer, long row, long column, MemorySegment node) {
        try {
            return (int) ANSWER_CELL.invokeExact(answer, row, column, node);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int answerColumnName(MemorySegment answer, long column, MemorySegment name) {
        try {
            return (int) ANSWER_COLUMN_NAME.invokeExact(answer, column, name);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int answerLong(MemorySegment answer, long index, MemorySegment value) {
        try {
            return (int) ANSWER_LONG.invokeExact(answer, index, value);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int answerDouble(MemorySegment answer, long index, MemorySegment value) {
        try {
            return (int) ANSWER_DOUBLE.invokeExact(answer, index, value);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int answerText(MemorySegment answer, long index, MemorySegment text, MemorySegment len) {
        try {
            return (int) ANSWER_TEXT.invokeExact(answer, index, text, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int answerEdn(MemorySegment answer, MemorySegment edn) {
        try {
            return (int) ANSWER_EDN.invokeExact(answer, edn);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dbEntity(MemorySegment read, int db, MemorySegment entityEdn, MemorySegment edn) {
        try {
            return (int) DB_ENTITY.invokeExact(read, db, entityEdn, edn);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dbIdent(MemorySegment read, int db, MemorySegment ident, MemorySegment entity) {
        try {
            return (int) DB_IDENT.invokeExact(read, db, ident, entity);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dbDatoms(
            MemorySegment read, int db, int index, int view, long viewT, MemorySegment componentsEdn, MemorySegment out) {
        try {
            return (int) DB_DATOMS.invokeExact(read, db, index, view, viewT, componentsEdn, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dbRange(
            MemorySegment read,
            int db,
            int index,
            int view,
            long viewT,
            MemorySegment startEdn,
            MemorySegment endEdn,
            MemorySegment out) {
        try {
            return (int) DB_RANGE.invokeExact(read, db, index, view, viewT, startEdn, endEdn, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dbLog(MemorySegment read, int db, long fromT, MemorySegment out) {
        try {
            return (int) DB_LOG.invokeExact(read, db, fromT, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code datoms} and {@code count} may be heap segments (critical downcall). */
    static int cursorNext(MemorySegment cursor, MemorySegment datoms, long capacity, MemorySegment count) {
        try {
            return (int) CURSOR_NEXT.invokeExact(cursor, datoms, capacity, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int cursorClose(MemorySegment cursor) {
        try {
            return (int) CURSOR_CLOSE.invokeExact(cursor);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinOpen(MemorySegment slab, MemorySegment name, MemorySegment out) {
        try {
            return (int) YIN_OPEN.invokeExact(slab, name, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinClose(MemorySegment yin) {
        try {
            return (int) YIN_CLOSE.invokeExact(yin);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinCompile(MemorySegment yin, MemorySegment source, MemorySegment program) {
        try {
            return (int) YIN_COMPILE.invokeExact(yin, source, program);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinRun(MemorySegment yin, long program, int projection, MemorySegment out) {
        try {
            return (int) YIN_RUN.invokeExact(yin, program, projection, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinResume(MemorySegment yin, long agent, MemorySegment valueEdn, MemorySegment out) {
        try {
            return (int) YIN_RESUME.invokeExact(yin, agent, valueEdn, out);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinSpawn(MemorySegment yin, long program, int projection, MemorySegment agent) {
        try {
            return (int) YIN_SPAWN.invokeExact(yin, program, projection, agent);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinWake(MemorySegment yin, long agent, MemorySegment valueEdn) {
        try {
            return (int) YIN_WAKE.invokeExact(yin, agent, valueEdn);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinWork(MemorySegment yin, long idleMs, long timeoutMs, MemorySegment report) {
        try {
            return (int) YIN_WORK.invokeExact(yin, idleMs, timeoutMs, report);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinAgent(MemorySegment yin, long agent, MemorySegment info) {
        try {
            return (int) YIN_AGENT.invokeExact(yin, agent, info);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinAgents(MemorySegment yin, MemorySegment ids, long capacity, MemorySegment count) {
        try {
            return (int) YIN_AGENTS.invokeExact(yin, ids, capacity, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinSetStepLimit(MemorySegment yin, long limit) {
        try {
            return (int) YIN_SET_STEP_LIMIT.invokeExact(yin, limit);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinRecover(MemorySegment yin, MemorySegment count) {
        try {
            return (int) YIN_RECOVER.invokeExact(yin, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinQueued(MemorySegment yin, MemorySegment count) {
        try {
            return (int) YIN_QUEUED.invokeExact(yin, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinSetTrace(MemorySegment yin, int on) {
        try {
            return (int) YIN_SET_TRACE.invokeExact(yin, on);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinTrace(MemorySegment yin, MemorySegment on) {
        try {
            return (int) YIN_TRACE.invokeExact(yin, on);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinStreamMake(MemorySegment yin, MemorySegment stream) {
        try {
            return (int) YIN_STREAM_MAKE.invokeExact(yin, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinStreamPut(MemorySegment yin, long stream, MemorySegment valueEdn) {
        try {
            return (int) YIN_STREAM_PUT.invokeExact(yin, stream, valueEdn);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinStreamCursor(MemorySegment yin, long stream, MemorySegment cursor) {
        try {
            return (int) YIN_STREAM_CURSOR.invokeExact(yin, stream, cursor);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinStreamNext(MemorySegment yin, long cursor, MemorySegment valueEdn) {
        try {
            return (int) YIN_STREAM_NEXT.invokeExact(yin, cursor, valueEdn);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinStreamClosed(MemorySegment yin, long stream, MemorySegment closed) {
        try {
            return (int) YIN_STREAM_CLOSED.invokeExact(yin, stream, closed);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int yinStreamClose(MemorySegment yin, long stream) {
        try {
            return (int) YIN_STREAM_CLOSE.invokeExact(yin, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- helpers -------------------------------------------------------------------------

    /** Throws the {@link EveException} for {@code status} unless it is {@code EVE_OK}. */
    /** Calls an eve function that stores one {@code uint64_t} through {@code out}, and returns it. */
    static long returningLong(java.util.function.ToIntFunction<MemorySegment> call, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check(call.applyAsInt(out), what);
            return out.get(JAVA_LONG, 0);
        }
    }

    static void check(int status, String what) {
        if (status != Status.OK) {
            throw failure(status, what);
        }
    }

    /**
     * The exception for a failed call. Must run on the thread that made the call, before any
     * other eve call: the message is per thread and the next call replaces it.
     */
    static EveException failure(int status, String what) {
        String message = lastErrorMessage();
        return new EveException(status, statusName(status), what, message);
    }

    /** A NUL-terminated C string handed out by eve, as Java text. */
    static String cString(MemorySegment pointer) {
        if (pointer.equals(MemorySegment.NULL)) {
            return "";
        }
        return pointer.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** A name argument as a NUL-terminated UTF-8 string allocated in {@code arena}. */
    static MemorySegment name(Arena arena, String name) {
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a name must not contain NUL characters");
        }
        return arena.allocateFrom(name);
    }

    /**
     * A text argument ({@code what} names it in errors) as a NUL-terminated UTF-8 string
     * allocated in {@code arena}, or {@code NULL} for {@code null}.
     */
    static MemorySegment text(Arena arena, String text, String what) {
        if (text == null) {
            return MemorySegment.NULL;
        }
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(what + " must not contain NUL characters");
        }
        return arena.allocateFrom(text);
    }

    /** The byte offset of the field {@code name} in {@code layout}. */
    static long offset(StructLayout layout, String name) {
        return layout.byteOffset(MemoryLayout.PathElement.groupElement(name));
    }

    private static MethodHandle function(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LOOKUP.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libeve has no symbol " + name + " (a library older than the binding?)"));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    private static SymbolLookup openLibrary() {
        String path = System.getProperty("eve.library");
        if (path == null || path.isBlank()) {
            path = System.getenv("EVE_LIBRARY");
        }
        if (path != null && !path.isBlank()) {
            Path file = Path.of(path);
            if (!Files.isRegularFile(file)) {
                throw new UnsatisfiedLinkError("libeve not found at " + file.toAbsolutePath()
                        + " (from -Deve.library or EVE_LIBRARY); build it with `cargo build --release --lib`");
            }
            return SymbolLookup.libraryLookup(file, Arena.global());
        }
        System.loadLibrary("eve");
        return SymbolLookup.loaderLookup();
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) {
            return e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
