/* Threads and the C ABI: a slab handle shared by many threads, reads that belong to the
 * thread that began them, and a thread that exits with a read still open. */
#include <pthread.h>

#include "check.h"

#define THREADS 4
#define PER_THREAD 2000

static eve_slab *slab;
static uint32_t counter, map;

static void *worker(void *arg) {
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        uint64_t seen, actual;
        if (eve_root_load(slab, counter, &seen) != EVE_OK) return (void *)1;
        for (;;) {
            if (eve_root_compare_exchange(slab, counter, seen, seen + 1, &actual) != EVE_OK)
                return (void *)2;
            if (actual == seen) break;
            seen = actual;
        }
        char key[32], value[32];
        snprintf(key, sizeof key, "t%d/%d", id, i);
        snprintf(value, sizeof value, "%d", i);
        eve_op op = {EVE_OP_PUT, bytes_of(key), bytes_of(value)};
        if (eve_map_transact(slab, map, &op, 1, NULL) != EVE_OK) return (void *)3;
        if (i % 100 == 0) {
            eve_read *read;
            eve_bytes got;
            if (eve_read_begin(slab, &read) != EVE_OK) return (void *)4;
            if (eve_read_get(read, map, (const uint8_t *)key, strlen(key), &got) != EVE_OK ||
                !bytes_equal(got, value))
                return (void *)5;
            if (eve_read_end(read) != EVE_OK) return (void *)6;
        }
    }
    return NULL;
}

static eve_read *foreign_read;
static eve_status foreign_status;
static char foreign_message[256];

static void *use_foreign_read(void *arg) {
    (void)arg;
    eve_bytes value;
    foreign_status = eve_read_get(foreign_read, map, (const uint8_t *)"k", 1, &value);
    snprintf(foreign_message, sizeof foreign_message, "%s", eve_last_error_message());
    return NULL;
}

static void *exit_while_reading(void *arg) {
    (void)arg;
    eve_read *read;
    if (eve_read_begin(slab, &read) != EVE_OK) return (void *)1;
    return NULL; /* the read is never ended */
}

int main(void) {
    char path[256];
    temp_slab_path(path, sizeof path, "threads");
    CHECK_OK(eve_slab_open(path, NULL, &slab));
    CHECK_OK(eve_root_open(slab, "counter", &counter));
    CHECK_OK(eve_map_open(slab, "keys", &map));

    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++)
        pthread_create(&threads[t], NULL, worker, (void *)(intptr_t)t);
    for (int t = 0; t < THREADS; t++) {
        void *result;
        pthread_join(threads[t], &result);
        CHECK(result == NULL);
    }
    uint64_t value;
    CHECK_OK(eve_root_load(slab, counter, &value));
    CHECK(value == THREADS * PER_THREAD);
    eve_read *read;
    CHECK_OK(eve_read_begin(slab, &read));
    uint64_t count;
    CHECK_OK(eve_read_count(read, map, &count));
    CHECK(count == THREADS * PER_THREAD);

    /* A read belongs to its thread: another thread gets an error, not a crash. */
    foreign_read = read;
    pthread_t other;
    pthread_create(&other, NULL, use_foreign_read, NULL);
    pthread_join(other, NULL);
    CHECK(foreign_status == EVE_ERR_INVALID_ARGUMENT);
    CHECK(strstr(foreign_message, "another thread") != NULL);
    CHECK_OK(eve_read_end(read));

    /* A thread that exits mid-read gives its pin back and stops holding the handle. */
    pthread_create(&other, NULL, exit_while_reading, NULL);
    void *result;
    pthread_join(other, &result);
    CHECK(result == NULL);
    eve_stats stats;
    CHECK_OK(eve_slab_stats(slab, &stats));
    CHECK(stats.live_readers == 0);
    CHECK_OK(eve_slab_close(slab));
    unlink(path);
    return finish("test_threads");
}
