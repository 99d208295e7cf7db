package dev.eve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Yin through the binding: compile, run, park/resume (across threads), workers, agents, streams, errors. */
class YinTest {
    @TempDir
    Path dir;

    private static EveException fails(int status, org.junit.jupiter.api.function.Executable call) {
        EveException e = assertThrows(EveException.class, call);
        assertEquals(status, e.status(), e.getMessage());
        return e;
    }

    @ParameterizedTest
    @EnumSource(Yin.Projection.class)
    void programsRunToTheirValuesOnBothProjections(Yin.Projection projection) {
        try (Slab slab = Slab.openAnonymous(); Yin yin = Yin.open(slab, "yin")) {
            Yin.Result sum = yin.run(yin.compile("(+ 2 3)"), projection);
            assertEquals(Yin.State.DONE, sum.state());
            assertEquals(5L, sum.value());
            assertEquals("5", sum.valueEdn());
            long fact = yin.compile("(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 5)");
            assertEquals(120L, yin.run(fact, projection).value());
            Object data = yin.run(yin.compile("[1 \"two\" :three {:four 4.5} nil true]"), projection).value();
            assertEquals(
                    java.util.Arrays.asList(1L, "two", Keyword.of("three"), Map.of(Keyword.of("four"), 4.5), null, true),
                    data);
        }
    }

