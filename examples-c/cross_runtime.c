/* One participant of the cross-runtime test (scripts/cross-runtime.sh): C, Java and Node
 * processes run the same protocol on one slab file at the same time.
 *
 *   ./eve_cross_runtime <slab path> <K> <own prefix> <all prefixes, comma-separated>
 *
 * The participants first wait for one another (the raw root "ready"). Then each puts K keys "<prefix>/<i>" -> "<prefix> value <i>" into the map
 * "cross" and increments the raw root "counter" K times with compare-and-swap. Then it
 * waits until the counter reaches K times the number of participants and checks, reading
 * in place, that every participant's keys hold the right values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eve.h"

static void check(eve_status status, const char *what) {
    if (status != EVE_OK) {
        fprintf(stderr, "c: %s: %s: %s\n", what, eve_status_name(status), eve_last_error_message());
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s <slab> <K> <prefix> <prefixes>\n", argv[0]);
        return 2;
    }
    const char *path = argv[1], *own = argv[3];
    long k = atol(argv[2]);
    char prefixes[256];
    snprintf(prefixes, sizeof prefixes, "%s", argv[4]);
    char *names[16];
    int participants = 0;
    for (char *p = strtok(prefixes, ","); p && participants < 16; p = strtok(NULL, ","))
        names[participants++] = p;

    eve_slab *slab;
    check(eve_slab_open(path, NULL, &slab), "open");
    uint32_t map, counter;
    check(eve_map_open(slab, "cross", &map), "map");
    check(eve_root_open(slab, "counter", &counter), "root");

    /* Start together: announce this participant, then wait for all of them. */
    uint32_t ready;
    check(eve_root_open(slab, "ready", &ready), "root");
    uint64_t seen, actual;
    check(eve_root_load(slab, ready, &seen), "load");
    for (;;) {
        check(eve_root_compare_exchange(slab, ready, seen, seen + 1, &actual), "cas");
        if (actual == seen) break;
        seen = actual;
    }
    time_t deadline = time(NULL) + 120;
    for (uint64_t n = seen + 1; n < (uint64_t)participants;) {
        if (time(NULL) > deadline) {
            fprintf(stderr, "c: only %llu of %d participants started\n", (unsigned long long)n, participants);
            return 1;
        }
        check(eve_root_wait(slab, ready, n, 100, &n), "wait");
    }

    for (long i = 0; i < k; i++) {
        char key[64], value[64];
        snprintf(key, sizeof key, "%s/%ld", own, i);
        snprintf(value, sizeof value, "%s value %ld", own, i);
        eve_op op = {EVE_OP_PUT, {(const uint8_t *)key, strlen(key)}, {(const uint8_t *)value, strlen(value)}};
        check(eve_map_transact(slab, map, &op, 1, NULL), "transact");
        uint64_t seen, actual;
        check(eve_root_load(slab, counter, &seen), "load");
        for (;;) {
            check(eve_root_compare_exchange(slab, counter, seen, seen + 1, &actual), "cas");
            if (actual == seen) break;
            seen = actual;
        }
    }

    uint64_t total = (uint64_t)k * participants, now;
    check(eve_root_load(slab, counter, &now), "load");
    deadline = time(NULL) + 120;
    while (now < total) {
        if (time(NULL) > deadline) {
            fprintf(stderr, "c: the counter stayed at %llu of %llu\n", (unsigned long long)now,
                    (unsigned long long)total);
            return 1;
        }
        check(eve_root_wait(slab, counter, now, 100, &now), "wait");
    }
    if (now != total) {
        fprintf(stderr, "c: counter %llu, expected %llu\n", (unsigned long long)now, (unsigned long long)total);
        return 1;
    }

    eve_read *read;
    check(eve_read_begin(slab, &read), "read");
    long verified = 0;
    for (int p = 0; p < participants; p++) {
        for (long i = 0; i < k; i++) {
            char key[64], expected[64];
            snprintf(key, sizeof key, "%s/%ld", names[p], i);
            snprintf(expected, sizeof expected, "%s value %ld", names[p], i);
            eve_bytes value;
            check(eve_read_get(read, map, (const uint8_t *)key, strlen(key), &value), "get");
            if (!value.data || value.len != strlen(expected) || memcmp(value.data, expected, value.len)) {
                fprintf(stderr, "c: %s is wrong or missing\n", key);
                return 1;
            }
            verified++;
        }
    }
    check(eve_read_end(read), "end");
    check(eve_slab_close(slab), "close");
    printf("c: counter %llu, verified %ld keys of %d runtimes in place\n", (unsigned long long)now,
           verified, participants);
    return 0;
}
