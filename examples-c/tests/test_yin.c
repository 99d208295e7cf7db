/* Yin through the C ABI: programs compiled and run on both projections, an agent parked
 * and resumed (in this process and in a forked child on the same slab file), workers,
 * agent records, streams, and the errors bad input gets. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static const uint32_t PROJECTIONS[2] = {EVE_YIN_WALKER, EVE_YIN_STACK};

/* Compiles and runs `source` to its end; returns 1 if its value prints as `expected`. */
static int runs_to(eve_yin *yin, const char *source, uint32_t projection, const char *expected) {
    uint64_t program = 0;
    struct eve_yin_result run;
    memset(&run, 0, sizeof run);
    CHECK_OK(eve_yin_compile(yin, source, &program));
    CHECK_OK(eve_yin_run(yin, program, projection, &run));
    if (run.state != EVE_YIN_DONE || run.value_edn == NULL) return 0;
    if (strcmp(run.value_edn, expected) != 0) {
        fprintf(stderr, "%s gave %s, expected %s\n", source, run.value_edn, expected);
        return 0;
    }
    return 1;
}

static void acceptance(eve_yin *yin) {
    for (int p = 0; p < 2; p++) {
        CHECK(runs_to(yin, "(+ 2 3)", PROJECTIONS[p], "5"));
        CHECK(runs_to(yin, "(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 5)",
                      PROJECTIONS[p], "120"));
        CHECK(runs_to(yin, "[1 \"two\" :three {:four 4.5}]", PROJECTIONS[p],
                      "[1 \"two\" :three {:four 4.5}]"));
    }
}

static void park_and_resume(eve_yin *yin) {
    for (int p = 0; p < 2; p++) {
        uint64_t program = 0;
        struct eve_yin_result run;
        memset(&run, 0, sizeof run);
        CHECK_OK(eve_yin_compile(yin, "((fn [x] (+ x (park))) 10)", &program));
        CHECK_OK(eve_yin_run(yin, program, PROJECTIONS[p], &run));
        CHECK(run.state == EVE_YIN_PARKED);
        CHECK(run.wait == EVE_YIN_WAIT_RESUME);
        CHECK(run.value_edn == NULL);
        uint64_t agent = run.agent;
        CHECK(agent != 0);

        struct eve_yin_agent_info info;
        memset(&info, 0, sizeof info);
        CHECK_OK(eve_yin_agent(yin, agent, &info));
        CHECK(info.agent == agent);
        CHECK(info.state == EVE_YIN_PARKED);
        CHECK(info.wait == EVE_YIN_WAIT_RESUME);
        CHECK(info.program == program);
        CHECK(info.projection == PROJECTIONS[p]);
        CHECK(info.result_edn == NULL && info.error == NULL);

        CHECK_OK(eve_yin_resume(yin, agent, "5", &run));
        CHECK(run.state == EVE_YIN_DONE);
        CHECK(run.agent == agent);
        CHECK(run.value_edn != NULL && strcmp(run.value_edn, "15") == 0);

        CHECK_OK(eve_yin_agent(yin, agent, &info));
        CHECK(info.state == EVE_YIN_DONE);
        CHECK(info.result_edn != NULL && strcmp(info.result_edn, "15") == 0);

        /* Resuming an agent that is no longer parked. */
        CHECK_STATUS(eve_yin_resume(yin, agent, "5", &run), EVE_ERR_INVALID_ARGUMENT);
        CHECK_MESSAGE("not parked");
    }
}

static void workers_and_wake(eve_yin *yin) {
    uint64_t program = 0, agent = 0, queued = 99;
    CHECK_OK(eve_yin_compile(yin, "(* 2 (park))", &program));
    CHECK_OK(eve_yin_spawn(yin, program, EVE_YIN_STACK, &agent));
    CHECK_OK(eve_yin_queued(yin, &queued));
    CHECK(queued == 1);
    struct eve_yin_work_report report;
    memset(&report, 0, sizeof report);
    CHECK_OK(eve_yin_work(yin, 0, 5000, &report));
    CHECK(report.taken == 1 && report.parked == 1 && report.finished == 0);

    CHECK_OK(eve_yin_wake(yin, agent, "21"));
    CHECK_OK(eve_yin_work(yin, 0, -1, &report));
    CHECK(report.taken == 1 && report.finished == 1);
    struct eve_yin_agent_info info;
    memset(&info, 0, sizeof info);
    CHECK_OK(eve_yin_agent(yin, agent, &info));
    CHECK(info.state == EVE_YIN_DONE);
    CHECK(info.result_edn != NULL && strcmp(info.result_edn, "42") == 0);

    /* A program that fails in a worker is recorded with its message. */
    CHECK_OK(eve_yin_compile(yin, "(+ 1 :a)", &program));
    CHECK_OK(eve_yin_spawn(yin, program, EVE_YIN_WALKER, &agent));
    CHECK_OK(eve_yin_work(yin, 0, 5000, NULL));
    CHECK_OK(eve_yin_agent(yin, agent, &info));
    CHECK(info.state == EVE_YIN_FAILED);
    CHECK(info.error != NULL && info.error[0] != '\0');
    CHECK(info.result_edn == NULL);

    /* Every agent is listed. */
    size_t count = 0;
    CHECK_OK(eve_yin_agents(yin, NULL, 0, &count));
    CHECK(count >= 2);
    uint64_t ids[64];
    size_t total = 0;
    CHECK_OK(eve_yin_agents(yin, ids, 64, &total));
    CHECK(total == count);
    int found = 0;
    for (size_t i = 0; i < total && i < 64; i++) found += ids[i] == agent;
    CHECK(found == 1);
}