    @ParameterizedTest
    @EnumSource(Yin.Projection.class)
    void parksAndResumes(Yin.Projection projection) {
        try (Slab slab = Slab.openAnonymous(); Yin yin = Yin.open(slab, "yin")) {
            long program = yin.compile("((fn [x] (+ x (park))) 10)");
            Yin.Result parked = yin.run(program, projection);
            assertTrue(parked.parked());
            assertEquals(Yin.Wait.RESUME, parked.waitsFor());
            assertNull(parked.valueEdn());
            Yin.Agent info = yin.agent(parked.agent());
            assertEquals(Yin.State.PARKED, info.state());
            assertEquals(projection, info.projection());
            assertEquals(program, info.program());

            Yin.Result done = yin.resume(parked.agent(), 5);
            assertEquals(Yin.State.DONE, done.state());
            assertEquals(15L, done.value());
            assertEquals(15L, yin.agent(parked.agent()).result());

            EveException e = fails(Status.ERR_INVALID_ARGUMENT, () -> yin.resume(parked.agent(), 5));
            assertTrue(e.errorMessage().contains("not parked"), e.errorMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Yin.Projection.class)
    void aTracedRunIsQueryableWithDatalog(Yin.Projection projection) {
        try (Slab slab = Slab.openAnonymous(); Yin yin = Yin.open(slab, "yin")) {
            assertFalse(yin.trace());
            yin.setTrace(true);
            assertTrue(yin.trace());
            long fact = yin.compile("(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 5)");
            Yin.Result run = yin.run(fact, projection);
            assertEquals(120L, run.value());
            int trace = slab.database("yin/trace");
            int program = slab.database("yin");
            String inputs = "[#eve/db " + program + " " + run.agent() + "]";
            try (Read read = slab.read()) {
                // Which lambdas were applied, and how often: fact (parameters "n") 5 times.
                assertEquals(5L, read.query(trace,
                        "[:find (count ?s) . :in $ $prog ?a :where [?s :trace/agent ?a] [?s :trace/kind :call]"
                                + " [?s :trace/node ?n] [$prog ?n :yin/params \"n\"]]",
                        inputs));
                assertEquals(120L, read.query(trace,
                        "[:find ?v . :in $ $prog ?a :where [?s :trace/agent ?a] [?s :trace/kind :done]"
                                + " [?s :trace/value ?v]]",
                        inputs));
                assertEquals(Set.of(List.of(1L)), read.querySet(trace,
                        "[:find ?r :in $ $prog ?a :where [?s :trace/agent ?a] [?s :trace/run ?r]]", inputs));
            }
            yin.setTrace(false);
            assertFalse(yin.trace());
            Yin.Result untraced = yin.run(fact, projection);
            try (Read read = slab.read()) {
                assertNull(read.query(trace, "[:find (count ?s) . :in $ ?a :where [?s :trace/agent ?a]]",
                        "[" + untraced.agent() + "]"));
            }
        }
    }

    @Test
    void parkInOneThreadResumeInAnother() throws Exception {
        try (Slab slab = Slab.open(dir.resolve("yin.slab"))) {
            Yin yin = Yin.open(slab, "yin");
            long agent = CompletableFuture.supplyAsync(() -> {
                        Yin.Result r = yin.run(yin.compile("((fn [x] (+ x (park))) 10)"), Yin.Projection.WALKER);
                        assertTrue(r.parked());
                        return r.agent();
                    }, runnable -> Thread.ofPlatform().start(runnable))
                    .get(30, TimeUnit.SECONDS);
            // Another thread, with its own runtime handle on the same slab.
            Object value = CompletableFuture.supplyAsync(() -> {
                        try (Yin other = Yin.open(slab, "yin")) {
                            return other.resume(agent, 5).value();
                        }
                    }, runnable -> Thread.ofPlatform().start(runnable))
                    .get(30, TimeUnit.SECONDS);
            assertEquals(15L, value);
            assertEquals(Yin.State.DONE, yin.agent(agent).state());
            yin.close();
        }
    }

    /**
     * A worker JVM takes an agent, runs its first effect (resuming a sleeper) and is killed
     * in the middle of a long computation: {@code recover} queues the agent again and it
     * finishes here, without resuming the sleeper a second time (which would fail it).
     */
    @Test
    void anAgentWhoseWorkerProcessIsKilledIsTakenOver() throws Exception {
        Path file = dir.resolve("takeover.slab");
        try (Slab slab = Slab.open(file); Yin yin = Yin.open(slab, "yin")) {
            long sleeper = yin.run(yin.compile("(+ 1 (park))"), Yin.Projection.STACK).agent();
            long program = yin.compile("(defn spin [n] (if (= n 0) 0 (spin (- n 1)))) (resume "
                    + sleeper + " 7) (spin 5000000) :finished");
            long agent = yin.spawn(program, Yin.Projection.STACK);
            String java = ProcessHandle.current().info().command().orElseThrow();
            Process worker = new ProcessBuilder(
                            java,
                            "--enable-native-access=ALL-UNNAMED",
                            "-Deve.library=" + System.getProperty("eve.library", ""),
                            "-cp",
                            System.getProperty("java.class.path"),
                            YinWorkerMain.class.getName(),
                            file.toString())
                    .inheritIO()
                    .start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (yin.agent(sleeper).state() != Yin.State.RUNNABLE) {
                    assertTrue(System.nanoTime() < deadline, "the worker never ran the agent");
                    Thread.sleep(2);
                }
                Yin.Agent running = yin.agent(agent);
                assertEquals(Yin.State.RUNNING, running.state());
                assertEquals(worker.pid(), running.owner());
                assertEquals(0, yin.recover(), "a live worker's agent was taken");
                worker.destroyForcibly(); // SIGKILL
                assertTrue(worker.waitFor(30, TimeUnit.SECONDS));
                assertEquals(128 + 9, worker.exitValue());
            } finally {
                worker.destroyForcibly();
            }
            assertEquals(Yin.State.RUNNING, yin.agent(agent).state());
            assertEquals(1, yin.recover());
            assertEquals(Yin.State.RUNNABLE, yin.agent(agent).state());
            assertEquals(new Yin.WorkReport(2, 2, 0, 0), yin.work(Duration.ZERO, null));
            assertEquals(8L, yin.agent(sleeper).result());
            assertEquals(new Keyword("finished"), yin.agent(agent).result());
        }
    }

    @Test
    void workersRunSpawnedAndWokenAgents() {
        try (Slab slab = Slab.openAnonymous(); Yin yin = Yin.open(slab, "yin")) {
            long agent = yin.spawn(yin.compile("(* 2 (park))"), Yin.Projection.STACK);
            assertEquals(1, yin.queued());
            Yin.WorkReport report = yin.work(Duration.ZERO, Duration.ofSeconds(5));
            assertEquals(new Yin.WorkReport(1, 0, 1, 0), report);
            yin.wake(agent, 21);
            assertEquals(new Yin.WorkReport(1, 1, 0, 0), yin.work(Duration.ZERO, null));
            assertEquals(42L, yin.agent(agent).result());

            long failing = yin.spawn(yin.compile("(+ 1 :a)"), Yin.Projection.WALKER);
            assertEquals(1, yin.work(Duration.ZERO, null).failed());
            Yin.Agent info = yin.agent(failing);
            assertEquals(Yin.State.FAILED, info.state());
            assertNotNull(info.error());
            assertArrayEquals(new long[] {agent, failing}, yin.agents());
        }
    }

    @Test
    void streamsFromTheHost() {
        try (Slab slab = Slab.openAnonymous(); Yin yin = Yin.open(slab, "yin")) {
            long stream = yin.streamMake();
            long cursor = yin.cursor(stream);
            assertNull(yin.next(cursor));
            yin.put(stream, Map.of(Keyword.of("a"), 1L));
            yin.put(stream, null);
            yin.put(stream, List.of("x", 2.5));
            assertEquals(Map.of(Keyword.of("a"), 1L), yin.next(cursor).value());
            assertNull(yin.next(cursor).value());
            assertEquals(List.of("x", 2.5), yin.next(cursor).value());
            assertNull(yin.next(cursor));
            assertFalse(yin.closed(stream));
            yin.close(stream);
            assertTrue(yin.closed(stream));
            fails(Status.ERR_INVALID_ARGUMENT, () -> yin.put(stream, 1));
        }
    }

    @ParameterizedTest
    @EnumSource(Yin.Projection.class)
    void aStepLimitStopsAnEndlessLoop(Yin.Projection projection) {
        try (Slab slab = Slab.openAnonymous(); Yin yin = Yin.open(slab, "yin")) {
            long forever = yin.compile("(defn f [x] (f x)) (f 1)");
            long fact = yin.compile("(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 10)");
            yin.setStepLimit(10_000);
            EveException e = fails(Status.ERR_INVALID_ARGUMENT, () -> yin.run(forever, projection));
            assertTrue(e.errorMessage().contains("ran more than 10000 steps"), e.errorMessage());
            long[] agents = yin.agents();
            Yin.Agent failed = yin.agent(agents[agents.length - 1]);
            assertEquals(Yin.State.FAILED, failed.state());
            assertTrue(failed.error().contains("ran more than 10000 steps"), failed.error());
            // Under the limit a program finishes with its value.
            assertEquals(3628800L, yin.run(fact, projection).value());
            // 0 lifts the limit: a loop longer than it finishes.
            yin.setStepLimit(0);
            Yin.Result longer = yin.run(
                    yin.compile("(defn countdown [n] (if (= n 0) :done (countdown (- n 1)))) (countdown 5000)"),
                    projection);
            assertEquals(Keyword.of("done"), longer.value());
            assertTrue(longer.steps() > 10_000, "steps " + longer.steps());
            assertThrows(IllegalArgumentException.class, () -> yin.setStepLimit(-1));
        }
    }

    @Test
    void badInputIsReported() {
        try (Slab slab = Slab.openAnonymous()) {
            Yin yin = Yin.open(slab, "yin");
            EveException e = fails(Status.ERR_INVALID_ARGUMENT, () -> yin.compile("(+ 1 2))"));
            assertTrue(e.errorMessage().contains("line 1, column 8"), e.errorMessage());
            e = fails(Status.ERR_INVALID_ARGUMENT, () -> yin.compile("(+ 1\n  (* 2 3"));
            assertTrue(e.errorMessage().contains("line "), e.errorMessage());
            fails(Status.ERR_INVALID_ARGUMENT, () -> yin.resume(987654321, 1));
            fails(Status.ERR_NOT_FOUND, () -> yin.agent(987654321));
            fails(Status.ERR_INVALID_ARGUMENT, () -> yin.run(yin.compile("(+ 1 \"a\")"), Yin.Projection.STACK));
            // The runtime keeps the slab busy until it is closed; a closed one is refused.
            fails(Status.ERR_BUSY, slab::close);
            yin.close();
            e = fails(Status.ERR_INVALID_ARGUMENT, () -> yin.compile("1"));
            assertTrue(e.errorMessage().contains("closed"), e.errorMessage());
        }
    }

    @Test
    void ednRoundTrips() {
        Object value = Edn.read("[1 -2 3.5 \"a\\\"b\\n\" :k/w sym nil true {:x [1]} #yin/stream 3 ##Inf]");
        assertEquals(
                java.util.Arrays.asList(
                        1L, -2L, 3.5, "a\"b\n", Keyword.of("k/w"), Symbol.of("sym"), null, true,
                        Map.of(Keyword.of("x"), List.of(1L)), new Edn.Tagged("yin/stream", 3L),
                        Double.POSITIVE_INFINITY),
                value);
        assertEquals(value, Edn.read(Edn.write(value)));
    }
}
