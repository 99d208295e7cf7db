package dev.eve;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Objects;

/**
 * A Yin runtime on a slab ({@code eve_yin *}): programs in a Clojure subset, compiled to
 * datoms and run as agents whose parked continuations live in the slab, so that any thread
 * or process that opens the same runtime can resume them.
 *
 * <p>Values cross as EDN and come back as Java values ({@link Edn}): {@code nil} is {@code
 * null}, integers {@link Long}, floats {@link Double}, keywords {@link Keyword}, vectors
 * {@link java.util.List}s, maps {@link java.util.Map}s. Values passed in may be any of those
 * (or other integers, floats and collections).
 *
 * <p>A {@code Yin} may be used by any number of threads at once. Close it before its {@link
 * Slab}: an open runtime keeps the slab busy. Every failure is an {@link EveException}.
 */
public final class Yin implements AutoCloseable {
    /** Which machine runs a program ({@code eve_yin_projection}). */
    public enum Projection {
        /** The AST walker: reads every node from the program's datoms at every step. */
        WALKER,
        /** The stack machine: bytecode compiled from the datoms once per program. */
        STACK;

        int code() {
            return ordinal();
        }
    }

    /** Where an agent is in its life ({@code eve_yin_state}). */
    public enum State {
        RUNNABLE,
        RUNNING,
        PARKED,
        DONE,
        FAILED;

        static State of(int code) {
            return values()[code - 1];
        }
    }

    /** What a parked agent waits for ({@code eve_yin_wait}). */
    public enum Wait {
        NONE,
        /** {@code (park)}: until it is resumed or woken. */
        RESUME,
        /** An empty stream: until a value arrives. */
        STREAM;

        static Wait of(int code) {
            return values()[code];
        }
    }

    /**
     * How a run here ended ({@code eve_yin_result}).
     *
     * @param agent the agent that ran; resume a parked one by this id
     * @param state {@link State#DONE} or {@link State#PARKED}
     * @param waitsFor what a parked agent waits for
     * @param cursor the cursor a {@link Wait#STREAM} agent waits on
     * @param steps machine steps taken
     * @param valueEdn the program's value as EDN when done, else {@code null}
     */
    public record Result(long agent, State state, Wait waitsFor, long cursor, long steps, String valueEdn) {
        /** Whether the agent parked. */
        public boolean parked() {
            return state == State.PARKED;
        }

        /** The program's value (decoded from {@link #valueEdn}); {@code null} when parked or nil. */
        public Object value() {
            return valueEdn == null ? null : Edn.read(valueEdn);
        }
    }

    /**
     * What an agent record says ({@code eve_yin_agent_info}).
     *
     * @param resultEdn the result as EDN when {@link State#DONE}, else {@code null}
     * @param error the error message when {@link State#FAILED}, else {@code null}
     */
    public record Agent(
            long agent,
            State state,
            Projection projection,
            long program,
            long owner,
            Wait waitsFor,
            long cursor,
            String resultEdn,
            String error) {
        /** The result (decoded from {@link #resultEdn}); {@code null} unless done. */
        public Object result() {
            return resultEdn == null ? null : Edn.read(resultEdn);
        }
    }

    /** What {@link #work} did ({@code eve_yin_work_report}). */
    public record WorkReport(long taken, long finished, long parked, long failed) {}

    /** A value read from a stream ({@link #next}); {@code value} may be {@code null} (nil). */
    public record Item(Object value) {}

    private final MemorySegment handle;
    private volatile boolean closed;

    private Yin(MemorySegment handle) {
        this.handle = handle;
    }

