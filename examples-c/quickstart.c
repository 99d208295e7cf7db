/* The shortest useful eve program: open a slab file, write two entries in one atomic
 * transaction, and read them back as pointers into the shared mapping.
 *
 *   ./eve_quickstart [path]      (default: ./quickstart.slab)
 *
 * Run it twice, or from several processes at once: they all share the same file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eve.h"

/* Prints what failed and why, and stops. */
static void check(eve_status status, const char *what) {
    if (status != EVE_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, eve_status_name(status), eve_last_error_message());
        exit(1);
    }
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "quickstart.slab";

    eve_slab *slab;
    check(eve_slab_open(path, NULL, &slab), "open");

    uint32_t users;
    check(eve_map_open(slab, "users", &users), "map");

    eve_op ops[] = {
        {EVE_OP_PUT, {(const uint8_t *)"ada", 3}, {(const uint8_t *)"Ada Lovelace", 12}},
        {EVE_OP_PUT, {(const uint8_t *)"alan", 4}, {(const uint8_t *)"Alan Turing", 11}},
    };
    eve_commit commit;
    check(eve_map_transact(slab, users, ops, 2, &commit), "transact");
    printf("committed: %s (after %llu retries)\n", commit.changed ? "changed" : "no change",
           (unsigned long long)commit.retries);

    eve_read *read;
    check(eve_read_begin(slab, &read), "read");
    const char *names[] = {"ada", "alan", "grace"};
    for (int i = 0; i < 3; i++) {
        eve_bytes value;
        check(eve_read_get(read, users, (const uint8_t *)names[i], strlen(names[i]), &value), "get");
        if (value.data)
            printf("%-5s -> %.*s\n", names[i], (int)value.len, (const char *)value.data);
        else
            printf("%-5s -> (absent)\n", names[i]);
    }
    uint64_t count;
    check(eve_read_count(read, users, &count), "count");
    printf("users holds %llu entries\n", (unsigned long long)count);
    check(eve_read_end(read), "end read"); /* the value pointers are invalid from here */

    check(eve_slab_close(slab), "close");
    return 0;
}
