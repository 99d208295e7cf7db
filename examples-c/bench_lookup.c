/* The cost of one lookup through the C ABI: 1M random 8-byte keys with 150-byte values
 * (the same data set as the Rust benchmarks in benches/), random gets in reads of 1000,
 * one eve_read_get per key, and the same through eve_read_get_many in batches of 1000.
 *
 *   ./eve_bench_lookup [path]      (default: ./bench_lookup.slab; removed afterwards) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eve.h"

#define KEYS 1000000
#define VALUE_LEN 150
#define BATCH 1000
#define ROUNDS 7
#define LOOKUPS_PER_ROUND 2000000

static void check(eve_status status, const char *what) {
    if (status != EVE_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, eve_status_name(status), eve_last_error_message());
        exit(1);
    }
}

static uint64_t xorshift(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint8_t (*keys)[8];

static void report(const char *what, double *ns) {
    qsort(ns, ROUNDS, sizeof *ns, compare_doubles);
    printf("%-28s median %6.1f ns/lookup   (best %.1f, worst %.1f, %d rounds of %d)\n", what,
           ns[ROUNDS / 2], ns[0], ns[ROUNDS - 1], ROUNDS, LOOKUPS_PER_ROUND);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "bench_lookup.slab";
    unlink(path);
    eve_slab *slab;
    check(eve_slab_open(path, NULL, &slab), "open");
    uint32_t map;
    check(eve_map_open(slab, "bench", &map), "map");

    keys = malloc(sizeof(*keys) * KEYS);
    uint64_t state = 0x2545F4914F6CDD1Dull;
    for (int i = 0; i < KEYS; i++) {
        uint64_t k = xorshift(&state);
        memcpy(keys[i], &k, 8); /* little-endian, as the Rust benchmarks use */
    }
    static uint8_t values[20000][VALUE_LEN];
    static eve_op ops[20000];
    for (int start = 0; start < KEYS; start += 20000) {
        for (int i = 0; i < 20000; i++) {
            memset(values[i], 0, VALUE_LEN);
            memcpy(values[i], keys[start + i], 8);
            ops[i].kind = EVE_OP_PUT;
            ops[i].key.data = keys[start + i];
            ops[i].key.len = 8;
            ops[i].value.data = values[i];
            ops[i].value.len = VALUE_LEN;
        }
        check(eve_map_transact(slab, map, ops, 20000, NULL), "load");
    }

    double single[ROUNDS], many[ROUNDS];
    uint64_t rng = 7, total = 0;
    static eve_bytes batch_keys[BATCH], batch_values[BATCH];
    for (int round = 0; round < ROUNDS; round++) {
        double start = now();
        for (int done = 0; done < LOOKUPS_PER_ROUND; done += BATCH) {
            eve_read *read;
            check(eve_read_begin(slab, &read), "read");
            for (int i = 0; i < BATCH; i++) {
                const uint8_t *k = keys[xorshift(&rng) % KEYS];
                eve_bytes value;
                check(eve_read_get(read, map, k, 8, &value), "get");
                total += value.len;
            }
            check(eve_read_end(read), "end");
        }
        single[round] = (now() - start) * 1e9 / LOOKUPS_PER_ROUND;

        start = now();
        for (int done = 0; done < LOOKUPS_PER_ROUND; done += BATCH) {
            for (int i = 0; i < BATCH; i++) {
                batch_keys[i].data = keys[xorshift(&rng) % KEYS];
                batch_keys[i].len = 8;
            }
            eve_read *read;
            check(eve_read_begin(slab, &read), "read");
            check(eve_read_get_many(read, map, batch_keys, BATCH, batch_values), "get_many");
            for (int i = 0; i < BATCH; i++) total += batch_values[i].len;
            check(eve_read_end(read), "end");
        }
        many[round] = (now() - start) * 1e9 / LOOKUPS_PER_ROUND;
    }
    if (total != (uint64_t)ROUNDS * 2 * LOOKUPS_PER_ROUND * VALUE_LEN) {
        fprintf(stderr, "some lookups found nothing\n");
        return 1;
    }
    report("eve_read_get (C)", single);
    report("eve_read_get_many (C)", many);
    check(eve_slab_close(slab), "close");
    unlink(path);
    free(keys);
    return 0;
}