    /**
     * Opens (creating it if needed) the runtime called {@code name} on {@code slab} ({@code
     * eve_yin_open}): every thread and process opening the same name on the same slab shares
     * its programs, agents and streams.
     */
    public static Yin open(Slab slab, String name) {
        Objects.requireNonNull(slab, "slab");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            Native.check(Native.yinOpen(slab.handle(), Native.name(arena, name), out), "eve_yin_open " + name);
            return new Yin(out.get(ADDRESS, 0));
        }
    }

    /** Closes the handle ({@code eve_yin_close}); agents stay in the slab. Calling it again is a no-op. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        Native.check(Native.yinClose(handle), "eve_yin_close");
        closed = true;
    }

    /**
     * Compiles {@code source} and stores it as datoms ({@code eve_yin_compile}); returns the
     * program's id. Malformed source fails with {@code EVE_ERR_INVALID_ARGUMENT} and a
     * message with the line and column.
     */
    public long compile(String source) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            Native.check(Native.yinCompile(handle, Native.text(arena, Objects.requireNonNull(source, "source"), "source"), out),
                    "eve_yin_compile");
            return out.get(JAVA_LONG, 0);
        }
    }

    /** Runs {@code program} on this thread as a new agent until it finishes or parks ({@code eve_yin_run}). */
    public Result run(long program, Projection projection) {
        Objects.requireNonNull(projection, "projection");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(Native.EVE_YIN_RESULT);
            Native.check(Native.yinRun(handle, program, projection.code(), out), "eve_yin_run");
            return result(out);
        }
    }

    /** Compiles {@code source} and runs it with the stack machine; returns its value, or throws if it parks. */
    public Object eval(String source) {
        Result result = run(compile(source), Projection.STACK);
        if (result.parked()) {
            throw new IllegalStateException("the program parked (agent " + result.agent() + ")");
        }
        return result.value();
    }

    /**
     * Resumes the parked agent {@code agent} on this thread with {@code value} as the value
     * of its {@code (park)} ({@code eve_yin_resume}); it may have parked in any thread or
     * process. Fails with {@code EVE_ERR_INVALID_ARGUMENT} if it is not parked.
     */
    public Result resume(long agent, Object value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(Native.EVE_YIN_RESULT);
            Native.check(Native.yinResume(handle, agent, edn(arena, value), out), "eve_yin_resume " + agent);
            return result(out);
        }
    }

    /** Queues a new agent running {@code program} for a worker ({@code eve_yin_spawn}); returns its id. */
    public long spawn(long program, Projection projection) {
        Objects.requireNonNull(projection, "projection");
        return Native.returningLong(out -> Native.yinSpawn(handle, program, projection.code(), out), "eve_yin_spawn");
    }

    /** Makes the parked agent {@code agent} runnable with {@code value} and queues it ({@code eve_yin_wake}). */
    public void wake(long agent, Object value) {
        try (Arena arena = Arena.ofConfined()) {
            Native.check(Native.yinWake(handle, agent, edn(arena, value)), "eve_yin_wake " + agent);
        }
    }

    /**
     * Works the run queue on this thread ({@code eve_yin_work}) until it is empty for {@code
     * idle}, or {@code timeout} passes ({@code null}: no limit).
     */
    public WorkReport work(Duration idle, Duration timeout) {
        Objects.requireNonNull(idle, "idle");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(Native.EVE_YIN_WORK_REPORT);
            long timeoutMs = timeout == null ? -1 : Math.max(0, timeout.toMillis());
            Native.check(Native.yinWork(handle, Math.max(0, idle.toMillis()), timeoutMs, out), "eve_yin_work");
            return new WorkReport(out.get(JAVA_LONG, 0), out.get(JAVA_LONG, 8), out.get(JAVA_LONG, 16), out.get(JAVA_LONG, 24));
        }
    }

    /** What the record of {@code agent} says ({@code eve_yin_agent}); {@code EVE_ERR_NOT_FOUND} if there is none. */
    public Agent agent(long agent) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(Native.EVE_YIN_AGENT_INFO);
            Native.check(Native.yinAgent(handle, agent, out), "eve_yin_agent " + agent);
            MemorySegment result = out.get(ADDRESS, Native.YIN_AGENT_RESULT_EDN);
            MemorySegment error = out.get(ADDRESS, Native.YIN_AGENT_ERROR);
            return new Agent(
                    out.get(JAVA_LONG, Native.YIN_AGENT_AGENT),
                    State.of(out.get(JAVA_INT, Native.YIN_AGENT_STATE)),
                    Projection.values()[out.get(JAVA_INT, Native.YIN_AGENT_PROJECTION)],
                    out.get(JAVA_LONG, Native.YIN_AGENT_PROGRAM),
                    out.get(JAVA_LONG, Native.YIN_AGENT_OWNER),
                    Wait.of(out.get(JAVA_INT, Native.YIN_AGENT_WAIT)),
                    out.get(JAVA_LONG, Native.YIN_AGENT_CURSOR),
                    result.equals(MemorySegment.NULL) ? null : Native.cString(result),
                    error.equals(MemorySegment.NULL) ? null : Native.cString(error));
        }
    }

    /** The ids of every agent of this runtime, oldest first ({@code eve_yin_agents}). */
    public long[] agents() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(Native.SIZE_T);
            while (true) {
                Native.check(Native.yinAgents(handle, MemorySegment.NULL, 0, count), "eve_yin_agents");
                long n = count.get(Native.SIZE_T, 0);
                // Room for agents created meanwhile; asked again if even that was not enough.
                long capacity = n + 16;
                MemorySegment ids = arena.allocate(JAVA_LONG, capacity);
                Native.check(Native.yinAgents(handle, ids, capacity, count), "eve_yin_agents");
                long total = count.get(Native.SIZE_T, 0);
                if (total <= capacity) {
                    return ids.asSlice(0, total * 8).toArray(JAVA_LONG);
                }
            }
        }
    }

    /**
     * Limits the machine steps of each run on this handle from now on ({@code
     * eve_yin_set_step_limit}): a run, resume or worker's run that would take more than
     * {@code limit} steps fails ({@code EVE_ERR_INVALID_ARGUMENT}, "... ran more than N steps
     * ...") and its agent is recorded as failed. 0 (the default) means no limit.
     *
     * @throws IllegalArgumentException if {@code limit} is negative
     */
    public void setStepLimit(long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("a step limit cannot be negative: " + limit);
        }
        Native.check(Native.yinSetStepLimit(handle, limit), "eve_yin_set_step_limit");
    }

    /** Agents in the run queue now ({@code eve_yin_queued}). */
    public long queued() {
        return Native.returningLong(out -> Native.yinQueued(handle, out), "eve_yin_queued");
    }

    /**
     * Takes over every agent whose owning process died while running it ({@code
     * eve_yin_recover}): each is queued again from its last checkpoint (when it was taken to
     * run, or its last stream operation or resume). Its effects are not repeated. {@link
     * #work} does this by itself when the queue is empty. Returns how many were taken over.
     */
    public long recover() {
        return Native.returningLong(out -> Native.yinRecover(handle, out), "eve_yin_recover");
    }

    /**
     * Turns the execution trace on or off for runs through this handle ({@code
     * eve_yin_set_trace}). While on, every step is written as datoms to the database {@code
     * <name>/trace} on the same slab ({@code :trace/agent}, {@code :trace/run}, {@code
     * :trace/step}, {@code :trace/kind}, {@code :trace/node}, {@code :trace/value}, {@code
     * :trace/depth}); open it with {@link Slab#database} and query it with Datalog ({@link Read#query}), with the
     * program database ({@code name}) as a second source to join nodes.
     */
    public void setTrace(boolean on) {
        Native.check(Native.yinSetTrace(handle, on ? 1 : 0), "eve_yin_set_trace");
    }

    /** Whether runs through this handle are traced ({@code eve_yin_trace}). */
    public boolean trace() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_BOOLEAN);
            Native.check(Native.yinTrace(handle, out), "eve_yin_trace");
            return out.get(JAVA_BOOLEAN, 0);
        }
    }

    /** A new, open, empty stream ({@code eve_yin_stream_make}); returns its id. */
    public long streamMake() {
        return Native.returningLong(out -> Native.yinStreamMake(handle, out), "eve_yin_stream_make");
    }

    /** Appends {@code value} to {@code stream}; readers parked on it are queued ({@code eve_yin_stream_put}). */
    public void put(long stream, Object value) {
        try (Arena arena = Arena.ofConfined()) {
            Native.check(Native.yinStreamPut(handle, stream, edn(arena, value)), "eve_yin_stream_put " + stream);
        }
    }

    /** A new cursor at the start of {@code stream} ({@code eve_yin_stream_cursor}). */
    public long cursor(long stream) {
        return Native.returningLong(out -> Native.yinStreamCursor(handle, stream, out), "eve_yin_stream_cursor " + stream);
    }

    /**
     * The next value under {@code cursor}, advancing it ({@code eve_yin_stream_next}); {@code
     * null} if there is none yet or the stream is closed and read to its end.
     */
    public Item next(long cursor) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            Native.check(Native.yinStreamNext(handle, cursor, out), "eve_yin_stream_next " + cursor);
            MemorySegment edn = out.get(ADDRESS, 0);
            return edn.equals(MemorySegment.NULL) ? null : new Item(Edn.read(Native.cString(edn)));
        }
    }

    /** Whether {@code stream} is closed ({@code eve_yin_stream_closed}). */
    public boolean closed(long stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_BOOLEAN);
            Native.check(Native.yinStreamClosed(handle, stream, out), "eve_yin_stream_closed " + stream);
            return out.get(JAVA_BOOLEAN, 0);
        }
    }

    /** Closes {@code stream}; readers parked on it are queued with nil ({@code eve_yin_stream_close}). */
    public void close(long stream) {
        Native.check(Native.yinStreamClose(handle, stream), "eve_yin_stream_close " + stream);
    }

    private static MemorySegment edn(Arena arena, Object value) {
        return Native.text(arena, Edn.write(value), "the value");
    }

    private static Result result(MemorySegment out) {
        MemorySegment edn = out.get(ADDRESS, Native.YIN_RESULT_VALUE_EDN);
        return new Result(
                out.get(JAVA_LONG, Native.YIN_RESULT_AGENT),
                State.of(out.get(JAVA_INT, Native.YIN_RESULT_STATE)),
                Wait.of(out.get(JAVA_INT, Native.YIN_RESULT_WAIT)),
                out.get(JAVA_LONG, Native.YIN_RESULT_CURSOR),
                out.get(JAVA_LONG, Native.YIN_RESULT_STEPS),
                edn.equals(MemorySegment.NULL) ? null : Native.cString(edn));
    }
}
