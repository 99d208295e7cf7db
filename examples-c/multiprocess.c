/* Several processes on one slab file at once: forked writers commit transactions and
 * increment a shared counter with compare-and-swap while forked readers look keys up in
 * place. Each process prints its throughput; the parent then checks that every write of
 * every writer is there.
 *
 *   ./eve_multiprocess [writers] [readers] [commits per writer] [path]
 *   (defaults: 2 writers, 2 readers, 20000 commits, ./multiprocess.slab) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eve.h"

static void check(eve_status status, const char *what) {
    if (status != EVE_OK) {
        fprintf(stderr, "[%d] %s: %s: %s\n", (int)getpid(), what, eve_status_name(status),
                eve_last_error_message());
        exit(1);
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void key_of(int writer, int i, char *key, size_t size) {
    snprintf(key, size, "w%d/%d", writer, i);
}

static void writer(const char *path, int id, int commits) {
    eve_slab *slab;
    check(eve_slab_open(path, NULL, &slab), "open");
    uint32_t map, counter;
    check(eve_map_open(slab, "entries", &map), "map");
    check(eve_root_open(slab, "commits", &counter), "root");
    double start = now();
    uint64_t retries = 0;
    for (int i = 0; i < commits; i++) {
        char key[32], value[32];
        key_of(id, i, key, sizeof key);
        snprintf(value, sizeof value, "%d", i * 7);
        eve_op op = {EVE_OP_PUT, {(const uint8_t *)key, strlen(key)}, {(const uint8_t *)value, strlen(value)}};
        eve_commit commit;
        check(eve_map_transact(slab, map, &op, 1, &commit), "transact");
        retries += commit.retries;
        uint64_t seen, actual;
        check(eve_root_load(slab, counter, &seen), "load");
        for (;;) {
            check(eve_root_compare_exchange(slab, counter, seen, seen + 1, &actual), "cas");
            if (actual == seen) break;
            seen = actual;
        }
    }
    double seconds = now() - start;
    printf("writer %d: %d commits in %.3f s = %.0f commits/s (%llu retries)\n", id, commits,
           seconds, commits / seconds, (unsigned long long)retries);
    check(eve_slab_close(slab), "close");
}

/* Looks up random keys, a thousand per read, until the writers are done. */
static void reader(const char *path, int id, int writers, int commits) {
    eve_slab *slab;
    check(eve_slab_open(path, NULL, &slab), "open");
    uint32_t map, counter;
    check(eve_map_open(slab, "entries", &map), "map");
    check(eve_root_open(slab, "commits", &counter), "root");
    unsigned seed = (unsigned)getpid();
    long lookups = 0, found = 0;
    uint64_t done = 0;
    double start = now();
    while (done < (uint64_t)writers * commits) {
        check(eve_root_load(slab, counter, &done), "load");
        eve_read *read;
        check(eve_read_begin(slab, &read), "read");
        for (int i = 0; i < 1000; i++) {
            char key[32];
            int w = rand_r(&seed) % writers, k = rand_r(&seed) % commits;
            key_of(w, k, key, sizeof key);
            eve_bytes value;
            check(eve_read_get(read, map, (const uint8_t *)key, strlen(key), &value), "get");
            if (value.data) {
                /* A value is there whole or not at all, never half-written. */
                char text[16];
                snprintf(text, sizeof text, "%.*s", (int)value.len, (const char *)value.data);
                if (atoi(text) != k * 7) {
                    fprintf(stderr, "reader %d: %s holds %s\n", id, key, text);
                    exit(1);
                }
                found++;
            }
            lookups++;
        }
        check(eve_read_end(read), "end");
    }
    double elapsed = now() - start;
    printf("reader %d: %ld lookups in %.3f s = %.2f M lookups/s (%ld found while writers ran)\n",
           id, lookups, elapsed, lookups / elapsed / 1e6, found);
    check(eve_slab_close(slab), "close");
}

int main(int argc, char **argv) {
    int writers = argc > 1 ? atoi(argv[1]) : 2;
    int readers = argc > 2 ? atoi(argv[2]) : 2;
    int commits = argc > 3 ? atoi(argv[3]) : 20000;
    const char *path = argc > 4 ? argv[4] : "multiprocess.slab";
    if (writers < 1 || readers < 0 || commits < 1) {
        fprintf(stderr, "usage: %s [writers>=1] [readers>=0] [commits>=1] [path]\n", argv[0]);
        return 2;
    }
    unlink(path);
    /* Create the slab first so every child joins the same one. */
    eve_slab *slab;
    check(eve_slab_open(path, NULL, &slab), "create");
    uint32_t map, counter;
    check(eve_map_open(slab, "entries", &map), "map");
    check(eve_root_open(slab, "commits", &counter), "root");

    double start = now();
    fflush(NULL);
    pid_t pids[64];
    int children = 0;
    for (int w = 0; w < writers && children < 64; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            writer(path, w, commits);
            fflush(stdout);
            _exit(0);
        }
        pids[children++] = pid;
    }
    for (int r = 0; r < readers && children < 64; r++) {
        pid_t pid = fork();
        if (pid == 0) {
            reader(path, r, writers, commits);
            fflush(stdout);
            _exit(0);
        }
        pids[children++] = pid;
    }
    int failed = 0;
    for (int i = 0; i < children; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    }
    double seconds = now() - start;

    uint64_t total;
    check(eve_root_load(slab, counter, &total), "load");
    eve_read *read;
    check(eve_read_begin(slab, &read), "read");
    uint64_t count;
    check(eve_read_count(read, map, &count), "count");
    int missing = 0;
    for (int w = 0; w < writers; w++) {
        for (int i = 0; i < commits; i++) {
            char key[32], expected[32];
            key_of(w, i, key, sizeof key);
            snprintf(expected, sizeof expected, "%d", i * 7);
            eve_bytes value;
            check(eve_read_get(read, map, (const uint8_t *)key, strlen(key), &value), "get");
            if (!value.data || value.len != strlen(expected) || memcmp(value.data, expected, value.len))
                missing++;
        }
    }
    check(eve_read_end(read), "end");
    uint64_t expected = (uint64_t)writers * commits;
    printf("all: %llu commits by %d writers in %.3f s = %.0f commits/s; counter %llu, %llu entries, %d missing\n",
           (unsigned long long)expected, writers, seconds, expected / seconds,
           (unsigned long long)total, (unsigned long long)count, missing);
    check(eve_slab_close(slab), "close");
    if (failed || total != expected || count != expected || missing) {
        fprintf(stderr, "FAILED: %d children failed, counter %llu, entries %llu, expected %llu\n",
                failed, (unsigned long long)total, (unsigned long long)count,
                (unsigned long long)expected);
        return 1;
    }
    unlink(path);
    return 0;
}