static void streams(eve_yin *yin) {
    uint64_t stream = 0, cursor = 0;
    CHECK_OK(eve_yin_stream_make(yin, &stream));
    CHECK_OK(eve_yin_stream_cursor(yin, stream, &cursor));
    const char *edn = "unset";
    CHECK_OK(eve_yin_stream_next(yin, cursor, &edn));
    CHECK(edn == NULL);
    CHECK_OK(eve_yin_stream_put(yin, stream, "{:a 1}"));
    CHECK_OK(eve_yin_stream_put(yin, stream, NULL));
    CHECK_OK(eve_yin_stream_next(yin, cursor, &edn));
    CHECK(edn != NULL && strcmp(edn, "{:a 1}") == 0);
    CHECK_OK(eve_yin_stream_next(yin, cursor, &edn));
    CHECK(edn != NULL && strcmp(edn, "nil") == 0);
    bool closed = true;
    CHECK_OK(eve_yin_stream_closed(yin, stream, &closed));
    CHECK(!closed);
    CHECK_OK(eve_yin_stream_close(yin, stream));
    CHECK_OK(eve_yin_stream_closed(yin, stream, &closed));
    CHECK(closed);
    CHECK_OK(eve_yin_stream_next(yin, cursor, &edn));
    CHECK(edn == NULL);
    CHECK_STATUS(eve_yin_stream_put(yin, stream, "1"), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_yin_stream_put(yin, stream, "[1"), EVE_ERR_INVALID_ARGUMENT);
}

