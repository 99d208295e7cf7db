/* Slab handles through the C ABI: opening files and anonymous memory with options,
 * refusing bad files and bad arguments, closing, statistics, reclamation, the check and
 * the recovery sweep, and read-only handles. */
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"

static void put(eve_slab *slab, uint32_t map, const char *key, const char *value) {
    eve_op op = {EVE_OP_PUT, bytes_of(key), bytes_of(value)};
    CHECK_OK(eve_map_transact(slab, map, &op, 1, NULL));
}

static void open_and_close(const char *path) {
    eve_slab *slab = NULL;
    CHECK_OK(eve_slab_open(path, NULL, &slab));
    CHECK(slab != NULL);
    bool read_only = true;
    CHECK_OK(eve_slab_is_read_only(slab, &read_only));
    CHECK(!read_only);
    CHECK_OK(eve_slab_close(slab));

    /* A closed handle is refused everywhere, never followed. */
    CHECK_STATUS(eve_slab_close(slab), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("closed");
    eve_stats stats;
    CHECK_STATUS(eve_slab_stats(slab, &stats), EVE_ERR_INVALID_ARGUMENT);
    uint32_t map;
    CHECK_STATUS(eve_map_open(slab, "m", &map), EVE_ERR_INVALID_ARGUMENT);
    eve_read *read;
    CHECK_STATUS(eve_read_begin(slab, &read), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_slab_reclaim(slab, NULL), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_slab_recover(slab, NULL), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_slab_check(slab, NULL), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_slab_is_read_only(slab, &read_only), EVE_ERR_INVALID_ARGUMENT);
    uint32_t root;
    uint64_t value;
    eve_root_kind kind;
    CHECK_STATUS(eve_root_open(slab, "r", &root), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_root_find(slab, "r", &root, &kind), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_root_load(slab, 0, &value), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_root_compare_exchange(slab, 0, 0, 1, &value), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_root_wait(slab, 0, 0, 0, &value), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_map_transact(slab, 0, NULL, 0, NULL), EVE_ERR_INVALID_ARGUMENT);

    /* NULL outputs are refused before anything is done. */
    CHECK_OK(eve_slab_open(path, NULL, &slab));
    CHECK_STATUS(eve_slab_is_read_only(slab, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_map_open(slab, "m", NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_root_find(slab, "m", NULL, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_root_find(slab, NULL, &root, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_iter_open((eve_read *)slab, 0, (eve_iter **)&read), EVE_ERR_INVALID_ARGUMENT);
    CHECK_OK(eve_slab_close(slab));
}

static void bad_arguments(const char *path) {
    eve_slab *slab = NULL;
    CHECK_STATUS(eve_slab_open(NULL, NULL, &slab), EVE_ERR_NULL_POINTER);
    CHECK_MESSAGE("path");
    CHECK_STATUS(eve_slab_open(path, NULL, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_slab_open_anonymous(NULL, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_slab_close(NULL), EVE_ERR_NULL_POINTER);

    eve_open_options options = {0};
    options.flags = 0x80;
    CHECK_STATUS(eve_slab_open(path, &options, &slab), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("flags");
    options.flags = EVE_OPEN_READ_ONLY;
    CHECK_STATUS(eve_slab_open_anonymous(&options, &slab), EVE_ERR_INVALID_ARGUMENT);

    /* Handles that were never handed out, or are of another kind. */
    eve_stats stats;
    CHECK_STATUS(eve_slab_stats((eve_slab *)(uintptr_t)0x1234, &stats), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_slab_stats((eve_slab *)&stats, &stats), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_slab_stats((eve_slab *)(uintptr_t)0x7fff0001, &stats), EVE_ERR_INVALID_ARGUMENT);

    /* A missing file with MUST_EXIST, or read-only, is not created. */
    options.flags = EVE_OPEN_MUST_EXIST;
    CHECK_STATUS(eve_slab_open(path, &options, &slab), EVE_ERR_IO);
    options.flags = EVE_OPEN_READ_ONLY;
    CHECK_STATUS(eve_slab_open(path, &options, &slab), EVE_ERR_IO);
    CHECK(access(path, F_OK) != 0);

    /* A file that is not a slab is refused and left as it was. */
    FILE *f = fopen(path, "w");
    fputs("just some text, not a slab at all, but long enough to hold a header's magic\n", f);
    fclose(f);
    CHECK_STATUS(eve_slab_open(path, NULL, &slab), EVE_ERR_NOT_A_SLAB);
    f = fopen(path, "r");
    char line[16] = {0};
    CHECK(fgets(line, sizeof line, f) != NULL && strncmp(line, "just some", 9) == 0);
    fclose(f);
    unlink(path);
}

static void statistics_and_maintenance(const char *path) {
    eve_open_options options = {0};
    options.reader_slots = 32;
    options.max_size = 1ull << 32;
    eve_slab *slab;
    CHECK_OK(eve_slab_open(path, &options, &slab));
    uint32_t map;
    CHECK_OK(eve_map_open(slab, "stats", &map));
    char key[32], value[64];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        snprintf(value, sizeof value, "value-%d", i);
        put(slab, map, key, value);
    }

    eve_stats stats;
    CHECK_STATUS(eve_slab_stats(slab, NULL), EVE_ERR_NULL_POINTER);
    CHECK_OK(eve_slab_stats(slab, &stats));
    CHECK(stats.reader_slots == 32);
    CHECK(stats.max_size == 1ull << 32);
    CHECK(stats.roots == 1);
    CHECK(stats.bytes_in_use > 0 && stats.blocks_in_use > 0);
    CHECK(stats.file_len >= stats.bytes_in_use);
    CHECK(stats.live_readers == 0 && stats.oldest_pinned_epoch == 0);
    CHECK(stats.global_epoch > 0);

    eve_read *read;
    CHECK_OK(eve_read_begin(slab, &read));
    CHECK_OK(eve_slab_stats(slab, &stats));
    CHECK(stats.live_readers == 1 && stats.oldest_pinned_epoch != 0);
    /* Blocks replaced while a reader is pinned are kept for it. */
    put(slab, map, "key-0", "changed");
    eve_reclaim_report reclaimed;
    CHECK_OK(eve_slab_reclaim(slab, &reclaimed));
    CHECK_OK(eve_slab_stats(slab, &stats));
    CHECK(stats.retired_blocks > 0);
    /* The handle cannot close or be swept while the read is open. */
    CHECK_STATUS(eve_slab_close(slab), EVE_ERR_BUSY);
    CHECK_STATUS(eve_slab_recover(slab, NULL), EVE_ERR_BUSY);
    CHECK_OK(eve_read_end(read));

    for (int i = 0; i < 4; i++) CHECK_OK(eve_slab_reclaim(slab, &reclaimed));
    CHECK_OK(eve_slab_reclaim(slab, NULL));
    CHECK_OK(eve_slab_stats(slab, &stats));
    CHECK(stats.retired_blocks == 0);

    uint64_t reachable = 0;
    CHECK_OK(eve_slab_check(slab, &reachable));
    CHECK(reachable > 0);
    CHECK_OK(eve_slab_check(slab, NULL));

    /* The sweep needs the slab alone: a second handle, even in this process, blocks it. */
    eve_slab *other;
    CHECK_OK(eve_slab_open(path, NULL, &other));
    CHECK_STATUS(eve_slab_recover(slab, NULL), EVE_ERR_BUSY);
    CHECK_OK(eve_slab_close(other));
    eve_sweep_report swept;
    CHECK_OK(eve_slab_recover(slab, &swept));
    CHECK(swept.live_blocks == reachable);
    CHECK(swept.freed_blocks == 0);
    CHECK_OK(eve_slab_stats(slab, &stats));
    CHECK(stats.sweeps >= 1);
    CHECK_OK(eve_slab_close(slab));
}

static void read_only_handles(const char *path) {
    eve_slab *writer;
    CHECK_OK(eve_slab_open(path, NULL, &writer));
    uint32_t map;
    CHECK_OK(eve_map_open(writer, "shared", &map));
    put(writer, map, "greeting", "hello");
    uint32_t counter;
    CHECK_OK(eve_root_open(writer, "counter", &counter));

    eve_open_options options = {0};
    options.flags = EVE_OPEN_READ_ONLY;
    eve_slab *reader;
    CHECK_OK(eve_slab_open(path, &options, &reader));
    bool read_only = false;
    CHECK_OK(eve_slab_is_read_only(reader, &read_only));
    CHECK(read_only);

    uint32_t same;
    CHECK_OK(eve_map_open(reader, "shared", &same));
    CHECK(same == map);
    CHECK_STATUS(eve_map_open(reader, "missing", &same), EVE_ERR_NOT_FOUND);
    eve_read *read;
    CHECK_OK(eve_read_begin(reader, &read));
    eve_bytes value;
    CHECK_OK(eve_read_get(read, map, (const uint8_t *)"greeting", 8, &value));
    CHECK(bytes_equal(value, "hello"));
    CHECK_OK(eve_read_end(read));

    eve_op op = {EVE_OP_PUT, bytes_of("greeting"), bytes_of("changed")};
    CHECK_STATUS(eve_map_transact(reader, map, &op, 1, NULL), EVE_ERR_READ_ONLY);
    uint64_t actual;
    CHECK_STATUS(eve_root_compare_exchange(reader, counter, 0, 1, &actual), EVE_ERR_READ_ONLY);
    CHECK_STATUS(eve_slab_reclaim(reader, NULL), EVE_ERR_READ_ONLY);
    CHECK_OK(eve_slab_close(reader));
    CHECK_OK(eve_slab_close(writer));
}

/* A created file is its owner's alone (0600) unless the options ask for another mode. */
static void file_modes(const char *path) {
    struct stat st;
    eve_slab *slab;
    CHECK_OK(eve_slab_open(path, NULL, &slab));
    CHECK_OK(eve_slab_close(slab));
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    unlink(path);

    mode_t old = umask(022);
    eve_open_options options = {0};
    options.mode = 0640;
    CHECK_OK(eve_slab_open(path, &options, &slab));
    CHECK_OK(eve_slab_close(slab));
    umask(old);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
    unlink(path);

    options.mode = 04755;
    CHECK_STATUS(eve_slab_open(path, &options, &slab), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("mode");
    CHECK(access(path, F_OK) != 0);
    options.mode = 0;
    options.reserved = 1;
    CHECK_STATUS(eve_slab_open(path, &options, &slab), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("reserved");
}

int main(void) {
    char path[256];
    temp_slab_path(path, sizeof path, "slab");
    open_and_close(path);
    unlink(path);
    file_modes(path);
    bad_arguments(path);
    statistics_and_maintenance(path);
    unlink(path);
    read_only_handles(path);
    unlink(path);

    /* Anonymous shared memory: a forked child writes, the parent reads it in place. */
    eve_slab *anonymous;
    CHECK_OK(eve_slab_open_anonymous(NULL, &anonymous));
    uint32_t map;
    CHECK_OK(eve_map_open(anonymous, "m", &map));
    put(anonymous, map, "k", "v");
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        eve_op op = {EVE_OP_PUT, bytes_of("from child"), bytes_of("hello parent")};
        _exit(eve_map_transact(anonymous, map, &op, 1, NULL) == EVE_OK ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    eve_read *read;
    CHECK_OK(eve_read_begin(anonymous, &read));
    eve_bytes value;
    CHECK_OK(eve_read_get(read, map, (const uint8_t *)"from child", 10, &value));
    CHECK(bytes_equal(value, "hello parent"));
    CHECK_OK(eve_read_get(read, map, (const uint8_t *)"k", 1, &value));
    CHECK(bytes_equal(value, "v"));
    CHECK_OK(eve_read_end(read));
    CHECK_OK(eve_slab_close(anonymous));
    return finish("test_slab");
}
