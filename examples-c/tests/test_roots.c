/* Raw roots through the C ABI: naming, loading, compare-and-swap, and waiting for a
 * change made by another process. */
#include <sys/wait.h>
#include <time.h>

#include "check.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
    char path[256];
    temp_slab_path(path, sizeof path, "roots");
    eve_slab *slab;
    CHECK_OK(eve_slab_open(path, NULL, &slab));

    uint32_t counter = 999, again = 999, map = 999;
    CHECK_OK(eve_root_open(slab, "counter", &counter));
    CHECK_OK(eve_root_open(slab, "counter", &again));
    CHECK(counter == again);
    CHECK_OK(eve_map_open(slab, "a map", &map));
    CHECK(map != counter);

    /* Names: non-empty, at most 80 bytes, UTF-8; a name keeps its kind. */
    char long_name[100];
    memset(long_name, 'x', 81);
    long_name[81] = '\0';
    CHECK_STATUS(eve_root_open(slab, long_name, &again), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_root_open(slab, "", &again), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_root_open(slab, "\xff\xfe", &again), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("UTF-8");
    CHECK_STATUS(eve_root_open(slab, NULL, &again), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_root_open(slab, "counter", NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_root_open(slab, "a map", &again), EVE_ERR_WRONG_KIND);
    CHECK_STATUS(eve_map_open(slab, "counter", &again), EVE_ERR_WRONG_KIND);

    eve_root_kind kind = EVE_ROOT_SET;
    CHECK_OK(eve_root_find(slab, "counter", &again, &kind));
    CHECK(again == counter && kind == EVE_ROOT_RAW);
    CHECK_OK(eve_root_find(slab, "a map", &again, &kind));
    CHECK(again == map && kind == EVE_ROOT_MAP);
    CHECK_OK(eve_root_find(slab, "a map", &again, NULL));
    CHECK_STATUS(eve_root_find(slab, "nobody", &again, &kind), EVE_ERR_NOT_FOUND);

    /* Load and compare-and-swap. */
    uint64_t value = 1, actual = 0;
    CHECK_OK(eve_root_load(slab, counter, &value));
    CHECK(value == 0);
    CHECK_OK(eve_root_compare_exchange(slab, counter, 0, 41, &actual));
    CHECK(actual == 0);
    CHECK_OK(eve_root_compare_exchange(slab, counter, 0, 99, &actual));
    CHECK(actual == 41); /* lost: the root held 41, not 0 */
    CHECK_OK(eve_root_compare_exchange(slab, counter, 41, 42, &actual));
    CHECK_OK(eve_root_load(slab, counter, &value));
    CHECK(value == 42);
    CHECK_STATUS(eve_root_compare_exchange(slab, map, 0, 1, &actual), EVE_ERR_WRONG_KIND);
    CHECK_STATUS(eve_root_compare_exchange(slab, counter, 42, 43, NULL), EVE_ERR_NULL_POINTER);
    CHECK_OK(eve_root_load(slab, counter, &value));
    CHECK(value == 42); /* the refused calls changed nothing */

    /* Indexes that name no root. */
    CHECK_STATUS(eve_root_load(slab, 100000, &value), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_root_load(slab, 200, &value), EVE_ERR_NOT_FOUND);
    CHECK_STATUS(eve_root_load(slab, counter, NULL), EVE_ERR_NULL_POINTER);

    /* Waiting: a timeout returns the value unchanged... */
    double start = now_seconds();
    CHECK_OK(eve_root_wait(slab, counter, 42, 50, &value));
    CHECK(value == 42);
    CHECK(now_seconds() - start >= 0.045);
    /* ...a value that already differs returns at once... */
    CHECK_OK(eve_root_wait(slab, counter, 7, -1, &value));
    CHECK(value == 42);
    CHECK_STATUS(eve_root_wait(slab, counter, 42, 0, NULL), EVE_ERR_NULL_POINTER);

    /* ...and a change made by another process wakes a waiter with no timeout. */
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        eve_slab *own;
        if (eve_slab_open(path, NULL, &own) != EVE_OK) _exit(2);
        usleep(100 * 1000);
        uint64_t seen;
        if (eve_root_compare_exchange(own, counter, 42, 1000, &seen) != EVE_OK || seen != 42) _exit(3);
        eve_slab_close(own);
        _exit(0);
    }
    CHECK_OK(eve_root_wait(slab, counter, 42, -1, &value));
    CHECK(value == 1000);
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* A map root changes on every commit, so waiting on it sees commits. */
    uint64_t before;
    CHECK_OK(eve_root_load(slab, map, &before));
    eve_op op = {EVE_OP_PUT, bytes_of("k"), bytes_of("v")};
    eve_commit commit;
    CHECK_OK(eve_map_transact(slab, map, &op, 1, &commit));
    CHECK_OK(eve_root_wait(slab, map, before, 1000, &value));
    CHECK(value == commit.root && value != before);

    CHECK_OK(eve_slab_close(slab));
    unlink(path);
    return finish("test_roots");
}
