/* Maps through the C ABI: transactions, reads and their snapshots, batched lookups,
 * iterators, and a model test against a plain C array. */
#include "check.h"

#define KEYS 400

static eve_bytes key_of(int k, char *buffer) {
    snprintf(buffer, 32, "key/%d", k);
    return bytes_of(buffer);
}

static void transactions_and_lookups(eve_slab *slab) {
    uint32_t map;
    CHECK_OK(eve_map_open(slab, "people", &map));
    CHECK_STATUS(eve_map_open(slab, NULL, &map), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_map_open(slab, "people", NULL), EVE_ERR_NULL_POINTER);

    eve_op ops[3] = {
        {EVE_OP_PUT, bytes_of("ada"), bytes_of("Ada Lovelace")},
        {EVE_OP_PUT, bytes_of("alan"), bytes_of("Alan Turing")},
        {EVE_OP_PUT, bytes_of("empty"), bytes_of("")},
    };
    eve_commit commit;
    CHECK_OK(eve_map_transact(slab, map, ops, 3, &commit));
    CHECK(commit.changed && commit.root != 0 && commit.retries == 0);
    uint64_t root;
    CHECK_OK(eve_root_load(slab, map, &root));
    CHECK(root == commit.root);

    /* The same batch again changes nothing and publishes nothing. */
    CHECK_OK(eve_map_transact(slab, map, ops, 3, &commit));
    CHECK(!commit.changed && commit.root == root);
    CHECK_OK(eve_map_transact(slab, map, NULL, 0, &commit));
    CHECK(!commit.changed);
    CHECK_OK(eve_map_transact(slab, map, ops, 1, NULL));

    /* A bad batch is refused whole: nothing before the bad op is applied. */
    eve_op bad[2] = {{EVE_OP_PUT, bytes_of("grace"), bytes_of("Grace Hopper")},
                     {77, bytes_of("x"), bytes_of("y")}};
    CHECK_STATUS(eve_map_transact(slab, map, bad, 2, &commit), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("ops[1].kind");
    bad[1].kind = EVE_OP_PUT;
    bad[1].key.data = NULL;
    bad[1].key.len = 3;
    CHECK_STATUS(eve_map_transact(slab, map, bad, 2, &commit), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_map_transact(slab, map, NULL, 2, &commit), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_map_transact(slab, 250, ops, 1, &commit), EVE_ERR_NOT_FOUND);
    uint32_t raw;
    CHECK_OK(eve_root_open(slab, "raw", &raw));
    CHECK_STATUS(eve_map_transact(slab, raw, ops, 1, &commit), EVE_ERR_WRONG_KIND);
    CHECK_OK(eve_root_load(slab, map, &root));
    CHECK(root == commit.root || !commit.changed);

    eve_read *read;
    CHECK_STATUS(eve_read_begin(slab, NULL), EVE_ERR_NULL_POINTER);
    CHECK_OK(eve_read_begin(slab, &read));
    eve_bytes value;
    CHECK_OK(eve_read_get(read, map, (const uint8_t *)"ada", 3, &value));
    CHECK(bytes_equal(value, "Ada Lovelace"));
    CHECK_OK(eve_read_get(read, map, (const uint8_t *)"empty", 5, &value));
    CHECK(value.data != NULL && value.len == 0);
    CHECK_OK(eve_read_get(read, map, (const uint8_t *)"grace", 5, &value));
    CHECK(value.data == NULL && value.len == 0);
    CHECK_OK(eve_read_get(read, map, NULL, 0, &value)); /* the empty key: absent */
    CHECK(value.data == NULL);
    CHECK_STATUS(eve_read_get(read, map, NULL, 3, &value), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_read_get(read, map, (const uint8_t *)"ada", 3, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_read_get(read, raw, (const uint8_t *)"ada", 3, &value), EVE_ERR_WRONG_KIND);
    CHECK_STATUS(eve_read_get(read, 100000, (const uint8_t *)"ada", 3, &value), EVE_ERR_INVALID_ARGUMENT);

    uint64_t count = 0;
    CHECK_OK(eve_read_count(read, map, &count));
    CHECK(count == 3);
    CHECK_STATUS(eve_read_count(read, map, NULL), EVE_ERR_NULL_POINTER);

    eve_bytes keys[3] = {bytes_of("alan"), bytes_of("nobody"), bytes_of("ada")};
    eve_bytes values[3];
    CHECK_OK(eve_read_get_many(read, map, keys, 3, values));
    CHECK(bytes_equal(values[0], "Alan Turing"));
    CHECK(values[1].data == NULL);
    CHECK(bytes_equal(values[2], "Ada Lovelace"));
    CHECK_OK(eve_read_get_many(read, map, NULL, 0, NULL));
    CHECK_STATUS(eve_read_get_many(read, map, keys, 3, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_read_get_many(read, map, NULL, 3, values), EVE_ERR_NULL_POINTER);

    /* The read is a snapshot: a commit made meanwhile is not seen by it... */
    eve_op change[2] = {{EVE_OP_PUT, bytes_of("ada"), bytes_of("Countess")},
                        {EVE_OP_REMOVE, bytes_of("alan"), {NULL, 0}}};
    CHECK_OK(eve_map_transact(slab, map, change, 2, &commit));
    CHECK(commit.changed);
    CHECK_OK(eve_read_get(read, map, (const uint8_t *)"ada", 3, &value));
    CHECK(bytes_equal(value, "Ada Lovelace"));
    CHECK_OK(eve_read_get(read, map, (const uint8_t *)"alan", 4, &value));
    CHECK(bytes_equal(value, "Alan Turing"));
    CHECK_OK(eve_read_count(read, map, &count));
    CHECK(count == 3);

    /* ...and the values it handed out stay in place while it lives, even after the
     * writer reclaims. */
    eve_bytes kept;
    CHECK_OK(eve_read_get(read, map, (const uint8_t *)"alan", 4, &kept));
    CHECK_OK(eve_slab_reclaim(slab, NULL));
    CHECK(bytes_equal(kept, "Alan Turing"));
    CHECK_OK(eve_read_end(read));

    /* A new read sees the new version. */
    CHECK_OK(eve_read_begin(slab, &read));
    CHECK_OK(eve_read_get(read, map, (const uint8_t *)"ada", 3, &value));
    CHECK(bytes_equal(value, "Countess"));
    CHECK_OK(eve_read_get(read, map, (const uint8_t *)"alan", 4, &value));
    CHECK(value.data == NULL);
    CHECK_OK(eve_read_end(read));

    /* An ended read is refused. */
    CHECK_STATUS(eve_read_get(read, map, (const uint8_t *)"ada", 3, &value), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_read_end(read), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_read_end(NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_read_end((eve_read *)slab), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("slab handle");
}

static void iterators(eve_slab *slab) {
    uint32_t map;
    CHECK_OK(eve_map_open(slab, "numbers", &map));
    eve_op ops[KEYS];
    char keys[KEYS][32], values[KEYS][32];
    for (int i = 0; i < KEYS; i++) {
        key_of(i, keys[i]);
        snprintf(values[i], 32, "%d", i * i);
        ops[i].kind = EVE_OP_PUT;
        ops[i].key = bytes_of(keys[i]);
        ops[i].value = bytes_of(values[i]);
    }
    CHECK_OK(eve_map_transact(slab, map, ops, KEYS, NULL));

    eve_read *read;
    CHECK_OK(eve_read_begin(slab, &read));
    eve_iter *iter;
    CHECK_STATUS(eve_iter_open(read, map, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_iter_open(NULL, map, &iter), EVE_ERR_NULL_POINTER);
    CHECK_OK(eve_iter_open(read, map, &iter));
    /* The iterator outlives the read it came from, and a commit after it started. */
    CHECK_OK(eve_read_end(read));
    eve_op removal = {EVE_OP_REMOVE, bytes_of("key/7"), {NULL, 0}};
    CHECK_OK(eve_map_transact(slab, map, &removal, 1, NULL));
    CHECK_OK(eve_slab_reclaim(slab, NULL));

    int seen[KEYS] = {0};
    int total = 0;
    eve_bytes k[7], v[7];
    size_t n = 1;
    CHECK_STATUS(eve_iter_next(iter, k, v, 0, &n), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_iter_next(iter, NULL, v, 7, &n), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_iter_next(iter, k, v, 7, NULL), EVE_ERR_NULL_POINTER);
    for (;;) {
        CHECK_OK(eve_iter_next(iter, k, v, 7, &n));
        if (n == 0) break;
        for (size_t i = 0; i < n; i++) {
            int index = -1;
            char text[40];
            snprintf(text, sizeof text, "%.*s", (int)k[i].len, (const char *)k[i].data);
            CHECK(sscanf(text, "key/%d", &index) == 1 && index >= 0 && index < KEYS);
            if (index < 0 || index >= KEYS) continue;
            seen[index]++;
            CHECK(bytes_equal(v[i], values[index]));
            total++;
        }
    }
    CHECK(total == KEYS);
    for (int i = 0; i < KEYS; i++) CHECK(seen[i] == 1);
    CHECK_OK(eve_iter_next(iter, k, v, 7, &n));
    CHECK(n == 0);
    CHECK_OK(eve_iter_close(iter));
    CHECK_STATUS(eve_iter_close(iter), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_iter_next(iter, k, v, 7, &n), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_iter_close(NULL), EVE_ERR_NULL_POINTER);

    /* An empty map iterates to nothing. */
    uint32_t empty;
    CHECK_OK(eve_map_open(slab, "empty", &empty));
    CHECK_OK(eve_read_begin(slab, &read));
    CHECK_OK(eve_iter_open(read, empty, &iter));
    CHECK_OK(eve_iter_next(iter, k, v, 7, &n));
    CHECK(n == 0);
    CHECK_OK(eve_iter_close(iter));
    CHECK_OK(eve_read_end(read));
}

/* Random batches against a reference array; after each, every key is compared. */
static void model(eve_slab *slab) {
    uint32_t map;
    CHECK_OK(eve_map_open(slab, "model", &map));
    static char reference[KEYS][48];
    static int present[KEYS];
    static char key_text[64][32], value_text[64][48];
    srand(12345);
    for (int round = 0; round < 150; round++) {
        int size = 1 + rand() % 64;
        eve_op ops[64];
        for (int i = 0; i < size; i++) {
            int k = rand() % KEYS;
            ops[i].key = key_of(k, key_text[i]);
            if (rand() % 3 == 0) {
                ops[i].kind = EVE_OP_REMOVE;
                ops[i].value.data = NULL;
                ops[i].value.len = 0;
                present[k] = 0;
            } else {
                /* Values of many sizes, some empty, some large. */
                int len = rand() % 5 == 0 ? 0 : rand() % 40;
                for (int j = 0; j < len; j++) value_text[i][j] = (char)('a' + (round + j + k) % 26);
                value_text[i][len] = '\0';
                ops[i].kind = EVE_OP_PUT;
                ops[i].value = bytes_of(value_text[i]);
                strcpy(reference[k], value_text[i]);
                present[k] = 1;
            }
        }
        CHECK_OK(eve_map_transact(slab, map, ops, (size_t)size, NULL));

        eve_read *read;
        CHECK_OK(eve_read_begin(slab, &read));
        uint64_t expected = 0, count = 0;
        for (int k = 0; k < KEYS; k++) {
            char buffer[32];
            eve_bytes key = key_of(k, buffer);
            eve_bytes value;
            CHECK_OK(eve_read_get(read, map, key.data, key.len, &value));
            if (present[k]) {
                expected++;
                CHECK(bytes_equal(value, reference[k]));
            } else {
                CHECK(value.data == NULL);
            }
        }
        CHECK_OK(eve_read_count(read, map, &count));
        CHECK(count == expected);
        CHECK_OK(eve_read_end(read));
    }
    uint64_t reachable;
    CHECK_OK(eve_slab_check(slab, &reachable));
}

int main(void) {
    char path[256];
    temp_slab_path(path, sizeof path, "maps");
    eve_slab *slab;
    CHECK_OK(eve_slab_open(path, NULL, &slab));
    transactions_and_lookups(slab);
    iterators(slab);
    model(slab);
    CHECK_OK(eve_slab_close(slab));
    unlink(path);
    return finish("test_maps");
}