static void bad_input(eve_slab *slab, eve_yin *yin) {
    eve_yin *other = NULL;
    uint64_t program = 0;
    struct eve_yin_result run;
    struct eve_yin_agent_info info;

    CHECK_STATUS(eve_yin_open(NULL, "yin", &other), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_yin_open(slab, NULL, &other), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_yin_open(slab, "yin", NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_yin_compile(NULL, "(+ 1 2)", &program), EVE_ERR_NULL_POINTER);
    CHECK_MESSAGE("yin handle");
    CHECK_STATUS(eve_yin_compile(yin, NULL, &program), EVE_ERR_NULL_POINTER);
    CHECK_MESSAGE("source");
    CHECK_STATUS(eve_yin_compile(yin, "(+ 1 2)", NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_yin_run(yin, 1, EVE_YIN_WALKER, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_yin_agent(yin, 1, NULL), EVE_ERR_NULL_POINTER);

    /* A slab handle is not a yin handle, and a made-up one is nothing. */
    CHECK_STATUS(eve_yin_compile((eve_yin *)slab, "(+ 1 2)", &program), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("is a slab handle");
    CHECK_STATUS(eve_yin_compile((eve_yin *)(uintptr_t)0x7fff1236, "1", &program),
                 EVE_ERR_INVALID_ARGUMENT);

    /* Malformed source: the message says where. */
    CHECK_STATUS(eve_yin_compile(yin, "(+ 1\n  (* 2 3", &program), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("line ");
    CHECK_MESSAGE("column ");
    CHECK_STATUS(eve_yin_compile(yin, "(+ 1 2))", &program), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("line 1, column 8");
    CHECK_STATUS(eve_yin_compile(yin, "(frobnicate 1)", &program), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("frobnicate");

    /* Bad projection, unknown agent, bad EDN. */
    CHECK_OK(eve_yin_compile(yin, "(park)", &program));
    CHECK_STATUS(eve_yin_run(yin, program, 7, &run), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("projection 7");
    CHECK_STATUS(eve_yin_resume(yin, 987654321, "1", &run), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("no agent");
    CHECK_STATUS(eve_yin_agent(yin, 987654321, &info), EVE_ERR_NOT_FOUND);
    CHECK_OK(eve_yin_run(yin, program, EVE_YIN_WALKER, &run));
    CHECK(run.state == EVE_YIN_PARKED);
    CHECK_STATUS(eve_yin_resume(yin, run.agent, "{:a", &run), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("value_edn");
    /* A runtime error fails the run and records the agent as failed. */
    CHECK_OK(eve_yin_compile(yin, "(+ 1 \"a\")", &program));
    CHECK_STATUS(eve_yin_run(yin, program, EVE_YIN_STACK, &run), EVE_ERR_INVALID_ARGUMENT);

    /* A closed handle is refused; the slab is busy while a runtime is open on it. */
    CHECK_OK(eve_yin_open(slab, "yin", &other));
    CHECK_OK(eve_yin_close(other));
    CHECK_STATUS(eve_yin_close(other), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_yin_compile(other, "1", &program), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("closed");
}

/* A step limit stops a program that never ends, on both projections, and records its agent
 * as failed; a program under the limit finishes; 0 lifts the limit. */
static void step_limit(eve_yin *yin) {
    uint64_t forever = 0, program = 0;
    struct eve_yin_result run;
    struct eve_yin_agent_info info;
    CHECK_OK(eve_yin_compile(yin, "(defn f [x] (f x)) (f 1)", &forever));
    CHECK_OK(eve_yin_set_step_limit(yin, 10000));
    for (int p = 0; p < 2; p++) {
        memset(&run, 0, sizeof run);
        CHECK_STATUS(eve_yin_run(yin, forever, PROJECTIONS[p], &run), EVE_ERR_INVALID_ARGUMENT);
        CHECK_MESSAGE("ran more than 10000 steps");
        CHECK(runs_to(yin, "(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 10)",
                      PROJECTIONS[p], "3628800"));
    }
    /* The failed agent's record keeps the message. */
    uint64_t ids[4096];
    size_t count = 0;
    CHECK_OK(eve_yin_agents(yin, ids, 4096, &count));
    CHECK(count > 2 && count <= 4096);
    memset(&info, 0, sizeof info);
    CHECK_OK(eve_yin_agent(yin, ids[count - 2], &info));
    CHECK(info.state == EVE_YIN_FAILED);
    CHECK(info.error != NULL && strstr(info.error, "ran more than 10000 steps") != NULL);
    /* A worker fails the agent and goes on. */
    struct eve_yin_work_report report;
    memset(&report, 0, sizeof report);
    uint64_t agent = 0;
    CHECK_OK(eve_yin_spawn(yin, forever, EVE_YIN_STACK, &agent));
    CHECK_OK(eve_yin_work(yin, 0, -1, &report));
    CHECK(report.taken == 1 && report.failed == 1);
    /* Without a limit a run longer than the old limit finishes. */
    CHECK_OK(eve_yin_set_step_limit(yin, 0));
    CHECK_OK(eve_yin_compile(
        yin, "(defn countdown [n] (if (= n 0) :done (countdown (- n 1)))) (countdown 5000)",
        &program));
    memset(&run, 0, sizeof run);
    CHECK_OK(eve_yin_run(yin, program, EVE_YIN_WALKER, &run));
    CHECK(run.state == EVE_YIN_DONE && run.steps > 10000);
    CHECK_STATUS(eve_yin_set_step_limit(NULL, 5), EVE_ERR_NULL_POINTER);
}

/* Parks an agent, then a forked child opens the same slab file and resumes it. */
static void park_here_resume_in_child(void) {
    char path[512];
    temp_slab_path(path, sizeof path, "yin-fork");
    eve_slab *slab = NULL;
    eve_yin *yin = NULL;
    uint64_t program = 0, agent = 0;
    struct eve_yin_result run;
    memset(&run, 0, sizeof run);
    CHECK_OK(eve_slab_open(path, NULL, &slab));
    CHECK_OK(eve_yin_open(slab, "yin", &yin));
    CHECK_OK(eve_yin_compile(yin, "((fn [x] (+ x (park))) 10)", &program));
    CHECK_OK(eve_yin_run(yin, program, EVE_YIN_WALKER, &run));
    CHECK(run.state == EVE_YIN_PARKED);
    agent = run.agent;
    CHECK_OK(eve_yin_close(yin));
    CHECK_OK(eve_slab_close(slab));

    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        eve_slab *s = NULL;
        eve_yin *y = NULL;
        struct eve_yin_result r;
        memset(&r, 0, sizeof r);
        int ok = eve_slab_open(path, NULL, &s) == EVE_OK && eve_yin_open(s, "yin", &y) == EVE_OK &&
                 eve_yin_resume(y, agent, "5", &r) == EVE_OK && r.state == EVE_YIN_DONE &&
                 r.value_edn != NULL && strcmp(r.value_edn, "15") == 0;
        if (!ok) fprintf(stderr, "child: %s\n", eve_last_error_message());
        ok = ok && eve_yin_close(y) == EVE_OK && eve_slab_close(s) == EVE_OK;
        _exit(ok ? 0 : 1);
    }
    CHECK(child > 0);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    struct eve_yin_agent_info info;
    memset(&info, 0, sizeof info);
    CHECK_OK(eve_slab_open(path, NULL, &slab));
    CHECK_OK(eve_yin_open(slab, "yin", &yin));
    CHECK_OK(eve_yin_agent(yin, agent, &info));
    CHECK(info.state == EVE_YIN_DONE);
    CHECK(info.result_edn != NULL && strcmp(info.result_edn, "15") == 0);
    CHECK_OK(eve_yin_close(yin));
    CHECK_OK(eve_slab_close(slab));
    unlink(path);
}

static uint32_t agent_state(eve_yin *yin, uint64_t agent, uint64_t *owner) {
    struct eve_yin_agent_info info;
    memset(&info, 0, sizeof info);
    CHECK_OK(eve_yin_agent(yin, agent, &info));
    if (owner) *owner = info.owner;
    return info.state;
}

/* A forked worker takes an agent, runs its first effect, and is killed with SIGKILL in
 * the middle of a long computation: eve_yin_recover queues the agent again, and it
 * finishes here without repeating the effect (a second resume of the sleeper would fail). */
static void killed_worker_taken_over(void) {
    char path[512];
    temp_slab_path(path, sizeof path, "yin-kill");
    eve_slab *slab = NULL;
    eve_yin *yin = NULL;
    uint64_t sleeper_program = 0, program = 0, agent = 0, owner = 0, taken = 99;
    struct eve_yin_result run;
    memset(&run, 0, sizeof run);
    CHECK_OK(eve_slab_open(path, NULL, &slab));
    CHECK_OK(eve_yin_open(slab, "yin", &yin));
    CHECK_OK(eve_yin_compile(yin, "(+ 1 (park))", &sleeper_program));
    CHECK_OK(eve_yin_run(yin, sleeper_program, EVE_YIN_STACK, &run));
    CHECK(run.state == EVE_YIN_PARKED);
    uint64_t sleeper = run.agent;
    char source[256];
    snprintf(source, sizeof source,
             "(defn spin [n] (if (= n 0) 0 (spin (- n 1)))) "
             "(resume %llu 7) (spin 5000000) :finished",
             (unsigned long long)sleeper);
    CHECK_OK(eve_yin_compile(yin, source, &program));
    CHECK_OK(eve_yin_spawn(yin, program, EVE_YIN_STACK, &agent));

    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        eve_slab *s = NULL;
        eve_yin *y = NULL;
        struct eve_yin_work_report report;
        if (eve_slab_open(path, NULL, &s) != EVE_OK || eve_yin_open(s, "yin", &y) != EVE_OK ||
            eve_yin_work(y, 60000, -1, &report) != EVE_OK)
            fprintf(stderr, "worker: %s\n", eve_last_error_message());
        _exit(2); /* not reached when all goes well: killed first */
    }
    CHECK(child > 0);
    /* The worker resumed the sleeper (its first effect) and is spinning. */
    for (int i = 0; i < 30000 && agent_state(yin, sleeper, NULL) != EVE_YIN_RUNNABLE; i++) usleep(1000);
    CHECK(agent_state(yin, sleeper, NULL) == EVE_YIN_RUNNABLE);
    CHECK(agent_state(yin, agent, &owner) == EVE_YIN_RUNNING);
    CHECK(owner == (uint64_t)child);
    CHECK_OK(eve_yin_recover(yin, &taken));
    CHECK(taken == 0); /* its worker is alive */
    CHECK(kill(child, SIGKILL) == 0);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(agent_state(yin, agent, NULL) == EVE_YIN_RUNNING);

    CHECK_OK(eve_yin_recover(yin, &taken));
    CHECK(taken == 1);
    CHECK(agent_state(yin, agent, NULL) == EVE_YIN_RUNNABLE);
    struct eve_yin_work_report report;
    memset(&report, 0, sizeof report);
    CHECK_OK(eve_yin_work(yin, 0, -1, &report));
    CHECK(report.taken == 2 && report.finished == 2 && report.failed == 0);
    struct eve_yin_agent_info info;
    memset(&info, 0, sizeof info);
    CHECK_OK(eve_yin_agent(yin, sleeper, &info));
    CHECK(info.result_edn != NULL && strcmp(info.result_edn, "8") == 0);
    CHECK_OK(eve_yin_agent(yin, agent, &info));
    CHECK(info.result_edn != NULL && strcmp(info.result_edn, ":finished") == 0);
    CHECK_OK(eve_yin_recover(yin, NULL));
    CHECK_STATUS(eve_yin_recover(NULL, &taken), EVE_ERR_NULL_POINTER);
    CHECK_OK(eve_yin_close(yin));
    CHECK_OK(eve_slab_close(slab));
    unlink(path);
}

/* Runs `query` on the trace database with the program database as `$prog` and the agent
 * as `?a`; returns 1 if the answer prints as `expected`. */
static int trace_says(eve_slab *slab, uint32_t trace, uint32_t prog, uint64_t agent,
                      const char *query, const char *expected) {
    char inputs[64];
    snprintf(inputs, sizeof inputs, "[#eve/db %u %llu]", prog, (unsigned long long)agent);
    eve_read *read = NULL;
    const char *answer = NULL;
    CHECK_OK(eve_read_begin(slab, &read));
    CHECK_OK(eve_db_query(read, trace, EVE_VIEW_CURRENT, 0, query, inputs, &answer));
    int ok = answer != NULL && strcmp(answer, expected) == 0;
    if (!ok) fprintf(stderr, "%s gave %s, expected %s\n", query, answer ? answer : "NULL", expected);
    CHECK_OK(eve_read_end(read));
    return ok;
}

static void trace(eve_slab *slab, eve_yin *yin) {
    bool on = true;
    CHECK_OK(eve_yin_trace(yin, &on));
    CHECK(!on);
    CHECK_OK(eve_yin_set_trace(yin, 1));
    CHECK_OK(eve_yin_trace(yin, &on));
    CHECK(on);
    uint32_t trace_db = 0, prog_db = 0;
    CHECK_OK(eve_db_open(slab, "yin/trace", &trace_db));
    CHECK_OK(eve_db_open(slab, "yin", &prog_db));
    for (int p = 0; p < 2; p++) {
        uint64_t program = 0;
        struct eve_yin_result run;
        memset(&run, 0, sizeof run);
        CHECK_OK(eve_yin_compile(yin, "(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 5)",
                                 &program));
        CHECK_OK(eve_yin_run(yin, program, PROJECTIONS[p], &run));
        CHECK(run.state == EVE_YIN_DONE);
        /* fact (the lambda with parameters "n") was applied 5 times; the run ended with 120. */
        CHECK(trace_says(slab, trace_db, prog_db, run.agent,
                         "[:find (count ?s) . :in $ $prog ?a :where [?s :trace/agent ?a] "
                         "[?s :trace/kind :call] [?s :trace/node ?n] [$prog ?n :yin/params \"n\"]]",
                         "5"));
        CHECK(trace_says(slab, trace_db, prog_db, run.agent,
                         "[:find ?v . :in $ $prog ?a :where [?s :trace/agent ?a] "
                         "[?s :trace/kind :done] [?s :trace/value ?v]]",
                         "120"));
    }
    CHECK_OK(eve_yin_set_trace(yin, 0));
    CHECK_OK(eve_yin_trace(yin, &on));
    CHECK(!on);
    CHECK_STATUS(eve_yin_set_trace(NULL, 1), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_yin_trace(yin, NULL), EVE_ERR_NULL_POINTER);
}

int main(void) {
    char path[512];
    temp_slab_path(path, sizeof path, "yin");
    eve_slab *slab = NULL;
    eve_yin *yin = NULL;
    CHECK_OK(eve_slab_open(path, NULL, &slab));
    CHECK_OK(eve_yin_open(slab, "yin", &yin));
    acceptance(yin);
    park_and_resume(yin);
    workers_and_wake(yin);
    streams(yin);
    bad_input(slab, yin);
    trace(slab, yin);
    step_limit(yin);
    /* The runtime keeps the slab busy until it is closed. */
    CHECK_STATUS(eve_slab_close(slab), EVE_ERR_BUSY);
    CHECK_OK(eve_yin_close(yin));
    CHECK_OK(eve_slab_close(slab));
    unlink(path);

    park_here_resume_in_child();
    killed_worker_taken_over();
    return finish("test_yin");
}
